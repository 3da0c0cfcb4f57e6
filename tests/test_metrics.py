"""Headline metrics: hand-worked examples, statsmodels/scipy equality, properties, coverage."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from csatkit.counts import ScoreTable, tabulate
from csatkit.exceptions import InputError, ParameterError
from csatkit.metrics import ces, csat, fcr, headline, mean_score, nps, response_rate


def likert(counts: dict, **cols) -> pd.DataFrame:
    scores = [k for k, v in counts.items() for _ in range(v)]
    return pd.DataFrame({"score": scores, "scale": "likert5", **cols})


# --- hand-worked examples (DOMAIN.md) ----------------------------------------------------------


def test_domain_example_150_of_250_is_60_percent():
    df = likert({5: 90, 4: 60, 3: 40, 2: 35, 1: 25})  # 150 satisfied (4-5) of 250
    row = csat(df).iloc[0]
    assert row["estimate"] == pytest.approx(60.0)
    assert row["n"] == 250 and row["satisfied"] == 150
    # Wilson by hand: centre (x + z²/2)/(n + z²), half-width z/(n+z²) sqrt(x(n-x)/n + z²/4)
    z, x, n = stats.norm.ppf(0.975), 150, 250
    centre = (x + z**2 / 2) / (n + z**2)
    half = z / (n + z**2) * np.sqrt(x * (n - x) / n + z**2 / 4)
    assert row["ci_low"] == pytest.approx(100 * (centre - half), abs=1e-10)
    assert row["ci_high"] == pytest.approx(100 * (centre + half), abs=1e-10)


@pytest.mark.parametrize("method, sm", [("wilson", "wilson"), ("agresti_coull", "agresti_coull"),
                                        ("jeffreys", "jeffreys"), ("clopper_pearson", "beta")])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_proportion_methods_equal_statsmodels(method, sm, level):
    df = likert({5: 17, 4: 20, 3: 5, 1: 11})
    row = csat(df, method=method, level=level).iloc[0]
    lo, hi = proportion_confint(37, 53, alpha=1 - level, method=sm)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((100 * lo, 100 * hi), abs=1e-10)


def test_nps_hand_example_and_wald_interval():
    # 50 promoters (9-10), 30 passives (7-8), 20 detractors (0-6) of 100: NPS = 50 - 20 = 30
    df = pd.DataFrame({"score": [10] * 30 + [9] * 20 + [8] * 10 + [7] * 20 + [6] * 5 + [0] * 15, "scale": "nps"})
    row = nps(df).iloc[0]
    assert row["estimate"] == pytest.approx(30.0)
    assert (row["promoters"], row["passives"], row["detractors"]) == pytest.approx((50, 30, 20))
    var = (0.5 + 0.2 - 0.3**2) / 100  # DOMAIN.md: (p_pro + p_det - NPS²)/n
    half = stats.norm.ppf(0.975) * np.sqrt(var)
    assert row["se"] == pytest.approx(100 * np.sqrt(var))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((100 * (0.3 - half), 100 * (0.3 + half)))


def test_nps_adjusted_wald_by_hand():
    df = pd.DataFrame({"score": [10] * 8 + [8] * 1 + [2] * 1, "scale": "nps"})
    row = nps(df, method="adjusted_wald").iloc[0]
    n = 10 + 3
    pp, pd_ = (8 + 0.75) / n, (1 + 0.75) / n
    centre = pp - pd_
    half = stats.norm.ppf(0.975) * np.sqrt((pp + pd_ - centre**2) / n)
    assert row["estimate"] == pytest.approx(70.0)  # the point estimate stays the raw NPS
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((100 * (centre - half), 100 * (centre + half)))


def test_nps_rejects_other_scales():
    with pytest.raises(ParameterError, match="0-10"):
        nps(likert({5: 3}), scale="likert5")


def test_mean_score_t_interval_equals_scipy():
    df = likert({5: 7, 4: 9, 3: 2, 2: 4, 1: 3})
    x = df["score"].to_numpy(float)
    row = mean_score(df, level=0.9).iloc[0]
    lo, hi = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert row["estimate"] == pytest.approx(x.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi))


def test_ces_mean_and_low_effort():
    df = pd.DataFrame({"score": [7, 7, 6, 5, 2, 1, 6, 7], "scale": "ces7"})
    m = ces(df).iloc[0]
    assert m["metric"] == "ces" and m["estimate"] == pytest.approx(np.mean([7, 7, 6, 5, 2, 1, 6, 7]))
    le = ces(df, statistic="low_effort").iloc[0]
    assert le["metric"] == "ces_low_effort" and le["estimate"] == pytest.approx(100 * 5 / 8)
    # when 1 means easy, the low-effort set is {1, 2}
    flipped = ces(df, statistic="low_effort", easy_end="low").iloc[0]
    assert flipped["estimate"] == pytest.approx(100 * 2 / 8)


def test_csat_top_box_override():
    df = likert({5: 10, 4: 30, 1: 10})
    assert csat(df, satisfied="top_box")["estimate"].iloc[0] == pytest.approx(20.0)


# --- weights and clusters -----------------------------------------------------------------------


def test_weighted_csat_uses_kish_effective_n():
    df = likert({5: 3, 2: 3}).assign(weight=[1.0, 2.0, 3.0, 1.0, 1.0, 4.0])
    row = csat(df, weight="weight").iloc[0]
    w = df["weight"].to_numpy()
    sat = df["score"].to_numpy() >= 4
    p = w[sat].sum() / w.sum()
    n_eff = w.sum() ** 2 / (w**2).sum()
    lo, hi = proportion_confint(p * n_eff, n_eff, method="wilson")
    assert row["estimate"] == pytest.approx(100 * p)
    assert row["n_eff"] == pytest.approx(n_eff)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((100 * lo, 100 * hi))


def test_weighted_mean_variance_is_the_linearised_one():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"score": rng.integers(1, 6, 300), "scale": "likert5", "w": rng.uniform(0.5, 3, 300)})
    row = mean_score(df, weight="w").iloc[0]
    x, w = df["score"].to_numpy(float), df["w"].to_numpy()
    m = (w * x).sum() / w.sum()
    n = len(x)
    var = n / (n - 1) * (w**2 * (x - m) ** 2).sum() / w.sum() ** 2
    assert row["estimate"] == pytest.approx(m)
    assert row["se"] == pytest.approx(np.sqrt(var))


def test_clustered_interval_is_wider_with_strong_agent_effects():
    rng = np.random.default_rng(11)
    agents = np.repeat(np.arange(40), 50)
    p_agent = np.clip(rng.normal(0.75, 0.15, 40), 0.05, 0.98)[agents]
    score = np.where(rng.random(agents.size) < p_agent, 5, 2)
    df = pd.DataFrame({"score": score, "scale": "likert5", "agent_id": agents})
    plain = csat(df).iloc[0]
    clustered = csat(df, cluster="agent_id").iloc[0]
    assert clustered["estimate"] == pytest.approx(plain["estimate"])
    assert clustered["n_eff"] < plain["n"] / 2  # design effect > 2 with these agent effects
    # the clustered standard error equals the textbook ratio-estimator formula
    y = pd.Series(score >= 4).groupby(agents).sum().to_numpy(float)
    m = pd.Series(score).groupby(agents).size().to_numpy(float)
    p = y.sum() / m.sum()
    var = 40 / 39 * ((y - p * m) ** 2).sum() / m.sum() ** 2
    assert clustered["se"] == pytest.approx(100 * np.sqrt(var))


# --- bootstrap ---------------------------------------------------------------------------------


def test_bootstrap_from_counts_is_reproducible_and_close_to_wilson():
    df = likert({5: 300, 4: 200, 3: 100, 2: 100, 1: 100})
    a = csat(df, method="bootstrap", seed=7).iloc[0]
    b = csat(df, method="bootstrap", seed=7).iloc[0]
    w = csat(df).iloc[0]
    assert (a["ci_low"], a["ci_high"]) == (b["ci_low"], b["ci_high"])
    assert a["ci_low"] == pytest.approx(w["ci_low"], abs=1.0)
    assert a["ci_high"] == pytest.approx(w["ci_high"], abs=1.0)
    n = nps(pd.DataFrame({"score": [10] * 60 + [7] * 20 + [3] * 20, "scale": "nps"}), method="bootstrap", seed=1)
    wald = nps(pd.DataFrame({"score": [10] * 60 + [7] * 20 + [3] * 20, "scale": "nps"}))
    assert n["ci_low"].iloc[0] == pytest.approx(wald["ci_low"].iloc[0], abs=3)


# --- flags and bad input ------------------------------------------------------------------------


def test_small_n_and_extreme_flags():
    df = likert({5: 10}, channel="chat")
    row = csat(df, "channel").iloc[0]
    assert "small_n" in row["flag"] and "p_is_0_or_1" in row["flag"]
    assert row["ci_high"] == pytest.approx(100.0) and row["ci_low"] < 100


def test_bad_parameters_are_named():
    df = likert({5: 3})
    with pytest.raises(ParameterError, match=r"`method` must be one of .* but 'wald' was passed"):
        csat(df, method="wald")
    with pytest.raises(ParameterError, match=r"`level` must lie in \(0, 1\)"):
        csat(df, level=95)
    with pytest.raises(Exception, match=r"Required column 'team' is missing"):
        csat(df, by="team")


def test_several_scales_need_a_choice():
    df = pd.concat([likert({5: 3}), pd.DataFrame({"score": [9, 10], "scale": "nps"}),
                    pd.DataFrame({"score": [4], "scale": "emoji5"})])
    with pytest.raises(ParameterError, match="several csat scales"):
        csat(df)
    assert csat(df, scale="emoji5")["n"].iloc[0] == 1
    assert nps(df)["n"].iloc[0] == 2


def test_score_off_the_scale_is_an_error_naming_the_row():
    df = pd.DataFrame({"score": [5, 9], "scale": "likert5"})
    with pytest.raises(InputError, match=r"holds 9 \(index label 1\).*not a point of scale 'likert5'"):
        csat(df)


# --- response rate and FCR ----------------------------------------------------------------------


def test_response_rate_from_unanswered_rows_and_from_contacts():
    df = likert({5: 30, 2: 10}).assign(response_id=[f"R{i}" for i in range(40)], customer_id=[f"C{i % 20}" for i in range(40)])
    sent_only = pd.DataFrame({"score": [np.nan] * 60, "scale": "likert5", "response_id": [f"S{i}" for i in range(60)],
                              "customer_id": "C99"})
    rr = response_rate(pd.concat([df, sent_only]))
    assert rr["estimate"].iloc[0] == pytest.approx(40.0)  # 40 answered of 100 sent
    lo, hi = proportion_confint(40, 100, method="wilson")
    assert rr["ci_low"].iloc[0] == pytest.approx(100 * lo)
    contacts = pd.DataFrame({"customer_id": [f"C{i}" for i in range(80)], "survey_sent": [True] * 50 + [False] * 30})
    rr2 = response_rate(df, contacts=contacts).set_index("metric")
    assert rr2.loc["response_rate", "estimate"] == pytest.approx(80.0)  # 40 of 50 sent
    assert rr2.loc["coverage", "estimate"] == pytest.approx(25.0)  # 20 customers responded of 80 served


def test_response_rate_rejects_more_responses_than_sent():
    df = likert({5: 10})
    with pytest.raises(InputError, match="10 responses but only 5"):
        response_rate(df, sent=5)


def test_fcr():
    c = pd.DataFrame({"channel": ["a"] * 10 + ["b"] * 10, "repeat_contact": [False] * 7 + [True] * 3 + [False] * 10})
    out = fcr(c, "channel").set_index("channel")
    assert out.loc["a", "estimate"] == pytest.approx(70.0) and out.loc["b", "estimate"] == pytest.approx(100.0)


def test_headline_stacks_metrics_present():
    df = pd.concat([likert({5: 30, 2: 10}), pd.DataFrame({"score": [9, 10, 3], "scale": "nps"}),
                    pd.DataFrame({"score": [7, 6, 2], "scale": "ces7"})], ignore_index=True)
    h = headline(df)
    assert set(h["metric"]) == {"csat", "nps", "ces"}  # no response rate: nothing says how many were sent


# --- score table == rows (property) -------------------------------------------------------------

_groups = st.sampled_from(["phone", "email", "chat"])


@st.composite
def _frames(draw):
    n = draw(st.integers(1, 120))
    scores = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    ch = draw(st.lists(_groups, min_size=n, max_size=n))
    team = draw(st.lists(st.sampled_from(["t1", "t2"]), min_size=n, max_size=n))
    return pd.DataFrame({"score": scores, "channel": ch, "team": team, "scale": "likert5"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_frames(), st.sampled_from([[], ["channel"], ["channel", "team"], ["team"]]))
def test_tabulate_then_metric_equals_direct_computation(df, by):
    table = tabulate(df, by)
    for fn in (csat, mean_score):
        from_table = fn(table, by)
        from_rows = fn(df, by)
        pd.testing.assert_frame_equal(from_table, from_rows)
    # and both equal a computation straight from the rows, without csatkit
    out = csat(df, by)
    grouped = [((), df)] if not by else list(df.groupby(by))
    for key, g in grouped:
        key = key if isinstance(key, tuple) else (key,)
        mask = np.ones(len(out), dtype=bool)
        for col, val in zip(by, key):
            mask &= (out[col] == val).to_numpy()
        row = out[mask].iloc[0]
        x, n = int((g["score"] >= 4).sum()), len(g)
        lo, hi = proportion_confint(x, n, method="wilson")
        assert row["estimate"] == pytest.approx(100 * x / n)
        assert row["ci_low"] == pytest.approx(100 * lo) and row["ci_high"] == pytest.approx(100 * hi)
        assert row["n"] == n


def test_table_collapse_equals_pooled():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"score": rng.integers(1, 6, 500), "channel": rng.choice(["a", "b", "c"], 500), "scale": "likert5"})
    t = tabulate(df, "channel")
    pd.testing.assert_frame_equal(csat(t.collapse()), csat(df))


def test_from_counts_matches_rows():
    counts = pd.DataFrame({"channel": ["a", "a", "b"], "score": [5, 1, 4], "n": [30, 10, 5]})
    t = ScoreTable.from_counts(counts, by="channel", scale="likert5")
    rows = pd.DataFrame({"channel": ["a"] * 40 + ["b"] * 5, "score": [5] * 30 + [1] * 10 + [4] * 5, "scale": "likert5"})
    pd.testing.assert_frame_equal(csat(t, "channel"), csat(rows, "channel"))


# --- coverage with known truth (slow) -------------------------------------------------------------


@pytest.mark.slow
def test_csat_and_nps_intervals_cover_at_nominal_rate_n200():
    """20,000 samples of n = 200 from a known population; coverage must lie in [93.5%, 96.5%].

    Monte Carlo SE of a coverage near 95% with 20,000 reps is 0.15 points.
    """
    rng = np.random.default_rng(2026)
    reps, n = 20_000, 200
    # CSAT: likert5 with P(satisfied) = 0.78
    p5 = np.array([0.05, 0.07, 0.10, 0.38, 0.40])
    scores = rng.choice(np.arange(1, 6), size=(reps, n), p=p5)
    df = pd.DataFrame({"rep": np.repeat(np.arange(reps), n), "score": scores.ravel(), "scale": "likert5"})
    out = csat(df, "rep")
    truth = 100 * (p5[3] + p5[4])
    cover = ((out["ci_low"] <= truth) & (truth <= out["ci_high"])).mean()
    assert 0.935 <= cover <= 0.965, cover
    # NPS: promoters 45%, passives 30%, detractors 25%
    p11 = np.array([0.04] * 5 + [0.025, 0.025] + [0.15, 0.15] + [0.2, 0.25])
    assert p11.sum() == pytest.approx(1)
    scores = rng.choice(np.arange(0, 11), size=(reps, n), p=p11)
    df = pd.DataFrame({"rep": np.repeat(np.arange(reps), n), "score": scores.ravel(), "scale": "nps"})
    for method in ("wald", "adjusted_wald"):
        out = nps(df, "rep", method=method)
        truth = 100 * (0.45 - 0.25)
        cover = ((out["ci_low"] <= truth) & (truth <= out["ci_high"])).mean()
        assert 0.935 <= cover <= 0.965, (method, cover)


def test_quarter_key_is_derived_from_interaction_at():
    df = likert({5: 2, 1: 2}).assign(interaction_at=pd.to_datetime(["2026-03-31", "2026-04-01", "2026-04-02", "2026-01-05"]))
    out = csat(df, "quarter").set_index("quarter")
    # 2026Q1: scores 5 (Mar 31) and 1 (Jan 5) -> 50%; 2026Q2: 5 and 1 -> 50%
    assert out.loc["2026Q1", "n"] == 2 and out.loc["2026Q2", "n"] == 2
    fiscal = csat(df, "quarter", fy_start=4).set_index("quarter")
    assert set(fiscal.index) == {"FY2026Q4", "FY2027Q1"}


def test_fcr_refuses_missing_repeat_flags():
    c = pd.DataFrame({"repeat_contact": [True, False, np.nan, np.nan]})
    with pytest.raises(InputError, match="repeat_contact.*missing"):
        fcr(c)


def test_fcr_reads_text_booleans_strictly():
    c = pd.DataFrame({"resolved_first_contact": ["False", "True", "false", "yes"]})
    assert fcr(c)["estimate"].iloc[0] == pytest.approx(50.0)  # 2 of 4 resolved, by hand
    with pytest.raises(InputError, match="resolved_first_contact.*'maybe'"):
        fcr(pd.DataFrame({"resolved_first_contact": ["yes", "maybe"]}))


def test_headline_has_no_response_rate_without_a_denominator():
    h = headline(likert({5: 2, 4: 1, 1: 1}))
    assert "response_rate" not in set(h["metric"])
    with_unanswered = pd.concat([likert({5: 2}), pd.DataFrame({"score": [np.nan], "scale": "likert5"})])
    assert "response_rate" in set(headline(with_unanswered)["metric"])


def test_few_clusters_are_flagged_and_use_cluster_degrees_of_freedom():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"score": rng.integers(1, 6, 60), "scale": "likert5", "agent_id": np.repeat(["a", "b", "c"], 20)})
    out = mean_score(df, cluster="agent_id").iloc[0]
    assert "few_clusters" in out["flag"]
    # t quantile with C - 1 = 2 degrees of freedom (scipy), not n_eff - 1
    half = stats.t.ppf(0.975, 2) * out["se"]
    assert out["ci_high"] - out["estimate"] == pytest.approx(half)
    one = csat(df[df["agent_id"] == "a"], cluster="agent_id").iloc[0]
    assert "few_clusters" in one["flag"] and np.isnan(one["ci_low"])


def test_grouping_by_an_empty_column_says_so():
    df = likert({5: 3}).assign(team=pd.Series([None] * 3, dtype=object))
    with pytest.raises(InputError, match="Cannot group by 'team': the column is empty in every row"):
        csat(df, "team")
