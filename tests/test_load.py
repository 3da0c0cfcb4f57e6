"""Tests of csatkit.load: readers, presets, channel aliases, messy exports and the row ledger.

Every fixture is a small file written to ``tmp_path`` by the test itself. Expected values are
worked out by hand from the fixture (the arithmetic is written next to them).
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csatkit import load
from csatkit.exceptions import DataFileError, InputError, MissingColumnError, ParameterError
from csatkit.load import CHANNEL_ALIASES, PRESETS, normalise_channel, read_contacts, read_qa, read_responses
from csatkit.schema import CONTACT_COLUMNS, QA_COLUMNS, RESPONSE_COLUMNS, STRING_DTYPE

TEXT_COLUMNS = ["response_id", "interaction_id", "customer_id", "channel", "contact_reason", "agent_id", "team",
                "scale", "comment"]


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def assert_balanced(data: pd.DataFrame, ledger) -> None:
    assert ledger.rows_read == ledger.rows_kept + ledger.rows_excluded
    assert len(data) == ledger.rows_kept
    for reason, rows in ledger.examples.items():
        assert all(1 <= r <= ledger.rows_read for r in rows), reason


def notes(ledger) -> str:
    return "\n".join(ledger.notes)


# ------------------------------------------------------------------------------------------------
# Schema, column maps, channels
# ------------------------------------------------------------------------------------------------


def test_canonical_csv_gives_the_canonical_schema_and_dtypes(tmp_path):
    path = write(tmp_path, "canonical.csv", (
        "response_id,interaction_id,customer_id,channel,contact_reason,agent_id,team,interaction_at,responded_at,"
        "score,scale,comment,weight\n"
        "r1,T1,C1,Phone,billing,a1,north,2023-08-01 09:00,2023-08-01 10:00,5,likert5,Great,1.5\n"
        "r2,T2,C2,E-mail,refund,a2,south,2023-08-02 09:00,2023-08-02 11:30,2,likert5,,2\n"
    ))
    data, ledger = read_responses(path)
    assert list(data.columns) == RESPONSE_COLUMNS
    for col in TEXT_COLUMNS:
        assert data[col].dtype == STRING_DTYPE, col
    assert data["interaction_at"].dtype == "datetime64[ns]"
    assert data["responded_at"].dtype == "datetime64[ns]"
    assert data["score"].dtype == float and data["weight"].dtype == float
    assert data["channel"].tolist() == ["phone", "email"]
    assert data["score"].tolist() == [5.0, 2.0]
    assert data["weight"].tolist() == [1.5, 2.0]
    assert data["responded_at"].tolist() == [pd.Timestamp("2023-08-01 10:00"), pd.Timestamp("2023-08-02 11:30")]
    assert pd.isna(data["comment"].iloc[1])
    assert (ledger.rows_read, ledger.rows_kept, ledger.rows_excluded, ledger.unanswered) == (2, 2, 0, 0)
    assert_balanced(data, ledger)


def test_generic_synonyms_are_matched_and_absent_columns_are_filled(tmp_path):
    path = write(tmp_path, "helpdesk.csv", (
        "Ticket ID,Rating,Via,Created at,Feedback,Assignee,Group,Internal note\n"
        "1001,4,Voice,2023-03-01,ok,ann,Tier 1,x\n"
        "1002,5,live chat,2023-03-02,,bob,Tier 2,y\n"
    ))
    data, ledger = read_responses(path)
    assert data["interaction_id"].tolist() == ["1001", "1002"]
    assert data["response_id"].tolist() == ["row-1", "row-2"]
    assert data["channel"].tolist() == ["phone", "chat"]
    assert data["agent_id"].tolist() == ["ann", "bob"]
    assert data["team"].tolist() == ["Tier 1", "Tier 2"]
    assert data["comment"].iloc[0] == "ok"
    assert data["interaction_at"].tolist() == [pd.Timestamp("2023-03-01"), pd.Timestamp("2023-03-02")]
    assert data["customer_id"].isna().all() and data["responded_at"].isna().all()
    assert (data["weight"] == 1.0).all() and (data["scale"] == "likert5").all()
    assert "'Ticket ID' -> interaction_id" in notes(ledger)
    assert "Internal note" in notes(ledger)  # unused columns are listed
    assert "likert5" in notes(ledger)


def test_explicit_column_map_wins_and_bad_maps_are_rejected(tmp_path):
    path = write(tmp_path, "survey.csv", "Q1,Rating,Channel\n2,5,email\n")
    data, _ = read_responses(path, columns={"Q1": "score"})
    assert data["score"].tolist() == [2.0]
    with pytest.raises(MissingColumnError, match=r"Column 'Q 1' named in `columns` is not in .*Did you mean 'Q1'\?"):
        read_responses(path, columns={"Q 1": "score"})
    with pytest.raises(ParameterError, match=r"`columns\['Q1'\]` must be one of .*'scroe' was passed"):
        read_responses(path, columns={"Q1": "scroe"})


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("E-mail", "email"), ("email", "email"), ("EMAIL", "email"), (" e mail ", "email"), ("Mail", "email"),
        ("phone", "phone"), ("Voice", "phone"), ("CALL", "phone"), ("IVR", "phone"), ("Phone call (inbound)", "phone"),
        ("chat", "chat"), ("Live Chat", "chat"), ("live-chat", "chat"), ("Webchat", "chat"),
        ("In-App", "in_app"), ("in app", "in_app"), ("messaging", "in_app"), ("WhatsApp", "in_app"),
        ("Messenger", "in_app"), ("Telegram", "in_app"),
        ("Twitter", "social"), ("X", "social"), ("Facebook", "social"), ("Instagram", "social"),
        ("Social Media", "social"), ("SMS", "sms"), ("Text message", "sms"),
    ],
)
def test_channel_spellings_are_normalised(raw, expected):
    assert normalise_channel([raw]).tolist() == [expected]


def test_channel_aliases_are_user_extendable(monkeypatch, tmp_path):
    out = normalise_channel(pd.Series(["Web Form", None, "Portal"], index=[10, 11, 12]))
    assert out.index.tolist() == [10, 11, 12]
    assert out.iloc[0] == "web_form" and pd.isna(out.iloc[1]) and out.iloc[2] == "portal"
    assert normalise_channel(["Portal"], aliases={"portal": "email"}).tolist() == ["email"]
    monkeypatch.setitem(CHANNEL_ALIASES, "web form", "email")
    assert normalise_channel(["WEB-FORM"]).tolist() == ["email"]

    path = write(tmp_path, "ch.csv", "channel,score\nPortal,5\nKiosk,4\nphone,3\n")
    data, ledger = read_responses(path, channel_aliases={"portal": "email"})
    assert data["channel"].tolist() == ["email", "kiosk", "phone"]
    assert "channels not in the alias table, kept as written: ['kiosk']" in notes(ledger)


def test_single_channel_export_and_blank_channels(tmp_path):
    path = write(tmp_path, "one.csv", "score\n5\n4\n")
    data, ledger = read_responses(path, channel="E-mail")
    assert data["channel"].tolist() == ["email", "email"]
    assert "every row set to channel 'email'" in notes(ledger)

    path = write(tmp_path, "blank.csv", "channel,score\nchat,5\n,4\n")
    data, ledger = read_responses(path)
    assert ledger.excluded == {"missing_channel": 1} and ledger.examples["missing_channel"] == [2]
    data, ledger = read_responses(path, channel="phone")
    assert data["channel"].tolist() == ["chat", "phone"]
    assert_balanced(data, ledger)


# ------------------------------------------------------------------------------------------------
# Messy exports, one test per case
# ------------------------------------------------------------------------------------------------


def test_dayfirst_is_detected_when_a_first_field_exceeds_12(tmp_path):
    path = write(tmp_path, "uk.csv", "channel,score,interaction_at\nphone,5,1/8/2023\nphone,4,13/08/2023\nphone,3,\n")
    data, ledger = read_responses(path)
    # 1/8/2023 is 1 August because 13/08/2023 can only be day first
    assert data["interaction_at"].tolist()[:2] == [pd.Timestamp("2023-08-01"), pd.Timestamp("2023-08-13")]
    assert pd.isna(data["interaction_at"].iloc[2])  # an empty timestamp is kept as NaT
    assert "read day first" in notes(ledger)
    assert ledger.rows_excluded == 0


def test_monthfirst_is_detected_when_a_second_field_exceeds_12(tmp_path):
    path = write(tmp_path, "us.csv", "channel,score,interaction_at\nphone,5,1/8/2023 14:30\nphone,4,08/13/2023 09:05\n")
    data, ledger = read_responses(path)
    assert data["interaction_at"].tolist() == [pd.Timestamp("2023-01-08 14:30"), pd.Timestamp("2023-08-13 09:05")]
    assert "read month first" in notes(ledger)


def test_ambiguous_dates_fall_back_to_month_first_with_a_note_and_dayfirst_overrides(tmp_path):
    path = write(tmp_path, "amb.csv", "channel,score,interaction_at,responded_at\nchat,5,1/8/2023,2/8/2023\nchat,4,3/8/2023,3/8/2023\n")
    data, ledger = read_responses(path)
    assert data["interaction_at"].iloc[0] == pd.Timestamp("2023-01-08")
    assert "ambiguous" in notes(ledger)
    data, ledger = read_responses(path, dayfirst=True)
    assert data["interaction_at"].tolist() == [pd.Timestamp("2023-08-01"), pd.Timestamp("2023-08-03")]
    assert data["responded_at"].iloc[0] == pd.Timestamp("2023-08-02")
    assert "ambiguous" not in notes(ledger)
    # an explicit order wins over the evidence: 13/08/2023 cannot be month first
    path = write(tmp_path, "uk.csv", "channel,score,interaction_at\nchat,5,13/08/2023\nchat,4,12/08/2023\n")
    data, ledger = read_responses(path, dayfirst=False)
    assert ledger.excluded == {"unparseable_timestamp": 1} and ledger.examples["unparseable_timestamp"] == [1]
    assert data["interaction_at"].tolist() == [pd.Timestamp("2023-12-08")]


def test_year_first_dates_are_year_month_day_in_either_day_order(tmp_path):
    # ISO dates have one reading: read day first (given, or decided from another column's 13/08/2023),
    # 2024-01-02 is still 2 January, not 1 February; a year-day-month value is not a date
    path = write(tmp_path, "iso.csv", "channel,score,interaction_at,responded_at\n"
                                      "chat,5,2024-01-02 10:00,13/08/2023\nchat,4,2024-01-13 09:00,01/08/2023\n")
    for dayfirst in (None, True):
        data, ledger = read_responses(path, dayfirst=dayfirst)
        assert data["interaction_at"].tolist() == [pd.Timestamp("2024-01-02 10:00"), pd.Timestamp("2024-01-13 09:00")]
    data, ledger = read_responses(path, dayfirst=False)  # 13/08/2023 cannot be month first: that row goes
    assert data["interaction_at"].tolist() == [pd.Timestamp("2024-01-13 09:00")]
    data, ledger = read_responses(path)  # responded_at decides: day first
    assert data["responded_at"].tolist() == [pd.Timestamp("2023-08-13"), pd.Timestamp("2023-08-01")]
    # mixed in one column with d/m/y values (no ISO fast path): the same readings
    mixed = write(tmp_path, "mixed_iso.csv", "channel,score,interaction_at\n"
                                             "chat,5,2024-01-02 10:00\nchat,4,03/04/2024 09:00\nchat,3,2024-13-01 08:00\n")
    data, ledger = read_responses(mixed, dayfirst=True)
    assert data["interaction_at"].tolist() == [pd.Timestamp("2024-01-02 10:00"), pd.Timestamp("2024-04-03 09:00")]
    assert ledger.excluded == {"unparseable_timestamp": 1} and ledger.examples["unparseable_timestamp"] == [3]


def test_conflicting_date_orders_are_read_month_first_and_noted(tmp_path):
    path = write(tmp_path, "mixed.csv", "channel,score,interaction_at\nchat,5,13/08/2023\nchat,4,08/14/2023\nchat,3,2023-08-15\n")
    data, ledger = read_responses(path)
    assert ledger.excluded == {"unparseable_timestamp": 1} and ledger.examples["unparseable_timestamp"] == [1]
    assert data["interaction_at"].tolist() == [pd.Timestamp("2023-08-14"), pd.Timestamp("2023-08-15")]
    assert "mix day-first and month-first" in notes(ledger)


def test_unparseable_timestamps_are_excluded_with_row_numbers(tmp_path):
    path = write(tmp_path, "dates.csv", (
        "channel,score,interaction_at\n"
        "chat,5,2023-08-01 10:00:00\nchat,4,not a date\nchat,3,2023-02-30 10:00:00\nchat,2,\nchat,1,2023-08-05 11:00:00\n"
    ))
    data, ledger = read_responses(path)
    assert ledger.excluded == {"unparseable_timestamp": 2}
    assert ledger.examples["unparseable_timestamp"] == [2, 3]
    assert data["score"].tolist() == [5.0, 2.0, 1.0]
    assert_balanced(data, ledger)


def test_time_zone_aware_timestamps_become_naive_utc(tmp_path):
    path = write(tmp_path, "tz.csv", "channel,score,responded_at\nchat,5,2023-08-01T10:00:00+02:00\nchat,4,2023-08-01T10:00:00Z\n")
    data, ledger = read_responses(path)
    assert data["responded_at"].tolist() == [pd.Timestamp("2023-08-01 08:00"), pd.Timestamp("2023-08-01 10:00")]
    assert data["responded_at"].dt.tz is None
    assert "converted to UTC" in notes(ledger)

    frame = pd.DataFrame({"channel": ["chat"], "score": [5],
                          "interaction_at": pd.to_datetime(["2023-08-01 10:00"]).tz_localize("Europe/Paris")})
    data, ledger = read_responses(frame)
    assert data["interaction_at"].tolist() == [pd.Timestamp("2023-08-01 08:00")]
    assert data["interaction_at"].dtype == "datetime64[ns]"
    assert "converted to UTC" in notes(ledger)


def test_trailing_blank_and_comma_only_lines_are_counted_as_blank_rows(tmp_path):
    path = write(tmp_path, "trailing.csv", (
        "\n"  # a blank line before the header is skipped, not a data row
        "response_id,channel,score\n"
        "r1,phone,5\n"
        ",,\n"
        "r2,email,4\n"
        "\n"
        ",,\n"
        " , , \n"
    ))
    data, ledger = read_responses(path)
    assert data["response_id"].tolist() == ["r1", "r2"]
    # data rows: r1, ",,", r2, "", ",,", " , , "  -> 6 read, 4 blank
    assert (ledger.rows_read, ledger.rows_kept) == (6, 2)
    assert ledger.excluded == {"blank_row": 4}
    assert ledger.examples["blank_row"] == [2, 4, 5, 6]
    assert "blank line(s) before the header" in notes(ledger)
    assert_balanced(data, ledger)
    # blank rows follow from the file layout, not from bad data: strict mode accepts them
    data, ledger = read_responses(path, strict=True)
    assert ledger.excluded == {"blank_row": 4}
    # separator-only lines wider than the header (left by a spreadsheet) are blank rows too ...
    wide = write(tmp_path, "wide.csv", "channel,score\nchat,5\n,,,,,,\n,,,,,,\n")
    data, ledger = read_responses(wide)
    assert (ledger.rows_read, ledger.rows_kept, ledger.excluded) == (3, 1, {"blank_row": 2})
    # ... but a wide line that holds data is a parse error
    with pytest.raises(DataFileError, match=r"could not be read as delimited text with delimiter ','.*line 3"):
        read_responses(write(tmp_path, "wide2.csv", "channel,score\nchat,5\nchat,4,extra\n"))


def test_a_value_beyond_the_header_is_an_error_not_a_silently_dropped_field(tmp_path):
    # an unquoted comma in the first data row: pandas (index_col=False) would drop ' thanks' with a
    # warning and keep the row; the loader refuses the file, naming the line and the value
    path = write(tmp_path, "comma.csv", "response_id,score,comment\nR1,5,great, thanks\nR2,4,ok\n")
    with pytest.raises(DataFileError) as info:
        read_responses(path, scale="likert5")
    message = str(info.value)
    assert "comma.csv, line 2: 4 fields where the header has 3 (' thanks' after the last column)" in message
    assert "\n" not in message
    # the same after blank lines before the header (line numbers count them); a wider row after the first
    # is pandas' own field-count error (above)
    later = write(tmp_path, "later.csv", '\n\nresponse_id,score,comment\nR1,5,"a",b\nR2,4,"x\ny"\n')
    with pytest.raises(DataFileError, match=r"later\.csv, line 4: 4 fields where the header has 3 \('b'"):
        read_responses(later, scale="likert5")
    # a record spanning lines is named by its first line; a comment longer than the csv module's default
    # field limit does not stop the check
    multi = write(tmp_path, "multi.csv", 'response_id,score,comment\nR1,5,"two\nlines",x\nR2,4,ok\n')
    with pytest.raises(DataFileError, match=r"multi\.csv, line 2: 4 fields where the header has 3 \('x'"):
        read_responses(multi, scale="likert5")
    long = write(tmp_path, "long.csv", "response_id,score,comment\nR1,5,hi,\nR2,4," + "x" * 200_000 + "\nR3,3,a,b\n")
    with pytest.raises(DataFileError, match=r"long\.csv, line 4: 4 fields where the header has 3 \('b'"):
        read_responses(long, scale="likert5")
    # empty fields after the last column lose nothing: read as before
    trailing = write(tmp_path, "trailing.csv", "response_id,score,channel\nR1,5,chat,\nR2,4,email,\n")
    data, ledger = read_responses(trailing, scale="likert5")
    assert list(data["score"]) == [5.0, 4.0] and list(data["channel"]) == ["chat", "email"]
    assert_balanced(data, ledger)


def test_work_beside_the_csv_parse_runs_once_on_the_calling_thread(tmp_path):
    import threading

    path = write(tmp_path, "r.csv", "channel,score,interaction_at\nchat,5,2026-07-01 10:00\nphone,4,2026-07-02 11:00\n")
    seen = []
    token = load._BESIDE_PARSE.set(lambda: seen.append(threading.current_thread()))
    try:
        data, ledger = read_responses(path, scale="likert5")
    finally:
        load._BESIDE_PARSE.reset(token)
    assert seen == [threading.current_thread()]
    plain, plain_ledger = read_responses(path, scale="likert5")
    pd.testing.assert_frame_equal(data, plain)
    assert ledger.summary() == plain_ledger.summary()


def test_an_unclosed_quote_is_a_one_line_error_naming_the_file_and_line(tmp_path):
    # line 4 opens a quote that is never closed: every later row would be swallowed into one field
    path = write(tmp_path, "quote2.csv", 'id,channel,score\n1,chat,5\n3,email,3\n2,phone,"4\n4,chat,2\n')
    with pytest.raises(DataFileError) as info:
        read_responses(path, scale="likert5")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path)) and "quote2.csv: a quote opened on line 4 is never closed" in message
    # the same file with a separator-only wide line first (a field-count error) must not lose rows either
    mixed = write(tmp_path, "mixed.csv", 'channel,score\nchat,5\n,,,,,,\nchat,"4\nchat,3\n')
    with pytest.raises(DataFileError, match=r"mixed\.csv: a quote opened on line 4 is never closed"):
        read_responses(mixed, scale="likert5")
    # quoted fields that are closed, with escaped quotes and embedded newlines, still read normally
    fine = write(tmp_path, "fine.csv", 'channel,score,comment\nchat,5,"said ""hi""\nthen left"\n,,,,\nphone,4,ok\n')
    data, ledger = read_responses(fine, scale="likert5")
    assert (ledger.rows_read, ledger.rows_kept, ledger.excluded) == (3, 2, {"blank_row": 1})


def test_missing_codes_are_excluded_counted_and_never_averaged(tmp_path):
    path = write(tmp_path, "codes.csv", (
        "response_id,agent_id,channel,score\n"
        "r1,a1,phone,5\nr2,a1,phone,98\nr3,-1,phone,4\nr4,a2,phone,99\nr5,a2,phone,-99\nr6,a2,phone,0\n"
        "r7,a3,phone,3\nr8,a3,phone,2\n"
    ))
    data, ledger = read_responses(path, scale="likert5", missing_codes={"score": [98, 99, -99, 0], "agent_id": ["-1"]})
    # valid scores by hand: 5, 4, 3, 2 -> mean 14 / 4 = 3.5
    assert data["score"].mean() == pytest.approx(3.5)
    assert sorted(data["score"].tolist()) == [2.0, 3.0, 4.0, 5.0]
    assert ledger.excluded == {"nonsubstantive_answer": 4}
    assert ledger.examples["nonsubstantive_answer"] == [2, 4, 5, 6]
    assert ledger.recoded == {"agent_id: declared missing code": 1}
    assert data.loc[data["response_id"] == "r3", "agent_id"].isna().all()
    assert_balanced(data, ledger)

    # a plain list applies to the score column; the same rows go, whatever the code
    data2, ledger2 = read_responses(path, scale="likert5", missing_codes=[98, 99, -99, 0])
    assert data2["score"].mean() == pytest.approx(3.5) and ledger2.excluded == {"nonsubstantive_answer": 4}
    # undeclared, the codes are out of range on a 1-5 scale: excluded too, but under another reason
    data3, ledger3 = read_responses(path, scale="likert5")
    assert data3["score"].mean() == pytest.approx(3.5) and ledger3.excluded == {"score_out_of_range": 4}
    with pytest.raises(ParameterError, match=r"`missing_codes` names column 'scroe'.*Did you mean 'score'\?"):
        read_responses(path, scale="likert5", missing_codes={"scroe": [99]})


def test_text_outcome_labels(tmp_path):
    path = write(tmp_path, "labels.csv", (
        "channel,Satisfaction\nphone,satisfied\nphone,neutral or dissatisfied\nchat,Satisfied \nchat,NEUTRAL OR DISSATISFIED\n"
        "chat,satisfied\n"
    ))
    data, ledger = read_responses(path, scale="binary")
    assert data["score"].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]
    # 3 satisfied of 5 by hand
    assert data["score"].mean() * 100 == pytest.approx(60.0)
    with pytest.raises(ParameterError, match=r"No `scale` was given.*'satisfied'.*scale='binary'"):
        read_responses(path)


def test_utf16_with_bom_and_semicolons(tmp_path):
    text = "response_id;channel;score;comment;weight\r\nr1;Téléphone;5;Très bien, merci;1,5\r\nr2;E-mail;3;Zoë;2\r\n"
    path = write(tmp_path, "export.csv", text, encoding="utf-16")  # Python's utf-16 codec writes a BOM
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    data, ledger = read_responses(path, channel_aliases={"téléphone": "phone"})
    assert data["response_id"].tolist() == ["r1", "r2"]
    assert data["channel"].tolist() == ["phone", "email"]
    assert data["comment"].tolist() == ["Très bien, merci", "Zoë"]
    assert data["weight"].tolist() == [1.5, 2.0]
    assert "utf-16 (UTF-16 byte-order mark)" in notes(ledger) and "delimiter ';'" in notes(ledger)


def test_windows_1252_files_are_detected_and_noted(tmp_path):
    path = write(tmp_path, "legacy.csv", "channel,score,comment\nphone,4,Très bien\n", encoding="cp1252")
    data, ledger = read_responses(path)
    assert data["comment"].tolist() == ["Très bien"]
    assert "cp1252" in notes(ledger)


@pytest.mark.parametrize("sep", ["\t", "|", ";"])
def test_other_delimiters_are_sniffed(tmp_path, sep):
    path = write(tmp_path, "d.txt", sep.join(["channel", "score", "comment"]) + "\nchat" + sep + "4" + sep + "a, b\n")
    data, _ = read_responses(path)
    assert data["comment"].tolist() == ["a, b"]


def test_excel_with_several_sheets(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"channel": ["phone", "chat"], "score": [5, 4]}).to_excel(xl, sheet_name="Jan", index=False)
        pd.DataFrame({"channel": ["email"], "score": [2], "interaction_at": [pd.Timestamp("2023-02-01 10:00")]}).to_excel(
            xl, sheet_name="Feb", index=False)
    data, ledger = read_responses(path)
    assert data["score"].tolist() == [5.0, 4.0]
    assert "['Jan', 'Feb']" in notes(ledger) and "pass sheet=" in notes(ledger)
    data, ledger = read_responses(path, sheet="Feb")
    assert data["channel"].tolist() == ["email"]
    assert data["interaction_at"].tolist() == [pd.Timestamp("2023-02-01 10:00")]
    data, _ = read_responses(path, sheet=1)
    assert data["channel"].tolist() == ["email"]
    with pytest.raises(ParameterError, match=r"`sheet` must be one of \{'Jan', 'Feb'\}, but 'Mar' was passed"):
        read_responses(path, sheet="Mar")
    with pytest.raises(ParameterError, match=r"index from 0 to 1.*sheets \['Jan', 'Feb'\]"):
        read_responses(path, sheet=5)


def test_score_present_only_for_the_rows_that_answered(tmp_path):
    path = write(tmp_path, "sent.csv", (
        "response_id,channel,score\nr1,email,5\nr2,email,\nr3,email,4\nr4,email,\nr5,email,1\n"
    ))
    data, ledger = read_responses(path, scale="likert5")
    # 5 surveys sent, 3 answered: non-response is kept (it feeds the response rate), not excluded
    assert (ledger.rows_read, ledger.rows_kept, ledger.rows_excluded) == (5, 5, 0)
    assert ledger.unanswered == 2 and ledger.rows_answered == 3
    assert data["score"].notna().sum() / len(data) == pytest.approx(3 / 5)
    assert data["score"].mean() == pytest.approx((5 + 4 + 1) / 3)
    data, ledger = read_responses(path, scale="likert5", missing_score="exclude")
    assert ledger.excluded == {"missing_score": 2} and ledger.examples["missing_score"] == [2, 4]
    assert ledger.unanswered == 0 and len(data) == 3
    with pytest.raises(ParameterError, match=r"`missing_score` must be one of \{'nonresponse', 'exclude'\}"):
        read_responses(path, missing_score="drop")


def test_out_of_range_scores_and_unknown_labels_are_excluded(tmp_path):
    path = write(tmp_path, "bad.csv", (
        "channel,score\nchat,5\nchat,6\nchat,4.5\nchat,Very satisfied\nchat,great-ish\nchat,7 stars\nchat,4 stars\n"
    ))
    data, ledger = read_responses(path, scale="likert5")
    assert data["score"].tolist() == [5.0, 5.0, 4.0]
    assert ledger.excluded == {"score_out_of_range": 3, "unknown_label": 1}
    assert ledger.examples["score_out_of_range"] == [2, 3, 6]
    assert ledger.examples["unknown_label"] == [5]
    assert_balanced(data, ledger)


def test_duplicates_are_on_response_id_and_scale_and_unknown_scales_are_excluded(tmp_path):
    path = write(tmp_path, "multi.csv", (
        "response_id,channel,score,scale\n"
        "r1,chat,5,likert5\n"
        "r1,chat,9,nps\n"       # same id, another question: kept
        "r1,chat,4,likert5\n"   # repeat of row 1: excluded
        "r2,chat,3,stars9\n"    # unknown scale
        "r3,chat,2,\n"          # blank scale: taken from scale=
    ))
    data, ledger = read_responses(path, scale="likert5")
    assert list(zip(data["response_id"], data["scale"], data["score"])) == [
        ("r1", "likert5", 5.0), ("r1", "nps", 9.0), ("r3", "likert5", 2.0)]
    assert ledger.excluded == {"unknown_scale": 1, "duplicate_response_id": 1}
    assert ledger.examples == {"unknown_scale": [4], "duplicate_response_id": [3]}
    with pytest.raises(InputError, match=r"row 3: response id 'r1' \(scale 'likert5'\) already appears in row 1"):
        read_responses(write(tmp_path, "dup.csv", "response_id,channel,score\nr1,chat,5\nr2,chat,4\nr1,chat,3\n"),
                       strict=True)


def test_invalid_weights_are_excluded(tmp_path):
    path = write(tmp_path, "w.csv", "channel,score,weight\nchat,5,1.2\nchat,4,-1\nchat,3,abc\nchat,2,\nchat,1,0\n")
    data, ledger = read_responses(path)
    assert data["weight"].tolist() == [1.2, 0.0]
    assert ledger.excluded == {"invalid_weight": 3} and ledger.examples["invalid_weight"] == [2, 3, 4]


def test_scale_is_inferred_only_for_numbers_from_1_to_5(tmp_path):
    data, ledger = read_responses(write(tmp_path, "a.csv", "channel,score\nchat,1\nchat,5\nchat,\n"))
    assert (data["scale"] == "likert5").all() and "read as scale 'likert5'" in notes(ledger)
    with pytest.raises(ParameterError, match=r"No `scale` was given and column 'score' holds values other than the numbers 1 to 5 \(e\.g\. \['8', '10'\]\)"):
        read_responses(write(tmp_path, "b.csv", "channel,score\nchat,1\nchat,8\nchat,10\n"))
    data, _ = read_responses(write(tmp_path, "b.csv", "channel,score\nchat,1\nchat,8\nchat,10\n"), scale="nps")
    assert data["score"].tolist() == [1.0, 8.0, 10.0]


# ------------------------------------------------------------------------------------------------
# Presets
# ------------------------------------------------------------------------------------------------


def test_zendesk_preset(tmp_path):
    path = write(tmp_path, "zendesk.csv", (
        "Ticket ID,Satisfaction Rating,Satisfaction Comment,Via,Assignee,Group,Created at\n"
        "101,Good,Thanks!,Email,Ann,Billing,2023-05-01 09:00\n"
        "102,Bad,Slow,Web form,Bob,Billing,2023-05-01 10:00\n"
        "103,Offered,,Chat,Ann,Tech,2023-05-02 11:00\n"
        "104,Unoffered,,Voice,Cy,Tech,2023-05-02 12:00\n"
        "105,\"Good, I'm satisfied\",,Phone call (inbound),Cy,Tech,2023-05-03 08:00\n"
        "101,Bad,changed my mind,Email,Ann,Billing,2023-05-04 09:00\n"
    ))
    data, ledger = read_responses(path, preset="zendesk")
    assert data["response_id"].tolist() == ["101", "102", "103", "105"]
    assert data["score"].tolist()[:2] == [1.0, 0.0] and np.isnan(data["score"].iloc[2]) and data["score"].iloc[3] == 1.0
    assert (data["scale"] == "binary").all()
    assert data["channel"].tolist() == ["email", "web_form", "chat", "phone"]
    assert data["comment"].iloc[0] == "Thanks!" and data["agent_id"].iloc[1] == "Bob"
    assert ledger.unanswered == 1  # "offered": survey sent, not answered
    assert ledger.excluded == {"not_surveyed": 1, "duplicate_response_id": 1}
    assert ledger.examples == {"not_surveyed": [4], "duplicate_response_id": [6]}
    assert_balanced(data, ledger)


def test_freshdesk_preset_five_and_three_point_faces(tmp_path):
    five = write(tmp_path, "fd5.csv", (
        "Ticket Id,Rating,Agent,Group,Source,Created Time,Feedback\n"
        "1,Extremely Happy,ann,L1,Email,2023-06-01 10:00:00,great\n"
        "2,Happy,ann,L1,Portal,2023-06-01 11:00:00,\n"
        "3,Neutral,bob,L2,Phone,2023-06-02 10:00:00,\n"
        "4,Unhappy,bob,L2,Chat,2023-06-02 11:00:00,\n"
        "5,Extremely Unhappy,bob,L2,Outbound Email,2023-06-03 10:00:00,awful\n"
    ))
    data, ledger = read_responses(five, preset="freshdesk")
    assert data["score"].tolist() == [5.0, 4.0, 3.0, 2.0, 1.0]
    assert (data["scale"] == "emoji5").all()
    assert data["channel"].tolist() == ["email", "portal", "phone", "chat", "email"]
    assert data["interaction_id"].tolist() == ["1", "2", "3", "4", "5"] and data["agent_id"].iloc[0] == "ann"
    assert "scale 'emoji5'" in notes(ledger)

    three = write(tmp_path, "fd3.csv", "Ticket Id,Rating,Source\n1,Awesome,Email\n2,Just Okay,Email\n3,Not Good,Email\n")
    data, ledger = read_responses(three, preset="freshdesk")
    assert data["score"].tolist() == [3.0, 2.0, 1.0] and (data["scale"] == "emoji3").all()


QUALTRICS = (
    "StartDate,EndDate,Status,Progress,Finished,RecordedDate,ResponseId,TicketID,Q1,Q2\n"
    "Start Date,End Date,Response Type,Progress,Finished,Recorded Date,Response ID,TicketID,"
    "\"How satisfied were you with the help you received today?\",Which channel did you use?\n"
    "\"{\"\"ImportId\"\":\"\"startDate\"\",\"\"timezone\"\":\"\"America/Denver\"\"}\","
    "\"{\"\"ImportId\"\":\"\"endDate\"\"}\",\"{\"\"ImportId\"\":\"\"status\"\"}\",\"{\"\"ImportId\"\":\"\"progress\"\"}\","
    "\"{\"\"ImportId\"\":\"\"finished\"\"}\",\"{\"\"ImportId\"\":\"\"recordedDate\"\"}\",\"{\"\"ImportId\"\":\"\"_recordId\"\"}\","
    "\"{\"\"ImportId\"\":\"\"TicketID\"\"}\",\"{\"\"ImportId\"\":\"\"QID1\"\"}\",\"{\"\"ImportId\"\":\"\"QID2\"\"}\"\n"
    "2023-07-01 10:00:00,2023-07-01 10:02:00,0,100,1,2023-07-01 10:02:01,R_aaa,T1,5,Phone\n"
    "2023-07-01 11:00:00,2023-07-01 11:01:00,0,100,1,2023-07-01 11:01:05,R_bbb,T2,Very dissatisfied,Chat\n"
    "2023-07-02 09:00:00,2023-07-02 09:00:30,0,40,0,2023-07-03 09:00:30,R_ccc,T3,,Email\n"
)


def test_qualtrics_preset_skips_the_extra_header_rows(tmp_path):
    path = write(tmp_path, "qualtrics.csv", QUALTRICS)
    data, ledger = read_responses(path, preset="qualtrics", columns={"Q1": "score", "Q2": "channel"}, scale="likert5")
    assert ledger.rows_read == 3  # the question-text and ImportId rows are header, not data
    assert data["response_id"].tolist() == ["R_aaa", "R_bbb", "R_ccc"]
    assert data["interaction_id"].tolist() == ["T1", "T2", "T3"]
    assert data["score"].tolist()[:2] == [5.0, 1.0] and np.isnan(data["score"].iloc[2])
    assert data["responded_at"].iloc[1] == pd.Timestamp("2023-07-01 11:01:05")
    assert data["channel"].tolist() == ["phone", "chat", "email"]
    assert ledger.unanswered == 1
    assert "skipped 2 extra header row(s)" in notes(ledger)
    assert "1 unfinished Qualtrics response(s)" in notes(ledger)
    with pytest.raises(MissingColumnError, match=r"Required column 'score' is missing .*columns=\{'<column>': 'score'\}"):
        read_responses(path, preset="qualtrics", channel="email")


def test_a_custom_preset_can_be_passed(tmp_path):
    from csatkit.load import Preset

    intercom = Preset(name="intercom", columns={"Conversation rating": "score", "Conversation ID": "interaction_id"},
                      default_scale="emoji5", header_rows_to_skip=1, nonresponse_labels=("not rated",))
    path = write(tmp_path, "intercom.csv", (
        "Conversation ID,Conversation rating,Channel\n(id),(1-5 faces),(source)\n"
        "c1,😃,Messenger\nc2,not rated,Chat\nc3,😞,Chat\n"
    ))
    data, ledger = read_responses(path, preset=intercom)
    assert ledger.rows_read == 3  # the units row under the header is skipped
    assert data["score"].tolist()[0] == 5.0 and np.isnan(data["score"].iloc[1]) and data["score"].iloc[2] == 2.0
    assert data["channel"].tolist() == ["in_app", "chat", "chat"]
    assert (data["scale"] == "emoji5").all() and ledger.unanswered == 1


def test_unknown_preset_is_rejected(tmp_path):
    with pytest.raises(ParameterError, match=r"`preset` must be one of \{'generic', 'zendesk', 'freshdesk', 'qualtrics'\}"):
        read_responses(pd.DataFrame({"channel": ["chat"], "score": [5]}), preset="intercom")
    assert set(PRESETS) >= {"generic", "zendesk", "freshdesk", "qualtrics"}


# ------------------------------------------------------------------------------------------------
# Other formats
# ------------------------------------------------------------------------------------------------


def test_spss_sav_with_user_missing_values_and_value_labels(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    frame = pd.DataFrame({
        "respid": [1.0, 2.0, 3.0, 4.0, 5.0],
        "chan": [1.0, 2.0, 1.0, 2.0, 1.0],
        "q1": [5.0, 98.0, 4.0, 99.0, np.nan],
        "when": pd.to_datetime(["2023-01-01 10:00", "2023-01-02 10:00", "2023-01-03 10:00", "2023-01-04 10:00",
                                "2023-01-05 10:00"]),
    })
    path = tmp_path / "survey.sav"
    pyreadstat.write_sav(
        frame, path, missing_ranges={"q1": [98.0, 99.0]}, variable_value_labels={"chan": {1.0: "Phone", 2.0: "Email"}},
        variable_format={"when": "DATETIME20"},
    )
    data, ledger = read_responses(path, columns={"respid": "response_id", "chan": "channel", "q1": "score",
                                                 "when": "interaction_at"})
    assert data["response_id"].tolist() == ["1", "3", "5"]
    assert data["channel"].tolist() == ["phone", "phone", "phone"]
    assert data["score"].tolist()[:2] == [5.0, 4.0] and np.isnan(data["score"].iloc[2])
    assert data["interaction_at"].iloc[0] == pd.Timestamp("2023-01-01 10:00")
    assert ledger.excluded == {"nonsubstantive_answer": 2} and ledger.examples["nonsubstantive_answer"] == [2, 4]
    assert "user-missing values of 'q1'" in notes(ledger)


def test_parquet_file_and_directory(tmp_path):
    frame = pd.DataFrame({"response_id": ["a", "b", "c"], "channel": ["chat", "Voice", "chat"], "score": [4, 2, 11],
                          "interaction_at": pd.to_datetime(["2023-01-01", "2023-01-02", "2023-01-03"])})
    frame.to_parquet(tmp_path / "one.parquet")
    data, ledger = read_responses(tmp_path / "one.parquet", scale="likert5")
    assert data["response_id"].tolist() == ["a", "b"] and ledger.excluded == {"score_out_of_range": 1}
    folder = tmp_path / "lake"
    folder.mkdir()
    frame.iloc[:2].to_parquet(folder / "part-0.parquet")
    frame.iloc[2:].to_parquet(folder / "part-1.parquet")
    data, ledger = read_responses(folder, scale="likert5")
    assert ledger.rows_read == 3 and sorted(data["response_id"]) == ["a", "b"]


def test_dataframe_source_passes_the_same_validation():
    frame = pd.DataFrame({"id": [1, 2, 2, None], "channel": pd.Categorical(["chat", "chat", "chat", "sms"]),
                          "score": [4.0, 2.0, 3.0, 6.0]}, index=[10, 20, 30, 40])
    data, ledger = read_responses(frame, columns={"id": "response_id"}, scale="likert5")
    assert data["response_id"].tolist() == ["1", "2"]
    assert ledger.excluded == {"score_out_of_range": 1, "duplicate_response_id": 1}
    assert ledger.examples == {"score_out_of_range": [4], "duplicate_response_id": [3]}
    with pytest.raises(ParameterError, match="`sep` applies to files only"):
        read_responses(frame, sep=";")


# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------


def test_strict_raises_on_the_first_problem(tmp_path):
    path = write(tmp_path, "strict.csv", "response_id,channel,score\nr1,chat,5\nr2,chat,4\nr3,chat,9\nr4,chat,zzz\n")
    with pytest.raises(InputError, match=r"strict\.csv, row 3: score '9' in column 'score' is outside scale 'likert5'"):
        read_responses(path, scale="likert5", strict=True)
    data, ledger = read_responses(path, scale="likert5")
    assert ledger.excluded == {"score_out_of_range": 1, "unknown_label": 1}
    with pytest.raises(InputError, match=r"row 2: interaction_at 'soon' in column 'interaction_at' could not be read"):
        read_responses(pd.DataFrame({"channel": ["chat", "chat"], "score": [5, 4], "interaction_at": ["2023-01-01", "soon"]}),
                       strict=True)


def test_missing_required_column_names_the_nearest_match(tmp_path):
    path = write(tmp_path, "typo.csv", "response_id,channel,Scroe\nr1,chat,5\n")
    with pytest.raises(MissingColumnError) as err:
        read_responses(path)
    msg = str(err.value)
    assert "Required column 'score' is missing" in msg
    assert "['response_id', 'channel', 'Scroe']" in msg
    assert "Did you mean 'Scroe'?" in msg and "columns={'Scroe': 'score'}" in msg
    path = write(tmp_path, "nochan.csv", "response_id,chanel_name,score\nr1,chat,5\n")
    with pytest.raises(MissingColumnError, match=r"Required column 'channel' is missing.*'chanel_name'.*pass channel='email'"):
        read_responses(path)


def test_missing_empty_and_unsupported_files_give_one_line_errors(tmp_path):
    cases = []
    with pytest.raises(DataFileError, match=r"^File not found: .*nowhere\.csv$") as err:
        read_responses(tmp_path / "nowhere.csv")
    cases.append(err.value)
    empty = write(tmp_path, "empty.csv", "")
    with pytest.raises(DataFileError, match=r"empty\.csv is empty \(no header, no rows\)$") as err:
        read_responses(empty)
    cases.append(err.value)
    blank = write(tmp_path, "blank.csv", "\n\n  \n")
    with pytest.raises(DataFileError, match=r"blank\.csv is empty \(no header, no rows\)$") as err:
        read_responses(blank)
    cases.append(err.value)
    with pytest.raises(DataFileError, match=r"empty\.xlsx is empty") as err:
        read_qa(write(tmp_path, "empty.xlsx", ""))
    cases.append(err.value)
    other = write(tmp_path, "data.json", "{}")
    with pytest.raises(DataFileError, match=r"Unsupported file format '\.json' for .*data\.json; supported: \.csv, .*\.sav") as err:
        read_contacts(other)
    cases.append(err.value)
    broken = write(tmp_path, "broken.xlsx", "this is not a workbook")
    with pytest.raises(DataFileError, match=r"could not be read as an Excel workbook") as err:
        read_responses(broken)
    cases.append(err.value)
    for exc in cases:
        assert "\n" not in str(exc)
        assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)  # no pandas traceback
    with pytest.raises(ParameterError, match="`source` must be a file path or a pandas DataFrame"):
        read_responses(42)


def test_header_only_file_loads_zero_rows(tmp_path):
    data, ledger = read_responses(write(tmp_path, "h.csv", "channel,score\n"))
    assert list(data.columns) == RESPONSE_COLUMNS and len(data) == 0 and ledger.rows_read == 0


# ------------------------------------------------------------------------------------------------
# The ledger promise on arbitrary dirty data
# ------------------------------------------------------------------------------------------------

_SCORES = st.one_of(
    st.sampled_from([1, 2, 3, 4, 5]),
    st.integers(-120, 120),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from(["3", " 4 ", "5 stars", "Very satisfied", "junk", "", "  ", None, "n/a", "99", "98", "4,0", "7/10"]),
)
_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["r1", "r2", "r3", "r4", "", None]),
        _SCORES,
        st.sampled_from(["2023-08-01", "13/08/2023", "1/8/2023", "2023-02-30", "not a date", "", None,
                         "2023-08-01T10:00:00+02:00", "31/31/2031"]),
        st.sampled_from(["Phone", "e-mail", "Live chat", "carrier pigeon", "", None]),
        st.sampled_from([1, 0.5, 0, -1, "x", None, "2"]),
    ),
    min_size=0, max_size=25,
)


def _dirty_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rid", "rating", "when", "via", "wt"], dtype=object)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_ROWS, dayfirst=st.sampled_from([None, True, False]), exclude=st.booleans())
def test_ledger_adds_up_on_arbitrary_dirty_frames(rows, dayfirst, exclude):
    frame = _dirty_frame(rows)
    data, ledger = read_responses(
        frame, scale="likert5", columns={"rid": "response_id", "rating": "score", "when": "interaction_at",
                                         "via": "channel", "wt": "weight"},
        dayfirst=dayfirst, missing_codes=[98, 99], missing_score="exclude" if exclude else "nonresponse",
    )
    assert ledger.rows_read == len(frame)
    assert ledger.rows_read == ledger.rows_kept + ledger.rows_excluded
    assert len(data) == ledger.rows_kept
    assert list(data.columns) == RESPONSE_COLUMNS
    kept_scores = data["score"].dropna()
    assert kept_scores.isin([1.0, 2.0, 3.0, 4.0, 5.0]).all()
    assert ledger.unanswered == int(data["score"].isna().sum())
    assert not data.duplicated(["response_id", "scale"]).any()
    assert data["channel"].notna().all() and (data["weight"] >= 0).all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_ROWS)
def test_ledger_adds_up_on_arbitrary_dirty_csv_files(tmp_path_factory, rows):
    frame = _dirty_frame(rows)
    path = tmp_path_factory.mktemp("dirty") / "dirty.csv"
    frame.to_csv(path, index=False)
    if rows:
        with open(path, "a") as fh:
            fh.write(",,,,\n\n")  # trailing separator-only and blank lines
    data, ledger = read_responses(path, scale="likert5", columns={"rid": "response_id", "rating": "score",
                                                                  "when": "interaction_at", "via": "channel",
                                                                  "wt": "weight"})
    assert ledger.rows_read == ledger.rows_kept + ledger.rows_excluded
    assert len(data) == ledger.rows_kept
    assert ledger.rows_read == len(frame) + (2 if rows else 0)


# ------------------------------------------------------------------------------------------------
# QA evaluations
# ------------------------------------------------------------------------------------------------


def test_read_qa_items_codes_and_computed_score(tmp_path):
    path = write(tmp_path, "qa.csv", (
        "Evaluation ID,Ticket ID,Agent,Reviewer,Review date,Q_Greeting,Q_Empathy (1-5),Q_Compliance\n"
        "e1,T1,ann,rev1,2023-04-03,yes,5,9\n"
        "e2,T2,ann,rev1,2023-04-04,no,1,pass\n"
        "e3,T3,bob,rev2,2023-04-05,Yes,3,fail\n"
        "e4,T4,bob,rev2,2023-04-06,yes,N/A,pass\n"
        "e5,,bob,rev2,2023-04-07,yes,4,pass\n"
        "e3,T6,bob,rev2,2023-04-08,no,2,pass\n"
    ))
    data, ledger = read_qa(path, item_prefix="Q_", missing_codes={"Q_Compliance": [9]})
    items = ["item_greeting", "item_empathy_1_5", "item_compliance"]
    assert list(data.columns) == QA_COLUMNS + items
    assert data["evaluation_id"].tolist() == ["e1", "e2", "e3", "e4"]
    assert data["evaluator_id"].tolist() == ["rev1", "rev1", "rev2", "rev2"]
    assert data["evaluated_at"].iloc[0] == pd.Timestamp("2023-04-03")
    assert data["item_greeting"].tolist() == [1.0, 0.0, 1.0, 1.0]
    assert data["item_empathy_1_5"].tolist()[:3] == [5.0, 1.0, 3.0] and np.isnan(data["item_empathy_1_5"].iloc[3])
    assert np.isnan(data["item_compliance"].iloc[0]) and data["item_compliance"].tolist()[1:] == [1.0, 0.0, 1.0]
    # by hand, items rescaled by observed range (greeting 0-1, empathy 1-5, compliance 0-1):
    # e1: greeting 100, empathy (5-1)/4 = 100, compliance n/a -> 100
    # e2: 0, 0, 100 -> 33.33; e3: 100, 50, 0 -> 50; e4: 100, n/a, 100 -> 100
    assert data["qa_score"].tolist() == pytest.approx([100.0, 100 / 3, 50.0, 100.0])
    assert ledger.excluded == {"missing_id": 1, "duplicate_id": 1}
    assert ledger.examples == {"missing_id": [5], "duplicate_id": [6]}
    assert ledger.recoded == {"item_empathy_1_5: not applicable": 1, "item_compliance: declared missing code": 1}
    assert_balanced(data, ledger)


def test_read_qa_non_numeric_items_are_blanked_or_raise_in_strict_mode():
    frame = pd.DataFrame({"interaction_id": ["T1", "T2", "T3"], "item_accuracy": [2, "maybe", 1],
                          "qa_score": ["80", "75", "n/a"]})
    data, ledger = read_qa(frame)
    assert np.isnan(data["item_accuracy"].iloc[1])
    assert data["qa_score"].tolist()[:2] == [80.0, 75.0] and np.isnan(data["qa_score"].iloc[2])
    assert ledger.recoded == {"item_accuracy: not a number": 1, "qa_score: not applicable": 1}
    assert ledger.rows_excluded == 0
    with pytest.raises(InputError, match=r"row 2: item_accuracy \(column 'item_accuracy'\) has the non-numeric value 'maybe'"):
        read_qa(frame, strict=True)


def test_read_qa_explicit_items_and_missing_items_error():
    frame = pd.DataFrame({"Ticket": ["T1"], "Greeting & ID check": ["pass"], "Hold etiquette": [2]})
    data, _ = read_qa(frame, columns={"Ticket": "interaction_id"}, items={"Greeting & ID check": "greeting",
                                                                        "Hold etiquette": "Hold etiquette"})
    assert data[["item_greeting", "item_hold_etiquette"]].iloc[0].tolist() == [1.0, 2.0]
    with pytest.raises(MissingColumnError, match=r"No scorecard item columns and no QA score found"):
        read_qa(pd.DataFrame({"interaction_id": ["T1"], "Greeting": ["yes"]}))
    with pytest.raises(MissingColumnError, match=r"Item column 'Greting' named in `items` .*Did you mean 'Greeting'\?"):
        read_qa(pd.DataFrame({"interaction_id": ["T1"], "Greeting": ["yes"]}), items=["Greting"])


# ------------------------------------------------------------------------------------------------
# Contact logs
# ------------------------------------------------------------------------------------------------


def test_read_contacts_booleans_ids_and_timestamps(tmp_path):
    path = write(tmp_path, "contacts.csv", (
        "Ticket ID,Customer,Via,Reason,Created at,First reply at,Solved at,Repeat,FCR,Survey sent,Churned\n"
        "1,c1,Phone,billing,03/02/2023 09:00,03/02/2023 09:05,03/02/2023 10:00,N,Y,yes,0\n"
        "2,c1,e-mail,billing,14/02/2023 09:00,,,Y,N,no,1\n"
        "3,c2,chat,tech,15/02/2023 09:00,15/02/2023 09:01,15/02/2023 09:30,true,false,TRUE,maybe\n"
        ",c3,chat,tech,16/02/2023 09:00,,,N,N,no,0\n"
        "2,c4,chat,tech,17/02/2023 09:00,,,N,N,no,0\n"
        "6,c4,chat,tech,yesterday,,,N,N,no,0\n"
    ))
    data, ledger = read_contacts(path)
    assert list(data.columns) == CONTACT_COLUMNS
    assert data["interaction_id"].tolist() == ["1", "2", "3"]
    assert data["channel"].tolist() == ["phone", "email", "chat"]
    assert data["opened_at"].tolist()[0] == pd.Timestamp("2023-02-03 09:00")  # 14/02 proves day first
    assert data["resolved_at"].iloc[0] == pd.Timestamp("2023-02-03 10:00") and pd.isna(data["resolved_at"].iloc[1])
    assert data["repeat_contact"].tolist() == [False, True, True]
    assert data["resolved_first_contact"].tolist() == [True, False, False]
    assert data["survey_sent"].tolist() == [True, False, True]
    assert data["churned"].dtype == "boolean"
    assert data["churned"].iloc[:2].tolist() == [False, True] and pd.isna(data["churned"].iloc[2])
    assert ledger.recoded == {"churned: not yes/no": 1}
    assert ledger.excluded == {"missing_id": 1, "duplicate_id": 1, "unparseable_timestamp": 1}
    assert ledger.examples == {"missing_id": [4], "unparseable_timestamp": [6], "duplicate_id": [5]}
    assert_balanced(data, ledger)
    strict_path = write(tmp_path, "c2.csv", "Ticket ID,Via,Churned\n1,chat,1\n2,chat,0\n3,chat,maybe\n")
    with pytest.raises(InputError, match=r"row 3: churned \(column 'Churned'\) has the value 'maybe'"):
        read_contacts(strict_path, strict=True)


def test_read_contacts_single_channel_and_missing_id_column():
    data, ledger = read_contacts(pd.DataFrame({"interaction_id": ["a", "b"], "Solved at": ["2023-01-01", None]}),
                                 channel="voice")
    assert data["channel"].tolist() == ["phone", "phone"]
    assert data["resolved_first_contact"].isna().all()
    with pytest.raises(MissingColumnError, match=r"Required column 'interaction_id' is missing.*Did you mean 'interaction'\?"):
        read_contacts(pd.DataFrame({"interaction": ["a"], "channel": ["chat"]}))


# ------------------------------------------------------------------------------------------------
# Scale
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_million_row_csv_is_fully_accounted_for(tmp_path):
    """At scale every row is still kept or excluded with its reason (speed is measured in bench/bench_load.py)."""
    rng = np.random.default_rng(20230801)
    n = 1_000_000
    stamps = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")
    frame = pd.DataFrame({
        "response_id": np.char.add("r", np.arange(n).astype(str)),
        "Ticket ID": rng.integers(0, 10**7, n),
        "channel": rng.choice(["Phone", "E-mail", "chat", "Live Chat", "WhatsApp"], n),
        "agent_id": rng.choice([f"a{i}" for i in range(300)], n),
        "interaction_at": stamps.strftime("%d/%m/%Y %H:%M:%S"),
        "responded_at": (stamps + pd.Timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"),
        "score": rng.choice(["1", "2", "3", "4", "5", "", "99"], n),
    })
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    data, ledger = read_responses(path, scale="likert5", missing_codes=[99])
    assert ledger.rows_read == n and len(data) == ledger.rows_kept
    assert ledger.excluded["nonsubstantive_answer"] == int((frame["score"] == "99").sum())
    assert ledger.unanswered == int((frame["score"] == "").sum())
    assert data["interaction_at"].notna().all()
    assert set(data["channel"].unique()) == {"phone", "email", "chat", "in_app"}


# ------------------------------------------------------------------------------------------------
# Fast paths: the same rows and text as the plain pandas operations
# ------------------------------------------------------------------------------------------------

#: Every character Python's str.strip removes (str.isspace), plus look-alikes it keeps.
_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + \
    "\u2028\u2029\u202f\u205f\u3000"
_NOT_WHITESPACE = "\u200b\u200d\u2060\ufeff\u180e\x00\x7f"  # zero-width space/joiner, word joiner, BOM, ...


def _arrow_text(values, pieces: int = 1) -> pd.Series:
    """``values`` as a pyarrow-backed STRING_DTYPE Series in ``pieces`` chunks, cut from a larger array (so
    that the chunks start at an offset inside their buffers)."""
    import pyarrow as pa

    values = list(values)
    arr = pa.array(["pad"] + values + ["pad"], type=pa.large_string())
    cuts = np.linspace(0, len(values), pieces + 1).astype(int)
    chunks = [arr.slice(1 + a, b - a) for a, b in zip(cuts[:-1], cuts[1:])]
    return pd.Series(pd.array(pa.chunked_array(chunks, type=pa.large_string()), dtype=STRING_DTYPE))


def _python_text(values) -> list:
    """The reference: Python's str.strip, then empty -> missing."""
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) or not v.strip() else v.strip() for v in values]


