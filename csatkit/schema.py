"""Canonical columns of the three kinds of input, and the ledger that accounts for every row read.

The ledger keeps one promise: ``rows_read == rows_kept + rows_excluded``. Every row a loader reads
is either kept or excluded with a named reason; a few example row numbers are kept per reason so
that an analyst can open the file at the right place.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from .exceptions import InputError

__all__ = [
    "RESPONSE_COLUMNS",
    "QA_COLUMNS",
    "CONTACT_COLUMNS",
    "ITEM_PREFIX",
    "EXCLUSION_REASONS",
    "STRING_DTYPE",
    "Ledger",
    "Loaded",
]

RESPONSE_COLUMNS = [
    "response_id", "interaction_id", "customer_id", "channel", "contact_reason", "agent_id", "team",
    "interaction_at", "responded_at", "score", "scale", "comment", "weight",
]
QA_COLUMNS = [
    "evaluation_id", "interaction_id", "agent_id", "team", "evaluator_id", "evaluated_at", "channel",
    "contact_reason", "qa_score",
]
CONTACT_COLUMNS = [
    "interaction_id", "customer_id", "channel", "contact_reason", "agent_id", "team", "opened_at",
    "first_response_at", "resolved_at", "repeat_contact", "resolved_first_contact", "survey_sent", "churned",
]
ITEM_PREFIX = "item_"

#: Reasons a row can be excluded, with the sentence shown in ledgers and reports.
EXCLUSION_REASONS = {
    "blank_row": "blank or separator-only line",
    "missing_score": "score missing",
    "score_out_of_range": "score outside the scale",
    "unknown_label": "label not on the scale",
    "nonsubstantive_answer": "don't know / refused / not applicable code",
    "duplicate_response_id": "duplicate response id",
    "unparseable_timestamp": "timestamp could not be parsed",
    "missing_channel": "channel missing",
    "missing_id": "identifier missing",
    "duplicate_id": "duplicate identifier (evaluation or interaction id)",
    "not_surveyed": "not surveyed (no survey was offered)",
    "unknown_scale": "scale name not registered",
    "invalid_weight": "weight missing, negative or not a number",
    "invalid_value": "value not of the expected type",
    "outside_period": "outside the requested period",
}

#: dtype of the text columns of every canonical frame (ids, channel, reason, agent, team, comment, scale):
#: pandas' string dtype with NaN as the missing value (the default ``str`` dtype of pandas 3).
try:
    STRING_DTYPE = pd.StringDtype(na_value=np.nan)
except TypeError:  # pandas < 2.3 has no NaN-backed string dtype
    STRING_DTYPE = pd.StringDtype()

_MAX_EXAMPLES = 5


@dataclass
class Ledger:
    """Where every row of one load went.

    Attributes
    ----------
    source : str
        File name (or "DataFrame") the rows came from.
    rows_read : int
        Data rows read (header lines not counted).
    excluded : dict
        reason -> number of rows excluded for it. Each row is excluded for one reason only
        (the first that applies, in the order the loader checks them).
    examples : dict
        reason -> up to five example row numbers (1-based data rows of the source).
    unanswered : int
        Rows kept that record a survey sent but not answered (no score). Not an exclusion:
        they feed the response rate.
    recoded : dict
        "column: reason" -> number of cells set to missing without excluding the row
        (e.g. a QA item answered "not applicable").
    notes : list of str
        Decisions the loader took (detected encoding, delimiter, date order, column map).
    """

    source: str = "DataFrame"
    rows_read: int = 0
    excluded: dict = field(default_factory=dict)
    examples: dict = field(default_factory=dict)
    unanswered: int = 0
    recoded: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    @property
    def rows_excluded(self) -> int:
        return int(sum(self.excluded.values()))

    @property
    def rows_kept(self) -> int:
        return int(self.rows_read - self.rows_excluded)

    @property
    def rows_answered(self) -> int:
        return self.rows_kept - self.unanswered

    def exclude(self, reason: str, rows) -> None:
        """Record rows (1-based data row numbers, array-like) as excluded for ``reason``."""
        rows = np.asarray(rows).ravel()
        if rows.size == 0:
            return
        if reason not in EXCLUSION_REASONS:
            raise InputError(f"Unknown exclusion reason {reason!r}; known reasons: {sorted(EXCLUSION_REASONS)}.")
        self.excluded[reason] = self.excluded.get(reason, 0) + int(rows.size)
        ex = self.examples.setdefault(reason, [])
        for r in rows[: _MAX_EXAMPLES - len(ex)]:
            ex.append(int(r))

    def recode(self, column: str, reason: str, count: int) -> None:
        """Record ``count`` cells of ``column`` set to missing for ``reason`` (row kept)."""
        if count:
            key = f"{column}: {reason}"
            self.recoded[key] = self.recoded.get(key, 0) + int(count)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def check(self, kept: int) -> None:
        """Raise if the rows kept by the loader differ from what the ledger accounts for."""
        if kept != self.rows_kept:
            raise InputError(
                f"Ledger for {self.source} does not add up: {self.rows_read} rows read, "
                f"{self.rows_excluded} excluded, but {kept} kept instead of {self.rows_kept}."
            )

    def to_frame(self) -> pd.DataFrame:
        """One row per outcome: kept, each exclusion reason; columns ``outcome, reason, rows, share, example_rows``."""
        total = max(self.rows_read, 1)
        rows = [("kept", "answered", self.rows_answered, "")]
        if self.unanswered:
            rows.append(("kept", "sent, not answered (counts toward the response rate)", self.unanswered, ""))
        for reason, count in sorted(self.excluded.items(), key=lambda kv: -kv[1]):
            ex = ", ".join(str(r) for r in self.examples.get(reason, []))
            rows.append(("excluded", EXCLUSION_REASONS.get(reason, reason), count, ex))
        df = pd.DataFrame(rows, columns=["outcome", "reason", "rows", "example_rows"])
        df.insert(3, "share", df["rows"] / total * 100)
        return df

    def summary(self) -> str:
        lines = [
            f"Source: {self.source}",
            f"Rows read: {self.rows_read:,}   kept: {self.rows_kept:,}   excluded: {self.rows_excluded:,}",
        ]
        if self.unanswered:
            lines.append(f"  of the kept rows, {self.unanswered:,} record a survey sent but not answered")
        for reason, count in sorted(self.excluded.items(), key=lambda kv: -kv[1]):
            ex = ", ".join(str(r) for r in self.examples.get(reason, []))
            lines.append(f"  excluded, {EXCLUSION_REASONS.get(reason, reason)}: {count:,} (e.g. rows {ex})")
        for key, count in self.recoded.items():
            lines.append(f"  cells set to missing, {key}: {count:,}")
        for text in self.notes:
            lines.append(f"  note: {text}")
        return "\n".join(lines)

    __str__ = summary

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{html.escape(self.source)}</b>: {self.rows_read:,} rows read, {self.rows_kept:,} kept, "
            f"{self.rows_excluded:,} excluded</p>"
        )
        return head + self.to_frame().to_html(index=False, escape=True, float_format=lambda v: f"{v:.1f}")

    def merge(self, other: "Ledger") -> "Ledger":
        """The ledger of two loads taken together (e.g. several files of one data set)."""
        out = Ledger(source=f"{self.source} + {other.source}", rows_read=self.rows_read + other.rows_read,
                     unanswered=self.unanswered + other.unanswered, notes=self.notes + other.notes)
        for src in (self, other):
            for reason, count in src.excluded.items():
                out.excluded[reason] = out.excluded.get(reason, 0) + count
                out.examples.setdefault(reason, []).extend(src.examples.get(reason, []))
            for key, count in src.recoded.items():
                out.recoded[key] = out.recoded.get(key, 0) + count
        return out


class Loaded(NamedTuple):
    """What every loader returns: the rows kept, in the canonical schema, and the ledger.

    Unpack it: ``responses, ledger = read_responses("export.csv")``.
    """

    data: pd.DataFrame
    ledger: Ledger
