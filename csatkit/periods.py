"""Reporting periods: months, quarters and years, calendar or fiscal.

A :class:`Period` is one month, quarter or year. Quarters and years follow a fiscal calendar
that starts in month ``fy_start`` (1 = January = the calendar year, 4 = April as in the UK,
7 = July as in Australia, 10 = October as in the US federal budget). Months are always
calendar months: a month belongs to the same fiscal quarter whatever it is called.

Fiscal years are named by the calendar year in which they **end**: with ``fy_start=7``,
FY2027 runs from 2026-07-01 to 2027-06-30, and its first quarter FY2027Q1 is July to
September 2026. With ``fy_start=1`` the fiscal year is the calendar year.

Labels
------
============  =====================  ===================================
freq          ``fy_start=1``         ``fy_start=7`` (any value but 1)
============  =====================  ===================================
``month``     ``2026-09``            ``2026-09`` (months stay calendar)
``quarter``   ``2026Q3``             ``FY2027Q1``
``year``      ``2026``               ``FY2027``
============  =====================  ===================================

:func:`parse_period` reads those labels and common variants (``2026-Q3``, ``Q3 2026``,
``2026/09``, ``2026M09``, ``FY2027-Q1``); :func:`period_range` reads inclusive ranges such as
``2025Q1:2026Q3``. Wherever a function takes a period it accepts a :class:`Period` or a label.

Bucketing a column of timestamps is vectorised (:func:`assign_periods`, :func:`add_period`,
:func:`filter_period`): ten million rows take a fraction of a second. Time-zone-aware
timestamps are bucketed by their local wall-clock time, so a response at 23:30 on 30 June in
London belongs to June.

Examples
--------
>>> from csatkit.periods import Period, parse_period, period_range
>>> q = parse_period("FY2027Q1", fy_start=7)
>>> q.start, q.end
(Timestamp('2026-07-01 00:00:00'), Timestamp('2026-10-01 00:00:00'))
>>> q.previous().label, q.same_period_last_year().label
('FY2026Q4', 'FY2026Q1')
>>> [str(p) for p in period_range("2025Q3:2026Q2")]
['2025Q3', '2025Q4', '2026Q1', '2026Q2']
>>> Period.containing("2026-06-30 18:00", "quarter", fy_start=4).label
'FY2027Q1'
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validate import check_choice, check_columns
from .exceptions import InputError, ParameterError

__all__ = [
    "FREQS",
    "Period",
    "parse_period",
    "period_range",
    "periods_between",
    "last_n",
    "assign_periods",
    "add_period",
    "filter_period",
]

FREQS = ("month", "quarter", "year")
"""The period lengths csatkit knows, shortest first."""

_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}
_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
_MIN_YEAR, _MAX_YEAR = 1000, 9998  # four-digit labels whose start and end pandas can represent
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_FORMS = "expected a month like '2026-09', a quarter like '2026Q3' or 'FY2027Q1', or a year like '2026'"
_MONTH_RE = re.compile(r"(\d{4})\s*[-/M]\s*(\d{1,2})")
_QUARTER_RE = re.compile(r"(FY)?\s*(\d{4})\s*[-/]?\s*Q(\d)")
_QUARTER_FIRST_RE = re.compile(r"Q(\d)\s*[-/]?\s*(FY)?\s*(\d{4})")
_YEAR_RE = re.compile(r"(FY)?\s*(\d{4})")


# --------------------------------------------------------------------------------------------
# checks


def _check_int(name: str, value, low: int, high: int, what: str = "a whole number") -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ParameterError(f"The value for `{name}` must be {what} from {low} to {high}, but {value!r} was passed.")
    return int(value)


def _check_fy_start(fy_start) -> int:
    return _check_int("fy_start", fy_start, 1, 12, "the month the fiscal year starts in, a whole number")


def _check_freq(freq) -> str:
    check_choice("freq", freq, FREQS)
    return freq


# --------------------------------------------------------------------------------------------
# month arithmetic
#
# A calendar month is numbered by its "month ordinal" ``12 * year + month - 1``. Shifting it by
# ``_fiscal_shift(fy_start)`` gives the fiscal month ordinal ``12 * fiscal_year + fiscal_month - 1``,
# from which the period ordinals follow by integer division:
#   month:   calendar month ordinal        (12 per year)
#   quarter: fiscal month ordinal // 3     (= 4 * fiscal_year + quarter - 1)
#   year:    fiscal month ordinal // 12    (= fiscal_year)


def _fiscal_shift(fy_start: int) -> int:
    """Months to add to a calendar month ordinal to get the fiscal one (FY named by its end year)."""
    return 0 if fy_start == 1 else 13 - fy_start


def _period_ordinal_of_months(month_ordinal, freq: str, fy_start: int):
    """Period ordinal of calendar month ordinals (an int or an integer array)."""
    if freq == "month":
        return month_ordinal
    return (month_ordinal + _fiscal_shift(fy_start)) // _MONTHS_PER[freq]


# --------------------------------------------------------------------------------------------
# Period


@dataclass(frozen=True)
class Period:
    """One month, quarter or year of a calendar or fiscal calendar.

    Parameters
    ----------
    freq : {"month", "quarter", "year"}
        Length of the period.
    year : int
        Calendar year for months; for quarters and years, the fiscal year, named by the calendar
        year in which it ends (FY2027 with ``fy_start=7`` runs 2026-07-01 .. 2027-06-30). With
        ``fy_start=1`` the fiscal year is the calendar year. Must lie in 1000..9998.
    index : int
        Month 1-12 (calendar) for months, quarter 1-4 within the fiscal year for quarters,
        1 for years (the default, and only for years).
    fy_start : int, default 1
        Month (1-12) in which the fiscal year starts; 1 means calendar quarters and years.
        Months are calendar months whatever the fiscal calendar, so a month always stores
        ``fy_start=1``: ``Period("month", 2026, 9, fy_start=7) == Period("month", 2026, 9)``.

    Attributes
    ----------
    start : pandas.Timestamp
        First instant of the period (inclusive).
    end : pandas.Timestamp
        First instant after the period (exclusive): ``start <= t < end``.
    label : str
        ``"2026-09"``, ``"2026Q3"``, ``"2026"``; with a fiscal calendar ``"FY2027Q1"``, ``"FY2027"``.
        ``str(period)`` is the label, and ``parse_period(label, fy_start=...)`` gives the period back.
    ordinal : int
        Position on a count of periods of this kind: consecutive periods differ by 1.

    Notes
    -----
    Periods of the same ``freq`` and ``fy_start`` are ordered in time (``<``, ``max``, ``sorted``);
    comparing a quarter with a month, or quarters of different fiscal calendars, raises
    :class:`~csatkit.exceptions.ParameterError`. Equality never raises.

    Examples
    --------
    >>> p = Period("quarter", 2027, 1, fy_start=7)
    >>> p.label, p.start.date(), p.end.date()
    ('FY2027Q1', datetime.date(2026, 7, 1), datetime.date(2026, 10, 1))
    >>> Period("quarter", 2026, 1).previous().label
    '2025Q4'
    >>> Period("month", 2026, 9) < Period("month", 2026, 10)
    True
    """

    freq: str
    year: int
    index: int | None = None
    fy_start: int = 1

    def __post_init__(self):
        freq = _check_freq(self.freq)
        fy_start = _check_fy_start(self.fy_start)
        year = _check_int("year", self.year, _MIN_YEAR, _MAX_YEAR)
        if self.index is None:
            if freq != "year":
                raise ParameterError(
                    f"The value for `index` is required for a {freq}: the {freq} number within the year, "
                    f"from 1 to {_PER_YEAR[freq]}."
                )
            object.__setattr__(self, "index", 1)
        what = "1 for a year, a whole number" if freq == "year" else f"a {freq} number within the year"
        index = _check_int("index", self.index, 1, _PER_YEAR[freq], what)
        object.__setattr__(self, "year", year)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "fy_start", 1 if freq == "month" else fy_start)

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def _from_ordinal(cls, freq: str, ordinal: int, fy_start: int) -> "Period":
        year, rest = divmod(int(ordinal), _PER_YEAR[freq])
        if not _MIN_YEAR <= year <= _MAX_YEAR:
            raise ParameterError(
                f"Periods must lie in the years {_MIN_YEAR} to {_MAX_YEAR}, but this one would fall in {year}."
            )
        return cls(freq, year, rest + 1, fy_start=fy_start)

    @classmethod
    def containing(cls, ts, freq: str = "quarter", *, fy_start: int = 1) -> "Period":
        """The period of kind ``freq`` that contains the timestamp ``ts``.

        Parameters
        ----------
        ts : timestamp-like
            Anything :class:`pandas.Timestamp` accepts. A time-zone-aware timestamp is placed by its
            local wall-clock time.
        freq : {"month", "quarter", "year"}, default "quarter"
        fy_start : int, default 1
            Month in which the fiscal year starts.

        Examples
        --------
        >>> Period.containing("2026-07-15", "quarter", fy_start=7).label
        'FY2027Q1'
        >>> Period.containing("2026-06-30", "year", fy_start=7).label
        'FY2026'
        """
        freq = _check_freq(freq)
        fy_start = _check_fy_start(fy_start)
        stamp = _scalar_timestamp(ts, "ts")
        if stamp is None:
            raise ParameterError(f"The value for `ts` must be a timestamp, but {ts!r} (a missing time) was passed.")
        month_ordinal = 12 * stamp.year + stamp.month - 1
        return cls._from_ordinal(freq, _period_ordinal_of_months(month_ordinal, freq, fy_start), fy_start)

    # -- properties -------------------------------------------------------------------------

    @property
    def ordinal(self) -> int:
        """Consecutive periods of one kind have consecutive ordinals (``12 * year + month - 1`` for months)."""
        return _PER_YEAR[self.freq] * self.year + self.index - 1

    @property
    def _start_month_ordinal(self) -> int:
        fiscal = self.ordinal * _MONTHS_PER[self.freq]
        return fiscal if self.freq == "month" else fiscal - _fiscal_shift(self.fy_start)

    @property
    def start(self) -> pd.Timestamp:
        """First instant of the period (inclusive)."""
        year, month0 = divmod(self._start_month_ordinal, 12)
        return pd.Timestamp(year=year, month=month0 + 1, day=1)

    @property
    def end(self) -> pd.Timestamp:
        """First instant after the period (exclusive)."""
        year, month0 = divmod(self._start_month_ordinal + _MONTHS_PER[self.freq], 12)
        return pd.Timestamp(year=year, month=month0 + 1, day=1)

    @property
    def label(self) -> str:
        """``2026-09``, ``2026Q3``, ``2026``, ``FY2027Q1``, ``FY2027``."""
        if self.freq == "month":
            return f"{self.year:04d}-{self.index:02d}"
        prefix = "" if self.fy_start == 1 else "FY"
        if self.freq == "quarter":
            return f"{prefix}{self.year:04d}Q{self.index}"
        return f"{prefix}{self.year:04d}"

    def __str__(self) -> str:
        return self.label

    # -- navigation -------------------------------------------------------------------------

    def next(self, k: int = 1) -> "Period":
        """The period ``k`` steps later (``k`` may be negative or 0)."""
        k = _check_int("k", k, -(10**6), 10**6)
        return Period._from_ordinal(self.freq, self.ordinal + k, self.fy_start)

    def previous(self, k: int = 1) -> "Period":
        """The period ``k`` steps earlier: ``Period('quarter', 2026, 1).previous()`` is 2025Q4."""
        k = _check_int("k", k, -(10**6), 10**6)
        return Period._from_ordinal(self.freq, self.ordinal - k, self.fy_start)

    def same_period_last_year(self) -> "Period":
        """The same month, quarter or year one year earlier (2026Q3 -> 2025Q3)."""
        return self.previous(_PER_YEAR[self.freq])

    def contains(self, other) -> bool:
        """Whether a timestamp, or a whole other period, lies within this period.

        A missing timestamp (``NaT``, ``None``) is in no period. A time-zone-aware timestamp is
        placed by its local wall-clock time.

        Examples
        --------
        >>> q = Period("quarter", 2026, 3)
        >>> q.contains("2026-09-30 23:59"), q.contains("2026-10-01")
        (True, False)
        >>> q.contains(Period("month", 2026, 8))
        True
        """
        if isinstance(other, Period):
            return self.start <= other.start and other.end <= self.end
        stamp = _scalar_timestamp(other, "other")
        return stamp is not None and self.start <= stamp < self.end

    # -- ordering ---------------------------------------------------------------------------

    def _comparable(self, other) -> bool:
        if not isinstance(other, Period):
            return False
        if (self.freq, self.fy_start) != (other.freq, other.fy_start):
            raise ParameterError(
                f"Cannot order {self.label} ({_describe(self)}) against {other.label} ({_describe(other)}): "
                "only periods of the same kind and fiscal calendar are ordered."
            )
        return True

    def __lt__(self, other):
        return self.ordinal < other.ordinal if self._comparable(other) else NotImplemented

    def __le__(self, other):
        return self.ordinal <= other.ordinal if self._comparable(other) else NotImplemented

    def __gt__(self, other):
        return self.ordinal > other.ordinal if self._comparable(other) else NotImplemented

    def __ge__(self, other):
        return self.ordinal >= other.ordinal if self._comparable(other) else NotImplemented


def _describe(p: Period) -> str:
    """'a quarter', 'a fiscal quarter (year from July)', ... for error messages."""
    if p.fy_start == 1:
        return f"a {p.freq}" if p.freq == "month" else f"a calendar {p.freq}"
    return f"a fiscal {p.freq}, year from {_MONTH_NAMES[p.fy_start - 1]}"


def _scalar_timestamp(value, name: str) -> pd.Timestamp | None:
    """A naive wall-clock Timestamp, or None for a missing time."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"The value for `{name}` must be a timestamp, but {value!r} was passed ({exc}).") from None
    if stamp is pd.NaT:
        return None
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