def _listed(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s.tolist()]


def test_whitespace_byte_tables_cover_every_character_strip_removes():
    import sys

    from csatkit.load import _WS_FIRST_BYTE, _WS_LAST_BYTE

    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000]
    stripped = pd.Series(chars, dtype=STRING_DTYPE).str.strip()  # what the loader's strip removes
    removed = [c for c, s in zip(chars, stripped) if s == ""]
    python = [c for c in chars if c.isspace()]
    assert removed == python == sorted(_WHITESPACE)  # pyarrow's trim and str.strip agree, character by character
    for c in removed:
        b = c.encode("utf-8")
        assert _WS_FIRST_BYTE[b[0]] and _WS_LAST_BYTE[b[-1]], hex(ord(c))


@pytest.mark.parametrize("pieces", [1, 3])
def test_text_columns_are_stripped_like_python_str_strip(pieces):
    from csatkit.load import _as_text

    values = ["plain", "", " ", "  \t ", None, "é", "日本語", "👍 ok", "a b", "x" * 50]
    for w in _WHITESPACE:
        values += [w + "lead", "trail" + w, w + "both" + w, w, "in" + w + "side", w + "é", "日" + w]
    for z in _NOT_WHITESPACE:
        values += [z + "kept", "kept" + z, z]
    expected = _python_text(values)
    for source in (_arrow_text(values, pieces), pd.Series(values, dtype=object)):
        out = _as_text(source)
        assert out.dtype == STRING_DTYPE
        assert _listed(out) == expected
    # and one padded value among clean ones, at either end of the column, in each position of a value
    for w in ("\u00a0", "\u2003", "\t", "\n", " ", "\u3000", "\x1f"):
        for padded in (w + "v", "v" + w):
            for pos in (0, 2, 4):
                col = ["a", "bb", "ccc", "dd", "e"]
                col[pos] = padded
                assert _listed(_as_text(_arrow_text(col, 2))) == _python_text(col), (repr(w), padded, pos)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(
    list(_WHITESPACE + _NOT_WHITESPACE) + ["a", "Z", "0", "é", "ß", "中", "😀", "\u0301", "-"]), max_size=6)),
    max_size=30), pieces=st.integers(1, 3))
