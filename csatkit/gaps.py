r"""Gap analysis across channels (or any grouping): significance, effect sizes, mix-adjusted gaps,
the best channel per contact reason, channel-shift opportunities and gaps over time.

Three traps make a naive table of channel gaps wrong:

* **Many comparisons.** Six channels make fifteen pairs; at 5% each, a "gap" appears by chance in
  more than half of all quarters. Pairwise p-values are therefore adjusted (Holm 1979 by default,
  Benjamini & Hochberg 1995 on request), every difference carries an effect size (Cohen 1988) and,
  for each pair, the *minimum detectable difference* at the n at hand, so that "no significant gap"
  is read together with the gap the data could have detected.
* **Mix.** A channel can look worse only because it receives harder contact reasons. CSAT per
  channel is standardised to a common contact-reason mix (direct standardisation), adjusted by a
  logistic regression with contact reason as a control (standard errors clustered by agent), and
  any raw gap between two channels is split into a *mix* (composition) part and a *performance*
  (rate) part that add up exactly to the raw gap (Kitagawa 1955; Das Gupta 1993).
* **Clustering.** Responses handled by one agent are correlated. With a cluster key (e.g.
  ``cluster="agent_id"``) every test and interval of every part (channel gaps, raw and
  standardised mix-adjusted gaps, the decomposition, the reason x channel matrix, gaps over
  time) divides each channel's counts by that channel's design effect (Rao & Scott's 1981
  first-order correction), and the model's standard errors are clustered by the same key, so the
  parts of a report cannot contradict one another. Every entry point treats a missing cluster
  value as a cluster of its own and an absent cluster column as no clustering (with a message);
  a channel served by a single agent borrows the design effect of all channels pooled (flagged
  ``single_cluster``), since one agent cannot show within-channel clustering.

Everything is computed from the score table (counts per group per scale point,
:func:`csatkit.counts.tabulate`), so the same code serves a notebook sample and a warehouse
aggregate; the logistic regression too is fitted on counts per (channel, reason, cluster) cell
with frequency weights, which gives exactly the fit on the rows (it is still only fitted when
rows are passed).

Main entry points
-----------------
:func:`channel_gaps`          per-channel estimates, omnibus test, adjusted pairwise gaps, gaps to the
                              best channel, a target and a benchmark band, a consistency figure
:func:`mix_adjusted_gaps`     standardised and model-adjusted CSAT per channel, and their gaps
:func:`decompose_gap`         mix / performance decomposition of one raw gap, per contact reason
:func:`reason_channel_matrix` CSAT per contact reason x channel, best channel per reason, shift opportunities
:func:`gap_change`            the gaps in two periods and whether each widened or narrowed significantly
:func:`gaps_section`          all of the above for a report, with plain-language findings

Lower-level, vectorised over repetitions (used by the functions above and by simulations):
:func:`compare_proportions`, :func:`adjust_pvalues`, :func:`minimum_detectable_difference`,
:func:`power_two_proportions`.

References
----------
Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed. Erlbaum.
Das Gupta, P. (1993). Standardization and Decomposition of Rates: A User's Manual. US Census Bureau, P23-186.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J. Statist. 6, 65-70.
Benjamini, Y., Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57, 289-300.
Kitagawa, E. M. (1955). Components of a difference between two rates. JASA 50, 1168-1194.
Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions:
comparison of eleven methods. Statistics in Medicine 17, 873-890.
Zou, G. Y., Donner, A. (2008). Construction of confidence limits about effect measures: a general
approach (MOVER). Statistics in Medicine 27, 1693-1702.
Romano, J., Kromrey, J. D., Coraggio, J., Skowronek, J. (2006). Appropriate statistics for ordinal
level data (Cliff's delta thresholds). Annual meeting of the Florida Association of Institutional Research.
Rao, J. N. K., Scott, A. J. (1981). The analysis of categorical data from complex sample surveys.
JASA 76, 221-230.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from ._dist import (
    chi2_independence,
    chi2_sf,
    cohens_h,
    logit_fit,
    newcombe_diff_interval,
    norm_cdf,
    norm_isf,
    norm_ppf,
    norm_sf,
    score_test_equal_proportions,
    t_ppf,
    t_sf,
)
from ._validate import as_list, check_choice, check_columns, check_range
from .counts import ScoreTable, select_scale, tabulate
from .exceptions import InputError, ParameterError, StatisticalWarning
from .intervals import design_effect, proportion_ci, z_value
from .metrics import FEW_CLUSTERS, MIN_N, _group_stats, ces, csat, mean_score, nps
from .scales import get_scale

__all__ = [
    "CORRECTIONS",
    "GAP_METRICS",
    "GapResult",
    "MixResult",
    "GapDecomposition",
    "ReasonChannelResult",
    "GapChange",
    "GapReport",
    "channel_gaps",
    "mix_adjusted_gaps",
    "decompose_gap",
    "reason_channel_matrix",
    "channel_shift",
    "compare_gaps",
    "gap_change",
    "gaps_section",
    "compare_proportions",
    "adjust_pvalues",
    "minimum_detectable_difference",
    "power_two_proportions",
]

#: Multiple-comparison corrections: csatkit name -> statsmodels ``multipletests`` method.
CORRECTIONS = {"holm": "holm", "bh": "fdr_bh", "bonferroni": "bonferroni"}


@dataclass(frozen=True)
class _Spec:
    name: str
    kind: str  # "proportion" | "nps" | "mean"
    scale_kind: str  # which scale kind the metric reads
    factor: float  # 100 for shares and NPS, 1 for means
    unit: str


_SPECS = {
    "csat": _Spec("csat", "proportion", "csat", 100.0, "points"),
    "ces_low_effort": _Spec("ces_low_effort", "proportion", "ces", 100.0, "points"),
    "nps": _Spec("nps", "nps", "nps", 100.0, "points"),
    "mean_score": _Spec("mean_score", "mean", "csat", 1.0, "scale points"),
    "ces": _Spec("ces", "mean", "ces", 1.0, "scale points"),
}
_METRIC_ALIASES = {"mean": "mean_score"}

#: Metrics :func:`channel_gaps` accepts.
GAP_METRICS = tuple(_SPECS)

_EFFECT = {"proportion": "cohens_h", "nps": "cliffs_delta", "mean": "cliffs_delta"}
_MEASURE_NAMES = {"cohens_h": "Cohen's h", "cliffs_delta": "Cliff's delta"}
_CORRECTION_NAMES = {"holm": "Holm", "bh": "Benjamini-Hochberg", "bonferroni": "Bonferroni"}
_OMNIBUS = {"proportion": "chi_square", "nps": "chi_square", "mean": "kruskal_wallis"}


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------


def _warn(messages: list, text: str) -> None:
    messages.append(text)
    warnings.warn(text, StatisticalWarning, stacklevel=3)


def _join_flags(*parts) -> str:
    out = []
    for p in parts:
        for f in str(p or "").split(";"):
            if f and f not in out:
                out.append(f)
    return ";".join(out)


def _label(g) -> str:
    return str(g)


def _fmt(x, digits: int = 1) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:.{digits}f}"


def _fmt_p(p) -> str:
    if p is None or not np.isfinite(p):
        return "p n/a"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def _magnitude(effect: float, measure: str) -> str:
    """Cohen's (1988) labels for h (0.2 / 0.5 / 0.8); Romano et al.'s (2006) for Cliff's delta."""
    a = abs(effect) if np.isfinite(effect) else np.nan
    if not np.isfinite(a):
        return ""
    cuts = (0.2, 0.5, 0.8) if measure == "cohens_h" else (0.147, 0.33, 0.474)
    if a < cuts[0]:
        return "negligible"
    if a < cuts[1]:
        return "small"
    if a < cuts[2]:
        return "medium"
    return "large"


def _check_level(level) -> float:
    check_range("level", level, 0, 1, inclusive=False)
    return float(level)


def _check_by(name: str, value) -> str:
    if not isinstance(value, str) or not value:
        raise ParameterError(
            f"The value for `{name}` must name one column (a string such as 'channel'), but {value!r} was passed."
        )
    return value


def _sort_labels(values) -> list:
    vals = list(dict.fromkeys(values))
    try:
        return sorted(vals)
    except TypeError:
        return sorted(vals, key=str)


def _html_table(df: pd.DataFrame, digits: int = 2) -> str:
    shown = df.copy()
    for c in shown.columns:
        if pd.api.types.is_float_dtype(shown[c]):
            shown[c] = shown[c].round(digits)
    return shown.to_html(index=False, na_rep="–", escape=True)


def _html(title: str, findings: list, sections: list) -> str:
    parts = [f"<h4>{html.escape(title)}</h4>"]
    if findings:
        parts.append("<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in findings) + "</ul>")
    for heading, table in sections:
        if table is None:
            continue
        parts.append(f"<h5>{html.escape(heading)}</h5>")
        parts.append(_html_table(table) if isinstance(table, pd.DataFrame) else f"<p>{html.escape(str(table))}</p>")
    return "\n".join(parts)


def _text_table(df: pd.DataFrame, digits: int = 2) -> str:
    if df is None or df.empty:
        return "  (none)"
    shown = df.copy()
    for c in shown.columns:
        if pd.api.types.is_float_dtype(shown[c]):
            shown[c] = shown[c].round(digits)
    return shown.to_string(index=False)


# ---------------------------------------------------------------------------------------------
# multiple testing, power
# ---------------------------------------------------------------------------------------------


def adjust_pvalues(p, method: str = "holm"):
    r"""Adjust p-values for multiple comparisons along the last axis (vectorised over repetitions).

    Parameters
    ----------
    p : array_like (..., m)
        Unadjusted p-values; each row along the last axis is one family. NaNs are left out of the
        family (and stay NaN).
    method : {"holm", "bh", "bonferroni"}
        Holm's (1979) step-down family-wise correction, Benjamini & Hochberg's (1995) step-up
        false-discovery-rate correction, or Bonferroni.

    Returns
    -------
    ndarray (..., m)
        Adjusted p-values, equal to ``statsmodels.stats.multitest.multipletests(p, method=...)[1]``
        for ``"holm"``, ``"fdr_bh"`` and ``"bonferroni"`` (tested). With the ordered p-values
        :math:`p_{(1)} \le \dots \le p_{(m)}`:

        .. math:: \text{Holm: } \tilde p_{(i)} = \min\{1, \max_{j \le i} (m - j + 1) p_{(j)}\}, \qquad
                  \text{BH: } \tilde p_{(i)} = \min\{1, \min_{j \ge i} m\, p_{(j)} / j\}

    Notes
    -----
    Written with numpy rather than looping ``multipletests`` because the latter is one family per
    call and runs a full garbage collection on every Holm call (about 30 ms), which makes a
    2,000-repetition simulation take a minute instead of milliseconds.
    """
    check_choice("method", method, list(CORRECTIONS))
    p = np.asarray(p, dtype=float)
    if p.ndim == 0:
        p = p[None]
    if p.shape[-1] == 0:
        return p.copy()
    if np.isnan(p).any():
        flat = p.reshape(-1, p.shape[-1])
        out = np.full_like(flat, np.nan)
        for r, row in enumerate(flat):
            ok = ~np.isnan(row)
            if ok.any():
                out[r, ok] = _adjust_rows(row[ok][None, :], method)[0]
        return out.reshape(p.shape)
    return _adjust_rows(p, method)


def _adjust_rows(p: np.ndarray, method: str) -> np.ndarray:
    m = p.shape[-1]
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, axis=-1, kind="stable")
    ps = np.take_along_axis(p, order, axis=-1)
    ranks = np.arange(1, m + 1, dtype=float)
    if method == "holm":
        adj = np.maximum.accumulate(ps * (m - ranks + 1), axis=-1)
    else:  # bh
        adj = np.minimum.accumulate((ps * m / ranks)[..., ::-1], axis=-1)[..., ::-1]
    adj = np.minimum(adj, 1.0)
    out = np.empty_like(adj)
    np.put_along_axis(out, order, adj, axis=-1)
    return out


def minimum_detectable_difference(n_a, n_b, p, *, alpha: float = 0.05, power: float = 0.8):
    r"""Smallest difference between two proportions a two-sided z-test detects with the given power.

    Uses Cohen's (1988) arcsine effect size :math:`h = 2\arcsin\sqrt{p_a} - 2\arcsin\sqrt{p_b}`,
    whose sampling variance is :math:`1/n_a + 1/n_b` whatever the proportions:

    .. math:: h_{min} = (z_{1-\alpha/2} + z_{power}) \sqrt{1/n_a + 1/n_b}

    (the closed form of ``statsmodels.stats.power.NormalIndPower().solve_power`` up to the
    negligible far tail; tested). :math:`h_{min}` is turned into percentage points around the base
    proportion ``p``: with :math:`\varphi = 2\arcsin\sqrt p`, the two proportions are
    :math:`\sin^2((\varphi \pm h_{min}/2)/2)`, the interval shifted to stay within [0, 1] (so a base
    of 100% satisfied still has a finite detectable difference).

    Parameters
    ----------
    n_a, n_b : array_like
        Sample sizes of the two groups.
    p : array_like
        Base proportion in [0, 1] (e.g. the two groups pooled).
    alpha : float
        Two-sided significance level of *one* comparison. For a family of m pairs corrected by
        Holm, pass :math:`\alpha / m`, the threshold of Holm's first step (what :func:`channel_gaps`
        does), which makes the figure slightly conservative.
    power : float
        Wanted power.

    Returns
    -------
    ndarray
        The minimum detectable difference in percentage points (0-100).

    Examples
    --------
    Two channels of 300 responses each around 80% CSAT, one comparison at 5%:

    >>> round(float(minimum_detectable_difference(300, 300, 0.8)), 1)
    9.1
    """
    check_range("alpha", alpha, 0, 1, inclusive=False)
    check_range("power", power, 0, 1, inclusive=False)
    n_a, n_b, p = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (n_a, n_b, p)))
    with np.errstate(divide="ignore", invalid="ignore"):
        h = (norm_isf(alpha / 2) + norm_ppf(power)) * np.sqrt(1 / n_a + 1 / n_b)
    phi = 2 * np.arcsin(np.sqrt(np.clip(p, 0, 1)))
    h = np.minimum(h, np.pi)
    lo = phi - h / 2
    hi = phi + h / 2
    shift = np.where(lo < 0, -lo, np.where(hi > np.pi, np.pi - hi, 0.0))
    lo, hi = lo + shift, hi + shift
    out = 100 * (np.sin(hi / 2) ** 2 - np.sin(lo / 2) ** 2)
    return np.where((n_a > 0) & (n_b > 0), out, np.nan)


def power_two_proportions(p_a, p_b, n_a, n_b, *, alpha: float = 0.05):
    r"""Power of the two-sided z-test of two proportions, through Cohen's h (normal approximation).

    .. math:: 1-\beta = \Phi\left(\frac{|h|}{\sqrt{1/n_a + 1/n_b}} - z_{1-\alpha/2}\right)
              + \Phi\left(-\frac{|h|}{\sqrt{1/n_a + 1/n_b}} - z_{1-\alpha/2}\right)

    The inverse of :func:`minimum_detectable_difference`; equals
    ``NormalIndPower().power(h, n_a, alpha, ratio=n_b / n_a)`` (tested).
    """
    check_range("alpha", alpha, 0, 1, inclusive=False)
    h = np.abs(cohens_h(np.asarray(p_a, dtype=float), np.asarray(p_b, dtype=float)))
    se = np.sqrt(1 / np.asarray(n_a, dtype=float) + 1 / np.asarray(n_b, dtype=float))
    z = norm_isf(alpha / 2)
    return norm_cdf(h / se - z) + norm_cdf(-h / se - z)


# ---------------------------------------------------------------------------------------------
# two-group comparisons from counts (vectorised over the leading axes)
# ---------------------------------------------------------------------------------------------


def _two_proportions(xa, na, xb, nb, level: float) -> dict:
    """Difference of two proportions: Newcombe interval, pooled z-test, Cohen's h (proportions, not %)."""
    xa, na, xb, nb = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (xa, na, xb, nb)))
    shape = xa.shape
    if xa.size == 0:
        empty = np.zeros(shape)
        return {k: empty.copy() for k in ("estimate", "ci_low", "ci_high", "se", "statistic", "p_value", "effect_size",
                                          "pooled")}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        # statsmodels' test_proportions_2indep(method="score", correction=False) and
        # confint_proportions_2indep(method="newcomb"), in closed form (csatkit._dist)
        z, p = score_test_equal_proportions(xa, na, xb, nb, correction=False)
        low, high = newcombe_diff_interval(xa, na, xb, nb, alpha=1 - level)
        pa, pb = xa / na, xb / nb
        pooled = (xa + xb) / (na + nb)
        se = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
        h = cohens_h(pa, pb)
    z = np.asarray(z, dtype=float).reshape(shape)
    p = np.asarray(p, dtype=float).reshape(shape)
    degenerate = (pooled <= 0) | (pooled >= 1)
    z = np.where(degenerate, 0.0, z)
    p = np.where(degenerate, 1.0, p)
    return {
        "estimate": pa - pb,
        "ci_low": np.asarray(low, dtype=float).reshape(shape),
        "ci_high": np.asarray(high, dtype=float).reshape(shape),
        "se": se,
        "statistic": z,
        "p_value": p,
        "effect_size": h,
        "pooled": pooled,
    }


def compare_proportions(satisfied, n, *, correction: str = "holm", level: float = 0.95, power: float = 0.8) -> dict:
    r"""All pairwise comparisons of k proportions, vectorised over repetitions.

    For each pair (i < j) of the k groups on the last axis:

    * ``estimate`` = :math:`100 (\hat p_i - \hat p_j)` in percentage points;
    * ``ci_low``, ``ci_high``: Newcombe's (1998) hybrid score interval (method 10, from the two Wilson
      intervals), via ``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb")``.
      Chosen over Wald because it keeps its coverage near 0% and 100% satisfied;
    * ``se``: the unpooled (Wald) standard error, in points;
    * ``statistic``, ``p_value``: the pooled two-sample z-test
      :math:`z = (\hat p_i - \hat p_j) / \sqrt{\bar p (1-\bar p)(1/n_i + 1/n_j)}`, via
      ``test_proportions_2indep(method="score", correction=False)``; equal to
      ``proportions_ztest`` and to the square root of the 2x2 chi-square (tested). A pair whose pooled
      proportion is 0 or 1 (no variation) gets z = 0, p = 1;
    * ``p_adj``: :func:`adjust_pvalues` over the family of all pairs of one repetition;
    * ``effect_size``: Cohen's h, :math:`2\arcsin\sqrt{\hat p_i} - 2\arcsin\sqrt{\hat p_j}`
      (``statsmodels.stats.proportion.proportion_effectsize``);
    * ``mdd``: :func:`minimum_detectable_difference` at the pair's n and pooled proportion, with
      power ``power`` and significance :math:`\alpha/m` (``alpha_mdd``), Holm's first-step
      (Bonferroni) threshold for m pairs.

    Parameters
    ----------
    satisfied : array_like (..., k)
        Satisfied counts per group (may be effective, non-integer counts).
    n : array_like (..., k)
        Responses per group (broadcast against ``satisfied``); every group needs n > 0.
    correction : {"holm", "bh", "bonferroni"}
    level : float
        Confidence level; :math:`\alpha = 1 - \text{level}`.
    power : float

    Returns
    -------
    dict of arrays
        ``i``, ``j`` (group indices, shape (m,)) and ``estimate``, ``ci_low``, ``ci_high``, ``se``,
        ``statistic``, ``p_value``, ``p_adj``, ``effect_size``, ``mdd`` of shape (..., m); ``alpha_mdd``.

    Examples
    --------
    2,000 simulated quarters of six channels at once:

    >>> import numpy as np
    >>> x = np.random.default_rng(1).binomial(300, 0.8, size=(2000, 6))
    >>> out = compare_proportions(x, 300)
    >>> out["p_adj"].shape
    (2000, 15)
    """
    check_choice("correction", correction, list(CORRECTIONS))
    level = _check_level(level)
    check_range("power", power, 0, 1, inclusive=False)
    x = np.asarray(satisfied, dtype=float)
    n = np.broadcast_to(np.asarray(n, dtype=float), x.shape)
    if x.ndim == 0:
        raise ParameterError("`satisfied` must hold one count per group (an array), but a single number was passed.")
    if (n <= 0).any():
        raise InputError("Every group needs at least one response; drop the groups with n = 0 before comparing.")
    if ((x < 0) | (x > n)).any():
        raise InputError("Satisfied counts must lie between 0 and n.")
    k = x.shape[-1]
    i, j = np.triu_indices(k, 1)
    m = len(i)
    alpha = 1 - level
    res = _two_proportions(x[..., i], n[..., i], x[..., j], n[..., j], level)
    alpha_mdd = alpha / m if m else alpha
    mdd = minimum_detectable_difference(n[..., i], n[..., j], res["pooled"], alpha=alpha_mdd, power=power)
    return {
        "i": i,
        "j": j,
        "estimate": 100 * res["estimate"],
        "ci_low": 100 * res["ci_low"],
        "ci_high": 100 * res["ci_high"],
        "se": 100 * res["se"],
        "statistic": res["statistic"],
        "p_value": res["p_value"],
        "p_adj": adjust_pvalues(res["p_value"], correction),
        "effect_size": res["effect_size"],
        "mdd": mdd,
        "alpha_mdd": alpha_mdd,
    }