# --------------------------------------------------------------------------------------------
# parsing


def _not_a_period(text) -> ParameterError:
    return ParameterError(f"{text!r} is not a period: {_FORMS}.")


def parse_period(text, *, fy_start: int | None = None) -> Period:
    """Read a period label.

    Parameters
    ----------
    text : str or Period
        A month (``"2026-09"``, ``"2026/09"``, ``"2026M09"``, ``"2026-9"``), a quarter (``"2026Q3"``,
        ``"2026-Q3"``, ``"2026 Q3"``, ``"Q3 2026"``, ``"FY2027Q1"``, ``"FY2027-Q1"``, ``"Q1 FY2027"``)
        or a year (``"2026"``, ``"FY2027"``); case and surrounding spaces are ignored. A
        :class:`Period` is returned as it is.
    fy_start : int, optional
        Month (1-12) in which the fiscal year starts. ``None`` (default) means 1 for a label, and the
        period's own calendar for a :class:`Period`.

    Returns
    -------
    Period

    Raises
    ------
    ParameterError
        When ``text`` is not a period label; when a quarter or year lacks the ``FY`` prefix although
        ``fy_start`` is not 1 (``"2026Q3"`` is a calendar quarter and cannot be placed on a July
        fiscal calendar without ambiguity); when a :class:`Period` of another fiscal calendar is passed
        together with ``fy_start``.

    Notes
    -----
    With ``fy_start=1`` an ``FY`` prefix is accepted and means the calendar year:
    ``parse_period("FY2027Q1")`` is 2027Q1. Fiscal years are named by the year in which they end.

    Examples
    --------
    >>> parse_period("Q3 2026").label
    '2026Q3'
    >>> parse_period("2026/9").label
    '2026-09'
    >>> p = parse_period("fy2027-q1", fy_start=7)
    >>> p.label, p.start.date()
    ('FY2027Q1', datetime.date(2026, 7, 1))
    >>> parse_period("2026Q5")
    Traceback (most recent call last):
    ...
    csatkit.exceptions.ParameterError: '2026Q5' is not a period: expected a month like '2026-09', a quarter like '2026Q3' or 'FY2027Q1', or a year like '2026'.
    """
    if isinstance(text, Period):
        if fy_start is not None and text.freq != "month" and text.fy_start != _check_fy_start(fy_start):
            raise ParameterError(
                f"The period {text.label} is {_describe(text)}, but fy_start={fy_start} was passed with it; "
                "pass a period of that fiscal calendar, or a label."
            )
        return text
    if not isinstance(text, str):
        raise ParameterError(
            f"A period must be a Period or a label string, but {text!r} ({type(text).__name__}) was passed: {_FORMS}."
        )
    fy = 1 if fy_start is None else _check_fy_start(fy_start)
    cleaned = re.sub(r"\s+", " ", text.strip().upper())

    if m := _MONTH_RE.fullmatch(cleaned):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise _not_a_period(text)
        return _build(text, "month", year, month, fy)

    fiscal, year, number, freq = None, None, 1, None
    if m := _QUARTER_RE.fullmatch(cleaned):
        fiscal, year, number, freq = m[1], int(m[2]), int(m[3]), "quarter"
    elif m := _QUARTER_FIRST_RE.fullmatch(cleaned):
        fiscal, year, number, freq = m[2], int(m[3]), int(m[1]), "quarter"
    elif m := _YEAR_RE.fullmatch(cleaned):
        fiscal, year, freq = m[1], int(m[2]), "year"
    if freq is None or (freq == "quarter" and not 1 <= number <= 4):
        raise _not_a_period(text)
    if fy != 1 and not fiscal:
        raise _calendar_label_on_fiscal(text, freq, year, number, fy)
    return _build(text, freq, year, number, fy)


