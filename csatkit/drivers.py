"""QA scorecard regression and key-driver analysis: which scorecard items actually move CSAT.

Four steps, each usable alone, all four in one call with :func:`drivers_section`:

1. :func:`join_qa` matches QA evaluations to survey responses by interaction id and accounts for
   every row on both sides (matched, unmatched, duplicated, set aside by a duplicate rule).
2. :func:`scorecard_regression` fits a logistic model on "satisfied" (odds ratios and average
   marginal effects in percentage points), a proportional-odds ordinal model on the raw scale
   (logit link, average marginal effects on every level), and a linear model, with standard
   errors clustered by agent, optionally a mixed model with an agent random intercept.
3. :func:`scorecard_validity` checks the scorecard as a whole: the total QA score's association
   with CSAT, CSAT by QA-score decile, a verdict in words for each item, multicollinearity, and
   how much of the QA-score variance is due to who evaluated.
4. :func:`key_drivers` splits the explained variance among the items: exact Shapley decomposition
   of R² (LMG) for up to 24 items, Johnson's relative weights, dominance analysis, bootstrap CIs,
   and for a binary outcome a decomposition of McFadden's pseudo-R².

Bad input (constant items, collinear items, separation, non-numeric or missing item scores) is
reported with a message naming the item; the analysis continues without that item where that is
sound. Messages are kept on the result (``messages``, ``dropped``) and also issued as
:class:`~csatkit.exceptions.StatisticalWarning`.

Examples
--------
>>> from csatkit.drivers import drivers_section                                # doctest: +SKIP
>>> report = drivers_section(qa, responses, controls=["channel"], n_boot=100)  # doctest: +SKIP
>>> print(report.summary())                                                    # doctest: +SKIP
"""

from __future__ import annotations

import html
import keyword
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from . import _relimp
from ._validate import as_list, check_choice, check_columns, check_range
from .exceptions import InputError, MissingColumnError, ParameterError, StatisticalWarning
from .scales import get_scale

__all__ = [
    "join_qa",
    "QAJoin",
    "scorecard_regression",
    "ScorecardRegression",
    "scorecard_validity",
    "ScorecardValidity",
    "key_drivers",
    "KeyDrivers",
    "drivers_section",
    "DriversReport",
    "item_columns",
]

_RESULT_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "p_value", "p_adj", "effect_size", "n", "flag"]
_SURVEY_RULES = ["first", "latest", "drop", "all"]
_EVALUATION_RULES = ["latest", "first", "mean", "drop", "all"]
_MODELS = ["logistic", "ordinal", "linear"]
_DEFAULT_CONTROLS = ("channel", "contact_reason")
_FEW_CLUSTERS = 30
_SEPARATION_SPAN = 15.0  # |coef| x item range in log-odds beyond which a fit is treated as separated


def _warn(message: str) -> None:
    warnings.warn(message, StatisticalWarning, stacklevel=3)


def _fmt(x: float, digits: int = 1) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _html_table(df: pd.DataFrame | None, digits: int = 3) -> str:
    if df is None or len(df) == 0:
        return "<p><i>(none)</i></p>"
    return df.to_html(index=False, escape=True, na_rep="", float_format=lambda v: f"{v:.{digits}g}")


def _text_table(df: pd.DataFrame | None, digits: int = 3) -> str:
    if df is None or len(df) == 0:
        return "  (none)"
    with pd.option_context("display.width", 160, "display.max_columns", 30):
        return df.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")


def item_columns(data: pd.DataFrame, item_prefix: str = "item_") -> list[str]:
    """Columns of ``data`` whose name starts with ``item_prefix``: the scorecard items."""
    return [c for c in data.columns if str(c).startswith(item_prefix)]


# =============================================================================================
# 1. Join
# =============================================================================================


@dataclass
class QAJoin:
    """QA evaluations matched to survey responses.

    Attributes
    ----------
    data : DataFrame
        One row per matched (evaluation, survey) pair: the QA columns, the survey columns
        (``score``, ``scale``, ``weight``, ``response_id``, ...) and ``satisfied`` (1.0 / 0.0).
        Columns present on both sides (``agent_id``, ``channel``, ...) keep the QA value, filled
        from the survey where the QA value is missing.
    counts : DataFrame
        ``side, status, n, share``: for ``evaluations`` and ``surveys``, how many rows were given
        (``rows``), had no interaction id (``missing_id``), had no answer (``unanswered``,
        surveys only), shared their interaction id with another row of the same side
        (``duplicated``), were set aside by the duplicate rule (``set_aside_by_rule``), and, of the
        rest, were ``matched`` or ``unmatched``; ``rows`` = missing_id + unanswered +
        set_aside_by_rule + matched + unmatched. ``share`` is per cent of ``rows``.
    scale : str
        The survey scale the responses were taken from.
    multiple_surveys, multiple_evaluations : str
        The rules applied to duplicated interaction ids.
    notes : list of str
    """

    data: pd.DataFrame
    counts: pd.DataFrame
    scale: str
    on: str
    multiple_surveys: str
    multiple_evaluations: str
    notes: list = field(default_factory=list)

    def count(self, side: str, status: str) -> int:
        row = self.counts[(self.counts["side"] == side) & (self.counts["status"] == status)]
        return int(row["n"].iloc[0]) if len(row) else 0

    def summary(self) -> str:
        lines = [
            f"QA evaluations joined to {self.scale!r} survey responses on {self.on!r}: {len(self.data):,} pairs.",
            f"Rules: several surveys per interaction -> {self.multiple_surveys!r}; "
            f"several evaluations per interaction -> {self.multiple_evaluations!r}.",
        ]
        for side in ("evaluations", "surveys"):
            parts = [f"{r.status} {r.n:,}" for r in self.counts[self.counts["side"] == side].itertuples()]
            lines.append(f"  {side}: " + ", ".join(parts))
        lines += [f"  note: {t}" for t in self.notes]
        return "\n".join(lines)

    __str__ = summary

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(t)}</li>" for t in self.notes)
        return (
            f"<p><b>QA join</b>: {len(self.data):,} matched pairs on <code>{html.escape(self.on)}</code>, "
            f"scale {html.escape(self.scale)}</p>" + _html_table(self.counts) + (f"<ul>{notes}</ul>" if notes else "")
        )


def _pick_scale(responses: pd.DataFrame, scale) -> str:
    if scale is not None:
        return get_scale(scale).name
    if "scale" not in responses.columns:
        raise MissingColumnError(
            "Responses have no 'scale' column, so the survey scale is unknown; pass it, e.g. scale='likert5'."
        )
    names = [str(s) for s in pd.unique(responses["scale"].dropna())]
    if len(names) == 1:
        return get_scale(names[0]).name
    csat = [n for n in names if get_scale(n).kind == "csat"]
    if len(csat) == 1:
        return get_scale(csat[0]).name
    raise ParameterError(
        f"The responses hold several scales {names}; pass `scale` to say which question is the CSAT outcome, "
        f"e.g. scale={(csat or names)[0]!r}."
    )


def _order_key(df: pd.DataFrame, column: str) -> pd.Series:
    if column in df.columns:
        t = pd.to_datetime(df[column], errors="coerce")
        if t.notna().any():
            return t
    return pd.Series(np.arange(len(df)), index=df.index)


def _dedupe(df: pd.DataFrame, on: str, rule: str, time_col: str, numeric_mean: list[str]) -> tuple[pd.DataFrame, int]:
    """Apply a duplicate rule; return the rows kept and the number set aside."""
    dup = df[on].duplicated(keep=False)
    if not dup.any() or rule == "all":
        return df, 0
    if rule == "drop":
        kept = df[~dup]
    elif rule in ("first", "latest"):
        key = _order_key(df, time_col)
        tmp = df.assign(_order=key.to_numpy(), _row=np.arange(len(df)))
        tmp = tmp.sort_values(["_order", "_row"], kind="stable", na_position="last" if rule == "first" else "first")
        kept = tmp.drop_duplicates(on, keep="first" if rule == "first" else "last")
        kept = kept.sort_values("_row").drop(columns=["_order", "_row"])
    else:  # mean
        first = df.drop_duplicates(on, keep="first").set_index(on)
        groups = df.groupby(on, sort=False)
        for col in numeric_mean:
            if col in df.columns:
                first[col] = groups[col].mean()
        if "evaluator_id" in df.columns:
            n_eval = groups["evaluator_id"].nunique()
            first.loc[n_eval > 1, "evaluator_id"] = "(several)"
        first["n_evaluations"] = groups.size()
        kept = first.reset_index()[list(df.columns) + ["n_evaluations"]]
    return kept, int(len(df) - len(kept))


def join_qa(
    qa: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    on: str = "interaction_id",
    scale=None,
    multiple_surveys: str = "first",
    multiple_evaluations: str = "latest",
    item_prefix: str = "item_",
) -> QAJoin:
    """Match QA evaluations to survey responses by interaction id.

    Parameters
    ----------
    qa : DataFrame
        QA evaluations in the canonical schema (``interaction_id``, ``agent_id``, ``evaluator_id``,
        ``evaluated_at``, ``qa_score``, one ``item_<name>`` column per scorecard item, ...).
    responses : DataFrame
        Survey responses in the canonical long form (``interaction_id``, ``score``, ``scale``, ...).
    on : str
        The join key.
    scale : str, optional
        The survey question to use as the outcome. Defaults to the only scale present, or the only
        CSAT-kind scale when responses hold several questions (e.g. CSAT and NPS).
    multiple_surveys : {"first", "latest", "drop", "all"}
        What to do when one interaction has several answered surveys of this scale: keep the
        earliest answered (``responded_at``, else row order), the latest, drop the interaction,
        or keep every survey (the evaluation is then repeated).
    multiple_evaluations : {"latest", "first", "mean", "drop", "all"}
        What to do when one interaction was evaluated several times: keep the latest evaluation
        (``evaluated_at``, else row order), the first, average item scores and ``qa_score`` over
        the evaluations (``evaluator_id`` becomes "(several)" when they differ; ``n_evaluations``
        is added), drop the interaction, or keep every evaluation.
    item_prefix : str
        Prefix of item columns (averaged under ``multiple_evaluations="mean"``).

    Returns
    -------
    QAJoin
        ``data`` (matched pairs, with a ``satisfied`` column), ``counts`` and ``notes``.

    Notes
    -----
    Surveys sent but not answered (``score`` missing) are counted as ``unanswered`` and not
    matched. Both duplicate rules are applied before matching, so ``matched`` counts rows that
    survived them.
    """
    if not isinstance(qa, pd.DataFrame):
        raise InputError(f"`qa` must be a pandas DataFrame, but {type(qa).__name__} was passed.")
    if not isinstance(responses, pd.DataFrame):
        raise InputError(f"`responses` must be a pandas DataFrame, but {type(responses).__name__} was passed.")
    check_choice("multiple_surveys", multiple_surveys, _SURVEY_RULES)
    check_choice("multiple_evaluations", multiple_evaluations, _EVALUATION_RULES)
    check_columns(qa.columns, [on], where="the QA evaluations")
    check_columns(responses.columns, [on, "score"], where="the responses")
    sc_name = _pick_scale(responses, scale)
    sc = get_scale(sc_name)
    notes: list[str] = []

    resp = responses
    if "scale" in resp.columns:
        names = {u: _scale_name(u) for u in pd.unique(resp["scale"].dropna())}
        keep = resp["scale"].map(names).eq(sc_name).fillna(False).to_numpy(bool)
        others = int((~keep).sum())
        if others:
            notes.append(f"{others:,} responses to other questions than {sc_name!r} were not used.")
        resp = resp[keep]
    resp = resp.copy()
    score = pd.to_numeric(resp["score"], errors="coerce")
    bad_points = score.notna() & ~score.isin([float(p) for p in sc.points])
    if bad_points.any():
        raise InputError(
            f"Column 'score' holds {int(bad_points.sum())} values that are not points of scale {sc_name!r} "
            f"{list(sc.points)}, e.g. {score[bad_points].iloc[0]!r}; load the responses with csatkit.load first."
        )
    resp["score"] = score
    qa = qa.copy()

    counts: list[tuple[str, str, int]] = []

    def missing_id(df):
        ids = df[on]
        return ids.isna() | (ids.astype("string").str.strip() == "")

    # --- surveys
    n_surveys = len(resp)
    unanswered = resp["score"].isna()
    resp = resp[~unanswered.to_numpy()]
    miss_s = missing_id(resp)
    resp = resp[~miss_s.to_numpy()]
    resp[on] = resp[on].astype("string")
    dup_s = int(resp[on].duplicated(keep=False).sum())
    several_s = int(resp[on][resp[on].duplicated(keep=False)].nunique())
    resp, aside_s = _dedupe(resp, on, multiple_surveys, "responded_at", [])

    # --- evaluations
    n_evals = len(qa)
    miss_e = missing_id(qa)
    qa = qa[~miss_e.to_numpy()]
    qa[on] = qa[on].astype("string")
    dup_e = int(qa[on].duplicated(keep=False).sum())
    several_e = int(qa[on][qa[on].duplicated(keep=False)].nunique())
    item_cols = item_columns(qa, item_prefix)
    mean_cols = [c for c in item_cols + ["qa_score"] if c in qa.columns]
    if multiple_evaluations == "mean":
        for c in mean_cols:
            qa[c] = pd.to_numeric(qa[c], errors="coerce") if c == "qa_score" else qa[c]
        mean_cols = [c for c in mean_cols if pd.api.types.is_numeric_dtype(qa[c])]
    qa, aside_e = _dedupe(qa, on, multiple_evaluations, "evaluated_at", mean_cols)

    matched_e = qa[on].isin(set(resp[on]))
    matched_s = resp[on].isin(set(qa[on]))
    counts += [
        ("evaluations", "rows", n_evals),
        ("evaluations", "missing_id", int(miss_e.sum())),
        ("evaluations", "duplicated", dup_e),
        ("evaluations", "set_aside_by_rule", aside_e),
        ("evaluations", "matched", int(matched_e.sum())),
        ("evaluations", "unmatched", int((~matched_e).sum())),
        ("surveys", "rows", n_surveys),
        ("surveys", "unanswered", int(unanswered.sum())),
        ("surveys", "missing_id", int(miss_s.sum())),
        ("surveys", "duplicated", dup_s),
        ("surveys", "set_aside_by_rule", aside_s),
        ("surveys", "matched", int(matched_s.sum())),
        ("surveys", "unmatched", int((~matched_s).sum())),
    ]
    if several_s:
        notes.append(
            f"{several_s:,} interactions had several answered surveys; rule {multiple_surveys!r} applied."
        )
    if several_e:
        notes.append(
            f"{several_e:,} interactions were evaluated several times; rule {multiple_evaluations!r} applied."
        )

    shared = [c for c in qa.columns if c in resp.columns and c != on]
    joined = qa.merge(resp, on=on, how="inner", suffixes=("", "__survey"), validate="many_to_many")
    for col in shared:
        other = f"{col}__survey"
        a, b = joined[col], joined[other]
        both = a.notna() & b.notna()
        differ = int((both & (a.astype("string") != b.astype("string"))).sum())
        if differ:
            notes.append(
                f"Column {col!r} differs between the QA evaluation and the survey in {differ:,} matched pairs; "
                "the QA value is used."
            )
        joined[col] = a.where(a.notna(), b)
        joined = joined.drop(columns=other)
    joined["satisfied"] = sc.is_satisfied(joined["score"]).astype(float)
    joined["scale"] = sc_name
    if "weight" in joined.columns:
        joined["weight"] = pd.to_numeric(joined["weight"], errors="coerce").fillna(1.0)
    else:
        joined["weight"] = 1.0
    df_counts = pd.DataFrame(counts, columns=["side", "status", "n"])
    totals = df_counts[df_counts["status"] == "rows"].set_index("side")["n"]
    df_counts["share"] = df_counts.apply(lambda r: 100.0 * r["n"] / max(int(totals[r["side"]]), 1), axis=1)
    if len(joined) == 0:
        _warn(
            f"No QA evaluation matched a survey response on {on!r}: "
            f"{n_evals:,} evaluations, {n_surveys:,} surveys. Check that both use the same interaction ids."
        )
    return QAJoin(
        data=joined.reset_index(drop=True), counts=df_counts, scale=sc_name, on=on,
        multiple_surveys=multiple_surveys, multiple_evaluations=multiple_evaluations, notes=notes,
    )


