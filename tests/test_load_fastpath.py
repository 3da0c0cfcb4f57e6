"""The loader's fast paths give exactly what the usual paths give.

These shortcuts of :mod:`csatkit.load` are checked against the code they stand in for:

* a CSV file without byte-order mark is first offered to pyarrow's reader as UTF-8, and decoded in
  full (to choose between UTF-8, Windows-1252 and Latin-1) only when the reader declines it;
* the line count that guards pyarrow's reader counts with numpy;
* text timestamps in ISO 8601 are read by pyarrow's cast, and give no evidence of the date order;
* the text of a file pyarrow's reader read is not searched for empty strings unless stripping made some;
* a weight column holding one text throughout is read once, without factorizing it.

The reference for all but the line count is the loader with them switched off (:func:`usual_paths`),
which then runs the code as it was before they existed; frames, ledgers (counts, examples, notes)
and errors must match. The line count is compared with counting bytes, as it was done before.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csatkit import load
from csatkit.load import read_contacts, read_responses
from csatkit.schema import STRING_DTYPE, Ledger

_as_text = load._as_text


@contextlib.contextmanager
def usual_paths():
    """The loader without its shortcuts: the encoding decoded in full first, timestamps parsed by pandas/dateutil,
    every text searched for empty strings, every weight column factorized."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(load, "_read_csv_utf8_first", lambda path, sep: (None, None))
        mp.setattr(load, "_iso_timestamps", lambda text: None)
        mp.setattr(load, "_as_text", lambda s, blank_free=False: _as_text(s))
        mp.setattr(load, "_only_value", lambda t: None)
        yield


def outcome(fn):
    """What a load gives: ("ok", frame, ledger) or ("error", exception type, message)."""
    try:
        got = fn()
    except Exception as exc:  # noqa: BLE001 - the error itself is the outcome compared
        return ("error", type(exc), str(exc))
    if isinstance(got, load._Raw):
        return ("ok", got.frame, got.ledger)
    data, ledger = got
    return ("ok", data, ledger)


def assert_same_outcome(fn):
    """``fn()`` gives the same frame and ledger (or the same error) with and without the shortcuts."""
    fast = outcome(fn)
    with usual_paths():
        slow = outcome(fn)
    assert fast[0] == slow[0], (fast, slow)
    if fast[0] == "error":
        assert fast[1:] == slow[1:]
        return fast
    pd.testing.assert_frame_equal(fast[1], slow[1], check_exact=True)
    assert fast[2] == slow[2]  # every field of the ledger: counts, examples, recodes, notes
    return fast


@contextlib.contextmanager
def spy(name):
    """Record the results of ``load.<name>`` while the block runs."""
    results = []
    original = getattr(load, name)

    def wrapper(*args, **kwargs):
        out = original(*args, **kwargs)
        results.append(out)
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(load, name, wrapper)
        yield results


# ------------------------------------------------------------------------------------------------
# Encoding: pyarrow's reader first, the full decode only when it declines
# ------------------------------------------------------------------------------------------------

_HEADERS = [  # (header line, delimiter, line end)
    (b"id,score,channel", b",", b"\n"), (b"id;score;channel", b";", b"\r\n"), (b"id,note,channel", b",", b"\r"),
    (b"id,caf\xc3\xa9,channel", b",", b"\n"), (b"id,caf\xe9,channel", b",", b"\n"), (b"id\tscore\tchannel", b"\t", b"\n"),
    (b'"id","sc""ore",channel', b",", b"\n"), (b"\n\nid,score,channel", b",", b"\n"),
]
_TOKENS = [b"a", b"1", b"5", b"email", b" ", "é".encode(), "日本".encode(), "☺".encode(), b'"quoted"', b'"q""x, y"',
           b"\xe9", b"\x81", b"\x9d", b"\xc3", b"\xed\xa0\x80", b"\xc0\x80", b"\xf0\x9f\x98", b"\xff", b'"\xe9"',
           b'"a\nb"', b'"open', b"\x00", b"\r", b",", b";"]
