"""Tests of csatkit.drivers (QA join, scorecard regression, validity, key drivers) and csatkit._relimp.

Expected values come from outside the code under test: least squares fitted per subset with numpy,
averages over all orderings with itertools, direct statsmodels fits of the same formulas, finite
differences of statsmodels' own predictions, closed forms (orthogonal items, one-way ANOVA by
hand), and simulations with known truth.
"""

from __future__ import annotations

import itertools
import math
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy.special import expit
from statsmodels.miscmodels.ordinal_model import OrderedModel

from csatkit import _relimp
from csatkit.drivers import (
    DriversReport,
    KeyDrivers,
    QAJoin,
    ScorecardRegression,
    ScorecardValidity,
    drivers_section,
    join_qa,
    key_drivers,
    scorecard_regression,
    scorecard_validity,
)
from csatkit.exceptions import InputError, MissingColumnError, ParameterError, StatisticalWarning

CUTS = np.array([-1.5, -0.5, 0.5, 1.5])  # latent thresholds of the 1-5 score; satisfied = 4-5 <=> latent > 0.5


def draw_latent(rng, n, beta, n_agents=30, agent_sd=0.0, item_levels=3):
    """Items, channel, agent and score of the latent model (numpy only)."""
    p = len(beta)
    agent = rng.integers(0, n_agents, n)
    items = rng.integers(0, item_levels, size=(n, p)).astype(float)
    channel = rng.choice(np.array(["phone", "email", "chat"]), n)
    eta = -0.5 + items @ np.asarray(beta) + 0.3 * (channel == "chat")
    eta = eta + agent_sd * rng.normal(size=n_agents)[agent]
    latent = eta + rng.logistic(size=n)
    score = 1 + (latent[:, None] > CUTS).sum(axis=1)
    return items, channel, agent, score.astype(float)


def simulate(n=800, beta=(0.9, 0.5, 0.0, -0.3), seed=0, n_agents=30, agent_sd=0.0, item_levels=3):
    """QA evaluations and likert5 responses with known item effects.

    Latent = -0.5 + items @ beta + 0.3 [chat] + logistic noise (+ agent effect); score = cut at CUTS.
    With agent_sd = 0 the proportional-odds model holds with slopes ``beta`` exactly, and so does
    the logistic model of satisfied (P(score >= 4) = expit(eta - 0.5)).
    """
    rng = np.random.default_rng(seed)
    items, channel, agent, score = draw_latent(rng, n, beta, n_agents, agent_sd, item_levels)
    ids = [f"i{k}" for k in range(n)]
    qa = pd.DataFrame({
        "evaluation_id": [f"e{k}" for k in range(n)], "interaction_id": ids,
        "agent_id": [f"a{a}" for a in agent], "evaluator_id": [f"v{k % 4}" for k in range(n)],
        "channel": channel, "contact_reason": rng.choice(["billing", "tech"], n),
    })
    for j in range(len(beta)):
        qa[f"item_{chr(97 + j)}"] = items[:, j]
    qa["qa_score"] = items.mean(axis=1) * 100 / (item_levels - 1)
    responses = pd.DataFrame({"response_id": [f"r{k}" for k in range(n)], "interaction_id": ids,
                              "score": score, "scale": "likert5", "weight": 1.0, "channel": channel})
    return qa, responses


@pytest.fixture(scope="module")
def joined():
    qa, responses = simulate()
    return join_qa(qa, responses)


@pytest.fixture(scope="module")
def fitted(joined):
    return scorecard_regression(joined, controls=["channel", "contact_reason"])


def groups_of(df, col="agent_id"):
    return pd.factorize(df[col])[0]


def lstsq_r2(x, y, cols, w=None):
    """R² of y on an intercept and x[:, cols], by weighted least squares (numpy)."""
    w = np.ones(len(y)) if w is None else w
    sw = np.sqrt(w)
    a = np.column_stack([np.ones(len(y))] + [x[:, j] for j in cols])
    coef = np.linalg.lstsq(a * sw[:, None], y * sw, rcond=None)[0]
    res = y - a @ coef
    ybar = (w @ y) / w.sum()
    return 1 - (w @ res**2) / (w @ (y - ybar) ** 2)


def correlated_data(p, n=400, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) @ rng.normal(size=(p, p)) * 0.5 + rng.normal(size=(n, p))
    y = x @ rng.normal(size=p) + 3 * rng.normal(size=n)
    return x, y


# =============================================================================================
# _relimp: the fast arithmetic against brute force
# =============================================================================================


def test_subset_r2_equals_least_squares_for_every_subset():
    x, y = correlated_data(5)
    v = _relimp.subset_r2(_relimp.weighted_cov(np.column_stack([x, y])))
    # reference: 32 separate least-squares fits (numpy.linalg.lstsq)
    ref = [lstsq_r2(x, y, [j for j in range(5) if m >> j & 1]) for m in range(32)]
    np.testing.assert_allclose(v, ref, atol=1e-12)


@pytest.mark.parametrize("p", [4, 5, 6])
@pytest.mark.parametrize("weighted", [False, True])
def test_shapley_equals_average_over_all_orderings(p, weighted):
    x, y = correlated_data(p, seed=p)
    w = np.random.default_rng(p).uniform(0.2, 3, len(y)) if weighted else None
    phi = _relimp.shapley_from_subsets(_relimp.subset_r2(_relimp.weighted_cov(np.column_stack([x, y]), w)), p)
    # reference: every one of the p! orderings, R² gains from separate least-squares fits
    cache = {}

    def r2(s):
        key = frozenset(s)
        if key not in cache:
            cache[key] = lstsq_r2(x, y, sorted(s), w) if s else 0.0
        return cache[key]

    ref = np.zeros(p)
    for order in itertools.permutations(range(p)):
        s = []
        for j in order:
            before = r2(s)
            s = s + [j]
            ref[j] += r2(s) - before
    ref /= math.factorial(p)
    np.testing.assert_allclose(phi, ref, atol=1e-10)
    assert phi.sum() == pytest.approx(r2(list(range(p))), abs=1e-12)


