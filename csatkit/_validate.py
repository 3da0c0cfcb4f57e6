"""Shared argument checks: one place for the wording of csatkit's error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from .exceptions import MissingColumnError, ParameterError


def check_choice(name: str, value, allowed: Iterable) -> None:
    """Raise if ``value`` is not one of ``allowed``.

    The message reads "The value for `name` must be one of {...}, but 'x' was passed."
    """
    allowed = list(allowed)
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise ParameterError(f"The value for `{name}` must be one of {{{shown}}}, but {value!r} was passed.")


def check_range(name: str, value, low=None, high=None, *, inclusive: bool = True) -> None:
    """Raise if ``value`` is not a number within [low, high] (or (low, high) when not inclusive)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"The value for `{name}` must be a number, but {value!r} was passed.") from None
    bad = False
    if low is not None:
        bad |= v < low if inclusive else v <= low
    if high is not None:
        bad |= v > high if inclusive else v >= high
    if bad or v != v:
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        brackets = "[]" if inclusive else "()"
        raise ParameterError(
            f"The value for `{name}` must lie in {brackets[0]}{lo}, {hi}{brackets[1]}, but {value!r} was passed."
        )


def nearest(name: str, candidates: Sequence[str]) -> str | None:
    """The candidate closest to ``name`` (case-insensitive), or None when nothing is close."""
    lowered = {str(c).lower(): c for c in candidates}
    match = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[match[0]] if match else None


def check_columns(columns: Iterable[str], required: Iterable[str], *, where: str = "the data") -> None:
    """Raise :class:`MissingColumnError` naming the first missing column, those present, and the nearest match."""
    present = [str(c) for c in columns]
    for col in required:
        if col not in present:
            hint = nearest(col, present)
            tip = f" Did you mean {hint!r}? Pass a column map, e.g. columns={{{hint!r}: {col!r}}}." if hint else ""
            raise MissingColumnError(
                f"Required column {col!r} is missing from {where}; columns present: {present}.{tip}"
            )


def as_list(value) -> list:
    """``None`` -> [], a string -> [string], any other iterable -> list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)