_FIELD = st.lists(st.sampled_from(_TOKENS), max_size=3).map(b"".join)
_ROW = st.one_of(st.lists(_FIELD, min_size=3, max_size=3), st.lists(_FIELD, min_size=1, max_size=4))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.sampled_from(_HEADERS), pad=st.sampled_from([0, 0, 7000]), rows=st.lists(_ROW, max_size=6),
       final_end=st.booleans(), suffix=st.sampled_from([".csv", ".tsv"]), sep=st.sampled_from([None, None, ",", ";"]))
def test_any_file_reads_the_same_with_and_without_trying_pyarrow_first(tmp_path_factory, header, pad, rows,
                                                                        final_end, suffix, sep):
    line, delim, end = header
    # ``pad`` plain rows push what follows beyond the sample the loader decodes (64 Ki characters)
    body = [delim.join([b"%d" % i, b"5", b"email"]) for i in range(pad)] + [delim.join(r) for r in rows]
    data = end.join([line, *body]) + (end if final_end else b"")
    path = tmp_path_factory.mktemp("enc") / f"file{suffix}"
    path.write_bytes(data)
    assert_same_outcome(lambda: load._read_source(path, sep=sep, encoding=None, sheet=None))
    # the claim the shortcut rests on: a file pyarrow's reader takes is valid UTF-8 throughout
    df, _ = load._read_csv_utf8_first(path, sep)
    if df is not None:
        data.decode("utf-8")


def _rows(n: int, comment) -> list[str]:
    return [f"r{i},{i % 5 + 1},email,{comment(i)}" for i in range(n)]


@pytest.mark.parametrize("where", ["first", "middle", "last", "last_no_newline", "quoted", "header"])
@pytest.mark.parametrize("byte", [b"\xe9", b"\x81", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])
def test_one_invalid_byte_anywhere_makes_the_file_cp1252_or_latin1_as_before(tmp_path, where, byte):
    rows = [r.encode() for r in _rows(3000, lambda i: f"très bien {i}")]
    header = b"response_id,score,channel,comment"
    k = {"first": 0, "middle": 1500, "last": 2999, "last_no_newline": 2999, "quoted": 1200}.get(where)
    if where == "header":
        header += byte
    elif where == "quoted":
        rows[k] = rows[k] + b',"x' + byte + b'"'
        header += b",extra"
        rows = [r if i == k else r + b"," for i, r in enumerate(rows)]
    else:
        rows[k] = rows[k] + byte
    data = header + b"\n" + b"\n".join(rows) + (b"" if where == "last_no_newline" else b"\n")
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    kind, frame, ledger = assert_same_outcome(lambda: read_responses(path))
    assert kind == "ok" and ledger.rows_read == 3000
    if where != "header":  # pyarrow's reader itself declines the file (not only the error handling around it)
        lines = data.decode("utf-8", errors="replace").splitlines()[:50]
        assert load._read_csv_arrow(path, "utf-8", ",", lines, 0) is None
    else:  # the header is not UTF-8: pyarrow reads it, but its names cannot be decoded
        with pytest.raises(UnicodeDecodeError):
            load._read_csv_arrow(path, "utf-8", ",", [header.decode("cp1252")], 0)
    try:
        byte.decode("cp1252")
        assert "encoding cp1252 (not valid UTF-8: read as Windows-1252" in ledger.notes[0]
    except UnicodeDecodeError:  # \x81 and \x90 are undefined in Windows-1252
        assert "encoding latin-1 (neither UTF-8 nor Windows-1252" in ledger.notes[0]


@pytest.mark.parametrize("text", [
    "id,score,channel\n1,5,email\n2,4,chat\n",
    "id,score,channel,comment\n1,5,email,très bien ☺\n2,4,chat,日本語\n",
    "caf\u00e9,score,channel\n1,5,email\n",
    "id,score,channel\n1,5,email\n\n\n",
    'id,score,channel,comment\n1,5,email,"two\nlines"\n2,4,chat,é\n',  # declined: a line break in a value
    "id,score,channel\n1,5,email,extra\n2,4,chat\n",  # declined: a line too wide
    'id,score,channel\n1,5,"email\n',  # declined: a quote left open
])
def test_utf8_files_read_the_same_and_pyarrow_reads_each_at_most_once(tmp_path, text):
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode("utf-8"))
    read = lambda: load._read_source(path, sep=None, encoding=None, sheet=None)  # noqa: E731
    with spy("_read_csv_arrow") as calls, spy("_detect_encoding") as detected:
        outcome(read)
    # one attempt of pyarrow's reader: when it declines, the usual path does not make the same call again
    assert len(calls) == 1
    # and the full decode runs only when it declined
    assert len(detected) == (0 if calls[0] is not None else 1)
    assert_same_outcome(read)