def _build(text, freq, year, index, fy_start) -> Period:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ParameterError(f"{text!r} is not a period csatkit handles: years must lie in {_MIN_YEAR} to {_MAX_YEAR}.")
    return Period(freq, year, index, fy_start=fy_start)


def _calendar_label_on_fiscal(text, freq, year, number, fy_start) -> ParameterError:
    month = _MONTH_NAMES[fy_start - 1]
    if freq == "quarter":
        cal = Period("quarter", year, number) if _MIN_YEAR <= year <= _MAX_YEAR else None
        fiscal = Period.containing(cal.start, "quarter", fy_start=fy_start) if cal else None
        hint = (
            f" {cal.label} is {fiscal.label} when the fiscal year starts in {month}."
            if fiscal is not None and fiscal.start == cal.start
            else ""
        )
        example = f"'FY{year}Q{number}'"
    else:
        hint, example = "", f"'FY{year}'"
    return ParameterError(
        f"{text!r} names a calendar {freq}, but fy_start={fy_start} asks for fiscal {freq}s (year from {month}): "
        f"write a fiscal label such as {example} (fiscal years are named by the year they end in), "
        f"or leave fy_start at 1 for calendar {freq}s.{hint}"
    )


# --------------------------------------------------------------------------------------------
# ranges