def _ordinal_pair(ca: np.ndarray, cb: np.ndarray) -> dict:
    """Mann-Whitney U and Cliff's delta for two groups' counts over ordered categories (rows = pairs)."""
    na, nb = ca.sum(-1), cb.sum(-1)
    below_b = np.cumsum(cb, axis=-1) - cb  # responses of b below each category
    above_b = nb[..., None] - below_b - cb
    greater = (ca * below_b).sum(-1)
    less = (ca * above_b).sum(-1)
    ties = (ca * cb).sum(-1)
    u_a = greater + 0.5 * ties
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (greater - less) / (na * nb)
        # scipy.stats.mannwhitneyu, method="asymptotic", use_continuity=True, two-sided
        t = ca + cb
        big_n = na + nb
        tie_term = (t**3 - t).sum(-1)
        s = np.sqrt(na * nb / 12 * ((big_n + 1) - tie_term / (big_n * (big_n - 1))))
        u = np.maximum(u_a, na * nb - u_a)
        z = (u - na * nb / 2 - 0.5) / s
        p = np.minimum(2 * norm_sf(z), 1.0)
    p = np.where(s > 0, p, 1.0)
    z = np.where(s > 0, z, 0.0)
    return {"u": u_a, "delta": delta, "statistic": z, "p_value": p}


def _cramers_v(chi2, n, r, c):
    d = min(r, c) - 1
    return float(np.sqrt(chi2 / (n * d))) if n > 0 and d > 0 else 0.0


def _omnibus(kind: str, counts: np.ndarray, values: np.ndarray) -> dict:
    """Omnibus test that all groups (rows of ``counts``, n > 0) share the same distribution."""
    k = counts.shape[0]
    n = counts.sum()
    base = {"test": _OMNIBUS[kind], "statistic": np.nan, "df": np.nan, "p_value": np.nan, "effect_size": np.nan,
            "effect_measure": "cramers_v" if kind != "mean" else "epsilon_squared", "n": n, "groups": k, "flag": ""}
    if k < 2:
        base.update(flag="single_group")
        return base
    if kind in ("proportion", "nps"):
        if kind == "proportion":
            x = counts @ values
            table = np.column_stack([x, counts.sum(1) - x])
        else:
            table = np.column_stack([counts @ (values < 0), counts @ (values == 0), counts @ (values > 0)])
        table = table[:, table.sum(0) > 0]
        if table.shape[1] < 2:
            base.update(statistic=0.0, df=float(k - 1), p_value=1.0, effect_size=0.0, flag="no_variation")
            return base
        chi2, p, dof, expected = chi2_independence(table)  # = scipy.stats.chi2_contingency(correction=False)
        flag = "small_expected" if (expected < 5).any() else ""
        base.update(statistic=float(chi2), df=float(dof), p_value=float(p),
                    effect_size=_cramers_v(chi2, n, *table.shape), flag=flag)
        return base
    # Kruskal-Wallis from counts: mid-ranks of the scale points, tie-corrected (= scipy.stats.kruskal)
    t = counts.sum(0)
    ranks = np.cumsum(t) - t + (t + 1) / 2
    r_sum = counts @ ranks
    n_g = counts.sum(1)
    h = 12 / (n * (n + 1)) * (r_sum**2 / n_g).sum() - 3 * (n + 1)
    tie = 1 - (t**3 - t).sum() / (n**3 - n) if n > 1 else 0.0
    if tie <= 0:
        base.update(statistic=0.0, df=float(k - 1), p_value=1.0, effect_size=0.0, flag="no_variation")
        return base
    h = h / tie
    base.update(statistic=float(h), df=float(k - 1), p_value=float(chi2_sf(h, k - 1)),
                effect_size=float(h / (n - 1)))
    return base


def _pairwise_arrays(kind: str, counts: np.ndarray, values: np.ndarray, factor: float, level: float,
                     correction: str, power: float) -> dict:
    """All pairs of the rows of ``counts`` (k x K), in row order (i < j)."""
    k = counts.shape[0]
    if kind == "proportion":
        out = compare_proportions(counts @ values, counts.sum(1), correction=correction, level=level, power=power)
        out["p_value_rank"] = np.full_like(out["p_value"], np.nan)
        return out
    i, j = np.triu_indices(k, 1)
    m = len(i)
    alpha = 1 - level
    alpha_mdd = alpha / m if m else alpha
    zq = norm_isf(alpha_mdd / 2) + norm_ppf(power)
    ca, cb = counts[i], counts[j]
    na, nb = ca.sum(1), cb.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "nps":
            pro, det = counts @ (values > 0), counts @ (values < 0)
            n = counts.sum(1)
            theta = (pro - det) / n
            var = (pro / n + det / n - theta**2) / n
            est = theta[i] - theta[j]
            se = np.sqrt(var[i] + var[j])
            zc = z_value(level)
            low, high = np.clip(est - zc * se, -2, 2), np.clip(est + zc * se, -2, 2)
            pp = (pro[i] + pro[j]) / (na + nb)
            dd = (det[i] + det[j]) / (na + nb)
            v0 = (pp + dd - (pp - dd) ** 2) * (1 / na + 1 / nb)
            stat = np.where(v0 > 0, est / np.sqrt(v0), 0.0)
            pval = np.where(v0 > 0, 2 * norm_sf(np.abs(stat)), 1.0)
            tri = np.column_stack([counts @ (values < 0), counts @ (values == 0), counts @ (values > 0)])
            eff = _ordinal_pair(tri[i], tri[j])["delta"]
            mdd = np.where(v0 > 0, zq * np.sqrt(v0), np.nan)
            p_rank = np.full_like(est, np.nan)
        else:
            n = counts.sum(1)
            mean = counts @ values / n
            var = (counts * (values[None, :] - mean[:, None]) ** 2).sum(1) / (n - 1)
            est = mean[i] - mean[j]
            va, vb = var[i] / na, var[j] / nb
            se = np.sqrt(va + vb)
            df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
            tq = t_ppf(0.5 + level / 2, df)
            low = np.where(se > 0, est - tq * se, est)
            high = np.where(se > 0, est + tq * se, est)
            # Welch's t-test with the same statistic and df as the interval, so that p < 1 - level
            # exactly when the interval excludes 0; se = 0 with a non-zero difference is the limit t = +-inf
            stat = np.where(se > 0, est / se, np.where(se == 0, np.sign(est) * np.inf, np.nan))
            stat = np.where((se == 0) & (est == 0), 0.0, stat)
            pval = np.where(se > 0, 2 * t_sf(np.abs(stat), df),
                            np.where(se == 0, np.where(est == 0, 1.0, 0.0), np.nan))
            mw = _ordinal_pair(ca, cb)
            p_rank, eff = mw["p_value"], mw["delta"]
            sp = np.sqrt(((na - 1) * var[i] + (nb - 1) * var[j]) / (na + nb - 2))
            mdd = np.where(sp > 0, zq * sp * np.sqrt(1 / na + 1 / nb), np.nan)
    return {
        "i": i, "j": j, "estimate": factor * est, "ci_low": factor * low, "ci_high": factor * high, "se": factor * se,
        "statistic": stat, "p_value": pval, "p_adj": adjust_pvalues(pval, correction), "p_value_rank": p_rank,
        "effect_size": eff, "mdd": factor * mdd, "alpha_mdd": alpha_mdd,
    }


# ---------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------


def _spec(metric) -> _Spec:
    metric = _METRIC_ALIASES.get(metric, metric)
    check_choice("metric", metric, list(_SPECS))
    return _SPECS[metric]


def _load_table(responses, keys: list, spec: _Spec, scale, satisfied, cluster=None):
    """The score table grouped by ``keys`` and the scale (with any satisfied override)."""
    if isinstance(responses, ScoreTable):
        missing = [k for k in keys if k not in responses.by]
        if missing:
            raise ParameterError(
                f"The score table is grouped by {list(responses.by)}, but this analysis needs {missing}; "
                f"tabulate with by={keys}."
            )
        if cluster is not None and cluster != responses.cluster:
            raise ParameterError(
                f"The score table keeps cluster key {responses.cluster!r}, not {cluster!r}; tabulate again."
            )
        table = responses if list(responses.by) == keys else responses.collapse(keys)
        sc = table.scale
        if scale is not None:
            wanted = get_scale(scale)
            if wanted.points != sc.points:
                raise ParameterError(
                    f"The score table is on scale {sc.name!r}, but scale={wanted.name!r} was passed."
                )
            sc = wanted
    elif isinstance(responses, pd.DataFrame):
        check_columns(responses.columns, keys, where="the responses")
        sc = select_scale(responses, scale, kind=spec.scale_kind)
        table = tabulate(responses, keys, scale=sc, cluster=cluster)
    else:
        raise ParameterError(
            f"`responses` must be a DataFrame or a ScoreTable, but {type(responses).__name__} was passed."
        )
    if spec.kind == "nps" and not sc.promoters:
        raise ParameterError(
            f"NPS needs the 0-10 recommendation scale ('nps'), but scale {sc.name!r} ({sc.description}) was given."
        )
    if spec.scale_kind == "ces" and sc.kind != "ces":
        raise ParameterError(f"CES needs an effort scale ('ces5', 'ces7'), but scale {sc.name!r} was given.")
    if satisfied is not None:
        sc = sc.with_satisfied(satisfied)
    return table, sc


def _values(spec: _Spec, sc) -> np.ndarray:
    pts = np.array(sc.points)
    if spec.kind == "proportion":
        return sc.is_satisfied(pts).astype(float)
    if spec.kind == "nps":
        return np.where(np.isin(pts, list(sc.promoters)), 1.0, np.where(np.isin(pts, list(sc.detractors)), -1.0, 0.0))
    return pts.astype(float)


def _higher_is_better(spec: _Spec, sc) -> bool:
    return not (spec.kind == "mean" and sc.kind == "ces" and sc.easy_end == "low")


def _all_groups(responses, table: ScoreTable, col: str, groups) -> list:
    found = list(table.counts[col].unique()) if col in table.counts else []
    if table.unanswered is not None and col in table.unanswered:
        found += list(table.unanswered[col].unique())
    if isinstance(responses, pd.DataFrame) and isinstance(responses[col].dtype, pd.CategoricalDtype):
        found += list(responses[col].cat.categories)
    found = _sort_labels(found)
    if groups is None:
        return found
    given = list(dict.fromkeys(as_list(groups)))
    return given + [g for g in found if g not in given]


def _metric_table(table: ScoreTable, spec: _Spec, sc, by: str, level: float, min_n: float) -> pd.DataFrame:
    common = dict(level=level, min_n=min_n)
    if table.counts.empty:
        return pd.DataFrame(columns=[by, "metric", "estimate", "ci_low", "ci_high", "se", "n", "n_eff", "flag"])
    if spec.name == "csat":
        return csat(table, [by], satisfied=sorted(sc.satisfied), **common)
    if spec.name == "ces_low_effort":
        return ces(table, [by], statistic="low_effort", **common)
    if spec.name == "nps":
        return nps(table, [by], **common)
    if spec.name == "ces":
        return ces(table, [by], statistic="mean", **common)
    return mean_score(table, [by], **common)


# ---------------------------------------------------------------------------------------------
# channel gaps
# ---------------------------------------------------------------------------------------------


@dataclass
class GapResult:
    """Gaps across the groups of one column (channels by default) for one metric.

    Attributes
    ----------
    estimates : DataFrame
        One row per group, best first: the group key, ``metric``, ``estimate``, ``ci_low``,
        ``ci_high``, ``se``, ``n``, ``n_eff`` (and the metric's extra columns), ``rank`` (1 = best; <NA>
        for groups flagged ``small_n`` or ``no_responses``: small groups get a warning, not a
        ranking) and ``flag``.
    omnibus : DataFrame
        One row: ``test`` ("chi_square" on the count table for CSAT / low-effort share and on the
        detractor / passive / promoter table for NPS; "kruskal_wallis" for mean scores and CES),
        ``statistic``, ``df``, ``p_value``, ``effect_size`` (Cramér's V, or epsilon-squared
        :math:`H/(n-1)` for Kruskal-Wallis), ``effect_measure``, ``n``, ``groups``, ``flag``.
    pairwise : DataFrame
        One row per pair of groups with responses, the better group first: ``group_a``,
        ``group_b``, ``estimate_a``, ``estimate_b``, ``n_a``, ``n_b``, ``estimate`` (a - b),
        ``ci_low``, ``ci_high``, ``se``, ``statistic``, ``p_value``, ``p_adj``, ``significant``
        (``p_adj`` < 1 - level), ``p_value_rank`` (mean score and CES only: the unadjusted
        Mann-Whitney p-value, a test of stochastic ordering rather than of the mean difference;
        NaN for CSAT, low-effort share and NPS), ``effect_size``, ``effect_measure``, ``magnitude``, ``mdd``
        (minimum detectable difference with power ``power`` at ``alpha_mdd``), ``alpha_mdd``, ``flag``.
    gaps : DataFrame
        Long table, one row per group and reference: the group key, ``versus`` ("best", "target",
        "benchmark"), ``reference`` (the best group, "target 80", "band 70-80"), ``estimate`` (the
        gap), ``ci_low``, ``ci_high``, ``significant``, ``status``, ``flag``.
    consistency : DataFrame
        ``statistic`` ("range": best minus worst; "sd": standard deviation across groups),
        ``estimate``, ``ci_low``, ``ci_high`` (percentile bootstrap redrawing each group's counts),
        ``expected_if_equal`` (the mean of the same statistic when all groups share the pooled
        distribution: the spread that sampling noise alone produces at these n), ``groups``, ``flag``.
    messages : list of str
        What was unusual about the input (also issued as :class:`StatisticalWarning`).
    table : ScoreTable
        The counts everything was computed from.
    """

    metric: str
    by: str
    unit: str
    estimates: pd.DataFrame
    omnibus: pd.DataFrame
    pairwise: pd.DataFrame
    gaps: pd.DataFrame
    consistency: pd.DataFrame
    target: float | None
    benchmark: tuple | None
    correction: str
    level: float
    power: float
    higher_is_better: bool
    messages: list = field(default_factory=list)
    table: ScoreTable | None = field(default=None, repr=False)
    scale: object = field(default=None, repr=False)

    @property
    def best(self):
        """The best ranked group, or None when no group has enough responses."""
        ranked = self.estimates[self.estimates["rank"].notna()]
        return None if ranked.empty else ranked.iloc[0][self.by]

    def findings(self) -> list[str]:
        """Plain-language statements about the gaps."""
        return _gap_findings(self)

    def summary(self) -> str:
        lines = [f"Gaps in {self.metric} by {self.by} ({self.correction}-adjusted, {self.level:.0%} intervals)"]
        lines += [f"- {f}" for f in self.findings()]
        cols = [self.by, "estimate", "ci_low", "ci_high", "n", "rank", "flag"]
        lines += ["", "Estimates:", _text_table(self.estimates[cols])]
        lines += ["", "Omnibus:", _text_table(self.omnibus)]
        pcols = ["group_a", "group_b", "estimate", "ci_low", "ci_high", "p_adj", "effect_size", "mdd", "flag"]
        lines += ["", "Pairwise:", _text_table(self.pairwise[pcols])]
        lines += ["", "Consistency:", _text_table(self.consistency)]
        return "\n".join(lines)

    def _html_title(self) -> str:
        return f"Gaps in {self.metric} by {self.by}"

    def _html_tables(self) -> list:
        return [("Estimates", self.estimates), ("Omnibus test", self.omnibus), ("Pairwise gaps", self.pairwise),
                ("Gaps to best, target and benchmark", self.gaps), ("Consistency", self.consistency)]

    def _repr_html_(self) -> str:
        return _html(self._html_title(), self.findings(), self._html_tables())


def _check_target_benchmark(target, benchmark):
    if target is not None:
        check_range("target", target, None, None)
        target = float(target)
    if benchmark is not None:
        try:
            low, high = (float(v) for v in benchmark)
        except (TypeError, ValueError):
            raise ParameterError(
                f"The value for `benchmark` must be a (low, high) pair such as (70, 80), but {benchmark!r} was passed."
            ) from None
        if not (np.isfinite(low) and np.isfinite(high)) or low > high:
            raise ParameterError(
                f"The value for `benchmark` must be a (low, high) pair with low <= high, but {benchmark!r} was passed."
            )
        benchmark = (low, high)
    return target, benchmark