def test_given_encodings_and_byte_order_marks_are_not_offered_to_the_shortcut(tmp_path):
    cases = {
        "bom.csv": "\ufeffid,score,channel\n1,5,email\n".encode("utf-8"),
        "utf16.csv": "id;score;channel\n1;5;email\n".encode("utf-16"),
        "nul.csv": "id,score,channel\n1,5,email\n".encode("utf-16-le"),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with spy("_read_csv_utf8_first") as tried:
            assert_same_outcome(lambda: load._read_source(path, sep=None, encoding=None, sheet=None))
        assert tried == []
    path = tmp_path / "given.csv"
    path.write_bytes(b"id,score,channel\n1,5,email\n")
    with spy("_read_csv_utf8_first") as tried:
        assert_same_outcome(lambda: load._read_source(path, sep=None, encoding="utf-8", sheet=None))
    assert tried == []


# ------------------------------------------------------------------------------------------------
# Line count
# ------------------------------------------------------------------------------------------------


def _line_count_reference(data: bytes) -> int:
    """The line count as ``bytes.count`` gives it (the implementation the numpy one replaced)."""
    lf, cr = data.count(b"\n"), data.count(b"\r")
    last = data[-1:]
    end, count = (b"\n", lf) if lf else (b"\r", cr)
    return count + (0 if not last or last == end else 1)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.lists(st.sampled_from([b"a", b"\n", b"\r", b"\r\n", b"\n\r", b",", b"\x00", b"\xff"]), max_size=40),
       chunk_size=st.sampled_from([1, 2, 3, 5, 8, 1 << 22]))
def test_line_count_matches_counting_bytes(tmp_path_factory, data, chunk_size):
    raw = b"".join(data)
    path = tmp_path_factory.mktemp("lines") / "f.csv"
    path.write_bytes(raw)
    assert load._line_count(path, chunk_size=chunk_size) == _line_count_reference(raw)


# ------------------------------------------------------------------------------------------------
# Timestamps: ISO 8601 text read by pyarrow
# ------------------------------------------------------------------------------------------------

_NON_ISO = ["03/04/2026", "13/04/2026", "04/13/2026", "1/8/2023", "31.12.2023 10:00", "1 Jan 2024", "Jan 5, 2024 3pm",
            "2024/01/02", "20240102", "garbage", "2024-01-02Z", "2024-01-02 10:00:00Z", "2024-01-02T10:00:00+01:00",
            "2024-01-02 10:00:00 +0100", "2024-1-2", "2024-01-02 1:00", "2024-01-02 10:00:00.1234567891",
            "2024-01-02t10:00", "2024-01-02  10:00"]
_EDGES = ["1677-09-21 12:00:00", "1677-09-22", "1677-09-22 00:00:00", "1677-09-22 00:00:00.000000001",
          "2262-04-11", "2262-04-11 00:00:00", "2262-04-11 00:00:00.000000001", "2262-04-11 00:00:01",
          "2262-04-11 23:00:00", "1500-01-01", "2300-06-01 10:00", "0001-01-01", "9999-12-31 23:59:59",
          "2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29 23:59:59", "2100-02-29", "2026-02-30",
          "2024-13-01", "2024-00-10", "2024-04-31", "2024-01-02 24:00:00", "2024-01-02 23:59:60",
          "2024-01-02 23:60", "2024-01-02 10", "2024-01-02T10", "2024-01-02 10:00:00.", "2024-01-02 10:00:00,5"]
_MISSING = [None, "", "   ", np.nan]