def _scale_name(value) -> str | None:
    """Registered name for a scale label, or the label itself when unknown."""
    try:
        return get_scale(value).name
    except ParameterError:
        return str(value)


# =============================================================================================
# Shared preparation of the analysis rows
# =============================================================================================

_YES = {"yes", "y", "true", "t", "pass", "passed", "met", "achieved", "compliant", "done", "ok"}
_NO = {"no", "n", "false", "f", "fail", "failed", "not met", "missed", "non-compliant", "noncompliant", "not done"}
_NA = {"", "na", "n/a", "nan", "none", "null", "not applicable", "-", "--", "\u2013", "not observed"}


def _coerce_item(s: pd.Series) -> tuple[pd.Series, list]:
    """Item values as floats; returns the series and examples of values that are not scores."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(float), []
    if pd.api.types.is_numeric_dtype(s.dtype):
        f = s.astype(float)
        return f.where(np.isfinite(f)), []
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = np.full(len(uniques), np.nan)
    bad = []
    for k, u in enumerate(uniques):
        if isinstance(u, (bool, np.bool_)):
            mapped[k] = float(u)
            continue
        if isinstance(u, (int, float, np.integer, np.floating)):
            mapped[k] = float(u) if np.isfinite(u) else np.nan
            continue
        t = str(u).strip().lower()
        if t in _NA:
            continue
        if t in _YES:
            mapped[k] = 1.0
            continue
        if t in _NO:
            mapped[k] = 0.0
            continue
        try:
            mapped[k] = float(t.rstrip("%").replace(",", "."))
        except ValueError:
            bad.append(u)
    out = np.where(codes >= 0, mapped[np.maximum(codes, 0)], np.nan)
    return pd.Series(out, index=s.index, name=s.name), bad


def _term(name: str) -> str:
    """A formula term for a column name: the bare name when it is an identifier, else Q('...')."""
    name = str(name)
    if name.isidentifier() and not keyword.iskeyword(name) and name not in {"C", "Q", "I", "np"}:
        return name
    return "Q(" + repr(name) + ")"


@dataclass
class _Prepared:
    data: pd.DataFrame
    items: list
    controls: list  # categorical controls (used as C(...)) and numeric controls
    categorical: list
    cluster: str | None
    weights: np.ndarray | None
    dropped: list
    messages: list
    scale: Any
    outcome: str
    n_input: int


def _resolve_frame(joined) -> pd.DataFrame:
    if isinstance(joined, QAJoin):
        return joined.data
    if not isinstance(joined, pd.DataFrame):
        raise InputError(
            f"`joined` must be a QAJoin (from join_qa) or a DataFrame, but {type(joined).__name__} was passed."
        )
    return joined


def _collinear_with(corr: np.ndarray, j: int, kept: list[int], names: list[str]) -> tuple[float, list[str]]:
    """R² of variable j on variables ``kept`` (from a correlation matrix) and the names with weight."""
    if not kept:
        return 0.0, []
    a = corr[np.ix_(kept, kept)]
    b = corr[kept, j]
    beta = np.linalg.pinv(a, hermitian=True) @ b
    r2 = float(b @ beta)
    involved = [names[k] for k, bk in zip(kept, beta) if abs(bk) > 1e-6]
    return r2, involved


def _prepare(
    joined,
    *,
    items,
    item_prefix: str,
    outcome: str,
    controls,
    cluster,
    weights,
    scale,
    max_missing: float,
    need_score: bool = False,
    where: str = "the joined data",
) -> _Prepared:
    df = _resolve_frame(joined)
    check_choice("outcome", outcome, ["satisfied", "score"])
    check_range("max_missing", max_missing, 0, 1)
    n_input = len(df)
    messages: list[str] = []
    dropped: list[dict] = []

    def drop(item, reason, message, model="all"):
        dropped.append({"item": item, "model": model, "reason": reason, "message": message})
        messages.append(message)
        _warn(message)

    # ---- items
    if items is None:
        items = item_columns(df, item_prefix)
        if not items:
            raise MissingColumnError(
                f"No item columns found in {where}: none starts with {item_prefix!r}; columns present: "
                f"{[str(c) for c in df.columns]}. Pass items=[...] or item_prefix=..."
            )
    else:
        items = as_list(items)
        if not items:
            raise ParameterError("The value for `items` must name at least one item column, but an empty list was passed.")
        check_columns(df.columns, items, where=where)
        if len(set(items)) != len(items):
            raise ParameterError(f"The value for `items` names a column twice: {items}.")

    # ---- outcome
    sc = None
    work = pd.DataFrame(index=df.index)
    if "score" in df.columns:
        work["score"] = pd.to_numeric(df["score"], errors="coerce")
    if scale is not None:
        sc = get_scale(scale)
    elif "scale" in df.columns and df["scale"].notna().any():
        names = pd.unique(df["scale"].dropna())
        if len(names) > 1:
            raise InputError(
                f"The data hold responses on several scales {list(map(str, names))}; filter to one question "
                "(join_qa does this) or pass `scale`."
            )
        sc = get_scale(str(names[0]))
    if "satisfied" in df.columns:
        sat = df["satisfied"]
        if pd.api.types.is_bool_dtype(sat.dtype):
            work["satisfied"] = sat.astype(float)
        else:
            num = pd.to_numeric(sat, errors="coerce")
            bad = num.isna() & sat.notna()
            if bad.any():
                raise InputError(f"Column 'satisfied' must hold 0/1 (or True/False), but holds e.g. {sat[bad].iloc[0]!r}.")
            work["satisfied"] = num.astype(float)
    elif "score" in work.columns and sc is not None:
        work["satisfied"] = np.where(work["score"].isna(), np.nan, sc.is_satisfied(work["score"]).astype(float))
    if outcome == "satisfied" and "satisfied" not in work.columns:
        raise MissingColumnError(
            f"Outcome 'satisfied' needs a 'satisfied' column, or 'score' plus the scale (a 'scale' column or "
            f"`scale=`), in {where}; columns present: {[str(c) for c in df.columns]}."
        )
    if (outcome == "score" or need_score) and "score" not in work.columns:
        raise MissingColumnError(
            f"Outcome 'score' needs a numeric 'score' column in {where}; columns present: {[str(c) for c in df.columns]}."
        )
    if "satisfied" in work.columns:
        bad = work["satisfied"].notna() & ~work["satisfied"].isin([0.0, 1.0])
        if bad.any():
            raise InputError(f"Column 'satisfied' must hold 0/1 (or True/False), but holds e.g. {work['satisfied'][bad].iloc[0]!r}.")

    # ---- controls
    controls = as_list(controls)
    check_columns(df.columns, controls, where=where)
    categorical = []
    used_controls = []
    for c in controls:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
            work[c] = col.astype(float)
        else:
            work[c] = col.astype("string").fillna("(missing)").astype(str)
            categorical.append(c)
        used_controls.append(c)

    # ---- cluster
    if cluster is not None:
        if cluster not in df.columns:
            if cluster == "agent_id":
                msg = (
                    f"No 'agent_id' column in {where}, so standard errors are heteroskedasticity-robust "
                    "but not clustered by agent; pass cluster=None to silence this or cluster=<column>."
                )
                messages.append(msg)
                _warn(msg)
                cluster = None
            else:
                check_columns(df.columns, [cluster], where=where)
        if cluster is not None:
            g = df[cluster].astype("string")
            miss = g.isna()
            if miss.any():
                messages.append(
                    f"{int(miss.sum()):,} rows have no {cluster!r}; each is treated as its own cluster."
                )
                g = g.where(~miss, pd.Series([f"(missing {i})" for i in range(len(g))], index=g.index, dtype="string"))
            work["_cluster"] = g.astype(str)

    # ---- weights
    w = None
    if weights is not None:
        if weights not in df.columns:
            if weights != "weight":
                check_columns(df.columns, [weights], where=where)
        else:
            wv = pd.to_numeric(df[weights], errors="coerce")
            if wv.isna().any() or (wv < 0).any() or not np.isfinite(wv).all():
                bad = wv[wv.isna() | (wv < 0) | ~np.isfinite(wv)]
                raise InputError(
                    f"Column {weights!r} must hold non-negative finite survey weights, but holds e.g. {bad.iloc[0]!r} "
                    f"({len(bad)} such rows)."
                )
            if wv.nunique() > 1:
                work["_weight"] = wv.astype(float)

    # ---- item values
    kept = []
    for it in items:
        vals, bad = _coerce_item(df[it])
        if bad:
            ex = ", ".join(repr(b) for b in bad[:3])
            drop(it, "non_numeric",
                 f"Item {it!r} holds values that are not scores ({ex}); it was left out. Map them to numbers "
                 "(yes/no, pass/fail and n/a are understood) to include it.")
            continue
        share_missing = float(vals.isna().mean()) if len(vals) else 0.0
        if share_missing > max_missing:
            drop(it, "mostly_missing",
                 f"Item {it!r} is missing in {share_missing:.0%} of the evaluations (more than max_missing="
                 f"{max_missing:.0%}); it was left out rather than losing those rows. Raise `max_missing` to keep it.")
            continue
        work[it] = vals
        kept.append(it)

    # ---- listwise deletion
    need = kept + [c for c in used_controls if c not in categorical] + [outcome]
    if need_score and "score" in work.columns:
        need.append("score")
    miss = work[need].isna()
    rows_ok = ~miss.any(axis=1)
    n_lost = int((~rows_ok).sum())
    if n_lost:
        by_item = {c: int(miss[c].sum()) for c in kept if miss[c].any()}
        parts = ", ".join(f"{k!r} ({v})" for k, v in by_item.items())
        y_miss = int(miss[outcome].sum())
        detail = (f"missing item scores: {parts}" if parts else "") + (
            ("; " if parts and y_miss else "") + (f"no {outcome} ({y_miss})" if y_miss else ""))
        messages.append(f"{n_lost:,} of {n_input:,} evaluations were left out for {detail or 'missing values'}.")
    work = work[rows_ok.to_numpy()].copy()
    if work.empty:
        raise InputError(f"No evaluation in {where} has all of {need} present; nothing to analyse.")

    def check_n():
        n_ctrl = _design_controls(work, used_controls, categorical).shape[1]
        n_params = len(kept) + n_ctrl + 1
        if len(work) <= n_params:
            raise InputError(
                f"Only {len(work):,} usable evaluations for {len(kept)} items"
                f"{' and ' + str(n_ctrl) + ' control terms' if n_ctrl else ''}: "
                f"a regression needs more evaluations than parameters ({n_params}). Use fewer items or controls, "
                "or join more evaluations."
            )

    check_n()  # before the constant / collinear checks, which are meaningless with too few rows

    # ---- constant items
    for it in list(kept):
        u = work[it].unique()
        if len(u) <= 1:
            val = u[0] if len(u) else "nothing"
            drop(it, "constant",
                 f"Item {it!r} is constant (every evaluation scored {val:g}), so its effect cannot be estimated; "
                 "it was left out.")
            kept.remove(it)

    # ---- constant controls
    for c in list(used_controls):
        if work[c].nunique() <= 1:
            messages.append(f"Control {c!r} takes one value only ({work[c].iloc[0]!r}) and was left out.")
            used_controls.remove(c)
            if c in categorical:
                categorical.remove(c)

    # ---- collinearity (items on controls and earlier items)
    if kept:
        dummies = _design_controls(work, used_controls, categorical)
        mat = np.column_stack([dummies, work[kept].to_numpy(float)]) if dummies.shape[1] else work[kept].to_numpy(float)
        sd = mat.std(axis=0)
        corr = np.corrcoef(mat, rowvar=False) if mat.shape[1] > 1 else np.ones((1, 1))
        corr = np.atleast_2d(corr)
        names = [f"control {c}" for c in range(dummies.shape[1])] + list(kept)
        k0 = dummies.shape[1]
        base = [k for k in range(k0) if sd[k] > 0]
        keep_idx = list(base)
        for pos, it in enumerate(list(kept)):
            j = k0 + pos
            r2, involved = _collinear_with(corr, j, keep_idx, names)
            if r2 > 1 - 1e-8:
                others = [n for n in involved if not n.startswith("control ")]
                ctrl = len(others) < len(involved)
                what = ", ".join(repr(o) for o in others) if others else ""
                if ctrl:
                    what = (what + " and " if what else "") + "the controls " + ", ".join(repr(c) for c in used_controls)
                drop(it, "collinear",
                     f"Item {it!r} is a perfect linear combination of {what} (R\u00b2 = 1), so its effect cannot be "
                     "separated from theirs; it was left out.")
                kept.remove(it)
            else:
                keep_idx.append(j)

    if not kept:
        raise InputError(f"No usable item is left in {where}: " + " ".join(d["message"] for d in dropped))
    check_n()
    wts = work["_weight"].to_numpy(float) if "_weight" in work.columns else None
    return _Prepared(
        data=work, items=kept, controls=used_controls, categorical=categorical,
        cluster="_cluster" if "_cluster" in work.columns else None, weights=wts, dropped=dropped,
        messages=messages, scale=sc, outcome=outcome, n_input=n_input,
    )


def _design_controls(work: pd.DataFrame, controls: list, categorical: list) -> np.ndarray:
    """Dummy-coded (first level dropped) categorical controls and numeric controls, as a float matrix."""
    parts = []
    for c in controls:
        if c in categorical:
            cat = pd.Categorical(work[c])
            d = pd.get_dummies(cat, drop_first=True, dtype=float).to_numpy()
            parts.append(d)
        else:
            parts.append(work[[c]].to_numpy(float))
    if not parts:
        return np.zeros((len(work), 0))
    return np.column_stack(parts)


def _holm(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        from statsmodels.stats.multitest import multipletests

        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


# =============================================================================================
# 2. Models
# =============================================================================================


@dataclass
class ScorecardRegression:
    """Regression of CSAT on the QA scorecard items.

    Attributes
    ----------
    effects : DataFrame
        One row per model and item: ``model, item, term, measure, estimate, se, ci_low, ci_high,
        p_value, p_adj, effect_size, n, flag``. ``measure`` says what ``estimate`` is:

        * ``ame_pp`` (logistic): average marginal effect on P(satisfied), in percentage points per
          item point;
        * ``ame_pp_satisfied`` (ordinal): the same, from the proportional-odds model (sum of the
          level effects over the satisfied levels);
        * ``coef_pp`` / ``coef_points`` (linear, mixed): change in % satisfied (linear probability
          model) or in mean score per item point.

        ``effect_size`` is the estimate for a one-standard-deviation higher item score;
        ``p_adj`` is Holm-adjusted across the items of one model.
    odds_ratios : DataFrame
        Logistic model: ``item, term, estimate`` (odds ratio per item point), ``se`` (of the log odds
        ratio), ``ci_low, ci_high, p_value, p_adj, n, flag``.
    ordinal_ame : DataFrame
        Ordinal model: ``item, term, level`` (a point of the scale), ``estimate`` (average marginal
        effect on P(score = level), percentage points per item point), ``se, ci_low, ci_high,
        p_value, n, flag``. Delta-method SEs from the (cluster-robust) covariance of the model.
    coefficients : DataFrame
        Every term of every model on its own scale (log odds, latent logit, outcome units):
        ``model, term, estimate, se, ci_low, ci_high, p_value``.
    dropped : DataFrame
        ``item, model, reason, message`` for items left out (of all models or of one).
    results : dict
        The statsmodels results by model name (``logistic``, ``ordinal``, ``linear``, ``mixed``);
        also reachable as attributes of the same names.
    formulas : dict
        The formula of each model.
    data : DataFrame
        The analysis rows (items, outcome columns, controls, ``_cluster``, ``_weight``).
    primary : str
        The model whose effects feed verdicts: ``logistic`` for outcome "satisfied", ``linear``
        for "score" (falling back to another fitted model when that one is absent).
    df_inference : int or None
        With clustered SEs, intervals and p-values use Student's t with G - 1 degrees of freedom
        (G clusters; statsmodels ``use_t=True``); None means normal-based inference.
    agent_share : float
        Mixed model only: share (%) of the residual outcome variance between agents
        (agent random-intercept variance / total), NaN otherwise.
    """

    effects: pd.DataFrame
    odds_ratios: pd.DataFrame
    ordinal_ame: pd.DataFrame
    coefficients: pd.DataFrame
    dropped: pd.DataFrame
    results: dict
    formulas: dict
    data: pd.DataFrame
    items: list
    controls: list
    outcome: str
    cluster: str | None
    n: int
    n_clusters: int
    primary: str
    alpha: float
    scale: str | None = None
    df_inference: int | None = None
    agent_share: float = float("nan")
    messages: list = field(default_factory=list)

    @property
    def logistic(self):
        return self.results.get("logistic")

    @property
    def ordinal(self):
        return self.results.get("ordinal")

    @property
    def linear(self):
        return self.results.get("linear")

    @property
    def mixed(self):
        return self.results.get("mixed")

    def primary_effects(self) -> pd.DataFrame:
        """The rows of ``effects`` of the primary model."""
        return self.effects[self.effects["model"] == self.primary].reset_index(drop=True)

    def summary(self) -> str:
        se = f"clustered by {self.cluster!r} ({self.n_clusters} clusters)" if self.cluster else "heteroskedasticity-robust"
        lines = [
            f"Scorecard regression: outcome {self.outcome!r}, n = {self.n:,}, {len(self.items)} items, "
            f"controls {self.controls or 'none'}; standard errors {se}.",
            f"Models: {', '.join(self.results)}; primary: {self.primary}.",
            "",
            "Item effects:",
            _text_table(self.effects[["model", "item", "measure", "estimate", "ci_low", "ci_high", "p_adj", "flag"]]),
        ]
        if len(self.odds_ratios):
            lines += ["", "Odds ratios (logistic):",
                      _text_table(self.odds_ratios[["item", "estimate", "ci_low", "ci_high", "p_value"]])]
        if np.isfinite(self.agent_share):
            lines += ["", f"Mixed model: {self.agent_share:.1f}% of the outcome variance left after the items lies between agents."]
        if len(self.dropped):
            lines += ["", "Left out:"] + [f"  - {m}" for m in self.dropped["message"]]
        other = [m for m in self.messages if m not in set(self.dropped.get("message", []))]
        lines += [f"  note: {m}" for m in other]
        return "\n".join(lines)

    __str__ = summary

    def _repr_html_(self) -> str:
        se = f"clustered by <code>{html.escape(str(self.cluster))}</code> ({self.n_clusters})" if self.cluster else "robust"
        out = [
            f"<p><b>Scorecard regression</b>: outcome <code>{html.escape(self.outcome)}</code>, n = {self.n:,}, "
            f"{len(self.items)} items; SEs {se}; primary model {html.escape(self.primary)}</p>",
            _html_table(self.effects[["model", "item", "measure", "estimate", "ci_low", "ci_high", "p_value", "p_adj", "flag"]]),
        ]
        if len(self.odds_ratios):
            out += ["<p>Odds ratios</p>", _html_table(self.odds_ratios[["item", "estimate", "ci_low", "ci_high", "p_value"]])]
        if len(self.dropped):
            out.append("<ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in self.dropped["message"]) + "</ul>")
        return "".join(out)


class _WeightedOrderedModel:  # populated lazily (statsmodels import cost)
    cls = None


def _weighted_ordered_class():
    if _WeightedOrderedModel.cls is None:
        from statsmodels.miscmodels.ordinal_model import OrderedModel

        class WeightedOrderedModel(OrderedModel):
            """OrderedModel whose log-likelihood contributions are multiplied by survey weights.

            The weights must be set as ``model.survey_weights`` (mean 1) before fitting; the score
            used in the sandwich covariance is then the weighted score (pseudo-likelihood).
            """

            survey_weights = None

            def loglikeobs(self, params):
                ll = super().loglikeobs(params)
                return ll if self.survey_weights is None else ll * self.survey_weights

        _WeightedOrderedModel.cls = WeightedOrderedModel
    return _WeightedOrderedModel.cls


def _cov_args(prep: _Prepared, ordinal: bool = False) -> dict:
    if prep.cluster is not None:
        groups = pd.factorize(prep.data[prep.cluster])[0]
        return {"cov_type": "cluster", "cov_kwds": {"groups": groups}, "use_t": True}
    return {"cov_type": "HC0" if ordinal else "HC1"}


def _logit_pdf(z):
    e = np.exp(-np.abs(z))
    return e / (1 + e) ** 2


def _logistic_ame(res, terms: list[str], weights) -> tuple[np.ndarray, np.ndarray]:
    """Average marginal effects dP/dx (probability units) and their delta-method covariance."""
    exog = np.asarray(res.model.exog, dtype=float)
    beta = np.asarray(res.params, dtype=float)
    names = list(res.model.exog_names)
    idx = [names.index(t) for t in terms]
    w = np.ones(len(exog)) if weights is None else np.asarray(weights, float)
    w = w / w.sum()
    p = expit(exog @ beta)
    d = p * (1 - p)
    md = float(w @ d)
    ame = md * beta[idx]
    dd = w @ (exog * (d * (1 - 2 * p))[:, None])  # d md / d beta, shape (k,)
    jac = np.outer(beta[idx], dd)
    jac[np.arange(len(idx)), idx] += md
    cov = jac @ np.asarray(res.cov_params(), dtype=float) @ jac.T
    return ame, cov


def _ordinal_ame_fn(model, idx: list[int], weights, satisfied_mask: np.ndarray):
    """Function params -> AME matrix (items x (levels + 1)): each level, then P(satisfied)."""
    exog = np.asarray(model.exog, dtype=float)
    k_vars = exog.shape[1]
    w = np.ones(len(exog)) if weights is None else np.asarray(weights, float)
    w = w / w.sum()

    def fn(params):
        params = np.asarray(params, dtype=float)
        thresh = model.transform_threshold_params(params)
        xb = exog @ params[:k_vars]
        z = thresh[None, :] - xb[:, None]
        f = np.where(np.isfinite(z), _logit_pdf(np.where(np.isfinite(z), z, 0.0)), 0.0)
        avg = w @ (f[:, :-1] - f[:, 1:])  # (levels,): d P(level) / d xb * (-1) ... times beta below
        per_level = params[idx][:, None] * avg[None, :]
        sat = per_level[:, satisfied_mask].sum(axis=1, keepdims=True)
        return np.column_stack([per_level, sat])

    return fn


def _num_jacobian(fn, x: np.ndarray) -> np.ndarray:
    f0 = np.ravel(fn(x))
    jac = np.empty((f0.size, x.size))
    for k in range(x.size):
        h = 1e-6 * max(1.0, abs(x[k]))
        xp, xm = x.copy(), x.copy()
        xp[k] += h
        xm[k] -= h
        jac[:, k] = (np.ravel(fn(xp)) - np.ravel(fn(xm))) / (2 * h)
    return jac


def _separated_items(res, items_terms: dict, data: pd.DataFrame, threshold: float = _SEPARATION_SPAN) -> list[str]:
    """Items whose coefficient times the item's range exceeds ``threshold`` log-odds, or whose SE is not finite."""
    out = []
    params = res.params
    bse = res.bse
    for it, term in items_terms.items():
        span = float(data[it].max() - data[it].min())
        b = float(params[term])
        s = float(bse[term])
        if not np.isfinite(b) or not np.isfinite(s) or abs(b) * span > threshold:
            out.append(it)
    return out