def channel_gaps(responses, metric: str = "csat", by: str = "channel", *, scale=None, satisfied=None,
                 target: float | None = None, benchmark: tuple | None = None, correction: str = "holm",
                 level: float = 0.95, power: float = 0.8, min_n: int = MIN_N, groups=None,
                 cluster: str | None = None, n_boot: int = 2000, seed=None) -> GapResult:
    r"""Gaps in CSAT (or mean score, NPS, CES) across channels or any other grouping column.

    Parameters
    ----------
    responses : DataFrame or ScoreTable
        Responses in the canonical schema, or a score table grouped by ``by``.
    metric : {"csat", "mean_score", "nps", "ces", "ces_low_effort"}
        CSAT and the low-effort share are percentages (0-100), NPS -100..100, mean score and CES
        in the scale's units.
    by : str
        The grouping column (``"channel"``, ``"team"``, ``"contact_reason"``, ...).
    scale, satisfied
        As in :func:`csatkit.metrics.csat`.
    target : float, optional
        A target on the metric's own scale (e.g. 80 for CSAT).
    benchmark : (low, high), optional
        A benchmark band, e.g. the trade's 70-80% for CSAT.
    correction : {"holm", "bh", "bonferroni"}
        Multiple-comparison correction of the pairwise p-values.
    level : float
        Confidence level of every interval; :math:`\alpha = 1 -` level for significance.
    power : float
        Power at which the minimum detectable difference is stated.
    min_n : int
        Groups with a smaller effective n are flagged ``small_n`` and not ranked.
    groups : list, optional
        The groups expected (e.g. all channels offered); those without responses are kept and
        flagged ``no_responses``.
    cluster : str, optional
        A cluster key (e.g. ``"agent_id"``). Each group's counts are then divided by its design
        effect before testing (Rao & Scott's 1981 first-order correction), so clustered responses
        do not produce spurious gaps. Responses without a cluster value each count as their own
        cluster; an absent column leaves the analysis unclustered (both with a message). A group
        served by a single cluster, whose own design effect would be 1, borrows the design effect of
        the metric over all groups' responses pooled: its ``n_eff`` is its n (Kish's n when weighted)
        divided by it in the pairwise tests, the omnibus test and the consistency bootstrap; it is
        flagged ``single_cluster`` with a message. Its interval is then Wilson's on that ``n_eff``
        for CSAT and the low-effort share; for NPS and means it stays NaN (as
        :func:`csatkit.metrics.nps` and :func:`csatkit.metrics.mean_score` show it).
    n_boot : int
        Bootstrap replicates for the consistency interval.
    seed : int or Generator, optional

    Returns
    -------
    GapResult
        See :class:`GapResult` for the tables and their columns.

    Notes
    -----
    Pairwise comparisons, for groups with responses:

    * CSAT / low-effort share: difference in points with Newcombe's hybrid score interval, the
      pooled z-test and Cohen's h (:func:`compare_proportions`).
    * NPS: difference with the Wald interval from the multinomial variance
      :math:`(p_+ + p_- - \mathrm{NPS}^2)/n` of each group, a z-test with the pooled variance, and
      Cliff's delta on the detractor < passive < promoter ordering.
    * Mean score, CES: difference of means with Welch's t interval, and Welch's t-test of the
      same difference (``statistic`` is the Welch t, ``p_value`` uses the same standard error and
      Welch-Satterthwaite df as the interval, as ``scipy.stats.ttest_ind(equal_var=False)``), so
      an unadjusted p below 1 - level is the same as an interval excluding 0, and ``significant``
      (from the adjusted p) implies it. The Mann-Whitney p-value (normal approximation with tie
      and continuity corrections, as ``scipy.stats.mannwhitneyu(method="asymptotic")``, computed
      from the counts) is reported unadjusted as ``p_value_rank``: it tests whether one group's
      scores tend to be higher, which can be significant when the means hardly differ. Effect
      size Cliff's delta :math:`\delta = P(X_a > X_b) - P(X_a < X_b) = 2U_a/(n_a n_b) - 1`.

    The minimum detectable difference of each pair is stated at :math:`\alpha/m` (m pairs), the
    threshold of Holm's first step, and power ``power``: for proportions through Cohen's h (see
    :func:`minimum_detectable_difference`); for NPS and means as
    :math:`(z_{1-\alpha/(2m)} + z_{power})\,SE_0` with the pooled (null) standard error.

    The gap to the best group uses the pair's interval; note that the best group is chosen by the
    data, so its lead is slightly optimistic. The consistency range is likewise biased upwards by
    noise; ``expected_if_equal`` shows by how much.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"channel": ["chat"] * 100 + ["email"] * 100,
    ...                    "score": [5] * 85 + [2] * 15 + [5] * 60 + [2] * 40, "scale": "likert5"})
    >>> res = channel_gaps(df, target=80)
    >>> res.pairwise[["group_a", "group_b", "estimate"]]
      group_a group_b  estimate
    0    chat   email      25.0
    """
    spec = _spec(metric)
    by = _check_by("by", by)
    check_choice("correction", correction, list(CORRECTIONS))
    level = _check_level(level)
    check_range("power", power, 0, 1, inclusive=False)
    check_range("min_n", min_n, 0, None)
    check_range("n_boot", n_boot, 100, None)
    target, benchmark = _check_target_benchmark(target, benchmark)
    messages: list = []

    responses, table, sc = _clustered_table(responses, [by], spec, scale, satisfied, cluster, messages)
    values = _values(spec, sc)
    hib = _higher_is_better(spec, sc)
    all_groups = _all_groups(responses, table, by, groups)
    if not all_groups:
        raise InputError(
            f"The responses hold no answered {sc.name!r} scores and no groups in column {by!r}; nothing to compare."
        )
    est = _metric_table(table, spec, sc, by, level, min_n)
    est = est.set_index(by).reindex(pd.Index(all_groups, name=by)).reset_index()
    empty = est["n"].isna()
    est["metric"] = spec.name
    est.loc[empty, "n"] = 0
    est.loc[empty, "n_eff"] = 0.0
    est.loc[empty, "flag"] = "no_responses"
    for c in ("satisfied", "promoters", "passives", "detractors"):
        if c in est:
            est.loc[empty, c] = 0
    est["n"] = est["n"].astype(np.int64)
    if "satisfied" in est:
        est["satisfied"] = est["satisfied"].astype(np.int64)
    est["flag"] = est["flag"].fillna("").astype(str)
    if table.cluster:
        _borrow_single(est, table, spec, sc, values, by, level, min_n, messages)

    # counts per group (effective when weighted or clustered)
    raw = table.wide("n", keys=[by]).reindex(pd.Index(all_groups, name=by), fill_value=0).to_numpy(dtype=float)
    if table.weighted or table.cluster:
        wv = table.wide("w" if table.weighted else "n", keys=[by]).reindex(pd.Index(all_groups, name=by),
                                                                            fill_value=0).to_numpy(dtype=float)
        tot = wv.sum(1, keepdims=True)
        counts = np.where(tot > 0, wv / np.where(tot > 0, tot, 1), 0) * est["n_eff"].to_numpy(dtype=float)[:, None]
    else:
        counts = raw

    # order: best first, groups without responses last
    sign = 1.0 if hib else -1.0
    key = np.where(est["n"].to_numpy() > 0, -sign * est["estimate"].to_numpy(dtype=float), np.inf)
    order = np.argsort(key, kind="stable")
    est = est.iloc[order].reset_index(drop=True)
    counts = counts[order]
    eligible = (est["n"] > 0) & ~est["flag"].str.contains("small_n")
    rank = pd.array([pd.NA] * len(est), dtype="Int64")
    rank[eligible.to_numpy()] = np.arange(1, int(eligible.sum()) + 1)
    est["rank"] = rank
    est = est[[c for c in est.columns if c != "flag"] + ["flag"]]

    active = (est["n"] > 0).to_numpy()
    names = est[by].tolist()
    act_names = [g for g, a in zip(names, active) if a]
    nores = [g for g, a in zip(names, active) if not a]
    if nores:
        _warn(messages, f"{by} {', '.join(map(_label, nores))}: no responses; shown as such and left out of the tests.")
    small = est.loc[active & ~eligible.to_numpy(), by].tolist()
    if small:
        _warn(messages, f"{by} {', '.join(map(_label, small))}: fewer than {min_n:g} responses; "
                        "estimated and tested but not ranked.")
    if len(act_names) < 2:
        _warn(messages, f"Only one {by} ({', '.join(map(_label, act_names)) or 'none'}) has responses: "
                        "there is nothing to compare.")
    c_act = counts[active]

    omni = _omnibus(spec.kind, c_act, values)
    if omni["flag"] == "no_variation":
        _warn(messages, f"Every response falls in the same category across all {by} values "
                        f"(e.g. all satisfied): no gap is possible; tests report p = 1.")
    omnibus = pd.DataFrame([omni])

    pw = _pairwise_arrays(spec.kind, c_act, values, spec.factor, level, correction, power)
    pairwise = _pairwise_frame(pw, est[active].reset_index(drop=True), by, spec, level)
    gaps = _gaps_frame(est, pairwise, by, target, benchmark, hib, level)
    consistency = _consistency(est, counts, values, spec, eligible.to_numpy(), active, level, n_boot, seed)
    return GapResult(spec.name, by, spec.unit, est, omnibus, pairwise, gaps, consistency, target, benchmark,
                     correction, level, power, hib, messages, table, sc)


def _borrow_single(est: pd.DataFrame, table: ScoreTable, spec: _Spec, sc, values, by: str, level: float,
                   min_n: float, messages: list) -> None:
    """Groups served by a single cluster borrow the pooled design effect (in place on ``est``).

    A group whose responses come from one cluster has design effect 1 by construction (no
    between-cluster variance can be estimated), which would treat its responses as independent.
    Its ``n_eff`` becomes its unclustered effective n divided by :func:`_pooled_deff` (the design
    effect of the metric over all groups' responses pooled), which every test (pairwise, omnibus,
    consistency) then uses through the effective counts; flagged ``single_cluster``. For CSAT and
    the low-effort share the interval is filled in as csat computes clustered ones (Wilson on
    ``p n_eff`` of ``n_eff``); for NPS and means it stays NaN, as :func:`csatkit.metrics.nps` shows it.
    """
    nclu = _cluster_counts(table, by)
    nc = est[by].map(nclu).fillna(0).to_numpy(dtype=float)
    single = (est["n"].to_numpy() > 0) & (nc < 2)
    if not single.any():
        return
    pooled = _pooled_deff(table, values)
    idx = est.index[single]
    est.loc[idx, "n_eff"] = est.loc[idx, "n_eff"].to_numpy(dtype=float) / pooled
    if spec.kind == "proportion":
        p = est.loc[idx, "estimate"].to_numpy(dtype=float) / spec.factor
        ne = est.loc[idx, "n_eff"].to_numpy(dtype=float)
        lo, hi = proportion_ci(p * ne, ne, level=level)
        est.loc[idx, "ci_low"] = spec.factor * np.asarray(lo, dtype=float)
        est.loc[idx, "ci_high"] = spec.factor * np.asarray(hi, dtype=float)
        est.loc[idx, "se"] = spec.factor * np.sqrt(p * (1 - p) / ne)
        shown = ""
    else:
        shown = "; its own interval is not shown (NaN), as the metric functions show it for one cluster"
    small = est.loc[idx, "n_eff"].to_numpy(dtype=float) < min_n
    est.loc[idx, "flag"] = [_join_flags(f, "small_n" if sm else "", "single_cluster")
                            for f, sm in zip(est.loc[idx, "flag"], small)]
    _warn(messages, _single_cluster_message(est.loc[idx, by].tolist(), by, table.cluster, pooled, shown))


_PAIR_COLUMNS = ["group_a", "group_b", "estimate_a", "estimate_b", "n_a", "n_b", "estimate", "ci_low", "ci_high",
                 "se", "statistic", "p_value", "p_adj", "significant", "p_value_rank", "effect_size", "effect_measure", "magnitude",
                 "mdd", "alpha_mdd", "flag"]


def _pairwise_frame(pw: dict, est: pd.DataFrame, by: str, spec: _Spec, level: float) -> pd.DataFrame:
    i, j = pw["i"], pw["j"]
    if len(i) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("group_a", "group_b", "effect_measure", "magnitude",
                                                                "flag") else float) for c in _PAIR_COLUMNS})
    measure = _EFFECT[spec.kind]
    flags_g = est["flag"].to_numpy()
    out = pd.DataFrame({
        "group_a": est[by].to_numpy()[i],
        "group_b": est[by].to_numpy()[j],
        "estimate_a": est["estimate"].to_numpy()[i],
        "estimate_b": est["estimate"].to_numpy()[j],
        "n_a": est["n"].to_numpy()[i],
        "n_b": est["n"].to_numpy()[j],
        "estimate": pw["estimate"],
        "ci_low": pw["ci_low"],
        "ci_high": pw["ci_high"],
        "se": pw["se"],
        "statistic": pw["statistic"],
        "p_value": pw["p_value"],
        "p_adj": pw["p_adj"],
    })
    out["significant"] = out["p_adj"] < 1 - level
    out["p_value_rank"] = pw["p_value_rank"]
    out["effect_size"] = pw["effect_size"]
    out["effect_measure"] = measure
    out["magnitude"] = [_magnitude(e, measure) for e in out["effect_size"]]
    out["mdd"] = pw["mdd"]
    out["alpha_mdd"] = pw["alpha_mdd"]
    flags = []
    for a, b, se in zip(i, j, out["se"].to_numpy()):
        f = []
        if "small_n" in flags_g[a] or "small_n" in flags_g[b]:
            f.append("small_n")
        if not se > 0:
            f.append("no_variation")
        flags.append(";".join(f))
    out["flag"] = flags
    return out


def _gaps_frame(est, pairwise, by, target, benchmark, hib, level) -> pd.DataFrame:
    rows = []
    active = est[est["n"] > 0]
    ranked = est[est["rank"].notna()]
    best = ranked.iloc[0][by] if not ranked.empty else (active.iloc[0][by] if not active.empty else None)
    # the pairwise rows by (group_a, group_b), first occurrence
    pair_row: dict = {}
    for m, key in enumerate(zip(pairwise["group_a"], pairwise["group_b"])):
        pair_row.setdefault(key, m)
    pw_cols = {c: pairwise[c].to_numpy() for c in ("estimate", "ci_low", "ci_high", "significant", "flag")}
    cols = {c: active[c].to_numpy() for c in (by, "estimate", "ci_low", "ci_high", "flag")}
    for i in range(len(active)):
        r = {c: v[i] for c, v in cols.items()}
        g, e = r[by], float(r["estimate"])
        flag = r["flag"]
        if best is not None:
            if g == best:
                rows.append({by: g, "versus": "best", "reference": _label(best), "estimate": 0.0, "ci_low": 0.0,
                             "ci_high": 0.0, "significant": False, "status": "best", "flag": flag})
            else:
                m = pair_row.get((best, g))
                sgn = -1.0
                if m is None:
                    m = pair_row[(g, best)]
                    sgn = 1.0
                p = {c: v[m] for c, v in pw_cols.items()}
                d, lo, hi = sgn * p["estimate"], sgn * p["ci_low"], sgn * p["ci_high"]
                lo, hi = min(lo, hi), max(lo, hi)
                worse = (d < 0) if hib else (d > 0)
                status = ("significantly_worse" if worse else "significantly_better") if p["significant"] \
                    else "not_significantly_different"
                rows.append({by: g, "versus": "best", "reference": _label(best), "estimate": d, "ci_low": lo,
                             "ci_high": hi, "significant": bool(p["significant"]), "status": status,
                             "flag": _join_flags(flag, p["flag"])})
        if target is not None:
            lo, hi = r["ci_low"] - target, r["ci_high"] - target
            status = "above" if e > target else ("below" if e < target else "at")
            rows.append({by: g, "versus": "target", "reference": f"target {target:g}", "estimate": e - target,
                         "ci_low": lo, "ci_high": hi, "significant": bool(lo > 0 or hi < 0), "status": status,
                         "flag": flag})
        if benchmark is not None:
            blo, bhi = benchmark
            if e < blo:
                d, lo, hi, status = e - blo, r["ci_low"] - blo, r["ci_high"] - blo, "below_band"
                sig = r["ci_high"] < blo
            elif e > bhi:
                d, lo, hi, status = e - bhi, r["ci_low"] - bhi, r["ci_high"] - bhi, "above_band"
                sig = r["ci_low"] > bhi
            else:
                d, lo, hi, status, sig = 0.0, min(0.0, r["ci_low"] - blo), max(0.0, r["ci_high"] - bhi), \
                    "within_band", False
            rows.append({by: g, "versus": "benchmark", "reference": f"band {blo:g}-{bhi:g}", "estimate": d,
                         "ci_low": lo, "ci_high": hi, "significant": bool(sig), "status": status, "flag": flag})
    cols = [by, "versus", "reference", "estimate", "ci_low", "ci_high", "significant", "status", "flag"]
    return pd.DataFrame(rows, columns=cols)


def _consistency(est, counts, values, spec, eligible, active, level, n_boot, seed) -> pd.DataFrame:
    use = eligible if eligible.sum() >= 2 else active
    flag = "" if eligible.sum() >= 2 else ("small_n" if active.sum() >= 2 else "single_group")
    cols = ["statistic", "estimate", "ci_low", "ci_high", "expected_if_equal", "groups", "flag"]
    k = int(use.sum())
    if k < 2:
        return pd.DataFrame([[s, 0.0, 0.0, 0.0, 0.0, k, flag] for s in ("range", "sd")], columns=cols)
    e = est["estimate"].to_numpy(dtype=float)[use]
    c = counts[use]
    rng = np.random.default_rng(seed)
    n_int = np.maximum(np.rint(c.sum(1)).astype(np.int64), 1)
    shares = c / c.sum(1, keepdims=True)
    pooled = c.sum(0) / c.sum()

    def draw(probs_rows):
        sims = np.empty((int(n_boot), k))
        for g in range(k):
            d = rng.multinomial(n_int[g], probs_rows[g], size=int(n_boot))
            sims[:, g] = spec.factor * (d @ values) / n_int[g]
        return sims

    boot = draw(shares)
    null = draw(np.broadcast_to(pooled, c.shape))
    alpha = 1 - level
    out = []
    for name, f in (("range", lambda a: a.max(-1) - a.min(-1)), ("sd", lambda a: a.std(-1, ddof=1))):
        b = f(boot)
        out.append([name, float(f(e[None, :])[0]), float(np.quantile(b, alpha / 2)),
                    float(np.quantile(b, 1 - alpha / 2)), float(f(null).mean()), k, flag])
    return pd.DataFrame(out, columns=cols)


def _gap_findings(res: GapResult) -> list[str]:
    out = []
    by, unit = res.by, res.unit
    digits = 1 if res.unit == "points" else 2
    est = res.estimates
    active = est[est["n"] > 0]
    if len(active) < 2:
        only = ", ".join(map(_label, active[by])) or "no group"
        out.append(f"Only {only} has {res.metric} responses, so there are no {by} gaps to test.")
        return out
    om = res.omnibus.iloc[0]
    hi, lo = active.iloc[0], active.iloc[-1]
    test = "chi-square" if om["test"] == "chi_square" else "Kruskal-Wallis"
    verdict = "significant" if om["p_value"] < 1 - res.level else "not significant"
    out.append(
        f"Across {len(active)} {by} values, {res.metric} ranges from {_fmt(lo['estimate'], digits)} ({_label(lo[by])}) "
        f"to {_fmt(hi['estimate'], digits)} ({_label(hi[by])}); the differences are {verdict} overall "
        f"({test} = {_fmt(om['statistic'], 2)}, df {om['df']:.0f}, {_fmt_p(om['p_value'])})."
    )
    pw = res.pairwise
    sig = pw[pw["significant"]]
    adj = _CORRECTION_NAMES[res.correction]
    for _, p in sig.sort_values("p_adj").head(5).iterrows():
        out.append(
            f"{_label(p['group_a'])} is ahead of {_label(p['group_b'])} by {_fmt(p['estimate'], digits)} {unit} "
            f"({res.level:.0%} CI {_fmt(p['ci_low'], digits)} to {_fmt(p['ci_high'], digits)}; {adj}-adjusted "
            f"{_fmt_p(p['p_adj'])}; {_MEASURE_NAMES.get(p['effect_measure'], p['effect_measure'])} "
            f"{_fmt(p['effect_size'], 2)}, "
            f"{p['magnitude']})."
        )
    if len(sig) > 5:
        out.append(f"{len(sig) - 5} further pairs differ significantly (see the pairwise table).")
    nonsig = pw[~pw["significant"]]
    if len(nonsig):
        lo_m, hi_m = nonsig["mdd"].min(), nonsig["mdd"].max()
        span = _fmt(lo_m, digits) if _fmt(lo_m, digits) == _fmt(hi_m, digits) else \
            f"{_fmt(lo_m, digits)} to {_fmt(hi_m, digits)}"
        verb = "pair shows" if len(nonsig) == 1 else "pairs show"
        if np.isfinite(lo_m):
            out.append(
                f"{len(nonsig)} of {len(pw)} {verb} no significant gap; at these sample sizes only gaps of {span} "
                f"{unit} or more would be detected with {res.power:.0%} power, so smaller real gaps may exist."
            )
        else:
            out.append(f"{len(nonsig)} of {len(pw)} {verb} no significant gap.")
    if res.target is not None:
        g = res.gaps[res.gaps["versus"] == "target"]
        below = g[(g["status"] == "below") & g["significant"]]
        above = g[(g["status"] == "above") & g["significant"]]
        if res.higher_is_better:
            if len(below):
                out.append(f"Clearly below the target of {res.target:g}: {', '.join(map(_label, below[by]))}.")
            if len(above):
                out.append(f"Clearly above the target of {res.target:g}: {', '.join(map(_label, above[by]))}.")
    if res.benchmark is not None:
        g = res.gaps[res.gaps["versus"] == "benchmark"]
        lo_b, hi_b = res.benchmark
        parts = []
        for status, word in (("below_band", "below"), ("within_band", "within"), ("above_band", "above")):
            names = g.loc[g["status"] == status, by]
            if len(names):
                parts.append(f"{word}: {', '.join(map(_label, names))}")
        if parts:
            out.append(f"Against the {lo_b:g}-{hi_b:g} benchmark band, " + "; ".join(parts) + ".")
    cons = res.consistency[res.consistency["statistic"] == "range"].iloc[0]
    out.append(
        f"Consistency: the best-to-worst range is {_fmt(cons['estimate'], digits)} {unit} ({res.level:.0%} CI "
        f"{_fmt(cons['ci_low'], digits)} to {_fmt(cons['ci_high'], digits)}); equal {by} values would show about "
        f"{_fmt(cons['expected_if_equal'], digits)} by chance at these sample sizes."
    )
    return out