def test_relative_weights_sum_to_r2():
    x, y = correlated_data(7)
    cov = _relimp.weighted_cov(np.column_stack([x, y]))
    rw = _relimp.relative_weights(cov)
    assert rw.sum() == pytest.approx(lstsq_r2(x, y, range(7)), abs=1e-12)
    assert (rw >= 0).all()


def test_orthogonal_items_share_their_squared_correlations():
    # closed form: with uncorrelated items, R²(S) = sum of r_j^2, so LMG = Johnson = r_j^2.
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(500, 4)) - rng.normal(size=(500, 4)).mean(0))
    x = q - q.mean(axis=0)
    x, _ = np.linalg.qr(x)  # orthonormal, and centred columns stay orthogonal after QR of centred data
    x = x - x.mean(axis=0)
    y = x @ np.array([3.0, 2.0, 1.0, 0.5]) + rng.normal(size=500) * 0.05
    cov = _relimp.weighted_cov(np.column_stack([x, y]))
    r = np.corrcoef(np.column_stack([x, y]), rowvar=False)[-1, :4]
    lmg = _relimp.shapley_from_subsets(_relimp.subset_r2(cov), 4)
    # x is only approximately orthogonal after centring; compare with the tolerance that allows
    assert np.abs(np.corrcoef(x, rowvar=False) - np.eye(4)).max() < 1e-10
    np.testing.assert_allclose(lmg, r**2, atol=1e-9)
    np.testing.assert_allclose(_relimp.relative_weights(cov), r**2, atol=1e-9)


def test_sampled_shapley_is_close_to_exact_and_sums_to_r2():
    x, y = correlated_data(8, seed=5)
    cov = _relimp.weighted_cov(np.column_stack([x, y]))
    exact = _relimp.shapley_from_subsets(_relimp.subset_r2(cov), 8)
    est, err = _relimp.shapley_sampled(cov, 4000, np.random.default_rng(0))
    assert est.sum() == pytest.approx(exact.sum(), abs=1e-12)
    assert (err > 0).all()
    assert (np.abs(est - exact) < 5 * err + 1e-12).all()


def test_collinear_item_adds_nothing_in_the_sweep():
    x, y = correlated_data(3)
    x = np.column_stack([x, x[:, 0] + x[:, 1]])
    v = _relimp.subset_r2(_relimp.weighted_cov(np.column_stack([x, y])))
    # x3 = x0 + x1 adds nothing once x0 and x1 are in, and stands in for x1 next to x0
    assert v[0b1111] == pytest.approx(v[0b0111], abs=1e-10)
    assert v[0b1011] == pytest.approx(v[0b0011], abs=1e-10)
    assert v[0b1001] == pytest.approx(v[0b0011], abs=1e-10)
    assert np.isfinite(v).all()


def test_dominance_of_orthogonal_items_is_complete_in_order():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2000, 3))
    x = np.linalg.qr(x - x.mean(0))[0]
    y = x @ np.array([3.0, 2.0, 1.0]) + rng.normal(size=2000) * 0.01
    v = _relimp.subset_r2(_relimp.weighted_cov(np.column_stack([x, y])))
    dom = _relimp.dominance(v, 3)
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        assert dom["complete"][i, j] == 1.0 and dom["complete"][j, i] == 0.0
        assert dom["conditional"][i, j] == 1.0 and dom["general"][i, j] == 1.0
    # general dominance statistics are the Shapley values
    np.testing.assert_allclose(dom["by_size"].mean(axis=1), _relimp.shapley_from_subsets(v, 3), atol=1e-14)


def test_dominance_undetermined_when_subsets_disagree():
    # suppressor: x1 alone predicts nothing, but with x0 it does, x2 predicts a little alone
    rng = np.random.default_rng(8)
    n = 5000
    t = rng.normal(size=n)
    noise = rng.normal(size=n)
    x0 = t + noise
    x1 = noise
    x2 = 0.3 * t + rng.normal(size=n)
    y = t + 0.1 * rng.normal(size=n)
    v = _relimp.subset_r2(_relimp.weighted_cov(np.column_stack([x0, x1, x2, y])))
    dom = _relimp.dominance(v, 3)
    assert v[0b010] < v[0b100]  # alone, x1 explains less than x2
    assert v[0b011] > v[0b101]  # with x0, x1 adds more than x2
    assert dom["complete"][1, 2] == 0.5


# =============================================================================================
# join_qa
# =============================================================================================


def small_join_inputs():
    qa = pd.DataFrame({
        "evaluation_id": ["e1", "e2", "e3", "e4", "e5", "e6"],
        "interaction_id": ["A", "B", "B", "C", None, "F"],
        "agent_id": ["x", "y", "y", "z", "z", "x"],
        "evaluator_id": ["v1", "v1", "v2", "v1", "v2", "v1"],
        "evaluated_at": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-05", "2024-01-03", "2024-01-03", "2024-01-04"]),
        "item_greet": [1.0, 0.0, 1.0, 1.0, 1.0, 0.0],
        "qa_score": [80.0, 40.0, 60.0, 90.0, 70.0, 30.0],
    })
    responses = pd.DataFrame({
        "response_id": ["r1", "r2", "r3", "r4", "r5", "r6", "r7"],
        "interaction_id": ["A", "A", "B", "C", "D", None, "F"],
        "score": [5.0, 2.0, 4.0, np.nan, 3.0, 4.0, 1.0],
        "scale": "likert5",
        "responded_at": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-02", "2024-01-02", "2024-01-02", "2024-01-02", "2024-01-06"]),
        "agent_id": ["x", "x", "q", "z", "z", "z", None],
        "weight": 1.0,
    })
    return qa, responses


