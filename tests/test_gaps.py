"""Tests of csatkit.gaps and csatkit.plots_gaps.

Expected values come from scipy / statsmodels run on the same counts (or on the rows the counts
stand for), from hand calculations written out next to the test, and from seeded simulations with
known truth. The data are simulated here (not with csatkit.synth) so that the truth is explicit.
"""

from __future__ import annotations

import html
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import statsmodels.api as sm  # noqa: E402
import statsmodels.formula.api as smf  # noqa: E402
from scipy import stats  # noqa: E402
from statsmodels.stats.multitest import multipletests  # noqa: E402
from statsmodels.stats.power import NormalIndPower  # noqa: E402
from statsmodels.stats.proportion import (  # noqa: E402
    confint_proportions_2indep,
    proportion_effectsize,
    proportion_confint,
    proportions_ztest,
)
from statsmodels.stats.proportion import test_proportions_2indep as score_test_2indep  # noqa: E402

from csatkit import gaps  # noqa: E402
from csatkit.counts import tabulate  # noqa: E402
from csatkit.exceptions import InputError, ParameterError, StatisticalWarning  # noqa: E402
from csatkit.metrics import csat, nps  # noqa: E402
from csatkit.plots_gaps import (  # noqa: E402
    plot_channel_estimates,
    plot_gap_waterfall,
    plot_reason_channel_heatmap,
)

# ---------------------------------------------------------------------------------------------
# simulated data with known truth
# ---------------------------------------------------------------------------------------------


def simulate(cells, *, seed=0, agents=8, start="2026-07-01", days=90, agent_sd=0.0):
    """Rows on the likert5 scale. ``cells`` maps (channel, reason) -> (n, true CSAT in 0-1).

    Satisfied responses score 4 or 5, the others 1-3. With ``agent_sd`` > 0 each agent's log-odds
    are shifted by a normal effect (clustered responses).
    """
    rng = np.random.default_rng(seed)
    frames = []
    for (ch, reason), (n, p) in cells.items():
        if n == 0:
            continue
        agent = rng.integers(agents, size=n)
        logit = np.log(p / (1 - p)) if 0 < p < 1 else (np.inf if p >= 1 else -np.inf)
        shift = rng.normal(0, agent_sd, size=agents)[agent] if agent_sd > 0 else 0.0
        prob = 1 / (1 + np.exp(-(logit + shift)))
        sat = rng.random(n) < prob
        score = np.where(sat, rng.choice([4, 5], size=n), rng.choice([1, 2, 3], size=n))
        frames.append(pd.DataFrame({
            "channel": ch, "contact_reason": reason, "agent_id": [f"{ch}-{a}" for a in agent],
            "team": [f"{ch}-team{a % 2}" for a in agent], "score": score.astype(float), "scale": "likert5",
            "interaction_at": pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, size=n), unit="D"),
        }))
    return pd.concat(frames, ignore_index=True)


def expand(counts, points):
    """Rows (values) from counts per point: what scipy needs."""
    return np.repeat(np.asarray(points, dtype=float), np.asarray(counts, dtype=int))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def three_channels():
    cells = {}
    for ch, p in (("chat", 0.85), ("phone", 0.72), ("email", 0.62), ("social", 0.70)):
        for reason, share in (("billing", 0.5), ("tech", 0.5)):
            cells[(ch, reason)] = (int(400 * share), p)
    return simulate(cells, seed=11)


# ---------------------------------------------------------------------------------------------
# statistics equal scipy / statsmodels on the same counts
# ---------------------------------------------------------------------------------------------


def test_omnibus_and_pairwise_proportions_equal_scipy_statsmodels(three_channels):
    res = gaps.channel_gaps(three_channels, seed=0)
    est = res.estimates.set_index("channel")
    x = est["satisfied"].to_numpy(dtype=float)
    n = est["n"].to_numpy(dtype=float)
    # omnibus: scipy chi-square on the satisfied / not satisfied x channel table, no continuity correction
    table = np.column_stack([x, n - x])
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    om = res.omnibus.iloc[0]
    assert om["test"] == "chi_square"
    assert om["statistic"] == pytest.approx(chi2, rel=1e-12)
    assert om["p_value"] == pytest.approx(p, rel=1e-9)
    assert om["df"] == dof
    # Cramér's V as scipy computes it
    cramer = stats.contingency.association(table.astype(int), method="cramer")
    assert om["effect_size"] == pytest.approx(cramer, rel=1e-12)
    # pairwise: pooled z-test = statsmodels proportions_ztest; Newcombe CI; Cohen's h
    pw = res.pairwise
    assert len(pw) == 6
    raw_p = []
    for _, r in pw.iterrows():
        a, b = est.loc[r["group_a"]], est.loc[r["group_b"]]
        z, pz = proportions_ztest([a["satisfied"], b["satisfied"]], [a["n"], b["n"]])
        lo, hi = confint_proportions_2indep(a["satisfied"], a["n"], b["satisfied"], b["n"], method="newcomb")
        assert r["statistic"] == pytest.approx(z, rel=1e-10)
        assert r["p_value"] == pytest.approx(pz, rel=1e-9)
        assert r["ci_low"] == pytest.approx(100 * lo, rel=1e-12)
        assert r["ci_high"] == pytest.approx(100 * hi, rel=1e-12)
        h = proportion_effectsize(a["satisfied"] / a["n"], b["satisfied"] / b["n"])
        assert r["effect_size"] == pytest.approx(h, rel=1e-12)
        assert r["estimate"] == pytest.approx(a["estimate"] - b["estimate"], abs=1e-10)
        # the pooled z-test squared is the 2x2 chi-square
        c2 = stats.chi2_contingency([[a["satisfied"], a["n"] - a["satisfied"]],
                                     [b["satisfied"], b["n"] - b["satisfied"]]], correction=False)[0]
        assert r["statistic"] ** 2 == pytest.approx(c2, rel=1e-10)
        raw_p.append(pz)
    assert pw["p_adj"].to_numpy() == pytest.approx(multipletests(raw_p, method="holm")[1], rel=1e-12)
    # Benjamini-Hochberg on request
    bh = gaps.channel_gaps(three_channels, correction="bh", seed=0)
    assert bh.pairwise["p_adj"].to_numpy() == pytest.approx(multipletests(raw_p, method="fdr_bh")[1], rel=1e-12)
    # the estimates are those of csatkit.metrics.csat
    ref = csat(three_channels, "channel").set_index("channel")
    assert est["estimate"].to_numpy() == pytest.approx(ref.loc[est.index, "estimate"].to_numpy(), rel=1e-12)


def test_ordinal_scores_kruskal_mannwhitney_cliffs_delta_equal_scipy(three_channels):
    res = gaps.channel_gaps(three_channels, metric="mean_score")
    table = tabulate(three_channels, "channel", scale="likert5")
    wide = table.wide()
    pts = list(wide.columns)
    samples = {g: expand(wide.loc[g], pts) for g in wide.index}
    order = res.estimates["channel"].tolist()
    h, p = stats.kruskal(*[samples[g] for g in order])
    om = res.omnibus.iloc[0]
    assert om["test"] == "kruskal_wallis"
    assert om["statistic"] == pytest.approx(h, rel=1e-10)
    assert om["p_value"] == pytest.approx(p, rel=1e-8)
    raw_p = []
    for _, r in res.pairwise.iterrows():
        xa, xb = samples[r["group_a"]], samples[r["group_b"]]
        mw = stats.mannwhitneyu(xa, xb, method="asymptotic", use_continuity=True)
        assert r["p_value_rank"] == pytest.approx(mw.pvalue, rel=1e-8)
        # Cliff's delta = 2U/(n1 n2) - 1 with scipy's U of the first sample ...
        assert r["effect_size"] == pytest.approx(2 * mw.statistic / (len(xa) * len(xb)) - 1, rel=1e-10)
        # ... and = P(X > Y) - P(X < Y) computed pair by pair
        diff = np.sign(xa[:, None] - xb[None, :])
        assert r["effect_size"] == pytest.approx(diff.mean(), rel=1e-10)
        # Welch interval for the difference of means
        t = stats.ttest_ind(xa, xb, equal_var=False)
        ci = t.confidence_interval(0.95)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
        # ... and Welch's t-test of the same difference
        assert r["statistic"] == pytest.approx(t.statistic, rel=1e-9)
        assert r["p_value"] == pytest.approx(t.pvalue, rel=1e-8)
        raw_p.append(t.pvalue)
    assert res.pairwise["p_adj"].to_numpy() == pytest.approx(multipletests(raw_p, method="holm")[1], rel=1e-8)
    # significant (adjusted) implies the (unadjusted) interval excludes 0
    pw = res.pairwise
    assert (~pw["significant"] | (pw["ci_low"] > 0) | (pw["ci_high"] < 0)).all()


@pytest.mark.parametrize("metric", ["mean_score", "ces"])
def test_mean_gap_test_agrees_with_its_interval(metric):
    # a = 60x5, 30x4, 30x1; b = 100x4, 20x3: means 3.75 vs 3.83, yet the ranks differ strongly
    # (Mann-Whitney p ~ 1e-5). The test of the mean difference must be Welch's, like the interval.
    scores = {"a": [5] * 60 + [4] * 30 + [1] * 30, "b": [4] * 100 + [3] * 20}
    scale = "likert5" if metric == "mean_score" else "ces7"
    if metric == "ces":
        scores = {"a": [7] * 60 + [6] * 30 + [3] * 30, "b": [6] * 100 + [5] * 20}
    df = pd.DataFrame({"channel": ["a"] * 120 + ["b"] * 120, "score": scores["a"] + scores["b"], "scale": scale})
    res = gaps.channel_gaps(df, metric=metric, seed=0)
    pw = res.pairwise
    assert len(pw) == 1
    r = pw.iloc[0]
    xa, xb = np.asarray(scores[r["group_a"]], float), np.asarray(scores[r["group_b"]], float)
    t = stats.ttest_ind_from_stats(xa.mean(), xa.std(ddof=1), len(xa), xb.mean(), xb.std(ddof=1), len(xb),
                                   equal_var=False)
    assert r["statistic"] == pytest.approx(t.statistic, rel=1e-9)
    assert r["p_value"] == pytest.approx(t.pvalue, rel=1e-9)
    assert r["p_adj"] == pytest.approx(t.pvalue, rel=1e-9)  # one pair: nothing to adjust
    excludes_zero = (pw["ci_low"] > 0) | (pw["ci_high"] < 0)
    assert (pw["significant"] == excludes_zero).all()
    assert not r["significant"] and r["p_value"] > 0.05
    # the rank test is kept, as a separate column, with Cliff's delta as effect size
    mw = stats.mannwhitneyu(xa, xb, method="asymptotic", use_continuity=True)
    assert r["p_value_rank"] == pytest.approx(mw.pvalue, rel=1e-8) and r["p_value_rank"] < 1e-4
    assert r["effect_size"] == pytest.approx(np.sign(xa[:, None] - xb[None, :]).mean(), rel=1e-10)
    assert r["effect_measure"] == "cliffs_delta"
    # the gap to the best group follows the interval: not significantly different
    g = res.gaps[(res.gaps["versus"] == "best") & (res.gaps["status"] != "best")].iloc[0]
    assert g["status"] == "not_significantly_different" and not g["significant"]
    assert g["ci_low"] < 0 < g["ci_high"]
    # the omnibus stays Kruskal-Wallis (a test of the distributions, not of the means)
    om = res.omnibus.iloc[0]
    h, p = stats.kruskal(xa, xb)
    assert om["test"] == "kruskal_wallis"
    assert om["statistic"] == pytest.approx(h, rel=1e-10) and om["p_value"] == pytest.approx(p, rel=1e-8)