def test_stripping_random_strings_matches_str_strip_and_pandas(values, pieces):
    from csatkit.load import _as_text, _strip

    s = _arrow_text(values, pieces)
    # the plain pandas operations the loader used before its fast path
    plain = s.str.strip()
    plain = plain.mask(plain.eq(""))
    out = _as_text(s)
    pd.testing.assert_series_equal(out, plain)
    assert _listed(out) == _python_text(values)
    kept = _strip(s)
    assert _listed(kept) == _listed(s.str.strip())


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.just(""), st.text(alphabet=st.sampled_from(
    list(_WHITESPACE + _NOT_WHITESPACE) + ["a", "é", "中", "😀", "\u0301"]), max_size=4)), max_size=20),
    pieces=st.integers(1, 3))
def test_padding_check_is_never_wrong_to_say_none_and_says_so_for_clean_text(values, pieces):
    from csatkit.load import _may_have_padding

    padded = any(v is not None and v != v.strip() for v in values)
    if padded:  # the check reads the positions of empty and missing values too: never a False here
        assert _may_have_padding(_arrow_text(values, pieces))
    # an array of its own (not cut from a larger one): the answer is that of the first and the last byte of
    # each value with bytes (empty and missing values, whose positions are read too, change nothing)
    import pyarrow as pa

    from csatkit.load import _WS_FIRST_BYTE, _WS_LAST_BYTE

    for column in (values, [v if v is None else v.strip() for v in values]):
        whole = pd.Series(pd.array(pa.chunked_array([pa.array(column, type=pa.large_string())]), dtype=STRING_DTYPE))
        encoded = [v.encode() for v in column if v]
        expected = any(_WS_FIRST_BYTE[b[0]] or _WS_LAST_BYTE[b[-1]] for b in encoded)
        assert _may_have_padding(whole) == expected


