"""Trends: period-over-period change, p-chart control limits, target tracking, service recovery.

Everything here is computed from metric tables (themselves computed from score tables), never
from the rows, except the service-recovery list, which by its nature lists rows.

=========================  ===========================================================================
function                   answers
=========================  ===========================================================================
:func:`compare_periods`    did CSAT (NPS, CES, ...) change since the previous period, per group?
:func:`p_chart`            is this quarter's CSAT within the range that chance alone produces?
:func:`target_tracking`    how far is the estimate from the target, and can the data tell?
:func:`executive_summary`  the handful of sentences a manager reads
:func:`service_recovery`   which dissatisfied customers left a comment (a call-back list)?
:func:`recovery_counts`    how many such incidents per channel and per period?
=========================  ===========================================================================

Periods are labels (``"2026Q3"``, ``"2026-09"``, ``"FY2027Q1"`` with ``fy_start``); see
:mod:`csatkit.periods`. The period of each response is derived from ``interaction_at``.

Plain-language verdicts use a typographic minus sign (U+2212) for negative numbers, as in
"no significant change (−1.1 points, 95% CI −4.0 to 1.8)".

References
----------
Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions:
comparison of eleven methods. Statistics in Medicine 17, 873-890.
Miettinen, O., Nurminen, M. (1985). Comparative analysis of two rates. Statistics in Medicine 4, 213-226.
Welch, B. L. (1947). The generalization of "Student's" problem when several different population
variances are involved. Biometrika 34, 28-35.
Montgomery, D. C. (2019). Introduction to Statistical Quality Control, 8th ed., Wiley, ch. 7
(control charts for attributes: the p chart with variable sample size).
"""

from __future__ import annotations

import html
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._dist import newcombe_diff_interval, norm_ppf, norm_sf, score_test_equal_proportions, t_ppf, t_sf
from ._validate import as_list, check_choice, check_columns, check_range
from .counts import ScoreTable, select_scale
from .exceptions import InputError, ParameterError
from .metrics import MIN_N, ces, csat, mean_score, nps, response_rate
from .periods import (
    FREQS,
    Period,
    _period_categories,
    _take_rows,
    add_period,
    filter_period,
    last_n,
    parse_period,
    period_range,
)
from .scales import SCALES, Scale, get_scale, names_for

__all__ = [
    "COMPARE_METRICS",
    "compare_periods",
    "p_chart",
    "target_tracking",
    "ExecSummary",
    "executive_summary",
    "service_recovery",
    "recovery_counts",
    "dissatisfied_points",
]

#: Metrics :func:`compare_periods` knows, and the test used for the change.
COMPARE_METRICS = {
    "csat": "newcombe",
    "ces_low_effort": "newcombe",
    "nps": "wald",
    "mean_score": "welch",
    "ces": "welch",
}

# metric -> (display name, kind of number): "pct" (0-100 share), "nps" (-100..100), "mean" (scale units)
_INFO = {
    "csat": ("CSAT", "pct"),
    "ces_low_effort": ("Low-effort share", "pct"),
    "response_rate": ("Response rate", "pct"),
    "coverage": ("Coverage", "pct"),
    "fcr": ("FCR", "pct"),
    "nps": ("NPS", "nps"),
    "mean_score": ("Mean score", "mean"),
    "ces": ("CES", "mean"),
}
_KIND = {"csat": "csat", "ces_low_effort": "ces", "nps": "nps", "mean_score": "csat", "ces": "ces"}
_COUNT_COLUMN = {"csat": "satisfied", "ces_low_effort": "low_effort", "response_rate": "count",
                 "coverage": "count", "fcr": "count"}
_MINUS = "\u2212"
_DASH = "\u2013"


# --------------------------------------------------------------------------------------------
# number formatting for plain-language text


def _kind_of(metric) -> str:
    return _INFO.get(str(metric), (str(metric), "mean"))[1]


def _name_of(metric) -> str:
    return _INFO.get(str(metric), (str(metric), "mean"))[0]


def _decimals(metric) -> int:
    return 2 if _kind_of(metric) == "mean" else 1


def _num(v: float, d: int) -> str:
    v = round(float(v), d) + 0.0  # no "-0.0"
    return f"{v:,.{d}f}".replace("-", _MINUS)


def _signed(v: float, d: int) -> str:
    v = round(float(v), d) + 0.0
    return f"{v:+,.{d}f}".replace("-", _MINUS)


def _level_text(level: float) -> str:
    return f"{100 * level:g}%"


def _value_text(metric, v: float) -> str:
    """76.4% for shares, +32.4 for NPS, 4.21 for means."""
    kind, d = _kind_of(metric), _decimals(metric)
    if kind == "pct":
        return f"{_num(v, d)}%"
    if kind == "nps":
        return _signed(v, d)
    return _num(v, d)


def _interval_text(metric, low: float, high: float) -> str:
    """75.2–77.6 for non-negative bounds, −4.0 to 1.8 when a bound is negative or for NPS."""
    d = _decimals(metric)
    if _kind_of(metric) != "nps" and low >= 0 and high >= 0:
        return f"{_num(low, d)}{_DASH}{_num(high, d)}"
    return f"{_num(low, d)} to {_num(high, d)}"


def _target_text(metric, target: float) -> str:
    kind = _kind_of(metric)
    if kind == "pct":
        return f"{target:g}%"
    if kind == "nps" and target != 0:
        return f"{target:+g}".replace("-", _MINUS)
    return f"{target:g}".replace("-", _MINUS)


def _points(metric, v: float) -> str:
    """'3.2 points' (absolute value)."""
    return f"{_num(abs(v), _decimals(metric))} points"


# --------------------------------------------------------------------------------------------
# periods


def _resolve_periods(current, previous, fy_start: int) -> tuple[Period, Period]:
    cur = parse_period(current, fy_start=fy_start)
    if previous is None or (isinstance(previous, str) and previous.strip().lower() == "previous"):
        prev = cur.previous()
    elif isinstance(previous, str) and previous.strip().lower() in ("last_year", "same_period_last_year"):
        prev = cur.same_period_last_year()
    else:
        prev = parse_period(previous, fy_start=fy_start)
    if (prev.freq, prev.fy_start) != (cur.freq, cur.fy_start):
        raise ParameterError(
            f"The periods to compare must be of the same kind, but current={cur.label!r} is a {cur.freq} "
            f"and previous={prev.label!r} is a {prev.freq}; pass two quarters, two months or two years."
        )
    if prev == cur:
        raise ParameterError(f"`previous` must differ from `current`, but both are {cur.label!r}.")
    return cur, prev