# ---------------------------------------------------------------------------------------------
# mix-adjusted gaps
# ---------------------------------------------------------------------------------------------


def _pooled_deff(table: ScoreTable, values: np.ndarray) -> float:
    """Design effect of the metric over all groups' responses pooled, clusters as units (at least 1).

    :func:`csatkit.intervals.design_effect` on the table's cluster x scale-point counts (summed over
    every group); what a group served by a single cluster borrows (see :func:`_borrow_single`).
    """
    if not table.cluster or table.counts.empty:
        return 1.0
    keys = [table.cluster]
    cn = table.wide("n", keys=keys)
    if table.weighted:
        cw = table.wide("w", keys=keys).reindex(index=cn.index, fill_value=0).to_numpy(dtype=float)
        cw2 = table.wide("w2", keys=keys).reindex(index=cn.index, fill_value=0).to_numpy(dtype=float)
        d = design_effect(values, cn.to_numpy(dtype=float), cw, cw2)
    else:
        d = design_effect(values, cn.to_numpy(dtype=float))
    deff = float(d["deff"])
    return max(deff, 1.0) if np.isfinite(deff) else 1.0


def _cluster_counts(table: ScoreTable, by: str) -> pd.Series:
    """Clusters with at least one response, per group of ``by`` (empty without a cluster key)."""
    if not table.cluster or table.counts.empty:
        return pd.Series(dtype=float)
    c = table.counts[table.counts["n"] > 0]
    return c.groupby(by, observed=True, sort=False)[table.cluster].nunique()


def _single_cluster_message(names, by: str, cluster, deff: float, shown: str = "") -> str:
    return (f"{by} {', '.join(map(_label, names))}: all responses come from a single {cluster!r} value, and one "
            f"agent cannot show within-{by} clustering, so the design effect ({deff:.2f}) is borrowed from all "
            f"{by} values pooled: n_eff = n / {deff:.2f} in every test and interval (flagged single_cluster)"
            f"{shown}.")


def _group_deffs(table: ScoreTable, by: str, sc) -> pd.DataFrame | None:
    """Per group of ``by`` (the index): ``n``, ``n_eff``, ``deff``, ``n_clusters``, ``single_cluster`` (CSAT share).

    Computed by :mod:`csatkit.metrics` (``_group_stats``, the design effect of
    :func:`csatkit.intervals.design_effect`); None when the table keeps no cluster key. A group with
    responses from fewer than 2 clusters (whose own design effect is 1 by construction) borrows the
    design effect of all groups' responses pooled (:func:`_pooled_deff`), ``single_cluster`` True.
    """
    if not table.cluster or table.counts.empty:
        return None
    values = sc.is_satisfied(list(sc.points)).astype(float)
    keys, st = _group_stats(table if list(table.by) == [by] else table.collapse([by]), values)
    deff, n_eff = st["deff"].astype(float).copy(), st["n_eff"].astype(float).copy()
    single = (st["n"] > 0) & ~(st["n_clusters"] >= 2)
    if single.any():
        pooled = _pooled_deff(table, values)
        n_eff[single] = n_eff[single] * deff[single] / pooled
        deff[single] = pooled
    return pd.DataFrame({"n": st["n"].astype(np.int64), "n_eff": n_eff, "deff": deff,
                         "n_clusters": st["n_clusters"], "single_cluster": single},
                        index=pd.Index(keys[by].to_numpy(), name=by))


def _design_effects(table: ScoreTable, by: str, sc, groups: list, base: pd.DataFrame | None = None,
                    messages: list | None = None):
    """Each group's design effect for its CSAT share (see :func:`_group_deffs`; ``base``: its result).

    Returns ``(deff, frame)``: the design effects in the order of ``groups`` (1 for groups without
    responses, and for every group when the table keeps no cluster key), and a table of ``by``,
    ``n``, ``n_eff``, ``deff``, ``n_clusters``, ``single_cluster`` (None without a cluster key).
    These are the same design effects :func:`channel_gaps` divides each group's counts by (through
    ``n_eff``), including the pooled one borrowed by a group served by a single cluster (said in
    ``messages`` when given).
    """
    frame = _group_deffs(table, by, sc) if base is None else base
    if frame is None:
        return np.ones(len(groups)), None
    frame = frame.reindex(pd.Index(groups, name=by))
    frame["n"] = frame["n"].fillna(0).astype(np.int64)
    frame["n_eff"] = frame["n_eff"].fillna(0.0)
    frame["deff"] = frame["deff"].fillna(1.0)
    frame["single_cluster"] = frame["single_cluster"].fillna(False).astype(bool)
    single = frame.index[frame["single_cluster"].to_numpy()].tolist()
    if single and messages is not None:
        _warn(messages, _single_cluster_message(single, by, table.cluster, float(frame.loc[single[0], "deff"])))
    return frame["deff"].to_numpy(dtype=float), frame.reset_index()


def _cluster_flags(frame: pd.DataFrame | None, groups: list) -> list:
    """Per group: ``single_cluster`` and / or ``few_clusters`` (fewer than FEW_CLUSTERS clusters), as csat flags."""
    if frame is None:
        return [""] * len(groups)
    f = frame.set_index(frame.columns[0])
    out = []
    for g in groups:
        if g not in f.index or f.loc[g, "n"] <= 0:
            out.append("")
            continue
        nc = f.loc[g, "n_clusters"]
        out.append(_join_flags("few_clusters" if np.isfinite(nc) and nc < FEW_CLUSTERS else "",
                               "single_cluster" if f.loc[g, "single_cluster"] else ""))
    return out


def _cluster_rows(responses, cluster, messages: list):
    """``(responses, cluster)`` for every entry point that takes a cluster key.

    A cluster column that is absent leaves the analysis unclustered, with a message; responses
    without a cluster value each count as their own cluster (as they do in the model), said by
    :func:`_note_missing_clusters` once the table is counted.
    """
    if cluster is None:
        return responses, None
    if isinstance(responses, ScoreTable):
        if responses.cluster == cluster:
            return responses, cluster
        if responses.cluster is None:
            _warn(messages, f"The score table keeps no cluster key {cluster!r}: tests and intervals (and any "
                            "model's standard errors) treat responses as independent (too narrow when agents "
                            "differ).")
            return responses, None
        return responses, cluster  # a different key: _load_table says so
    if not isinstance(responses, pd.DataFrame) or cluster not in responses.columns:
        _warn(messages, f"No usable cluster column {cluster!r}: tests and intervals (and any model's standard "
                        "errors) treat responses as independent (too narrow when agents differ).")
        return responses, None
    miss = responses[cluster].isna()
    if miss.any():
        fill = pd.Series([f"{_NO_CLUSTER}{i}" for i in range(int(miss.sum()))], index=responses.index[miss],
                         dtype=object)
        responses = responses.assign(**{cluster: responses[cluster].astype(str).astype(object).where(~miss, fill)})
    return responses, cluster


def _clustered_table(responses, keys: list, spec: _Spec, scale, satisfied, cluster, messages: list,
                     unweighted_for: str | None = None):
    """``(rows, table, scale)`` for an entry point with a cluster key: :func:`_cluster_rows`, then the
    score table, refused when weighted and clustered for ``unweighted_for``, and the note on
    responses without a cluster value."""
    rows, cluster = _cluster_rows(responses, cluster, messages)
    table, sc = _load_table(rows, keys, spec, scale, satisfied, cluster=cluster)
    if unweighted_for:
        _check_unweighted_clustered(table, unweighted_for)
    if rows is not responses:
        _note_missing_clusters(table, messages)
    return rows, table, sc


#: Prefix of the cluster value given to each response without one (it is its own cluster).
_NO_CLUSTER = "\x00no-cluster-"


def _note_missing_clusters(table: ScoreTable, messages: list) -> None:
    """Say how many counted responses had no cluster value (see :func:`_cluster_rows`)."""
    if not table.cluster:
        return
    c = table.counts
    own = c[table.cluster].astype(str).str.startswith(_NO_CLUSTER).to_numpy(dtype=bool)
    if own.any():
        _warn(messages, f"{int(c.loc[own, 'n'].sum())} responses have no {table.cluster!r}; each counts as its own "
                        "cluster.")


def _cell_counts(table: ScoreTable, sc, by: str, reason: str, groups: list, reasons: list):
    """Responses (N) and satisfied (X) per group x reason (arrays groups x reasons; zeros where none)."""
    c = table.counts
    n = c["n"].to_numpy(dtype=float)
    x = np.where(sc.is_satisfied(c["score"].to_numpy()), n, 0.0)
    gi = pd.Index(list(groups), dtype=object).get_indexer(c[by].to_numpy(dtype=object))
    ri = pd.Index(list(reasons), dtype=object).get_indexer(c[reason].to_numpy(dtype=object))
    ok = (gi >= 0) & (ri >= 0)
    cell = gi[ok] * len(reasons) + ri[ok]
    size, shape = len(groups) * len(reasons), (len(groups), len(reasons))
    n_ = np.bincount(cell, weights=n[ok], minlength=size).reshape(shape)
    x_ = np.bincount(cell, weights=x[ok], minlength=size).reshape(shape)
    return n_, x_


@dataclass
class GapDecomposition:
    r"""Mix / performance decomposition of the raw gap between two groups (Kitagawa 1955; Das Gupta 1993).

    With :math:`s_{gr}` the share of reason r among group g's responses and :math:`p_{gr}` the CSAT
    of group g for reason r, the raw gap :math:`\sum_r s_{ar}p_{ar} - \sum_r s_{br}p_{br}` is split
    per reason into

    .. math:: \text{mix}_r = (s_{ar} - s_{br})\,\frac{p_{ar} + p_{br}}{2}, \qquad
              \text{performance}_r = (p_{ar} - p_{br})\,\frac{s_{ar} + s_{br}}{2}

    which add up exactly to the raw gap. A reason answered in one group only has no rate in the
    other; its contribution counts as mix (the missing rate is set to the observed one, so its
    performance part is 0), flagged ``only_in_a`` / ``only_in_b``.

    Attributes
    ----------
    table : DataFrame
        Per reason: the reason, ``n_a``, ``n_b``, ``share_a``, ``share_b`` (% of the group's
        responses), ``rate_a``, ``rate_b`` (CSAT %, NaN where the group has no response for the
        reason), ``mix``, ``performance``, ``total`` (points), ``flag``.
    totals : DataFrame
        ``component`` ("raw_gap", "mix", "performance"), ``estimate``, ``ci_low``, ``ci_high``
        (raw gap: Newcombe; parts: percentile bootstrap redrawing both groups' reason x satisfied
        counts), ``se`` (bootstrap standard deviation).
    deff_a, deff_b : float
        The two groups' design effects (1 without a cluster key; a group served by one cluster
        borrows the pooled one, see :func:`mix_adjusted_gaps`). With a cluster key, each group's
        counts are divided by its design effect for the raw gap's interval (Rao & Scott's 1981
        first-order correction). The bootstrap then redraws the reason counts from a multinomial
        with the real total (the reason shares are not clustered) and, within each reason, the
        satisfied count from a binomial of :math:`\mathrm{round}(n_r/\mathrm{deff})` responses
        (at least 1) at the observed rate, so the design effect widens the rates' part of the
        variance only (without a cluster key, the reason x satisfied counts are redrawn from one
        multinomial). The point values use the real counts. With clusters the mix part's interval
        is conservative: an agent's effect, common to all reasons, largely cancels in the mix part,
        yet the rates are redrawn with the channel's whole design effect (a simulation with 12
        agents per channel covered the true mix part 99% of the time at the 95% level; the
        performance part 94.5%).
    """

    a: object
    b: object
    by: str
    reason: str
    estimate_a: float
    estimate_b: float
    table: pd.DataFrame
    totals: pd.DataFrame
    level: float
    messages: list = field(default_factory=list)
    deff_a: float = 1.0
    deff_b: float = 1.0

    @property
    def raw_gap(self) -> float:
        return float(self.totals.loc[self.totals["component"] == "raw_gap", "estimate"].iloc[0])

    @property
    def mix(self) -> float:
        return float(self.totals.loc[self.totals["component"] == "mix", "estimate"].iloc[0])

    @property
    def performance(self) -> float:
        return float(self.totals.loc[self.totals["component"] == "performance", "estimate"].iloc[0])

    def findings(self) -> list[str]:
        t = self.totals.set_index("component")
        a, b = _label(self.a), _label(self.b)
        mix, perf, raw = t.loc["mix"], t.loc["performance"], t.loc["raw_gap"]
        lv = f"{self.level:.0%} CI"
        return [
            f"The raw CSAT gap between {a} ({_fmt(self.estimate_a)}) and {b} ({_fmt(self.estimate_b)}) is "
            f"{_fmt(raw['estimate'])} points: {_fmt(mix['estimate'])} from the contact-reason mix ({lv} "
            f"{_fmt(mix['ci_low'])} to {_fmt(mix['ci_high'])}) and {_fmt(perf['estimate'])} from performance within "
            f"reasons ({lv} {_fmt(perf['ci_low'])} to {_fmt(perf['ci_high'])})."
        ]

    def summary(self) -> str:
        lines = [f"Decomposition of the CSAT gap {_label(self.a)} - {_label(self.b)} by {self.reason}"]
        lines += [f"- {f}" for f in self.findings()]
        lines += ["", _text_table(self.totals), "", _text_table(self.table)]
        return "\n".join(lines)

    def _html_title(self) -> str:
        return f"Gap decomposition {_label(self.a)} - {_label(self.b)}"

    def _html_tables(self) -> list:
        return [("Totals", self.totals), (f"By {self.reason}", self.table)]

    def _repr_html_(self) -> str:
        return _html(self._html_title(), self.findings(), self._html_tables())