def periods_between(first, last, *, fy_start: int | None = None) -> list[Period]:
    """Every period from ``first`` to ``last``, both included, oldest first.

    Parameters
    ----------
    first, last : Period or str
        Periods of the same kind and fiscal calendar, ``first`` not after ``last``.
    fy_start : int, optional
        Fiscal-year start month used to read labels (see :func:`parse_period`).

    Returns
    -------
    list of Period

    Examples
    --------
    >>> [p.label for p in periods_between("2025Q4", "2026Q2")]
    ['2025Q4', '2026Q1', '2026Q2']
    """
    a = parse_period(first, fy_start=fy_start)
    b = parse_period(last, fy_start=fy_start)
    if (a.freq, a.fy_start) != (b.freq, b.fy_start):
        raise ParameterError(
            f"`first` and `last` must be periods of the same kind, but {a.label} is {_describe(a)} "
            f"and {b.label} is {_describe(b)}."
        )
    if a > b:
        raise ParameterError(f"`first` must not come after `last`, but {a.label} comes after {b.label}.")
    return [Period._from_ordinal(a.freq, o, a.fy_start) for o in range(a.ordinal, b.ordinal + 1)]


def period_range(spec, *, fy_start: int | None = None) -> list[Period]:
    """The periods of an inclusive range written ``"first:last"``, oldest first.

    Parameters
    ----------
    spec : str
        Two period labels of the same kind joined by a colon, e.g. ``"2025Q1:2026Q3"``,
        ``"2026-01:2026-06"``, ``"FY2025:FY2027"``. A single label gives a one-period list.
    fy_start : int, optional
        Month (1-12) in which the fiscal year starts, for ``FY`` labels.

    Returns
    -------
    list of Period

    Raises
    ------
    ParameterError
        When either end is not a period, the ends are of different kinds, or the start comes after
        the end.

    Examples
    --------
    >>> len(period_range("2025Q1:2026Q3"))
    7
    >>> [p.label for p in period_range("FY2026Q4:FY2027Q2", fy_start=7)]
    ['FY2026Q4', 'FY2027Q1', 'FY2027Q2']
    """
    if not isinstance(spec, str):
        raise ParameterError(
            f"A period range must be a string such as '2025Q1:2026Q3', but {spec!r} ({type(spec).__name__}) was passed."
        )
    parts = spec.split(":")
    if len(parts) == 1:
        return [parse_period(spec, fy_start=fy_start)]
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise ParameterError(
            f"{spec!r} is not a period range: expected two periods joined by ':', e.g. '2025Q1:2026Q3'."
        )
    a = parse_period(parts[0].strip(), fy_start=fy_start)
    b = parse_period(parts[1].strip(), fy_start=fy_start)
    if a.freq != b.freq:
        raise ParameterError(
            f"{spec!r} mixes {_describe(a)} and {_describe(b)}: both ends of a period range must be of the "
            "same kind, e.g. '2025Q1:2026Q3' or '2025-01:2026-09'."
        )
    if a > b:
        raise ParameterError(f"{spec!r} runs backwards: {a.label} comes after {b.label}; write '{b.label}:{a.label}'.")
    return periods_between(a, b)


