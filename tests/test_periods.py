"""Tests for csatkit.periods.

Expected labels and dates are worked by hand from the convention stated in the module: a fiscal
year is named by the calendar year in which it ends. That is the naming of the US federal budget
(FY2026 began on 1 October 2025) and of Australia's (FY2027 = July 2026 .. June 2027), which gives
an outside check for ``fy_start=10`` and ``fy_start=7``; for ``fy_start=4`` (UK) the year
April 2026 .. March 2027 is FY2027 under the same rule. The vectorised bucketing is checked
against a slow per-row reference written here from that rule alone, without csatkit.
"""

from __future__ import annotations

import doctest
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import csatkit.periods as periods_module
from csatkit.exceptions import InputError, MissingColumnError, ParameterError
from csatkit.periods import (
    FREQS,
    Period,
    add_period,
    assign_periods,
    filter_period,
    last_n,
    parse_period,
    period_range,
    periods_between,
)

FORMS = re.escape(
    "expected a month like '2026-09', a quarter like '2026Q3' or 'FY2027Q1', or a year like '2026'."
)


# --------------------------------------------------------------------------------------------
# slow reference, written from the naming rule without csatkit


def reference_label(ts, freq: str, fy_start: int):
    """Label of one timestamp, the slow way."""
    if pd.isna(ts):
        return None
    y, m = ts.year, ts.month
    if freq == "month":
        return f"{y:04d}-{m:02d}"
    # fiscal year named by the calendar year it ends in: months from fy_start onwards belong to the
    # fiscal year ending next calendar year (when fy_start is January, the fiscal year is the calendar year)
    fiscal_year = y + 1 if (fy_start > 1 and m >= fy_start) else y
    months_into_year = (m - fy_start) % 12  # 0 for the first month of the fiscal year
    prefix = "FY" if fy_start != 1 else ""
    if freq == "quarter":
        return f"{prefix}{fiscal_year:04d}Q{months_into_year // 3 + 1}"
    return f"{prefix}{fiscal_year:04d}"


def random_timestamps(seed: int, n: int = 2000) -> pd.Series:
    rng = np.random.default_rng(seed)
    lo = pd.Timestamp("1995-01-01").value
    hi = pd.Timestamp("2035-12-31 23:59:59").value
    values = pd.to_datetime(rng.integers(lo, hi, n))
    s = pd.Series(values, index=rng.permutation(n) + 100)
    # the instants right at and just before month starts, where off-by-one errors live
    edges = pd.date_range("2024-01-01", "2027-12-01", freq="MS")
    s.iloc[: len(edges)] = edges
    s.iloc[len(edges) : 2 * len(edges)] = edges - pd.Timedelta(1, "ns")
    s.iloc[2 * len(edges) :: 97] = pd.NaT
    return s


# --------------------------------------------------------------------------------------------
# hand-worked fiscal examples


@pytest.mark.parametrize(
    "ts, freq, fy_start, label",
    [
        # calendar
        ("2026-09-15", "month", 1, "2026-09"),
        ("2026-09-15", "quarter", 1, "2026Q3"),
        ("2026-09-15", "year", 1, "2026"),
        ("2026-01-01 00:00", "quarter", 1, "2026Q1"),
        ("2025-12-31 23:59:59.999999", "quarter", 1, "2025Q4"),
        # Australian-style year from July: FY2027 = 2026-07-01 .. 2027-06-30
        ("2026-07-15", "quarter", 7, "FY2027Q1"),
        ("2026-06-30", "quarter", 7, "FY2026Q4"),
        ("2026-06-30 23:59:59", "year", 7, "FY2026"),
        ("2026-07-01", "year", 7, "FY2027"),
        ("2026-12-31", "quarter", 7, "FY2027Q2"),
        ("2027-01-01", "quarter", 7, "FY2027Q3"),
        ("2027-06-01", "quarter", 7, "FY2027Q4"),
        ("2026-07-15", "month", 7, "2026-07"),  # months stay calendar
        # UK-style year from April: FY2027 = 2026-04-01 .. 2027-03-31
        ("2026-03-31", "quarter", 4, "FY2026Q4"),
        ("2026-04-01", "quarter", 4, "FY2027Q1"),
        ("2026-06-30", "quarter", 4, "FY2027Q1"),
        ("2026-07-01", "quarter", 4, "FY2027Q2"),
        ("2026-12-25", "quarter", 4, "FY2027Q3"),
        ("2027-01-15", "quarter", 4, "FY2027Q4"),
        ("2027-03-31", "year", 4, "FY2027"),
        # US federal year from October: FY2026 began on 2025-10-01
        ("2025-09-30", "year", 10, "FY2025"),
        ("2025-10-01", "year", 10, "FY2026"),
        ("2025-10-01", "quarter", 10, "FY2026Q1"),
        ("2026-09-30", "quarter", 10, "FY2026Q4"),
        # a year from February: quarters Feb-Apr, May-Jul, Aug-Oct, Nov-Jan
        ("2026-01-31", "quarter", 2, "FY2026Q4"),
        ("2026-02-01", "quarter", 2, "FY2027Q1"),
        ("2026-05-01", "quarter", 2, "FY2027Q2"),
        ("2027-01-31", "quarter", 2, "FY2027Q4"),
        # a year from December: FY2027 = 2026-12-01 .. 2027-11-30
        ("2026-12-01", "quarter", 12, "FY2027Q1"),
        ("2026-11-30", "year", 12, "FY2026"),
    ],
)
def test_hand_worked_labels(ts, freq, fy_start, label):
    assert Period.containing(ts, freq, fy_start=fy_start).label == label
    assert assign_periods(pd.Series(pd.to_datetime([ts])), freq, fy_start=fy_start).tolist() == [label]
    assert reference_label(pd.Timestamp(ts), freq, fy_start) == label  # the reference agrees by hand too