def _decompose_arrays(xa, na, xb, nb):
    """Kitagawa parts per reason (proportions); arrays (..., R)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        sa = na / na.sum(-1, keepdims=True)
        sb = nb / nb.sum(-1, keepdims=True)
        pa = np.where(na > 0, xa / na, np.nan)
        pb = np.where(nb > 0, xb / nb, np.nan)
    pa_f = np.where(na > 0, pa, np.where(nb > 0, pb, 0.0))
    pb_f = np.where(nb > 0, pb, pa_f)
    mix = (sa - sb) * (pa_f + pb_f) / 2
    perf = (pa_f - pb_f) * (sa + sb) / 2
    return mix, perf, sa, sb, pa, pb


def _decompose(a, b, na, xa, nb, xb, reasons, by, reason, level, n_boot, seed, deff_a=1.0,
               deff_b=1.0) -> GapDecomposition:
    messages: list = []
    if na.sum() <= 0 or nb.sum() <= 0:
        which = a if na.sum() <= 0 else b
        raise InputError(f"{by} {which!r} has no responses, so its CSAT gap cannot be decomposed.")
    mix, perf, sa, sb, pa, pb = _decompose_arrays(xa, na, xb, nb)
    flags = np.where((na > 0) & (nb == 0), "only_in_a", np.where((nb > 0) & (na == 0), "only_in_b", ""))
    keep = (na > 0) | (nb > 0)
    table = pd.DataFrame({
        reason: np.asarray(reasons, dtype=object), "n_a": na.astype(np.int64), "n_b": nb.astype(np.int64),
        "share_a": 100 * sa, "share_b": 100 * sb, "rate_a": 100 * pa, "rate_b": 100 * pb,
        "mix": 100 * mix, "performance": 100 * perf, "total": 100 * (mix + perf), "flag": flags,
    })[keep].reset_index(drop=True)
    only = table.loc[table["flag"] != "", reason].tolist()
    if only:
        _warn(messages, f"{reason} {', '.join(map(_label, only))}: answered by only one of {a!r} and {b!r}; "
                        "the contribution counts as mix.")
    raw = 100 * (xa.sum() / na.sum() - xb.sum() / nb.sum())
    # inference on effective counts: each group's counts divided by its design effect (1 unclustered)
    pair = _two_proportions(xa.sum() / deff_a, na.sum() / deff_a, xb.sum() / deff_b, nb.sum() / deff_b, level)
    # bootstrap, per group. Unclustered (deff 1): redraw the reason x {satisfied, not} counts from a
    # multinomial with the real total. Clustered: the reason shares are not clustered, so the reason
    # counts are redrawn from a multinomial with the real total; within each reason, the satisfied
    # count is drawn from a binomial with the effective size round(n_r / deff) (at least 1; n_r the
    # redrawn count) and the observed rate, so only the rates carry the design effect.
    rng = np.random.default_rng(seed)
    B = int(n_boot)
    r = len(reasons)

    def draw(x, n, deff):
        total = max(int(round(n.sum())), 1)
        if not deff > 1:
            probs = np.concatenate([x, n - x]) / n.sum()
            d = rng.multinomial(total, probs, size=B).astype(float)
            return d[:, :r], d[:, :r] + d[:, r:]
        bn = rng.multinomial(total, n / n.sum(), size=B).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(n > 0, x / np.where(n > 0, n, 1), 0.0)
        m = np.maximum(np.rint(bn / deff), 1.0)
        bx = rng.binomial(m.astype(np.int64), np.broadcast_to(rate, m.shape)) / m * bn
        return bx, bn

    bxa, bna = draw(xa, na, deff_a)
    bxb, bnb = draw(xb, nb, deff_b)
    bmix, bperf, *_ = _decompose_arrays(bxa, bna, bxb, bnb)
    bmix, bperf = 100 * bmix.sum(-1), 100 * bperf.sum(-1)
    alpha = 1 - level
    totals = pd.DataFrame({
        "component": ["raw_gap", "mix", "performance"],
        "estimate": [raw, float(table["mix"].sum()), float(table["performance"].sum())],
        "ci_low": [100 * float(pair["ci_low"]), np.quantile(bmix, alpha / 2), np.quantile(bperf, alpha / 2)],
        "ci_high": [100 * float(pair["ci_high"]), np.quantile(bmix, 1 - alpha / 2), np.quantile(bperf, 1 - alpha / 2)],
        "se": [100 * float(pair["se"]), bmix.std(ddof=1), bperf.std(ddof=1)],
    })
    return GapDecomposition(a, b, by, reason, 100 * xa.sum() / na.sum(), 100 * xb.sum() / nb.sum(), table, totals,
                            level, messages, float(deff_a), float(deff_b))


@dataclass
class MixResult:
    """CSAT per group adjusted for the contact-reason mix.

    Attributes
    ----------
    estimates : DataFrame
        Long table: the group key, ``method`` ("raw": all responses; "standardised": direct
        standardisation to the reference mix; "model": predictive margin of the logistic regression),
        ``metric`` ("csat"), ``estimate``, ``ci_low``, ``ci_high``, ``se``, ``n`` (responses),
        ``n_eff`` (the responses divided by the group's design effect when a cluster key is used,
        else n; NaN for the model, whose standard errors are cluster-robust instead), ``flag``.
    gaps : DataFrame
        Long table, one row per pair (the group with the higher raw CSAT first) and method:
        ``group_a``, ``group_b``, ``method``, ``estimate`` (a - b, points), ``ci_low``, ``ci_high``,
        ``se``, ``p_value``, ``p_adj`` (adjusted within each method), ``significant``, ``flag``.
    weights : DataFrame
        The reference mix: the reason, ``n`` (responses overall), ``weight`` (share, 0-1; 0 outside
        the common support), ``in_support`` (the reason has responses in every group).
    decomposition : GapDecomposition or None
        The decomposition of the largest raw gap between groups with at least ``min_n`` responses.
    model : statsmodels GLMResults or None
        The logistic regression (columns of its design: ``model_columns``), fitted on the counts
        per distinct (group, reason, controls, cluster, satisfied) cell with ``freq_weights``:
        its ``nobs`` is the number of such cells, ``wnobs`` the number of responses. The tables
        come from the same fit by csatkit's IRLS (:func:`csatkit._dist.logit_fit`, equal to
        statsmodels' to rounding); the statsmodels result is built the first time it is asked for.
    cluster : str or None
        The cluster key every inference used (None: responses treated as independent).
    design_effects : DataFrame or None
        With a cluster key, per group: ``n``, ``n_eff``, ``deff``, ``n_clusters`` (as
        :func:`csatkit.metrics.csat` computes them for the group's CSAT).
    """

    by: str
    reason: str
    reference_mix: object
    estimates: pd.DataFrame
    gaps: pd.DataFrame
    weights: pd.DataFrame
    decomposition: GapDecomposition | None
    _model: object = field(repr=False)
    model_columns: list
    level: float
    correction: str
    messages: list = field(default_factory=list)
    table: ScoreTable | None = field(default=None, repr=False)
    scale: object = field(default=None, repr=False)
    _cells: tuple = field(default=None, repr=False)
    _seed: object = field(default=None, repr=False)
    _n_boot: int = field(default=1000, repr=False)
    cluster: str | None = None
    design_effects: pd.DataFrame | None = None

    @property
    def model(self):
        """The logistic regression's statsmodels ``GLMResults`` (None when no model was fitted)."""
        return None if self._model is None else self._model.results()

    def decompose(self, a, b, *, n_boot: int | None = None, seed=None) -> GapDecomposition:
        """Mix / performance decomposition of the raw CSAT gap a - b (see :class:`GapDecomposition`)."""
        groups, reasons, n_, x_, deff = self._cells
        for g in (a, b):
            if g not in groups:
                raise ParameterError(f"{self.by} {g!r} is not in the data; groups present: {groups}.")
        ia, ib = groups.index(a), groups.index(b)
        return _decompose(a, b, n_[ia], x_[ia], n_[ib], x_[ib], reasons, self.by, self.reason, self.level,
                          n_boot or self._n_boot, self._seed if seed is None else seed, deff[ia], deff[ib])

    def findings(self) -> list[str]:
        return _mix_findings(self)

    def summary(self) -> str:
        lines = [f"Mix-adjusted CSAT by {self.by} (reference mix: {self.reference_mix})"]
        lines += [f"- {f}" for f in self.findings()]
        lines += ["", _text_table(self.estimates), "", _text_table(self.gaps)]
        if self.decomposition is not None:
            lines += ["", self.decomposition.summary()]
        return "\n".join(lines)

    def _html_title(self) -> str:
        return f"Mix-adjusted CSAT by {self.by}"

    def _html_tables(self) -> list:
        secs = [("Estimates", self.estimates), ("Gaps", self.gaps), ("Reference mix", self.weights)]
        if self.design_effects is not None:
            secs.append((f"Design effects (cluster: {self.cluster})", self.design_effects))
        if self.decomposition is not None:
            secs += [("Decomposition", self.decomposition.totals),
                     ("Decomposition by reason", self.decomposition.table)]
        return secs

    def _repr_html_(self) -> str:
        return _html(self._html_title(), self.findings(), self._html_tables())


def _reference_weights(reference_mix, n_, groups, reasons, support, by, messages) -> np.ndarray:
    w = np.zeros(len(reasons))
    if isinstance(reference_mix, str) and reference_mix == "overall":
        w[support] = n_[:, support].sum(0)
    elif isinstance(reference_mix, (dict, pd.Series)):
        given = dict(reference_mix)
        unknown = [r for r in given if r not in reasons]
        if unknown:
            raise ParameterError(
                f"The value for `reference_mix` names reasons {unknown} that are not in the data; reasons present: "
                f"{reasons}."
            )
        for r, v in given.items():
            check_range(f"reference_mix[{r!r}]", v, 0, None)
            idx = reasons.index(r)
            if support[idx]:
                w[idx] = float(v)
            elif float(v) > 0:
                _warn(messages, f"Reason {r!r} of the reference mix is not answered in every {by}; it is left out.")
    elif reference_mix in groups:
        g = groups.index(reference_mix)
        if n_[g].sum() <= 0:
            raise ParameterError(f"The reference {by} {reference_mix!r} has no responses; choose another.")
        w[support] = n_[g, support]
    else:
        raise ParameterError(
            f"The value for `reference_mix` must be 'overall', one of the {by} values {groups}, or a mapping "
            f"reason -> weight, but {reference_mix!r} was passed."
        )
    if w.sum() <= 0:
        raise ParameterError(
            f"The reference mix {reference_mix!r} puts no weight on the reasons answered in every {by}."
        )
    return w / w.sum()


def _standardise(n_, x_, w, level, deff):
    """Directly standardised rates (proportions) with MOVER-Wilson limits; rows = groups.

    The rates come from the real counts; the variance and the Wilson limits of each stratum from the
    effective counts (each group's counts divided by its design effect ``deff``, 1 unclustered).
    """
    sup = w > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n_ > 0, x_ / n_, 0.0)
    ne, xe = n_ / deff[:, None], x_ / deff[:, None]
    lo = np.zeros_like(p)
    hi = np.zeros_like(p)
    ok = n_ > 0
    lo[ok], hi[ok] = proportion_ci(xe[ok], ne[ok], level=level)
    est = (p * w).sum(1)
    var = (w**2 * np.where(ok, p * (1 - p) / np.where(ok, ne, 1), 0.0) * sup).sum(1)
    dl = (w**2 * (p - lo) ** 2 * sup).sum(1)
    du = (w**2 * (hi - p) ** 2 * sup).sum(1)
    return est, var, dl, du, p


def _check_unweighted_clustered(table: ScoreTable, where: str) -> None:
    """Refuse a weighted and clustered score table: the reason x group counts would ignore the weights
    while the design effect used them (a weighted design effect applied to unweighted estimates)."""
    if table.weighted and table.cluster:
        raise ParameterError(
            f"{where} got a weighted score table with cluster key {table.cluster!r}: the mix adjustment works on "
            "response counts and does not support survey weights, so its estimates would ignore the weights while "
            "the design effect used them. Pass the response rows, or a score table tabulated without `weight`."
        )


def _check_mix_args(by, reason, correction, level, min_n, n_boot):
    by = _check_by("by", by)
    reason = _check_by("reason", reason)
    if by == reason:
        raise ParameterError(f"`by` and `reason` must be different columns, but both are {by!r}.")
    check_choice("correction", correction, list(CORRECTIONS))
    level = _check_level(level)
    check_range("min_n", min_n, 0, None)
    check_range("n_boot", n_boot, 100, None)
    return by, reason, level


def mix_adjusted_gaps(responses, *, by: str = "channel", reason: str = "contact_reason",
                      reference_mix="overall", scale=None, satisfied=None, controls=None,
                      cluster: str | None = "agent_id", model: bool = True, level: float = 0.95,
                      correction: str = "holm", min_n: int = MIN_N, groups=None, n_boot: int = 1000,
                      seed=None) -> MixResult:
    r"""CSAT per channel adjusted for the contact-reason mix: standardised, model-based, decomposed.

    Parameters
    ----------
    responses : DataFrame or ScoreTable
        Rows in the canonical schema (needed for the model), or a score table grouped by
        ``[by, reason]`` (then the model is skipped).
    by, reason : str
        The grouping column and the contact-reason column.
    reference_mix : "overall", a group name, or mapping reason -> weight
        The common mix: the reasons' shares among all responses, a named channel's own mix
        ("how would every channel score on phone's mix?"), or explicit weights.
    controls : list of str, optional
        Extra categorical controls for the model (e.g. ``["team"]``). Controls collinear with
        ``by`` (a team nested in a channel) would absorb the channel gap; they are dropped with a
        message.
    cluster : str, optional
        Cluster key of every test and interval (default ``"agent_id"``): the raw and standardised
        figures, the decomposition and the model's standard errors (see Notes). When the column is
        absent, everything treats responses as independent and a message says so; ``None`` asks
        for no clustering.
    model : bool
        Fit the logistic regression.

    Returns
    -------
    MixResult

    Notes
    -----
    **Direct standardisation** over the reasons answered in every group (the common support; other
    reasons are listed in ``messages``), with reference weights :math:`w_r`:

    .. math:: \mathrm{CSAT}^{std}_g = \sum_r w_r\,\hat p_{gr}, \qquad
              \widehat V = \sum_r w_r^2\,\hat p_{gr}(1-\hat p_{gr})/n_{gr}

    The interval is the MOVER-Wilson interval (Zou & Donner 2008): :math:`L = \hat\theta -
    \sqrt{\sum_r w_r^2(\hat p_{gr} - l_{gr})^2}`, :math:`U = \hat\theta + \sqrt{\sum_r w_r^2(u_{gr} -
    \hat p_{gr})^2}` with :math:`(l, u)` the Wilson limits of each stratum, the same construction
    as Newcombe's interval for a difference, and valid for strata at 0% or 100%. A difference of
    two standardised rates is tested with the stratum-pooled variance
    :math:`\sum_r w_r^2 \bar p_r(1-\bar p_r)(1/n_{ar} + 1/n_{br})`.

    **Clustered responses** (``cluster`` given): every test and interval of the raw and
    standardised figures and of the decomposition uses the first-order Rao & Scott (1981)
    correction with each group's design effect :math:`d_g` (the same design effect
    :func:`channel_gaps` and :func:`csatkit.metrics.csat` use, computed for the group's CSAT over
    all its responses): the group's counts :math:`n_{gr}` and satisfied counts :math:`x_{gr}` are
    replaced by :math:`n_{gr}/d_g` and :math:`x_{gr}/d_g` in the Wilson limits, the variances, the
    pooled z-tests, and the within-reason rates of the decomposition's bootstrap (its reason
    shares are redrawn from the real counts, see :class:`GapDecomposition`). Point estimates,
    weights and the displayed ``n`` use the real counts; ``n_eff`` shows the effective ones. The
    raw gaps are then exactly :func:`channel_gaps`' pairwise CSAT comparisons with the same
    ``cluster``. Responses without a cluster value each count as their own cluster (a message says
    how many). A group whose responses all come from a single cluster (one agent) cannot show
    within-group clustering (its own design effect would be 1): it borrows the design effect of
    all groups' responses pooled, :math:`n/d_{pooled}` serves as its ``n_eff`` in every test and
    interval, its rows are flagged ``single_cluster`` and a message says so (as in
    :func:`channel_gaps`). Raw and standardised rows of groups with fewer than
    :data:`csatkit.metrics.FEW_CLUSTERS` clusters are flagged ``few_clusters``, as
    :func:`csatkit.metrics.csat` flags them. Survey weights are not supported: a weighted score
    table with a cluster key is refused (pass the rows or an unweighted table).

    The correction is first-order: one design effect per group, computed for the group's overall
    CSAT and assumed to hold for each of its reasons. How well the standardised test keeps its
    level therefore depends on the design. When the reference mix up-weights strata that are thin
    in a group, the group's overall design effect can overstate the clustering that matters for
    the standardised rate, and the test is conservative (one design measured by an independent
    review rejected 2% of the time at 5% with no true gap). With few agents per group the design
    effect is itself estimated from few clusters and the test is liberal (the same review: 8.7%
    at 5% with 6 agents per channel; simulations with 10-12 agents per channel gave about 5-8%,
    against 24-37% without the correction). Read ``few_clusters`` rows with that in mind.

    **Model-based**: ``satisfied ~ C(by) + C(reason) [+ C(controls)]``, a binomial GLM
    (``statsmodels.api.GLM``'s IRLS fit, computed by :func:`csatkit._dist.logit_fit`; the
    statsmodels result is ``MixResult.model``) with standard errors clustered by ``cluster``. Per group, the
    predictive margin is the mean predicted CSAT when every response of the reference population
    is given that group (the reference population follows ``reference_mix``: all responses, one
    channel's, or rows reweighted to the given mix); standard errors by the delta method,
    :math:`\nabla = \sum_i a_i \hat p_i(1-\hat p_i) x_i`. The model is fitted on the counts per
    distinct (group, reason, controls, cluster, satisfied) cell with frequency weights: each
    cell lies within one cluster, so the estimates, the cluster-robust covariance (its
    :math:`\frac{G}{G-1}\frac{N-1}{N-K}` small-sample factor taken with N responses) and the
    margins equal those of the fit on the response rows (tested). A group whose responses in the
    model's reasons are all satisfied (or none is) has no finite estimate: its margin (100% or 0%)
    is shown without an interval, and its gaps without an interval or test (flag
    ``no_finite_estimate``), since the delta method would treat the bound as exact.

    Examples
    --------
    See :func:`gaps_section` and the tests for a worked two-reason example.
    """
    by, reason, level = _check_mix_args(by, reason, correction, level, min_n, n_boot)
    controls = as_list(controls)
    messages: list = []
    rows, table, sc = _clustered_table(responses, [by, reason], _SPECS["csat"], scale, satisfied, cluster, messages,
                                       "mix_adjusted_gaps")
    cluster = table.cluster  # a score table passed with a cluster key keeps it
    return _mix(rows, table, sc, by=by, reason=reason, reference_mix=reference_mix, controls=controls,
                cluster=cluster, model=model, level=level, correction=correction, min_n=min_n, groups=groups,
                n_boot=n_boot, seed=seed, messages=messages)


def _mix(responses, table: ScoreTable, sc, *, by, reason, reference_mix, controls, cluster, model, level,
         correction, min_n, groups, n_boot, seed, messages, deff_base=None) -> MixResult:
    """The body of :func:`mix_adjusted_gaps`, from a score table by ``[by, reason]`` (+ ``cluster``)."""
    grp_all = _all_groups(responses, table, by, groups)
    reasons = _sort_labels(table.counts[reason].unique())
    n_, x_ = _cell_counts(table, sc, by, reason, grp_all, reasons)
    tot = n_.sum(1)
    nores = [g for g, t in zip(grp_all, tot) if t <= 0]
    if nores:
        _warn(messages, f"{by} {', '.join(map(_label, nores))}: no responses; left out.")
    groups_l = [g for g, t in zip(grp_all, tot) if t > 0]
    keep = tot > 0
    n_, x_ = n_[keep], x_[keep]
    raw = x_.sum(1) / n_.sum(1) if len(groups_l) else np.array([])
    order = np.argsort(-raw, kind="stable")
    groups_l = [groups_l[i] for i in order]
    n_, x_, raw = n_[order], x_[order], raw[order]
    k = len(groups_l)
    if k == 0:
        raise InputError(f"The responses hold no answered {sc.name!r} scores; nothing to adjust.")
    if k < 2:
        _warn(messages, f"Only one {by} ({_label(groups_l[0])}) has responses: there is nothing to compare.")
    # each group's design effect (1 unclustered); inference uses the effective counts n / deff, x / deff
    deff, deff_frame = _design_effects(table, by, sc, groups_l, deff_base, messages)
    cflags = _cluster_flags(deff_frame, groups_l)
    nt, xt = n_.sum(1), x_.sum(1)
    nt_e, xt_e = nt / deff, xt / deff

    support = (n_ > 0).all(0)
    if (~support).any() and support.any():
        out_r = [r for r, s in zip(reasons, support) if not s]
        share = 100 * n_[:, ~support].sum() / n_.sum()
        _warn(messages, f"{reason} {', '.join(map(_label, out_r))} is not answered in every {by}; the standardised "
                        f"and model-based figures use the {support.sum()} reasons answered everywhere "
                        f"({share:.1f}% of responses left out of them).")
    rows = []
    rlo, rhi = proportion_ci(xt_e, nt_e, level=level)
    for g in range(k):
        p = raw[g]
        flag = _join_flags("small_n" if n_[g].sum() < min_n else "",
                           "p_is_0_or_1" if p in (0.0, 1.0) else "", cflags[g])
        rows.append({by: groups_l[g], "method": "raw", "metric": "csat", "estimate": 100 * p,
                     "ci_low": 100 * rlo[g], "ci_high": 100 * rhi[g],
                     "se": 100 * np.sqrt(p * (1 - p) / nt_e[g]), "n": int(n_[g].sum()), "n_eff": float(nt_e[g]),
                     "flag": flag})
    gap_rows = []
    alpha = 1 - level
    ii, jj = np.triu_indices(k, 1)
    # the same function on the same effective counts as channel_gaps' pairwise CSAT comparisons
    pr = _two_proportions(xt_e[ii], nt_e[ii], xt_e[jj], nt_e[jj], level)
    padj = adjust_pvalues(pr["p_value"], correction)
    for m, (a, b) in enumerate(zip(ii, jj)):
        gap_rows.append({"group_a": groups_l[a], "group_b": groups_l[b], "method": "raw",
                         "estimate": 100 * pr["estimate"][m], "ci_low": 100 * pr["ci_low"][m],
                         "ci_high": 100 * pr["ci_high"][m], "se": 100 * pr["se"][m], "p_value": pr["p_value"][m],
                         "p_adj": padj[m], "flag": ""})

    weights = pd.DataFrame({reason: np.asarray(reasons, dtype=object), "n": n_.sum(0).astype(np.int64),
                            "weight": 0.0, "in_support": support})
    fit, model_cols = None, []
    if support.any():
        w = _reference_weights(reference_mix, n_, groups_l, reasons, support, by, messages)
        weights["weight"] = w
        est, var, dl, du, p_cr = _standardise(n_, x_, w, level, deff)
        ne, xe = n_ / deff[:, None], x_ / deff[:, None]
        for g in range(k):
            thin = n_[g, support].min() < 5
            flag = _join_flags("small_cells" if thin else "", cflags[g])
            rows.append({by: groups_l[g], "method": "standardised", "metric": "csat", "estimate": 100 * est[g],
                         "ci_low": 100 * max(est[g] - np.sqrt(dl[g]), 0.0),
                         "ci_high": 100 * min(est[g] + np.sqrt(du[g]), 1.0), "se": 100 * np.sqrt(var[g]),
                         "n": int(n_[g, support].sum()), "n_eff": float(ne[g, support].sum()), "flag": flag})
        if k >= 2:
            d = est[ii] - est[jj]
            lo = d - np.sqrt(dl[ii] + du[jj])
            hi = d + np.sqrt(du[ii] + dl[jj])
            se = np.sqrt(var[ii] + var[jj])
            with np.errstate(divide="ignore", invalid="ignore"):
                pbar = (xe[ii] + xe[jj]) / (ne[ii] + ne[jj])
                v0 = (w**2 * np.where(support, pbar * (1 - pbar) * (1 / ne[ii] + 1 / ne[jj]), 0.0)).sum(1)
                z = np.where(v0 > 0, d / np.sqrt(v0), 0.0)
            pv = np.where(v0 > 0, 2 * norm_sf(np.abs(z)), 1.0)
            padj = adjust_pvalues(pv, correction)
            for m, (a, b) in enumerate(zip(ii, jj)):
                gap_rows.append({"group_a": groups_l[a], "group_b": groups_l[b], "method": "standardised",
                                 "estimate": 100 * d[m], "ci_low": 100 * lo[m], "ci_high": 100 * hi[m],
                                 "se": 100 * se[m], "p_value": pv[m], "p_adj": padj[m], "flag": ""})
        if model:
            if not isinstance(responses, pd.DataFrame):
                _warn(messages, "The model-based adjustment needs response rows; a score table was passed, so it is "
                                "skipped.")
            elif k >= 2:  # a model comparing groups needs at least two of them
                fitted = _fit_margins(responses, table, sc, by, reason, controls, cluster, groups_l,
                                      [r for r, s in zip(reasons, support) if s], reference_mix, w[support],
                                      level, correction, messages)
                if fitted is not None:
                    fit, model_cols, m_rows, m_gaps = fitted
                    rows += m_rows
                    gap_rows += m_gaps
    else:
        _warn(messages, f"No {reason} is answered in every {by}: mix-adjusted figures cannot be computed; only raw "
                        "CSAT and the decomposition are shown.")

    estimates = pd.DataFrame(rows, columns=[by, "method", "metric", "estimate", "ci_low", "ci_high", "se", "n",
                                            "n_eff", "flag"])
    gaps = pd.DataFrame(gap_rows, columns=["group_a", "group_b", "method", "estimate", "ci_low", "ci_high", "se",
                                           "p_value", "p_adj", "flag"])
    gaps.insert(gaps.columns.get_loc("flag"), "significant", gaps["p_adj"] < alpha)
    cells = (groups_l, reasons, n_, x_, deff)
    res = MixResult(by, reason, reference_mix, estimates, gaps, weights, None, fit, model_cols, level, correction,
                    messages, table, sc, cells, seed, int(n_boot), cluster, deff_frame)
    big = [g for g in range(k) if n_[g].sum() >= min_n]
    if len(big) >= 2:
        res.decomposition = res.decompose(groups_l[big[0]], groups_l[big[-1]])
        messages += [m for m in res.decomposition.messages if m not in messages]
    return res


