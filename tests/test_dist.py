"""csatkit._dist against the scipy.stats and statsmodels functions it stands in for."""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from scipy import stats
from statsmodels.genmod.families import Binomial
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    test_proportions_2indep as sm_test_proportions_2indep,
)

from csatkit import _dist

Q = np.array([0.0, 1e-12, 1e-6, 0.001, 0.025, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.975, 0.999, 1 - 1e-9, 1.0])
X = np.array([-np.inf, -40.0, -8.0, -3.0, -1.96, -0.5, 0.0, 0.3, 1.0, 1.645, 2.5, 6.0, 38.0, np.inf])
DF = np.array([0.5, 1.0, 1.5, 2.0, 3.0, 7.0, 29.0, 30.5, 120.0, 1e4, 1e7, np.inf])


def test_normal_functions_equal_scipy():
    np.testing.assert_allclose(_dist.norm_cdf(X), stats.norm.cdf(X), rtol=1e-14, atol=0)
    np.testing.assert_allclose(_dist.norm_sf(X), stats.norm.sf(X), rtol=1e-14, atol=0)
    np.testing.assert_allclose(_dist.norm_ppf(Q), stats.norm.ppf(Q), rtol=1e-14, atol=0)
    np.testing.assert_allclose(_dist.norm_isf(Q), stats.norm.isf(Q), rtol=1e-14, atol=0)
    assert _dist.norm_ppf(0.975) == pytest.approx(1.959963984540054, rel=1e-15)  # the textbook 1.96


def test_t_functions_equal_scipy():
    xx, dd = np.meshgrid(X[np.isfinite(X)], DF)
    np.testing.assert_allclose(_dist.t_sf(xx, dd), stats.t.sf(xx, dd), rtol=1e-12, atol=1e-300)
    qq, dd = np.meshgrid(Q[(Q > 0) & (Q < 1)], DF)
    np.testing.assert_allclose(_dist.t_ppf(qq, dd), stats.t.ppf(qq, dd), rtol=1e-10)
    # published table: t(0.975; 10) = 2.228
    assert float(_dist.t_ppf(0.975, 10)) == pytest.approx(2.228, abs=5e-4)
    # the ends and invalid degrees of freedom, as scipy's
    ends, dd = np.meshgrid([0.0, 1.0], DF)
    np.testing.assert_array_equal(_dist.t_ppf(ends, dd), stats.t.ppf(ends, dd))
    assert np.isnan(_dist.t_ppf(0.975, 0.0)) and np.isnan(stats.t.ppf(0.975, 0.0))


def test_chi2_sf_equals_scipy():
    xx, dd = np.meshgrid([-1.0, -1e-13, 0.0, 0.1, 1.0, 3.84, 10.0, 100.0, 1e4, np.inf], [1, 2, 3, 10, 50, 500, np.inf])
    np.testing.assert_allclose(_dist.chi2_sf(xx, dd), stats.chi2.sf(xx, dd), rtol=1e-12, atol=1e-300)
    assert np.isnan(_dist.chi2_sf(1.0, 0.0)) and np.isnan(stats.chi2.sf(1.0, 0.0))
    assert float(_dist.chi2_sf(3.841458820694124, 1)) == pytest.approx(0.05, rel=1e-12)


def _counts():
    rows = []
    for n in (1, 2, 5, 30, 400, 10_000, 2.5, 37.3):  # effective (non-integer) counts occur with weights
        for share in (0.0, 0.01, 0.3, 0.5, 0.77, 0.99, 1.0):
            rows.append((share * n, n))
    return np.array(rows).T


@pytest.mark.parametrize("level", [0.8, 0.95, 0.99, 0.999])
def test_wilson_equals_statsmodels(level):
    count, nobs = _counts()
    lo, hi = _dist.wilson_interval(count, nobs, alpha=1 - level)
    rlo, rhi = proportion_confint(count, nobs, alpha=1 - level, method="wilson")
    np.testing.assert_allclose(lo, rlo, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(hi, rhi, rtol=1e-13, atol=1e-15)


def test_wilson_hand_example():
    # 81 of 100 satisfied, z = 1.959964: centre (0.81 + z^2/200) / (1 + z^2/100), half-width
    # z sqrt(0.81 * 0.19 / 100 + z^2 / 40000) / (1 + z^2/100) = 0.79853 -+ 0.07632: 0.7222 to 0.8749
    lo, hi = _dist.wilson_interval(81, 100)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.7222, 0.8749)