@pytest.mark.parametrize(
    "period, start, end",
    [
        (Period("month", 2026, 9), "2026-09-01", "2026-10-01"),
        (Period("month", 2026, 12), "2026-12-01", "2027-01-01"),
        (Period("quarter", 2026, 3), "2026-07-01", "2026-10-01"),
        (Period("quarter", 2026, 4), "2026-10-01", "2027-01-01"),
        (Period("year", 2026), "2026-01-01", "2027-01-01"),
        (Period("quarter", 2027, 1, fy_start=7), "2026-07-01", "2026-10-01"),
        (Period("quarter", 2027, 4, fy_start=7), "2027-04-01", "2027-07-01"),
        (Period("year", 2027, fy_start=7), "2026-07-01", "2027-07-01"),
        (Period("year", 2027, fy_start=4), "2026-04-01", "2027-04-01"),
        (Period("quarter", 2027, 4, fy_start=4), "2027-01-01", "2027-04-01"),
        (Period("quarter", 2027, 4, fy_start=2), "2026-11-01", "2027-02-01"),
        (Period("year", 2026, fy_start=10), "2025-10-01", "2026-10-01"),
    ],
)
def test_start_and_end(period, start, end):
    assert period.start == pd.Timestamp(start)
    assert period.end == pd.Timestamp(end)


@pytest.mark.parametrize(
    "period, label",
    [
        (Period("month", 2026, 9), "2026-09"),
        (Period("month", 2026, 9, fy_start=7), "2026-09"),
        (Period("quarter", 2026, 3), "2026Q3"),
        (Period("year", 2026), "2026"),
        (Period("quarter", 2027, 1, fy_start=7), "FY2027Q1"),
        (Period("year", 2027, fy_start=7), "FY2027"),
    ],
)
def test_labels_and_str(period, label):
    assert period.label == label
    assert str(period) == label
    assert f"{period}" == label


def test_months_ignore_the_fiscal_calendar():
    assert Period("month", 2026, 9, fy_start=7) == Period("month", 2026, 9)
    assert Period("month", 2026, 9, fy_start=7).fy_start == 1
    assert hash(Period("month", 2026, 9, fy_start=7)) == hash(Period("month", 2026, 9))


def test_numpy_integers_are_accepted():
    p = Period("quarter", np.int64(2026), np.int32(3), fy_start=np.int8(1))
    assert p == Period("quarter", 2026, 3)
    assert type(p.year) is int and type(p.index) is int


# --------------------------------------------------------------------------------------------
# navigation and ordering


def test_previous_and_next():
    assert Period("quarter", 2026, 1).previous() == Period("quarter", 2025, 4)
    assert parse_period("2026Q1").previous().label == "2025Q4"
    assert parse_period("2025Q4").next().label == "2026Q1"
    assert parse_period("2026Q3").previous(5).label == "2025Q2"
    assert parse_period("2026Q3").next(-5) == parse_period("2026Q3").previous(5)
    assert parse_period("2026Q3").previous(0) == parse_period("2026Q3")
    assert parse_period("2026-01").previous().label == "2025-12"
    assert parse_period("2026-12").next(2).label == "2027-02"
    assert parse_period("2026").previous().label == "2025"
    assert parse_period("FY2027Q1", fy_start=7).previous().label == "FY2026Q4"
    assert parse_period("FY2027", fy_start=4).next().label == "FY2028"