@st.composite
def iso_text(draw, lo=dt.date(1678, 1, 1), hi=dt.date(2261, 12, 31)):
    """A valid ISO 8601 value without offset, in one of the forms pyarrow reads."""
    day = draw(st.one_of(st.dates(min_value=lo, max_value=hi),
                         st.sampled_from([dt.date(y, 2, 29) for y in (1704, 1904, 2000, 2024, 2096)])))
    text = day.isoformat()
    form = draw(st.sampled_from(["date", "hh", "hh:mm", "hh:mm:ss", "fraction"]))
    if form == "date":
        return text
    t = draw(st.times())
    text += draw(st.sampled_from([" ", "T"])) + f"{t.hour:02d}"
    if form == "hh":
        return text
    text += f":{t.minute:02d}"
    if form == "hh:mm":
        return text
    text += f":{t.second:02d}"
    if form == "fraction":
        text += "." + draw(st.text(alphabet="0123456789", min_size=1, max_size=9))
    return text


_CELL = st.one_of(iso_text(), iso_text(), iso_text(), st.sampled_from(_MISSING))
_ISO_COLUMN = st.lists(_CELL, min_size=1, max_size=30)
_ANY_COLUMN = st.lists(st.one_of(iso_text(), iso_text(), st.sampled_from(_MISSING), st.sampled_from(_EDGES),
                                 st.sampled_from(_NON_ISO)), min_size=1, max_size=30)
# datetime objects among text (a frame built in Python, an Excel sheet): their rows are read apart from the text
_OBJECT_COLUMN = st.lists(st.one_of(iso_text(), st.sampled_from(_MISSING),
                                    st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2250, 1, 1)),
                                    st.dates(min_value=dt.date(1700, 1, 1), max_value=dt.date(2250, 1, 1)),
                                    st.just(pd.Timestamp("2024-01-04 10:00", tz="Europe/Paris"))),
                          min_size=1, max_size=30)


def _responses_frame(a: list, b: list) -> pd.DataFrame:
    n = max(len(a), len(b))
    pad = lambda col: list(col) + [None] * (n - len(col))  # noqa: E731
    return pd.DataFrame({
        "response_id": [f"r{i}" for i in range(n)], "score": [i % 5 + 1 for i in range(n)], "channel": "email",
        "interaction_at": pd.Series(pad(a), dtype=object), "responded_at": pd.Series(pad(b), dtype=object),
    })


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=st.one_of(_ISO_COLUMN, _ANY_COLUMN, _OBJECT_COLUMN), b=st.one_of(_ISO_COLUMN, _ANY_COLUMN),
       dayfirst=st.sampled_from([None, None, False, True]))
def test_timestamps_read_the_same_with_and_without_pyarrow(a, b, dayfirst):
    frame = _responses_frame(a, b)
    assert_same_outcome(lambda: read_responses(frame, dayfirst=dayfirst))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=_ISO_COLUMN)
def test_iso_columns_take_the_shortcut_and_give_the_usual_values(values):
    raw = pd.Series(values, dtype=object)
    text = load._as_text(raw)
    if text.isna().all():
        assert load._iso_timestamps(text) is None
        return
    fast = load._iso_timestamps(text)
    assert fast is not None and fast.dtype == np.dtype("datetime64[ns]")
    ledger = Ledger()
    slow, bad = load._parse_timestamps(raw, text, False, "interaction_at", ledger)
    np.testing.assert_array_equal(fast, slow)
    assert not bad.any() and ledger.notes == []
    # and the date-order evidence the shortcut skips is none at all
    assert load._date_evidence(text) == (False, False, 0)


@pytest.mark.parametrize("value", _EDGES + _NON_ISO)
def test_edge_and_foreign_values_read_the_same_and_decline_the_shortcut_unless_plain_iso(value):
    column = ["2024-01-02 10:00:00", value, None, "2023-12-31"]
    frame = _responses_frame(column, ["2024-01-03"] * 4)
    for dayfirst in (None, False, True):
        assert_same_outcome(lambda: read_responses(frame, dayfirst=dayfirst))
    fast = load._iso_timestamps(load._as_text(pd.Series(column, dtype=object)))
    in_range = value in {"1677-09-22", "1677-09-22 00:00:00", "1677-09-22 00:00:00.000000001", "2262-04-11",
                         "2262-04-11 00:00:00", "2024-02-29", "2000-02-29 23:59:59", "2024-01-02 10", "2024-01-02T10"}
    assert (fast is not None) == in_range