def test_mean_gap_without_variation_is_decided_like_the_interval():
    # no spread within either group: the interval is the point difference, the test agrees
    df = pd.DataFrame({"channel": ["a"] * 30 + ["b"] * 30 + ["c"] * 30,
                       "score": [5] * 30 + [4] * 30 + [4] * 30, "scale": "likert5"})
    res = gaps.channel_gaps(df, metric="mean_score", seed=0)
    pw = res.pairwise.set_index(["group_a", "group_b"])
    assert pw.loc[("a", "b"), "p_value"] == 0.0 and pw.loc[("a", "b"), "significant"]
    assert pw.loc[("b", "c"), "p_value"] == 1.0 and not pw.loc[("b", "c"), "significant"]
    assert pw["flag"].str.contains("no_variation").all()


def test_nps_gaps_equal_scipy_and_metrics():
    rng = np.random.default_rng(5)
    frames = []
    for ch, probs in (("phone", [0.3, 0.3, 0.4]), ("chat", [0.15, 0.35, 0.5]), ("email", [0.4, 0.3, 0.3])):
        cat = rng.choice(3, size=250, p=probs)
        score = np.where(cat == 0, rng.integers(0, 7, 250), np.where(cat == 1, rng.integers(7, 9, 250),
                                                                     rng.integers(9, 11, 250)))
        frames.append(pd.DataFrame({"channel": ch, "score": score.astype(float), "scale": "nps"}))
    df = pd.concat(frames, ignore_index=True)
    res = gaps.channel_gaps(df, metric="nps")
    ref = nps(df, "channel").set_index("channel")
    est = res.estimates.set_index("channel")
    assert est["estimate"].to_numpy() == pytest.approx(ref.loc[est.index, "estimate"].to_numpy(), rel=1e-12)
    # omnibus: chi-square on detractor / passive / promoter counts
    tri = {}
    for ch, g in df.groupby("channel"):
        s = g["score"]
        tri[ch] = [(s <= 6).sum(), ((s >= 7) & (s <= 8)).sum(), (s >= 9).sum()]
    order = res.estimates["channel"].tolist()
    chi2, p, dof, _ = stats.chi2_contingency(np.array([tri[g] for g in order]), correction=False)
    assert res.omnibus.iloc[0]["statistic"] == pytest.approx(chi2, rel=1e-12)
    assert res.omnibus.iloc[0]["p_value"] == pytest.approx(p, rel=1e-9)
    for _, r in res.pairwise.iterrows():
        a, b = ref.loc[r["group_a"]], ref.loc[r["group_b"]]
        assert r["estimate"] == pytest.approx(a["estimate"] - b["estimate"], abs=1e-10)
        # Wald SE of a difference of independent NPS = sqrt(se_a^2 + se_b^2) (metrics' Wald se)
        assert r["se"] == pytest.approx(np.hypot(a["se"], b["se"]), rel=1e-10)
        # Cliff's delta on the ordered categories, computed pair by pair
        xa = expand(tri[r["group_a"]], [-1, 0, 1])
        xb = expand(tri[r["group_b"]], [-1, 0, 1])
        assert r["effect_size"] == pytest.approx(np.sign(xa[:, None] - xb[None, :]).mean(), rel=1e-10)


def test_adjust_pvalues_equals_multipletests():
    rng = np.random.default_rng(3)
    p = rng.random((50, 15)) ** 3
    for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh"), ("bonferroni", "bonferroni")):
        got = gaps.adjust_pvalues(p, ours)
        want = np.array([multipletests(row, method=theirs)[1] for row in p])
        np.testing.assert_allclose(got, want, rtol=1e-12)
    # NaNs stay out of the family
    q = np.array([0.01, np.nan, 0.04, 0.03])
    got = gaps.adjust_pvalues(q, "holm")
    assert np.isnan(got[1])
    np.testing.assert_allclose(got[[0, 2, 3]], multipletests(q[[0, 2, 3]], method="holm")[1])


def test_minimum_detectable_difference_matches_statsmodels_power():
    power = NormalIndPower()
    for n_a, n_b, p, alpha in ((300, 300, 0.8, 0.05), (120, 480, 0.65, 0.05 / 15), (50, 70, 0.95, 0.01)):
        h = power.solve_power(effect_size=None, nobs1=n_a, alpha=alpha, power=0.8, ratio=n_b / n_a)
        mdd = float(gaps.minimum_detectable_difference(n_a, n_b, p, alpha=alpha))
        phi = 2 * np.arcsin(np.sqrt(p))
        lo, hi = phi - h / 2, phi + h / 2
        shift = -lo if lo < 0 else (np.pi - hi if hi > np.pi else 0)
        want = 100 * (np.sin((hi + shift) / 2) ** 2 - np.sin((lo + shift) / 2) ** 2)
        assert mdd == pytest.approx(want, rel=1e-5)  # solve_power is a root finder
        # power at the detectable difference is the requested power (inverse of the formula) ...
        p_hi = np.sin((hi + shift) / 2) ** 2
        p_lo = p_hi - mdd / 100
        got = float(gaps.power_two_proportions(p_hi, p_lo, n_a, n_b, alpha=alpha))
        assert got == pytest.approx(0.8, abs=1e-6)
        # ... and power_two_proportions equals statsmodels' NormalIndPower
        assert float(gaps.power_two_proportions(0.8, 0.72, n_a, n_b, alpha=alpha)) == pytest.approx(
            power.power(proportion_effectsize(0.8, 0.72), nobs1=n_a, alpha=alpha, ratio=n_b / n_a), rel=1e-10)
    # all satisfied still gives a finite detectable difference (interval shifted inside [0, 1])
    assert 0 < float(gaps.minimum_detectable_difference(300, 300, 1.0)) < 20
    # hand check of the docstring figure: 2 x 300 at 80%, alpha 5%, power 80% -> 9.1 points
    assert float(gaps.minimum_detectable_difference(300, 300, 0.8)) == pytest.approx(9.1, abs=0.05)