def test_same_period_last_year():
    assert parse_period("2026Q3").same_period_last_year().label == "2025Q3"
    assert parse_period("2026-02").same_period_last_year().label == "2025-02"
    assert parse_period("2026").same_period_last_year().label == "2025"
    assert parse_period("FY2027Q2", fy_start=7).same_period_last_year().label == "FY2026Q2"


def test_ordering():
    labels = ["2026Q1", "2024Q4", "2025Q3", "2025Q1"]
    assert [p.label for p in sorted(parse_period(x) for x in labels)] == ["2024Q4", "2025Q1", "2025Q3", "2026Q1"]
    a, b = parse_period("2026-09"), parse_period("2026-10")
    assert a < b and a <= b and b > a and b >= a and a <= a and not a < a
    assert max(parse_period("FY2026Q4", fy_start=7), parse_period("FY2027Q1", fy_start=7)).label == "FY2027Q1"


def test_ordering_across_kinds_raises_but_equality_does_not():
    q, m = parse_period("2026Q3"), parse_period("2026-09")
    with pytest.raises(ParameterError, match=re.escape("Cannot order 2026Q3 (a calendar quarter) against 2026-09 (a month)")):
        q < m  # noqa: B015
    with pytest.raises(ParameterError, match="Cannot order 2026Q3 .* against FY2027Q1 .*year from July"):
        q < parse_period("FY2027Q1", fy_start=7)  # noqa: B015
    assert q != m
    assert q != "2026Q3"
    with pytest.raises(TypeError):
        q < "2026Q4"  # noqa: B015


def test_navigation_outside_supported_years():
    with pytest.raises(ParameterError, match="years 1000 to 9998"):
        Period("month", 1000, 1).previous()
    with pytest.raises(ParameterError, match="The value for `k` must be a whole number"):
        Period("month", 2026, 1).previous(1.5)


def test_contains():
    q = parse_period("2026Q3")
    assert q.contains("2026-07-01 00:00")
    assert q.contains(pd.Timestamp("2026-09-30 23:59:59.999999999"))
    assert not q.contains("2026-10-01")
    assert not q.contains("2026-06-30 23:59:59")
    assert not q.contains(pd.NaT)
    assert not q.contains(None)
    # time-zone-aware: local wall-clock time decides
    assert q.contains(pd.Timestamp("2026-09-30 23:30", tz="Europe/London"))
    assert q.contains(parse_period("2026-08"))
    assert not q.contains(parse_period("2026"))
    assert parse_period("2026").contains(q)
    assert parse_period("FY2027", fy_start=7).contains(q)
    with pytest.raises(ParameterError, match="The value for `other` must be a timestamp"):
        q.contains("not a date")


def test_containing_rejects_missing_time():
    with pytest.raises(ParameterError, match="a missing time"):
        Period.containing(pd.NaT)