def _with_period(responses, freq: str, fy_start: int, keep: list[str] | None, columns: list[str] | None = None):
    """Rows (or score-table counts) of the periods in ``keep``, with a column ``freq`` of labels.

    A DataFrame gets its labels from ``interaction_at`` (an existing ``freq`` column is used only
    when ``interaction_at`` is absent); derived labels are categorical (the periods from the
    earliest to the latest row, in time order). ``columns`` names the columns the caller uses:
    the others are not copied for the selected rows (None: all). A ScoreTable must have ``freq``
    among its keys.
    """
    if isinstance(responses, ScoreTable):
        if freq not in responses.by:
            raise ParameterError(
                f"The score table is grouped by {list(responses.by)}; tabulate it with {freq!r} among the keys "
                f"(e.g. tabulate(responses, by=[..., {freq!r}])) or pass the responses."
            )
        if keep is None:
            return responses
        counts = responses.counts[responses.counts[freq].astype(str).isin(keep)].reset_index(drop=True)
        unans = responses.unanswered
        if unans is not None and freq in unans.columns:
            unans = unans[unans[freq].astype(str).isin(keep)].reset_index(drop=True)
        return ScoreTable(counts, responses.by, responses.scale, responses.weighted, responses.cluster, unans)
    if not isinstance(responses, pd.DataFrame):
        raise ParameterError(
            f"`responses` must be a DataFrame or a ScoreTable, but {type(responses).__name__} was passed."
        )
    if "interaction_at" in responses.columns:
        labels = _period_categories(responses["interaction_at"], freq, fy_start=fy_start)
    elif freq in responses.columns:
        labels = responses[freq].astype("string")
    else:
        check_columns(responses.columns, ["interaction_at"], where="the responses")
    mask = np.array(labels.notna(), dtype=bool)
    if keep is not None:
        mask = mask & np.array(labels.isin(keep), dtype=bool)
    if columns is not None:
        responses = responses[[c for c in dict.fromkeys(columns) if c in responses.columns and c != freq]]
    selected = labels[mask]
    values = selected.array if isinstance(selected.dtype, pd.CategoricalDtype) else selected.astype(str).to_numpy()
    return _take_rows(responses, mask).assign(**{freq: values})


# --------------------------------------------------------------------------------------------
# metric tables and differences


def _metric_table(data, metric, by, *, scale, level, weight, cluster, min_n, fy_start) -> pd.DataFrame:
    common = dict(scale=scale, level=level, weight=weight, cluster=cluster, min_n=min_n, fy_start=fy_start)
    if metric == "csat":
        return csat(data, by, **common)
    if metric == "nps":
        return nps(data, by, **common)
    if metric == "mean_score":
        return mean_score(data, by, **common)
    if metric == "ces":
        return ces(data, by, statistic="mean", **common)
    return ces(data, by, statistic="low_effort", **common)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def _diff_proportion(x1, n1, x2, n2, level):
    """Change in percentage points (1 = current), Newcombe CI, score-test p, Cohen's h."""
    p1, p2 = x1 / n1, x2 / n2
    # statsmodels' confint_proportions_2indep(method="newcomb") and test_proportions_2indep(method="score"),
    # in closed form (csatkit._dist)
    low, high = _quiet(newcombe_diff_interval, x1, n1, x2, n2, alpha=1 - level)
    pooled = (x1 + x2) / (n1 + n2)
    if pooled <= 0 or pooled >= 1:
        p_value = 1.0  # both periods all satisfied (or none): no difference is observable
    else:
        p_value = float(_quiet(score_test_equal_proportions, x1, n1, x2, n2, correction=True)[1])
    h = 2 * math.asin(math.sqrt(min(max(p1, 0), 1))) - 2 * math.asin(math.sqrt(min(max(p2, 0), 1)))
    return 100 * (p1 - p2), 100 * float(low), 100 * float(high), p_value, h


def _diff_normal(e1, se1, e2, se2, level, df=None):
    """Wald (df None) or Welch-t difference of two independent estimates from their standard errors."""
    diff = e1 - e2
    se = math.sqrt(se1**2 + se2**2)
    if df is None:
        q = float(norm_ppf(0.5 + level / 2))
    else:
        q = float(t_ppf(0.5 + level / 2, df))
    if se == 0:
        p_value = 1.0 if diff == 0 else np.nan
    elif df is None:
        p_value = float(2 * norm_sf(abs(diff) / se))
    else:
        p_value = float(2 * t_sf(abs(diff) / se, df))
    return diff, diff - q * se, diff + q * se, p_value


def _welch_df(se1, n1, se2, n2) -> float:
    """Welch-Satterthwaite degrees of freedom from the standard errors of two means."""
    v1, v2 = se1**2, se2**2
    den = v1**2 / (n1 - 1) + v2**2 / (n2 - 1)
    return (v1 + v2) ** 2 / den if den > 0 else float(min(n1, n2) - 1)


def _effect_d(diff, se1, n1, se2, n2) -> float:
    """Cohen's d with the average-variance denominator; SDs recovered as se * sqrt(n)."""
    sd2 = ((se1**2) * n1 + (se2**2) * n2) / 2
    return diff / math.sqrt(sd2) if sd2 > 0 else np.nan


def _count_of(row, metric) -> float:
    """Satisfied (or responding) count; the effective count p * n_eff for weighted or clustered data."""
    col = _COUNT_COLUMN.get(metric)
    n, n_eff = float(row["n"]), float(row["n_eff"])
    if col is not None and col in row and np.isfinite(row[col]) and abs(n - n_eff) < 1e-9:
        return float(row[col])
    return float(row["estimate"]) / 100 * n_eff


def _change(metric, cur, prev, level):
    """(change, low, high, p_value, effect_size) for one group; NaNs when a period has no data."""
    nan = (np.nan,) * 5
    n1, n2 = float(cur["n_eff"]), float(prev["n_eff"])
    if not (np.isfinite(n1) and np.isfinite(n2)) or n1 <= 0 or n2 <= 0:
        return nan
    test = COMPARE_METRICS.get(metric, "newcombe" if _kind_of(metric) == "pct" else "wald")
    if test == "newcombe":
        return _diff_proportion(_count_of(cur, metric), n1, _count_of(prev, metric), n2, level)
    e1, e2, s1, s2 = (float(v) for v in (cur["estimate"], prev["estimate"], cur["se"], prev["se"]))
    if not (np.isfinite(s1) and np.isfinite(s2)):
        return nan
    if test == "welch":
        if n1 < 2 or n2 < 2:
            return nan
        diff, low, high, p = _diff_normal(e1, s1, e2, s2, level, df=_welch_df(s1, n1, s2, n2))
    else:
        diff, low, high, p = _diff_normal(e1, s1, e2, s2, level)
    return diff, low, high, p, _effect_d(diff, s1, n1, s2, n2)


def _verdict(metric, change, low, high, level, cur_label, prev_label, n_cur, n_prev) -> str:
    if not (n_cur > 0) and not (n_prev > 0):
        return f"cannot compare: no responses in {cur_label} or {prev_label}"
    if not (n_cur > 0):
        return f"cannot compare: no responses in {cur_label}"
    if not (n_prev > 0):
        return f"cannot compare: no responses in {prev_label}"
    if not (np.isfinite(change) and np.isfinite(low) and np.isfinite(high)):
        return "cannot compare: too few responses for an interval"
    d = _decimals(metric)
    if low > 0 or high < 0:
        word = "up" if change > 0 else "down"
        return f"{word} {_points(metric, change)} (significant)"
    return (f"no significant change ({_signed(change, d)} points, {_level_text(level)} CI "
            f"{_num(low, d)} to {_num(high, d)})")


