"""Distribution tails and closed-form proportion statistics for the modules a report runs.

Importing ``scipy.stats`` takes about 0.43 s, and ``statsmodels`` (which imports it) 0.5 s on the
reference machine: more than a quarterly report spends on a million responses once they are read.
What the report's sections use from those packages is small:

- normal, Student-t and chi-square tails and quantiles, which ``scipy.stats`` itself computes with
  the ``scipy.special`` routines called here (``ndtr``, ``ndtri``, ``stdtr``, ``stdtrit``,
  ``chdtrc``);
- the Wilson interval, Newcombe's interval for a difference of proportions, the score test of
  equal proportions, Cohen's h and the Pearson chi-square test of independence, which
  statsmodels and scipy evaluate in closed form, and which are written out below after their
  source (the same operations in the same order);
- a binomial logistic regression on frequency-weighted cells (:func:`logit_fit`), the IRLS fit of
  ``statsmodels.GLM(family=Binomial())`` with its model-based or cluster-robust covariance.

``tests/test_dist.py`` checks every function against ``scipy.stats`` and ``statsmodels`` on grids
that include the edge cases (n = 0 or 1, all or none satisfied, extreme levels, tiny and huge
degrees of freedom). Everything else (other interval methods, multiple-testing procedures, the
QA-scorecard models) still comes from scipy and statsmodels, imported where it is used.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = [
    "norm_cdf",
    "norm_sf",
    "norm_ppf",
    "norm_isf",
    "t_sf",
    "t_ppf",
    "chi2_sf",
    "wilson_interval",
    "newcombe_diff_interval",
    "score_test_equal_proportions",
    "cohens_h",
    "chi2_independence",
    "LogitFit",
    "logit_fit",
]


# ---------------------------------------------------------------------------------------------
# distributions (scipy.stats.norm / t / chi2 compute these with the same special functions)


def norm_cdf(x):
    """``scipy.stats.norm.cdf``."""
    return special.ndtr(x)


def norm_sf(x):
    """``scipy.stats.norm.sf``."""
    return special.ndtr(-np.asarray(x, dtype=float))


def norm_ppf(q):
    """``scipy.stats.norm.ppf``."""
    return special.ndtri(q)


def norm_isf(q):
    """``scipy.stats.norm.isf``."""
    return -special.ndtri(q)


def t_sf(x, df):
    """``scipy.stats.t.sf``; ``df = inf`` is the normal."""
    x, df = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(df, dtype=float))
    return np.where(np.isinf(df), special.ndtr(-x), special.stdtr(df, -x))


def t_ppf(q, df):
    """``scipy.stats.t.ppf``; ``df = inf`` is the normal."""
    q, df = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(df, dtype=float))
    with np.errstate(invalid="ignore"):
        out = np.where(np.isinf(df), special.ndtri(q), special.stdtrit(df, q))
    # stdtrit gives +inf at q = 0; scipy's ppf is -inf there (and NaN for df <= 0)
    return np.where((q == 0) & (df > 0), -np.inf, out)


def chi2_sf(x, df):
    """``scipy.stats.chi2.sf``: 1 at x <= 0 (a statistic of -1e-13 is a rounded 0), NaN for df <= 0."""
    x, df = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(df, dtype=float))
    with np.errstate(invalid="ignore"):
        out = special.chdtrc(df, np.maximum(x, 0.0))
    return np.where(df > 0, np.where(np.isposinf(x), 0.0, out), np.nan)


# ---------------------------------------------------------------------------------------------
# proportions (statsmodels.stats.proportion, closed forms)


def wilson_interval(count, nobs, alpha: float = 0.05):
    """``statsmodels.stats.proportion.proportion_confint(count, nobs, alpha, method="wilson")``."""
    count = np.asarray(count, dtype=float)
    nobs = np.asarray(nobs, dtype=float)
    q_ = count / nobs
    crit = norm_isf(alpha / 2)
    crit2 = crit**2
    denom = 1 + crit2 / nobs
    center = (q_ + crit2 / (2 * nobs)) / denom
    dist = crit * np.sqrt(q_ * (1.0 - q_) / nobs + crit2 / (4.0 * nobs**2))
    dist /= denom
    return np.clip(center - dist, 0, 1), np.clip(center + dist, 0, 1)


def newcombe_diff_interval(count1, nobs1, count2, nobs2, alpha: float = 0.05):
    """Newcombe's hybrid score interval for ``p1 - p2``.

    ``statsmodels.stats.proportion.confint_proportions_2indep(..., method="newcomb", compare="diff")``.
    """
    count1, nobs1, count2, nobs2 = (np.asarray(a, dtype=float) for a in (count1, nobs1, count2, nobs2))
    p1 = count1 / nobs1
    p2 = count2 / nobs2
    diff = p1 - p2
    low1, upp1 = wilson_interval(count1, nobs1, alpha)
    low2, upp2 = wilson_interval(count2, nobs2, alpha)
    d_low = np.sqrt((p1 - low1) ** 2 + (upp2 - p2) ** 2)
    d_upp = np.sqrt((p2 - low2) ** 2 + (upp1 - p1) ** 2)
    return diff - d_low, diff + d_upp


def score_test_equal_proportions(count1, nobs1, count2, nobs2, correction: bool = True):
    """Two-sided score test of ``p1 = p2``: (statistic, p-value).

    ``statsmodels.stats.proportion.test_proportions_2indep(..., method="score", compare="diff",
    correction=correction)``: under the null both proportions are the pooled one, and
    ``correction`` applies Miettinen and Nurminen's factor ``N / (N - 1)`` to the variance.
    """
    count1, nobs1, count2, nobs2 = (np.asarray(a, dtype=float) for a in (count1, nobs1, count2, nobs2))
    nobs = nobs1 + nobs2
    prop = (count1 + count2) / nobs
    var = prop * (1 - prop) / nobs1 + prop * (1 - prop) / nobs2
    if correction:
        var = var * (nobs / (nobs - 1))
    statistic = (count1 / nobs1 - count2 / nobs2) / np.sqrt(var)
    return statistic, norm_sf(np.abs(statistic)) * 2


def cohens_h(prop1, prop2):
    """Cohen's h, ``statsmodels.stats.proportion.proportion_effectsize(prop1, prop2)``."""
    return 2 * (np.arcsin(np.sqrt(prop1)) - np.arcsin(np.sqrt(prop2)))