# --------------------------------------------------------------------------------------------
# construction errors


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(freq="week", year=2026, index=1), "The value for `freq` must be one of {'month', 'quarter', 'year'}, but 'week' was passed."),
        (dict(freq="quarter", year=2026, index=5), "The value for `index` must be a quarter number within the year from 1 to 4, but 5 was passed."),
        (dict(freq="month", year=2026, index=0), "The value for `index` must be a month number within the year from 1 to 12"),
        (dict(freq="year", year=2026, index=2), "The value for `index` must be 1 for a year"),
        (dict(freq="quarter", year=2026), "The value for `index` is required for a quarter: the quarter number within the year, from 1 to 4."),
        (dict(freq="quarter", year=2026, index=1, fy_start=13), "The value for `fy_start` must be the month the fiscal year starts in, a whole number from 1 to 12, but 13 was passed."),
        (dict(freq="quarter", year=2026, index=1, fy_start=True), "The value for `fy_start` must be"),
        (dict(freq="quarter", year=2026.0, index=1), "The value for `year` must be a whole number from 1000 to 9998, but 2026.0 was passed."),
        (dict(freq="quarter", year=26, index=1), "The value for `year` must be a whole number from 1000 to 9998, but 26 was passed."),
    ],
)
def test_bad_period_fields(kwargs, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        Period(**kwargs)


# --------------------------------------------------------------------------------------------
# parsing


@pytest.mark.parametrize(
    "text, fy_start, expected",
    [
        ("2026Q3", 1, Period("quarter", 2026, 3)),
        ("2026-Q3", 1, Period("quarter", 2026, 3)),
        ("2026 Q3", 1, Period("quarter", 2026, 3)),
        ("2026/Q3", 1, Period("quarter", 2026, 3)),
        ("Q3 2026", 1, Period("quarter", 2026, 3)),
        ("Q3-2026", 1, Period("quarter", 2026, 3)),
        ("  2026q3 ", 1, Period("quarter", 2026, 3)),
        ("FY2027Q1", 7, Period("quarter", 2027, 1, fy_start=7)),
        ("FY2027-Q1", 7, Period("quarter", 2027, 1, fy_start=7)),
        ("FY 2027 Q1", 7, Period("quarter", 2027, 1, fy_start=7)),
        ("fy2027q1", 7, Period("quarter", 2027, 1, fy_start=7)),
        ("Q1 FY2027", 7, Period("quarter", 2027, 1, fy_start=7)),
        ("2026-09", 1, Period("month", 2026, 9)),
        ("2026/09", 1, Period("month", 2026, 9)),
        ("2026M09", 1, Period("month", 2026, 9)),
        ("2026m9", 1, Period("month", 2026, 9)),
        ("2026-9", 1, Period("month", 2026, 9)),
        ("2026-09", 7, Period("month", 2026, 9)),  # months are calendar months on any fiscal calendar
        ("2026", 1, Period("year", 2026)),
        ("FY2027", 7, Period("year", 2027, fy_start=7)),
        ("FY2027", 4, Period("year", 2027, fy_start=4)),
        # FY with the calendar year is the calendar year
        ("FY2027Q1", 1, Period("quarter", 2027, 1)),
        ("FY2027", 1, Period("year", 2027)),
    ],
)
def test_parse_accepted_forms(text, fy_start, expected):
    assert parse_period(text, fy_start=fy_start) == expected


def test_parse_default_fy_start_is_calendar():
    assert parse_period("2026Q3") == Period("quarter", 2026, 3)
    assert parse_period("FY2027Q1").label == "2027Q1"


def test_parse_passes_periods_through():
    p = Period("quarter", 2027, 1, fy_start=7)
    assert parse_period(p) is p
    assert parse_period(p, fy_start=7) is p
    m = Period("month", 2026, 9)
    assert parse_period(m, fy_start=7) is m
    with pytest.raises(ParameterError, match=re.escape("The period FY2027Q1 is a fiscal quarter, year from July, but fy_start=4 was passed")):
        parse_period(p, fy_start=4)


@pytest.mark.parametrize(
    "text",
    ["2026Q5", "2026Q0", "2026-13", "2026-00", "26Q3", "Q3", "2026Q3x", "", "   ", "2026-09-01", "FY2027-09",
     "2026 09", "Q5 2026", "FY", "20261", "2026Q3:2026Q4", "FYFY2026"],
)  # fmt: skip
def test_parse_rejects_bad_labels(text):
    with pytest.raises(ParameterError, match=re.escape(f"{text!r} is not a period: ") + FORMS):
        parse_period(text)


def test_parse_message_in_full():
    with pytest.raises(ParameterError) as info:
        parse_period("2026Q5")
    assert str(info.value) == (
        "'2026Q5' is not a period: expected a month like '2026-09', a quarter like '2026Q3' or 'FY2027Q1', "
        "or a year like '2026'."
    )


@pytest.mark.parametrize("value", [2026, 2026.3, None, pd.Timestamp("2026-01-01")])
def test_parse_rejects_non_strings(value):
    with pytest.raises(ParameterError, match="A period must be a Period or a label string, but .* was passed"):
        parse_period(value)


def test_parse_rejects_calendar_labels_on_a_fiscal_calendar():
    with pytest.raises(
        ParameterError,
        match=re.escape(
            "'2026Q3' names a calendar quarter, but fy_start=7 asks for fiscal quarters (year from July): "
            "write a fiscal label such as 'FY2026Q3' (fiscal years are named by the year they end in), "
            "or leave fy_start at 1 for calendar quarters. 2026Q3 is FY2027Q1 when the fiscal year starts in July."
        ),
    ):
        parse_period("2026Q3", fy_start=7)
    # quarters that do not line up with the fiscal ones: no equivalent to suggest
    with pytest.raises(ParameterError, match=r"fy_start=2 asks for fiscal quarters \(year from February\).*calendar quarters\.$"):
        parse_period("2026Q3", fy_start=2)
    with pytest.raises(ParameterError, match=re.escape("'2026' names a calendar year, but fy_start=4 asks for fiscal years")):
        parse_period("2026", fy_start=4)


def test_parse_rejects_years_outside_the_supported_range():
    with pytest.raises(ParameterError, match=re.escape("'9999Q1' is not a period csatkit handles: years must lie in 1000 to 9998.")):
        parse_period("9999Q1")
    with pytest.raises(ParameterError, match="'0999' is not a period csatkit handles"):
        parse_period("0999")


def test_parse_rejects_bad_fy_start():
    with pytest.raises(ParameterError, match="The value for `fy_start` must be .* from 1 to 12, but 0 was passed"):
        parse_period("2026Q3", fy_start=0)


# --------------------------------------------------------------------------------------------
# property tests


@st.composite
def any_period(draw):
    freq = draw(st.sampled_from(FREQS))
    fy_start = draw(st.integers(1, 12))
    year = draw(st.integers(1000, 9998))
    index = draw(st.integers(1, {"month": 12, "quarter": 4, "year": 1}[freq]))
    return Period(freq, year, index, fy_start=fy_start)


@settings(max_examples=300, deadline=None)
@given(any_period())
def test_label_round_trip(p):
    assert parse_period(p.label, fy_start=p.fy_start) == p
    assert parse_period(str(p), fy_start=p.fy_start).label == p.label


@settings(max_examples=300, deadline=None)
@given(any_period())
def test_period_is_its_own_interval(p):
    assert p.start < p.end
    assert Period.containing(p.start, p.freq, fy_start=p.fy_start) == p
    assert Period.containing(p.end - pd.Timedelta(1, "us"), p.freq, fy_start=p.fy_start) == p
    assert p.contains(p.start) and not p.contains(p.end)
    # the label agrees with the slow reference at both ends
    assert reference_label(p.start, p.freq, p.fy_start) == p.label
    assert reference_label(p.end - pd.Timedelta(1, "us"), p.freq, p.fy_start) == p.label


@settings(max_examples=300, deadline=None)
@given(any_period(), st.integers(-40, 40))
def test_navigation_is_consistent(p, k):
    try:
        q = p.next(k)
    except ParameterError:  # walked off the supported years
        return
    assert q.previous(k) == p
    assert (q > p) == (k > 0) and (q == p) == (k == 0)
    if k == 1:
        assert q.start == p.end  # consecutive periods tile the time line
    if k >= 0:
        assert len(periods_between(p, q)) == k + 1


# --------------------------------------------------------------------------------------------
# ranges


@pytest.mark.parametrize(
    "spec, fy_start, labels",
    [
        ("2025Q1:2026Q3", None, ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]),
        ("2025-11:2026-02", None, ["2025-11", "2025-12", "2026-01", "2026-02"]),
        ("2024:2026", None, ["2024", "2025", "2026"]),
        ("2026Q3:2026Q3", None, ["2026Q3"]),
        ("2026Q3", None, ["2026Q3"]),
        (" 2025Q4 : 2026Q1 ", None, ["2025Q4", "2026Q1"]),
        ("FY2026Q3:FY2027Q2", 7, ["FY2026Q3", "FY2026Q4", "FY2027Q1", "FY2027Q2"]),
        ("FY2026:FY2027", 4, ["FY2026", "FY2027"]),
        ("2026-05:2026-08", 7, ["2026-05", "2026-06", "2026-07", "2026-08"]),
    ],
)
def test_period_range(spec, fy_start, labels):
    assert [p.label for p in period_range(spec, fy_start=fy_start)] == labels