def _merge_flags(*flags) -> str:
    tokens = []
    for f in flags:
        if isinstance(f, str) and f:
            for t in f.split(";"):
                if t and t not in tokens:
                    tokens.append(t)
    return ";".join(tokens)


def _compare_tables(table: pd.DataFrame, keys: list[str], freq: str, metric: str, cur: str, prev: str,
                    level: float, adjust: str | None) -> pd.DataFrame:
    """Rows of the current and the previous period side by side, with the change and the verdict."""
    cols = [c for c in ["estimate", "ci_low", "ci_high", "se", "n", "n_eff", "flag", _COUNT_COLUMN.get(metric)]
            if c is not None and c in table.columns]
    labels = table[freq].astype(str)
    a = table.loc[labels == cur, keys + cols]
    b = table.loc[labels == prev, keys + cols]
    if keys:
        both = a.merge(b, on=keys, how="outer", suffixes=("", "_prev"))
        both = both.sort_values(keys, kind="stable").reset_index(drop=True)
    else:
        a = a.reset_index(drop=True)
        b = b.reset_index(drop=True).add_suffix("_prev")
        empty_a = pd.DataFrame({c: [np.nan] for c in cols})
        empty_b = pd.DataFrame({f"{c}_prev": [np.nan] for c in cols})
        both = pd.concat([a if len(a) else empty_a, b if len(b) else empty_b], axis=1)
    for c in ("n", "n_eff", "n_prev", "n_eff_prev"):
        both[c] = both[c].fillna(0)
    rows = []
    for _, r in both.iterrows():
        cur_row = {c: r[c] for c in cols}
        prev_row = {c: r[f"{c}_prev"] for c in cols}
        change, low, high, p, eff = _change(metric, cur_row, prev_row, level)
        rows.append((change, low, high, p, eff,
                     _verdict(metric, change, low, high, level, cur, prev, r["n"], r["n_prev"]),
                     _merge_flags(r.get("flag"), r.get("flag_prev"),
                                  "no_responses" if not (r["n"] > 0 and r["n_prev"] > 0) else "")))
    change, low, high, p, eff, verdict, flag = (list(col) for col in zip(*rows)) if rows else ([],) * 7
    # the columns gathered first and framed once: a table of a handful of rows is all overhead otherwise
    out = {"metric": metric, "period": cur, "previous_period": prev}
    for c in ("estimate", "ci_low", "ci_high"):
        out[c] = both[c].to_numpy(dtype=float)
    out["n"] = both["n"].to_numpy(dtype=np.int64)
    for c in ("estimate", "ci_low", "ci_high"):
        out[f"previous_{c}"] = both[f"{c}_prev"].to_numpy(dtype=float)
    out["previous_n"] = both["n_prev"].to_numpy(dtype=np.int64)
    for c, v in (("change", change), ("change_ci_low", low), ("change_ci_high", high), ("p_value", p)):
        out[c] = np.array(v, dtype=float)
    p_adj = out["p_value"].copy()
    ok = np.isfinite(p_adj)
    if adjust is not None and ok.sum() > 1:
        from statsmodels.stats.multitest import multipletests

        p_adj[ok] = multipletests(p_adj[ok], method=adjust)[1]
    out["p_adj"] = p_adj
    out["effect_size"] = np.array(eff, dtype=float)
    out["method"] = COMPARE_METRICS.get(metric, "newcombe" if _kind_of(metric) == "pct" else "wald")
    out["verdict"] = verdict if verdict else np.array([], dtype=object)  # text columns even when empty
    out["flag"] = flag if flag else np.array([], dtype=object)
    out = pd.DataFrame(out)
    if keys:
        out = pd.concat([both[keys].reset_index(drop=True), out], axis=1)
    return out.reset_index(drop=True)


#: The columns compare_periods puts beside the ``by`` keys.
_COMPARE_COLUMNS = frozenset({
    "metric", "period", "previous_period", "estimate", "ci_low", "ci_high", "n", "previous_estimate",
    "previous_ci_low", "previous_ci_high", "previous_n", "change", "change_ci_low", "change_ci_high", "p_value",
    "p_adj", "effect_size", "method", "verdict", "flag",
})


