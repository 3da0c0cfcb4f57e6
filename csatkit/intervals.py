"""Confidence intervals computed from counts.

* proportions (CSAT, low-effort share, response rate, FCR): Wilson by default; Agresti-Coull,
  Jeffreys and Clopper-Pearson through :func:`statsmodels.stats.proportion.proportion_confint`;
* NPS: Wald with the multinomial variance, or the adjusted-Wald variant;
* means (mean score, CES): Student t;
* any statistic: a bootstrap that redraws the counts from a multinomial (never the rows);
* weights: the Kish effective sample size, and design effects for clustered responses.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. JASA 22.
Brown, L. D., Cai, T. T., DasGupta, A. (2001). Interval estimation for a binomial proportion. Stat. Sci. 16.
Rocks, B. (2016). Interval estimation for the "net promoter score". The American Statistician 70(4).
Kish, L. (1965). Survey Sampling. Wiley.
"""

from __future__ import annotations

import numpy as np

from ._dist import norm_ppf, t_ppf, wilson_interval
from ._validate import check_choice, check_range

__all__ = [
    "PROPORTION_METHODS",
    "NPS_METHODS",
    "proportion_ci",
    "nps_ci",
    "mean_ci",
    "kish_n_eff",
    "design_effect",
    "bootstrap_counts",
    "z_value",
]

#: csatkit name -> statsmodels ``proportion_confint`` method.
PROPORTION_METHODS = {
    "wilson": "wilson",
    "agresti_coull": "agresti_coull",
    "jeffreys": "jeffreys",
    "clopper_pearson": "beta",
}
NPS_METHODS = ("wald", "adjusted_wald")


def z_value(level: float) -> float:
    """Two-sided standard normal quantile for a confidence level, e.g. 1.95996 for 0.95."""
    check_range("level", level, 0, 1, inclusive=False)
    return float(norm_ppf(0.5 + level / 2))


def proportion_ci(count, nobs, *, level: float = 0.95, method: str = "wilson"):
    """Interval for a binomial proportion, vectorised.

    ``count`` and ``nobs`` may be non-integer (an effective count ``p * n_eff`` for weighted or
    clustered data). Groups with ``nobs == 0`` get NaN bounds.

    Returns
    -------
    (low, high) : arrays of proportions in [0, 1]
    """
    check_choice("method", method, PROPORTION_METHODS)
    check_range("level", level, 0, 1, inclusive=False)
    count = np.atleast_1d(np.asarray(count, dtype=float))
    nobs = np.atleast_1d(np.asarray(nobs, dtype=float))
    low = np.full(np.broadcast(count, nobs).shape, np.nan)
    high = low.copy()
    ok = np.broadcast_to(nobs > 0, low.shape)
    if ok.any():
        c = np.broadcast_to(count, low.shape)[ok]
        n = np.broadcast_to(nobs, low.shape)[ok]
        c = np.clip(c, 0, n)
        if method == "wilson":
            lo, hi = wilson_interval(c, n, alpha=1 - level)  # closed form (csatkit._dist), as statsmodels'
        else:
            from statsmodels.stats.proportion import proportion_confint

            lo, hi = proportion_confint(c, n, alpha=1 - level, method=PROPORTION_METHODS[method])
        low[ok] = np.clip(lo, 0, 1)
        high[ok] = np.clip(hi, 0, 1)
    return low, high