def test_period_range_length():
    # 2000Q1 .. 2025Q4 is 26 years of 4 quarters; months of 2 years are 24
    assert len(period_range("2000Q1:2025Q4")) == 104
    assert len(period_range("2025-01:2026-12")) == 24
    assert len(period_range("FY2020Q2:FY2021Q1", fy_start=10)) == 4


@pytest.mark.parametrize(
    "spec, message",
    [
        ("2025Q1:2026-09", "'2025Q1:2026-09' mixes a calendar quarter and a month: both ends of a period range must be of the same kind"),
        ("2026:2026Q1", "'2026:2026Q1' mixes a calendar year and a calendar quarter"),
        ("2026Q3:2025Q1", "'2026Q3:2025Q1' runs backwards: 2026Q3 comes after 2025Q1; write '2025Q1:2026Q3'."),
        ("2025Q1:", "'2025Q1:' is not a period range: expected two periods joined by ':', e.g. '2025Q1:2026Q3'."),
        (":2025Q1", "':2025Q1' is not a period range"),
        ("2025Q1:2025Q2:2025Q3", "'2025Q1:2025Q2:2025Q3' is not a period range"),
        ("2025Q1:2026Q5", "'2026Q5' is not a period: expected"),
    ],
)
def test_period_range_errors(spec, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        period_range(spec)


def test_period_range_rejects_non_strings():
    with pytest.raises(ParameterError, match=re.escape("A period range must be a string such as '2025Q1:2026Q3', but ('2025Q1', '2026Q3') (tuple) was passed.")):
        period_range(("2025Q1", "2026Q3"))


def test_periods_between():
    assert [p.label for p in periods_between("2025Q4", Period("quarter", 2026, 2))] == ["2025Q4", "2026Q1", "2026Q2"]
    assert periods_between("2026-03", "2026-03") == [Period("month", 2026, 3)]
    assert len(periods_between("FY2020", "FY2027", fy_start=7)) == 8
    with pytest.raises(ParameterError, match=re.escape("`first` must not come after `last`, but 2026Q2 comes after 2025Q4.")):
        periods_between("2026Q2", "2025Q4")
    with pytest.raises(ParameterError, match=re.escape("`first` and `last` must be periods of the same kind, but 2026Q1 is a calendar quarter and FY2027Q1 is a fiscal quarter, year from July.")):
        periods_between(Period("quarter", 2026, 1), Period("quarter", 2027, 1, fy_start=7))


def test_last_n():
    # an 8-quarter trend ending 2026Q3 starts 2024Q4 (counted by hand)
    window = last_n("2026Q3", 8)
    assert [p.label for p in window] == ["2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert last_n(Period("month", 2026, 2), 3) == [Period("month", 2025, 12), Period("month", 2026, 1), Period("month", 2026, 2)]
    assert [p.label for p in last_n("FY2027Q1", 2, fy_start=7)] == ["FY2026Q4", "FY2027Q1"]
    assert last_n("2026", 1) == [Period("year", 2026)]
    with pytest.raises(ParameterError, match=re.escape("The value for `n` must be a whole number from 1 to 1000000, but 0 was passed.")):
        last_n("2026Q3", 0)


# --------------------------------------------------------------------------------------------
# vectorised bucketing


@pytest.mark.parametrize("fy_start", range(1, 13))
@pytest.mark.parametrize("freq", FREQS)
def test_assign_periods_matches_the_slow_reference(freq, fy_start):
    ts = random_timestamps(seed=fy_start)
    got = assign_periods(ts, freq, fy_start=fy_start)
    expected = [reference_label(t, freq, fy_start) for t in ts]
    assert got.index.equals(ts.index)
    assert got.name == freq
    assert got.isna().tolist() == [e is None for e in expected]
    assert [None if pd.isna(x) else x for x in got] == expected


def test_assign_periods_returns_strings():
    got = assign_periods(random_timestamps(seed=0), "quarter")
    assert pd.api.types.is_string_dtype(got.dtype)
    assert all(isinstance(x, str) for x in got.dropna())


def test_assign_periods_python_string_storage():
    ts = pd.Series(pd.to_datetime(["2026-06-30 23:59", "2026-07-01 00:00", None]))
    with pd.option_context("mode.string_storage", "python"):
        got = assign_periods(ts, "quarter", fy_start=7)
    assert got.iloc[:2].tolist() == ["FY2026Q4", "FY2027Q1"] and got.isna().tolist() == [False, False, True]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_assign_periods_any_resolution(unit):
    ts = pd.Series(pd.to_datetime(["2026-03-31 23:59:59", "2026-04-01 00:00:00", None])).astype(f"datetime64[{unit}]")
    assert assign_periods(ts, "quarter", fy_start=4).tolist()[:2] == ["FY2026Q4", "FY2027Q1"]


def test_assign_periods_uses_local_wall_time():
    # 2026-06-30 23:30 in London is 22:30 UTC on the same day, but 2026-07-01 00:30 in Berlin...
    utc = pd.Series(pd.to_datetime(["2026-06-30 22:30"]).tz_localize("UTC"))
    assert assign_periods(utc, "month").tolist() == ["2026-06"]
    assert assign_periods(utc.dt.tz_convert("Europe/Berlin"), "month").tolist() == ["2026-07"]
    assert assign_periods(utc.dt.tz_convert("America/New_York"), "quarter", fy_start=7).tolist() == ["FY2026Q4"]


def test_assign_periods_accepts_other_containers():
    idx = pd.DatetimeIndex(["2026-01-15", "2026-05-01"])
    assert assign_periods(idx, "quarter").tolist() == ["2026Q1", "2026Q2"]
    assert assign_periods(list(idx), "month").tolist() == ["2026-01", "2026-05"]
    arrow = pd.Series(idx).astype("timestamp[us][pyarrow]")
    assert assign_periods(arrow, "year").tolist() == ["2026", "2026"]


def test_assign_periods_empty_and_all_missing():
    assert assign_periods(pd.Series([], dtype="datetime64[ns]")).tolist() == []
    got = assign_periods(pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]"), "month")
    assert got.isna().all() and len(got) == 2


def test_assign_periods_errors():
    with pytest.raises(InputError, match=re.escape("`timestamps` must hold datetimes, but it has dtype str. Convert it first")):
        assign_periods(pd.Series(["2026-01-01"]))
    with pytest.raises(ParameterError, match=re.escape("The value for `freq` must be one of {'month', 'quarter', 'year'}, but 'Q' was passed.")):
        assign_periods(pd.Series(pd.to_datetime(["2026-01-01"])), "Q")
    with pytest.raises(ParameterError, match="The value for `fy_start` must be"):
        assign_periods(pd.Series(pd.to_datetime(["2026-01-01"])), fy_start=0)
    old = pd.Series(np.array(["0500-01-01"], dtype="datetime64[s]"))
    with pytest.raises(InputError, match=re.escape("`timestamps` must fall within the years 1000 to 9997, but runs from 500 to 500.")):
        assign_periods(old)


# --------------------------------------------------------------------------------------------
# DataFrames


@pytest.fixture
def responses():
    return pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3", "r4"],
            "interaction_at": pd.to_datetime(["2026-06-30 23:59", "2026-07-01 00:00", None, "2026-10-01 00:00"]),
            "score": [5.0, 4.0, 3.0, 1.0],
        },
        index=[10, 11, 12, 13],
    )