def compare_periods(responses, current, previous=None, *, metric: str = "csat", by=None, level: float = 0.95,
                    scale=None, fy_start: int = 1, weight: str | None = None, cluster: str | None = None,
                    adjust: str | None = "holm", min_n: int = MIN_N) -> pd.DataFrame:
    r"""Change of a metric from one period to another, per group, with an interval and a verdict.

    Parameters
    ----------
    responses : DataFrame or ScoreTable
        Responses in the canonical schema (the period of each row is derived from ``interaction_at``),
        or a score table with the period key (``"quarter"``, ``"month"`` or ``"year"``) among its keys.
    current : str or Period
        The period of interest, e.g. ``"2026Q3"``.
    previous : str or Period, optional
        The period to compare with: ``None`` or ``"previous"`` (the period before ``current``),
        ``"last_year"`` (the same period one year earlier) or a label of the same kind.
    metric : {"csat", "nps", "mean_score", "ces", "ces_low_effort"}
        What to compare.
    by : str or list of str, optional
        Group keys (e.g. ``"channel"``); each group is compared with itself.
    level : float
        Confidence level of every interval.
    scale : str or Scale, optional
        Which scale's rows to use; defaults to the single scale of the metric's kind in the data.
    fy_start : int
        First month of the fiscal year, to read fiscal labels such as ``"FY2027Q1"``.
    weight, cluster : str, optional
        Survey weights / a cluster key (e.g. ``"agent_id"``), passed to the metric functions; the
        comparison then uses the effective sample sizes and the design-effect-inflated standard errors.
    adjust : str or None
        Multiple-testing correction across groups for ``p_adj`` (any ``statsmodels``
        ``multipletests`` method, e.g. ``"holm"``, ``"fdr_bh"``); ``None`` copies ``p_value``.
    min_n : int
        Groups with a smaller effective n in either period are flagged ``small_n``.

    Returns
    -------
    DataFrame
        One row per group:

        ==================  =====================================================================
        <keys>              the ``by`` keys
        metric              the metric compared
        period              label of the current period
        previous_period     label of the period compared with
        estimate            estimate in the current period (% for shares, -100..100 for NPS)
        ci_low, ci_high     its interval (Wilson for shares, Wald for NPS, t for means)
        n                   responses in the current period
        previous_estimate   estimate in the previous period; ``previous_ci_low``,
                            ``previous_ci_high``, ``previous_n`` likewise
        change              current - previous (percentage points, NPS points, scale units)
        change_ci_low/high  interval for the change
        p_value             two-sided p-value for "no change"
        p_adj               ``p_value`` adjusted across the groups (``adjust``)
        effect_size         Cohen's h for shares; Cohen's d (average-variance denominator) for NPS
                            (on the +1/0/-1 coding) and means
        method              ``newcombe`` (shares), ``wald`` (NPS) or ``welch`` (means)
        verdict             plain words: "up 3.2 points (significant)", "no significant change
                            (−1.1 points, 95% CI −4.0 to 1.8)", "down 2.0 points (significant)",
                            "cannot compare: no responses in 2026Q2"
        flag                flags of either period (``small_n``, ``no_responses``, ``p_is_0_or_1``)
        ==================  =====================================================================

    Notes
    -----
    *Shares* (CSAT, low-effort share): the interval for :math:`p_1 - p_2` is Newcombe's hybrid
    score interval (method 10 of Newcombe 1998), built from the two Wilson intervals
    :math:`[l_i, u_i]`:

    .. math:: \left(\hat\delta - \sqrt{(\hat p_1 - l_1)^2 + (u_2 - \hat p_2)^2},\;
              \hat\delta + \sqrt{(u_1 - \hat p_1)^2 + (\hat p_2 - l_2)^2}\right)

    computed by ``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb")``. The
    p-value is the Miettinen-Nurminen score test, ``test_proportions_2indep(method="score")``; when
    both periods are all satisfied (or none is), no difference is observable and p = 1.

    *NPS*: Wald, :math:`\hat\delta \pm z\sqrt{SE_1^2 + SE_2^2}`, with each SE from the multinomial
    variance :math:`(p_+ + p_- - NPS^2)/n`; p from the normal distribution.

    *Means* (mean score, CES): Welch's t, :math:`\hat\delta \pm t_\nu \sqrt{SE_1^2 + SE_2^2}` with the
    Welch-Satterthwaite :math:`\nu = (SE_1^2 + SE_2^2)^2 / (SE_1^4/(n_1-1) + SE_2^4/(n_2-1))`.

    The verdict reads "significant" when the interval for the change excludes 0. For NPS and means
    this is the same as ``p_value < 1 - level``; for shares the Newcombe interval and the score test
    can disagree when p is very close to ``1 - level``, and the verdict follows the interval it quotes.
    The verdict does not account for multiple groups: with many groups read ``p_adj``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "interaction_at": pd.to_datetime(["2026-05-01"] * 400 + ["2026-08-01"] * 400),
    ...     "score": [5] * 280 + [2] * 120 + [5] * 330 + [2] * 70,
    ...     "scale": "likert5"})
    >>> compare_periods(df, "2026Q3")["verdict"].iloc[0]
    'up 12.5 points (significant)'
    """
    check_choice("metric", metric, list(COMPARE_METRICS))
    check_range("level", level, 0, 1, inclusive=False)
    if adjust is not None:
        check_choice("adjust", adjust, ["bonferroni", "sidak", "holm-sidak", "holm", "simes-hochberg", "hommel",
                                        "fdr_bh", "fdr_by", "fdr_tsbh", "fdr_tsbky"])
    cur, prev = _resolve_periods(current, previous, fy_start)
    freq = cur.freq
    by = as_list(by)
    if freq in by:
        raise ParameterError(f"`by` must not contain the period key {freq!r}: compare_periods adds it itself.")
    taken = [b for b in by if b in _COMPARE_COLUMNS]
    if taken:
        raise ParameterError(f"A `by` key may not be named {taken[0]!r}, a column of the comparison table; "
                             "rename the column first.")
    if isinstance(responses, pd.DataFrame):
        scale = select_scale(responses, scale, kind=_KIND[metric])
        _check_scale_for(metric, scale)
    used = by + ["score", "scale"] + [c for c in (weight, cluster) if c is not None]
    data = _with_period(responses, freq, cur.fy_start, [cur.label, prev.label], columns=used)
    table = _metric_table(data, metric, by + [freq], scale=scale, level=level, weight=weight, cluster=cluster,
                          min_n=min_n, fy_start=fy_start)
    return _compare_tables(table, by, freq, metric, cur.label, prev.label, level, adjust)


def _check_scale_for(metric: str, sc: Scale) -> None:
    if metric == "nps" and not sc.promoters:
        raise ParameterError(f"NPS needs the 0-10 recommendation scale ('nps'), but scale {sc.name!r} was given.")


# --------------------------------------------------------------------------------------------
# p chart


def _shown_periods(periods, last, end, freq, fy_start, latest) -> list[Period]:
    if periods is not None:
        if isinstance(periods, (str, Period)):
            shown = period_range(periods, fy_start=fy_start) if isinstance(periods, str) else [periods]
        else:
            shown = [parse_period(p, fy_start=fy_start) for p in periods]
        if not shown:
            raise ParameterError("`periods` is empty; pass a range such as '2025Q1:2026Q3' or a list of labels.")
        kinds = {(p.freq, p.fy_start) for p in shown}
        if len(kinds) > 1:
            raise ParameterError(f"`periods` mixes kinds of period: {[p.label for p in shown]}.")
        return sorted(set(shown))
    if isinstance(last, bool) or not isinstance(last, (int, np.integer)) or last < 1:
        raise ParameterError(f"The value for `last` must be a whole number of periods >= 1, but {last!r} was passed.")
    if end is None:
        if latest is None:
            raise InputError("The responses hold no answered response with a time, so there is no latest period; "
                             "pass `end=` or `periods=`.")
        end = Period.containing(latest, freq, fy_start=fy_start)
    end = parse_period(end, fy_start=fy_start)
    if end.freq != freq:
        raise ParameterError(f"`end` is {end.label!r}, a {end.freq}, but freq={freq!r}; pass a {freq} label.")
    return last_n(end, int(last))