#: Stands for a missing control value in the model's score table (coded 'unknown' in the design).
_MISSING_CONTROL = "\x00missing"


def _fit_margins(responses, table, sc, by, reason, controls, cluster, groups_l, support_reasons, reference_mix,
                 w_sup, level, correction, messages):
    """Logistic regression with reason (and controls) and predictive margins per group.

    Fitted on counts: one row per distinct (group, reason, controls, cluster, satisfied) cell with
    its number of responses as frequency weight (see :func:`mix_adjusted_gaps`).
    """
    check_columns(responses.columns, [by, reason, "score"] + controls, where="the responses")
    ctrl = list(controls)
    mtable = table
    if ctrl:
        fills = {}
        for c in ctrl:
            col = responses[c]
            if col.isna().any():
                fills[c] = col.astype(object).where(col.notna(), _MISSING_CONTROL).astype(str)
        mtable = tabulate(responses.assign(**fills) if fills else responses, [by, reason] + ctrl, scale=table.scale,
                          cluster=cluster)
    c = mtable.counts
    keys = [by, reason] + ctrl + ([cluster] if cluster else [])
    y = sc.is_satisfied(c["score"].to_numpy()).astype(float)
    data = c[keys].assign(y=y, f=c["n"].to_numpy(dtype=float))
    data = data.groupby(keys + ["y"], observed=True, sort=False)["f"].sum().reset_index()
    data = data[data[by].isin(groups_l) & data[reason].isin(support_reasons)]
    data = data[data["f"] > 0].reset_index(drop=True)
    if data.empty:
        return None
    freq = data["f"].to_numpy(dtype=float)
    ctrl_vals = {}
    for c_ in ctrl:
        vals = data[c_].astype(object)
        missing = (vals == _MISSING_CONTROL).to_numpy()
        if missing.any():
            _warn(messages, f"Control {c_!r} is missing in {int(freq[missing].sum())} rows; coded as 'unknown'.")
        ctrl_vals[c_] = vals.where(~missing, "unknown").astype(str)

    def design(ctrl_cols):
        ch = pd.Categorical(data[by], categories=groups_l)
        parts = [np.ones((len(data), 1))]
        d_ch = pd.get_dummies(ch, drop_first=True, dtype=float).to_numpy()
        parts.append(d_ch)
        d_r = pd.get_dummies(pd.Categorical(data[reason], categories=support_reasons), drop_first=True,
                             dtype=float).to_numpy()
        parts.append(d_r)
        cols = ["const"] + [f"{by}[{_label(g)}]" for g in groups_l[1:]] + \
               [f"{reason}[{_label(r)}]" for r in support_reasons[1:]]
        for c_ in ctrl_cols:
            d_c = pd.get_dummies(ctrl_vals[c_], drop_first=True, dtype=float)
            parts.append(d_c.to_numpy())
            cols += [f"{c_}[{v}]" for v in d_c.columns]
        return np.column_stack(parts), cols

    def full_rank(X) -> bool:
        # the rank of the design is that of its distinct rows (far fewer than the cells)
        return np.linalg.matrix_rank(np.unique(X, axis=0)) == X.shape[1]

    X, cols = design(ctrl)
    ok = full_rank(X)
    if not ok and ctrl:
        _warn(messages, f"Controls {ctrl} are collinear with {by} or {reason} (e.g. teams nested within a "
                        f"{by}); controlling for them would absorb the {by} gap, so they are dropped.")
        X, cols = design([])
        ok = full_rank(X)
    if not ok:
        _warn(messages, "The model's design is rank deficient; the model-based adjustment is skipped.")
        return None
    codes, factor = None, 1.0
    if cluster:
        codes = pd.factorize(data[cluster])[0]
        n_groups = len(np.unique(codes))
        if n_groups >= 2:
            # statsmodels' CRV1 factor G/(G-1) (N-1)/(N-K) with N the responses, not the cells
            n_obs, k_par = freq.sum(), X.shape[1]
            factor = n_groups / (n_groups - 1) * (n_obs - 1) / (n_obs - k_par)
        else:
            codes = None
            _warn(messages, f"Only one {cluster!r} value among the responses: the model's standard errors treat "
                            "responses as independent (too narrow when agents differ).")
    y = data["y"].to_numpy(dtype=float)
    try:
        # statsmodels' GLM(y, X, Binomial(), freq_weights=freq).fit(cov_type="cluster", ...) by the same IRLS,
        # without importing statsmodels (see csatkit._dist); the statsmodels result is built on request
        fit = logit_fit(y, X, freq, groups=codes, scaling_factor=factor)
    except (np.linalg.LinAlgError, ValueError) as exc:
        _warn(messages, f"The logistic regression failed ({exc}); the model-based adjustment is skipped.")
        return None
    if fit.perfect:
        _warn(messages, "Perfect separation in the logistic regression (a reason or control where every response "
                        "is satisfied, or none): its coefficients are unstable, the margins remain usable.")
    beta = fit.params
    cov = fit.cov
    # reference population weights a_i, summed over the responses of each cell
    if isinstance(reference_mix, str) and reference_mix == "overall":
        a = freq / freq.sum()
    elif not isinstance(reference_mix, (dict, pd.Series)) and reference_mix in groups_l:
        inref = freq * (data[by] == reference_mix).to_numpy()
        a = inref / inref.sum()
    else:
        wmap = dict(zip(support_reasons, w_sup))
        counts_r = data.groupby(reason, observed=True, sort=False)["f"].sum()
        a = freq * (data[reason].map(wmap) / data[reason].map(counts_r)).to_numpy(dtype=float)
        a = a / a.sum()
    k = len(groups_l)
    margins, grads = np.empty(k), np.empty((k, X.shape[1]))
    for g in range(k):
        Xg = X.copy()
        Xg[:, 1:k] = 0.0
        if g > 0:
            Xg[:, g] = 1.0
        p = 1 / (1 + np.exp(-(Xg @ beta)))
        margins[g] = a @ p
        grads[g] = (a * p * (1 - p)) @ Xg
    # (a quadratic form of a covariance: >= 0, up to rounding where the gradient vanishes)
    se = np.sqrt(np.maximum(np.einsum("gi,ij,gj->g", grads, cov, grads), 0.0))
    # No finite estimate: a group all of whose responses in the model's reasons are satisfied (or none
    # is) has its margin at 100% (0%), where the delta method gives a vanishing interval; so has a
    # margin whose reference mix rests on such reasons alone. Neither interval, nor any gap involving
    # it, is shown (the gap's standard error would treat the 100% as exact).
    by_codes = pd.Categorical(data[by], categories=groups_l).codes
    sat = np.bincount(by_codes, weights=freq * y, minlength=k)
    tot = np.bincount(by_codes, weights=freq, minlength=k)
    all_or_none = (tot > 0) & ((sat == 0) | (sat == tot))
    edge = all_or_none | (margins <= 1e-6) | (margins >= 1 - 1e-6)
    if all_or_none.any():
        names = ", ".join(_label(groups_l[g]) for g in np.flatnonzero(all_or_none))
        _warn(messages, f"Every response of {names} in the model's reasons is satisfied (or none is): the logistic "
                        "regression has no finite estimate there, so the model shows no interval or test for it.")
    if (edge & ~all_or_none).any():
        names = ", ".join(_label(groups_l[g]) for g in np.flatnonzero(edge & ~all_or_none))
        _warn(messages, f"The model's margin for {names} lies at 0% or 100%, where the logistic regression has no "
                        "finite estimate (the reference mix rests on reasons where every response is satisfied, "
                        "or none is); the model shows no interval or test for it.")
    se[edge] = np.nan
    zc = z_value(level)
    n_by = data.groupby(by, observed=True, sort=False)["f"].sum()
    rows = [{by: groups_l[g], "method": "model", "metric": "csat", "estimate": 100 * margins[g],
             "ci_low": 100 * float(np.clip(margins[g] - zc * se[g], 0.0, 1.0)),
             "ci_high": 100 * float(np.clip(margins[g] + zc * se[g], 0.0, 1.0)),
             "se": 100 * se[g], "n": int(n_by.get(groups_l[g], 0)), "n_eff": np.nan,
             "flag": "no_finite_estimate" if edge[g] else ""} for g in range(k)]
    ii, jj = np.triu_indices(k, 1)
    d = margins[ii] - margins[jj]
    gd = grads[ii] - grads[jj]
    sed = np.sqrt(np.maximum(np.einsum("mi,ij,mj->m", gd, cov, gd), 0.0))
    # (two groups at the same bound, all satisfied or none, show no gap: p = 1, as the raw comparison)
    pair_edge = (edge[ii] | edge[jj]) & ~(edge[ii] & edge[jj] & (np.round(margins[ii]) == np.round(margins[jj])))
    sed[pair_edge] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sed > 0, d / sed, 0.0)
    pv = np.where(pair_edge, np.nan, np.where(sed > 0, 2 * norm_sf(np.abs(z)), 1.0))
    padj = adjust_pvalues(pv, correction)
    gaps = [{"group_a": groups_l[a_], "group_b": groups_l[b_], "method": "model", "estimate": 100 * d[m],
             "ci_low": 100 * (d[m] - zc * sed[m]), "ci_high": 100 * (d[m] + zc * sed[m]), "se": 100 * sed[m],
             "p_value": pv[m], "p_adj": padj[m], "flag": "no_finite_estimate" if pair_edge[m] else ""}
            for m, (a_, b_) in enumerate(zip(ii, jj))]
    return _GLMModel(y, X, freq, codes, factor, fit), cols, rows, gaps


class _GLMModel:
    """The mix model as fitted for the report, and its statsmodels ``GLMResults``, built on first use."""

    def __init__(self, y, X, freq, groups, factor, fit):
        self.y, self.X, self.freq, self.groups, self.factor, self.fit = y, X, freq, groups, factor, fit
        self._results = None

    def results(self):
        if self._results is None:
            from statsmodels.genmod.families import Binomial
            from statsmodels.genmod.generalized_linear_model import GLM

            kwargs = {}
            if self.groups is not None:
                kwargs = {"cov_type": "cluster",
                          "cov_kwds": {"groups": self.groups, "use_correction": False, "scaling_factor": self.factor}}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the warnings were given when the model was fitted
                self._results = GLM(self.y, self.X, family=Binomial(), freq_weights=self.freq).fit(**kwargs)
        return self._results


def decompose_gap(responses, a, b, *, by: str = "channel", reason: str = "contact_reason", scale=None,
                  satisfied=None, level: float = 0.95, n_boot: int = 1000, seed=None,
                  cluster: str | None = None) -> GapDecomposition:
    r"""Split the raw CSAT gap between groups ``a`` and ``b`` into a mix part and a performance part.

    See :class:`GapDecomposition` for the formulas (Kitagawa 1955; Das Gupta 1993). The parts
    add up to the raw gap to machine precision, per reason and in total.

    With a ``cluster`` key, the raw gap's interval and the bootstrap use each group's counts
    divided by its design effect (the first-order Rao & Scott correction with the group's design
    effect, as in :func:`mix_adjusted_gaps`); the point values are unchanged.

    Examples
    --------
    Channel A answers mostly easy questions (reason r1), channel B mostly hard ones (r2):

    >>> import pandas as pd
    >>> def rows(ch, r, sat, n):
    ...     return [(ch, r, 5)] * sat + [(ch, r, 1)] * (n - sat)
    >>> df = pd.DataFrame(rows("A", "r1", 60, 80) + rows("A", "r2", 10, 20) + rows("B", "r1", 18, 20)
    ...                   + rows("B", "r2", 48, 80), columns=["channel", "contact_reason", "score"])
    >>> d = decompose_gap(df, "A", "B", scale="likert5", seed=0)
    >>> round(d.raw_gap, 6), round(d.mix, 6), round(d.performance, 6)
    (4.0, 16.5, -12.5)
    """
    by = _check_by("by", by)
    reason = _check_by("reason", reason)
    level = _check_level(level)
    check_range("n_boot", n_boot, 100, None)
    notes: list = []
    responses, table, sc = _clustered_table(responses, [by, reason], _SPECS["csat"], scale, satisfied, cluster, notes,
                                            "decompose_gap")
    groups = _all_groups(responses, table, by, None)
    for g in (a, b):
        if g not in groups:
            raise ParameterError(f"{by} {g!r} is not in the data; values present: {groups}.")
    reasons = _sort_labels(table.counts[reason].unique())
    n_, x_ = _cell_counts(table, sc, by, reason, [a, b], reasons)
    deff, _ = _design_effects(table, by, sc, [a, b], messages=notes)
    res = _decompose(a, b, n_[0], x_[0], n_[1], x_[1], reasons, by, reason, level, n_boot, seed, deff[0], deff[1])
    res.messages = notes + [m for m in res.messages if m not in notes]
    return res


def _mix_findings(res: MixResult) -> list[str]:
    out = []
    e = res.estimates
    g = res.gaps
    if isinstance(res.reference_mix, (dict, pd.Series)):
        ref = "the given contact-reason mix"
    elif res.reference_mix == "overall":
        ref = "the overall contact-reason mix"
    else:
        ref = f"{_label(res.reference_mix)}'s contact-reason mix"
    std = g[g["method"] == "standardised"]
    raw = g[g["method"] == "raw"]
    if not std.empty:
        merged = raw.merge(std, on=["group_a", "group_b"], suffixes=("_raw", "_std"))
        change = (merged["estimate_raw"] - merged["estimate_std"]).abs()
        r = merged.loc[change.idxmax()]
        if change.max() < 1.0:
            out.append(f"Standardising to {ref} moves every {res.by} gap by less than 1 point: the gaps are not "
                       "due to the contact-reason mix.")
        else:
            sig = "significant" if r["significant_std"] else "not significant"
            out.append(
                f"Standardised to {ref}, the gap between {_label(r['group_a'])} and {_label(r['group_b'])} moves from "
                f"{_fmt(r['estimate_raw'])} to {_fmt(r['estimate_std'])} points ({sig} after adjustment, "
                f"{_fmt_p(r['p_adj_std'])})."
            )
        n_sig_raw, n_sig_std = int(raw["significant"].sum()), int(std["significant"].sum())
        clu = f" (tests allow for responses clustered by {res.cluster})" if res.cluster else ""
        out.append(f"{n_sig_raw} of {len(raw)} raw gaps {'is' if n_sig_raw == 1 else 'are'} significant; {n_sig_std} "
                   f"{'is' if n_sig_std == 1 else 'are'} after standardising the contact-reason mix{clu}.")
    mod = g[g["method"] == "model"]
    if not mod.empty:
        clustered = res._model is not None and res._model.fit.cov_type == "cluster"
        how = f"standard errors clustered by {res.cluster}" if clustered else \
            "standard errors treating responses as independent"
        out.append(f"The logistic regression with contact reason as control finds {int(mod['significant'].sum())} of "
                   f"{len(mod)} gaps significant ({how}).")
    if res.decomposition is not None:
        out += res.decomposition.findings()
    return out


# ---------------------------------------------------------------------------------------------
# reason x channel
# ---------------------------------------------------------------------------------------------