def test_add_period(responses):
    before = responses.copy()
    out = add_period(responses, "quarter", fy_start=7)
    assert out["quarter"].iloc[[0, 1, 3]].tolist() == ["FY2026Q4", "FY2027Q1", "FY2027Q2"]
    assert pd.isna(out["quarter"].iloc[2])
    assert list(out.columns) == ["response_id", "interaction_at", "score", "quarter"]
    assert out.index.equals(responses.index)
    pd.testing.assert_frame_equal(responses, before)  # the input is untouched
    named = add_period(responses, "month", name="period")
    assert named["period"].iloc[[0, 1, 3]].tolist() == ["2026-06", "2026-07", "2026-10"]
    assert add_period(responses, "year")["year"].iloc[0] == "2026"


def test_add_period_other_column_and_replacement(responses):
    df = responses.rename(columns={"interaction_at": "responded_at"}).assign(quarter="old")
    out = add_period(df, column="responded_at")
    assert out["quarter"].iloc[[0, 1]].tolist() == ["2026Q2", "2026Q3"]
    assert (df["quarter"] == "old").all()


def test_add_period_errors(responses):
    with pytest.raises(MissingColumnError, match=re.escape("Required column 'interaction_at' is missing from the DataFrame; columns present: ['response_id', 'interaction_time', 'score']. Did you mean 'interaction_time'?")):
        add_period(responses.rename(columns={"interaction_at": "interaction_time"}))
    with pytest.raises(InputError, match=re.escape("Column 'score' must hold datetimes, but it has dtype float64.")):
        add_period(responses, column="score")
    with pytest.raises(ParameterError, match="The value for `df` must be a pandas DataFrame, but a Series was passed."):
        add_period(responses["interaction_at"])


