"""The score table: how many responses fell on each point of the scale, per group.

Nearly every headline figure (% satisfied, mean score, NPS, CES, their intervals, a chi-square
between channels, a pooled total for a quarter) is a function of this small table. csatkit
computes it once with :func:`tabulate` and derives everything from it.

Examples
--------
>>> import pandas as pd
>>> from csatkit.counts import tabulate
>>> df = pd.DataFrame({"channel": ["email", "email", "phone"], "score": [5, 2, 4]})
>>> t = tabulate(df, by="channel", scale="likert5")
>>> t.counts
  channel  score  n
0   email      2  1
1   email      5  1
2   phone      4  1
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._validate import as_list, check_columns
from .exceptions import InputError, ParameterError
from .scales import SCALES, Scale, get_scale, names_for

__all__ = ["ScoreTable", "tabulate", "select_scale", "PERIOD_KEYS"]

#: Grouping keys that tabulate derives from ``interaction_at`` when the column is absent.
PERIOD_KEYS = ("month", "quarter", "year")


@dataclass(frozen=True)
class ScoreTable:
    """Counts per group per scale point.

    Attributes
    ----------
    counts : DataFrame
        Long table: the group keys, ``score`` (a point of the scale), ``n`` (responses), and when
        weighted ``w`` (sum of weights) and ``w2`` (sum of squared weights). Only observed points
        appear; :meth:`wide` fills the others with zeros.
    by : tuple of str
        Group keys (the cluster key, when given, is kept separately).
    scale : Scale
        The scale the scores are points of.
    weighted : bool
        Whether ``w`` and ``w2`` are real survey weights (otherwise they equal ``n``).
    cluster : str or None
        A cluster key (e.g. ``agent_id``) kept as an extra key column so that intervals can
        account for clustering without going back to the rows.
    unanswered : DataFrame or None
        Group keys and ``unanswered``: surveys sent but not answered (rows with no score).
    """

    counts: pd.DataFrame
    by: tuple
    scale: Scale
    weighted: bool = False
    cluster: str | None = None
    unanswered: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def keys(self) -> list[str]:
        """All key columns of :attr:`counts`: the group keys, then the cluster key."""
        return list(self.by) + ([self.cluster] if self.cluster else [])

    @property
    def n(self) -> int:
        return int(self.counts["n"].sum())

    def wide(self, value: str = "n", *, keys: list[str] | None = None) -> pd.DataFrame:
        """Group keys as index, scale points as columns (all of them, zeros filled)."""
        keys = self.keys if keys is None else keys
        pts = list(self.scale.points)
        if not keys:
            s = self.counts.groupby("score")[value].sum().reindex(pts, fill_value=0)
            return pd.DataFrame([s.to_numpy()], columns=pts, index=pd.RangeIndex(1))
        # as pivot_table(index=keys, columns="score", aggfunc="sum", fill_value=0), at a third of the cost
        w = self.counts.groupby(keys + ["score"], observed=True, sort=True)[value].sum().unstack("score", fill_value=0)
        w = w.reindex(columns=pts, fill_value=0)
        w.columns.name = None
        return w

    def collapse(self, by=None, *, keep_cluster: bool = True) -> "ScoreTable":
        """The same counts summed over fewer keys (e.g. a quarter's total over channels)."""
        by = as_list(by)
        missing = [b for b in by if b not in self.by]
        if missing:
            raise ParameterError(
                f"Cannot collapse to {missing}: the score table is grouped by {list(self.by)} only; "
                "tabulate again with those keys."
            )
        cluster = self.cluster if keep_cluster else None
        keys = by + ([cluster] if cluster else []) + ["score"]
        vals = ["n", "w", "w2"] if self.weighted else ["n"]
        counts = self.counts.groupby(keys, observed=True, sort=True)[vals].sum().reset_index()
        unans = None
        if self.unanswered is not None:
            if by:
                unans = self.unanswered.groupby(by, observed=True)["unanswered"].sum().reset_index()
            else:
                unans = pd.DataFrame({"unanswered": [int(self.unanswered["unanswered"].sum())]})
        return ScoreTable(counts, tuple(by), self.scale, self.weighted, cluster, unans)

    def filter(self, **equals) -> "ScoreTable":
        """Keep the groups whose keys equal the given values, e.g. ``t.filter(quarter="2026Q3")``."""
        mask = np.ones(len(self.counts), dtype=bool)
        umask = None if self.unanswered is None else np.ones(len(self.unanswered), dtype=bool)
        for k, v in equals.items():
            if k not in self.keys:
                raise ParameterError(f"The score table has no key {k!r}; its keys are {self.keys}.")
            mask &= (self.counts[k] == v).to_numpy()
            if umask is not None and k in self.unanswered:
                umask &= (self.unanswered[k] == v).to_numpy()
        unans = None if umask is None else self.unanswered[umask].reset_index(drop=True)
        return ScoreTable(self.counts[mask].reset_index(drop=True), self.by, self.scale, self.weighted, self.cluster, unans)

    @classmethod
    def from_counts(cls, counts: pd.DataFrame, *, by=None, scale, cluster=None, weighted: bool | None = None) -> "ScoreTable":
        """Build a score table from counts computed elsewhere (a warehouse, DuckDB, a published table).

        ``counts`` needs the key columns, ``score`` and ``n``; ``w`` and ``w2`` when weighted.
        """
        scale = get_scale(scale)
        by = as_list(by)
        need = by + ([cluster] if cluster else []) + ["score", "n"]
        check_columns(counts.columns, need, where="the counts table")
        weighted = bool({"w", "w2"} <= set(counts.columns)) if weighted is None else weighted
        if weighted:
            check_columns(counts.columns, ["w", "w2"], where="the counts table")
        out = counts[need + (["w", "w2"] if weighted else [])].copy()
        bad = ~out["score"].isin(list(scale.points))
        if bad.any():
            raise InputError(
                f"Column 'score' of the counts table holds {_show(out.loc[bad, 'score'].iloc[0])}, "
                f"which is not a point of scale {scale.name!r} {list(scale.points)}."
            )
        if (out["n"] < 0).any():
            raise InputError("Column 'n' of the counts table holds negative counts.")
        return cls(out.reset_index(drop=True), tuple(by), scale, weighted, cluster, None)

    def _repr_html_(self) -> str:
        head = f"<p>Score table on scale <b>{html.escape(self.scale.name)}</b>, n = {self.n:,}</p>"
        return head + self.wide().to_html()


def select_scale(data: pd.DataFrame, scale=None, *, kind: str | None = None, column: str = "scale") -> Scale:
    """Decide which scale's rows a metric uses.

    With ``scale`` given, it is looked up. Otherwise the data's ``scale`` column must hold exactly one
    scale of the wanted ``kind`` ("csat", "nps", "ces"); several or none is an error that lists them.
    """
    if scale is not None:
        return get_scale(scale)
    if column not in data.columns:
        kinds = {"nps": "nps", "ces": "ces7"}
        hint = f" (e.g. scale={kinds.get(kind, 'likert5')!r})"
        raise ParameterError(f"The data has no {column!r} column, so pass `scale=`{hint}; known scales: {list(SCALES)}.")
    present = [s for s in pd.unique(data[column].dropna()) if s is not None]
    unknown = [s for s in present if str(s) not in SCALES]
    if unknown:
        raise InputError(f"Column {column!r} holds unknown scale names {unknown}; known scales: {list(SCALES)}.")
    candidates = [str(s) for s in present if kind is None or SCALES[str(s)].kind == kind]
    if len(candidates) == 1:
        return get_scale(candidates[0])
    what = f"{kind} scale" if kind else "scale"
    if not candidates:
        raise InputError(f"The data holds no {what}: column {column!r} has {sorted(map(str, present))}.")
    raise ParameterError(
        f"The data holds several {what}s {sorted(candidates)}; pass `scale=` to choose one."
    )


def _derive_periods(data: pd.DataFrame, keys: list[str], fy_start: int) -> pd.DataFrame:
    need = [k for k in keys if k in PERIOD_KEYS and k not in data.columns]
    if not need:
        return data
    if "interaction_at" not in data.columns:
        raise ParameterError(
            f"Cannot group by {need[0]!r}: the data has neither a {need[0]!r} column nor 'interaction_at' to derive it from."
        )
    from .periods import assign_periods

    data = data.copy()
    for k in need:
        data[k] = assign_periods(data["interaction_at"], k, fy_start=fy_start)
    return data


def tabulate(responses, by=None, *, scale=None, weight=None, cluster=None, fy_start: int = 1,
             score: str = "score") -> ScoreTable:
    """Count responses per group per scale point.

    Parameters
    ----------
    responses : DataFrame
        Responses in the canonical schema (only ``score`` and the ``by`` columns are needed).
    by : str or list of str, optional
        Group keys. ``"month"``, ``"quarter"`` and ``"year"`` are derived from ``interaction_at``
        when the data has no such column.
    scale : str or Scale, optional
        Which scale's rows to count. Defaults to the single scale in the ``scale`` column.
    weight : str, optional
        A column of survey weights; adds ``w`` (sum of weights) and ``w2`` (sum of squares).
    cluster : str, optional
        A cluster key (e.g. ``"agent_id"``) kept in the table for clustered intervals.
    fy_start : int
        First month of the fiscal year, for derived period keys.

    Returns
    -------
    ScoreTable
        ``counts`` has the keys, ``score``, ``n``, and when weighted ``w`` and ``w2``.
        Rows without a score are surveys sent but not answered: counted in ``unanswered``.
    """
    if isinstance(responses, ScoreTable):
        return responses.collapse(by)
    if not isinstance(responses, pd.DataFrame):
        raise ParameterError(f"`responses` must be a pandas DataFrame, but {type(responses).__name__} was passed.")
    by = as_list(by)
    keys = by + ([cluster] if cluster else [])
    if cluster and cluster in by:
        raise ParameterError(f"The cluster key {cluster!r} is also a group key; drop it from `by`.")
    if len(set(by)) < len(by):
        raise ParameterError(f"`by` names a key more than once: {by}.")
    taken = sorted(set(keys) & _TABLE_COLUMNS)
    if taken:
        raise ParameterError(
            f"A key may not be named {taken[0]!r}: the score table has a column of that name "
            f"({', '.join(sorted(_TABLE_COLUMNS))}); rename the column first."
        )
    data = _derive_periods(responses, keys, fy_start)
    check_columns(data.columns, keys + [score] + ([weight] if weight else []), where="the responses")
    sc = select_scale(data, scale) if (scale is not None or "scale" in data.columns) else None
    if sc is None:
        raise ParameterError(f"Pass `scale=`: the data has no 'scale' column. Known scales: {list(SCALES)}.")
    # only the columns counted: selecting rows of the others would be wasted work
    data = data[[c for c in dict.fromkeys(keys + [score, weight, "scale"]) if c is not None and c in data.columns]]
    # the rows on the scale, marked rather than selected: each step below reads them through masks
    counted = np.ones(len(data), dtype=bool)
    if "scale" in data.columns:
        counted = data["scale"].astype(str).isin(names_for(sc)).to_numpy(dtype=bool)
    scores = pd.to_numeric(data[score], errors="coerce")
    nonnum = (scores.isna() & data[score].notna()).to_numpy() & counted
    if nonnum.any():
        pos = np.flatnonzero(nonnum)[0]
        raise InputError(
            f"Column {score!r} holds {_show(data[score].iloc[pos])} (index label {_show(data.index[pos])}), not a number; "
            "load the data with csatkit.read_responses, which maps labels to points."
        )
    answered = scores.notna().to_numpy() & counted
    off = answered & ~scores.isin([float(p) for p in sc.points]).to_numpy()
    if off.any():
        pos = np.flatnonzero(off)[0]
        raise InputError(
            f"Column {score!r} holds {_show(scores.iloc[pos])} (index label {_show(data.index[pos])}), which is not a point of "
            f"scale {sc.name!r} {list(sc.points)}; load the data with csatkit.read_responses to exclude such rows."
        )
    for k in keys:
        blank = data[k].isna().to_numpy() & counted
        if blank.any():
            pos = np.flatnonzero(blank)[0]
            if k in PERIOD_KEYS and k not in responses.columns:
                raise InputError(
                    f"Cannot assign a {k} to the row with index label {_show(data.index[pos])}: its 'interaction_at' is missing; "
                    "drop the rows without a timestamp or group without a period key."
                )
            if blank.sum() == counted.sum():
                raise InputError(
                    f"Cannot group by {k!r}: the column is empty in every row (the source has no such data); "
                    "map it with a column map or group by another key."
                )
            raise InputError(
                f"Group key {k!r} is missing in the row with index label {_show(data.index[pos])}; fill it (e.g. 'unknown') or drop those rows."
            )
    unanswered_rows = counted & ~answered
    fast = None if weight else _count_by_codes(data, keys, by, scores.to_numpy(dtype=float), answered,
                                               unanswered_rows, sc)
    if fast is not None:
        return ScoreTable(fast[0], tuple(by), sc, False, cluster, fast[1])
    frame = data.loc[answered, keys].copy() if keys else pd.DataFrame(index=data.index[answered])
    frame["score"] = scores[answered].astype(int).to_numpy()
    if weight:
        w = pd.to_numeric(data.loc[answered, weight], errors="coerce").to_numpy(dtype=float)
        if np.isnan(w).any() or (w < 0).any():
            raise InputError(f"Column {weight!r} holds missing or negative weights; weights must be >= 0.")
        frame["w"] = w
        frame["w2"] = w * w
        grouped = frame.groupby(keys + ["score"], observed=True, sort=True)
        counts = grouped.agg(n=("score", "size"), w=("w", "sum"), w2=("w2", "sum")).reset_index()
    else:
        counts = frame.groupby(keys + ["score"], observed=True, sort=True).size().rename("n").reset_index()
    unanswered = None
    if unanswered_rows.any():
        if by:
            miss = data.loc[unanswered_rows, by]
            unanswered = miss.groupby(by, observed=True).size().rename("unanswered").reset_index()
        else:
            unanswered = pd.DataFrame({"unanswered": [int(unanswered_rows.sum())]})
    return ScoreTable(counts, tuple(by), sc, bool(weight), cluster, unanswered)


#: The columns a score table adds to its keys (counts, weights, scale point, unanswered surveys).
_TABLE_COLUMNS = frozenset({"score", "n", "w", "w2", "unanswered"})

#: Largest number of key x score combinations counted in one array by :func:`_count_by_codes`.
_MAX_CELLS = 1 << 22


def _key_codes(col: pd.Series):
    """(codes, number of values, codes -> key column) of a group key, in groupby(sort=True)'s order.

    None for a dtype left to groupby. The key column built from codes is the one groupby gives: a
    categorical keeps its dtype (all its categories, in their order), text its string dtype.
    """
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return (col.cat.codes.to_numpy(), len(dtype.categories),
                lambda codes: pd.Categorical.from_codes(codes, dtype=dtype))
    if isinstance(dtype, pd.StringDtype):
        codes, uniques = pd.factorize(col, sort=True)  # how groupby itself codes the key
        return codes, len(uniques), uniques.take
    return None


def _count_by_codes(data: pd.DataFrame, keys: list, by: list, scores: np.ndarray, answered: np.ndarray,
                    unanswered: np.ndarray, sc: Scale):
    """(counts, unanswered) of :func:`tabulate`, counted with ``bincount`` over integer codes.

    The same tables as ``groupby(keys + ["score"], observed=True, sort=True).size()`` over the rows
    ``answered`` and ``groupby(by, observed=True).size()`` over the rows ``unanswered``, without
    copying the key columns of either set of rows (no key is missing in them: tabulate checked).
    None when a key is neither categorical nor text, or the combinations are too many to count in
    one array: the caller then groups.
    """
    coded = []
    for k in keys:
        c = _key_codes(data[k])
        if c is None:
            return None
        coded.append(c)
    if any(float(p) != int(p) for p in sc.points):
        return None
    points = np.array(sorted(int(p) for p in sc.points), dtype=np.int64)
    if float(np.prod([size for _, size, _ in coded] + [len(points)], dtype=float)) > max(_MAX_CELLS, 4 * len(scores)):
        return None

    def count(rows: np.ndarray, parts: list, names: list, last: np.ndarray | None, name: str) -> pd.DataFrame:
        """Rows ``rows`` counted per combination of the keys ``parts`` (and of the scale point ``last``)."""
        dims = [size for _, size, _ in parts] + ([len(points)] if last is not None else [])
        cell = np.zeros(int(rows.sum()), dtype=np.int64)
        for codes, size, _ in parts:
            cell = cell * size + codes[rows]
        if last is not None:
            cell = cell * len(points) + last
        n = np.bincount(cell, minlength=int(np.prod(dims, dtype=np.int64)))
        seen = np.flatnonzero(n)  # the combinations present, in groupby's sorted order
        where = np.unravel_index(seen, dims)
        out = {k: make(pos) for k, pos, (_, _, make) in zip(names, where, parts)}
        if last is not None:
            out["score"] = points[where[-1]]
        out[name] = n[seen].astype(np.int64)
        return pd.DataFrame(out)

    # every answered score was checked to be a point of the scale
    counts = count(answered, coded, keys, np.searchsorted(points, scores[answered].astype(np.int64)), "n")
    missing = None
    if unanswered.any():
        if by:  # the group keys come first; the cluster key, when any, is the last
            missing = count(unanswered, coded[:len(by)], by, None, "unanswered")
        else:
            missing = pd.DataFrame({"unanswered": [int(unanswered.sum())]})
    return counts, missing


def _show(value) -> str:
    """repr of a value without numpy's type wrapper (9, not np.int64(9))."""
    return repr(value.item() if hasattr(value, "item") else value)