def _binary_separation(data: pd.DataFrame, items: list, y: str) -> dict:
    """Two-valued items with a value at which the outcome never varies: quasi-complete separation."""
    out = {}
    for it in items:
        vals = np.sort(data[it].unique())
        if len(vals) != 2:
            continue
        for v in vals:
            yy = data.loc[data[it] == v, y]
            if yy.nunique() == 1:
                out[it] = (v, yy.iloc[0])
                break
    return out


def _binary_extreme(data: pd.DataFrame, items: list, levels: np.ndarray) -> dict:
    """Two-valued items with a value at which every score is the lowest, or every score the highest, level."""
    out = {}
    for it in items:
        vals = np.sort(data[it].unique())
        if len(vals) != 2:
            continue
        for v in vals:
            sc = data.loc[data[it] == v, "score"]
            if (sc == levels[0]).all() or (sc == levels[-1]).all():
                out[it] = v
                break
    return out


def scorecard_regression(
    joined,
    *,
    items=None,
    item_prefix: str = "item_",
    outcome: str = "satisfied",
    controls=_DEFAULT_CONTROLS,
    cluster: str | None = "agent_id",
    models=None,
    mixed: bool = False,
    weights: str | None = None,
    scale=None,
    alpha: float = 0.05,
    max_missing: float = 0.2,
) -> ScorecardRegression:
    """Regress CSAT on the QA scorecard items: logistic, proportional-odds ordinal and linear models.

    Parameters
    ----------
    joined : QAJoin or DataFrame
        Evaluations matched to surveys (:func:`join_qa`), with item columns, ``score`` and/or
        ``satisfied``, the controls and the cluster column.
    items : list of str, optional
        Item columns; default every column starting with ``item_prefix``.
    outcome : {"satisfied", "score"}
        The outcome of the linear model and of the verdicts: ``satisfied`` (top-box share; the
        linear model is then a linear probability model in percentage points) or ``score`` (the
        raw scale point). The logistic model always uses ``satisfied`` and the ordinal model
        ``score``.
    controls : list of str
        Columns adjusted for; text columns enter as categorical (``C(col)``, first level as
        reference; missing values as a level "(missing)"), numeric ones linearly.
    cluster : str or None
        Column whose rows are correlated (agents). Standard errors are cluster-robust (sandwich with
        the usual small-sample factor G/(G-1)(n-1)/(n-k)); with ``None`` they are
        heteroskedasticity-robust (HC1; HC0 for the ordinal model). With G clusters, intervals and
        p-values use t with G - 1 degrees of freedom, which keeps coverage near nominal with a few
        dozen agents (Cameron & Miller 2015); the mixed model's are normal. Rows missing the cluster
        value are their own clusters. When the default ``"agent_id"`` is absent from the data,
        robust SEs are used with a warning.
    models : list of {"logistic", "ordinal", "linear"}, optional
        Models to fit; default all three (no ordinal model on a two-point scale).
    mixed : bool
        Also fit a linear mixed model with a random intercept per ``cluster`` (agent), whose
        fixed item effects are compared with the clustered estimates, and report the share of the
        remaining outcome variance between agents (``agent_share``).
    weights : str, optional
        Column of survey weights. Weighted fits are pseudo-maximum-likelihood (logistic: GLM with
        ``var_weights``; ordinal: weighted log-likelihood; linear: WLS), always with sandwich SEs.
    scale : str, optional
        The survey scale, when the data have no ``scale`` column (needed to derive ``satisfied``
        and the satisfied levels of the ordinal model).
    alpha : float
        1 - confidence level of the intervals.
    max_missing : float
        Items missing in a larger share of rows are left out (rather than losing those rows);
        rows missing any other item are left out (complete cases).

    Returns
    -------
    ScorecardRegression

    Notes
    -----
    Logistic: :math:`\\mathrm{logit}\\,P(\\text{satisfied}) = \\alpha + x'\\beta + z'\\gamma`,
    odds ratios :math:`e^{\\beta_j}`; the average marginal effect of item j is
    :math:`\\mathrm{AME}_j = \\beta_j \\, \\bar w^{-1}\\sum_i w_i p_i(1-p_i)` (x 100 for percentage
    points), with a delta-method SE (equal to statsmodels' ``get_margeff(at="overall")``).

    Ordinal (statsmodels ``OrderedModel``, logit link):
    :math:`P(Y \\le k) = F(\\theta_k - x'\\beta - z'\\gamma)`. The average marginal effect of item
    j on level k is :math:`\\beta_j \\, n^{-1}\\sum_i [f(\\theta_{k-1} - \\eta_i) - f(\\theta_k - \\eta_i)]`,
    which statsmodels does not provide; the delta-method SE uses a central-difference Jacobian
    with respect to the model's parameters and the model's (cluster-robust) covariance.

    Separation: a two-valued item at one of whose values every outcome is the same, or a fitted
    coefficient worth more than 15 log-odds over the item's range, means the logistic (or
    ordinal) estimate runs off to infinity; the item is left out of that model with a message
    and kept in the others. Consider the linear model's estimate for it.

    References
    ----------
    McCullagh, P. (1980). Regression models for ordinal data. *JRSS B*, 42(2), 109-142.
    Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
    *Journal of Human Resources*, 50(2), 317-372.
    """
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    check_range("alpha", alpha, 0, 1, inclusive=False)
    models = list(_MODELS) if models is None else as_list(models)
    for m in models:
        check_choice("models", m, _MODELS)
    if mixed and cluster is None:
        raise ParameterError("`mixed=True` needs a `cluster` column (the agent) for the random intercept, but cluster=None was passed.")
    prep = _prepare(joined, items=items, item_prefix=item_prefix, outcome=outcome, controls=controls,
                    cluster=cluster, weights=weights, scale=scale, max_missing=max_missing,
                    need_score="ordinal" in models and outcome == "score")
    data = prep.data
    messages = list(prep.messages)
    dropped = list(prep.dropped)
    n_clusters = int(data[prep.cluster].nunique()) if prep.cluster else 0
    df_inf = n_clusters - 1 if prep.cluster and n_clusters > 1 else None
    ref_dist = stats.t(df_inf) if df_inf else stats.norm()
    z = float(ref_dist.ppf(1 - alpha / 2))
    wts = prep.weights
    if wts is not None:
        wts = wts / wts.mean()
    terms = {it: _term(it) for it in prep.items}
    ctrl_terms = [f"C({_term(c)})" if c in prep.categorical else _term(c) for c in prep.controls]
    flag_base = ""
    if prep.cluster and n_clusters < _FEW_CLUSTERS:
        flag_base = "few_clusters"
        msg = (f"Only {n_clusters} clusters in {cluster!r}: cluster-robust standard errors are unreliable with fewer "
               f"than {_FEW_CLUSTERS}; read the intervals as approximate.")
        messages.append(msg)
        _warn(msg)
    sds = data[prep.items].std(ddof=1)

    if "satisfied" in data.columns:
        data["satisfied_pp"] = 100.0 * data["satisfied"]

    results: dict = {}
    formulas: dict = {}
    effect_rows: list[dict] = []
    coef_rows: list[dict] = []
    or_rows: list[dict] = []
    oame_rows: list[dict] = []

    def rhs(its):
        return " + ".join([terms[i] for i in its] + ctrl_terms)

    def add_coefs(model_name, res):
        ci = np.asarray(res.conf_int(alpha=alpha))
        for k, name in enumerate(res.model.exog_names):
            coef_rows.append({"model": model_name, "term": name, "estimate": float(res.params.iloc[k]),
                              "se": float(res.bse.iloc[k]), "ci_low": ci[k, 0], "ci_high": ci[k, 1],
                              "p_value": float(res.pvalues.iloc[k])})

    def add_effects(model_name, measure, its, est, se, flags, dist=ref_dist):
        crit = float(dist.ppf(1 - alpha / 2))
        p = 2 * dist.sf(np.abs(est / se))
        padj = _holm(p)
        for k, it in enumerate(its):
            fl = ";".join(f for f in (flag_base, flags.get(it, "")) if f)
            effect_rows.append({
                "model": model_name, "item": it, "term": terms[it], "measure": measure,
                "estimate": est[k], "se": se[k], "ci_low": est[k] - crit * se[k], "ci_high": est[k] + crit * se[k],
                "p_value": p[k], "p_adj": padj[k], "effect_size": est[k] * sds[it], "n": len(data), "flag": fl,
            })

    def fit_quiet(fn):
        caught = []
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            res = fn()
        for r in rec:
            caught.append(r)
        return res, caught

    def relay(caught, model_name):
        """Pass on convergence and Hessian warnings (as StatisticalWarning naming the model)."""
        seen = set()
        for r in caught:
            text = str(r.message)
            kind = type(r.message).__name__
            if ("Convergence" in kind or "HessianInversion" in kind) and text not in seen:
                seen.add(text)
                msg = f"The {model_name} model: {text.strip()}"
                messages.append(msg)
                _warn(msg)

    def separation_warned(caught):
        return any("separation" in str(r.message).lower() or "perfect" in str(r.message).lower() for r in caught)

    # ---------------- logistic
    if "logistic" in models:
        if "satisfied" not in data.columns:
            messages.append("No 'satisfied' outcome: the logistic model was not fitted.")
        elif data["satisfied"].nunique() < 2:
            msg = (f"Every evaluation has satisfied = {data['satisfied'].iloc[0]:g}: the logistic model cannot be fitted.")
            messages.append(msg)
            _warn(msg)
        else:
            its = list(prep.items)
            pre = _binary_separation(data, its, "satisfied")
            for it, (v, yv) in pre.items():
                msg = (f"Item {it!r} separates the outcome in the logistic model: every evaluation with {it} = {v:g} "
                       f"is {'satisfied' if yv == 1 else 'dissatisfied'}, so its odds ratio is infinite. It was left out "
                       "of the logistic model; see its linear-model estimate.")
                dropped.append({"item": it, "model": "logistic", "reason": "separation", "message": msg})
                messages.append(msg)
                _warn(msg)
                its.remove(it)
            res = None
            for _attempt in range(3):
                if not its:
                    break
                formula = f"satisfied ~ {rhs(its)}"
                try:
                    if wts is None:
                        res, caught = fit_quiet(lambda: smf.logit(formula, data).fit(disp=0, maxiter=200, **_cov_args(prep)))
                    else:
                        res, caught = fit_quiet(lambda: smf.glm(formula, data, family=sm.families.Binomial(),
                                                                var_weights=wts).fit(**_cov_args(prep)))
                except (np.linalg.LinAlgError, ValueError) as exc:
                    msg = (f"The logistic model could not be fitted ({type(exc).__name__}: {exc}); its estimates are "
                           "missing. Perfect prediction by a control level is a common cause; see the linear model.")
                    messages.append(msg)
                    _warn(msg)
                    res = None
                    break
                sep = _separated_items(res, {i: terms[i] for i in its}, data)
                if not sep:
                    relay(caught, "logistic")
                    if separation_warned(caught):
                        msg = ("The logistic model reports perfect prediction, but no item's coefficient runs off: a "
                               "control level is predicted perfectly. Item estimates are kept; control estimates are "
                               "not reliable.")
                        messages.append(msg)
                        _warn(msg)
                    break
                for it in sep:
                    msg = (f"Item {it!r} (nearly) separates the outcome in the logistic model: its odds ratio runs off "
                           "to infinity. It was left out of the logistic model; see its linear-model estimate.")
                    dropped.append({"item": it, "model": "logistic", "reason": "separation", "message": msg})
                    messages.append(msg)
                    _warn(msg)
                    its.remove(it)
                res = None
            if res is not None:
                results["logistic"] = res
                formulas["logistic"] = formula
                add_coefs("logistic", res)
                ame, cov = _logistic_ame(res, [terms[i] for i in its], wts)
                se = np.sqrt(np.diag(cov))
                add_effects("logistic", "ame_pp", its, 100 * ame, 100 * se, {})
                ci = np.asarray(res.conf_int(alpha=alpha))
                names = list(res.model.exog_names)
                pv = np.array([float(res.pvalues[terms[i]]) for i in its])
                padj = _holm(pv)
                for k, it in enumerate(its):
                    j = names.index(terms[it])
                    or_rows.append({"item": it, "term": terms[it], "estimate": float(np.exp(res.params.iloc[j])),
                                    "se": float(res.bse.iloc[j]), "ci_low": float(np.exp(ci[j, 0])),
                                    "ci_high": float(np.exp(ci[j, 1])), "p_value": pv[k], "p_adj": padj[k],
                                    "n": len(data), "flag": flag_base})

    # ---------------- ordinal
    if "ordinal" in models:
        if "score" not in data.columns:
            messages.append("No 'score' column: the ordinal model was not fitted.")
        else:
            levels = np.sort(data["score"].unique())
            if len(levels) < 3:
                messages.append(
                    f"The score takes {len(levels)} values only: the ordinal model equals the logistic one and was not fitted."
                )
            else:
                data["score_level"] = pd.Categorical(data["score"], categories=levels, ordered=True)
                sat_levels = (prep.scale.is_satisfied(levels) if prep.scale is not None
                              else np.zeros(len(levels), dtype=bool))
                its = list(prep.items)
                extreme = _binary_extreme(data, its, levels)
                for it, v in extreme.items():
                    msg = (f"Item {it!r} separates the outcome in the ordinal model: every evaluation with {it} = {v:g} "
                           "has the same extreme score. It was left out of the ordinal model.")
                    dropped.append({"item": it, "model": "ordinal", "reason": "separation", "message": msg})
                    messages.append(msg)
                    _warn(msg)
                    its.remove(it)
                res = None
                for _attempt in range(3):
                    if not its:
                        break
                    formula = f"score_level ~ {rhs(its)}"
                    cls = OrderedModel if wts is None else _weighted_ordered_class()
                    mod = cls.from_formula(formula, data, distr="logit")
                    if wts is not None:
                        mod.survey_weights = wts
                    try:
                        res, caught = fit_quiet(lambda: mod.fit(method="bfgs", disp=0, maxiter=2000, **_cov_args(prep, True)))
                    except (np.linalg.LinAlgError, ValueError) as exc:
                        msg = f"The ordinal model could not be fitted ({type(exc).__name__}: {exc}); its estimates are missing."
                        messages.append(msg)
                        _warn(msg)
                        res = None
                        break
                    sep = _separated_items(res, {i: terms[i] for i in its}, data)
                    if not sep:
                        relay(caught, "ordinal")
                        break
                    for it in sep:
                        msg = (f"Item {it!r} (nearly) separates the outcome in the ordinal model: its coefficient runs "
                               "off to infinity. It was left out of the ordinal model.")
                        dropped.append({"item": it, "model": "ordinal", "reason": "separation", "message": msg})
                        messages.append(msg)
                        _warn(msg)
                        its.remove(it)
                    res = None
                if res is not None:
                    if not res.mle_retvals.get("converged", True):
                        msg = "The ordinal model's optimiser did not report convergence; read its estimates with care."
                        messages.append(msg)
                        _warn(msg)
                    results["ordinal"] = res
                    formulas["ordinal"] = formula
                    add_coefs("ordinal", res)
                    names = list(res.model.exog_names)
                    idx = [names.index(terms[i]) for i in its]
                    fn = _ordinal_ame_fn(res.model, idx, wts, np.asarray(sat_levels, dtype=bool))
                    params = np.asarray(res.params, dtype=float)
                    val = fn(params)
                    jac = _num_jacobian(fn, params)
                    cov = jac @ np.asarray(res.cov_params(), dtype=float) @ jac.T
                    se_all = np.sqrt(np.clip(np.diag(cov), 0, None)).reshape(val.shape)
                    n_lv = len(levels)
                    for k, it in enumerate(its):
                        for lv in range(n_lv):
                            est, s = 100 * val[k, lv], 100 * se_all[k, lv]
                            oame_rows.append({
                                "item": it, "term": terms[it], "level": levels[lv], "estimate": est, "se": s,
                                "ci_low": est - z * s, "ci_high": est + z * s,
                                "p_value": 2 * ref_dist.sf(abs(est / s)) if s > 0 else np.nan,
                                "n": len(data), "flag": flag_base,
                            })
                    if sat_levels.any():
                        add_effects("ordinal", "ame_pp_satisfied", its, 100 * val[:, -1], 100 * se_all[:, -1], {})

    # ---------------- linear
    y_lin = "satisfied_pp" if outcome == "satisfied" else "score"
    measure_lin = "coef_pp" if outcome == "satisfied" else "coef_points"
    if "linear" in models:
        formula = f"{y_lin} ~ {rhs(prep.items)}"
        if wts is None:
            res = smf.ols(formula, data).fit(**_cov_args(prep))
        else:
            res = smf.wls(formula, data, weights=wts).fit(**_cov_args(prep))
        results["linear"] = res
        formulas["linear"] = formula
        add_coefs("linear", res)
        est = np.array([float(res.params[terms[i]]) for i in prep.items])
        se = np.array([float(res.bse[terms[i]]) for i in prep.items])
        add_effects("linear", measure_lin, prep.items, est, se, {})

    # ---------------- mixed
    agent_share = float("nan")
    if mixed:
        formula = f"{y_lin} ~ {rhs(prep.items)}"
        res, caught = fit_quiet(lambda: smf.mixedlm(formula, data, groups=data[prep.cluster]).fit(reml=True))
        if any("converge" in str(r.message).lower() or "boundary" in str(r.message).lower() for r in caught):
            msg = "The mixed model reported a convergence or boundary problem (agent variance near 0?); read it with care."
            messages.append(msg)
            _warn(msg)
        results["mixed"] = res
        formulas["mixed"] = formula + f"  [random intercept: {cluster}]"
        est = np.array([float(res.fe_params[terms[i]]) for i in prep.items])
        se = np.array([float(res.bse_fe[terms[i]]) for i in prep.items])
        add_effects("mixed", measure_lin, prep.items, est, se, {}, dist=stats.norm())
        var_agent = float(np.asarray(res.cov_re)[0, 0])
        agent_share = 100 * var_agent / (var_agent + float(res.scale))
        ci = np.asarray(res.conf_int(alpha=alpha))
        for k, name in enumerate(res.fe_params.index):
            coef_rows.append({"model": "mixed", "term": name, "estimate": float(res.fe_params.iloc[k]),
                              "se": float(res.bse_fe.iloc[k]), "ci_low": ci[k, 0], "ci_high": ci[k, 1],
                              "p_value": float(res.pvalues.iloc[k])})

    if not results:
        raise InputError("No model could be fitted: " + " ".join(messages))
    if outcome == "satisfied":
        order = ["logistic", "linear", "ordinal", "mixed"]
    else:
        order = ["linear", "ordinal", "mixed", "logistic"]
    fitted_effects = {r["model"] for r in effect_rows}
    primary = next(m for m in order if m in fitted_effects) if fitted_effects else next(iter(results))

    effects = pd.DataFrame(effect_rows, columns=["model", "item", "term", "measure"] + _RESULT_COLUMNS)
    odds = pd.DataFrame(or_rows, columns=["item", "term", "estimate", "se", "ci_low", "ci_high", "p_value", "p_adj", "n", "flag"])
    oame = pd.DataFrame(oame_rows, columns=["item", "term", "level", "estimate", "se", "ci_low", "ci_high", "p_value", "n", "flag"])
    coefs = pd.DataFrame(coef_rows, columns=["model", "term", "estimate", "se", "ci_low", "ci_high", "p_value"])
    return ScorecardRegression(
        effects=effects, odds_ratios=odds, ordinal_ame=oame, coefficients=coefs,
        dropped=pd.DataFrame(dropped, columns=["item", "model", "reason", "message"]),
        results=results, formulas=formulas, data=data, items=list(prep.items), controls=list(prep.controls),
        outcome=outcome, cluster=cluster if prep.cluster else None, n=len(data), n_clusters=n_clusters,
        primary=primary, alpha=alpha, scale=prep.scale.name if prep.scale is not None else None, df_inference=df_inf,
        agent_share=agent_share, messages=messages,
    )