def test_filter_period(responses):
    assert filter_period(responses, "FY2027Q1", fy_start=7)["response_id"].tolist() == ["r2"]
    assert filter_period(responses, Period("quarter", 2027, 1, fy_start=7)).index.tolist() == [11]
    assert filter_period(responses, "2026")["response_id"].tolist() == ["r1", "r2", "r4"]
    assert filter_period(responses, "2026-06")["response_id"].tolist() == ["r1"]
    assert filter_period(responses, "2025Q1").empty
    with pytest.raises(MissingColumnError, match="Required column 'opened_at' is missing"):
        filter_period(responses, "2026Q3", column="opened_at")
    with pytest.raises(InputError, match="Column 'response_id' must hold datetimes"):
        filter_period(responses, "2026Q3", column="response_id")
    with pytest.raises(ParameterError, match="'2026Q3' names a calendar quarter, but fy_start=7"):
        filter_period(responses, "2026Q3", fy_start=7)


@pytest.mark.parametrize("fy_start", [1, 4, 7, 11])
def test_filter_period_agrees_with_assign_periods(fy_start):
    ts = random_timestamps(seed=100 + fy_start)
    df = pd.DataFrame({"interaction_at": ts})
    labels = assign_periods(ts, "quarter", fy_start=fy_start)
    for label in labels.dropna().unique()[:12]:
        rows = filter_period(df, label, fy_start=fy_start)
        assert rows.index.equals(labels.index[labels == label])
        assert all(parse_period(label, fy_start=fy_start).contains(t) for t in rows["interaction_at"])