@dataclass
class ReasonChannelResult:
    """CSAT per contact reason and channel, the best channel per reason, channel-shift opportunities.

    Attributes
    ----------
    cells : DataFrame
        One row per reason and group (the full grid): the two keys, ``estimate``, ``ci_low``,
        ``ci_high`` (Wilson), ``n``, ``n_eff`` (n divided by the group's design effect when a
        cluster key is used, else n), ``satisfied``, ``rank`` within the reason (<NA> for
        insufficient cells), ``sufficient`` (n >= ``min_n``), ``flag`` (``insufficient_n``,
        ``no_responses``, ``p_is_0_or_1``).
    comparisons : DataFrame
        Per reason, the top sufficient group against each other sufficient group: the reason,
        ``group_a`` (top), ``group_b``, ``estimate`` (a - b), ``ci_low``, ``ci_high`` (Newcombe),
        ``p_value`` (pooled z-test), ``p_adj`` (corrected over the whole table), ``significant``.
    best : DataFrame
        Per reason: ``best_group`` (empty unless declared), ``top_group`` (highest sufficient cell),
        ``runner_up``, ``estimate`` (top CSAT), ``margin`` (top minus runner-up), ``ci_low``,
        ``ci_high`` (of the margin), ``p_adj`` (largest adjusted p of the top group's comparisons),
        ``groups`` (sufficient cells), ``status`` ("best_declared", "no_clear_best",
        "single_group", "insufficient_n"), ``flag``.
    shifts : DataFrame
        For every reason and pair of sufficient cells with a higher CSAT in ``to_group``: ``share``
        moved, ``moved_n``, ``rate_from``, ``rate_to``, ``estimate`` (change in overall CSAT,
        points), ``ci_low``, ``ci_high``, ``significant``, ``flag``; largest gain first.
    cluster : str or None
        The cluster key the intervals and tests allow for (None: responses independent).
    design_effects : DataFrame or None
        With a cluster key, per group: ``n``, ``n_eff``, ``deff``, ``n_clusters``.
    """

    by: str
    reason: str
    min_n: float
    level: float
    correction: str
    cells: pd.DataFrame
    comparisons: pd.DataFrame
    best: pd.DataFrame
    shifts: pd.DataFrame
    total_n: int
    messages: list = field(default_factory=list)
    table: ScoreTable | None = field(default=None, repr=False)
    cluster: str | None = None
    design_effects: pd.DataFrame | None = None

    def _deff(self, group) -> float:
        if self.design_effects is None:
            return 1.0
        d = self.design_effects.set_index(self.by)["deff"]
        return float(d.get(group, 1.0))

    def wide(self, value: str = "estimate") -> pd.DataFrame:
        """Reasons as rows, groups as columns; insufficient cells read "n<min_n (n)" instead of a number."""
        check_choice("value", value, ["estimate", "n", "label"])
        c = self.cells
        if value == "n":
            return c.pivot(index=self.reason, columns=self.by, values="n")
        lab = np.where(c["sufficient"], c["estimate"].map(lambda v: f"{v:.1f}") + " (n=" + c["n"].astype(str) + ")",
                       "insufficient (n=" + c["n"].astype(str) + ")")
        shown = c.assign(label=lab)
        if value == "estimate":
            shown = shown.assign(label=np.where(c["sufficient"], c["estimate"].map(lambda v: f"{v:.1f}"),
                                                "insufficient"))
        return shown.pivot(index=self.reason, columns=self.by, values="label")

    def shift(self, reason, from_group, to_group, share: float = 0.25) -> pd.DataFrame:
        r"""Estimated change in overall CSAT if ``share`` of ``reason``'s responses moved between groups.

        .. math:: \Delta = \frac{s\, n_{A,R}}{N}\,(\hat p_{B,R} - \hat p_{A,R})

        with N all responses of the table; the interval scales Newcombe's interval for
        :math:`p_{B,R} - p_{A,R}` by :math:`s\,n_{A,R}/N` (computed on effective counts when the
        matrix allows for a cluster key). It assumes the moved customers would fare as group B's
        current customers with that reason do, and that volumes stay otherwise equal.
        """
        check_range("share", share, 0, 1)
        c = self.cells.set_index([self.reason, self.by])
        for g in (from_group, to_group):
            if (reason, g) not in c.index:
                known_r = self.cells[self.reason].unique().tolist()
                known_g = self.cells[self.by].unique().tolist()
                raise ParameterError(
                    f"No cell ({reason!r}, {g!r}); reasons present: {known_r}; {self.by} values present: {known_g}."
                )
        fa, tb = c.loc[(reason, from_group)], c.loc[(reason, to_group)]
        for cell, g in ((fa, from_group), (tb, to_group)):
            if cell["n"] <= 0:
                raise InputError(
                    f"{self.reason} {reason!r} has no responses in {self.by} {g!r}, so the effect of moving contacts "
                    "there cannot be estimated."
                )
        return _shift_rows(self.reason, self.by, [reason], [from_group], [to_group],
                           np.array([fa["satisfied"]], float), np.array([fa["n"]], float),
                           np.array([tb["satisfied"]], float), np.array([tb["n"]], float), share, self.total_n,
                           self.level, [_join_flags("" if fa["sufficient"] else "insufficient_n",
                                                    "" if tb["sufficient"] else "insufficient_n")],
                           self._deff(from_group), self._deff(to_group))

    def findings(self) -> list[str]:
        out = []
        b = self.best
        dec = b[b["status"] == "best_declared"]
        for _, r in dec.iterrows():
            out.append(f"For {_label(r[self.reason])}, {_label(r['best_group'])} is the best {self.by} "
                       f"({_fmt(r['estimate'])}%, ahead of {_label(r['runner_up'])} by {_fmt(r['margin'])} points; "
                       f"beats every other {self.by} after {_CORRECTION_NAMES[self.correction]} correction).")
        unclear = b.loc[b["status"] == "no_clear_best", self.reason].tolist()
        if unclear:
            out.append(f"No {self.by} is clearly best for: {', '.join(map(_label, unclear))}.")
        thin = b.loc[b["status"].isin(["single_group", "insufficient_n"]), self.reason].tolist()
        if thin:
            out.append(f"Too few responses to compare {self.by} values for: {', '.join(map(_label, thin))}.")
        s = self.shifts[self.shifts["significant"]].head(3)
        for _, r in s.iterrows():
            out.append(
                f"Moving {r['share']:.0%} of {_label(r[self.reason])} contacts from {_label(r['from_group'])} to "
                f"{_label(r['to_group'])} would change overall CSAT by an estimated {_fmt(r['estimate'], 2)} points "
                f"({self.level:.0%} CI {_fmt(r['ci_low'], 2)} to {_fmt(r['ci_high'], 2)})."
            )
        return out

    def summary(self) -> str:
        lines = [f"CSAT by {self.reason} x {self.by} (cells under n={self.min_n:g} are insufficient)"]
        lines += [f"- {f}" for f in self.findings()]
        lines += ["", self.wide("label").to_string(), "", _text_table(self.best), "", _text_table(self.shifts.head(10))]
        return "\n".join(lines)

    def _html_title(self) -> str:
        return f"CSAT by {self.reason} and {self.by}"

    def _html_tables(self) -> list:
        secs = [("Matrix", self.wide("label").reset_index()), ("Best per reason", self.best),
                ("Channel-shift opportunities", self.shifts.head(10))]
        if self.design_effects is not None:
            secs.append((f"Design effects (cluster: {self.cluster})", self.design_effects))
        return secs

    def _repr_html_(self) -> str:
        return _html(self._html_title(), self.findings(), self._html_tables())


def _shift_rows(reason, by, reasons, froms, tos, xa, na, xb, nb, share, total_n, level, flags, deff_a=1.0,
                deff_b=1.0) -> pd.DataFrame:
    """Shift opportunities; the interval from the counts divided by each group's design effect."""
    pair = _two_proportions(xb / deff_b, nb / deff_b, xa / deff_a, na / deff_a, level)  # to - from
    scale_ = share * na / total_n
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = xb / nb - xa / na  # the estimate from the real counts
    out = pd.DataFrame({
        reason: np.asarray(reasons, dtype=object), "from_group": np.asarray(froms, dtype=object),
        "to_group": np.asarray(tos, dtype=object), "share": float(share), "moved_n": share * na,
        "rate_from": 100 * xa / na, "rate_to": 100 * xb / nb,
        "estimate": 100 * scale_ * diff, "ci_low": 100 * scale_ * pair["ci_low"],
        "ci_high": 100 * scale_ * pair["ci_high"],
    })
    out["significant"] = (out["ci_low"] > 0) | (out["ci_high"] < 0)
    out["flag"] = list(flags)
    return out


def reason_channel_matrix(responses, *, by: str = "channel", reason: str = "contact_reason", scale=None,
                          satisfied=None, min_n: int = MIN_N, level: float = 0.95, correction: str = "holm",
                          shift_share: float = 0.25, groups=None, cluster: str | None = None) -> ReasonChannelResult:
    r"""CSAT per contact reason x channel; the best channel per reason; channel-shift opportunities.

    Parameters
    ----------
    responses : DataFrame or ScoreTable
        Responses, or a score table grouped by ``[by, reason]``.
    min_n : int
        Cells with fewer responses are shown as insufficient: estimated, but not ranked, compared
        or used for shift opportunities.
    correction : {"holm", "bh", "bonferroni"}
        Correction over all top-vs-other comparisons of the table.
    shift_share : float
        Share of a reason's responses moved in the opportunities table.
    cluster : str, optional
        A cluster key (e.g. ``"agent_id"``): intervals and tests then allow for responses of one
        agent being correlated (see Notes).

    Returns
    -------
    ReasonChannelResult

    Notes
    -----
    A best channel is declared for a reason only when the top sufficient cell beats every other
    sufficient cell of that reason with an adjusted p-value below :math:`1 -` level (an
    intersection-union rule: all its comparisons must be significant). The family corrected is
    every top-vs-other comparison in the table, so declaring bests across many reasons does not
    inflate false claims.

    With a ``cluster`` key, every interval and test (the cells' Wilson intervals, the pooled
    z-tests and Newcombe intervals of the comparisons, the shift intervals) uses the first-order
    Rao & Scott (1981) correction with each group's design effect :math:`d_g`: the group's design
    effect for its CSAT over all its responses, as :func:`channel_gaps` and
    :func:`csatkit.metrics.csat` compute it, divides the counts :math:`n_{rg}` and satisfied counts
    :math:`x_{rg}` of each of its cells. Estimates, ranks, sufficiency and the displayed ``n`` use
    the real counts; ``n_eff`` shows the effective ones. Responses without a cluster value each
    count as their own cluster; an absent cluster column leaves the matrix unclustered (both with a
    message). A group served by a single cluster borrows the design effect of all groups'
    responses pooled (its cells flagged ``single_cluster``, with a message), and the cells of groups
    with fewer than :data:`csatkit.metrics.FEW_CLUSTERS` clusters are flagged ``few_clusters``.
    Weighted score tables with a cluster key are refused (weights are not supported here).

    As in :func:`mix_adjusted_gaps`, one design effect per group (computed for its overall CSAT) is
    applied to every reason's cell: this can overstate the clustering within a thin cell (the
    tests are then conservative) or, with few agents per group, rest on a noisy design effect (the
    tests are then liberal; an independent review measured 8.7% rejection at 5% with 6 agents per
    channel for the standardised gap, and 2% in a design whose reference mix up-weighted thin
    strata).
    """
    by = _check_by("by", by)
    reason = _check_by("reason", reason)
    if by == reason:
        raise ParameterError(f"`by` and `reason` must be different columns, but both are {by!r}.")
    level = _check_level(level)
    check_range("min_n", min_n, 0, None)
    check_range("shift_share", shift_share, 0, 1)
    check_choice("correction", correction, list(CORRECTIONS))
    messages: list = []
    rows, table, sc = _clustered_table(responses, [by, reason], _SPECS["csat"], scale, satisfied, cluster, messages,
                                       "reason_channel_matrix")
    return _reason_channel(rows, table, sc, by=by, reason=reason, min_n=min_n, level=level,
                           correction=correction, shift_share=shift_share, groups=groups, messages=messages)


def _reason_channel(responses, table: ScoreTable, sc, *, by, reason, min_n, level, correction, shift_share, groups,
                    messages, deff_base=None) -> ReasonChannelResult:
    """The body of :func:`reason_channel_matrix`, from a score table by ``[by, reason]`` (+ a cluster key)."""
    grp = _all_groups(responses, table, by, groups)
    reasons = _sort_labels(table.counts[reason].unique())
    if not reasons:
        raise InputError(f"The responses hold no answered {sc.name!r} scores; nothing to tabulate.")
    n_, x_ = _cell_counts(table, sc, by, reason, grp, reasons)
    deff, deff_frame = _design_effects(table, by, sc, grp, deff_base, messages)
    cflags = _cluster_flags(deff_frame, grp)
    total = float(n_.sum())
    alpha = 1 - level
    R, G = len(reasons), len(grp)
    nn, xx = n_.T, x_.T  # reasons x groups
    ne, xe = nn / deff[None, :], xx / deff[None, :]  # effective counts (= nn, xx unclustered)
    lo, hi = proportion_ci(xe.ravel(), ne.ravel(), level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(nn > 0, xx / nn, np.nan)
    suff = nn >= max(min_n, 1)
    flags = []
    for r in range(R):
        for g in range(G):
            if nn[r, g] <= 0:
                flags.append("no_responses")
            else:
                f = [] if suff[r, g] else ["insufficient_n"]
                if xx[r, g] in (0, nn[r, g]):
                    f.append("p_is_0_or_1")
                if cflags[g]:
                    f.append(cflags[g])
                flags.append(";".join(f))
    ranks = np.full((R, G), -1)
    for r in range(R):
        idx = np.flatnonzero(suff[r])
        order = idx[np.argsort(-p[r, idx], kind="stable")]
        ranks[r, order] = np.arange(1, len(order) + 1)
    cells = pd.DataFrame({
        reason: np.repeat(np.asarray(reasons, dtype=object), G), by: np.tile(np.asarray(grp, dtype=object), R),
        "estimate": 100 * p.ravel(), "ci_low": 100 * lo, "ci_high": 100 * hi, "n": nn.ravel().astype(np.int64),
        "n_eff": ne.ravel(), "satisfied": xx.ravel().astype(np.int64),
        "rank": pd.array(np.where(ranks.ravel() > 0, ranks.ravel(), 0), dtype="Int64"),
        "sufficient": suff.ravel(), "flag": flags,
    })
    cells.loc[~cells["sufficient"], "rank"] = pd.NA

    comp = []
    for r in range(R):
        idx = np.flatnonzero(suff[r])
        if len(idx) < 2:
            continue
        top = idx[np.argmax(p[r, idx])]
        for g in idx[np.argsort(-p[r, idx], kind="stable")]:
            if g != top:
                comp.append((r, top, g))
    if comp:
        rr, aa, bb = (np.array(v) for v in zip(*comp))
        pr = _two_proportions(xe[rr, aa], ne[rr, aa], xe[rr, bb], ne[rr, bb], level)
        padj = adjust_pvalues(pr["p_value"], correction)
        comparisons = pd.DataFrame({
            reason: np.asarray(reasons, dtype=object)[rr], "group_a": np.asarray(grp, dtype=object)[aa],
            "group_b": np.asarray(grp, dtype=object)[bb], "estimate": 100 * (p[rr, aa] - p[rr, bb]),
            "ci_low": 100 * pr["ci_low"], "ci_high": 100 * pr["ci_high"], "p_value": pr["p_value"], "p_adj": padj,
        })
        comparisons["significant"] = comparisons["p_adj"] < alpha
    else:
        rr = aa = bb = np.zeros(0, dtype=int)
        comparisons = pd.DataFrame({c: pd.Series(dtype=object) for c in
                                    [reason, "group_a", "group_b"]}).assign(
            estimate=pd.Series(dtype=float), ci_low=pd.Series(dtype=float), ci_high=pd.Series(dtype=float),
            p_value=pd.Series(dtype=float), p_adj=pd.Series(dtype=float), significant=pd.Series(dtype=bool))

    best_rows = []
    comp_r = np.asarray(rr)
    for r, rname in enumerate(reasons):
        idx = np.flatnonzero(suff[r])
        present = np.flatnonzero(nn[r] > 0)
        row = {reason: rname, "best_group": "", "top_group": "", "runner_up": "", "estimate": np.nan,
               "margin": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_adj": np.nan, "groups": int(len(idx)),
               "status": "", "flag": ""}
        if len(idx) == 0:
            row.update(status="insufficient_n", flag="insufficient_n")
        elif len(idx) == 1:
            row.update(top_group=grp[idx[0]], estimate=100 * p[r, idx[0]], status="single_group",
                       flag="only_one_group" if len(present) == 1 else "insufficient_n")
        else:
            sub = comparisons.iloc[np.flatnonzero(comp_r == r)]
            first = sub.iloc[0]
            row.update(top_group=first["group_a"], runner_up=first["group_b"],
                       estimate=100 * p[r, grp.index(first["group_a"])], margin=first["estimate"],
                       ci_low=first["ci_low"], ci_high=first["ci_high"], p_adj=float(sub["p_adj"].max()))
            if bool(sub["significant"].all()):
                row.update(best_group=first["group_a"], status="best_declared")
            else:
                row.update(status="no_clear_best")
        best_rows.append(row)
    best = pd.DataFrame(best_rows)
    single = best.loc[best["flag"] == "only_one_group", reason].tolist()
    if single:
        _warn(messages, f"{reason} {', '.join(map(_label, single))} is answered in only one {by}: no comparison, "
                        "no best declared.")
    if (~suff & (nn > 0)).any():
        k_ins = int((~suff & (nn > 0)).sum())
        _warn(messages, f"{k_ins} reason x {by} cells have fewer than {min_n:g} responses; they are shown as "
                        "insufficient and not ranked.")

    srows = []
    for r in range(R):
        idx = np.flatnonzero(suff[r])
        for a in idx:
            for b in idx:
                if a != b and p[r, b] > p[r, a]:
                    srows.append((r, a, b))
    if srows:
        rr, aa, bb = (np.array(v) for v in zip(*srows))
        shifts = _shift_rows(reason, by, np.asarray(reasons, dtype=object)[rr], np.asarray(grp, dtype=object)[aa],
                             np.asarray(grp, dtype=object)[bb], xx[rr, aa], nn[rr, aa], xx[rr, bb], nn[rr, bb],
                             shift_share, total, level, [""] * len(rr), deff[aa], deff[bb])
        shifts = shifts.sort_values("estimate", ascending=False, kind="stable").reset_index(drop=True)
    else:
        shifts = _shift_rows(reason, by, [], [], [], np.zeros(0), np.ones(0), np.zeros(0), np.ones(0), shift_share,
                             max(total, 1.0), level, [])
    return ReasonChannelResult(by, reason, float(min_n), level, correction, cells, comparisons, best, shifts,
                               int(total), messages, table, table.cluster, deff_frame)


def channel_shift(matrix: ReasonChannelResult, reason, from_group, to_group, share: float = 0.25) -> pd.DataFrame:
    """The change in overall CSAT if ``share`` of ``reason``'s responses moved from one group to another.

    A thin wrapper of :meth:`ReasonChannelResult.shift`; see there for the formula and assumptions.
    """
    if not isinstance(matrix, ReasonChannelResult):
        raise ParameterError(
            f"`matrix` must be the result of reason_channel_matrix(), but {type(matrix).__name__} was passed."
        )
    return matrix.shift(reason, from_group, to_group, share)


# ---------------------------------------------------------------------------------------------
# over time
# ---------------------------------------------------------------------------------------------


@dataclass
class GapChange:
    """The gaps of two periods and how they changed.

    Attributes
    ----------
    current, previous : GapResult
    pairs : DataFrame
        One row per pair present in both periods, oriented as in the current period (the better
        group first): ``group_a``, ``group_b``, ``gap_current``, ``gap_previous``, ``estimate``
        (change of the gap, current - previous), ``ci_low``, ``ci_high``, ``se``, ``p_value``,
        ``p_adj``, ``significant``, ``status`` ("widened", "narrowed", "reversed",
        "no_significant_change"), ``flag``.
    groups : DataFrame
        Per group present in both periods: the key, ``estimate_current``, ``estimate_previous``,
        ``estimate`` (change), ``ci_low``, ``ci_high``, ``p_value``, ``p_adj``, ``significant``, ``flag``.
    """

    current: GapResult
    previous: GapResult
    pairs: pd.DataFrame
    groups: pd.DataFrame
    period: str | None
    compare_to: str | None
    messages: list = field(default_factory=list)

    def findings(self) -> list[str]:
        out = []
        now, then = self.period or "the current period", self.compare_to or "the comparison period"
        sig = self.pairs[self.pairs["significant"]]
        for _, r in sig.iterrows():
            out.append(f"The gap between {_label(r['group_a'])} and {_label(r['group_b'])} {r['status']} from "
                       f"{_fmt(r['gap_previous'])} ({then}) to {_fmt(r['gap_current'])} ({now}); change "
                       f"{_fmt(r['estimate'])} ({_fmt_p(r['p_adj'])}, adjusted).")
        if sig.empty and len(self.pairs):
            out.append(f"No {self.current.by} gap widened or narrowed significantly between {then} and {now}.")
        g = self.groups[self.groups["significant"]]
        for _, r in g.iterrows():
            word = "rose" if r["estimate"] > 0 else "fell"
            out.append(f"{self.current.metric} for {_label(r[self.current.by])} {word} from "
                       f"{_fmt(r['estimate_previous'])} to {_fmt(r['estimate_current'])} "
                       f"({_fmt_p(r['p_adj'])}, adjusted).")
        return out

    def summary(self) -> str:
        lines = [f"Gap change {self.compare_to} -> {self.period}"]
        lines += [f"- {f}" for f in self.findings()]
        lines += ["", _text_table(self.pairs), "", _text_table(self.groups)]
        return "\n".join(lines)

    def _html_title(self) -> str:
        return f"Gaps {self.compare_to} -> {self.period}"

    def _html_tables(self) -> list:
        return [("Pairs", self.pairs), ("Groups", self.groups)]

    def _repr_html_(self) -> str:
        return _html(self._html_title(), self.findings(), self._html_tables())


def compare_gaps(current: GapResult, previous: GapResult, *, period=None, compare_to=None,
                 correction: str | None = None) -> GapChange:
    r"""Whether each pairwise gap widened or narrowed between two :class:`GapResult`\ s.

    The change of a gap is :math:`(\hat\theta_a - \hat\theta_b)_{now} - (\hat\theta_a - \hat\theta_b)_{then}`
    with standard error :math:`\sqrt{SE_{now}^2 + SE_{then}^2}` (independent periods; the pairs'
    unpooled standard errors), tested with a z-test and corrected over the pairs (``correction``,
    default that of ``current``). A significant change is "reversed" when the gap changed sign,
    otherwise "widened" or "narrowed" by whether its absolute size grew.

    Per group, the change of the metric: Newcombe interval and pooled z-test for CSAT and the
    low-effort share (on effective counts), Wald otherwise.
    """
    for name, r in (("current", current), ("previous", previous)):
        if not isinstance(r, GapResult):
            raise ParameterError(
                f"`{name}` must be a GapResult from channel_gaps(), but {type(r).__name__} was passed."
            )
    if current.metric != previous.metric or current.by != previous.by:
        raise ParameterError(
            f"The two results must be of the same metric and grouping, but they are {current.metric!r} by "
            f"{current.by!r} and {previous.metric!r} by {previous.by!r}."
        )
    correction = correction or current.correction
    check_choice("correction", correction, list(CORRECTIONS))
    level = current.level
    zc = z_value(level)
    alpha = 1 - level
    messages: list = []
    prev = previous.pairwise
    cur = current.pairwise
    # each previous pair by its orientation: the same one first, else the reverse (sign -1)
    lookup: dict = {}
    for m, (a, b) in enumerate(zip(prev["group_a"], prev["group_b"])):
        lookup.setdefault((a, b), (m, 1.0))
    for m, (a, b) in enumerate(zip(prev["group_a"], prev["group_b"])):
        lookup.setdefault((b, a), (m, -1.0))
    hits = [(m, lookup.get((a, b))) for m, (a, b) in enumerate(zip(cur["group_a"], cur["group_b"]))]
    hits = [(m, h[0], h[1]) for m, h in hits if h is not None]
    cols = ["group_a", "group_b", "gap_current", "gap_previous", "estimate", "ci_low", "ci_high", "se", "p_value",
            "p_adj", "significant", "status", "flag"]
    first = [c for c in cols if c not in ("p_adj", "significant", "status")]
    if hits:
        ci = np.array([h[0] for h in hits])
        pi = np.array([h[1] for h in hits])
        sgn = np.array([h[2] for h in hits])
        g_now = cur["estimate"].to_numpy(dtype=float)[ci]
        g_then = sgn * prev["estimate"].to_numpy(dtype=float)[pi]
        se = np.sqrt(cur["se"].to_numpy(dtype=float)[ci] ** 2 + prev["se"].to_numpy(dtype=float)[pi] ** 2)
        d = g_now - g_then
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, d / se, 0.0)
        flags_c, flags_p = cur["flag"].to_numpy()[ci], prev["flag"].to_numpy()[pi]
        pairs = pd.DataFrame({
            "group_a": cur["group_a"].to_numpy()[ci], "group_b": cur["group_b"].to_numpy()[ci], "gap_current": g_now,
            "gap_previous": g_then, "estimate": d, "ci_low": d - zc * se, "ci_high": d + zc * se, "se": se,
            "p_value": np.where(se > 0, 2 * norm_sf(np.abs(z)), 1.0),
            "flag": [_join_flags(x, y) for x, y in zip(flags_c, flags_p)],
        }, columns=first)
    else:
        pairs = pd.DataFrame([], columns=first)
    pairs.insert(9, "p_adj", adjust_pvalues(pairs["p_value"].to_numpy(dtype=float), correction)
                 if len(pairs) else pd.Series(dtype=float))
    pairs.insert(10, "significant", pairs["p_adj"] < alpha)
    gc, gp = pairs["gap_current"].to_numpy(dtype=float), pairs["gap_previous"].to_numpy(dtype=float)
    status = np.where(~pairs["significant"].to_numpy(dtype=bool), "no_significant_change",
                      np.where(np.sign(gc) * np.sign(gp) < 0, "reversed",
                               np.where(np.abs(gc) > np.abs(gp), "widened", "narrowed")))
    pairs.insert(11, "status", pd.Series(list(status), dtype=object))
    if current.pairwise.empty or previous.pairwise.empty:
        _warn(messages, "One of the periods has fewer than two groups with responses: no gap change can be tested.")

    by = current.by
    ce = current.estimates
    pe = previous.estimates
    prow = {g: i for i, g in enumerate(pe[by])}
    pn, cn = pe["n"].to_numpy(), ce["n"].to_numpy()
    common = [(i, prow[g]) for i, g in enumerate(ce[by]) if g in prow and cn[i] > 0 and pn[prow[g]] > 0]
    ic = np.array([c for c, _ in common], dtype=int)
    ip = np.array([q for _, q in common], dtype=int)
    est_c, est_p = ce["estimate"].to_numpy(dtype=float)[ic], pe["estimate"].to_numpy(dtype=float)[ip]
    prop = _SPECS[current.metric].kind == "proportion"
    if prop:
        nc, npv = ce["n_eff"].to_numpy(dtype=float)[ic], pe["n_eff"].to_numpy(dtype=float)[ip]
        res = _two_proportions(est_c / 100 * nc, nc, est_p / 100 * npv, npv, level)
        d, lo, hi, pv = 100 * res["estimate"], 100 * res["ci_low"], 100 * res["ci_high"], res["p_value"]
    else:
        d = est_c - est_p
        se = np.sqrt(ce["se"].to_numpy(dtype=float)[ic] ** 2 + pe["se"].to_numpy(dtype=float)[ip] ** 2)
        lo, hi = d - zc * se, d + zc * se
        with np.errstate(divide="ignore", invalid="ignore"):
            pv = np.where(se > 0, 2 * norm_sf(np.abs(d / se)), 1.0)
    gcols = [by, "estimate_current", "estimate_previous", "estimate", "ci_low", "ci_high", "p_value", "flag"]
    if common:
        fc, fp = ce["flag"].to_numpy()[ic], pe["flag"].to_numpy()[ip]
        groups = pd.DataFrame({by: ce[by].to_numpy()[ic], "estimate_current": est_c, "estimate_previous": est_p,
                               "estimate": d, "ci_low": lo, "ci_high": hi, "p_value": pv,
                               "flag": [_join_flags(x, y) for x, y in zip(fc, fp)]}, columns=gcols)
    else:
        groups = pd.DataFrame([], columns=gcols)
    groups.insert(7, "p_adj", adjust_pvalues(groups["p_value"].to_numpy(dtype=float), correction)
                  if len(groups) else pd.Series(dtype=float))
    groups.insert(8, "significant", groups["p_adj"] < alpha)
    return GapChange(current, previous, pairs, groups, None if period is None else str(period),
                     None if compare_to is None else str(compare_to), messages)