def p_chart(responses, periods=None, *, metric: str = "csat", last: int = 8, end=None, freq: str = "quarter",
            scale=None, sigma: float = 3.0, level: float = 0.95, fy_start: int = 1,
            min_n: int = MIN_N) -> pd.DataFrame:
    r"""CSAT per period with the centre line and control limits of a p chart.

    Parameters
    ----------
    responses : DataFrame or ScoreTable
        Responses (periods derived from ``interaction_at``) or a score table with the ``freq`` key.
    periods : str or list, optional
        The periods to show: a range ``"2025Q1:2026Q3"`` or a list of labels. By default the
        ``last`` periods ending at ``end``.
    metric : {"csat", "ces_low_effort"}
        A share.
    last : int
        Number of periods when ``periods`` is not given.
    end : str or Period, optional
        Last period shown; defaults to the period of the latest answered response.
    freq : {"month", "quarter", "year"}
        Kind of period when ``periods`` is not given.
    scale : str or Scale, optional
        Which scale's rows to use.
    sigma : float
        Width of the control limits in standard errors (3 in the Shewhart tradition).
    level : float
        Level of the Wilson interval of each period.
    fy_start : int
        First month of the fiscal year.

    Returns
    -------
    DataFrame
        One row per period, oldest first:

        ==============  =================================================================
        <freq>          period label (column named ``quarter``, ``month`` or ``year``)
        metric          ``csat`` (or ``ces_low_effort``)
        estimate        % satisfied in the period
        ci_low/ci_high  Wilson interval at ``level``
        n               responses
        count           satisfied responses
        centre          centre line :math:`100\,\bar p`, pooled over the periods shown
        lcl, ucl        control limits, clipped to [0, 100]
        out_of_control  estimate outside [lcl, ucl]
        flag            ``small_n``, ``no_responses``, ... (from :func:`csatkit.metrics.csat`)
        ==============  =================================================================

        Periods without responses have n = 0 and NaN estimates and limits.

    Notes
    -----
    The p chart with variable sample size (Montgomery 2019, sec. 7.3.1):

    .. math:: \bar p = \frac{\sum_i x_i}{\sum_i n_i}, \qquad
              \mathrm{UCL}_i, \mathrm{LCL}_i = \bar p \pm k \sqrt{\frac{\bar p (1 - \bar p)}{n_i}}

    with :math:`k` = ``sigma``. Here the limits are "trial" limits computed from the periods shown,
    which is how CSAT charts are read in practice; a point outside them is a signal worth
    investigating, not a verdict. With very large n per period real period-to-period variation
    makes almost every point fall outside (overdispersion); Laney's p' chart addresses that.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"interaction_at": pd.to_datetime(["2026-02-01"] * 100 + ["2026-05-01"] * 100),
    ...                    "score": [5] * 80 + [1] * 20 + [5] * 60 + [1] * 40, "scale": "likert5"})
    >>> p_chart(df, "2026Q1:2026Q2")["centre"].round(1).tolist()
    [70.0, 70.0]
    """
    check_choice("metric", metric, ["csat", "ces_low_effort"])
    check_range("sigma", sigma, 0, None, inclusive=False)
    check_range("level", level, 0, 1, inclusive=False)
    check_choice("freq", freq, FREQS)
    latest = None
    data = responses
    sc = scale
    if isinstance(responses, pd.DataFrame):
        sc = select_scale(responses, scale, kind=_KIND[metric])
        if periods is None and end is None:
            check_columns(responses.columns, ["interaction_at"], where="the responses")
            rows = responses
            if "scale" in rows.columns:
                rows = rows[rows["scale"].astype(str).isin(_scale_names(sc))]
            if "score" in rows.columns:
                rows = rows[rows["score"].notna()]
            ts = rows["interaction_at"]
            latest = ts.max() if len(ts) and ts.notna().any() else None
    elif isinstance(responses, ScoreTable) and periods is None and end is None:
        if freq in responses.by and len(responses.counts):
            latest = max(parse_period(str(v), fy_start=fy_start) for v in pd.unique(responses.counts[freq])).start
    shown = _shown_periods(periods, last, end, freq, fy_start, latest)
    freq = shown[0].freq
    labels = [p.label for p in shown]
    data = _with_period(data, freq, shown[0].fy_start, labels, columns=["score", "scale"])
    table = _metric_table(data, metric, [freq], scale=sc, level=level, weight=None, cluster=None, min_n=min_n,
                          fy_start=fy_start)
    table = table.assign(**{freq: table[freq].astype(str)})
    frame = pd.DataFrame({freq: labels}).merge(table, on=freq, how="left")
    frame["metric"] = metric
    frame["n"] = frame["n"].fillna(0).astype(np.int64)
    frame["flag"] = frame["flag"].where(frame["n"] > 0, "no_responses")
    count_col = _COUNT_COLUMN[metric]
    x = frame[count_col].fillna(0).to_numpy(dtype=float)
    n = frame["n"].to_numpy(dtype=float)
    total = n.sum()
    p_bar = x.sum() / total if total > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        half = sigma * np.sqrt(p_bar * (1 - p_bar) / n)
        lcl = np.where(n > 0, np.clip(p_bar - half, 0, 1), np.nan)
        ucl = np.where(n > 0, np.clip(p_bar + half, 0, 1), np.nan)
    est = frame["estimate"].to_numpy(dtype=float)
    out = pd.DataFrame({
        freq: labels,
        "metric": metric,
        "estimate": est,
        "ci_low": frame["ci_low"].to_numpy(dtype=float),
        "ci_high": frame["ci_high"].to_numpy(dtype=float),
        "n": frame["n"].to_numpy(),
        "count": x.astype(np.int64),
        "centre": np.full(len(labels), 100 * p_bar),
        "lcl": 100 * lcl,
        "ucl": 100 * ucl,
    })
    with np.errstate(invalid="ignore"):
        out["out_of_control"] = np.isfinite(est) & ((est > out["ucl"].to_numpy()) | (est < out["lcl"].to_numpy()))
    out["flag"] = frame["flag"].fillna("").to_numpy()
    return out


def _known_aliases() -> set[str]:
    return {name for sc in SCALES.values() for name in names_for(sc)}


def _scale_names(sc: Scale) -> set[str]:
    return names_for(sc)


# --------------------------------------------------------------------------------------------
# targets


def _tracking_one(row, target, level, higher_is_better, metric):
    metric = metric if metric is not None else row.get("metric", "csat")
    est, low, high = (float(row.get(c, np.nan)) for c in ("estimate", "ci_low", "ci_high"))
    t = _target_text(metric, target)
    d = _decimals(metric)
    if not np.isfinite(est):
        return {"target": target, "target_gap": np.nan, "status": "no_data",
                "text": "cannot tell: no estimate (no responses)"}
    gap = est - target
    side = "above" if gap > 0 else "below"
    gap_words = f"{_points(metric, gap)} {side}" if round(gap, d) != 0 else "at"
    interval = _interval_text(metric, low, high) if np.isfinite(low) and np.isfinite(high) else None
    lvl = _level_text(level)
    if interval is not None and low > target:
        status = "met" if higher_is_better else "not_met"
        where = f"the {lvl} interval ({interval}) lies entirely above it"
    elif interval is not None and high < target:
        status = "not_met" if higher_is_better else "met"
        where = f"the {lvl} interval ({interval}) lies entirely below it"
    else:
        status = "cannot_tell"
    if status == "cannot_tell":
        inner = f"{_value_text(metric, est)}, {gap_words} the {t} target"
        inner += f"; {lvl} interval {interval}" if interval else "; no interval"
        text = f"cannot tell: the interval includes the target ({inner})"
    else:
        text = f"{gap_words} the {t} target; {where}"
        if status == "met":
            text = f"target met: {text}"
    return {"target": float(target), "target_gap": gap, "status": status, "text": text}