def test_join_counts_every_row_once():
    qa, responses = small_join_inputs()
    j = join_qa(qa, responses)
    # by hand: evaluations 6 rows: e5 has no id; B evaluated twice (e2, e3) -> 'latest' keeps e3 (1 set aside);
    # kept A, B, C, F: A, B and F have answered surveys (C's survey is unanswered) -> 3 matched, 1 unmatched.
    assert [j.count("evaluations", s) for s in ("rows", "missing_id", "duplicated", "set_aside_by_rule", "matched", "unmatched")] == [6, 1, 2, 1, 3, 1]
    # surveys 7 rows: r4 unanswered, r6 no id; A answered twice -> 'first' keeps r2 (earliest), 1 set aside;
    # kept A, B, D, F: D has no evaluation.
    assert [j.count("surveys", s) for s in ("rows", "unanswered", "missing_id", "duplicated", "set_aside_by_rule", "matched", "unmatched")] == [7, 1, 1, 2, 1, 3, 1]
    for side in ("evaluations", "surveys"):
        c = j.counts[j.counts["side"] == side].set_index("status")["n"]
        assert c["rows"] == c.drop(["rows", "duplicated"]).sum()
    d = j.data.set_index("interaction_id")
    assert d.loc["A", "response_id"] == "r2" and d.loc["A", "score"] == 2.0
    assert d.loc["B", "evaluation_id"] == "e3"
    assert d.loc["A", "satisfied"] == 0.0 and d.loc["B", "satisfied"] == 1.0
    assert d.loc["B", "agent_id"] == "y"  # QA value wins over the survey's 'q'
    assert any("differs" in n for n in j.notes)
    assert isinstance(j.summary(), str) and "<table" in j._repr_html_()


def test_join_rules_latest_drop_and_mean():
    qa, responses = small_join_inputs()
    j = join_qa(qa, responses, multiple_surveys="latest", multiple_evaluations="first")
    d = j.data.set_index("interaction_id")
    assert d.loc["A", "response_id"] == "r1" and d.loc["B", "evaluation_id"] == "e2"
    j = join_qa(qa, responses, multiple_surveys="drop", multiple_evaluations="drop")
    assert set(j.data["interaction_id"]) == {"F"}
    j = join_qa(qa, responses, multiple_evaluations="mean")
    b = j.data.set_index("interaction_id").loc["B"]
    assert b["item_greet"] == 0.5 and b["qa_score"] == 50.0
    assert b["evaluator_id"] == "(several)" and b["n_evaluations"] == 2
    j = join_qa(qa, responses, multiple_surveys="all", multiple_evaluations="all")
    assert (j.data["interaction_id"] == "A").sum() == 2 and (j.data["interaction_id"] == "B").sum() == 2


def test_join_rejects_unknown_rule():
    qa, responses = small_join_inputs()
    with pytest.raises(ParameterError, match=r"The value for `multiple_surveys` must be one of \{'first', 'latest', 'drop', 'all'\}, but 'newest' was passed"):
        join_qa(qa, responses, multiple_surveys="newest")


def test_join_picks_the_csat_question_among_several():
    qa, responses = small_join_inputs()
    nps = responses.assign(scale="nps", score=9.0, response_id=lambda d: d["response_id"] + "n")
    j = join_qa(qa, pd.concat([responses, nps]))
    assert j.scale == "likert5" and len(j.data) == 3
    with pytest.raises(ParameterError, match="several scales"):
        join_qa(qa, pd.concat([responses, responses.assign(scale="likert7")]))


def test_join_without_matches_warns():
    qa, responses = small_join_inputs()
    with pytest.warns(StatisticalWarning, match="No QA evaluation matched"):
        j = join_qa(qa, responses.assign(interaction_id="zz"))
    assert len(j.data) == 0


# =============================================================================================
# scorecard_regression: equal to direct statsmodels fits
# =============================================================================================

RHS = "item_a + item_b + item_c + item_d + C(channel) + C(contact_reason)"


def test_logistic_equals_direct_statsmodels_fit(fitted, joined):
    df = joined.data
    direct = smf.logit(f"satisfied ~ {RHS}", df).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups_of(df)},
                                                     use_t=True)
    res = fitted.logistic
    np.testing.assert_allclose(res.params.values, direct.params.values, rtol=1e-6)
    np.testing.assert_allclose(res.bse.values, direct.bse.values, rtol=1e-6)
    ors = fitted.odds_ratios.set_index("item")
    assert ors.loc["item_a", "estimate"] == pytest.approx(np.exp(direct.params["item_a"]), rel=1e-6)
    assert ors.loc["item_a", "ci_low"] == pytest.approx(np.exp(direct.conf_int().loc["item_a", 0]), rel=1e-6)


def test_logistic_marginal_effects_equal_get_margeff(fitted, joined):
    df = joined.data
    direct = smf.logit(f"satisfied ~ {RHS}", df).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups_of(df)})
    me = direct.get_margeff(at="overall", method="dydx").summary_frame()
    eff = fitted.effects[fitted.effects["model"] == "logistic"].set_index("item")
    for it in ["item_a", "item_b", "item_c", "item_d"]:
        assert eff.loc[it, "estimate"] == pytest.approx(100 * me.loc[it, "dy/dx"], rel=1e-6)
        assert eff.loc[it, "se"] == pytest.approx(100 * me.loc[it, "Std. Err."], rel=1e-4)
        # 30 agents: t quantile on 29 degrees of freedom, qt(.975, 29) = 2.045230 (R)
        assert eff.loc[it, "ci_high"] - eff.loc[it, "estimate"] == pytest.approx(2.045230 * eff.loc[it, "se"], rel=1e-6)