def last_n(period, n: int, *, fy_start: int | None = None) -> list[Period]:
    """The ``n`` periods ending at ``period`` (included), oldest first: the window of an n-period trend.

    Examples
    --------
    >>> [p.label for p in last_n("2026Q1", 3)]
    ['2025Q3', '2025Q4', '2026Q1']
    """
    p = parse_period(period, fy_start=fy_start)
    n = _check_int("n", n, 1, 10**6)
    return periods_between(p.previous(n - 1), p)


# --------------------------------------------------------------------------------------------
# vectorised bucketing


def _copy_on_write() -> bool:
    """Whether pandas copies a frame's data on write (always from pandas 3; an option of pandas 2)."""
    if int(pd.__version__.split(".", 1)[0]) >= 3:
        return True
    return pd.get_option("mode.copy_on_write") is True


def _take_rows(df: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """``df.loc[keep]`` for a boolean array ``keep``, as a slice when the rows kept are one run.

    Time-ordered data (as exports usually are) hold a period's rows, or a run of periods, as one
    block: a slice shares the columns where a mask would copy every one of them. Under copy-on-write
    the slice is as independent of ``df`` as the copy; otherwise it is copied, which is still cheaper
    than a masked selection.
    """
    kept = int(np.count_nonzero(keep))
    if kept:
        first = int(np.argmax(keep))
        if keep[first:first + kept].all():
            rows = df.iloc[first:first + kept]
            return rows if _copy_on_write() else rows.copy()
    return df.loc[keep]


def _as_datetime_series(values, name: str) -> pd.Series:
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        raise InputError(
            f"{name} must hold datetimes, but it has dtype {series.dtype}. Convert it first, "
            "e.g. with pandas.to_datetime(...), or read the file with csatkit.load."
        )
    return series


#: Ticks per day of the datetime64 units that a day is a whole number of.
_UNITS_PER_DAY = {"D": 1, "h": 24, "m": 24 * 60, "s": 86_400, "ms": 86_400_000, "us": 86_400_000_000,
                  "ns": 86_400_000_000_000}


class _Days:
    """The days of a datetime Series, prepared for table lookups.

    Each row is cast once to its day number; a value that depends only on the calendar month
    (a period, a yes/no for "in this period") is then computed once per day between the earliest
    and the latest timestamp and looked up per row. Time-zone-aware values are taken at their
    local wall-clock time.

    Attributes
    ----------
    offsets : ndarray of int64
        Day of each row counted from the earliest day (0 for missing rows).
    missing : ndarray of bool
        Rows whose timestamp is missing (NaT).
    months : ndarray of int64
        Calendar month ordinal (``12 * year + month - 1``) of each day from the earliest to the latest.
    """

    def __init__(self, series: pd.Series, what: str):
        dtype = series.dtype
        if getattr(dtype, "tz", None) is not None or getattr(getattr(dtype, "pyarrow_dtype", None), "tz", None):
            series = series.dt.tz_localize(None)
        values = series.to_numpy()
        if values.dtype.kind != "M":  # e.g. pyarrow-backed timestamps
            values = series.astype("datetime64[ns]").to_numpy()
        unit, count = np.datetime_data(values.dtype)
        per_day = _UNITS_PER_DAY.get(unit) if count == 1 else None
        if per_day is not None:
            # the day of each value by floor division, as the cast to datetime64[D] gives it (also
            # before 1970), at a fraction of the cast's cost; NaT is the smallest int64
            ints = values.view(np.int64)
            self.missing = ints == np.iinfo(np.int64).min
            day_ints = ints // per_day
        else:
            days = values.astype("datetime64[D]")
            self.missing = np.isnat(days)
            day_ints = days.view(np.int64)
        if self.missing.all():
            self.offsets = np.zeros(len(day_ints), dtype=np.int64)
            self.months = np.zeros(0, dtype=np.int64)
            return
        has_missing = bool(self.missing.any())
        valid = day_ints[~self.missing] if has_missing else day_ints
        lo, hi = int(valid.min()), int(valid.max())
        first, last = (pd.Timestamp(np.datetime64(d, "D")).year for d in (lo, hi))
        if first < _MIN_YEAR or last > _MAX_YEAR - 1:
            raise InputError(
                f"{what} must fall within the years {_MIN_YEAR} to {_MAX_YEAR - 1}, but runs from {first} to {last}."
            )
        # at most ~3.3 million days between the years 1000 and 9997
        self.months = np.arange(lo, hi + 1, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]")
        self.months = self.months.view(np.int64) + 12 * 1970
        self.offsets = day_ints - lo
        if has_missing:
            self.offsets[self.missing] = 0


def _label_series(codes: np.ndarray, missing: np.ndarray, labels: list[str], index, name) -> pd.Series:
    """``labels[codes]`` as a Series of the dtype pandas uses for strings, missing where ``missing``."""
    string_dtype = pd.Series(["x"]).dtype
    if isinstance(string_dtype, pd.StringDtype) and string_dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        taken = pc.take(pa.array(labels, pa.string()), pa.array(codes, type=pa.int32(), mask=missing))
        return pd.Series(pd.array(taken, dtype=string_dtype), index=index, name=name, copy=False)
    taken = np.asarray(labels, dtype=object)[codes]
    taken[missing] = None
    return pd.Series(taken, index=index, name=name, dtype=string_dtype)


def assign_periods(timestamps, freq: str = "quarter", *, fy_start: int = 1) -> pd.Series:
    """Label each timestamp with the period that contains it.

    Parameters
    ----------
    timestamps : pandas.Series (or array-like) of datetime64
        Naive or time-zone-aware (placed by local wall-clock time); any resolution.
    freq : {"month", "quarter", "year"}, default "quarter"
    fy_start : int, default 1
        Month (1-12) in which the fiscal year starts; fiscal years are named by the year they end in.

    Returns
    -------
    pandas.Series of str
        Period labels (``"2026Q3"``, ``"FY2027Q1"``, ``"2026-09"``), with the index of ``timestamps``,
        named ``freq``; missing where the timestamp is missing (NaT). Labels of one kind sort in time
        order.

    Raises
    ------
    InputError
        When the values are not datetimes, or fall outside the years 1000 to 9997.

    Notes
    -----
    Vectorised integer arithmetic: each row costs one cast to days and one table lookup, so ten
    million rows take a fraction of a second.

    Examples
    --------
    >>> ts = pd.Series(pd.to_datetime(["2026-06-30 23:59", "2026-07-01 00:00", None]))
    >>> assign_periods(ts, "quarter", fy_start=7).tolist()
    ['FY2026Q4', 'FY2027Q1', nan]
    >>> assign_periods(ts, "month").tolist()
    ['2026-06', '2026-07', nan]
    """
    freq = _check_freq(freq)
    fy_start = _check_fy_start(fy_start)
    return _assign(_as_datetime_series(timestamps, "`timestamps`"), freq, fy_start, "`timestamps`")


def _period_codes(series: pd.Series, freq: str, fy_start: int, what: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(code of each row, labels of the periods from the earliest to the latest, missing rows).

    ``labels[code]`` is the row's period; the codes of missing rows are 0 (see the mask).
    """
    days = _Days(series, what)
    if days.months.size == 0:
        return days.offsets.astype(np.int32), [""], days.missing
    ordinals = _period_ordinal_of_months(days.months, freq, fy_start)  # one per day, non-decreasing
    lo, hi = int(ordinals[0]), int(ordinals[-1])
    labels = [Period._from_ordinal(freq, o, fy_start).label for o in range(lo, hi + 1)]
    codes = (ordinals - lo).astype(np.int32)[days.offsets]
    return codes, labels, days.missing


def _assign(series: pd.Series, freq: str, fy_start: int, what: str) -> pd.Series:
    codes, labels, missing = _period_codes(series, freq, fy_start, what)
    return _label_series(codes, missing, labels, series.index, freq)


def _period_categories(timestamps, freq: str = "quarter", *, fy_start: int = 1) -> pd.Series:
    """:func:`assign_periods` as a categorical Series: the same labels, without a string per row.

    The categories are the periods from the earliest to the latest timestamp, in time order
    (including periods without a timestamp); missing timestamps are missing. Grouping and
    filtering by the categorical codes is much cheaper than by strings on large data.

    Examples
    --------
    >>> ts = pd.Series(pd.to_datetime(["2026-06-30 23:59", "2026-10-01 00:00", None]))
    >>> s = _period_categories(ts, "quarter")
    >>> s.tolist(), list(s.cat.categories)
    (['2026Q2', '2026Q4', nan], ['2026Q2', '2026Q3', '2026Q4'])
    """
    freq = _check_freq(freq)
    fy_start = _check_fy_start(fy_start)
    series = _as_datetime_series(timestamps, "`timestamps`")
    codes, labels, missing = _period_codes(series, freq, fy_start, "`timestamps`")
    codes = np.where(missing, -1, codes)
    if missing.all():
        labels = []
    cat = pd.Categorical.from_codes(codes, categories=labels)
    return pd.Series(cat, index=series.index, name=freq, copy=False)


def add_period(
    df: pd.DataFrame,
    freq: str = "quarter",
    *,
    column: str = "interaction_at",
    name: str | None = None,
    fy_start: int = 1,
) -> pd.DataFrame:
    """A copy of ``df`` with a column of period labels for the timestamps in ``column``.

    Parameters
    ----------
    df : pandas.DataFrame
    freq : {"month", "quarter", "year"}, default "quarter"
    column : str, default "interaction_at"
        Datetime column to bucket.
    name : str, optional
        Name of the new column; ``freq`` when omitted (``"quarter"``). An existing column of that
        name is replaced in the copy.
    fy_start : int, default 1
        Month (1-12) in which the fiscal year starts.

    Returns
    -------
    pandas.DataFrame
        ``df`` plus the column ``name`` of labels (see :func:`assign_periods`); ``df`` is unchanged.

    Raises
    ------
    MissingColumnError
        When ``column`` is absent.
    InputError
        When ``column`` does not hold datetimes.

    Examples
    --------
    >>> df = pd.DataFrame({"interaction_at": pd.to_datetime(["2026-03-31", "2026-04-01"])})
    >>> add_period(df, "quarter", fy_start=4)["quarter"].tolist()
    ['FY2026Q4', 'FY2027Q1']
    """
    freq = _check_freq(freq)
    fy_start = _check_fy_start(fy_start)
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"The value for `df` must be a pandas DataFrame, but a {type(df).__name__} was passed.")
    check_columns(df.columns, [column], where="the DataFrame")
    name = freq if name is None else name
    series = _as_datetime_series(df[column], f"Column {column!r}")
    labels = _assign(series, freq, fy_start, f"Column {column!r}")
    return df.assign(**{name: labels.rename(name)})


def filter_period(
    df: pd.DataFrame,
    period,
    *,
    column: str = "interaction_at",
    fy_start: int | None = None,
) -> pd.DataFrame:
    """The rows of ``df`` whose timestamp in ``column`` falls within ``period``.

    Parameters
    ----------
    df : pandas.DataFrame
    period : Period or str
        E.g. ``"2026Q3"``, ``"FY2027Q1"`` (with ``fy_start``), ``"2026-09"``.
    column : str, default "interaction_at"
    fy_start : int, optional
        Fiscal-year start month used to read a label (see :func:`parse_period`).

    Returns
    -------
    pandas.DataFrame
        The matching rows, in their original order and with their index; rows with a missing
        timestamp never match. Agrees row for row with :func:`assign_periods`. When the rows form
        one run (time-ordered data) the result is a slice of ``df``: changing either leaves the
        other as it was (copy-on-write), but the slice keeps ``df``'s memory in use; ``.copy()`` it
        to keep a small period of a large frame on its own.

    Examples
    --------
    >>> df = pd.DataFrame({"interaction_at": pd.to_datetime(["2026-06-30", "2026-07-01", "2026-10-01"])})
    >>> filter_period(df, "FY2027Q1", fy_start=7).index.tolist()
    [1]
    """
    p = parse_period(period, fy_start=fy_start)
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"The value for `df` must be a pandas DataFrame, but a {type(df).__name__} was passed.")
    check_columns(df.columns, [column], where="the DataFrame")
    series = _as_datetime_series(df[column], f"Column {column!r}")
    days = _Days(series, f"Column {column!r}")
    first = p._start_month_ordinal
    inside = (days.months >= first) & (days.months < first + _MONTHS_PER[p.freq])
    keep = inside[days.offsets] & ~days.missing if inside.size else np.zeros(len(df), dtype=bool)
    return _take_rows(df, keep)