def test_pairwise_mdd_uses_holm_first_step_alpha(three_channels):
    res = gaps.channel_gaps(three_channels)
    r = res.pairwise.iloc[0]
    assert r["alpha_mdd"] == pytest.approx(0.05 / 6)
    pooled = (res.estimates.set_index("channel").loc[[r["group_a"], r["group_b"]], "satisfied"].sum()
              / (r["n_a"] + r["n_b"]))
    assert r["mdd"] == pytest.approx(float(gaps.minimum_detectable_difference(r["n_a"], r["n_b"], pooled,
                                                                              alpha=0.05 / 6)), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# simulations: family-wise error under the null, power against the MDD formula
# ---------------------------------------------------------------------------------------------

REPS, K, N = 2000, 6, 300


@pytest.mark.slow
def test_null_simulation_holm_family_wise_false_gap_rate_at_most_5pct():
    # six channels with the same true CSAT (80%), n = 300 each, 2,000 repetitions drawn at once
    rng = np.random.default_rng(20260901)
    x = rng.binomial(N, 0.8, size=(REPS, K))
    out = gaps.compare_proportions(x, N, correction="holm")
    fwer = (out["p_adj"] < 0.05).any(axis=1).mean()
    unadjusted = (out["p_value"] < 0.05).any(axis=1).mean()
    print(f"\nFWER Holm = {fwer:.4f}; unadjusted = {unadjusted:.4f}")
    assert fwer <= 0.05
    assert unadjusted > 0.2  # the trap the correction avoids
    # the vectorised core is what channel_gaps uses: same p_adj on one repetition
    sample = pd.DataFrame({"channel": np.repeat([f"c{i}" for i in range(K)], N),
                           "score": np.concatenate([[5.0] * s + [1.0] * (N - s) for s in x[0]]), "scale": "likert5"})
    res = gaps.channel_gaps(sample, seed=0)
    got = dict(zip(zip(res.pairwise["group_a"], res.pairwise["group_b"]), res.pairwise["p_adj"]))
    i, j = out["i"], out["j"]
    for m in range(len(i)):
        key = (f"c{i[m]}", f"c{j[m]}")
        key = key if key in got else key[::-1]
        assert got[key] == pytest.approx(out["p_adj"][0, m], rel=1e-9)


@pytest.mark.slow
def test_power_simulation_matches_minimum_detectable_difference_formula():
    rng = np.random.default_rng(20260902)
    m = K * (K - 1) // 2
    alpha_pair = 0.05 / m  # Holm's first-step threshold, the alpha the MDD is stated at
    true = np.full(K, 0.80)
    true[0] = 0.72  # one channel 8 points lower
    x = rng.binomial(N, true, size=(REPS, K))
    out = gaps.compare_proportions(x, N, correction="holm")
    with_low = out["i"] == 0  # the 5 pairs (low channel, another)
    empirical = (out["p_adj"][:, with_low] < 0.05).mean()
    predicted = float(gaps.power_two_proportions(0.80, 0.72, N, N, alpha=alpha_pair))
    # external check of the prediction: statsmodels' NormalIndPower
    assert predicted == pytest.approx(NormalIndPower().power(proportion_effectsize(0.80, 0.72), N, alpha_pair),
                                      rel=1e-10)
    any_pair = (out["p_adj"][:, with_low] < 0.05).any(axis=1).mean()
    print(f"\npower per pair: empirical {empirical:.4f}, predicted {predicted:.4f}; any pair {any_pair:.4f}")
    assert abs(empirical - predicted) < 0.04
    # at a true gap equal to the reported MDD, the pair is detected with ~80% power
    mdd = float(gaps.minimum_detectable_difference(N, N, 0.78, alpha=alpha_pair))
    phi = 2 * np.arcsin(np.sqrt(0.78))
    h = (stats.norm.isf(alpha_pair / 2) + stats.norm.ppf(0.8)) * np.sqrt(2 / N)
    p_hi, p_lo = np.sin((phi + h / 2) / 2) ** 2, np.sin((phi - h / 2) / 2) ** 2
    assert 100 * (p_hi - p_lo) == pytest.approx(mdd, rel=1e-12)
    true2 = np.full(K, p_hi)
    true2[0] = p_lo
    x2 = rng.binomial(N, true2, size=(REPS, K))
    out2 = gaps.compare_proportions(x2, N, correction="holm")
    emp2 = (out2["p_adj"][:, out2["i"] == 0] < 0.05).mean()
    print(f"power at the MDD ({mdd:.2f} points): empirical {emp2:.4f}, predicted 0.80")
    assert abs(emp2 - 0.8) < 0.04


# ---------------------------------------------------------------------------------------------
# mix: standardisation, model, decomposition
# ---------------------------------------------------------------------------------------------


def hand_example():
    """Two channels, two reasons (counts chosen for a hand calculation).

    A: r1 60/80 satisfied (75%), r2 10/20 (50%) -> raw 70/100 = 70%
    B: r1 18/20 (90%),           r2 48/80 (60%) -> raw 66/100 = 66%
    """
    rows = []
    for ch, r, sat, n in (("A", "r1", 60, 80), ("A", "r2", 10, 20), ("B", "r1", 18, 20), ("B", "r2", 48, 80)):
        rows += [(ch, r, 5.0)] * sat + [(ch, r, 1.0)] * (n - sat)
    return pd.DataFrame(rows, columns=["channel", "contact_reason", "score"]).assign(scale="likert5")


def test_standardised_rates_equal_hand_worked_example():
    df = hand_example()
    res = gaps.mix_adjusted_gaps(df, model=False, cluster=None, seed=0)
    e = res.estimates.set_index(["method", "channel"])["estimate"]
    # overall mix: r1 100/200 = 0.5, r2 0.5 -> A = .5*75 + .5*50 = 62.5; B = .5*90 + .5*60 = 75
    assert e[("raw", "A")] == pytest.approx(70.0)
    assert e[("raw", "B")] == pytest.approx(66.0)
    assert e[("standardised", "A")] == pytest.approx(62.5, abs=1e-12)
    assert e[("standardised", "B")] == pytest.approx(75.0, abs=1e-12)
    # A's mix (0.8, 0.2): A = 70 (its own raw rate), B = .8*90 + .2*60 = 84
    res_a = gaps.mix_adjusted_gaps(df, model=False, reference_mix="A", cluster=None, seed=0)
    e = res_a.estimates.set_index(["method", "channel"])["estimate"]
    assert e[("standardised", "A")] == pytest.approx(70.0, abs=1e-12)
    assert e[("standardised", "B")] == pytest.approx(84.0, abs=1e-12)
    # explicit weights
    res_w = gaps.mix_adjusted_gaps(df, model=False, reference_mix={"r1": 1, "r2": 3}, cluster=None, seed=0)
    e = res_w.estimates.set_index(["method", "channel"])["estimate"]
    assert e[("standardised", "A")] == pytest.approx(0.25 * 75 + 0.75 * 50, abs=1e-12)
    # the standardised variance is sum w^2 p(1-p)/n: A overall = .25*(.75*.25/80) + .25*(.5*.5/20)
    se = res.estimates.set_index(["method", "channel"])["se"][("standardised", "A")]
    assert se == pytest.approx(100 * np.sqrt(0.25 * 0.75 * 0.25 / 80 + 0.25 * 0.25 / 20), rel=1e-12)
    # the raw gap A - B is +4, the standardised gap is -12.5: the sign flips
    g = res.gaps.set_index("method")
    assert g.loc["raw", "group_a"] == "A"
    assert g.loc["raw", "estimate"] == pytest.approx(4.0)
    assert g.loc["standardised", "estimate"] == pytest.approx(-12.5, abs=1e-12)


def test_decomposition_equals_hand_calculation_and_adds_up():
    df = hand_example()
    d = gaps.decompose_gap(df, "A", "B", seed=0)
    # mix:  r1 (.8-.2)(.75+.9)/2 = .495; r2 (.2-.8)(.5+.6)/2 = -.33  -> 16.5 points
    # perf: r1 (.75-.9)(.8+.2)/2 = -.075; r2 (.5-.6)(.2+.8)/2 = -.05 -> -12.5 points
    t = d.table.set_index("contact_reason")
    assert t.loc["r1", "mix"] == pytest.approx(49.5, abs=1e-12)
    assert t.loc["r2", "mix"] == pytest.approx(-33.0, abs=1e-12)
    assert t.loc["r1", "performance"] == pytest.approx(-7.5, abs=1e-12)
    assert t.loc["r2", "performance"] == pytest.approx(-5.0, abs=1e-12)
    assert d.mix == pytest.approx(16.5, abs=1e-12)
    assert d.performance == pytest.approx(-12.5, abs=1e-12)
    assert d.raw_gap == pytest.approx(4.0, abs=1e-12)
    # on untidy random data, including a reason answered by one channel only, parts add up exactly
    rng = np.random.default_rng(8)
    cells = {(ch, r): (int(rng.integers(5, 200)), float(rng.uniform(0.3, 0.95)))
             for ch in ("A", "B") for r in ("r1", "r2", "r3", "r4")}
    cells[("B", "r4")] = (0, 0.5)
    data = simulate(cells, seed=9)
    with pytest.warns(StatisticalWarning, match="r4: answered by only one of 'A' and 'B'"):
        d = gaps.decompose_gap(data, "A", "B", seed=0)
    raw = 100 * (csat(data, "channel").set_index("channel")["estimate"].pipe(lambda s: s["A"] - s["B"])) / 100
    assert d.table["mix"].sum() + d.table["performance"].sum() == pytest.approx(raw, abs=1e-12)
    assert (d.table["mix"] + d.table["performance"] - d.table["total"]).abs().max() < 1e-12
    assert abs(d.mix + d.performance - d.raw_gap) < 1e-12
    assert d.table.set_index("contact_reason").loc["r4", "flag"] == "only_in_a"
    assert d.table.set_index("contact_reason").loc["r4", "performance"] == 0.0


@pytest.fixture(scope="module")
def mix_only():
    """Equal true CSAT within each reason (easy 90%, hard 60%) in every channel; only the mix differs.

    True raw CSAT: A (80% easy) 84, B (50%) 75, C (20% easy) 66.
    """
    cells = {}
    for ch, easy in (("A", 0.8), ("B", 0.5), ("C", 0.2)):
        cells[(ch, "easy")] = (int(1500 * easy), 0.9)
        cells[(ch, "hard")] = (int(1500 * (1 - easy)), 0.6)
    return simulate(cells, seed=21, agents=15)


def test_mix_only_differences_vanish_after_adjustment(mix_only):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        raw = gaps.channel_gaps(mix_only, seed=0)
        res = gaps.mix_adjusted_gaps(mix_only, controls=None, seed=0)
    # raw gaps clearly non-zero
    assert raw.pairwise["significant"].all()
    assert raw.pairwise["estimate"].abs().min() > 5
    g = res.gaps
    assert g.loc[g["method"] == "raw", "significant"].all()
    for method in ("standardised", "model"):
        sub = g[g["method"] == method]
        assert len(sub) == 3
        assert not sub["significant"].any(), method
        assert sub["estimate"].abs().max() < 3, method
        assert ((sub["ci_low"] < 0) & (sub["ci_high"] > 0)).all(), method
    # the decomposition of A - C attributes the gap to mix
    d = res.decomposition
    assert (d.a, d.b) == ("A", "C")
    assert d.raw_gap > 15
    assert d.mix / d.raw_gap > 0.85
    perf = d.totals.set_index("component").loc["performance"]
    assert perf["ci_low"] < 0 < perf["ci_high"]
    mix = d.totals.set_index("component").loc["mix"]
    assert mix["ci_low"] > 10


def test_model_margins_equal_statsmodels_formula_fit(mix_only):
    res = gaps.mix_adjusted_gaps(mix_only, seed=0)
    df = mix_only.assign(sat=(mix_only["score"] >= 4).astype(float))
    # same model through the formula interface, clustered by agent
    groups = pd.factorize(df["agent_id"])[0]
    ref = smf.glm("sat ~ C(channel, Treatment('A')) + C(contact_reason, Treatment('easy'))", data=df,
                  family=sm.families.Binomial()).fit(cov_type="cluster", cov_kwds={"groups": groups})
    np.testing.assert_allclose(np.sort(np.asarray(res.model.params)), np.sort(np.asarray(ref.params)), rtol=1e-7)
    np.testing.assert_allclose(np.sort(np.asarray(res.model.bse)), np.sort(np.asarray(ref.bse)), rtol=1e-6)
    # predictive margins: mean prediction with everyone given the channel
    e = res.estimates[res.estimates["method"] == "model"].set_index("channel")["estimate"]
    for ch in ("A", "B", "C"):
        want = 100 * ref.predict(df.assign(channel=ch)).mean()
        assert e[ch] == pytest.approx(want, rel=1e-8)


def test_model_drops_controls_nested_in_channel(mix_only):
    # teams are nested within channels in the simulation: controlling for team would absorb the gap
    with pytest.warns(StatisticalWarning, match="collinear"):
        res = gaps.mix_adjusted_gaps(mix_only, controls=["team"], seed=0)
    assert not any(c.startswith("team[") for c in res.model_columns)


# ---------------------------------------------------------------------------------------------
# reason x channel
# ---------------------------------------------------------------------------------------------


def test_reason_channel_matrix_best_and_insufficient_cells():
    cells = {
        ("chat", "billing"): (400, 0.92), ("phone", "billing"): (400, 0.75), ("email", "billing"): (300, 0.70),
        ("chat", "tech"): (300, 0.70), ("phone", "tech"): (300, 0.71), ("email", "tech"): (20, 0.5),
        ("phone", "returns"): (200, 0.8), ("email", "returns"): (0, 0.5), ("chat", "returns"): (0, 0.5),
    }
    df = simulate(cells, seed=4)
    with pytest.warns(StatisticalWarning):
        res = gaps.reason_channel_matrix(df, min_n=30)
    c = res.cells.set_index(["contact_reason", "channel"])
    assert c.loc[("tech", "email"), "flag"].startswith("insufficient_n")
    assert pd.isna(c.loc[("tech", "email"), "rank"])
    assert c.loc[("returns", "chat"), "flag"] == "no_responses"
    b = res.best.set_index("contact_reason")
    assert b.loc["billing", "best_group"] == "chat" and b.loc["billing", "status"] == "best_declared"
    assert b.loc["tech", "status"] == "no_clear_best" and b.loc["tech", "best_group"] == ""
    assert b.loc["returns", "status"] == "single_group" and b.loc["returns", "flag"] == "only_one_group"
    # the top-vs-other p-values are pooled z-tests, Holm-corrected over the whole table
    comp = res.comparisons
    raw = [proportions_ztest([c.loc[(r, a), "satisfied"], c.loc[(r, g), "satisfied"]],
                             [c.loc[(r, a), "n"], c.loc[(r, g), "n"]])[1]
           for r, a, g in zip(comp["contact_reason"], comp["group_a"], comp["group_b"])]
    np.testing.assert_allclose(comp["p_value"], raw, rtol=1e-9)
    np.testing.assert_allclose(comp["p_adj"], multipletests(raw, method="holm")[1], rtol=1e-9)
    # wide display: insufficient cells say so
    w = res.wide()
    assert w.loc["tech", "email"] == "insufficient"
    # shift: moving half of billing from email to chat, by hand
    s = res.shift("billing", "email", "chat", share=0.5).iloc[0]
    fa, tb = c.loc[("billing", "email")], c.loc[("billing", "chat")]
    total = c["n"].sum()
    want = 0.5 * fa["n"] / total * (tb["satisfied"] / tb["n"] - fa["satisfied"] / fa["n"]) * 100
    assert s["estimate"] == pytest.approx(want, rel=1e-12)
    lo, hi = confint_proportions_2indep(tb["satisfied"], tb["n"], fa["satisfied"], fa["n"], method="newcomb")
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((100 * 0.5 * fa["n"] / total * lo,
                                                         100 * 0.5 * fa["n"] / total * hi), rel=1e-12)
    assert gaps.channel_shift(res, "billing", "email", "chat", 0.5).equals(res.shift("billing", "email", "chat", 0.5))
    # opportunities only between sufficient cells, largest first
    assert (res.shifts["estimate"].diff().dropna() <= 0).all()
    assert not ((res.shifts["contact_reason"] == "tech") & (res.shifts["from_group"] == "email")).any()
    with pytest.raises(InputError, match="no responses in channel 'chat'"):
        res.shift("returns", "phone", "chat")
    with pytest.raises(ParameterError, match="No cell"):
        res.shift("billing", "fax", "chat")


# ---------------------------------------------------------------------------------------------
# over time
# ---------------------------------------------------------------------------------------------


def test_gap_change_widened_and_stable():
    q3 = simulate({("chat", "x"): (800, 0.80), ("email", "x"): (800, 0.76), ("phone", "x"): (800, 0.70)},
                  seed=1, start="2026-07-01")
    q4 = simulate({("chat", "x"): (800, 0.86), ("email", "x"): (800, 0.66), ("phone", "x"): (800, 0.70)},
                  seed=2, start="2026-10-01")
    df = pd.concat([q3, q4], ignore_index=True)
    ch = gaps.gap_change(df, period="2026Q4", seed=0)
    assert ch.compare_to == "2026Q3"
    p = ch.pairs.set_index(["group_a", "group_b"])
    row = p.loc[("chat", "email")]
    assert row["status"] == "widened"
    cur = ch.current.pairwise.set_index(["group_a", "group_b"]).loc[("chat", "email")]
    prev = ch.previous.pairwise.set_index(["group_a", "group_b"]).loc[("chat", "email")]
    assert row["estimate"] == pytest.approx(cur["estimate"] - prev["estimate"], abs=1e-10)
    assert row["se"] == pytest.approx(np.hypot(cur["se"], prev["se"]), rel=1e-12)
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(row["estimate"] / row["se"])), rel=1e-10)
    # email vs phone: +6 in Q3, -4 in Q4 -> reversed
    rev = p.loc[("phone", "email")]
    assert rev["status"] in ("reversed", "no_significant_change")
    assert np.sign(rev["gap_current"]) != np.sign(rev["gap_previous"])
    # per-group change: email fell, with the Newcombe interval
    g = ch.groups.set_index("channel")
    assert g.loc["email", "significant"] and g.loc["email", "estimate"] < 0
    assert "email" in " ".join(ch.findings())