def test_ordinal_equals_direct_statsmodels_fit(fitted, joined):
    df = joined.data.copy()
    df["y"] = pd.Categorical(df["score"], categories=[1.0, 2.0, 3.0, 4.0, 5.0], ordered=True)
    direct = OrderedModel.from_formula(f"y ~ {RHS}", df, distr="logit").fit(
        method="bfgs", disp=0, maxiter=2000, cov_type="cluster", cov_kwds={"groups": groups_of(df)})
    res = fitted.ordinal
    assert res.model.distr.__class__.__name__.startswith("logistic")
    np.testing.assert_allclose(res.params.values, direct.params.values, rtol=1e-6)
    np.testing.assert_allclose(res.bse.values, direct.bse.values, rtol=1e-5)


def test_ordinal_marginal_effects_equal_finite_differences_of_predictions(fitted):
    res = fitted.ordinal
    exog = np.asarray(res.model.exog, dtype=float)
    names = list(res.model.exog_names)
    oame = fitted.ordinal_ame
    h = 1e-5
    for it in ["item_a", "item_d"]:
        j = names.index(it)
        up, down = exog.copy(), exog.copy()
        up[:, j] += h
        down[:, j] -= h
        # reference: statsmodels' own predicted probabilities, averaged, differenced
        fd = (res.model.predict(res.params.values, exog=up).mean(0)
              - res.model.predict(res.params.values, exog=down).mean(0)) / (2 * h)
        ours = oame[oame["item"] == it].sort_values("level")["estimate"].to_numpy()
        np.testing.assert_allclose(ours, 100 * fd, atol=1e-6)
        sat = fitted.effects.query("model == 'ordinal' and item == @it")["estimate"].iloc[0]
        assert sat == pytest.approx(100 * fd[3:].sum(), abs=1e-6)
    assert oame.groupby("item")["estimate"].sum().abs().max() < 1e-9  # level effects sum to 0


def test_ordinal_ame_standard_errors_by_delta_method(fitted):
    # reference: delta method with a Jacobian of statsmodels' averaged predictions (independent code path)
    res = fitted.ordinal
    exog = np.asarray(res.model.exog, dtype=float)
    j = list(res.model.exog_names).index("item_b")
    theta = res.params.values.astype(float)

    def ame(params, h=1e-5):
        up, down = exog.copy(), exog.copy()
        up[:, j] += h
        down[:, j] -= h
        return (res.model.predict(params, exog=up).mean(0) - res.model.predict(params, exog=down).mean(0)) / (2 * h)

    jac = np.empty((5, len(theta)))
    for k in range(len(theta)):
        e = np.zeros_like(theta)
        e[k] = 1e-4
        jac[:, k] = (ame(theta + e) - ame(theta - e)) / 2e-4
    se = np.sqrt(np.diag(jac @ res.cov_params().values @ jac.T))
    ours = fitted.ordinal_ame.query("item == 'item_b'").sort_values("level")["se"].to_numpy()
    np.testing.assert_allclose(ours, 100 * se, rtol=1e-3)


def test_linear_equals_direct_statsmodels_fit(fitted, joined):
    df = joined.data.assign(satisfied_pp=lambda d: 100 * d["satisfied"])
    direct = smf.ols(f"satisfied_pp ~ {RHS}", df).fit(cov_type="cluster", cov_kwds={"groups": groups_of(df)})
    np.testing.assert_allclose(fitted.linear.params.values, direct.params.values, rtol=1e-10)
    np.testing.assert_allclose(fitted.linear.bse.values, direct.bse.values, rtol=1e-10)
    eff = fitted.effects.query("model == 'linear'").set_index("item")
    assert eff.loc["item_b", "estimate"] == pytest.approx(direct.params["item_b"])
    assert eff.loc["item_b", "measure"] == "coef_pp"


def test_score_outcome_and_robust_errors_without_cluster(joined):
    r = scorecard_regression(joined, outcome="score", controls=[], cluster=None, models=["linear"])
    direct = smf.ols("score ~ item_a + item_b + item_c + item_d", joined.data).fit(cov_type="HC1")
    np.testing.assert_allclose(r.linear.bse.values, direct.bse.values, rtol=1e-10)
    assert r.primary == "linear" and r.effects["measure"].eq("coef_points").all()
    assert r.linear.cov_type == "HC1"


def test_mixed_model_equals_direct_mixedlm(joined):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = scorecard_regression(joined, controls=["channel"], models=["linear"], mixed=True)
        df = joined.data.assign(satisfied_pp=lambda d: 100 * d["satisfied"])
        direct = smf.mixedlm("satisfied_pp ~ item_a + item_b + item_c + item_d + C(channel)", df,
                             groups=df["agent_id"]).fit(reml=True)
    np.testing.assert_allclose(r.mixed.fe_params.values, direct.fe_params.values, rtol=1e-8)
    assert 0 <= r.agent_share <= 100
    assert set(r.effects["model"]) == {"linear", "mixed"}


def test_weights_act_like_repeated_rows(joined):
    df = joined.data.copy()
    df["weight"] = np.random.default_rng(0).integers(1, 4, len(df)).astype(float)
    r = scorecard_regression(df, controls=["channel"], weights="weight", models=["logistic", "linear"])
    rep = df.loc[df.index.repeat(df["weight"].astype(int))]
    d_log = smf.logit("satisfied ~ item_a + item_b + item_c + item_d + C(channel)", rep).fit(disp=0)
    d_lin = smf.ols("satisfied ~ item_a + item_b + item_c + item_d + C(channel)", rep).fit()
    np.testing.assert_allclose(r.logistic.params.values, d_log.params.values, rtol=1e-6)
    np.testing.assert_allclose(r.linear.params.values, 100 * d_lin.params.values, rtol=1e-8)


def test_weighted_ordinal_with_unit_weights_equals_unweighted(joined):
    df = joined.data.copy()
    df["w2"] = 2.0
    df.loc[df.index[:3], "w2"] = 2.0 + 1e-12  # not constant, so the weighted path is taken; weights are rescaled to mean 1
    r = scorecard_regression(df, controls=[], weights="w2", models=["ordinal"])
    u = scorecard_regression(df, controls=[], models=["ordinal"])
    np.testing.assert_allclose(r.ordinal.params.values, u.ordinal.params.values, rtol=1e-5)