def _select_period(responses, period, column, period_column, fy_start):
    from .periods import filter_period, parse_period

    if period_column is not None:
        check_columns(responses.columns, [period_column], where="the responses")
        label = str(period)
        return responses[responses[period_column].astype(str) == label], label
    p = parse_period(period, fy_start=fy_start)
    return filter_period(responses, p, column=column, fy_start=fy_start), p


def gap_change(responses, *, period, compare_to=None, metric: str = "csat", by: str = "channel",
               column: str = "interaction_at", period_column: str | None = None, fy_start: int | None = None,
               **kwargs) -> GapChange:
    """The gaps in ``period`` and in ``compare_to`` (default: the period before), and their change.

    Parameters
    ----------
    responses : DataFrame
        Responses of both periods.
    period, compare_to : str or Period
        Labels such as ``"2026Q3"``; ``compare_to`` defaults to the previous period of the same length.
        With ``period_column``, the labels are compared with that column's values instead.
    column : str
        Timestamp column the periods are read from.
    period_column : str, optional
        A column already holding period labels (e.g. ``"quarter"``).
    **kwargs
        Passed to :func:`channel_gaps` (``scale``, ``target``, ``correction``, ``level``, ...).

    Returns
    -------
    GapChange
        See :func:`compare_gaps`.
    """
    if not isinstance(responses, pd.DataFrame):
        raise ParameterError(f"`responses` must be a DataFrame, but {type(responses).__name__} was passed.")
    cur, p = _select_period(responses, period, column, period_column, fy_start)
    return _gap_change(responses, cur, p, compare_to, metric, by, column, period_column, fy_start, kwargs)


def _gap_change(responses, cur, p, compare_to, metric, by, column, period_column, fy_start, kwargs,
                current: GapResult | None = None, current_groups: list | None = None) -> GapChange:
    """The body of :func:`gap_change` from the current period's rows ``cur`` (period ``p``).

    ``current``: the current period's :class:`GapResult`, computed by the caller with the same
    ``kwargs`` for the group list ``current_groups``; it is used instead of computing it again
    when gap_change would use the same groups (then the results are identical).
    """
    if compare_to is None:
        if period_column is not None:
            raise ParameterError("Pass `compare_to` when the periods come from `period_column`.")
        compare_to = p.previous()
    prev, q = _select_period(responses, compare_to, column, period_column, fy_start)
    groups = kwargs.pop("groups", None)
    if groups is None:
        groups = _sort_labels(list(cur[by].dropna().unique()) + list(prev[by].dropna().unique())) \
            if by in responses.columns else None
    for what, frame, lab in (("period", cur, p), ("compare_to", prev, q)):
        if frame.empty:
            raise InputError(f"No responses fall in {what} {str(lab)!r}; check the period and the column {column!r}.")
    notes: list = []
    results = []
    for frame, lab in ((cur, p), (prev, q)):
        if frame is cur and current is not None and current_groups is not None and \
                _all_groups(cur, current.table, by, groups) == current_groups:
            for m in current.messages:
                _warn(notes, f"{lab}: {m}")
            results.append(current)
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", StatisticalWarning)
            results.append(channel_gaps(frame, metric, by, groups=groups, **kwargs))
        for w in caught:
            if issubclass(w.category, StatisticalWarning):
                _warn(notes, f"{lab}: {w.message}")
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    out = compare_gaps(results[0], results[1], period=str(p), compare_to=str(q))
    out.messages = notes + out.messages
    return out


# ---------------------------------------------------------------------------------------------
# report section
# ---------------------------------------------------------------------------------------------


@dataclass
class GapReport:
    """Everything a report's gap section shows, with plain-language findings.

    Attributes
    ----------
    channels : GapResult
        Gaps across channels in the chosen metric.
    mix : MixResult or None
        CSAT adjusted for the contact-reason mix (needs a CSAT scale and the reason column).
    matrix : ReasonChannelResult or None
        CSAT per contact reason x channel.
    change : GapChange or None
        Gap change against ``compare_to`` (when ``period`` is given).
    findings : list of str
    messages : list of str
        Data warnings gathered from all parts (each once).
    """

    channels: GapResult
    mix: MixResult | None
    matrix: ReasonChannelResult | None
    change: GapChange | None
    findings: list
    messages: list
    period: str | None = None
    compare_to: str | None = None

    def summary(self) -> str:
        head = f"Channel gaps{' for ' + self.period if self.period else ''}"
        lines = [head, ""] + [f"- {f}" for f in self.findings]
        if self.messages:
            lines += ["", "Data notes:"] + [f"- {m}" for m in self.messages]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [_html(f"Channel gaps{' for ' + self.period if self.period else ''}", self.findings, [])]
        if self.messages:
            parts.append("<h5>Data notes</h5><ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in self.messages)
                         + "</ul>")
        for part in (self.channels, self.mix, self.matrix, self.change):
            if part is not None:
                parts.append(part._repr_html_())
        return "\n".join(parts)

    def details_html(self) -> str:
        """The detailed tables of every part under their headings, without the findings.

        For a report that shows :attr:`findings` (and :attr:`messages`) once already: the channel
        estimates, omnibus test, pairwise gaps, gaps to best / target / benchmark and consistency;
        the mix adjustment's estimates, gaps, reference mix, design effects and decomposition; the
        reason x channel matrix, best channel per reason and shift opportunities; the change over
        time. Every label is HTML-escaped. :meth:`_repr_html_` (for notebooks) shows each part's
        findings with its tables instead.
        """
        return "\n".join(_html(part._html_title(), [], part._html_tables())
                         for part in (self.channels, self.mix, self.matrix, self.change) if part is not None)


def gaps_section(responses, *, period=None, compare_to=None, metric: str = "csat", target: float | None = None,
                 benchmark: tuple | None = (70, 80), reference_mix="overall", by: str = "channel",
                 reason: str = "contact_reason", scale=None, min_n: int = MIN_N, level: float = 0.95,
                 correction: str = "holm", column: str = "interaction_at", period_column: str | None = None,
                 fy_start: int | None = None, cluster: str | None = None, n_boot: int = 1000,
                 seed=0) -> GapReport:
    """The gap-analysis section of a report in one call.

    Parameters
    ----------
    responses : DataFrame
        Responses in the canonical schema.
    period : str, optional
        The period analysed (e.g. ``"2026Q3"``); all responses when omitted.
    compare_to : str, optional
        The comparison period (default: the period before ``period``).
    metric : {"csat", "mean_score", "nps", "ces", "ces_low_effort"}
        Metric of the channel gaps. The mix adjustment and the reason x channel matrix are always
        on CSAT (when the data holds a CSAT scale).
    target : float, optional
    benchmark : (low, high), optional
        Benchmark band; the default 70-80 is the trade's CSAT band and is only applied to CSAT and
        percentage metrics.
    reference_mix : "overall", a channel, or mapping
        For the mix adjustment.
    cluster : str, optional
        Cluster key (e.g. ``"agent_id"``) of every part: the channel gaps, the mix adjustment (raw,
        standardised, decomposition and model), the reason x channel matrix and the change over
        time all allow for correlated responses with the first-order Rao & Scott correction using
        each channel's design effect (see :func:`channel_gaps`, :func:`mix_adjusted_gaps`), so the
        parts agree with one another. ``None``: every part treats responses as independent.
    seed : int
        Seed of the bootstrap intervals, so that a re-rendered report shows the same figures.

    Returns
    -------
    GapReport
    """
    if not isinstance(responses, pd.DataFrame):
        raise ParameterError(f"`responses` must be a DataFrame, but {type(responses).__name__} was passed.")
    spec = _spec(metric)
    collected: list = []
    # responses without a cluster value count as their own clusters and an absent cluster column leaves
    # every part unclustered, as in each entry point (the message is gathered once, below)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        filled, cluster = _cluster_rows(responses, cluster, collected)
    needed = [by, "score"] + ([cluster] if cluster else [])
    if period is not None:
        needed.append(period_column or column)
    responses = _only_columns(filled, needed, [reason, "scale"])
    data, p, p_label = responses, None, None
    if period is not None:
        data, p = _select_period(responses, period, column, period_column, fy_start)
        p_label = str(p)
        if data.empty:
            raise InputError(f"No responses fall in period {p_label!r}; check `period` and the column {column!r}.")
    if benchmark is not None and spec.factor != 100.0:
        benchmark = None  # a percentage band has no meaning on a mean score
    if benchmark is not None and spec.kind == "nps" and tuple(benchmark) == (70, 80):
        benchmark = None
    groups = None
    if by in responses.columns:
        groups = _sort_labels(responses[by].dropna().unique())
    gap_kwargs = dict(target=target, benchmark=benchmark, correction=correction, level=level, min_n=min_n,
                      scale=scale, cluster=cluster, n_boot=max(n_boot, 100), seed=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatisticalWarning)
        has_csat = _has_kind(data, "csat", scale if spec.scale_kind == "csat" else None)
        with_reasons = reason in data.columns and has_csat
        csat_scale = scale if spec.scale_kind == "csat" else None
        shared = None
        if with_reasons:
            # the period's CSAT counts by channel x reason (x cluster), tabulated once for every part
            _check_mix_args(by, reason, correction, level, min_n, max(n_boot, 100))
            shared = tabulate(data, [by, reason], scale=select_scale(data, csat_scale, kind="csat"), cluster=cluster)
        if shared is not None and spec.scale_kind == "csat":
            # the same table channel_gaps would count from the rows, with the same groups
            channel_groups = _all_groups(data, shared, by, groups)
            channels = channel_gaps(shared.collapse([by]), spec.name, by, groups=channel_groups, **gap_kwargs)
        else:
            channels = channel_gaps(data, spec.name, by, groups=groups, **gap_kwargs)
            channel_groups = _all_groups(data, channels.table, by, groups)
        if cluster and channels.table is not None and channels.table.cluster:
            _note_missing_clusters(channels.table, [])  # the analysed period's responses without one
        mix = matrix = change = None
        if with_reasons:
            deff_base = _group_deffs(shared, by, shared.scale)  # once for the mix and the matrix
            mix = _mix(data, shared, shared.scale, by=by, reason=reason, reference_mix=reference_mix, controls=[],
                       cluster=cluster, model=True, level=level, correction=correction, min_n=min_n, groups=None,
                       n_boot=max(n_boot, 100), seed=seed, messages=[], deff_base=deff_base)
            matrix = _reason_channel(data, shared, shared.scale, by=by, reason=reason, min_n=min_n, level=level,
                                     correction=correction, shift_share=0.25, groups=None, messages=[],
                                     deff_base=deff_base)
        elif reason not in data.columns:
            collected.append(f"No {reason!r} column: the mix adjustment and the reason x {by} matrix are skipped.")
        if period is not None:
            try:
                change = _gap_change(responses, data, p, compare_to, spec.name, by, column, period_column, fy_start,
                                     dict(gap_kwargs), current=channels, current_groups=channel_groups)
            except InputError as exc:
                collected.append(f"Gap change not computed: {exc}")
    for w in caught:
        if issubclass(w.category, StatisticalWarning):
            collected.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    messages = list(dict.fromkeys(collected))
    for m in messages:
        warnings.warn(m, StatisticalWarning, stacklevel=2)
    findings = channels.findings()
    if mix is not None:
        findings += mix.findings()
    if matrix is not None:
        findings += matrix.findings()
    if change is not None:
        findings += change.findings()
    return GapReport(channels, mix, matrix, change, findings, messages, p_label,
                     None if change is None else change.compare_to)


def _only_columns(responses: pd.DataFrame, needed: list, optional: list) -> pd.DataFrame:
    """The ``needed`` and ``optional`` columns of ``responses``, or ``responses`` itself when a needed one is missing.

    The analyses select rows several times; copying columns they never read for every selection
    is wasted work. A missing column is left to the analysis to report, with the columns present.
    """
    if any(c not in responses.columns for c in needed):
        return responses
    return responses[[c for c in dict.fromkeys(needed + optional) if c in responses.columns]]


def _has_kind(data: pd.DataFrame, kind: str, scale) -> bool:
    if scale is not None:
        return get_scale(scale).kind == kind
    if "scale" not in data.columns:
        return False
    from .scales import SCALES

    names = pd.unique(data["scale"].dropna().astype(str))
    return any(n in SCALES and SCALES[n].kind == kind for n in names)