def test_gap_change_unchanged_gaps_not_significant():
    cells = {("chat", "x"): (500, 0.80), ("email", "x"): (500, 0.70)}
    df = pd.concat([simulate(cells, seed=3, start="2026-07-01"), simulate(cells, seed=4, start="2026-10-01")])
    ch = gaps.gap_change(df, period="2026Q4", compare_to="2026Q3", seed=0)
    assert ch.pairs["status"].tolist() == ["no_significant_change"]


# ---------------------------------------------------------------------------------------------
# bad input: flags and messages, never a crash or a NaN table
# ---------------------------------------------------------------------------------------------


def _no_nan(df, columns):
    return not df[columns].isna().any().any()


NUM = ["estimate", "ci_low", "ci_high", "p_value", "p_adj", "effect_size", "mdd"]


def test_channel_with_zero_responses_is_flagged():
    df = simulate({("chat", "x"): (100, 0.8), ("phone", "x"): (100, 0.7)}, seed=1)
    # a channel whose surveys were all sent but unanswered
    df = pd.concat([df, pd.DataFrame({"channel": ["sms"] * 5, "contact_reason": "x", "score": np.nan,
                                      "scale": "likert5"})], ignore_index=True)
    with pytest.warns(StatisticalWarning, match="sms, in_app: no responses"):
        res = gaps.channel_gaps(df, groups=["chat", "phone", "sms", "in_app"], seed=0)
    e = res.estimates.set_index("channel")
    assert e.loc["sms", "flag"] == "no_responses" and e.loc["sms", "n"] == 0
    assert e.loc["in_app", "flag"] == "no_responses"
    assert pd.isna(e.loc["sms", "rank"])
    assert len(res.pairwise) == 1
    assert _no_nan(res.pairwise, NUM)
    assert _no_nan(res.omnibus, ["statistic", "p_value", "effect_size"])
    assert _no_nan(res.gaps, ["estimate", "ci_low", "ci_high"])
    assert "sms" not in set(res.gaps["channel"])
    # a categorical column with an unused category is treated the same way
    df2 = df.dropna(subset=["score"]).assign(channel=lambda d: pd.Categorical(d["channel"],
                                                                              ["chat", "phone", "email"]))
    with pytest.warns(StatisticalWarning, match="email: no responses"):
        res2 = gaps.channel_gaps(df2, seed=0)
    assert res2.estimates.set_index("channel").loc["email", "flag"] == "no_responses"
    plot_channel_estimates(res)


def test_single_channel_reports_nothing_to_compare():
    df = simulate({("chat", "x"): (100, 0.8), ("chat", "y"): (80, 0.6)}, seed=1)
    with pytest.warns(StatisticalWarning, match="nothing to compare"):
        res = gaps.channel_gaps(df, target=80, benchmark=(70, 80), seed=0)
    assert res.omnibus.iloc[0]["flag"] == "single_group"
    assert res.pairwise.empty and list(res.pairwise.columns) == gaps._PAIR_COLUMNS
    assert res.consistency["flag"].eq("single_group").all()
    assert _no_nan(res.consistency, ["estimate", "ci_low", "ci_high"])
    assert "no chat gaps" not in res.summary()
    assert "Only chat has csat responses" in res.findings()[0]
    with pytest.warns(StatisticalWarning):
        mix = gaps.mix_adjusted_gaps(df, seed=0)
    assert mix.gaps.empty and mix.decomposition is None
    with pytest.warns(StatisticalWarning):
        rep = gaps.gaps_section(df)
    assert rep.findings and "<li>" in rep._repr_html_()


def test_reason_present_in_one_channel_only():
    cells = {("chat", "billing"): (200, 0.8), ("phone", "billing"): (200, 0.7), ("chat", "tech"): (150, 0.6),
             ("phone", "tech"): (150, 0.6), ("phone", "fraud"): (100, 0.4)}
    df = simulate(cells, seed=6)
    with pytest.warns(StatisticalWarning) as rec:
        res = gaps.mix_adjusted_gaps(df, seed=0)
    text = " | ".join(str(w.message) for w in rec)
    assert "fraud is not answered in every channel" in text
    assert "fraud: answered by only one of 'chat' and 'phone'" in text  # the default decomposition
    assert res.messages == list(dict.fromkeys(res.messages))
    w = res.weights.set_index("contact_reason")
    assert not w.loc["fraud", "in_support"] and w.loc["fraud", "weight"] == 0
    assert w["weight"].sum() == pytest.approx(1.0)
    assert _no_nan(res.estimates, ["estimate", "ci_low", "ci_high", "se"])
    assert _no_nan(res.gaps, ["estimate", "ci_low", "ci_high", "p_value", "p_adj"])
    with pytest.warns(StatisticalWarning, match="fraud: answered by only one"):
        d = res.decompose("chat", "phone")
    assert d.table.set_index("contact_reason").loc["fraud", "flag"] == "only_in_b"
    assert d.mix + d.performance == pytest.approx(d.raw_gap, abs=1e-12)
    with pytest.warns(StatisticalWarning, match="only one channel"):
        mat = gaps.reason_channel_matrix(df)
    assert mat.best.set_index("contact_reason").loc["fraud", "status"] == "single_group"
    # no reason shared at all: no standardisation, a message instead of a crash
    df2 = simulate({("chat", "a"): (100, 0.8), ("phone", "b"): (100, 0.6)}, seed=1)
    with pytest.warns(StatisticalWarning) as rec:
        res2 = gaps.mix_adjusted_gaps(df2, seed=0)
    assert any("No contact_reason is answered in every channel" in str(w.message) for w in rec)
    assert set(res2.estimates["method"]) == {"raw"}
    assert res2.decomposition.mix == pytest.approx(res2.decomposition.raw_gap, abs=1e-12)