def test_missing_values_holding_bytes_do_not_hide_or_invent_padding():
    """Arrow lets a missing value keep bytes; they are not text, and a padded value after them is still seen."""
    import pyarrow as pa

    from csatkit.load import _as_text

    data = pa.py_buffer(b" ab c ")
    offsets = pa.py_buffer(np.array([0, 2, 3, 6], dtype=np.int64).tobytes())  # " a" | "b" | " c "
    validity = pa.py_buffer(np.packbits([0, 1, 1], bitorder="little").tobytes())  # the first is missing
    arr = pa.Array.from_buffers(pa.large_string(), 3, [validity, offsets, data])
    s = pd.Series(pd.array(pa.chunked_array([arr]), dtype=STRING_DTYPE))
    assert _listed(_as_text(s)) == [None, "b", "c"]
    arr2 = pa.Array.from_buffers(pa.large_string(), 2, [validity, offsets, data])  # " a" (missing), "b"
    assert _listed(_as_text(pd.Series(pd.array(pa.chunked_array([arr2]), dtype=STRING_DTYPE)))) == [None, "b"]


def _reference_duplicates(keys: list[pd.Series], ok: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(ok)
    out = np.zeros(len(ok), dtype=bool)
    if len(idx):
        frame = pd.DataFrame({f"k{i}": pd.Series(k.to_numpy(dtype=object)[idx]) for i, k in enumerate(keys)})
        out[idx[frame.duplicated(keep="first").to_numpy()]] = True
    return out


@pytest.mark.parametrize("seed", range(6))
def test_duplicates_are_those_of_dataframe_duplicated(seed):
    from csatkit.load import _duplicates

    rng = np.random.default_rng(seed)
    for _ in range(60):
        n = int(rng.integers(0, 40))
        keys = []
        for _ in range(int(rng.integers(1, 4))):
            values = [None if rng.random() < 0.15 else f"v{rng.integers(1, 9)}" for _ in range(n)]
            style = rng.integers(4)
            if style == 1:  # sorted, without missing values: numbered by runs
                values = sorted(v if v is not None else "zz" for v in values)
            elif style == 2:  # sorted with missing values
                values = sorted(values, key=lambda v: (v is None, v or ""))
            elif style == 3:  # distinct values
                values = [f"u{rng.integers(10**9)}-{i}" for i in range(n)]
            keys.append(_arrow_text(values, int(rng.integers(1, 4))) if rng.random() < 0.8
                        else pd.Series(values, dtype=object))
        ok = rng.random(n) < 0.75 if rng.random() < 0.6 else np.ones(n, dtype=bool)
        np.testing.assert_array_equal(_duplicates(keys, ok), _reference_duplicates(keys, ok))


def test_duplicates_of_keys_without_repeats_and_of_prefactorized_codes():
    from csatkit.load import _duplicates

    n = 500
    unique = _arrow_text([f"id{i:05d}" for i in range(n)], 3)  # sorted and distinct
    shuffled = _arrow_text([f"id{i}" for i in np.random.default_rng(0).permutation(n)])
    repeats = _arrow_text([f"s{i % 3}" for i in range(n)])
    ok = np.ones(n, dtype=bool)
    for keys in ([unique], [shuffled], [unique, repeats], [repeats, shuffled]):
        assert not _duplicates(keys, ok).any()
        np.testing.assert_array_equal(_duplicates(keys, ok), _reference_duplicates(keys, ok))
    # one missing value does not repeat; two do
    one_na = _arrow_text(["a", None, "b", "c"])
    assert _duplicates([one_na], np.ones(4, dtype=bool)).tolist() == [False, False, False, False]
    two_na = _arrow_text([None, "a", None, "b"])
    assert _duplicates([two_na], np.ones(4, dtype=bool)).tolist() == [False, False, True, False]
    # codes factorized over all rows: as many distinct codes as rows left does not mean no repeats
    codes = np.array([0, 0, 1, 2])
    ok = np.array([True, True, True, False])
    assert _duplicates([(codes, 3)], ok).tolist() == [False, True, False, False]
    assert _duplicates([_arrow_text(["x", "x", "y", "y"]), (codes, 3)], ok).tolist() == [False, True, False, False]
    # rows already in key order (ids sorted, one row per scale in a fixed order), with and without repeats
    ids = _arrow_text(["a", "a", "a", "b", "b", "c"])
    scales = _arrow_text(["x", "x", "y", "x", "y", "x"])
    assert _duplicates([ids, scales], np.ones(6, dtype=bool)).tolist() == [False, True, False, False, False, False]
    scales = _arrow_text(["x", "y", "x", "x", "y", None])  # not in order within "a"
    assert _duplicates([ids, scales], np.ones(6, dtype=bool)).tolist() == [False, False, True, False, False, False]
    # codes not numbered in order of appearance are still right
    codes = np.array([2, 1, 2, 0, 1, -1, -1])
    expected = pd.Series(codes).duplicated(keep="first").tolist()
    assert _duplicates([(codes, 3)], np.ones(7, dtype=bool)).tolist() == expected


@pytest.mark.parametrize("ordered", [False, True])
def test_read_responses_excludes_the_rows_pandas_finds_duplicated(ordered):
    rng = np.random.default_rng(11)
    n = 3000
    rid = rng.choice([f"r{i:04d}" for i in range(900)] + [""], n)
    scale = rng.choice(["likert5", "nps", "", "Likert5"], n)
    frame = pd.DataFrame({"response_id": rid, "channel": rng.choice(["email", "Phone", "chat"], n),
                          "score": rng.integers(1, 6, n), "scale": scale})
    if ordered:  # sorted ids: the run-numbering path
        frame = frame.assign(response_id=np.where(frame["response_id"] == "", "r9999", frame["response_id"]))
        frame = frame.sort_values("response_id", kind="stable", ignore_index=True)
    data, ledger = read_responses(frame, scale="likert5")
    # by hand: blank id first, then repeats of (id, scale as registered; blank -> scale=) among the rest
    effective = frame["scale"].replace({"": "likert5", "Likert5": "likert5"})
    missing = frame["response_id"] == ""
    dup = pd.Series(False, index=frame.index)
    dup[~missing] = frame.loc[~missing].assign(scale=effective).duplicated(["response_id", "scale"], keep="first")
    kept = ~missing & ~dup
    assert ledger.excluded.get("missing_id", 0) == int(missing.sum())
    assert ledger.excluded["duplicate_response_id"] == int(dup.sum())
    assert ledger.examples["duplicate_response_id"] == (np.flatnonzero(dup) + 1)[:5].tolist()
    assert data["response_id"].tolist() == frame.loc[kept, "response_id"].tolist()
    assert data["scale"].tolist() == effective[kept].tolist()
    assert data["scale"].dtype == STRING_DTYPE and data["channel"].dtype == STRING_DTYPE
    assert data["channel"].tolist() == frame.loc[kept, "channel"].str.lower().tolist()
    assert not data.duplicated(["response_id", "scale"]).any()


def test_read_contacts_and_qa_exclude_the_ids_pandas_finds_duplicated():
    rng = np.random.default_rng(5)
    n = 2000
    ids = pd.Series(rng.choice([f"t{i}" for i in range(700)], n))
    ids[rng.random(n) < 0.05] = None
    contacts, ledger = read_contacts(pd.DataFrame({"interaction_id": ids, "channel": "chat"}))
    missing = ids.isna()
    dup = ids.duplicated(keep="first") & ~missing
    assert ledger.excluded == {"missing_id": int(missing.sum()), "duplicate_id": int(dup.sum())}
    assert contacts["interaction_id"].tolist() == ids[~missing & ~dup].tolist()
    qa, qledger = read_qa(pd.DataFrame({"evaluation_id": ids.fillna("e-missing").sort_values(ignore_index=True),
                                        "interaction_id": "T1", "qa_score": 80}))
    eids = ids.fillna("e-missing").sort_values(ignore_index=True)
    assert qledger.excluded == {"duplicate_id": int(eids.duplicated().sum())}
    assert qa["evaluation_id"].tolist() == eids.drop_duplicates().tolist()


def test_scale_and_channel_columns_already_canonical_or_not_give_the_same_text():
    raw = pd.DataFrame({"response_id": ["a", "b", "c", "d"], "channel": ["email", "chat", "email", None],
                        "score": [5, 9, 4, 3], "scale": ["likert5", "nps", "likert5", "likert5"]})
    data, ledger = read_responses(raw, channel="phone")
    assert data["scale"].tolist() == ["likert5", "nps", "likert5", "likert5"]
    assert data["channel"].tolist() == ["email", "chat", "email", "phone"]
    spelled = raw.assign(scale=["Likert5", " NPS ", "likert5", None], channel=["E-mail", "chat", "email", None])
    data2, _ = read_responses(spelled, scale="likert5", channel="phone")
    pd.testing.assert_frame_equal(data2, data)
    blank = raw.assign(scale=["likert5", "nps", "likert5", None])  # canonical names, one blank filled by scale=
    data3, _ = read_responses(blank, scale="likert5", channel="phone")
    pd.testing.assert_frame_equal(data3, data)
    unfilled, ledger4 = read_responses(blank, channel="phone")  # no scale=: the blank row is excluded
    assert ledger4.excluded == {"unknown_scale": 1} and unfilled["scale"].tolist() == ["likert5", "nps", "likert5"]
    for col in ("scale", "channel"):
        assert data[col].dtype == STRING_DTYPE
    # normalise_channel keeps the index and name, and returns STRING_DTYPE whatever the string storage
    s = pd.Series(["email", None, "sms"], index=[7, 8, 9], name="via", dtype=pd.StringDtype("python"))
    for source in (s, s.astype(STRING_DTYPE), s.astype(object)):
        out = normalise_channel(source)
        assert out.dtype == STRING_DTYPE and out.name == "via" and out.index.tolist() == [7, 8, 9]
        assert _listed(out) == ["email", None, "sms"]


# ------------------------------------------------------------------------------------------------
# the pyarrow CSV reader: the same frame as pandas' reader, or none at all


_CSV_CASES = {
    "plain": "id,channel,score\n1,chat,5\n2,email,4\n",
    "crlf": "id,channel,score\r\n1,chat,5\r\n2,email,4\r\n",
    "cr_only": "id,channel,score\r1,chat,5\r2,email,4\r",
    "bom": "\ufeffid,channel,score\n1,chat,5\n",
    "no_final_newline": "id,channel,score\n1,chat,5\n2,email,4",
    "quoted": 'id,comment,score\n1,"late, again",5\n2,"she said ""no""",4\n3,"",3\n',
    "padded": "id,channel,score\n 1 , chat ,5 \n2,\temail\t,4\n",
    "missing_words": "id,channel,score\n1,NA,null\n2,nan,N/A\n3,,\n",
    "separator_only": "id,channel,score\n1,chat,5\n,,\n2,email,4\n",
    "semicolon": "id;channel;score\n1;chat;5,0\n2;email;4\n",
    "quote_inside": 'id,channel,score\n1,a"b,5\n2,email,4\n',
    "text_after_quote": 'id,channel,score\n1,"ab"c,5\n2,email,4\n',
    "unicode": "id,comment,score\n1,très bien — ☺,5\n2,日本語,4\n",
    "line_break_in_value": 'id,comment,score\n1,"two\nlines",5\n2,ok,4\n',
    "blank_line": "id,channel,score\n1,chat,5\n\n2,email,4\n",
    "trailing_blank_lines": "id,channel,score\n1,chat,5\n\n\n",
    "cr_in_value": 'id,comment,score\n1,"a\rb",5\n2,ok,4\n',
    "short_row": "id,channel,score\n1,chat\n2,email,4\n",
    "long_row": "id,channel,score\n1,chat,5,9\n2,email,4\n",
    "open_quote_last_line": 'id,channel,score\n1,chat,5\n2,email,"4',
    "open_quote_last_line_newline": 'id,channel,score\n1,chat,5\n2,email,"4\n',
    "open_quote_middle": 'id,channel,score\n1,chat,5\n2,email,"4\n3,chat,2\n',
    "duplicate_header": "id,score,score\n1,5,4\n",
    "empty_header_name": "id,,score\n1,x,4\n",
}


@pytest.mark.parametrize("name", sorted(_CSV_CASES))
def test_arrow_csv_reader_gives_pandas_frame_or_declines(tmp_path, name):
    text = _CSV_CASES[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(text.encode("utf-8"))
    sep = ";" if name == "semicolon" else ","
    enc = "utf-8-sig" if text.startswith("\ufeff") else "utf-8"
    lines = text.lstrip("\ufeff").splitlines()
    got = load._read_csv_arrow(path, enc, sep, lines, 0)
    must_decline = {"line_break_in_value", "short_row", "long_row", "open_quote_last_line",
                    "open_quote_last_line_newline", "open_quote_middle", "duplicate_header", "empty_header_name"}
    if name in must_decline:
        assert got is None  # left to pandas' reader and its error handling
        return
    assert got is not None
    ref = pd.read_csv(path, sep=sep, encoding=enc, dtype=str, keep_default_na=False, na_values=[""],
                      skip_blank_lines=False, index_col=False)
    pd.testing.assert_frame_equal(got, ref)


@pytest.mark.parametrize("block_size", [None, 4096])
def test_arrow_csv_reader_matches_pandas_on_a_large_messy_export(tmp_path, block_size):
    rng = np.random.default_rng(3)
    words = ["ok", "late, again", 'said "no"', "", "  padded ", "très bien", "NA", "null", "0", "-0.0", "5,0"]
    n = 20_000
    df = pd.DataFrame({
        "response_id": [f"r{i}" for i in rng.permutation(n)],
        "comment": rng.choice(words, n),
        "score": rng.choice(["1", "2", "3", "4", "5", "", "n/a"], n),
    })
    path = tmp_path / "export.csv"
    df.to_csv(path, index=False)
    lines = path.read_text(encoding="utf-8").splitlines()[:50]
    got = load._read_csv_arrow(path, "utf-8", ",", lines, 0, block_size=block_size)
    ref = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=False, index_col=False)
    pd.testing.assert_frame_equal(got, ref)
    # the loader reads the file through it, keeping every row
    out, ledger = read_responses(path, scale="likert5", channel="email")
    assert ledger.rows_read == n


@pytest.mark.parametrize("block_size", [None, 64, 97, 256])
def test_arrow_csv_reader_declines_line_breaks_in_values_at_any_block_boundary(tmp_path, block_size):
    rows = [f'{i},"comment {i}\nsecond line, {i}",{i % 5 + 1}' if i % 7 == 3 else f"{i},plain {i},{i % 5 + 1}"
            for i in range(200)]
    path = tmp_path / "multiline.csv"
    path.write_bytes(("id,comment,score\n" + "\n".join(rows) + "\n").encode("utf-8"))
    lines = path.read_text(encoding="utf-8").splitlines()
    got = load._read_csv_arrow(path, "utf-8", ",", lines, 0, block_size=block_size)
    ref = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=False, index_col=False)
    assert len(ref) == 200
    if got is not None:  # whatever pyarrow makes of it must be pandas' frame
        pd.testing.assert_frame_equal(got, ref)
    # and the loader keeps every record, line breaks included
    data, ledger = read_responses(path, scale="likert5", channel="email")
    assert ledger.rows_read == 200 and data["comment"].str.contains("\n").sum() == len(range(3, 200, 7))


@pytest.mark.parametrize("drop", [False, True])
def test_loaded_columns_share_no_memory_with_the_callers_frame(drop):
    # every row kept (the loader's own arrays are used as they are) or one row excluded (copies of the kept rows)
    frame = pd.DataFrame({
        "response_id": ["r1", "r2", "r3"], "score": [5.0, 4.0, 2.0 if not drop else 9.0], "channel": "email",
        "interaction_at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]).astype("datetime64[ns]"),
        "weight": [1.0, 2.0, 0.5],
    })
    data, ledger = read_responses(frame, scale="likert5")
    assert len(data) == (2 if drop else 3)
    for col in ("score", "interaction_at", "weight"):
        assert not np.shares_memory(data[col].to_numpy(), frame[col].to_numpy()), col
    assert data["interaction_at"].tolist() == frame["interaction_at"].tolist()[:len(data)]
    assert data["weight"].tolist() == frame["weight"].tolist()[:len(data)]