def target_tracking(estimate_row, target, *, level: float = 0.95, higher_is_better: bool = True, metric=None):
    """Distance from an estimate to a target, and whether its interval settles the question.

    Parameters
    ----------
    estimate_row : Series, dict or DataFrame
        A row of a metric table (needs ``estimate``, ``ci_low``, ``ci_high``; ``metric`` sets the
        units, CSAT when absent). A DataFrame is tracked row by row.
    target : float
        On the metric's own scale: 80 for "80% satisfied", 30 for an NPS of +30.
    level : float
        Level of the interval in the row (for the wording only).
    higher_is_better : bool
        False for metrics where a lower value is better.
    metric : str, optional
        Override the row's ``metric`` (units of the text).

    Returns
    -------
    Series or DataFrame
        ``target``, ``target_gap`` (estimate - target), ``status`` (``met``: the whole interval is
        on the good side; ``not_met``: the whole interval is on the bad side; ``cannot_tell``: the
        interval includes the target; ``no_data``), and ``text``, e.g.
        "4.5 points below the 80% target; the 95% interval (73.1–77.9) lies entirely below it",
        "target met: 2.1 points above the 80% target; the 95% interval (80.5–83.7) lies entirely
        above it", "cannot tell: the interval includes the target (78.9%, 1.1 points below the 80%
        target; 95% interval 76.0–81.8)". For a DataFrame these columns are added to a copy.

    Examples
    --------
    >>> target_tracking({"estimate": 75.5, "ci_low": 73.1, "ci_high": 77.9}, 80)["text"]
    '4.5 points below the 80% target; the 95% interval (73.1–77.9) lies entirely below it'
    """
    check_range("target", target, None, None)
    check_range("level", level, 0, 1, inclusive=False)
    if isinstance(estimate_row, pd.DataFrame):
        check_columns(estimate_row.columns, ["estimate", "ci_low", "ci_high"], where="the estimate table")
        res = [_tracking_one(r, float(target), level, higher_is_better, metric)
               for r in estimate_row.to_dict("records")]
        extra = pd.DataFrame(res, index=estimate_row.index)
        return pd.concat([estimate_row, extra], axis=1)
    if isinstance(estimate_row, pd.Series):
        row = estimate_row.to_dict()
    elif isinstance(estimate_row, dict):
        row = dict(estimate_row)
    else:
        raise ParameterError(
            f"`estimate_row` must be a Series, a dict or a DataFrame, but {type(estimate_row).__name__} was passed."
        )
    check_columns(list(row), ["estimate", "ci_low", "ci_high"], where="the estimate row")
    return pd.Series(_tracking_one(row, float(target), level, higher_is_better, metric))


# --------------------------------------------------------------------------------------------
# executive summary


@dataclass
class ExecSummary:
    """The headline figures of one period, compared with another, in a table and in sentences.

    Attributes
    ----------
    period, previous : str
        Labels of the period reported and of the period compared with.
    table : DataFrame
        One row per metric: ``metric, period, previous_period, estimate, ci_low, ci_high, n,
        previous_n, change, change_ci_low, change_ci_high, p_value, verdict, target, target_gap,
        target_status, flag``.
    sentences : list of str
        One plain-language line per metric.
    level : float
        Confidence level of the intervals.
    """

    period: str
    previous: str
    table: pd.DataFrame
    sentences: list = field(default_factory=list)
    level: float = 0.95

    def summary(self) -> str:
        head = f"Executive summary: {self.period} compared with {self.previous}"
        return "\n".join([head, ""] + [f"- {s}" for s in self.sentences])

    __str__ = summary

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in self.sentences)
        head = (f"<h4>Executive summary: {html.escape(self.period)} compared with "
                f"{html.escape(self.previous)}</h4>")
        table = self.table.to_html(index=False, escape=True, na_rep="", float_format=lambda v: f"{v:.3g}")
        return f"{head}<ul>{items}</ul>{table}"


def _summary_sentence(row, level, scale: Scale | None = None) -> str:
    metric = row["metric"]
    name = _name_of(metric)
    if metric == "ces" and scale is not None:
        easy = scale.high if scale.easy_end != "low" else scale.low
        name = f"CES (mean effort score, {scale.low}{_DASH}{scale.high}, {easy} = easiest)"
    prev = row["previous_period"]
    lvl = _level_text(level)
    rate = metric in ("response_rate", "coverage")
    none = "no surveys sent" if rate else "no responses"
    if not row["n"] > 0:
        return f"{name}: {none} in {row['period']}."
    n_text = f"n = {int(row['n']):,}" + (" surveys sent" if rate else "")
    if np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"]):
        interval = _interval_text(metric, row["ci_low"], row["ci_high"])
        est = f"{_value_text(metric, row['estimate'])} ({lvl} CI {interval}, {n_text})"
    else:
        est = f"{_value_text(metric, row['estimate'])} ({n_text})"
    s = f"{name} was {est}"
    d = _decimals(metric)
    change, low, high = row["change"], row["change_ci_low"], row["change_ci_high"]
    if not row["previous_n"] > 0:
        s += f"; there are {none} in {prev} to compare with."
    elif not (np.isfinite(change) and np.isfinite(low) and np.isfinite(high)):
        s += f"; too few responses to compare with {prev}."
    elif low > 0 or high < 0:
        word = "up" if change > 0 else "down"
        s += (f", {word} {_points(metric, change)} from {prev}, a significant change "
              f"(CI {_num(low, d)} to {_num(high, d)}).")
    else:
        s += (f", no significant change from {prev} ({_signed(change, d)} points, "
              f"CI {_num(low, d)} to {_num(high, d)}).")
    if "small_n" in str(row.get("flag", "")):
        s += " Few responses: read with care."
    status = row.get("target_status")
    if isinstance(status, str) and status:
        t = _target_text(metric, row["target"])
        gap = row["target_gap"]
        side = "above" if gap > 0 else "below"
        gap_words = f"{_points(metric, gap)} {side}" if round(gap, d) != 0 else "at"
        if status == "met":
            s += f" It meets the {t} target ({gap_words} it; the whole interval lies {side} it)."
        elif status == "not_met":
            s += f" It is {gap_words} the {t} target; the whole interval lies {side} it."
        elif status == "cannot_tell":
            s += (f" It is {gap_words} the {t} target, but the interval includes the target, "
                  "so the data cannot tell whether it is met.")
    return s


def _response_rate_comparison(responses, contacts, cur: Period, prev: Period, level, min_n, csat_scale,
                              fy_start) -> pd.DataFrame:
    freq = cur.freq
    names = None
    if "scale" in responses.columns:
        try:
            names = _scale_names(select_scale(responses, csat_scale, kind="csat"))
        except (InputError, ParameterError):
            pass
    rows = _with_period(responses, freq, cur.fy_start, [cur.label, prev.label],
                        columns=["score", "scale", "response_id", "customer_id"])
    if names is not None:
        rows = rows[rows["scale"].astype(str).isin(names)]
    table = response_rate(rows, [freq], contacts=contacts, level=level, min_n=min_n, fy_start=fy_start)
    table = table[table["metric"] == "response_rate"]
    return _compare_tables(table, [], freq, "response_rate", cur.label, prev.label, level, None)