def test_result_tables_use_the_shared_vocabulary(fitted):
    for col in ["estimate", "ci_low", "ci_high", "se", "p_value", "p_adj", "effect_size", "n", "flag", "item", "term"]:
        assert col in fitted.effects.columns
    assert isinstance(fitted, ScorecardRegression)
    assert "logistic" in fitted.summary() and "<table" in fitted._repr_html_()
    assert set(fitted.results) == {"logistic", "ordinal", "linear"}
    assert fitted.primary == "logistic"


# =============================================================================================
# Bad input
# =============================================================================================


def test_constant_item_is_left_out_with_a_message(joined):
    df = joined.data.assign(item_const=1.0)
    with pytest.warns(StatisticalWarning, match=r"Item 'item_const' is constant \(every evaluation scored 1\)"):
        r = scorecard_regression(df, controls=[], models=["linear"])
    assert "item_const" not in r.items and r.dropped["reason"].tolist() == ["constant"]


def test_collinear_item_is_left_out_naming_the_others(joined):
    df = joined.data.assign(item_total=lambda d: d["item_a"] + d["item_b"])
    with pytest.warns(StatisticalWarning, match=r"Item 'item_total' is a perfect linear combination of 'item_a', 'item_b'"):
        r = scorecard_regression(df, controls=["channel"], models=["linear"])
    assert r.items == ["item_a", "item_b", "item_c", "item_d"]


def test_separation_leaves_item_out_of_logistic_model_only(joined):
    df = joined.data.copy()
    rng = np.random.default_rng(2)
    df["item_comply"] = np.where(df["satisfied"] == 1, 1.0, rng.integers(0, 2, len(df)).astype(float))
    # every evaluation with item_comply = 0 is dissatisfied: quasi-complete separation
    with pytest.warns(StatisticalWarning, match=r"Item 'item_comply' separates the outcome in the logistic model"):
        r = scorecard_regression(df, controls=[], models=["logistic", "linear"])
    assert "item_comply" not in set(r.odds_ratios["item"])
    assert "item_comply" in set(r.effects.query("model == 'linear'")["item"])
    assert r.dropped.query("item == 'item_comply'")["model"].tolist() == ["logistic"]


def test_near_separation_of_a_multi_valued_item_is_caught(joined):
    df = joined.data.copy()
    rng = np.random.default_rng(3)
    df["item_mv"] = np.where(df["satisfied"] == 1, rng.integers(3, 5, len(df)), rng.integers(0, 3, len(df))).astype(float)
    with pytest.warns(StatisticalWarning, match=r"item_mv.*separates the outcome in the logistic model"):
        r = scorecard_regression(df, controls=[], models=["logistic"])
    assert "item_mv" not in set(r.odds_ratios["item"])


def test_fewer_evaluations_than_items_is_an_error(joined):
    small = joined.data.head(4)
    with pytest.raises(InputError, match=r"Only 4 usable evaluations for 4 items: a regression needs more evaluations than parameters \(5\)"):
        scorecard_regression(small, controls=[], cluster=None)


def test_non_numeric_item_is_left_out_and_yes_no_is_understood(joined):
    df = joined.data.copy()
    df["item_tone"] = np.where(np.arange(len(df)) % 2 == 0, "friendly", "curt")
    df["item_verify"] = np.where(df["item_a"] > 0, "Yes", "no")
    df.loc[df.index[:5], "item_verify"] = "N/A"
    with pytest.warns(StatisticalWarning, match=r"Item 'item_tone' holds values that are not scores \('friendly', 'curt'\)"):
        r = scorecard_regression(df, controls=[], models=["linear"])
    assert "item_verify" in r.items and "item_tone" not in r.items
    assert r.n == len(df) - 5
    assert any("5 of" in m and "'item_verify' (5)" in m for m in r.messages)


def test_mostly_missing_item_is_left_out(joined):
    df = joined.data.copy()
    hold = np.random.default_rng(9).integers(0, 3, len(df)).astype(float)
    df["item_hold"] = np.where(np.arange(len(df)) % 2 == 0, np.nan, hold)
    with pytest.warns(StatisticalWarning, match=r"Item 'item_hold' is missing in 50% of the evaluations"):
        r = scorecard_regression(df, controls=[], models=["linear"])
    assert "item_hold" not in r.items and r.n == len(df)
    r2 = scorecard_regression(df, controls=[], models=["linear"], max_missing=0.6)
    assert "item_hold" in r2.items and r2.n == len(df) // 2


def test_item_names_that_need_quoting(joined):
    df = joined.data.rename(columns={"item_a": "item_first contact", "item_b": "item_hold/transfer"})
    r = scorecard_regression(df, controls=["channel"], models=["logistic", "linear"])
    direct = smf.ols("Q('satisfied_pp') ~ Q('item_first contact') + Q('item_hold/transfer') + item_c + item_d + C(channel)",
                     df.assign(satisfied_pp=100 * df["satisfied"])).fit(cov_type="cluster", cov_kwds={"groups": groups_of(df)})
    np.testing.assert_allclose(r.linear.params.values, direct.params.values, rtol=1e-10)
    assert r.effects["item"].str.startswith("item_").all()
    assert "item_first contact" in set(r.odds_ratios["item"])


def test_control_level_predicting_perfectly_keeps_the_items(joined):
    df = joined.data.copy()
    df.loc[df.index[:25], "channel"] = "social"
    df.loc[df.index[:25], "satisfied"] = 1.0  # every 'social' contact satisfied: its dummy runs off
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = scorecard_regression(df, controls=["channel"], models=["logistic"])
    assert set(r.odds_ratios["item"]) == {"item_a", "item_b", "item_c", "item_d"}
    assert np.isfinite(r.odds_ratios["ci_high"]).all()