def nps_ci(promoters, detractors, n, *, level: float = 0.95, method: str = "wald"):
    r"""Interval for the net promoter score on the -1..1 scale, vectorised.

    ``wald``: :math:`\hat\theta = p_+ - p_-`, :math:`\widehat{V} = (p_+ + p_- - \hat\theta^2)/n`,
    interval :math:`\hat\theta \pm z\sqrt{\widehat V}`.

    ``adjusted_wald`` (Rocks 2016): add 3/4 to the promoters and to the detractors and 3 to n,
    then apply the Wald formula to the adjusted shares. Better coverage at small n and near ±1.

    ``promoters``, ``detractors`` and ``n`` may be effective (non-integer) counts. Bounds are
    clipped to [-1, 1]; ``n == 0`` gives NaN.

    Returns
    -------
    (low, high, se) : arrays; ``se`` is the Wald standard error of the unadjusted estimate
    """
    check_choice("method", method, NPS_METHODS)
    z = z_value(level)
    pro = np.atleast_1d(np.asarray(promoters, dtype=float))
    det = np.atleast_1d(np.asarray(detractors, dtype=float))
    n = np.atleast_1d(np.asarray(n, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        pp, pd_ = pro / n, det / n
        theta = pp - pd_
        se = np.sqrt(np.maximum(pp + pd_ - theta**2, 0) / n)
        if method == "adjusted_wald":
            na = n + 3
            pp, pd_ = (pro + 0.75) / na, (det + 0.75) / na
            centre = pp - pd_
            half = z * np.sqrt(np.maximum(pp + pd_ - centre**2, 0) / na)
        else:
            centre, half = theta, z * se
    low = np.where(n > 0, np.clip(centre - half, -1, 1), np.nan)
    high = np.where(n > 0, np.clip(centre + half, -1, 1), np.nan)
    return low, high, np.where(n > 0, se, np.nan)


def mean_ci(mean, se, df, *, level: float = 0.95):
    """Student-t interval ``mean ± t(df) * se``, vectorised; df < 1 gives NaN."""
    check_range("level", level, 0, 1, inclusive=False)
    mean, se, df = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (mean, se, df))
    ok = df >= 1
    t = np.full(np.broadcast(mean, df).shape, np.nan)
    t[np.broadcast_to(ok, t.shape)] = t_ppf(0.5 + level / 2, np.broadcast_to(df, t.shape)[np.broadcast_to(ok, t.shape)])
    return mean - t * se, mean + t * se


def kish_n_eff(w_sum, w2_sum):
    r"""Kish's effective sample size :math:`n_{eff} = (\sum w)^2 / \sum w^2`, vectorised."""
    w_sum = np.asarray(w_sum, dtype=float)
    w2_sum = np.asarray(w2_sum, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w2_sum > 0, w_sum**2 / w2_sum, 0.0)


def design_effect(values, cluster_counts, cluster_w=None, cluster_w2=None):
    r"""Design effect of clustering for a (weighted) mean of per-point ``values`` in one group.

    Parameters
    ----------
    values : array (K,)
        The value each scale point contributes (1/0 for a proportion, ±1/0 for NPS, the point for a mean).
    cluster_counts : array (C, K)
        Responses per cluster per scale point.
    cluster_w, cluster_w2 : array (C, K), optional
        Sums of weights and of squared weights per cluster per point (default: the counts).

    Returns
    -------
    dict with ``estimate``; ``var``, the linearised variance with clusters as primary units,
    :math:`\frac{C}{C-1}\sum_c (T_c - \hat\theta M_c)^2 / M^2`; ``var_srs``, the same estimator
    treating responses as independent, :math:`\frac{n}{n-1}\sum_k w^{(2)}_k (v_k - \hat\theta)^2 / M^2`;
    ``deff``, their ratio floored at 1 (clustering never claims more precision than independent
    responses); ``n_clusters``.
    """
    values = np.asarray(values, dtype=float)
    counts = np.asarray(cluster_counts, dtype=float)
    w = counts if cluster_w is None else np.asarray(cluster_w, dtype=float)
    w2 = counts if cluster_w2 is None else np.asarray(cluster_w2, dtype=float)
    m_c = w.sum(axis=1)
    t_c = w @ values
    m = m_c.sum()
    c = int((counts.sum(axis=1) > 0).sum())
    n = counts.sum()
    if m <= 0:
        return {"estimate": np.nan, "var": np.nan, "var_srs": np.nan, "deff": np.nan, "n_clusters": c}
    est = t_c.sum() / m
    var = (c / (c - 1)) * ((t_c - est * m_c) ** 2).sum() / m**2 if c > 1 else np.nan
    var_srs = (n / (n - 1)) * (w2.sum(axis=0) * (values - est) ** 2).sum() / m**2 if n > 1 else np.nan
    if np.isfinite(var) and np.isfinite(var_srs) and var_srs > 0:
        deff = max(var / var_srs, 1.0)
    else:
        deff = 1.0
    return {"estimate": est, "var": var, "var_srs": var_srs, "deff": deff, "n_clusters": c}


def bootstrap_counts(counts, statistic, *, n_boot: int = 2000, level: float = 0.95, seed=None):
    """Percentile bootstrap of a statistic of one group's counts, redrawing the counts from a multinomial.

    Parameters
    ----------
    counts : array (K,)
        Responses per scale point (may be effective, non-integer counts; they are rounded to the
        nearest integer total with the observed shares).
    statistic : callable
        Maps an array (B, K) of counts to B values.
    n_boot : int
        Bootstrap replicates.

    Returns
    -------
    (low, high) : floats (NaN when the group is empty)
    """
    check_range("n_boot", n_boot, 100, None)
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    if total <= 0:
        return np.nan, np.nan
    n = max(int(round(total)), 1)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / total, size=int(n_boot))
    vals = np.asarray(statistic(draws), dtype=float)
    alpha = 1 - level
    return float(np.nanquantile(vals, alpha / 2)), float(np.nanquantile(vals, 1 - alpha / 2))