def executive_summary(responses: pd.DataFrame, period, *, compare_to=None, target=None,
                      contacts: pd.DataFrame | None = None, level: float = 0.95, fy_start: int = 1,
                      csat_scale=None, weight: str | None = None, cluster: str | None = None,
                      min_n: int = MIN_N) -> ExecSummary:
    """CSAT, NPS, CES and response rate of one period, compared with another, in plain words.

    Parameters
    ----------
    responses : DataFrame
        Responses in the canonical schema (periods derived from ``interaction_at``).
    period : str or Period
        The period reported, e.g. ``"2026Q3"``.
    compare_to : str or Period, optional
        ``None``/``"previous"`` (the period before), ``"last_year"``, or a label.
    target : float or dict, optional
        A CSAT target (e.g. 80), or targets per metric: ``{"csat": 80, "nps": 30}``.
    contacts : DataFrame, optional
        The contact log: surveys sent for the response rate.
    level : float
        Confidence level.
    fy_start : int
        First month of the fiscal year.
    csat_scale : str or Scale, optional
        Which satisfaction scale, when the data has no ``scale`` column or several.
    weight, cluster : str, optional
        Passed to :func:`compare_periods` for CSAT, NPS and CES.
    min_n : int
        Flag threshold.

    Returns
    -------
    ExecSummary
        ``table`` (one row per metric present: ``csat``, ``nps``, ``ces`` (mean effort),
        ``response_rate``) and ``sentences``, e.g. "CSAT was 76.4% (95% CI 75.2–77.6, n = 4,812),
        no significant change from 2026Q2 (+0.6 points, CI −1.1 to 2.3). It is 3.6 points below the
        80% target; the whole interval lies below it."

    Notes
    -----
    A metric appears when the data's ``scale`` column holds a scale of its kind. The response
    rate appears when ``contacts`` is given or the responses record unanswered surveys (rows without
    a score); otherwise every row is a response and the rate would be a meaningless 100%.
    Changes and verdicts follow :func:`compare_periods`; the response-rate change uses the Newcombe
    interval as well.
    """
    if not isinstance(responses, pd.DataFrame):
        raise ParameterError(f"`responses` must be a DataFrame, but {type(responses).__name__} was passed.")
    check_range("level", level, 0, 1, inclusive=False)
    cur, prev = _resolve_periods(period, compare_to, fy_start)
    targets = _targets(target)
    if "scale" in responses.columns:
        names = [str(s) for s in pd.unique(responses["scale"].dropna())]
        kinds = {get_scale(s).kind for s in names if s in SCALES or s in _known_aliases()}
    else:
        kinds = {"csat"}
    parts, scales = [], {}
    common = dict(level=level, fy_start=fy_start, weight=weight, cluster=cluster, min_n=min_n, adjust=None)
    unanswered = "score" in responses.columns and responses["score"].isna().any()
    rows = responses
    if "interaction_at" in responses.columns and cur.freq not in responses.columns:
        # every comparison below uses the rows of the two periods only, and these columns: select them once
        used = ["interaction_at", "score", "scale", "response_id", "customer_id"] + \
            [c for c in (weight, cluster) if c is not None]
        rows = _with_period(responses, cur.freq, cur.fy_start, [cur.label, prev.label],
                            columns=used).drop(columns=cur.freq)
    if "csat" in kinds:
        parts.append(compare_periods(rows, cur, prev, metric="csat", scale=csat_scale, **common))
    if "nps" in kinds:
        parts.append(compare_periods(rows, cur, prev, metric="nps", **common))
    if "ces" in kinds:
        scales["ces"] = select_scale(responses, None, kind="ces")
        parts.append(compare_periods(rows, cur, prev, metric="ces", **common))
    if contacts is not None or unanswered:
        parts.append(_response_rate_comparison(rows, contacts, cur, prev, level, min_n, csat_scale, fy_start))
    cols = ["metric", "period", "previous_period", "estimate", "ci_low", "ci_high", "n", "previous_n", "change",
            "change_ci_low", "change_ci_high", "p_value", "verdict", "flag"]
    table = pd.concat([p[cols] for p in parts], ignore_index=True) if parts else pd.DataFrame(columns=cols)
    unknown = sorted(set(targets) - set(table["metric"]))
    if unknown:
        raise ParameterError(
            f"`target` names metrics {unknown} that the summary does not report; it reports {table['metric'].tolist()}."
        )
    track = []
    for _, r in table.iterrows():
        if r["metric"] in targets:
            t = _tracking_one(r.to_dict(), targets[r["metric"]], level, True, r["metric"])
            track.append((t["target"], t["target_gap"], t["status"]))
        else:
            track.append((np.nan, np.nan, ""))
    table["target"] = [t[0] for t in track]
    table["target_gap"] = [t[1] for t in track]
    table["target_status"] = [t[2] for t in track]
    table = table[[c for c in cols if c != "flag"] + ["target", "target_gap", "target_status", "flag"]]
    sentences = [_summary_sentence(r, level, scales.get(r["metric"])) for r in table.to_dict("records")]
    return ExecSummary(cur.label, prev.label, table, sentences, level)


def _targets(target) -> dict:
    if target is None:
        return {}
    if isinstance(target, dict):
        out = {}
        for k, v in target.items():
            check_choice("target key", k, list(_INFO))
            check_range(f"target[{k!r}]", v, None, None)
            out[k] = float(v)
        return out
    check_range("target", target, None, None)
    return {"csat": float(target)}


# --------------------------------------------------------------------------------------------
# service recovery


def dissatisfied_points(scale, dissatisfied=None) -> frozenset:
    """The points of a scale that count as "dissatisfied" for service recovery.

    Parameters
    ----------
    scale : str or Scale
    dissatisfied : None, "bottom_box", "bottom2", "not_satisfied" or iterable of int
        ``None`` (default): the points on the unhappy side of the scale's midpoint, neutral excluded:
        1-2 on a 5-point scale, 1-3 on a 7-point scale, 1-5 on a 1-10 scale, the unhappy face on a
        3-face scale, "bad" on a binary scale, the detractors (0-6) on the NPS scale, the difficult
        end of an effort scale. ``"bottom_box"`` / ``"bottom2"``: the lowest one / two points (from
        the unhappy end). ``"not_satisfied"``: every point outside the satisfied set (neutral included).

    Examples
    --------
    >>> sorted(dissatisfied_points("likert5")), sorted(dissatisfied_points("likert7"))
    ([1, 2], [1, 2, 3])
    """
    from .scales import get_scale

    sc = get_scale(scale)
    pts = list(sc.points)
    unhappy_first = pts[::-1] if sc.easy_end == "low" else pts
    if dissatisfied is None:
        if sc.promoters:
            return frozenset(sc.detractors)
        mid = (sc.low + sc.high) / 2
        if sc.easy_end == "low":
            return frozenset(p for p in pts if p > mid)
        return frozenset(p for p in pts if p < mid)
    if isinstance(dissatisfied, str):
        check_choice("dissatisfied", dissatisfied, ["bottom_box", "bottom2", "not_satisfied"])
        if dissatisfied == "not_satisfied":
            return frozenset(p for p in pts if p not in sc.satisfied)
        return frozenset(unhappy_first[: 1 if dissatisfied == "bottom_box" else 2])
    chosen = frozenset(int(p) for p in dissatisfied)
    off = sorted(chosen - set(pts))
    if off or not chosen:
        raise ParameterError(
            f"The value for `dissatisfied` must name points of scale {sc.name!r} {pts}, "
            f"but {sorted(chosen)} was passed."
        )
    return chosen