def test_satisfied_must_be_binary(joined):
    df = joined.data.assign(satisfied=lambda d: np.where(d.index % 2 == 0, "yes", "no"))
    with pytest.raises(InputError, match=r"Column 'satisfied' must hold 0/1 \(or True/False\), but holds e.g. 'yes'"):
        scorecard_regression(df)


def test_missing_item_column_names_the_nearest(joined):
    with pytest.raises(MissingColumnError, match=r"Required column 'item_emapthy' is missing"):
        scorecard_regression(joined, items=["item_emapthy"])


def test_bad_outcome_is_rejected(joined):
    with pytest.raises(ParameterError, match=r"The value for `outcome` must be one of \{'satisfied', 'score'\}, but 'csat' was passed"):
        scorecard_regression(joined, outcome="csat")


def test_mixed_needs_a_cluster(joined):
    with pytest.raises(ParameterError, match=r"`mixed=True` needs a `cluster` column"):
        scorecard_regression(joined, cluster=None, mixed=True)


def test_few_clusters_are_flagged(joined):
    df = joined.data.assign(agent_id=lambda d: np.where(d.index % 2 == 0, "a", "b"))
    with pytest.warns(StatisticalWarning, match="Only 2 clusters"):
        r = scorecard_regression(df, controls=[], models=["linear"])
    assert r.effects["flag"].eq("few_clusters").all()


# =============================================================================================
# scorecard_validity
# =============================================================================================


def test_validity_association_and_calibration(fitted, joined):
    v = scorecard_validity(joined, regression=fitted)
    a = v.association.iloc[0]
    df = joined.data
    assert a["estimate"] == pytest.approx(np.corrcoef(df["qa_score"], df["satisfied"])[0, 1], rel=1e-12)
    assert a["ci_low"] < a["estimate"] < a["ci_high"] and a["n_eff"] <= a["n"] == len(df)
    cal = v.calibration
    assert cal["n"].sum() == len(df)
    from statsmodels.stats.proportion import proportion_confint

    first = cal.iloc[0]
    sel = (df["qa_score"] >= first["qa_low"]) & (df["qa_score"] <= first["qa_high"])
    k, n = df.loc[sel, "satisfied"].sum(), sel.sum()
    assert first["n"] == n and first["estimate"] == pytest.approx(100 * k / n)
    assert first["ci_low"] == pytest.approx(100 * proportion_confint(k, n, method="wilson")[0])
    assert isinstance(v, ScorecardValidity) and "decile" in v.summary() and "<table" in v._repr_html_()


def test_verdicts_follow_the_known_effects(fitted, joined):
    v = scorecard_validity(joined, regression=fitted).verdicts.set_index("item")
    # truth: item_a +0.9, item_b +0.5, item_c 0, item_d -0.3 log-odds
    assert v.loc["item_a", "verdict"] == "drives CSAT"
    assert v.loc["item_b", "verdict"] == "drives CSAT"
    assert v.loc["item_c", "verdict"] == "no detectable effect at this n"
    assert v.loc["item_d", "verdict"] == "negative association to investigate"
    # MDE = (t_0.975 + t_0.8) * SE on G - 1 = 29 degrees of freedom (30 agents); quantiles from R: qt(c(.975, .8), 29)
    assert fitted.df_inference == 29
    assert v.loc["item_c", "mde"] == pytest.approx((2.045230 + 0.854192) * v.loc["item_c", "se"], rel=1e-5)
    assert "smallest effect detectable" in v.loc["item_c", "text"]


def test_vif_equals_statsmodels(fitted, joined):
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    v = scorecard_validity(joined, regression=fitted)
    d = fitted.data
    design = pd.get_dummies(d[["channel", "contact_reason"]], drop_first=True, dtype=float)
    x = pd.concat([d[fitted.items], design], axis=1)
    x.insert(0, "const", 1.0)
    ref = [variance_inflation_factor(x.to_numpy(), k) for k in range(1, 5)]
    np.testing.assert_allclose(v.collinearity["vif"], ref, rtol=1e-8)
    # condition number of the unit-length-scaled [1, items] matrix, via numpy's cond
    xs = np.column_stack([np.ones(len(d)), d[fitted.items]])
    assert v.condition_number == pytest.approx(np.linalg.cond(xs / np.linalg.norm(xs, axis=0)), rel=1e-10)


def test_nearly_collinear_items_warn(joined):
    df = joined.data.copy()
    rng = np.random.default_rng(5)
    df["item_e"] = df["item_a"] + 0.05 * rng.normal(size=len(df))
    with pytest.warns(StatisticalWarning, match=r"cannot be well separated: item_a \(VIF"):
        scorecard_validity(df, controls=[], regression=scorecard_regression(df, controls=[], models=["linear"]))


def test_evaluator_share_by_hand():
    # hand calculation: groups {1,2,3} and {4,5,6}: MSB = 13.5, MSW = 1, n0 = 3,
    # sigma_b^2 = (13.5 - 1) / 3 = 4.1667, ICC = 4.1667 / 5.1667 = 0.80645
    from csatkit.drivers import _icc_oneway

    res = _icc_oneway(np.array([1.0, 2, 3, 4, 5, 6]), np.array(list("aaabbb")), 0.05)
    assert res["icc"] == pytest.approx(12.5 / 3 / (12.5 / 3 + 1), rel=1e-12)
    assert 0 <= res["ci_low"] <= res["icc"] <= res["ci_high"] <= 1


def test_evaluator_share_recovers_simulated_truth(joined):
    df = joined.data.copy()
    rng = np.random.default_rng(6)
    ev = rng.integers(0, 20, len(df))
    # truth: evaluator variance 9, residual 21 -> 30% of the QA-score variance
    df["evaluator_id"] = [f"v{k}" for k in ev]
    df["qa_score"] = 60 + rng.normal(0, 3, 20)[ev] + rng.normal(0, np.sqrt(21), len(df))
    v = scorecard_validity(df, controls=[], regression=scorecard_regression(df, controls=[], models=["linear"]))
    e = v.evaluator.iloc[0]
    assert e["ci_low"] < 30 < e["ci_high"] and e["n_evaluators"] == 20
    assert len(v.evaluators) == 20