def _pairs():
    c1, n1 = _counts()
    i, j = np.meshgrid(np.arange(len(n1)), np.arange(len(n1)))
    return c1[i.ravel()], n1[i.ravel()], c1[j.ravel()], n1[j.ravel()]


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_newcombe_equals_statsmodels(level):
    x1, n1, x2, n2 = _pairs()
    lo, hi = _dist.newcombe_diff_interval(x1, n1, x2, n2, alpha=1 - level)
    rlo, rhi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=1 - level)
    np.testing.assert_allclose(lo, rlo, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hi, rhi, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("correction", [True, False])
def test_score_test_equals_statsmodels(correction):
    x1, n1, x2, n2 = _pairs()
    pooled = (x1 + x2) / (n1 + n2)
    keep = (pooled > 0) & (pooled < 1) & (n1 + n2 > 1)  # the callers handle the degenerate cases themselves
    x1, n1, x2, n2 = x1[keep], n1[keep], x2[keep], n2[keep]
    z, p = _dist.score_test_equal_proportions(x1, n1, x2, n2, correction=correction)
    with np.errstate(divide="ignore"):  # statsmodels also computes the ratios, infinite here for p2 = 0
        ref = sm_test_proportions_2indep(x1, n1, x2, n2, method="score", compare="diff", correction=correction)
    np.testing.assert_allclose(z, ref.statistic, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(p, ref.pvalue, rtol=1e-12, atol=1e-300)


def test_score_test_is_the_pooled_z_test_squared_chi2():
    # without correction the score test of p1 = p2 is Pearson's chi-square on the 2x2 table
    z, p = _dist.score_test_equal_proportions(45, 60, 30, 55, correction=False)
    chi2, p_chi2, _, _ = stats.chi2_contingency([[45, 15], [30, 25]], correction=False)
    assert float(z) ** 2 == pytest.approx(chi2, rel=1e-12)
    assert float(p) == pytest.approx(p_chi2, rel=1e-10)


def test_cohens_h_equals_statsmodels():
    p = np.array([0.0, 0.1, 0.5, 0.8, 1.0])
    a, b = np.meshgrid(p, p)
    np.testing.assert_allclose(_dist.cohens_h(a, b), proportion_effectsize(a, b), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("table", [
    [[10, 20], [30, 40]],
    [[1, 0], [0, 1]],
    [[120, 30, 5], [80, 60, 10], [5, 5, 90]],
    [[3.5, 2.25], [1.0, 7.75]],  # effective counts
    [[5, 5, 5]],                  # one row: no degrees of freedom
])
def test_chi2_independence_equals_scipy(table):
    stat, p, dof, expected = _dist.chi2_independence(table)
    ref = stats.chi2_contingency(table, correction=False)
    assert stat == pytest.approx(ref.statistic, rel=1e-12, abs=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-10, abs=1e-300)
    assert dof == ref.dof
    np.testing.assert_allclose(expected, ref.expected_freq, rtol=1e-14)


@pytest.mark.parametrize("table, message", [
    ([[1, -1], [2, 3]], "nonnegative"),
    ([[0, 0], [2, 3]], "expected frequencies has a zero element"),
])
def test_chi2_independence_refuses_what_scipy_refuses(table, message):
    with pytest.raises(ValueError, match=message):
        _dist.chi2_independence(table)
    with pytest.raises(ValueError, match=message):
        stats.chi2_contingency(table, correction=False)


def _cells(rng, n_cells=240, k=5):
    X = np.column_stack([np.ones(n_cells), rng.integers(0, 2, (n_cells, k - 1)).astype(float)])
    y = rng.integers(0, 2, n_cells).astype(float)
    freq = rng.integers(1, 60, n_cells).astype(float)
    groups = rng.integers(0, 25, n_cells)
    return y, X, freq, groups


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logit_fit_equals_statsmodels_glm(seed):
    y, X, freq, groups = _cells(np.random.default_rng(seed))
    mine = _dist.logit_fit(y, X, freq)
    ref = GLM(y, X, family=Binomial(), freq_weights=freq).fit()
    assert mine.cov_type == "nonrobust" and mine.converged and not mine.perfect
    np.testing.assert_allclose(mine.params, ref.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mine.cov, ref.cov_params(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(mine.bse, ref.bse, rtol=1e-10)


@pytest.mark.parametrize("seed", [3, 4])
def test_logit_fit_cluster_covariance_equals_statsmodels(seed):
    y, X, freq, groups = _cells(np.random.default_rng(seed))
    mine = _dist.logit_fit(y, X, freq, groups=groups, scaling_factor=1.37)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels: "cov_type not fully supported with freq_weights"
        ref = GLM(y, X, family=Binomial(), freq_weights=freq).fit(
            cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False, "scaling_factor": 1.37})
    assert mine.cov_type == "cluster"
    np.testing.assert_allclose(mine.params, ref.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mine.cov, ref.cov_params(), rtol=1e-10, atol=1e-14)


def test_logit_fit_on_cells_equals_the_fit_on_rows():
    # a frequency weight f is f identical rows: fit 3 cells with weights, and the 3 * f rows
    y = np.array([1.0, 0.0, 1.0, 0.0])
    X = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    freq = np.array([30.0, 10.0, 12.0, 18.0])
    cells = _dist.logit_fit(y, X, freq)
    rows = GLM(np.repeat(y, freq.astype(int)), np.repeat(X, freq.astype(int), axis=0), family=Binomial()).fit()
    np.testing.assert_allclose(cells.params, rows.params, rtol=1e-10)
    np.testing.assert_allclose(cells.bse, rows.bse, rtol=1e-10)
    # closed form: intercept = logit(30/40), slope = logit(12/30) - logit(30/40)
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    np.testing.assert_allclose(cells.params, [logit(0.75), logit(0.4) - logit(0.75)], rtol=1e-10)


def test_logit_fit_flags_perfect_prediction_like_statsmodels():
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    y = np.array([1.0, 1.0, 0.0, 0.0])
    X = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    freq = np.array([5.0, 3.0, 4.0, 2.0])
    mine = _dist.logit_fit(y, X, freq)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GLM(y, X, family=Binomial(), freq_weights=freq).fit()
    assert mine.perfect
    assert any(issubclass(w.category, PerfectSeparationWarning) for w in caught)


@pytest.mark.parametrize("cluster", [False, True])
def test_logit_fit_with_a_cell_fitted_at_exactly_one_equals_statsmodels(cluster):
    # one channel where everyone is satisfied and a reason where everyone is: the fitted probability of
    # their cells rounds to 1, where an unclipped IRLS weight p(1 - p) would be 0 (and the fit NaN)
    cells = [(1, 0, 0, 5), (0, 0, 0, 3), (1, 0, 1, 18), (0, 0, 1, 3), (1, 0, 2, 4), (1, 1, 0, 22), (1, 1, 1, 1),
             (1, 1, 2, 7)]
    y = np.array([c[0] for c in cells], dtype=float)
    X = np.array([[1.0, c[1], c[2] == 1, c[2] == 2] for c in cells], dtype=float)
    freq = np.array([c[3] for c in cells], dtype=float)
    groups = np.array([0, 1, 0, 1, 2, 2, 3, 3]) if cluster else None
    mine = _dist.logit_fit(y, X, freq, groups=groups, scaling_factor=1.0)
    kw = {"cov_type": "cluster", "cov_kwds": {"groups": groups, "use_correction": False}} if cluster else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = GLM(y, X, family=Binomial(), freq_weights=freq).fit(**kw)
    assert np.isfinite(mine.params).all() and np.isfinite(mine.cov).all()
    np.testing.assert_allclose(mine.params, ref.params, rtol=1e-8)
    np.testing.assert_allclose(ref.predict(X), 1 / (1 + np.exp(-(X @ mine.params))), rtol=1e-12)
    if not cluster:
        np.testing.assert_allclose(mine.cov, ref.cov_params(), rtol=1e-6, atol=1e-12)
    # (statsmodels' cluster covariance is NaN here: its observed Hessian takes 0 * inf at p = 1;
    # mix_adjusted_gaps does not show an interval for such a group either, see tests/test_gaps.py)


def test_report_modules_import_neither_scipy_stats_nor_statsmodels(tmp_path):
    # the reason csatkit._dist exists: the quarterly report's sections run without importing them (the
    # QA-scorecard section, shown when QA evaluations are given, fits statsmodels models and is left out)
    code = textwrap.dedent(f"""
        import sys, warnings
        warnings.simplefilter("ignore")
        import matplotlib
        matplotlib.use("agg")
        from csatkit import sections, synth
        path = r"{tmp_path / 'responses.csv'}"
        synth.generate(n_contacts=6000, seed=3).responses.to_csv(path, index=False)
        ctx = sections.prepare(path, period="2026Q3")
        for name in ["title", "executive_summary", "trend", "channels", "reason_by_channel", "channel_gaps",
                     "service_recovery", "data_quality", "methods", "provenance_section"]:
            getattr(sections, name)(ctx)._repr_html_()
        print(sorted(m for m in ("scipy.stats", "statsmodels") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