@pytest.mark.parametrize("fy_start", [1, 7])
def test_filter_period_time_ordered_rows(fy_start):
    # time-ordered data keep each period as one run of rows, which filter_period takes as a slice:
    # the same rows, values, dtypes and index as the row-by-row mask, and as independent of the source
    ts = random_timestamps(seed=300 + fy_start).dropna().sort_values(ignore_index=True)
    df = pd.DataFrame({
        "interaction_at": ts.to_numpy(),
        "channel": pd.Series([f"c{i % 7}" for i in range(len(ts))], dtype="str"),
        "score": np.arange(len(ts), dtype=float),
    }, index=pd.RangeIndex(10, 10 + len(ts)))
    labels = assign_periods(df["interaction_at"], "quarter", fy_start=fy_start)
    for label in list(labels.unique()[:6]) + [labels.iloc[-1]]:
        rows = filter_period(df, label, fy_start=fy_start)
        expected = df[(labels == label).to_numpy()]
        pd.testing.assert_frame_equal(rows, expected)
        if periods_module._copy_on_write():  # the slice was taken, not a copy of each row
            assert np.shares_memory(rows["score"].to_numpy(), df["score"].to_numpy())
        rows.loc[rows.index[0], "score"] = -1.0
        rows["channel"] = "changed"
        assert (df["score"].to_numpy() == np.arange(len(ts))).all()
        assert not df["channel"].eq("changed").any()
    # a missing timestamp inside the run breaks it: the rows are selected one by one, the missing one left out
    with_gap = df.copy()
    with_gap.loc[with_gap.index[len(df) // 2], "interaction_at"] = pd.NaT
    label = labels.iloc[len(df) // 2]
    rows = filter_period(with_gap, label, fy_start=fy_start)
    inside = (labels == label).to_numpy() & with_gap["interaction_at"].notna().to_numpy()
    pd.testing.assert_frame_equal(rows, with_gap[inside])


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_days_by_division_agree_with_numpy_cast(unit):
    # the day of a timestamp is computed by floor division of its ticks: the same day as numpy's cast
    # to datetime64[D] gives, before and after 1970, at midnight and a tick before it, and NaT kept missing
    rng = np.random.default_rng(5)
    first, last = ("1700-01-01", "2260-01-01") if unit == "ns" else ("1000-01-03", "9996-12-01")  # ns: 1677-2262
    midnights = pd.date_range(first, last, periods=400, unit="s").normalize().to_numpy().astype(f"M8[{unit}]")
    tick = np.timedelta64(1, unit)
    spread = rng.integers(-10**6, 10**6, 400).astype(f"m8[{unit}]") if unit != "s" else rng.integers(-86400, 86400, 400).astype("m8[s]")
    values = np.concatenate([midnights, midnights - tick, midnights + tick, midnights + spread,
                             np.array(["1969-12-31T23:59:59", "1970-01-01T00:00:00", "NaT"], dtype=f"M8[{unit}]")])
    days = periods_module._Days(pd.Series(values), "values")
    cast = values.astype("datetime64[D]")
    assert (days.missing == np.isnat(cast)).all()
    ok = ~np.isnat(cast)
    lo = cast[ok].view(np.int64).min()
    assert (days.offsets[ok] == cast[ok].view(np.int64) - lo).all()
    assert (days.offsets[~ok] == 0).all()


def test_filter_period_time_zone(responses):
    df = responses.assign(interaction_at=responses["interaction_at"].dt.tz_localize("Europe/London"))
    assert filter_period(df, "2026Q3")["response_id"].tolist() == ["r2"]


# --------------------------------------------------------------------------------------------
# documentation


def test_docstring_examples_run():
    result = doctest.testmod(periods_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 20
    assert result.failed == 0


def test_public_names():
    assert set(periods_module.__all__) == {
        "FREQS", "Period", "parse_period", "period_range", "periods_between", "last_n",
        "assign_periods", "add_period", "filter_period",
    }  # fmt: skip
    for name in periods_module.__all__:
        assert getattr(periods_module, name).__doc__