# =============================================================================================
# key_drivers
# =============================================================================================


def test_key_drivers_rank_matches_truth_and_sums(joined):
    kd = key_drivers(joined, n_boot=50, seed=1)
    assert isinstance(kd, KeyDrivers) and kd.method == "exact"
    # truth |beta|: a 0.9 > b 0.5 > d 0.3 > c 0; independent items -> the same order of importance
    assert kd.ranking("lmg") == ["item_a", "item_b", "item_d", "item_c"]
    assert kd.ranking("relative_weights") == ["item_a", "item_b", "item_d", "item_c"]
    df = joined.data
    r2 = smf.ols("satisfied ~ item_a + item_b + item_c + item_d", df).fit().rsquared
    lmg = kd.importance.query("method == 'lmg'")
    assert lmg["contribution"].sum() == pytest.approx(r2, abs=1e-12)
    assert lmg["estimate"].sum() == pytest.approx(100)
    assert kd.importance.query("method == 'relative_weights'")["contribution"].sum() == pytest.approx(r2, abs=1e-12)
    assert (lmg["ci_low"] <= lmg["ci_high"]).all()
    top = lmg.set_index("item").loc["item_a"]
    assert top["ci_low"] < top["estimate"] < top["ci_high"]
    assert kd.dominance is not None and kd.dominance.iloc[0]["item"] == "item_a"
    cond = kd.conditional.groupby("item")["estimate"].mean()
    np.testing.assert_allclose(cond[lmg["item"]].to_numpy(), lmg["contribution"].to_numpy(), atol=1e-14)
    assert "lmg" in kd.summary() and "<table" in kd._repr_html_()


def test_key_drivers_with_controls_share_the_added_r2(joined):
    kd = key_drivers(joined, controls=["channel"], n_boot=0)
    df = joined.data
    full = smf.ols("satisfied ~ item_a + item_b + item_c + item_d + C(channel)", df).fit().rsquared
    ctrl = smf.ols("satisfied ~ C(channel)", df).fit().rsquared
    r2 = kd.r2.set_index("measure")["estimate"]
    assert r2["r2"] == pytest.approx(full, abs=1e-12) and r2["r2_controls"] == pytest.approx(ctrl, abs=1e-12)
    assert kd.importance.query("method == 'lmg'")["contribution"].sum() == pytest.approx(full - ctrl, abs=1e-12)


def test_mcfadden_decomposition_sums_to_statsmodels_pseudo_r2(joined):
    kd = key_drivers(joined, controls=["channel"], n_boot=0)
    df = joined.data
    null = smf.logit("satisfied ~ 1", df).fit(disp=0).llf
    full = smf.logit("satisfied ~ item_a + item_b + item_c + item_d + C(channel)", df).fit(disp=0).llf
    ctrl = smf.logit("satisfied ~ C(channel)", df).fit(disp=0).llf
    mcf = kd.importance.query("method == 'mcfadden_lmg'")
    assert mcf["contribution"].sum() == pytest.approx((1 - full / null) - (1 - ctrl / null), abs=1e-8)
    assert kd.r2.set_index("measure").loc["mcfadden", "estimate"] == pytest.approx(1 - full / null, abs=1e-8)
    assert list(mcf.sort_values("rank")["item"])[:2] == ["item_a", "item_b"]


def test_mcfadden_sampled_beyond_its_exact_limit(joined):
    exact = key_drivers(joined, n_boot=0).importance.query("method == 'mcfadden_lmg'").set_index("item")
    kd = key_drivers(joined, n_boot=0, pseudo_exact_max=2, n_perm_pseudo=40, seed=3)
    est = kd.importance.query("method == 'mcfadden_lmg'").set_index("item")
    assert est["contribution"].sum() == pytest.approx(exact["contribution"].sum(), abs=1e-8)
    assert (np.abs(est["contribution"] - exact["contribution"]) <= 5 * est["mc_error"] + 1e-9).all()


def test_key_drivers_sampled_beyond_exact_max(joined):
    exact = key_drivers(joined, n_boot=0).importance.query("method == 'lmg'").set_index("item")
    kd = key_drivers(joined, n_boot=20, exact_max=3, n_perm=2000, seed=2)
    assert kd.method == "sampled" and any("exceed exact_max=3" in m for m in kd.messages)
    est = kd.importance.query("method == 'lmg'").set_index("item")
    assert (est["mc_error"] > 0).all()
    assert (np.abs(est["contribution"] - exact["contribution"]) <= 5 * est["mc_error"] + 1e-12).all()
    assert est["contribution"].sum() == pytest.approx(exact["contribution"].sum(), abs=1e-12)
    assert kd.dominance is None


def test_key_drivers_weights_act_like_repeated_rows(joined):
    df = joined.data.copy()
    df["weight"] = np.random.default_rng(0).integers(1, 4, len(df)).astype(float)
    kd = key_drivers(df, n_boot=0, pseudo_r2=None)
    assert kd.weighted
    rep = df.loc[df.index.repeat(df["weight"].astype(int))].assign(weight=1.0)
    ref = key_drivers(rep, n_boot=0, pseudo_r2=None)
    np.testing.assert_allclose(kd.importance["contribution"], ref.importance["contribution"], atol=1e-12)


def test_key_drivers_bootstrap_is_seeded(joined):
    a = key_drivers(joined, n_boot=30, seed=7, pseudo_r2=None).importance
    b = key_drivers(joined, n_boot=30, seed=7, pseudo_r2=None).importance
    pd.testing.assert_frame_equal(a, b)