def chi2_independence(observed):
    """Pearson's chi-square test of independence without continuity correction.

    ``scipy.stats.chi2_contingency(observed, correction=False)`` for a 2-D table:
    (statistic, p-value, degrees of freedom, expected counts), with scipy's errors for a negative
    count or an expected count of zero.
    """
    observed = np.asarray(observed, dtype=float)
    if observed.ndim != 2:
        raise ValueError(f"`observed` must be a 2-D table, but it has {observed.ndim} dimensions.")
    if np.any(observed < 0):
        raise ValueError("All values in `observed` must be nonnegative.")
    if observed.size == 0:
        raise ValueError("No data; `observed` has size 0.")
    total = observed.sum()
    expected = np.outer(observed.sum(1), observed.sum(0)) / total
    if np.any(expected == 0):
        zeropos = list(zip(*np.nonzero(expected == 0)))[0]
        raise ValueError(f"The internally computed table of expected frequencies has a zero element at {zeropos}.")
    dof = expected.size - sum(expected.shape) + expected.ndim - 1
    if dof == 0:
        return 0.0, 1.0, dof, expected
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return statistic, float(chi2_sf(statistic, dof)), dof, expected


# ---------------------------------------------------------------------------------------------
# binomial logistic regression on frequency-weighted cells


class LogitFit:
    """A fitted binomial logit model: ``params``, ``cov`` (covariance of the parameters),
    ``cov_type`` ("nonrobust" or "cluster"), ``perfect`` (every cell predicted exactly at some
    iteration: perfect separation or prediction), ``iterations``, ``converged``."""

    __slots__ = ("params", "cov", "cov_type", "perfect", "iterations", "converged")

    def __init__(self, params, cov, cov_type, perfect, iterations, converged):
        self.params = params
        self.cov = cov
        self.cov_type = cov_type
        self.perfect = perfect
        self.iterations = iterations
        self.converged = converged

    @property
    def bse(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))