def test_iso_and_day_first_columns_together_keep_the_date_order_note():
    # the d/m/y column reads day first: the ISO column is left to the usual reading, and the note names both
    frame = _responses_frame(["2024-01-02 10:00", "2024-02-03"], ["13/01/2024", "14/01/2024"])
    with spy("_iso_timestamps") as casts:
        kind, data, ledger = assert_same_outcome(lambda: read_responses(frame))
    assert casts[0] is not None  # cast, but not used: read day first
    assert any("dates in interaction_at, responded_at read day first" in n for n in ledger.notes)
    # ambiguous d/m/y: month first, the ISO column read by the shortcut, the note still names both columns
    frame = _responses_frame(["2024-01-02 10:00", "2024-02-03"], ["01/02/2024", "03/02/2024"])
    for dayfirst in (None, False, True):
        kind, data, ledger = assert_same_outcome(lambda: read_responses(frame, dayfirst=dayfirst))
        if dayfirst is None:
            assert any("date order in interaction_at, responded_at is ambiguous" in n for n in ledger.notes)


def test_contacts_and_csv_files_with_iso_timestamps_read_the_same(tmp_path):
    rng = np.random.default_rng(7)
    n = 5000
    base = np.datetime64("2024-01-01T00:00:00") + rng.integers(0, 30_000_000, n).astype("timedelta64[s]")
    opened = pd.Series(base).dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
    later = pd.Series(base + rng.integers(0, 100_000, n).astype("timedelta64[s]"))
    resolved = later.dt.strftime("%Y-%m-%dT%H:%M").to_numpy(dtype=object)
    resolved[rng.random(n) < 0.3] = ""
    frame = pd.DataFrame({"Ticket ID": [f"T{i}" for i in range(n)], "Via": rng.choice(["Phone", "E-mail", "chat"], n),
                          "Created at": opened, "Solved at": resolved, "First reply at": pd.Series(base).dt.date.astype(str)})
    path = tmp_path / "contacts.csv"
    frame.to_csv(path, index=False)
    with spy("_iso_timestamps") as casts:
        kind, data, ledger = assert_same_outcome(lambda: read_contacts(path))
    assert kind == "ok" and len(casts) == 3 and all(c is not None for c in casts)
    responses = frame.rename(columns={"Created at": "interaction_at", "Solved at": "responded_at"}).assign(
        score=rng.integers(1, 6, n).astype(str), comment="très bien ☺")
    path = tmp_path / "responses.csv"
    responses.to_csv(path, index=False)
    with spy("_iso_timestamps") as casts:
        kind, data, ledger = assert_same_outcome(lambda: read_responses(path))
    assert kind == "ok" and ledger.rows_read == n and all(c is not None for c in casts)
    assert ledger.notes[0].startswith("read as delimited text: encoding utf-8 (valid UTF-8), delimiter ','")


@pytest.mark.parametrize("byte", [b"\xe9", "é".encode()])
def test_a_header_longer_than_the_sample_is_checked_too(tmp_path, byte):
    # the header line alone exceeds the 64 Ki characters the loader decodes before reading
    header = b"id,score,channel,long" + b"x" * 70_000 + byte
    row = b"1,5,email,"
    path = tmp_path / "wide.csv"
    path.write_bytes(header + b"\n" + row + b"\n")
    kind, data, ledger = assert_same_outcome(lambda: read_responses(path))
    expected = "utf-8 (valid UTF-8)" if byte != b"\xe9" else "cp1252 (not valid UTF-8"
    assert kind == "ok" and expected in ledger.notes[0]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=st.one_of(_ISO_COLUMN, _ANY_COLUMN), b=st.one_of(_ISO_COLUMN, _ANY_COLUMN),
       dayfirst=st.sampled_from([None, None, False, True]))