def test_all_responses_satisfied():
    df = simulate({("chat", "x"): (120, 1.0), ("phone", "x"): (90, 1.0), ("email", "x"): (60, 1.0)}, seed=1)
    with pytest.warns(StatisticalWarning, match="same category"):
        res = gaps.channel_gaps(df, seed=0)
    om = res.omnibus.iloc[0]
    assert om["flag"] == "no_variation" and om["p_value"] == 1.0 and om["statistic"] == 0.0
    assert (res.pairwise["p_value"] == 1.0).all() and (res.pairwise["p_adj"] == 1.0).all()
    assert (res.pairwise["estimate"] == 0).all()
    assert _no_nan(res.pairwise, NUM)
    assert res.pairwise["flag"].str.contains("no_variation").all()
    assert res.estimates["flag"].str.contains("p_is_0_or_1").all()
    assert (res.pairwise["mdd"] > 0).all()
    res_m = gaps.channel_gaps(df, metric="mean_score", seed=0)
    assert _no_nan(res_m.omnibus, ["statistic", "p_value"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        mix = gaps.mix_adjusted_gaps(df, seed=0)
        mat = gaps.reason_channel_matrix(df)
    assert _no_nan(mix.gaps, ["estimate", "ci_low", "ci_high", "p_value", "p_adj"])
    assert (mix.gaps["p_value"] == 1.0).all()
    assert mat.best.iloc[0]["status"] == "no_clear_best"


# ---------------------------------------------------------------------------------------------
# API details
# ---------------------------------------------------------------------------------------------


def test_any_grouping_column_and_score_table_input(three_channels):
    by_team = gaps.channel_gaps(three_channels, by="contact_reason", seed=0)
    assert set(by_team.estimates["contact_reason"]) == {"billing", "tech"}
    table = tabulate(three_channels, "channel", scale="likert5")
    a = gaps.channel_gaps(three_channels, seed=1)
    b = gaps.channel_gaps(table, seed=1)
    pd.testing.assert_frame_equal(a.pairwise, b.pairwise)
    pd.testing.assert_frame_equal(a.consistency, b.consistency)


def test_gaps_to_best_target_and_benchmark(three_channels):
    res = gaps.channel_gaps(three_channels, target=80, benchmark=(70, 80), seed=0)
    g = res.gaps.set_index(["channel", "versus"])
    e = res.estimates.set_index("channel")
    assert res.best == "chat"
    assert g.loc[("chat", "best"), "status"] == "best"
    em = g.loc[("email", "best")]
    pw = res.pairwise.set_index(["group_a", "group_b"]).loc[("chat", "email")]
    assert em["estimate"] == pytest.approx(-pw["estimate"])
    assert (em["ci_low"], em["ci_high"]) == pytest.approx((-pw["ci_high"], -pw["ci_low"]))
    assert em["status"] == "significantly_worse"
    t = g.loc[("email", "target")]
    assert t["estimate"] == pytest.approx(e.loc["email", "estimate"] - 80)
    assert t["status"] == "below" and t["significant"]
    assert g.loc[("email", "benchmark"), "status"] == "below_band"
    assert g.loc[("email", "benchmark"), "estimate"] == pytest.approx(e.loc["email", "estimate"] - 70)
    assert g.loc[("chat", "benchmark"), "status"] == "above_band"
    c = res.consistency.set_index("statistic")
    assert c.loc["range", "estimate"] == pytest.approx(e["estimate"].max() - e["estimate"].min())
    assert c.loc["range", "ci_low"] < c.loc["range", "estimate"] < c.loc["range", "ci_high"]
    assert c.loc["range", "expected_if_equal"] < c.loc["range", "ci_low"]
    assert c.loc["sd", "estimate"] == pytest.approx(e["estimate"].std(ddof=1))
    text = res.summary()
    assert "Holm-adjusted" in text and "would be detected" not in text or "pairs show no significant gap" in text
    assert "<table" in res._repr_html_()


def test_small_groups_are_not_ranked():
    df = simulate({("chat", "x"): (200, 0.8), ("phone", "x"): (200, 0.7), ("sms", "x"): (12, 0.95)}, seed=2)
    with pytest.warns(StatisticalWarning, match="fewer than 30"):
        res = gaps.channel_gaps(df, seed=0)
    e = res.estimates.set_index("channel")
    assert pd.isna(e.loc["sms", "rank"]) and "small_n" in e.loc["sms", "flag"]
    assert e.loc["chat", "rank"] == 1
    assert res.best == "chat"
    assert res.pairwise[(res.pairwise["group_a"] == "sms") | (res.pairwise["group_b"] == "sms")]["flag"].str.contains(
        "small_n").all()


def test_clustered_responses_widen_the_tests():
    cells = {("chat", "x"): (600, 0.8), ("phone", "x"): (600, 0.74)}
    df = simulate(cells, seed=7, agents=6, agent_sd=0.8)
    plain = gaps.channel_gaps(df, seed=0)
    clustered = gaps.channel_gaps(df, cluster="agent_id", seed=0)
    assert clustered.pairwise.iloc[0]["p_value"] > plain.pairwise.iloc[0]["p_value"]
    assert clustered.pairwise.iloc[0]["mdd"] > plain.pairwise.iloc[0]["mdd"]


# ---------------------------------------------------------------------------------------------
# clustered responses: one correction for every part of the gap analysis
# ---------------------------------------------------------------------------------------------


def hand_deff(rows):
    """Design effect of one group's CSAT share from its rows, by the definition (Kish 1965, ch. 6).

    Ratio-estimator variance with agents as primary units, :math:`\\frac{C}{C-1}\\sum_c (T_c - \\hat p
    M_c)^2 / M^2`, over the variance treating responses as independent, :math:`\\hat p(1-\\hat p)/(n-1)`
    (the same n/(n-1) convention), floored at 1.
    """
    sat = (rows["score"] >= 4).astype(float)
    by_agent = pd.DataFrame({"t": sat, "m": 1.0, "agent": rows["agent_id"]}).groupby("agent")[["t", "m"]].sum()
    n, p, c = len(rows), sat.mean(), len(by_agent)
    var_clu = c / (c - 1) * ((by_agent["t"] - p * by_agent["m"]) ** 2).sum() / n**2
    var_srs = p * (1 - p) / (n - 1)
    return max(var_clu / var_srs, 1.0)


@pytest.fixture(scope="module")
def clustered_channels():
    """Four channels, three reasons with different mixes, ten agents per channel with strong agent effects."""
    cells = {}
    for ch, p, mix in (("chat", 0.84, (0.5, 0.3, 0.2)), ("phone", 0.78, (0.3, 0.4, 0.3)),
                       ("email", 0.74, (0.2, 0.3, 0.5)), ("social", 0.70, (0.4, 0.4, 0.2))):
        for reason, share, shift in zip(("billing", "tech", "refund"), mix, (0.05, 0.0, -0.08)):
            cells[(ch, reason)] = (int(900 * share), p + shift)
    return simulate(cells, seed=31, agents=10, agent_sd=0.9)


def test_clustered_mix_raw_gaps_equal_channel_gaps_pairwise(clustered_channels):
    df = clustered_channels
    for cluster in ("agent_id", None):
        ch = gaps.channel_gaps(df, cluster=cluster, seed=0)
        mix = gaps.mix_adjusted_gaps(df, cluster=cluster, seed=0, model=False)
        raw = mix.gaps[mix.gaps["method"] == "raw"].set_index(["group_a", "group_b"])
        pw = ch.pairwise.set_index(["group_a", "group_b"])
        assert len(raw) == len(pw) == 6
        for (a, b), r in raw.iterrows():
            q = pw.loc[(a, b)]  # both tables put the higher CSAT first
            for col in ("estimate", "ci_low", "ci_high", "se", "p_value", "p_adj"):
                assert r[col] == pytest.approx(q[col], rel=1e-10, abs=1e-12), (cluster, a, b, col)
            assert r["significant"] == q["significant"]
        # raw estimates: the same interval and effective n as the channel table
        e = mix.estimates[mix.estimates["method"] == "raw"].set_index("channel")
        ce = ch.estimates.set_index("channel")
        for col in ("estimate", "ci_low", "ci_high", "n", "n_eff"):
            np.testing.assert_allclose(e[col].to_numpy(float), ce.loc[e.index, col].to_numpy(float), rtol=1e-10)
    # independently of csatkit: each channel's design effect from its rows by the definition, and the
    # statsmodels score test and Newcombe interval on the counts divided by it
    mix = gaps.mix_adjusted_gaps(df, cluster="agent_id", seed=0, model=False)
    d = {g: hand_deff(rows) for g, rows in df.groupby("channel")}
    assert min(d.values()) > 1.5  # the agents matter
    e = mix.estimates[mix.estimates["method"] == "raw"].set_index("channel")
    for g in d:
        assert e.loc[g, "n"] == (df["channel"] == g).sum()
        assert e.loc[g, "n_eff"] == pytest.approx(e.loc[g, "n"] / d[g], rel=1e-10)
    x = df.assign(s=df["score"] >= 4).groupby("channel")["s"].sum()
    n = df.groupby("channel").size()
    raw = mix.gaps[mix.gaps["method"] == "raw"]
    for _, r in raw.iterrows():
        a, b = r["group_a"], r["group_b"]
        args = (x[a] / d[a], n[a] / d[a], x[b] / d[b], n[b] / d[b])
        stat = score_test_2indep(*args, method="score", correction=False)
        lo, hi = confint_proportions_2indep(*args, method="newcomb")
        assert r["p_value"] == pytest.approx(stat.pvalue, rel=1e-9)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((100 * lo, 100 * hi), rel=1e-9)
        assert r["estimate"] == pytest.approx(100 * (x[a] / n[a] - x[b] / n[b]), rel=1e-12)


def test_clustered_standardised_and_decomposition_use_effective_counts(clustered_channels):
    df = clustered_channels
    plain = gaps.mix_adjusted_gaps(df, cluster=None, seed=0, model=False)
    clu = gaps.mix_adjusted_gaps(df, cluster="agent_id", seed=0, model=False)
    d = clu.design_effects.set_index("channel")["deff"]
    assert clu.cluster == "agent_id" and plain.cluster is None and plain.design_effects is None
    for g, rows in df.groupby("channel"):
        assert d[g] == pytest.approx(hand_deff(rows), rel=1e-10)
    # point estimates and displayed n unchanged; intervals wider
    ep = plain.estimates.set_index(["method", "channel"])
    ec = clu.estimates.set_index(["method", "channel"])
    np.testing.assert_allclose(ec["estimate"], ep.loc[ec.index, "estimate"], rtol=1e-12)
    assert (ec["n"] == ep.loc[ec.index, "n"]).all()
    assert ((ec["ci_high"] - ec["ci_low"]) > (ep.loc[ec.index, "ci_high"] - ep.loc[ec.index, "ci_low"])).all()
    # standardised variance by hand: sum_r w_r^2 p_gr (1 - p_gr) deff_g / n_gr
    w = clu.weights.set_index("contact_reason")["weight"]
    cell = df.assign(s=df["score"] >= 4).groupby(["channel", "contact_reason"])["s"].agg(["sum", "size"])
    for g in d.index:
        c = cell.loc[g]
        p = c["sum"] / c["size"]
        var = (w[c.index] ** 2 * p * (1 - p) * d[g] / c["size"]).sum()
        assert ec.loc[("standardised", g), "se"] == pytest.approx(100 * np.sqrt(var), rel=1e-10)
        assert ec.loc[("standardised", g), "n_eff"] == pytest.approx(c["size"].sum() / d[g], rel=1e-10)
    gp = plain.gaps.set_index(["method", "group_a", "group_b"])
    gc = clu.gaps.set_index(["method", "group_a", "group_b"])
    np.testing.assert_allclose(gc["estimate"], gp.loc[gc.index, "estimate"], rtol=1e-12, atol=1e-12)
    assert (gc["p_value"] >= gp.loc[gc.index, "p_value"]).all()
    # decomposition: same parts, the raw gap's interval is the clustered pair's, the bootstrap wider
    dp, dc = plain.decomposition, clu.decomposition
    assert (dc.a, dc.b) == (dp.a, dp.b)
    pd.testing.assert_frame_equal(dc.table, dp.table)
    assert (dc.deff_a, dc.deff_b) == pytest.approx((d[dc.a], d[dc.b]), rel=1e-12)
    tc, tp = dc.totals.set_index("component"), dp.totals.set_index("component")
    np.testing.assert_allclose(tc["estimate"], tp["estimate"], rtol=1e-12)
    pair = gc.loc[("raw", dc.a, dc.b)]
    assert (tc.loc["raw_gap", "ci_low"], tc.loc["raw_gap", "ci_high"]) == pytest.approx(
        (pair["ci_low"], pair["ci_high"]), rel=1e-12)
    for comp in ("mix", "performance"):
        assert tc.loc[comp, "se"] > 1.2 * tp.loc[comp, "se"]
    # the clustered findings say so
    assert any("clustered by agent_id" in f for f in clu.findings())


def test_model_fitted_on_counts_equals_row_level_fit(clustered_channels):
    # a control that varies within agents (not nested in channel), and a few responses without an agent
    rng = np.random.default_rng(5)
    df = clustered_channels.assign(segment=rng.choice(["new", "loyal", "vip"], size=len(clustered_channels)))
    df.loc[df.index[::97], "agent_id"] = np.nan
    for cluster in ("agent_id", None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            res = gaps.mix_adjusted_gaps(df, controls=["segment"], cluster=cluster, seed=0)
        # the same model on the response rows, design written from the column names
        cols = res.model_columns
        assert any(c.startswith("segment[") for c in cols)

        def design(frame):
            out = []
            for name in cols:
                if name == "const":
                    out.append(np.ones(len(frame)))
                else:
                    var, level = name[:-1].split("[", 1)
                    out.append((frame[var].astype(str) == level).to_numpy(float))
            return np.column_stack(out)

        y = (df["score"] >= 4).to_numpy(float)
        kw = {}
        if cluster:
            groups = df["agent_id"].astype(object).where(df["agent_id"].notna(),
                                                       pd.Series([f"none{i}" for i in range(len(df))], index=df.index))
            kw = {"cov_type": "cluster", "cov_kwds": {"groups": pd.factorize(groups)[0]}}
        ref = sm.GLM(y, design(df), family=sm.families.Binomial()).fit(**kw)
        np.testing.assert_allclose(res.model.params, ref.params, rtol=1e-8)
        np.testing.assert_allclose(res.model.bse, ref.bse, rtol=1e-8)
        assert res.model.model.wnobs == len(df) and res.model.nobs < len(df) / 5
        # predictive margins and their delta-method standard errors from the rows
        e = res.estimates[res.estimates["method"] == "model"].set_index("channel")
        cov = np.asarray(ref.cov_params())
        for ch in e.index:
            Xg = design(df.assign(channel=ch))
            p = ref.predict(Xg)
            grad = (p * (1 - p)) @ Xg / len(df)
            assert e.loc[ch, "estimate"] == pytest.approx(100 * p.mean(), rel=1e-8)
            assert e.loc[ch, "se"] == pytest.approx(100 * np.sqrt(grad @ cov @ grad), rel=1e-7)
            assert e.loc[ch, "n"] == (df["channel"] == ch).sum()


@pytest.mark.slow
def test_null_simulation_clustered_standardised_gap_keeps_its_level():
    """No channel difference, no reason-mix difference, agent random effects: how often a gap is "found".

    Two channels with 12 agents each, three reasons with different CSAT but the same mix in both
    channels, agent effects N(0, 0.5^2) on the log-odds. The standardised-gap test at 5% must
    reject about 5% of the time when clustered by agent; treating responses as independent, it
    rejects far more often. Tolerance: three binomial standard errors around 5%. (With 12
    clusters per channel the estimated design effect is itself noisy and the first-order
    correction is slightly liberal: 1,000 repetitions of a similar design gave 6-8%.)
    """
    rng = np.random.default_rng(20261001)
    reps, agents, n, sd = 400, 12, 600, 0.5
    base = {"r1": 1.6, "r2": 0.8, "r3": 0.2}

    def draw():
        frames = []
        for ch in ("a", "b"):
            agent = rng.integers(agents, size=n)
            effect = rng.normal(0, sd, size=agents)
            reason = rng.choice(list(base), size=n, p=[0.5, 0.3, 0.2])
            logit = np.array([base[r] for r in reason]) + effect[agent]
            sat = rng.random(n) < 1 / (1 + np.exp(-logit))
            frames.append(pd.DataFrame({"channel": ch, "contact_reason": reason, "agent_id": agent + (100 if ch == "b"
                                                                                                     else 0),
                                        "score": np.where(sat, 5.0, 1.0), "scale": "likert5"}))
        return pd.concat(frames, ignore_index=True)

    p_clu, p_plain = [], []
    for r in range(reps):
        df = draw()
        res = gaps.mix_adjusted_gaps(df, cluster="agent_id", model=False, n_boot=100, seed=r)
        p_clu.append(res.gaps.set_index("method").loc["standardised", "p_value"])
        if r < 100:  # the inflation is large: 100 repetitions show it
            res = gaps.mix_adjusted_gaps(df, cluster=None, model=False, n_boot=100, seed=r)
            p_plain.append(res.gaps.set_index("method").loc["standardised", "p_value"])
    rate_clu = np.mean(np.array(p_clu) < 0.05)
    rate_plain = np.mean(np.array(p_plain) < 0.05)
    tol = 3 * np.sqrt(0.05 * 0.95 / reps)
    print(f"\nrejection at 5%: clustered {rate_clu:.3f} (tolerance +-{tol:.3f}); independent {rate_plain:.3f}")
    assert abs(rate_clu - 0.05) <= tol
    assert rate_plain > 0.15


def test_reason_channel_matrix_cluster_widens_shift_intervals(clustered_channels):
    df = clustered_channels
    plain = gaps.reason_channel_matrix(df, min_n=30)
    clu = gaps.reason_channel_matrix(df, min_n=30, cluster="agent_id")
    assert clu.cluster == "agent_id" and plain.cluster is None
    d = clu.design_effects.set_index("channel")["deff"]
    # cells: same estimates, n and ranks; Wilson limits on n / deff
    cp, cc = plain.cells, clu.cells
    for col in ("estimate", "n", "satisfied", "rank", "sufficient"):
        pd.testing.assert_series_equal(cc[col], cp[col])
    # ten agents per channel: every clustered cell also says few_clusters (as metrics.csat does)
    assert cc["flag"].str.contains("few_clusters").all() and not cp["flag"].str.contains("few_clusters").any()
    strip = cc["flag"].str.replace(r";?few_clusters", "", regex=True).str.lstrip(";")
    pd.testing.assert_series_equal(strip, cp["flag"])
    np.testing.assert_allclose(cc["n_eff"], cc["n"] / cc["channel"].map(d), rtol=1e-12)
    assert (cp["n_eff"] == cp["n"]).all()
    assert ((cc["ci_high"] - cc["ci_low"]) > (cp["ci_high"] - cp["ci_low"])).all()
    # shifts: the same opportunities and estimates, wider intervals
    sp, sc_ = plain.shifts, clu.shifts
    key = ["contact_reason", "from_group", "to_group"]
    m = sp.merge(sc_, on=key, suffixes=("_p", "_c"))
    assert len(m) == len(sp) == len(sc_) > 0
    np.testing.assert_allclose(m["estimate_c"], m["estimate_p"], rtol=1e-12)
    assert ((m["ci_high_c"] - m["ci_low_c"]) > (m["ci_high_p"] - m["ci_low_p"])).all()
    # one shift by hand: Newcombe's interval on the counts divided by each channel's design effect
    s = sc_.iloc[0]
    c = cc.set_index(["contact_reason", "channel"])
    fa, tb = c.loc[(s["contact_reason"], s["from_group"])], c.loc[(s["contact_reason"], s["to_group"])]
    da, db = d[s["from_group"]], d[s["to_group"]]
    lo, hi = confint_proportions_2indep(tb["satisfied"] / db, tb["n"] / db, fa["satisfied"] / da, fa["n"] / da,
                                        method="newcomb")
    k = 100 * s["share"] * fa["n"] / c["n"].sum()
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((k * lo, k * hi), rel=1e-10)
    again = clu.shift(s["contact_reason"], s["from_group"], s["to_group"], s["share"]).iloc[0]
    assert (again["ci_low"], again["ci_high"]) == pytest.approx((s["ci_low"], s["ci_high"]), rel=1e-12)
    # comparisons: same estimates, p-values no smaller
    kc = ["contact_reason", "group_a", "group_b"]
    mc = plain.comparisons.merge(clu.comparisons, on=kc, suffixes=("_p", "_c"))
    np.testing.assert_allclose(mc["estimate_c"], mc["estimate_p"], rtol=1e-12)
    assert (mc["p_value_c"] >= mc["p_value_p"]).all()


def test_gaps_section_passes_its_cluster_to_every_part(clustered_channels):
    df = pd.concat([clustered_channels,
                    clustered_channels.assign(interaction_at=clustered_channels["interaction_at"]
                                              + pd.Timedelta(days=92))], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        rep = gaps.gaps_section(df, period="2026Q4", cluster="agent_id")
        plain = gaps.gaps_section(df, period="2026Q4")
    assert rep.channels.table.cluster == "agent_id"
    assert rep.mix.cluster == "agent_id" and rep.matrix.cluster == "agent_id"
    assert rep.change.current.table.cluster == rep.change.previous.table.cluster == "agent_id"
    # the parts agree: the raw mix gaps are the channel gaps
    raw = rep.mix.gaps[rep.mix.gaps["method"] == "raw"].set_index(["group_a", "group_b"])
    pw = rep.channels.pairwise.set_index(["group_a", "group_b"])
    np.testing.assert_allclose(raw["p_adj"], pw.loc[raw.index, "p_adj"], rtol=1e-10)
    assert (raw["significant"] == pw.loc[raw.index, "significant"]).all()
    # without a cluster key, no part is clustered (the model included)
    assert plain.mix.cluster is None and plain.matrix.cluster is None
    assert plain.mix.model.cov_type == "nonrobust" and rep.mix.model.cov_type == "cluster"


def test_details_html_shows_every_table_once_and_no_findings():
    cells = {}
    for ch, p in (("<script>x</script>", 0.85), ("phone", 0.70), ("email", 0.62)):
        for reason in ("<b>r</b>", "tech"):
            cells[(ch, reason)] = (150, p)
    df = simulate(cells, seed=3)
    df = pd.concat([df, df.assign(interaction_at=df["interaction_at"] + pd.Timedelta(days=92))], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        rep = gaps.gaps_section(df, period="2026Q4", target=80, cluster="agent_id")
    out = rep.details_html()
    for heading in ("Estimates", "Omnibus test", "Pairwise gaps", "Gaps to best, target and benchmark",
                    "Consistency", "Gaps", "Reference mix", "Design effects (cluster: agent_id)", "Decomposition",
                    "Decomposition by reason", "Matrix", "Best per reason", "Channel-shift opportunities", "Pairs",
                    "Groups"):
        assert f"<h5>{heading}</h5>" in out, heading
    assert out.count("<table") >= 14
    assert "<li>" not in out and "<ul>" not in out
    assert rep.findings
    for f in rep.findings + rep.messages:
        assert f not in out and html.escape(f) not in out, f
    # customer-controlled labels are escaped, in cells, headers and headings alike
    assert "<script>" not in out and "<b>r</b>" not in out
    assert "&lt;script&gt;x&lt;/script&gt;" in out and "&lt;b&gt;r&lt;/b&gt;" in out
    # the notebook view keeps the findings with each part
    full = rep._repr_html_()
    assert "<li>" in full and "<script>" not in full


def test_parameter_errors(three_channels):
    with pytest.raises(ParameterError, match=r"The value for `metric` must be one of .*'median'"):
        gaps.channel_gaps(three_channels, metric="median")
    with pytest.raises(ParameterError, match=r"The value for `correction` must be one of"):
        gaps.channel_gaps(three_channels, correction="sidak")
    with pytest.raises(ParameterError, match=r"`by` must name one column"):
        gaps.channel_gaps(three_channels, by=["channel", "team"])
    with pytest.raises(ParameterError, match=r"`benchmark` must be a \(low, high\) pair"):
        gaps.channel_gaps(three_channels, benchmark=(80, 70))
    with pytest.raises(ParameterError, match=r"`reference_mix` must be 'overall', one of the channel values"):
        gaps.mix_adjusted_gaps(three_channels, reference_mix="fax")
    with pytest.raises(ParameterError, match=r"names reasons \['fraud'\]"):
        gaps.mix_adjusted_gaps(three_channels, reference_mix={"fraud": 1})
    with pytest.raises(ParameterError, match="NPS needs the 0-10"):
        gaps.channel_gaps(three_channels, metric="nps", scale="likert5")
    with pytest.raises(ParameterError, match="grouped by"):
        gaps.channel_gaps(tabulate(three_channels, "channel", scale="likert5"), by="team")
    with pytest.raises(ParameterError, match="not in the data"):
        gaps.decompose_gap(three_channels, "chat", "fax")
    with pytest.raises(InputError):
        gaps.compare_proportions([1, 2], [0, 5])


def test_gaps_section_report(three_channels):
    df = pd.concat([three_channels,
                    three_channels.assign(interaction_at=three_channels["interaction_at"] + pd.Timedelta(days=92))],
                   ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        rep = gaps.gaps_section(df, period="2026Q4", target=80)
    assert isinstance(rep, gaps.GapReport)
    assert rep.period == "2026Q4" and rep.compare_to == "2026Q3"
    assert rep.channels.benchmark == (70.0, 80.0)
    assert rep.mix is not None and rep.matrix is not None and rep.change is not None
    assert any("benchmark band" in f for f in rep.findings)
    assert any("contact-reason mix" in f for f in rep.findings)
    html = rep._repr_html_()
    assert html.count("<table") >= 5
    assert "Channel gaps for 2026Q4" in rep.summary()
    clustered = gaps.gaps_section(three_channels, cluster="agent_id")
    assert clustered.channels.table.cluster == "agent_id"
    # the benchmark band is dropped for a mean score
    rep_m = gaps.gaps_section(three_channels, metric="mean_score")
    assert rep_m.channels.benchmark is None


def test_html_escapes_group_names():
    df = simulate({("<b>chat</b>", "x"): (50, 0.8), ("phone", "x"): (50, 0.6)}, seed=1)
    res = gaps.channel_gaps(df, seed=0)
    assert "<b>chat</b>" not in res._repr_html_()


# ---------------------------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------------------------


def test_estimate_plots_draw_each_estimate_and_interval_once(three_channels):
    # the points and interval segments drawn are the results' estimates and intervals, each method
    # once in the legend
    res = gaps.channel_gaps(three_channels, target=80, benchmark=(70, 80), seed=0)
    ax = plot_channel_estimates(res)
    points = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    drawn = sorted(x for ln in points for x in ln.get_xdata())
    assert drawn == pytest.approx(sorted(res.estimates["estimate"]))
    segments = [seg for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)
                for seg in c.get_segments()]
    np.testing.assert_allclose(sorted((a[0], b[0]) for a, b in segments),
                               sorted(zip(res.estimates["ci_low"], res.estimates["ci_high"])))
    plt.close(ax.figure)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        mix = gaps.mix_adjusted_gaps(three_channels, seed=0)
    ax = plot_channel_estimates(mix)
    est = mix.estimates
    for method in est["method"].unique():
        rows = est[est["method"] == method]
        line = next(ln for ln in ax.get_lines() if ln.get_label() == method)
        assert sorted(line.get_xdata()) == pytest.approx(sorted(rows["estimate"]))
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == sorted(est["method"].unique())
    segments = [seg for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)
                for seg in c.get_segments()]
    finite = est[np.isfinite(est["ci_low"]) & np.isfinite(est["ci_high"])]
    np.testing.assert_allclose(sorted((a[0], b[0]) for a, b in segments), sorted(zip(finite["ci_low"], finite["ci_high"])))
    plt.close(ax.figure)


def test_plots_return_axes_and_draw_what_the_results_hold(three_channels):
    res = gaps.channel_gaps(three_channels, target=80, benchmark=(70, 80), seed=0)
    ax = plot_channel_estimates(res)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert [t.get_text().split(" (")[0] for t in ax.get_yticklabels()] == res.estimates["channel"].tolist()
    assert any(ln.get_xdata()[0] == 80 for ln in ax.get_lines() if len(ln.get_xdata()) == 2)
    fig, given = plt.subplots()
    assert plot_channel_estimates(res, ax=given) is given

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        mix = gaps.mix_adjusted_gaps(three_channels, seed=0)
        mat = gaps.reason_channel_matrix(three_channels.iloc[:-190], min_n=150)
    assert isinstance(plot_channel_estimates(mix), matplotlib.axes.Axes)

    ax = plot_reason_channel_heatmap(mat)
    img = ax.get_images()[0]
    arr = img.get_array()
    suff = mat.cells.pivot(index="contact_reason", columns="channel", values="sufficient")
    assert np.array_equal(np.ma.getmaskarray(arr), ~suff.to_numpy(dtype=bool))
    assert np.ma.getmaskarray(arr).any()

    ax = plot_gap_waterfall(mix)
    d = mix.decomposition
    heights = [p.get_height() for p in ax.patches]
    assert heights[1] == pytest.approx(d.mix) and heights[2] == pytest.approx(d.performance)
    ax = plot_gap_waterfall(d, by_reason=True)
    assert len(ax.patches) == 2 + 2 * len(d.table)
    with pytest.raises(ParameterError, match="GapDecomposition or MixResult"):
        plot_gap_waterfall(res)


def test_examples_in_docstrings():
    import doctest

    out = doctest.testmod(gaps, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert out.failed == 0 and out.attempted > 0


# ---------------------------------------------------------------------------------------------
# review fixes: one agent per channel, missing agent ids, weighted clustered tables, cluster flags
# ---------------------------------------------------------------------------------------------


def test_single_agent_channel_borrows_the_pooled_design_effect(clustered_channels):
    from csatkit.intervals import design_effect

    df = clustered_channels.copy()
    df.loc[df["channel"] == "social", "agent_id"] = "SOLO"  # one agent answers every social contact
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        ch = gaps.channel_gaps(df, cluster="agent_id", seed=0)
        mix = gaps.mix_adjusted_gaps(df, cluster="agent_id", seed=0, model=False)
        mat = gaps.reason_channel_matrix(df, cluster="agent_id")
        dec = gaps.decompose_gap(df, "chat", "social", cluster="agent_id", seed=0)
    # the reference: the design effect of the CSAT share over all channels' responses pooled, by agent,
    # (a) by the definition from the rows and (b) intervals.design_effect on the agent x point counts
    pooled = hand_deff(df)
    counts = pd.crosstab(df["agent_id"], df["score"]).reindex(columns=[1.0, 2.0, 3.0, 4.0, 5.0], fill_value=0)
    assert design_effect(np.array([0, 0, 0, 1, 1.0]), counts.to_numpy())["deff"] == pytest.approx(pooled, rel=1e-10)
    assert pooled > 1.5
    n_soc = int((df["channel"] == "social").sum())
    e = ch.estimates.set_index("channel")
    assert e.loc["social", "n_eff"] == pytest.approx(n_soc / pooled, rel=1e-10)
    assert "single_cluster" in e.loc["social", "flag"] and "single_cluster" not in e.loc["chat", "flag"]
    # its interval: Wilson on the borrowed n_eff
    p = e.loc["social", "estimate"] / 100
    lo, hi = proportion_confint(p * n_soc / pooled, n_soc / pooled, method="wilson")
    assert (e.loc["social", "ci_low"], e.loc["social", "ci_high"]) == pytest.approx((100 * lo, 100 * hi), rel=1e-10)
    # pairwise and omnibus tests on the borrowed effective counts (statsmodels / scipy on hand counts)
    x = df.assign(s=df["score"] >= 4).groupby("channel")["s"].sum()
    n = df.groupby("channel").size()
    d = {g: (hand_deff(r) if g != "social" else pooled) for g, r in df.groupby("channel")}
    pw = ch.pairwise.set_index(["group_a", "group_b"])
    for (a, b), r in pw.iterrows():
        args = (x[a] / d[a], n[a] / d[a], x[b] / d[b], n[b] / d[b])
        assert r["p_value"] == pytest.approx(score_test_2indep(*args, method="score", correction=False).pvalue,
                                             rel=1e-9)
    tab = np.array([[x[g] / d[g], (n[g] - x[g]) / d[g]] for g in ch.estimates["channel"]])
    assert ch.omnibus.iloc[0]["statistic"] == pytest.approx(stats.chi2_contingency(tab, correction=False)[0],
                                                            rel=1e-9)
    # the phone-social gap is no longer "significant" on n_eff = n
    naive = score_test_2indep(x["chat"] / d["chat"], n["chat"] / d["chat"], x["social"], n["social"],
                              method="score", correction=False).pvalue
    social_row = [k for k in pw.index if "social" in k and "chat" in k][0]
    assert pw.loc[social_row, "p_value"] > naive
    # mix: raw gaps still equal channel_gaps' pairwise, raw and standardised n_eff borrowed, both flagged
    raw = mix.gaps[mix.gaps["method"] == "raw"].set_index(["group_a", "group_b"])
    for k_, r in raw.iterrows():
        for col in ("estimate", "ci_low", "ci_high", "p_value", "p_adj"):
            assert r[col] == pytest.approx(pw.loc[k_, col], rel=1e-10, abs=1e-12), (k_, col)
    me = mix.estimates.set_index(["method", "channel"])
    assert me.loc[("raw", "social"), "n_eff"] == pytest.approx(n_soc / pooled, rel=1e-10)
    assert me.loc[("standardised", "social"), "n_eff"] == pytest.approx(n_soc / pooled, rel=1e-10)
    for m in ("raw", "standardised"):
        assert "single_cluster" in me.loc[(m, "social"), "flag"]
        assert "single_cluster" not in me.loc[(m, "chat"), "flag"]
    de = mix.design_effects.set_index("channel")
    assert de.loc["social", "deff"] == pytest.approx(pooled, rel=1e-10) and bool(de.loc["social", "single_cluster"])
    # matrix cells and decomposition: the same borrowed design effect
    cells = mat.cells[mat.cells["channel"] == "social"]
    np.testing.assert_allclose(cells["n_eff"], cells["n"] / pooled, rtol=1e-10)
    assert cells["flag"].str.contains("single_cluster").all()
    assert dec.deff_b == pytest.approx(pooled, rel=1e-10)
    # one message each, saying what was borrowed and why
    for res in (ch, mix, mat, dec):
        said = [m for m in res.messages if "single 'agent_id'" in m]
        assert len(said) == 1 and "borrowed from all channel values pooled" in said[0]
        assert "one agent cannot show within-channel clustering" in said[0]
    # NPS / means: the interval stays NaN for the single agent, n_eff is still borrowed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        mean = gaps.channel_gaps(df, "mean_score", cluster="agent_id", seed=0)
    me2 = mean.estimates.set_index("channel")
    assert np.isnan(me2.loc["social", "ci_low"]) and "single_cluster" in me2.loc["social", "flag"]
    assert me2.loc["social", "n_eff"] < n_soc / 1.5
    assert any("not shown (NaN)" in m for m in mean.messages)
    # unclustered: nothing borrowed, nothing flagged
    plain = gaps.channel_gaps(df, seed=0)
    assert (plain.estimates["n_eff"] == plain.estimates["n"]).all()
    assert not plain.estimates["flag"].str.contains("single_cluster").any()


def test_missing_agent_ids_count_as_own_clusters_in_every_entry_point(clustered_channels):
    df = clustered_channels.copy()
    miss = np.random.default_rng(3).random(len(df)) < 0.15
    df.loc[miss, "agent_id"] = None
    # the reference: the same rows with each missing id replaced by a unique id of its own
    filled = df.copy()
    filled.loc[miss, "agent_id"] = [f"own{i}" for i in range(int(miss.sum()))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        ref_ch = gaps.channel_gaps(filled, cluster="agent_id", seed=0)
        ref_mat = gaps.reason_channel_matrix(filled, cluster="agent_id")
    with pytest.warns(StatisticalWarning, match=f"{int(miss.sum())} responses have no 'agent_id'"):
        ch = gaps.channel_gaps(df, cluster="agent_id", seed=0)
    with pytest.warns(StatisticalWarning, match="each counts as its own cluster"):
        mat = gaps.reason_channel_matrix(df, cluster="agent_id")
    with pytest.warns(StatisticalWarning, match="each counts as its own cluster"):
        dec = gaps.decompose_gap(df, "chat", "social", cluster="agent_id", seed=0)
    with pytest.warns(StatisticalWarning):
        rep = gaps.gaps_section(df, cluster="agent_id", n_boot=200)
    for col in ("n_eff", "ci_low", "ci_high"):
        np.testing.assert_allclose(ch.estimates[col], ref_ch.estimates[col], rtol=1e-12)
    np.testing.assert_allclose(ch.pairwise["p_value"], ref_ch.pairwise["p_value"], rtol=1e-12)
    np.testing.assert_allclose(mat.cells["n_eff"], ref_mat.cells["n_eff"], rtol=1e-12)
    assert dec.deff_a == pytest.approx(ref_ch.estimates.set_index("channel").loc["chat", "n"]
                                       / ref_ch.estimates.set_index("channel").loc["chat", "n_eff"], rel=1e-10)
    # the report renders, its parts agree with one another and with the entry points, the message is there once
    assert rep.channels.table.cluster == rep.mix.cluster == rep.matrix.cluster == "agent_id"
    np.testing.assert_allclose(rep.channels.pairwise["p_value"], ch.pairwise["p_value"], rtol=1e-12)
    raw = rep.mix.gaps[rep.mix.gaps["method"] == "raw"].set_index(["group_a", "group_b"])
    pw = rep.channels.pairwise.set_index(["group_a", "group_b"])
    for k_, r in raw.iterrows():
        assert r["p_value"] == pytest.approx(pw.loc[k_, "p_value"], rel=1e-10)
    np.testing.assert_allclose(rep.matrix.cells["n_eff"], ref_mat.cells["n_eff"], rtol=1e-12)
    said = [m for m in rep.messages if "have no 'agent_id'" in m]
    assert len(said) == 1 and said[0].startswith(f"{int(miss.sum())} responses")
    # an absent cluster column: every entry point runs unclustered, with the message
    for f in (lambda: gaps.channel_gaps(df, cluster="nope", seed=0),
              lambda: gaps.reason_channel_matrix(df, cluster="nope"),
              lambda: gaps.decompose_gap(df, "chat", "social", cluster="nope", seed=0),
              lambda: gaps.gaps_section(df, cluster="nope", n_boot=200)):
        with pytest.warns(StatisticalWarning, match="No usable cluster column 'nope'"):
            f()


def test_weighted_clustered_table_is_refused_by_the_mix_adjustment(clustered_channels):
    df = clustered_channels.assign(weight=np.exp(np.random.default_rng(0).normal(0, 0.8, len(clustered_channels))))
    t = tabulate(df, ["channel", "contact_reason"], scale="likert5", weight="weight", cluster="agent_id")
    for f in (lambda: gaps.mix_adjusted_gaps(t, n_boot=100, seed=0),
              lambda: gaps.reason_channel_matrix(t),
              lambda: gaps.decompose_gap(t, "chat", "social", seed=0)):
        with pytest.raises(ParameterError, match="does not support survey weights.*Pass the response rows, or a "
                                                 "score table tabulated without `weight`"):
            f()
    # the rows, or an unweighted clustered table, still work (and agree)
    t0 = tabulate(df, ["channel", "contact_reason"], scale="likert5", cluster="agent_id")
    a = gaps.mix_adjusted_gaps(t0, n_boot=100, seed=0, model=False)
    b = gaps.mix_adjusted_gaps(df, n_boot=100, seed=0, model=False)
    np.testing.assert_allclose(a.gaps["p_value"], b.gaps["p_value"], rtol=1e-12)


def test_few_clusters_flag_on_mix_estimates_and_matrix_cells(clustered_channels):
    # ten agents per channel (< FEW_CLUSTERS = 20): flagged as metrics.csat flags them
    from csatkit.metrics import FEW_CLUSTERS

    assert clustered_channels.groupby("channel")["agent_id"].nunique().max() < FEW_CLUSTERS
    ref = csat(clustered_channels, "channel", cluster="agent_id").set_index("channel")["flag"]
    assert ref.str.contains("few_clusters").all()
    mix = gaps.mix_adjusted_gaps(clustered_channels, cluster="agent_id", model=False, seed=0)
    e = mix.estimates
    assert e["flag"].str.contains("few_clusters").all()
    mat = gaps.reason_channel_matrix(clustered_channels, cluster="agent_id")
    assert mat.cells.loc[mat.cells["n"] > 0, "flag"].str.contains("few_clusters").all()
    # many agents: no flag; unclustered: no flag
    many = clustered_channels.assign(agent_id=clustered_channels["agent_id"] + "-"
                                     + (clustered_channels.index % 3).astype(str))
    assert many.groupby("channel")["agent_id"].nunique().min() >= FEW_CLUSTERS
    m2 = gaps.mix_adjusted_gaps(many, cluster="agent_id", model=False, seed=0)
    assert not m2.estimates["flag"].str.contains("few_clusters").any()
    plain = gaps.mix_adjusted_gaps(clustered_channels, cluster=None, model=False, seed=0)
    assert not plain.estimates["flag"].str.contains("few_clusters").any()


@pytest.mark.slow
def test_clustered_decomposition_bootstrap_coverage():
    """Coverage of the decomposition's clustered bootstrap intervals against the true parts.

    The review's design (sim_dec.py): two channels, 12 agents each (gamma-distributed workloads,
    about 60 responses each), agent effects N(0, 0.5^2) on the log-odds, four reasons with
    different CSAT and different mixes per channel, channel A 0.4 better on the log-odds. The true
    rates per reason are the logistic-normal integrals (scipy quad), the true parts Kitagawa's of
    those rates and the mixes. The performance part's 95% interval must cover 90-99% of the time
    (binomial tolerance of two standard errors around those bounds); the mix part's at least 90%.

    The mix part's interval stays conservative: about 99% (99.25% in 400 repetitions of this design,
    99.75% with the former n/deff multinomial redraw). Its rates get the channel's whole design
    effect, while agent effects shared by all reasons cancel in the mix part (its rate weights
    (s_a - s_b)/2 sum to 0), so redrawing the shares from the real counts removes only part of the
    excess.
    """
    from scipy import integrate, special

    a_r = np.array([1.5, 0.8, 0.0, -0.6])
    mixes = {"A": np.array([0.55, 0.25, 0.15, 0.05]), "B": np.array([0.10, 0.20, 0.30, 0.40])}
    sd, gap, agents, reps = 0.5, 0.4, 12, 300

    def true_p(a):
        f = lambda u: special.expit(a + u) * np.exp(-u * u / (2 * sd * sd)) / np.sqrt(2 * np.pi) / sd  # noqa: E731
        return integrate.quad(f, -8 * sd, 8 * sd)[0]

    pa = np.array([true_p(a + gap) for a in a_r])
    pb = np.array([true_p(a) for a in a_r])
    t_mix = 100 * ((mixes["A"] - mixes["B"]) * (pa + pb) / 2).sum()
    t_perf = 100 * ((pa - pb) * (mixes["A"] + mixes["B"]) / 2).sum()
    rng = np.random.default_rng(11)
    reasons = np.array(["r1", "r2", "r3", "r4"])
    cover_mix = cover_perf = done = 0
    while done < reps:
        frames = []
        for ch in ("A", "B"):
            m = rng.gamma(2.0, 30.0, agents).round().astype(int) + 1
            for k in range(agents):
                u = rng.normal(0, sd)
                r = rng.choice(4, m[k], p=mixes[ch])
                y = rng.random(m[k]) < special.expit(a_r[r] + u + (gap if ch == "A" else 0.0))
                frames.append(pd.DataFrame({"channel": ch, "contact_reason": reasons[r], "agent_id": f"{ch}{k}",
                                            "score": np.where(y, 5.0, 2.0), "scale": "likert5"}))
        d = pd.concat(frames, ignore_index=True)
        if d.groupby(["channel", "contact_reason"]).size().size < 8:
            continue
        t = gaps.decompose_gap(d, "A", "B", cluster="agent_id", n_boot=400, seed=done).totals.set_index("component")
        cover_mix += t.loc["mix", "ci_low"] <= t_mix <= t.loc["mix", "ci_high"]
        cover_perf += t.loc["performance", "ci_low"] <= t_perf <= t.loc["performance", "ci_high"]
        done += 1
    c_mix, c_perf = cover_mix / reps, cover_perf / reps
    tol = 2 * np.sqrt(0.95 * 0.05 / reps)
    print(f"\ncoverage of 95% intervals: mix {c_mix:.3f}, performance {c_perf:.3f} (tolerance +-{tol:.3f})")
    assert 0.90 - tol <= c_perf <= 0.99 + tol
    assert c_mix >= 0.90 - tol


@pytest.mark.parametrize("cluster", [None, "agent_id"])
def test_mix_model_for_a_channel_satisfied_throughout_shows_no_interval_but_keeps_the_other(cluster):
    # channel B: every response satisfied in every reason, so the logistic regression has no finite
    # estimate for it; A's margin and the A-B gap equal those of statsmodels' fit of the same model
    spec = [(1, "A", "r0", 5), (0, "A", "r0", 3), (1, "A", "r1", 18), (0, "A", "r1", 3), (1, "A", "r2", 4),
            (1, "B", "r0", 22), (1, "B", "r1", 1), (1, "B", "r2", 7)]
    rows = []
    for y, ch, r, n in spec:
        rows += [{"channel": ch, "contact_reason": r, "score": 5 if y else 2}] * n
    df = pd.DataFrame(rows)
    df["agent_id"] = [f"a{i % 6}" for i in range(len(df))]
    with pytest.warns(StatisticalWarning, match="no finite estimate"):
        res = gaps.mix_adjusted_gaps(df, scale="likert5", cluster=cluster, min_n=1, n_boot=100, seed=1)
    model = res.estimates[res.estimates["method"] == "model"].set_index("channel")
    assert model.loc["B", "estimate"] == pytest.approx(100.0)
    assert np.isnan(model.loc["B", ["ci_low", "ci_high", "se"]].astype(float)).all()
    # A's predictive margin from statsmodels' own fit: mean predicted probability with every response as A
    fit = smf.glm("y ~ C(channel) + C(contact_reason)", data=df.assign(y=(df["score"] == 5).astype(float)),
                  family=sm.families.Binomial()).fit()
    as_a = fit.predict(df.assign(channel="A")).mean()
    assert model.loc["A", "estimate"] == pytest.approx(100 * as_a, rel=1e-8)
    assert np.isfinite(model.loc["A", ["ci_low", "ci_high", "se"]].astype(float)).all()
    assert model.loc["B", "flag"] == "no_finite_estimate" and model.loc["A", "flag"] == ""
    # the gap's standard error would treat B's 100% as exact: no interval or test for it either
    gap = res.gaps[res.gaps["method"] == "model"].iloc[0]
    assert gap["estimate"] == pytest.approx(100 * (1 - as_a), rel=1e-6)
    assert np.isnan(gap[["ci_low", "ci_high", "se", "p_value", "p_adj"]].astype(float)).all()
    assert gap["flag"] == "no_finite_estimate" and not gap["significant"]


@pytest.mark.parametrize("satisfied", [True, False])
def test_mix_model_recognises_a_one_response_channel_at_0_or_100(satisfied):
    # the fit stops about 1e-8 / n from the boundary: a channel of one response is caught from its counts
    df = pd.DataFrame({"channel": ["A"] * 30 + ["B"], "contact_reason": ["r0"] * 31,
                       "score": [5] * 21 + [2] * 9 + [5 if satisfied else 2]})
    with pytest.warns(StatisticalWarning, match="Every response of B in the model's reasons"):
        res = gaps.mix_adjusted_gaps(df, scale="likert5", cluster=None, min_n=1, n_boot=100, seed=1)
    model = res.estimates[res.estimates["method"] == "model"].set_index("channel")
    assert np.isnan(float(model.loc["B", "se"])) and np.isfinite(float(model.loc["A", "se"]))