def test_key_drivers_parameter_checks(joined):
    with pytest.raises(ParameterError, match=r"The value for `n_boot` must be an integer of at least 0, but -1 was passed"):
        key_drivers(joined, n_boot=-1)


def test_relative_importance_of_a_score_outcome_on_rows_bootstrap(joined):
    kd = key_drivers(joined, outcome="score", cluster=None, n_boot=20)
    r2 = smf.ols("score ~ item_a + item_b + item_c + item_d", joined.data).fit().rsquared
    assert kd.importance.query("method == 'lmg'")["contribution"].sum() == pytest.approx(r2, abs=1e-12)
    assert "mcfadden_lmg" not in set(kd.importance["method"]) and kd.cluster is None


# =============================================================================================
# drivers_section and plots
# =============================================================================================


@pytest.fixture(scope="module")
def report():
    qa, responses = simulate(n=600, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return drivers_section(qa, responses, controls=["channel"], n_boot=30)


def test_drivers_section_in_one_call(report):
    assert isinstance(report, DriversReport)
    assert isinstance(report.join, QAJoin) and report.regression.n == 600
    text = " ".join(report.findings)
    assert "600 of 600 QA evaluations" in text and "Items that drive CSAT" in text
    out = report._repr_html_()
    assert out.count("<img") == 3 and "What drives CSAT" in out
    assert "What drives CSAT" in report.summary()


def test_plots_return_axes(report):
    import matplotlib.pyplot as plt

    from csatkit import plots_drivers

    fig, axes = plt.subplots(1, 3)
    try:
        assert plots_drivers.plot_importance(report.drivers, ax=axes[0]) is axes[0]
        assert plots_drivers.plot_item_effects(report.regression, ax=axes[1],
                                               verdicts=report.validity.verdicts) is axes[1]
        assert plots_drivers.plot_qa_calibration(report.validity, ax=axes[2]) is axes[2]
        assert len(axes[0].patches) == len(report.drivers.items)
        ax = plots_drivers.plot_importance(report.drivers.importance, method="relative_weights")
        assert ax.get_figure() is not fig
        with pytest.raises(ParameterError, match="The value for `method` must be one of"):
            plots_drivers.plot_importance(report.drivers, method="shapley")
    finally:
        plt.close("all")


# =============================================================================================
# Coverage of the intervals across repetitions (simulation with known truth)
# =============================================================================================


@pytest.mark.slow
def test_intervals_cover_the_truth_at_the_nominal_rate():
    """95% CIs of the logistic and ordinal slopes and of the AME on P(satisfied) cover the truth.

    Truth: the latent model of ``simulate`` (SEs clustered by agent). The logistic and ordinal
    slopes are ``beta``; the AME on P(satisfied) is beta_j * E[p(1 - p)] with p = expit(eta - 0.5),
    its expectation taken over 400,000 draws of the design.
    """
    beta = np.array([0.8, 0.4, 0.0])
    items, channel, _, _ = draw_latent(np.random.default_rng(123), 400_000, beta)
    p_big = expit(-0.5 + items @ beta + 0.3 * (channel == "chat") - 0.5)
    ame_truth = 100 * beta * np.mean(p_big * (1 - p_big))
    hits = {"logistic_coef": 0, "ordinal_coef": 0, "ame_logistic": 0, "ame_ordinal": 0}
    total = 0
    for r in range(50):
        qa, responses = simulate(n=500, beta=tuple(beta), seed=1000 + r, n_agents=30)
        res = scorecard_regression(join_qa(qa, responses), controls=["channel"], models=["logistic", "ordinal"])
        lo = res.coefficients.query("model == 'logistic'").set_index("term")
        od = res.coefficients.query("model == 'ordinal'").set_index("term")
        eff = res.effects.set_index(["model", "item"])
        for j, it in enumerate(["item_a", "item_b", "item_c"]):
            hits["logistic_coef"] += lo.loc[it, "ci_low"] <= beta[j] <= lo.loc[it, "ci_high"]
            hits["ordinal_coef"] += od.loc[it, "ci_low"] <= beta[j] <= od.loc[it, "ci_high"]
            e = eff.loc[("logistic", it)]
            hits["ame_logistic"] += e["ci_low"] <= ame_truth[j] <= e["ci_high"]
            e = eff.loc[("ordinal", it)]
            hits["ame_ordinal"] += e["ci_low"] <= ame_truth[j] <= e["ci_high"]
            total += 1
    for name, h in hits.items():
        # 150 intervals: binomial SD of the coverage 1.8 points
        assert 0.89 <= h / total <= 0.995, f"{name}: coverage {h / total:.3f}"


@pytest.mark.slow
def test_linear_intervals_cover_the_projection_truth_with_agent_effects():
    """Cluster-robust CIs of the linear model cover the population least-squares slopes.

    With a random agent effect on the latent scale, rows of one agent are correlated. The truth is
    the linear projection of the score on the items, computed on 1,000,000 simulated rows.
    """
    beta = (0.8, 0.4, 0.0)
    items, _, _, score = draw_latent(np.random.default_rng(99), 1_000_000, beta, n_agents=5000, agent_sd=0.8)
    truth = np.linalg.lstsq(np.column_stack([np.ones(len(score)), items]), score, rcond=None)[0][1:]
    hits = total = 0
    for r in range(100):
        qa, responses = simulate(n=400, beta=beta, seed=5000 + r, n_agents=30, agent_sd=0.8)
        res = scorecard_regression(join_qa(qa, responses), outcome="score", controls=[], models=["linear"])
        eff = res.effects.set_index("item")
        for j, it in enumerate(["item_a", "item_b", "item_c"]):
            hits += eff.loc[it, "ci_low"] <= truth[j] <= eff.loc[it, "ci_high"]
            total += 1
    # 300 intervals: binomial SD 1.3 points
    assert 0.90 <= hits / total <= 0.99, f"coverage {hits / total:.3f}"