def test_text_dtype_timestamps_read_the_same_with_and_without_pyarrow(a, b, dayfirst):
    # text columns (as a CSV file gives them), where the cast's values are returned as they are
    frame = _responses_frame(a, b).astype({"interaction_at": STRING_DTYPE, "responded_at": STRING_DTYPE})
    assert_same_outcome(lambda: read_responses(frame, dayfirst=dayfirst))


# ------------------------------------------------------------------------------------------------
# Text and weights of a file read by pyarrow
# ------------------------------------------------------------------------------------------------

# fields that are empty, quoted empty, blank, padded (ASCII and other whitespace), or plain
_TEXT_TOKENS = ["", '""', " ", "  ", "\t", "\u3000", "\u00a0", "\u2003", "x", "email", "Chat", "é", "日本", "a b",
                '" x "', '"\u3000"', "1.0", "1", "1,5", "-1", "abc", "nan", "NA"]
_TEXT_FIELD = st.lists(st.sampled_from(_TEXT_TOKENS), max_size=3).map(
    lambda parts: parts[0] if len(parts) == 1 and parts[0].startswith('"') else "".join(p.strip('"') for p in parts))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(_TEXT_FIELD, _TEXT_FIELD, _TEXT_FIELD, _TEXT_FIELD), min_size=1, max_size=8),
       weight=st.one_of(st.none(), st.sampled_from(_TEXT_TOKENS)))
def test_csv_text_and_weights_read_the_same_with_and_without_the_shortcuts(tmp_path_factory, rows, weight):
    # ``weight``: one text in every row (the weight shortcut), or None for a weight per row
    lines = ["response_id,score,channel,agent_id,weight"]
    for i, (rid, channel, agent, w) in enumerate(rows):
        fields = [rid, "5" if i % 3 else "", channel, agent, w if weight is None else weight]
        lines.append(",".join(f'"{f}"' if "," in f else f for f in fields))
    path = tmp_path_factory.mktemp("text") / "responses.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with spy("_read_csv_arrow") as arrow:
        assert_same_outcome(lambda: read_responses(path, scale="likert5", channel="email"))
    assert arrow and arrow[0] is not None  # pyarrow's reader took the file: the text shortcut applied


@pytest.mark.parametrize("value", ["1", "1.0", " 2 ", "\u30002", "1,5", "0", "-1", "abc", "nan", "inf", "1e3", ""])
@pytest.mark.parametrize("dtype", [STRING_DTYPE, object])
@pytest.mark.parametrize("blank", [None, 0, 2])
def test_a_weight_column_of_one_value_reads_the_same_as_factorized(value, dtype, blank):
    weights = pd.Series([value] * 4, dtype=dtype)
    if blank is not None:  # one row without a weight: not one value throughout
        weights[blank] = None
    frame = pd.DataFrame({"response_id": ["r1", "r2", "r3", "r4"], "score": [5, 4, 3, 2], "channel": "email",
                          "weight": weights})
    kind, data, ledger = assert_same_outcome(lambda: read_responses(frame, scale="likert5"))
    with spy("_only_value") as only:
        read_responses(frame, scale="likert5")
    assert (only[0] is not None) == (blank is None and value.strip() != "")  # a blank text is missing


def test_only_value_of_text_columns():
    assert load._only_value(pd.Series(["a", "a", "a"], dtype=STRING_DTYPE)) == "a"
    assert load._only_value(pd.Series(["a", "a", "b"], dtype=STRING_DTYPE)) is None
    assert load._only_value(pd.Series(["a", None, "a"], dtype=STRING_DTYPE)) is None
    assert load._only_value(pd.Series([], dtype=STRING_DTYPE)) is None
    assert load._only_value(pd.Series(["a", "a"], dtype=object)) is None  # only pyarrow-backed text is looked at
    chunked = pd.Series(pd.array(pa.chunked_array([["a", "a"], ["a"], []], type=pa.large_string()), dtype=STRING_DTYPE))
    assert load._only_value(chunked) == "a"
    chunked = pd.Series(pd.array(pa.chunked_array([["a", "a"], ["a "]], type=pa.large_string()), dtype=STRING_DTYPE))
    assert load._only_value(chunked) is None