def _recovery_rows(responses, period, scale, dissatisfied, fy_start, comment, columns):
    """(rows of the scale and period, score, dissatisfied?, has a comment?) with only ``columns`` of the rows
    (those present, and what the selection reads): the others would be copied for nothing."""
    if not isinstance(responses, pd.DataFrame):
        raise ParameterError(f"`responses` must be a DataFrame, but {type(responses).__name__} was passed.")
    check_columns(responses.columns, ["score"], where="the responses")
    sc = select_scale(responses, scale, kind=None if scale is not None else "csat")
    used = [*columns, "score", "scale", "interaction_at", comment]
    data = responses[[c for c in dict.fromkeys(used) if c in responses.columns]]
    if period is not None:  # first: a period is usually the smaller selection
        data = filter_period(data, period, fy_start=fy_start)
    if "scale" in data.columns:
        data = data[data["scale"].astype(str).isin(_scale_names(sc))]
    score = pd.to_numeric(data["score"], errors="coerce")
    points = dissatisfied_points(sc, dissatisfied)
    is_dis = score.isin([float(p) for p in points]).to_numpy()
    if comment in data.columns:
        text = data[comment]
        has = (text.notna() & (text.astype(str).str.strip() != "")).to_numpy()
    else:
        has = np.zeros(len(data), dtype=bool)
    return data, score, is_dis, has


def service_recovery(responses: pd.DataFrame, period=None, *, scale=None, dissatisfied=None, fy_start: int = 1,
                     comment: str = "comment") -> pd.DataFrame:
    """Dissatisfied responses that carry a comment: the list for service-recovery call-backs.

    Parameters
    ----------
    responses : DataFrame
        Responses in the canonical schema.
    period : str or Period, optional
        Keep only responses whose ``interaction_at`` falls in this period.
    scale : str or Scale, optional
        Which scale's rows; defaults to the single satisfaction (CSAT) scale in the data.
    dissatisfied : optional
        Which points count as dissatisfied; see :func:`dissatisfied_points`. By default the points
        below the neutral midpoint (1-2 on a 5-point scale), i.e. neither satisfied nor neutral.
    fy_start : int
        First month of the fiscal year, for fiscal period labels.
    comment : str
        The free-text column.

    Returns
    -------
    DataFrame
        ``response_id, interaction_id, customer_id, interaction_at, channel, contact_reason, agent_id,
        score, comment``, lowest score first, then the most recent interaction first. Columns absent
        from the data are filled with missing values (``response_id`` from the index). The comment is
        the raw text: mask or escape it before publishing (:mod:`csatkit.privacy`).
    """
    cols = ["response_id", "interaction_id", "customer_id", "interaction_at", "channel", "contact_reason",
            "agent_id", "score", "comment"]
    data, score, is_dis, has = _recovery_rows(responses, period, scale, dissatisfied, fy_start, comment, cols)
    keep = is_dis & has
    sub = data.loc[keep]
    out = pd.DataFrame(index=sub.index)
    for c in cols:
        src = comment if c == "comment" else c
        if c == "score":
            out[c] = score[keep].to_numpy()
        elif src in sub.columns:
            out[c] = sub[src].to_numpy()
        elif c == "response_id":
            out[c] = sub.index.astype(str)
        else:
            out[c] = pd.Series(pd.NA, index=sub.index, dtype="object")
    sort_cols, ascending = ["score"], [True]
    if "interaction_at" in sub.columns:
        sort_cols.append("interaction_at")
        ascending.append(False)
    return out.sort_values(sort_cols, ascending=ascending, kind="stable").reset_index(drop=True)


def recovery_counts(responses: pd.DataFrame, by="channel", *, period=None, scale=None, dissatisfied=None,
                    fy_start: int = 1, comment: str = "comment") -> pd.DataFrame:
    """Service-recovery incidents per group and over periods.

    Parameters
    ----------
    responses : DataFrame
        Responses in the canonical schema.
    by : str or list of str, optional
        Group keys; ``"month"``, ``"quarter"`` and ``"year"`` are derived from ``interaction_at``,
        so ``by=["channel", "quarter"]`` tracks the incidents over quarters. ``None``: one row.
    period, scale, dissatisfied, fy_start, comment
        As in :func:`service_recovery`.

    Returns
    -------
    DataFrame
        ``<keys>``, ``n`` (answered responses), ``dissatisfied`` (dissatisfied responses),
        ``dissatisfied_share`` (% of n), ``with_comment`` (dissatisfied responses with a comment:
        the call-back list of :func:`service_recovery`), ``share_with_comment`` (% of the dissatisfied).
    """
    by = as_list(by)
    data = responses
    if isinstance(data, pd.DataFrame):
        for b in by:
            if b in FREQS and b not in data.columns:
                check_columns(data.columns, ["interaction_at"], where="the responses")
                data = add_period(data, b, fy_start=fy_start)
        check_columns(data.columns, by, where="the responses")
    data, score, is_dis, has = _recovery_rows(data, period, scale, dissatisfied, fy_start, comment, by)
    answered = score.notna().to_numpy()
    frame = pd.DataFrame({"_n": answered.astype(np.int64), "_d": (is_dis & answered).astype(np.int64),
                          "_c": (is_dis & has & answered).astype(np.int64)}, index=data.index)
    if by:
        for b in by:
            frame[b] = data[b].to_numpy()
        g = frame.groupby(by, observed=True, sort=True, dropna=True)[["_n", "_d", "_c"]].sum().reset_index()
    else:
        g = frame[["_n", "_d", "_c"]].sum().to_frame().T.reset_index(drop=True)
    out = g[by].copy() if by else pd.DataFrame(index=g.index)
    out["n"] = g["_n"].astype(np.int64)
    out["dissatisfied"] = g["_d"].astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["dissatisfied_share"] = np.where(out["n"] > 0, 100 * out["dissatisfied"] / out["n"], np.nan)
        out["with_comment"] = g["_c"].astype(np.int64)
        out["share_with_comment"] = np.where(out["dissatisfied"] > 0,
                                             100 * out["with_comment"] / out["dissatisfied"], np.nan)
    return out