#: statsmodels keeps fitted probabilities this far from 0 and 1 in the IRLS weights (``Logit._clean``).
_EPS = np.finfo(float).eps


def _deviance(y, mu, freq) -> float:
    # statsmodels' Binomial deviance for 0/1 outcomes, 2 * sum f * (y log(y/mu) + (1-y) log((1-y)/(1-mu))),
    # with its 1e-20 guards: the stopping rule then sees the same numbers
    return float(2 * (freq * np.where(y > 0, -np.log(mu + 1e-20), -np.log(1 - mu + 1e-20))).sum())


def logit_fit(y, X, freq, *, groups=None, scaling_factor: float = 1.0, maxiter: int = 100,
              tol: float = 1e-8) -> LogitFit:
    """Binomial GLM with the logit link on rows with frequency weights, by IRLS.

    What ``statsmodels.GLM(y, X, family=Binomial(), freq_weights=freq).fit(**kw)`` computes, with
    ``kw = {}`` (model-based covariance) or, when ``groups`` is given,
    ``kw = dict(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False,
    "scaling_factor": scaling_factor})`` (the sandwich ``H^-1 S H^-1`` with ``S`` the sum over
    clusters of the outer products of their summed scores, times ``scaling_factor``). The
    iterations run as statsmodels' do (start at ``mu = (y + 1/2) / 2``, keep the probabilities in
    the weights within machine epsilon of 0 and 1, solve each step by least squares, stop when the
    deviance changes by less than ``tol``), so the two agree to rounding, separated data included
    (tested).

    Raises ``numpy.linalg.LinAlgError`` when the cluster-robust covariance cannot be formed
    (a singular Hessian).
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    freq = np.asarray(freq, dtype=float)
    mu = (y + 0.5) / 2
    eta = np.log(mu / (1 - mu))
    dev = _deviance(y, mu, freq)
    params = np.zeros(X.shape[1])
    perfect = converged = False
    iterations = 0
    for iterations in range(1, maxiter + 1):
        clean = np.clip(mu, _EPS, 1 - _EPS)  # a probability of exactly 0 or 1 would make a zero weight
        var = clean * (1 - clean)
        w = freq * var
        z = eta + (y - mu) / var
        xtw = X.T * w
        root = np.sqrt(w)
        params = np.linalg.lstsq(X * root[:, None], z * root, rcond=None)[0]
        eta = X @ params
        mu = special.expit(eta)
        new_dev = _deviance(y, mu, freq)
        if np.allclose(mu - y, 0):
            perfect = True
        if abs(new_dev - dev) <= tol:
            converged = True
            break
        dev = new_dev
    if groups is None:
        # statsmodels reports the (pseudo-)inverse of the last iteration's weighted cross-product
        return LogitFit(params, np.linalg.pinv(xtw @ X), "nonrobust", perfect, iterations, converged)
    # the sandwich is evaluated at the estimates: Hessian and scores at the final mu
    clean = np.clip(mu, _EPS, 1 - _EPS)
    bread = np.linalg.inv((X.T * (freq * clean * (1 - clean))) @ X)
    scores = X * (freq * (y - mu))[:, None]
    codes, _ = _codes(groups)
    summed = np.zeros((codes.max() + 1, X.shape[1]))
    np.add.at(summed, codes, scores)
    meat = summed.T @ summed
    cov = scaling_factor * (bread @ meat @ bread)
    return LogitFit(params, cov, "cluster", perfect, iterations, converged)


def _codes(groups):
    groups = np.asarray(groups)
    uniques, codes = np.unique(groups, return_inverse=True)
    return codes.ravel(), uniques