# =============================================================================================
# 3. Scorecard validity
# =============================================================================================

_VERDICT_DRIVES = "drives CSAT"
_VERDICT_NONE = "no detectable effect at this n"
_VERDICT_NEGATIVE = "negative association to investigate"
_VERDICT_NOT = "not assessed"


@dataclass
class ScorecardValidity:
    """Does the QA scorecard measure what moves CSAT?

    Attributes
    ----------
    association : DataFrame
        One row: ``metric`` (``pearson_r``), ``outcome``, ``estimate`` (correlation of the total
        QA score with the outcome; point-biserial for ``satisfied``), ``ci_low, ci_high`` (Fisher z
        on ``n_eff``), ``n``, ``n_eff`` (n divided by the design effect of clustering, estimated
        as the ratio of cluster-robust to iid variance of the standardised slope), ``p_value``
        (cluster-robust test of the slope), ``flag``.
    calibration : DataFrame
        CSAT by QA-score decile: ``bin`` (1 = lowest), ``qa_low, qa_high, qa_mean``, ``n``,
        ``metric`` (``csat`` or ``mean_score``), ``estimate`` (% satisfied, Wilson CI; or mean
        score, t CI), ``ci_low, ci_high``, ``flag`` (``small_n`` below 30). Ties in the QA score
        can merge deciles: fewer than ten bins then.
    verdicts : DataFrame
        One row per item: ``item, verdict, text, model, measure, estimate, se, ci_low, ci_high,
        p_value, p_adj, mde, effect_size, n, flag``. ``verdict`` is ``drives CSAT`` (Holm-adjusted
        p < alpha, positive), ``negative association to investigate`` (the same, negative),
        ``no detectable effect at this n`` (otherwise; ``mde`` is the minimum detectable effect
        :math:`(z_{1-\\alpha/2} + z_{power}) \\cdot SE`, with t quantiles on G - 1 degrees of
        freedom when SEs are clustered) or ``not assessed`` (item left out).
    collinearity : DataFrame
        ``item, vif, max_abs_corr, most_correlated_with, flag`` (``collinear`` when VIF > 10).
    condition_number : float
        Of the item matrix with an intercept, columns scaled to unit length (Belsley); above 30
        the estimates are hard to separate.
    evaluator : DataFrame or None
        One row: ``metric`` (``evaluator_share``), ``estimate`` (% of QA-score variance between
        evaluators, one-way random-effects ICC(1)), ``ci_low, ci_high`` (F-based), ``n``,
        ``n_evaluators``, ``p_value`` (F test of equal evaluator means), ``flag``.
    evaluators : DataFrame or None
        Per evaluator: ``evaluator, n, estimate`` (mean QA score), ``ci_low, ci_high``,
        ``difference`` (from the overall mean), ``flag``.
    """

    association: pd.DataFrame
    calibration: pd.DataFrame
    verdicts: pd.DataFrame
    collinearity: pd.DataFrame
    condition_number: float
    evaluator: pd.DataFrame | None
    evaluators: pd.DataFrame | None
    outcome: str
    qa_score: str
    alpha: float
    messages: list = field(default_factory=list)

    def items_with(self, verdict: str) -> list[str]:
        return list(self.verdicts.loc[self.verdicts["verdict"] == verdict, "item"])

    def summary(self) -> str:
        a = self.association.iloc[0]
        lines = [
            f"Total QA score vs {self.outcome}: r = {a['estimate']:.3f} "
            f"({100 * (1 - self.alpha):.0f}% CI {a['ci_low']:.3f} to {a['ci_high']:.3f}), n = {int(a['n']):,}, "
            f"n_eff = {a['n_eff']:.0f}.",
            "",
            "By QA-score decile:",
            _text_table(self.calibration[["bin", "qa_low", "qa_high", "n", "estimate", "ci_low", "ci_high", "flag"]]),
            "",
            "Item verdicts:",
        ]
        lines += [f"  - {t}" for t in self.verdicts["text"]]
        lines += ["", f"Multicollinearity: condition number {self.condition_number:.1f}; max VIF "
                  f"{self.collinearity['vif'].max():.2f}." if len(self.collinearity) else ""]
        if self.evaluator is not None:
            e = self.evaluator.iloc[0]
            lines.append(
                f"Evaluator calibration: {e['estimate']:.1f}% of the QA-score variance lies between evaluators "
                f"(CI {e['ci_low']:.1f} to {e['ci_high']:.1f}; {int(e['n_evaluators'])} evaluators)."
            )
        lines += [f"  note: {m}" for m in self.messages]
        return "\n".join(lines)

    __str__ = summary

    def _repr_html_(self) -> str:
        out = ["<p><b>Scorecard validity</b></p>", _html_table(self.association),
               "<p>CSAT by QA-score decile</p>", _html_table(self.calibration),
               "<p>Item verdicts</p>",
               "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in self.verdicts["text"]) + "</ul>",
               f"<p>Multicollinearity (condition number {self.condition_number:.1f})</p>", _html_table(self.collinearity)]
        if self.evaluator is not None:
            out += ["<p>Evaluator calibration</p>", _html_table(self.evaluator)]
        if self.messages:
            out.append("<ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in self.messages) + "</ul>")
        return "".join(out)


def _unit(measure: str) -> str:
    return "points" if measure.endswith("points") else "pp"


def _signed(x: float, unit: str, digits: int = 1) -> str:
    return f"{x:+.{digits}f} {unit}"


def _verdict_rows(reg: ScorecardRegression, alpha: float, power: float) -> pd.DataFrame:
    eff = reg.primary_effects()
    dist = stats.t(reg.df_inference) if reg.df_inference and reg.primary != "mixed" else stats.norm()
    zsum = dist.ppf(1 - alpha / 2) + dist.ppf(power)
    level = f"{100 * (1 - alpha):.0f}% CI"
    rows = []
    for r in eff.itertuples():
        unit = _unit(r.measure)
        mde = zsum * r.se
        name = str(r.item)
        ci = f"{level} {r.ci_low:+.1f} to {r.ci_high:+.1f}"
        if r.p_adj < alpha and r.estimate > 0:
            verdict = _VERDICT_DRIVES
            text = f"{name} drives CSAT: {_signed(r.estimate, unit)} per item point ({ci})."
        elif r.p_adj < alpha and r.estimate < 0:
            verdict = _VERDICT_NEGATIVE
            text = (f"{name}: negative association to investigate, {_signed(r.estimate, unit)} per item point ({ci}); "
                    "higher scores on this item go with lower CSAT - check how it is scored and what it rewards.")
        else:
            verdict = _VERDICT_NONE
            text = (f"{name}: no detectable effect at this n ({_signed(r.estimate, unit)}, {ci}); the smallest effect "
                    f"detectable with {power:.0%} power is \u00b1{mde:.1f} {unit} per item point.")
        rows.append({"item": name, "verdict": verdict, "text": text, "model": r.model, "measure": r.measure,
                     "estimate": r.estimate, "se": r.se, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "p_value": r.p_value, "p_adj": r.p_adj, "mde": mde, "effect_size": r.effect_size,
                     "n": r.n, "flag": r.flag})
    assessed = set(eff["item"])
    seen = set()
    for d in reg.dropped.itertuples():
        if d.item in assessed or d.item in seen:
            continue
        seen.add(d.item)
        rows.append({"item": d.item, "verdict": _VERDICT_NOT, "text": f"{d.item}: not assessed. {d.message}",
                     "model": reg.primary, "measure": "", "estimate": np.nan, "se": np.nan, "ci_low": np.nan,
                     "ci_high": np.nan, "p_value": np.nan, "p_adj": np.nan, "mde": np.nan, "effect_size": np.nan,
                     "n": reg.n, "flag": d.reason})
    return pd.DataFrame(rows, columns=["item", "verdict", "text", "model", "measure", "estimate", "se", "ci_low",
                                       "ci_high", "p_value", "p_adj", "mde", "effect_size", "n", "flag"])


def _collinearity(data: pd.DataFrame, items: list, controls: list, categorical: list) -> tuple[pd.DataFrame, float]:
    x = data[items].to_numpy(float)
    d = _design_controls(data, controls, categorical)
    full = np.column_stack([x, d]) if d.shape[1] else x
    keep = full.std(axis=0) > 0
    full = full[:, keep]
    if full.shape[1] > 1:
        corr = np.corrcoef(full, rowvar=False)
        vif_all = np.diag(np.linalg.pinv(corr, hermitian=True))
    else:
        corr = np.ones((1, 1))
        vif_all = np.ones(1)
    p = len(items)
    ci = corr[:p, :p].copy()
    np.fill_diagonal(ci, 0.0)
    rows = []
    for j, it in enumerate(items):
        k = int(np.argmax(np.abs(ci[j]))) if p > 1 else j
        rows.append({"item": it, "vif": float(vif_all[j]), "max_abs_corr": float(abs(ci[j, k])) if p > 1 else 0.0,
                     "most_correlated_with": items[k] if p > 1 else "", "flag": "collinear" if vif_all[j] > 10 else ""})
    xs = np.column_stack([np.ones(len(x)), x])
    xs = xs / np.linalg.norm(xs, axis=0)
    sv = np.linalg.svd(xs, compute_uv=False)
    return pd.DataFrame(rows), float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")


def _icc_oneway(y: np.ndarray, groups: np.ndarray, alpha: float) -> dict:
    """One-way random-effects ICC(1) with its F-based CI (Shrout & Fleiss 1979; Searle 1971)."""
    codes, uniq = pd.factorize(groups)
    k = len(uniq)
    n = len(y)
    ni = np.bincount(codes)
    means = np.bincount(codes, weights=y) / ni
    grand = y.mean()
    ssb = float((ni * (means - grand) ** 2).sum())
    ssw = float(((y - means[codes]) ** 2).sum())
    msb = ssb / (k - 1)
    msw = ssw / (n - k)
    n0 = (n - (ni**2).sum() / n) / (k - 1)
    if msw <= 0:
        return {"icc": 1.0, "ci_low": 1.0, "ci_high": 1.0, "p": 0.0, "k": k, "n": n}
    f = msb / msw
    p = float(stats.f.sf(f, k - 1, n - k))
    var_b = max(0.0, (msb - msw) / n0)
    icc = var_b / (var_b + msw)
    fl = f / stats.f.ppf(1 - alpha / 2, k - 1, n - k)
    fu = f * stats.f.ppf(1 - alpha / 2, n - k, k - 1)
    lo = max(0.0, (fl - 1) / (fl + n0 - 1))
    hi = min(1.0, (fu - 1) / (fu + n0 - 1))
    return {"icc": icc, "ci_low": lo, "ci_high": max(hi, lo), "p": p, "k": k, "n": n}


def scorecard_validity(
    joined,
    *,
    items=None,
    item_prefix: str = "item_",
    outcome: str = "satisfied",
    qa_score: str = "qa_score",
    evaluator: str | None = "evaluator_id",
    controls=_DEFAULT_CONTROLS,
    cluster: str | None = "agent_id",
    regression: ScorecardRegression | None = None,
    n_bins: int = 10,
    power: float = 0.8,
    alpha: float = 0.05,
    scale=None,
) -> ScorecardValidity:
    """Check the QA scorecard against CSAT: total-score association, decile calibration, item verdicts.

    Parameters
    ----------
    joined : QAJoin or DataFrame
        Evaluations matched to surveys.
    items, item_prefix, outcome, controls, cluster, scale
        As in :func:`scorecard_regression` (used only when ``regression`` is not given).
    qa_score : str
        Column of the total QA score. When absent, the total is the mean of the items, each
        rescaled to 0-100 over its observed range (noted in ``messages``).
    evaluator : str or None
        Column naming the evaluator; when present (two or more evaluators), the share of
        QA-score variance due to the evaluator is estimated.
    regression : ScorecardRegression, optional
        A fitted regression whose primary-model effects give the item verdicts; fitted here with
        the same arguments when not given.
    n_bins : int
        Number of QA-score bins (deciles by default).
    power : float
        Power for the minimum detectable effect of items without a detectable effect.
    alpha : float
        1 - confidence level.

    Returns
    -------
    ScorecardValidity

    Notes
    -----
    Evaluator share: :math:`\\hat\\rho = \\hat\\sigma^2_b / (\\hat\\sigma^2_b + MS_W)` with
    :math:`\\hat\\sigma^2_b = \\max(0, (MS_B - MS_W)/n_0)`,
    :math:`n_0 = (N - \\sum n_i^2 / N)/(k-1)`. Evaluators who see different agents or contact
    types confound calibration with case mix; a calibration session (every evaluator scoring the
    same interactions) isolates it.

    Multicollinearity: :math:`VIF_j = [R^{-1}]_{jj}` over the items and control dummies; a
    warning is issued when a VIF exceeds 10 or the condition number exceeds 30 (Belsley, Kuh &
    Welsch 1980), naming the items whose effects cannot be separated.
    """
    check_range("alpha", alpha, 0, 1, inclusive=False)
    check_range("power", power, 0, 1, inclusive=False)
    if int(n_bins) != n_bins or n_bins < 2:
        raise ParameterError(f"The value for `n_bins` must be an integer of at least 2, but {n_bins!r} was passed.")
    df = _resolve_frame(joined)
    messages: list[str] = []
    if regression is None:
        regression = scorecard_regression(joined, items=items, item_prefix=item_prefix, outcome=outcome,
                                          controls=controls, cluster=cluster, scale=scale, alpha=alpha)
    outcome = regression.outcome
    reg_data = regression.data
    y_col = outcome

    # ---- total QA score
    if qa_score in df.columns:
        total = pd.to_numeric(df[qa_score], errors="coerce")
        source = qa_score
    else:
        its = regression.items
        vals = df.loc[:, its].apply(lambda s: _coerce_item(s)[0])
        rng_ = (vals.max() - vals.min()).replace(0, np.nan)
        total = ((vals - vals.min()) / rng_ * 100).mean(axis=1)
        source = "mean of items (0-100)"
        messages.append(f"No {qa_score!r} column: the total QA score is the mean of the items, each rescaled to 0-100.")
    if outcome == "satisfied":
        if "satisfied" in df.columns:
            y = pd.to_numeric(df["satisfied"], errors="coerce").astype(float)
        else:
            sc = get_scale(regression.scale) if regression.scale else None
            if sc is None:
                raise MissingColumnError("Outcome 'satisfied' needs a 'satisfied' column or the scale.")
            sc_score = pd.to_numeric(df["score"], errors="coerce")
            y = pd.Series(np.where(sc_score.isna(), np.nan, sc.is_satisfied(sc_score)), index=df.index, dtype=float)
    else:
        y = pd.to_numeric(df["score"], errors="coerce")
    ok = total.notna() & y.notna()
    t = total[ok].to_numpy(float)
    yy = y[ok].to_numpy(float)
    n = len(t)
    z = stats.norm.ppf(1 - alpha / 2)
    if n < 4 or t.std() == 0 or yy.std() == 0:
        r = np.nan
        lo = hi = p_val = np.nan
        n_eff = float(n)
        flag = "undefined"
    else:
        r = float(np.corrcoef(t, yy)[0, 1])
        ts = (t - t.mean()) / t.std()
        ys = (yy - yy.mean()) / yy.std()
        x_mat = np.column_stack([np.ones(n), ts])
        beta = np.linalg.lstsq(x_mat, ys, rcond=None)[0]
        resid = ys - x_mat @ beta
        bread = np.linalg.inv(x_mat.T @ x_mat)
        var_iid = float(resid @ resid / (n - 2) * bread[1, 1])
        groups = None
        clu = regression.cluster
        if clu is not None and clu in df.columns:
            groups = pd.factorize(df.loc[ok, clu].astype("string").fillna("(missing)"))[0]
        if groups is not None and groups.max() > 0:
            sc_ = x_mat * resid[:, None]
            sg = np.zeros((groups.max() + 1, 2))
            np.add.at(sg, groups, sc_)
            g = groups.max() + 1
            meat = sg.T @ sg * g / (g - 1) * (n - 1) / (n - 2)
            var_cl = float((bread @ meat @ bread)[1, 1])
            deff = max(1.0, var_cl / var_iid)
            p_val = float(2 * stats.norm.sf(abs(beta[1]) / np.sqrt(var_cl)))
        else:
            deff = 1.0
            p_val = float(2 * stats.norm.sf(abs(beta[1]) / np.sqrt(var_iid)))
        n_eff = n / deff
        zr = np.arctanh(np.clip(r, -0.999999, 0.999999))
        half = z / np.sqrt(max(n_eff - 3, 1e-9))
        lo, hi = float(np.tanh(zr - half)), float(np.tanh(zr + half))
        flag = "small_n" if n_eff < 30 else ""
    association = pd.DataFrame([{"metric": "pearson_r", "outcome": outcome, "qa_score": source, "estimate": r,
                                 "ci_low": lo, "ci_high": hi, "n": n, "n_eff": n_eff, "p_value": p_val, "flag": flag}])

    # ---- calibration by decile
    cal_rows = []
    if n >= n_bins:
        try:
            bins = pd.qcut(pd.Series(t), int(n_bins), duplicates="drop")
        except ValueError:
            bins = pd.cut(pd.Series(t), 1)
        codes = bins.cat.codes.to_numpy()
        n_made = int(codes.max()) + 1
        if n_made < n_bins:
            messages.append(f"Ties in the QA score leave {n_made} bins instead of {n_bins}.")
        from statsmodels.stats.proportion import proportion_confint

        for b in range(n_made):
            sel = codes == b
            nb = int(sel.sum())
            if nb == 0:
                continue
            row = {"bin": b + 1, "qa_low": float(t[sel].min()), "qa_high": float(t[sel].max()),
                   "qa_mean": float(t[sel].mean()), "n": nb}
            if outcome == "satisfied":
                k = float(yy[sel].sum())
                lo_b, hi_b = proportion_confint(k, nb, alpha=alpha, method="wilson")
                row.update(metric="csat", estimate=100 * k / nb, ci_low=100 * lo_b, ci_high=100 * hi_b)
            else:
                m = float(yy[sel].mean())
                s = float(yy[sel].std(ddof=1)) if nb > 1 else np.nan
                h = stats.t.ppf(1 - alpha / 2, nb - 1) * s / np.sqrt(nb) if nb > 1 else np.nan
                row.update(metric="mean_score", estimate=m, ci_low=m - h, ci_high=m + h)
            row["flag"] = "small_n" if nb < 30 else ""
            cal_rows.append(row)
    calibration = pd.DataFrame(cal_rows, columns=["bin", "qa_low", "qa_high", "qa_mean", "n", "metric", "estimate",
                                                  "ci_low", "ci_high", "flag"])

    # ---- verdicts
    verdicts = _verdict_rows(regression, alpha, power)

    # ---- collinearity
    categorical = [c for c in regression.controls if not pd.api.types.is_numeric_dtype(reg_data[c].dtype)]
    collinearity, kappa = _collinearity(reg_data, regression.items, regression.controls, categorical)
    bad = collinearity[collinearity["vif"] > 10]
    if len(bad) or kappa > 30:
        if len(bad):
            pairs = "; ".join(f"{r.item} (VIF {r.vif:.1f}, r = {r.max_abs_corr:.2f} with {r.most_correlated_with})"
                              for r in bad.itertuples())
        else:
            top = collinearity.sort_values("max_abs_corr", ascending=False).iloc[0]
            pairs = f"{top['item']} and {top['most_correlated_with']} (r = {top['max_abs_corr']:.2f})"
        msg = (f"The effects of these items cannot be well separated: {pairs}; condition number {kappa:.1f}. "
               "Their individual estimates are unstable; read their combined effect, or merge the items.")
        messages.append(msg)
        _warn(msg)

    # ---- evaluator calibration
    ev_table = ev_each = None
    if evaluator is not None and evaluator in df.columns:
        ok_e = total.notna() & df[evaluator].notna()
        ev = df.loc[ok_e, evaluator].astype(str).to_numpy()
        te = total[ok_e].to_numpy(float)
        n_ev = len(np.unique(ev))
        if n_ev >= 2 and len(te) > n_ev:
            res = _icc_oneway(te, ev, alpha)
            ev_table = pd.DataFrame([{
                "metric": "evaluator_share", "estimate": 100 * res["icc"], "ci_low": 100 * res["ci_low"],
                "ci_high": 100 * res["ci_high"], "n": res["n"], "n_evaluators": res["k"], "p_value": res["p"],
                "flag": "few_evaluators" if res["k"] < 5 else "",
            }])
            grand = te.mean()
            rows = []
            for name, grp in pd.Series(te).groupby(ev):
                m = float(grp.mean())
                nb = len(grp)
                s = float(grp.std(ddof=1)) if nb > 1 else np.nan
                h = stats.t.ppf(1 - alpha / 2, nb - 1) * s / np.sqrt(nb) if nb > 1 else np.nan
                rows.append({"evaluator": name, "n": nb, "estimate": m, "ci_low": m - h, "ci_high": m + h,
                             "difference": m - grand, "flag": "small_n" if nb < 30 else ""})
            ev_each = pd.DataFrame(rows)
            if res["icc"] > 0.1:
                messages.append(
                    f"{100 * res['icc']:.0f}% of the QA-score variance lies between evaluators: evaluators score "
                    "differently (or see different work); a calibration session would tell which."
                )
    return ScorecardValidity(
        association=association, calibration=calibration, verdicts=verdicts, collinearity=collinearity,
        condition_number=kappa, evaluator=ev_table, evaluators=ev_each, outcome=outcome, qa_score=source,
        alpha=alpha, messages=messages,
    )


# =============================================================================================
# 4. Relative importance
# =============================================================================================


@dataclass
class KeyDrivers:
    """Relative importance of the scorecard items for CSAT.

    Attributes
    ----------
    importance : DataFrame
        One row per method and item, ranked within method: ``method`` (``lmg``: Shapley
        decomposition of R²; ``relative_weights``: Johnson 2000; ``mcfadden_lmg``: Shapley
        decomposition of McFadden's pseudo-R², binary outcome), ``item``, ``rank``, ``estimate``
        (the item's share of the explained variance, %, summing to 100), ``ci_low, ci_high``
        (bootstrap percentile interval of the share), ``se`` (bootstrap SD of the share),
        ``contribution`` (the item's part of R², summing to the R² of the items),
        ``mc_error`` (Monte Carlo SE of ``contribution`` when sampled, else 0), ``n``, ``flag``.
    r2 : DataFrame
        ``measure`` (``r2`` of the linear model of the outcome on controls and items,
        ``r2_controls``, ``r2_items`` = their difference, ``mcfadden`` and
        ``mcfadden_controls`` for a binary outcome), ``estimate, ci_low, ci_high, n``.
    dominance : DataFrame or None
        Pairwise dominance for up to ``dominance_max`` items (exact mode): ``item, other,
        complete, conditional, general`` (True when ``item`` dominates ``other`` at that level;
        ``item`` is the higher-ranked of the pair).
    conditional : DataFrame or None
        ``item, size, estimate``: the item's average gain in R² over the subsets of ``size`` other
        items (conditional dominance statistics; their mean over sizes is the LMG contribution).
    method : str
        ``exact`` (every subset) or ``sampled`` (random orderings; see ``n_perm``).
    """

    importance: pd.DataFrame
    r2: pd.DataFrame
    dominance: pd.DataFrame | None
    conditional: pd.DataFrame | None
    items: list
    outcome: str
    method: str
    n: int
    n_boot: int
    n_perm: int
    weighted: bool
    controls: list
    cluster: str | None
    seed: Any
    dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
    messages: list = field(default_factory=list)

    def ranking(self, method: str = "lmg") -> list[str]:
        """Items from most to least important by ``method``."""
        tab = self.importance[self.importance["method"] == method]
        return list(tab.sort_values("rank")["item"])

    def summary(self) -> str:
        r2 = self.r2.set_index("measure")
        head = (f"Key drivers of {self.outcome!r}: {len(self.items)} items, n = {self.n:,}, "
                f"{'weighted, ' if self.weighted else ''}LMG {self.method}"
                f"{f' ({self.n_perm} orderings)' if self.method == 'sampled' else ''}, {self.n_boot} bootstrap replicates"
                f"{' by ' + repr(self.cluster) if self.cluster else ''}.")
        lines = [head, f"R\u00b2 of the items = {r2.loc['r2_items', 'estimate']:.3f}"
                       f" (CI {_fmt(r2.loc['r2_items', 'ci_low'], 3)} to {_fmt(r2.loc['r2_items', 'ci_high'], 3)})."]
        for method in self.importance["method"].unique():
            tab = self.importance[self.importance["method"] == method].sort_values("rank")
            lines += ["", f"{method}: share of explained variance (%)",
                      _text_table(tab[["rank", "item", "estimate", "ci_low", "ci_high", "contribution"]])]
        if self.dominance is not None:
            comp = self.dominance[self.dominance["complete"]]
            lines += ["", f"Complete dominance holds for {len(comp)} of {len(self.dominance)} pairs."]
        lines += [f"  note: {m}" for m in self.messages]
        return "\n".join(lines)

    __str__ = summary

    def _repr_html_(self) -> str:
        out = [f"<p><b>Key drivers</b> of <code>{html.escape(self.outcome)}</code>: {len(self.items)} items, "
               f"n = {self.n:,}, LMG {self.method}</p>", _html_table(self.r2)]
        for method in self.importance["method"].unique():
            tab = self.importance[self.importance["method"] == method].sort_values("rank")
            out += [f"<p>{html.escape(method)}</p>",
                    _html_table(tab[["rank", "item", "estimate", "ci_low", "ci_high", "contribution", "flag"]])]
        if self.dominance is not None:
            out += ["<p>Dominance</p>", _html_table(self.dominance)]
        if self.messages:
            out.append("<ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in self.messages) + "</ul>")
        return "".join(out)


def _moments_to_cov(m: np.ndarray) -> np.ndarray:
    """(B, q+1, q+1) weighted moment matrices of [1, z] -> (B, q, q) covariance matrices."""
    w = m[:, 0, 0]
    mean = m[:, 1:, 0] / w[:, None]
    return m[:, 1:, 1:] / w[:, None, None] - mean[:, :, None] * mean[:, None, :]


def _replicate_covs(z: np.ndarray, w: np.ndarray, codes: np.ndarray, n_boot: int, rng) -> np.ndarray:
    """Covariance matrices of ``z`` under ``n_boot`` bootstrap resamples of the clusters ``codes``.

    Cluster g drawn m times contributes its rows with weight m * w. With few clusters the
    per-cluster moment matrices are formed once; otherwise each replicate is a weighted product.
    """
    n, q = z.shape
    zc = z - (w @ z) / w.sum()
    a = np.column_stack([np.ones(n), zc])
    g = int(codes.max()) + 1
    out = np.empty((n_boot, q, q))
    if g <= 5000:
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(g + 1))
        mg = np.empty((g, q + 1, q + 1))
        for k in range(g):
            rows = order[bounds[k]:bounds[k + 1]]
            ak = a[rows]
            mg[k] = ak.T @ (ak * w[rows, None])
        flat = mg.reshape(g, -1)
        for start in range(0, n_boot, 256):
            stop = min(n_boot, start + 256)
            mult = np.stack([np.bincount(rng.integers(0, g, g), minlength=g) for _ in range(start, stop)]).astype(float)
            out[start:stop] = _moments_to_cov((mult @ flat).reshape(-1, q + 1, q + 1))
    else:
        for b in range(n_boot):
            mult = np.bincount(rng.integers(0, g, g), minlength=g).astype(float)
            u = w * mult[codes]
            m = a.T @ (a * u[:, None])
            out[b] = _moments_to_cov(m[None])[0]
    return out


def _logit_loglik(x: np.ndarray, y: np.ndarray, w: np.ndarray, start=None, maxiter: int = 60) -> tuple[float, np.ndarray]:
    """Weighted logistic log-likelihood at the MLE (Newton-Raphson with step halving)."""
    beta = np.zeros(x.shape[1]) if start is None else np.array(start, dtype=float)

    def ll(b):
        eta = x @ b
        return float(w @ (y * eta - np.logaddexp(0, eta)))

    cur = ll(beta)
    for _ in range(maxiter):
        p = expit(x @ beta)
        grad = x.T @ (w * (y - p))
        hess = (x * (w * p * (1 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(hess + 1e-10 * np.eye(len(beta)), grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while t > 1e-6:
            new = beta + t * step
            val = ll(new)
            if val >= cur - 1e-12:
                break
            t /= 2
        done = abs(val - cur) < 1e-10 * (1 + abs(cur))
        beta, cur = new, val
        if done:
            break
    return cur, beta


def _mcfadden_values(x: np.ndarray, d: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """McFadden R² of every subset of the item columns of ``x`` (controls ``d`` always in), bitmask order."""
    n, p = x.shape
    base = np.column_stack([np.ones(n), d])
    ll0, _ = _logit_loglik(np.ones((n, 1)), y, w)
    values = np.empty(2**p)
    coefs: dict[int, np.ndarray] = {}
    for mask in range(2**p):
        cols = [j for j in range(p) if mask >> j & 1]
        xm = np.column_stack([base, x[:, cols]]) if cols else base
        start = None
        if cols:
            parent = mask & ~(1 << cols[-1])
            start = np.concatenate([coefs[parent], [0.0]])
        ll, b = _logit_loglik(xm, y, w, start)
        coefs[mask] = b
        values[mask] = 1 - ll / ll0
    return values, ll0


def _mcfadden_sampled(x, d, y, w, n_perm: int, rng) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Shapley decomposition of McFadden's R² by sampled orderings (antithetic pairs), memoised fits."""
    n, p = x.shape
    base = np.column_stack([np.ones(n), d])
    ll0, _ = _logit_loglik(np.ones((n, 1)), y, w)
    cache: dict[int, float] = {}

    def value(mask):
        if mask not in cache:
            cols = [j for j in range(p) if mask >> j & 1]
            xm = np.column_stack([base, x[:, cols]]) if cols else base
            cache[mask] = 1 - _logit_loglik(xm, y, w)[0] / ll0
        return cache[mask]

    n_pairs = max(1, (n_perm + 1) // 2)
    pair_means = np.empty((n_pairs, p))
    for k in range(n_pairs):
        perm = rng.permutation(p)
        contrib = np.zeros((2, p))
        for s, order in enumerate((perm, perm[::-1])):
            mask = 0
            prev = value(0)
            for j in order:
                mask |= 1 << j
                cur = value(mask)
                contrib[s, j] = cur - prev
                prev = cur
        pair_means[k] = contrib.mean(axis=0)
    err = pair_means.std(axis=0, ddof=1) / np.sqrt(n_pairs) if n_pairs > 1 else np.full(p, np.nan)
    return pair_means.mean(axis=0), err, value(0), value(2**p - 1)


def key_drivers(
    joined,
    *,
    items=None,
    item_prefix: str = "item_",
    outcome: str = "satisfied",
    controls=None,
    weights: str | None = "weight",
    cluster: str | None = "agent_id",
    n_boot: int = 200,
    seed=0,
    exact_max: int = _relimp.EXACT_MAX,
    n_perm: int = 2000,
    dominance_max: int = 10,
    pseudo_r2: str | None = "mcfadden",
    pseudo_exact_max: int = 10,
    n_perm_pseudo: int = 100,
    alpha: float = 0.05,
    max_missing: float = 0.2,
    scale=None,
) -> KeyDrivers:
    """Relative importance of the scorecard items: LMG (Shapley R²), Johnson's weights, dominance.

    Parameters
    ----------
    joined : QAJoin or DataFrame
        Evaluations matched to surveys.
    items, item_prefix, outcome, max_missing, scale
        As in :func:`scorecard_regression`. For ``outcome="satisfied"`` the R² is that of the
        linear probability model.
    controls : list of str, optional
        Columns always in the model (e.g. channel): the items then share the R² they add beyond
        the controls (the controls are swept out of the covariance matrix first).
    weights : str or None
        Column of survey weights, honoured when present (weighted covariance matrix, weighted
        likelihood, weighted bootstrap).
    cluster : str or None
        Bootstrap unit: whole clusters (agents) are resampled when the column is present, rows
        otherwise.
    n_boot : int
        Bootstrap replicates for the CIs (0: none). Each replicate costs one more decomposition
        (for 20 items about 0.15 s, for 24 items about 3 s).
    seed : int or numpy Generator
        Seed of the bootstrap and of the ordering sampler.
    exact_max : int
        Largest number of items decomposed exactly over all 2^p subsets (time and memory double
        with each item: 24 items take about 3 s and 1 GB). Beyond it the Shapley values are
        estimated from ``n_perm`` random orderings (antithetic pairs, Castro et al. 2009), with a
        Monte Carlo SE per item in ``mc_error``; every ordering's contributions add up to R², so the
        estimates do too. Bootstrap replicates then use ``min(n_perm, 200)`` orderings each.
    dominance_max : int
        Dominance analysis (complete, conditional, general; Budescu 1993, Azen & Budescu 2003) is
        reported for up to this many items.
    pseudo_r2 : {"mcfadden", None}
        For a binary outcome, also decompose McFadden's
        :math:`R^2_{McF} = 1 - \\ell(\\text{model}) / \\ell(\\text{intercept only})` over the items
        with logistic fits of every subset (exact up to ``pseudo_exact_max`` items, else
        ``n_perm_pseudo`` sampled orderings). No bootstrap CIs for this one (each replicate
        would need 2^p logistic fits).
    alpha : float
        1 - confidence level.

    Returns
    -------
    KeyDrivers

    Notes
    -----
    LMG (Lindeman, Merenda & Gold 1980; Grömping 2006) gives item j the average, over all
    orderings of the items, of the R² it adds when it enters:

    .. math::

        \\mathrm{LMG}_j = \\sum_{S \\subseteq P \\setminus \\{j\\}}
        \\frac{|S|!\\,(p-|S|-1)!}{p!} \\left[R^2(S \\cup \\{j\\}) - R^2(S)\\right].

    All :math:`2^p` subset R² values come from the (weighted) covariance matrix by a vectorised
    sweep (see :mod:`csatkit._relimp`), so the cost does not grow with the number of
    evaluations beyond forming the matrix.

    Johnson's (2000) relative weights regress y on the orthogonal matrix closest to the items
    and apportion each orthogonal component's R² back to the items; they sum to R² and are close
    to LMG at a fraction of the cost.

    References
    ----------
    Lindeman, Merenda & Gold (1980); Grömping (2006), *J. Stat. Software* 17(1); Johnson (2000),
    *Multivariate Behav. Res.* 35(1); Budescu (1993), *Psychol. Bull.* 114(3); Azen & Budescu
    (2003), *Psychol. Methods* 8(2); Castro, Gómez & Tejada (2009), *Comput. Oper. Res.* 36(5).
    """
    check_range("alpha", alpha, 0, 1, inclusive=False)
    for name, val, low in (("n_boot", n_boot, 0), ("n_perm", n_perm, 2), ("exact_max", exact_max, 1),
                           ("dominance_max", dominance_max, 0), ("pseudo_exact_max", pseudo_exact_max, 0),
                           ("n_perm_pseudo", n_perm_pseudo, 2)):
        if not isinstance(val, (int, np.integer)) or val < low:
            raise ParameterError(f"The value for `{name}` must be an integer of at least {low}, but {val!r} was passed.")
    if exact_max > 30:
        raise ParameterError(f"The value for `exact_max` must be at most 30 (2^30 subsets), but {exact_max!r} was passed.")
    if pseudo_r2 is not None:
        check_choice("pseudo_r2", pseudo_r2, ["mcfadden", None])
    rng = np.random.default_rng(seed)
    prep = _prepare(joined, items=items, item_prefix=item_prefix, outcome=outcome, controls=controls,
                    cluster=cluster, weights=weights, scale=scale, max_missing=max_missing)
    data = prep.data
    messages = list(prep.messages)
    its = prep.items
    p = len(its)
    n = len(data)
    w = np.ones(n) if prep.weights is None else prep.weights / prep.weights.mean()
    d = _design_controls(data, prep.controls, prep.categorical)
    k = d.shape[1]
    x = data[its].to_numpy(float)
    y = data[outcome].to_numpy(float)
    z = np.column_stack([d, x, y]) if k else np.column_stack([x, y])
    cov_full = _relimp.weighted_cov(z, w)

    def decompose(covs: np.ndarray, n_orderings: int):
        """covs (B, k+p+1, k+p+1) -> (lmg (B, p), mc_err (B, p), r2_total (B,), r2_ctrl (B,), rw (B, p))."""
        vy = covs[:, -1, -1]
        part = _relimp.partial_out(covs, k)
        r2_ctrl = 1 - part[:, -1, -1] / vy
        rw = _relimp.relative_weights(part, var_y=vy)
        if p <= exact_max:
            chunk = max(1, (1 << 22) >> p)
            lmg = np.empty((len(covs), p))
            r2_tot = np.empty(len(covs))
            for s in range(0, len(covs), chunk):
                v = _relimp.subset_r2(part[s:s + chunk], var_y=vy[s:s + chunk])
                lmg[s:s + chunk] = _relimp.shapley_from_subsets(v, p)
                r2_tot[s:s + chunk] = r2_ctrl[s:s + chunk] + v[:, -1]
            err = np.zeros_like(lmg)
        else:
            lmg, err = _relimp.shapley_sampled(part, n_orderings, rng, var_y=vy)
            r2_tot = r2_ctrl + lmg.sum(axis=1)
        return lmg, err, r2_tot, r2_ctrl, rw

    mode = "exact" if p <= exact_max else "sampled"
    lmg, mc_err, r2_tot, r2_ctrl, rw = decompose(cov_full[None], n_perm)
    lmg, mc_err, rw = lmg[0], mc_err[0], rw[0]
    r2_tot, r2_ctrl = float(r2_tot[0]), float(r2_ctrl[0])
    r2_items = r2_tot - r2_ctrl
    if mode == "sampled":
        messages.append(
            f"{p} items exceed exact_max={exact_max}: LMG shares are estimated from {n_perm} random orderings "
            f"(largest Monte Carlo SE {np.max(mc_err):.2g} in R\u00b2 units)."
        )
    if r2_items < 1e-8:
        msg = f"The items explain no variance of {outcome!r} (R\u00b2 = {r2_items:.2g}): their shares are undefined."
        messages.append(msg)
        _warn(msg)

    # ---- bootstrap
    codes = (pd.factorize(data[prep.cluster])[0] if prep.cluster is not None else np.arange(n))
    boot = None
    if n_boot > 0:
        covs = _replicate_covs(z, w, codes, n_boot, rng)
        boot = decompose(covs, min(n_perm, 200))

    q = 100 * np.array([alpha / 2, 1 - alpha / 2])

    def share(v, tot):
        with np.errstate(invalid="ignore", divide="ignore"):
            return 100 * v / tot[..., None] if np.ndim(tot) else 100 * v / tot

    rows = []

    def add_method(method, contrib, boot_contrib, err):
        tot = contrib.sum()
        sh = share(contrib, tot)
        if boot_contrib is not None:
            bs = share(boot_contrib, boot_contrib.sum(axis=1))
            lo, hi = np.nanpercentile(bs, q, axis=0)
            sd = np.nanstd(bs, axis=0, ddof=1)
        else:
            lo = hi = sd = np.full(p, np.nan)
        order = np.argsort(-sh, kind="stable")
        rank = np.empty(p, dtype=int)
        rank[order] = np.arange(1, p + 1)
        for j in order:
            flag = "no_variance_explained" if tot < 1e-8 else ("no_ci" if boot_contrib is None else "")
            rows.append({"method": method, "item": its[j], "rank": int(rank[j]), "estimate": sh[j], "ci_low": lo[j],
                         "ci_high": hi[j], "se": sd[j], "contribution": contrib[j], "mc_error": err[j], "n": n,
                         "flag": flag})

    add_method("lmg", lmg, None if boot is None else boot[0], mc_err)
    add_method("relative_weights", rw, None if boot is None else boot[4], np.zeros(p))

    def ci_of(vals):
        if boot is None:
            return np.nan, np.nan
        lo_, hi_ = np.nanpercentile(vals, q)
        return float(lo_), float(hi_)

    r2_rows = [
        {"measure": "r2", "estimate": r2_tot, **dict(zip(("ci_low", "ci_high"), ci_of(boot[2] if boot else None)))},
        {"measure": "r2_controls", "estimate": r2_ctrl, **dict(zip(("ci_low", "ci_high"), ci_of(boot[3] if boot else None)))},
        {"measure": "r2_items", "estimate": r2_items,
         **dict(zip(("ci_low", "ci_high"), ci_of(boot[2] - boot[3] if boot else None)))},
    ]

    # ---- dominance (exact mode, few items)
    dom_table = cond_table = None
    if mode == "exact" and 2 <= p <= dominance_max:
        part = _relimp.partial_out(cov_full, k)
        v = _relimp.subset_r2(part, var_y=cov_full[-1, -1])
        dom = _relimp.dominance(v, p)
        order = np.argsort(-lmg, kind="stable")
        drow = []
        for a_pos, i in enumerate(order):
            for j in order[a_pos + 1:]:
                drow.append({"item": its[i], "other": its[j], "complete": bool(dom["complete"][i, j] == 1.0),
                             "conditional": bool(dom["conditional"][i, j] == 1.0),
                             "general": bool(dom["general"][i, j] == 1.0)})
        dom_table = pd.DataFrame(drow, columns=["item", "other", "complete", "conditional", "general"])
        cond_table = pd.DataFrame([{"item": its[j], "size": s, "estimate": dom["by_size"][j, s]}
                                   for j in range(p) for s in range(p)])

    # ---- McFadden decomposition
    binary = set(np.unique(y)) <= {0.0, 1.0}
    if pseudo_r2 == "mcfadden" and binary and len(np.unique(y)) == 2:
        xs = (x - x.mean(axis=0)) / x.std(axis=0)
        if p <= pseudo_exact_max:
            vals, _ = _mcfadden_values(xs, d, y, w)
            mcf = _relimp.shapley_from_subsets(vals, p)
            mcf_err = np.zeros(p)
            v0, vfull = vals[0], vals[-1]
        else:
            mcf, mcf_err, v0, vfull = _mcfadden_sampled(xs, d, y, w, n_perm_pseudo, rng)
            messages.append(f"McFadden shares are estimated from {n_perm_pseudo} sampled orderings of logistic fits.")
        add_method("mcfadden_lmg", mcf, None, mcf_err)
        r2_rows += [{"measure": "mcfadden", "estimate": float(vfull), "ci_low": np.nan, "ci_high": np.nan},
                    {"measure": "mcfadden_controls", "estimate": float(v0), "ci_low": np.nan, "ci_high": np.nan}]
    r2_df = pd.DataFrame(r2_rows)
    r2_df["n"] = n
    importance = pd.DataFrame(rows, columns=["method", "item", "rank", "estimate", "ci_low", "ci_high", "se",
                                             "contribution", "mc_error", "n", "flag"])
    return KeyDrivers(
        importance=importance, r2=r2_df, dominance=dom_table, conditional=cond_table, items=list(its),
        outcome=outcome, method=mode, n=n, n_boot=int(n_boot), n_perm=int(n_perm) if mode == "sampled" else 0,
        weighted=prep.weights is not None, controls=list(prep.controls),
        cluster=cluster if prep.cluster is not None else None, seed=seed,
        dropped=pd.DataFrame(prep.dropped, columns=["item", "model", "reason", "message"]), messages=messages,
    )


# =============================================================================================
# 5. One-call section for reports
# =============================================================================================


@dataclass
class DriversReport:
    """The "What drives CSAT" section: join, regression, validity, key drivers and findings in words.

    Attributes
    ----------
    join : QAJoin
    regression : ScorecardRegression
    validity : ScorecardValidity
    drivers : KeyDrivers
    findings : list of str
        Short plain-language findings, most important first.
    item_prefix : str
    """

    join: QAJoin
    regression: ScorecardRegression
    validity: ScorecardValidity
    drivers: KeyDrivers
    findings: list
    item_prefix: str = "item_"

    def summary(self) -> str:
        lines = ["What drives CSAT", "================", ""]
        lines += [f"- {f}" for f in self.findings]
        lines += ["", self.join.summary(), "", self.regression.summary(), "", self.validity.summary(), "",
                  self.drivers.summary()]
        return "\n".join(lines)

    __str__ = summary

    def figures_html(self) -> str:
        """The three figures (importance, item effects, QA-decile calibration) as inline PNG images."""
        import base64
        import io

        from matplotlib.figure import Figure

        from . import plots_drivers

        out = []
        for fn, arg in ((plots_drivers.plot_importance, self.drivers),
                        (plots_drivers.plot_item_effects, self.regression),
                        (plots_drivers.plot_qa_calibration, self.validity)):
            fig = Figure(figsize=(6.4, 4.0), layout="constrained")
            ax = fig.add_subplot()
            try:
                fn(arg, ax=ax, item_prefix=self.item_prefix)
            except (ValueError, KeyError):  # nothing to draw (e.g. no calibration bins)
                continue
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=96)
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            out.append(f'<img alt="{html.escape(fn.__name__)}" src="data:image/png;base64,{data}"/>')
        return "".join(out)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(f)}</li>" for f in self.findings)
        details = "".join(
            f"<details><summary>{title}</summary>{obj._repr_html_()}</details>"
            for title, obj in (("Join", self.join), ("Regression", self.regression), ("Scorecard validity", self.validity),
                               ("Key drivers", self.drivers))
        )
        return f"<h3>What drives CSAT</h3><ul>{items}</ul>{self.figures_html()}{details}"


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _label(item: str, prefix: str) -> str:
    s = str(item)
    return s[len(prefix):].replace("_", " ") if prefix and s.startswith(prefix) else s


def _findings(rep_join: QAJoin | None, reg: ScorecardRegression, val: ScorecardValidity, kd: KeyDrivers,
              prefix: str) -> list[str]:
    out = []
    if rep_join is not None:
        ev = rep_join.count("evaluations", "rows")
        m = rep_join.count("evaluations", "matched")
        out.append(f"{m:,} of {ev:,} QA evaluations ({100 * m / max(ev, 1):.0f}%) were matched to a CSAT survey; "
                   f"{reg.n:,} had every item scored and were analysed.")
    a = val.association.iloc[0]
    level = f"{100 * (1 - val.alpha):.0f}% CI"
    if np.isfinite(a["estimate"]):
        r = a["estimate"]
        if a["ci_low"] > 0 or a["ci_high"] < 0:
            size = "hardly" if abs(r) < 0.1 else "weakly" if abs(r) < 0.3 else "moderately" if abs(r) < 0.5 else "strongly"
            sign = "" if r > 0 else "negatively "
            out.append(f"The total QA score is {size} {sign}associated with CSAT (r = {r:.2f}, {level} "
                       f"{a['ci_low']:.2f} to {a['ci_high']:.2f}).")
        else:
            out.append(f"The total QA score shows no detectable association with CSAT (r = {r:.2f}, {level} "
                       f"{a['ci_low']:.2f} to {a['ci_high']:.2f}): the scorecard may not measure what customers value.")
    cal = val.calibration
    if len(cal) >= 2:
        unit = "%" if cal["metric"].iloc[0] == "csat" else ""
        what = "CSAT" if unit else "The mean score"
        out.append(f"{what} goes from {cal['estimate'].iloc[0]:.1f}{unit} in the lowest QA-score bin to "
                   f"{cal['estimate'].iloc[-1]:.1f}{unit} in the highest ({len(cal)} bins).")
    v = val.verdicts
    unit = "pp" if reg.outcome == "satisfied" else "points"

    def eff(r):
        return f"{_label(r.item, prefix)} ({r.estimate:+.1f} {unit} per point)"

    drives = v[v["verdict"] == _VERDICT_DRIVES].sort_values("estimate", ascending=False)
    if len(drives):
        out.append("Items that drive CSAT: " + ", ".join(eff(r) for r in drives.itertuples()) + ".")
    neg = v[v["verdict"] == _VERDICT_NEGATIVE]
    if len(neg):
        out.append("Negative associations to investigate: " + ", ".join(eff(r) for r in neg.itertuples())
                   + "; higher scores on these items go with lower CSAT.")
    none = v[v["verdict"] == _VERDICT_NONE]
    if len(none):
        out.append("No detectable effect at this sample size: " + ", ".join(
            f"{_label(r.item, prefix)} (effects beyond \u00b1{r.mde:.1f} {unit} would likely have been seen)"
            for r in none.itertuples()) + ".")
    lmg = kd.importance[kd.importance["method"] == "lmg"].sort_values("rank")
    r2 = kd.r2.set_index("measure").loc["r2_items", "estimate"]
    if len(lmg) and r2 > 1e-8:
        top = lmg.iloc[0]
        ci = f" ({level} {top['ci_low']:.0f} to {top['ci_high']:.0f}%)" if np.isfinite(top["ci_low"]) else ""
        k3 = min(3, len(lmg))
        out.append(f"Together the items explain {100 * r2:.1f}% of the variance in {'satisfaction' if reg.outcome == 'satisfied' else 'the score'}. "
                   f"{_upper_first(_label(top['item'], prefix))} accounts for {top['estimate']:.0f}%{ci} of that; the top {k3} "
                   f"items for {lmg['estimate'].iloc[:k3].sum():.0f}%.")
    if val.evaluator is not None:
        e = val.evaluator.iloc[0]
        out.append(f"{e['estimate']:.0f}% of the variation in QA scores is due to who evaluated ({level} "
                   f"{e['ci_low']:.0f} to {e['ci_high']:.0f}%)" + (
                       ": evaluators need calibrating." if e["ci_low"] > 10 else "."))
    coll = val.collinearity[val.collinearity["vif"] > 10]
    if len(coll):
        out.append("These items overlap so much that their separate effects are unreliable: "
                   + ", ".join(_label(i, prefix) for i in coll["item"]) + ".")
    seen = set()
    for d in reg.dropped.itertuples():
        if d.message not in seen:
            seen.add(d.message)
            out.append(d.message)
    return out


def drivers_section(
    qa: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    items=None,
    item_prefix: str = "item_",
    outcome: str = "satisfied",
    controls=_DEFAULT_CONTROLS,
    cluster: str | None = "agent_id",
    scale=None,
    weights: str | None = "weight",
    multiple_surveys: str = "first",
    multiple_evaluations: str = "latest",
    mixed: bool = False,
    n_boot: int = 200,
    seed=0,
    alpha: float = 0.05,
) -> DriversReport:
    """The "What drives CSAT" section of a report in one call.

    Joins the QA evaluations to the surveys (:func:`join_qa`), fits the scorecard regression
    (:func:`scorecard_regression`), checks the scorecard (:func:`scorecard_validity`), ranks the
    items (:func:`key_drivers`, with the same controls) and writes the findings in plain language.
    Displaying the result in a notebook shows the findings, the three figures and the details.

    Parameters
    ----------
    qa, responses : DataFrame
        QA evaluations and survey responses in the canonical schemas.
    items, item_prefix, outcome, controls, cluster, scale, mixed, alpha
        As in :func:`scorecard_regression`. Controls missing from the data are skipped.
    weights : str or None
        Survey-weight column, used by the regression and :func:`key_drivers` when present and not constant.
    multiple_surveys, multiple_evaluations
        Duplicate rules of :func:`join_qa`.
    n_boot, seed
        Bootstrap of :func:`key_drivers`.

    Returns
    -------
    DriversReport

    Examples
    --------
    >>> report = drivers_section(qa, responses, controls=["channel"])   # doctest: +SKIP
    >>> report.findings[:2]                                              # doctest: +SKIP
    """
    joined = join_qa(qa, responses, scale=scale, multiple_surveys=multiple_surveys,
                     multiple_evaluations=multiple_evaluations, item_prefix=item_prefix)
    if len(joined.data) == 0:
        raise InputError("No QA evaluation matched a survey response, so there is nothing to analyse: " + joined.summary())
    controls = [c for c in as_list(controls) if c in joined.data.columns]
    reg = scorecard_regression(joined, items=items, item_prefix=item_prefix, outcome=outcome, controls=controls,
                               cluster=cluster, mixed=mixed, weights=weights, alpha=alpha)
    val = scorecard_validity(joined, outcome=outcome, cluster=cluster, regression=reg, alpha=alpha)
    kd = key_drivers(joined, items=reg.items, outcome=outcome, controls=reg.controls, weights=weights, cluster=cluster,
                     n_boot=n_boot, seed=seed, alpha=alpha)
    findings = _findings(joined, reg, val, kd, item_prefix)
    return DriversReport(join=joined, regression=reg, validity=val, drivers=kd, findings=findings, item_prefix=item_prefix)
