"""Tests for csatkit.trends: period comparison, p chart, target tracking, summary, service recovery.

Expected values come from statsmodels and scipy called directly on the same counts, from hand
calculations written out in comments, and from seeded simulations with a known truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats import proportion as smp
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from csatkit.counts import tabulate
from csatkit.exceptions import CsatkitError, ParameterError
from csatkit.trends import (
    ExecSummary,
    compare_periods,
    dissatisfied_points,
    executive_summary,
    p_chart,
    recovery_counts,
    service_recovery,
    target_tracking,
)

MINUS = "\u2212"


def rows(start, scores, *, channel="phone", scale="likert5", **extra):
    """Responses spread over the first 80 days after ``start`` (so within one quarter)."""
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    out = pd.DataFrame({
        "interaction_at": pd.Timestamp(start) + pd.to_timedelta(np.arange(n) % 80, unit="D"),
        "channel": channel,
        "score": scores,
        "scale": scale,
    })
    for k, v in extra.items():
        out[k] = v
    return out


def likert(satisfied, total, start, **kw):
    """``satisfied`` responses of 5 and ``total - satisfied`` of 2 on the 5-point scale."""
    return rows(start, [5] * satisfied + [2] * (total - satisfied), **kw)


def minus(text: str) -> str:
    return text.replace("-", MINUS)


@pytest.fixture
def two_quarters():
    # 2026Q2: 350 of 500 satisfied (70%); 2026Q3: 380 of 500 (76%)
    return pd.concat([likert(350, 500, "2026-04-01"), likert(380, 500, "2026-07-01")], ignore_index=True)


# --------------------------------------------------------------------------------------------
# compare_periods


def test_compare_csat_matches_statsmodels(two_quarters):
    out = compare_periods(two_quarters, "2026Q3")
    assert len(out) == 1
    r = out.iloc[0]
    assert (r["period"], r["previous_period"]) == ("2026Q3", "2026Q2")
    assert (r["n"], r["previous_n"]) == (500, 500)
    assert r["estimate"] == pytest.approx(76.0)
    assert r["previous_estimate"] == pytest.approx(70.0)
    # each period's interval: Wilson, statsmodels.proportion_confint(method="wilson")
    lo, hi = proportion_confint(380, 500, method="wilson")
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    # the change: Newcombe hybrid score interval and the score test, straight from statsmodels
    lo, hi = confint_proportions_2indep(380, 500, 350, 500, method="newcomb", compare="diff", alpha=0.05)
    p = smp.test_proportions_2indep(380, 500, 350, 500, method="score", compare="diff").pvalue
    assert r["change"] == pytest.approx(6.0)
    assert (r["change_ci_low"], r["change_ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    assert r["p_value"] == pytest.approx(p)
    # Cohen's h = 2 asin sqrt(.76) - 2 asin sqrt(.70)
    assert r["effect_size"] == pytest.approx(2 * np.arcsin(np.sqrt(0.76)) - 2 * np.arcsin(np.sqrt(0.70)))
    assert r["method"] == "newcombe"
    # Newcombe lower bound 0.50 points > 0: significant
    assert r["verdict"] == "up 6.0 points (significant)"


def test_compare_level_is_passed_to_statsmodels(two_quarters):
    r = compare_periods(two_quarters, "2026Q3", level=0.99).iloc[0]
    lo, hi = confint_proportions_2indep(380, 500, 350, 500, method="newcomb", alpha=0.01)
    assert (r["change_ci_low"], r["change_ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    # the 99% interval includes 0, so the verdict says so and quotes the interval
    expected = minus(f"no significant change (+6.0 points, 99% CI {100 * lo:.1f} to {100 * hi:.1f})")
    assert r["verdict"] == expected


def test_compare_non_significant_verdict_text():
    df = pd.concat([likert(350, 500, "2026-04-01"), likert(355, 500, "2026-07-01")], ignore_index=True)
    r = compare_periods(df, "2026Q3").iloc[0]
    lo, hi = confint_proportions_2indep(355, 500, 350, 500, method="newcomb")
    assert lo < 0 < hi
    assert r["verdict"] == minus(f"no significant change (+1.0 points, 95% CI {100 * lo:.1f} to {100 * hi:.1f})")


def test_compare_down_verdict():
    df = pd.concat([likert(400, 500, "2026-04-01"), likert(300, 500, "2026-07-01")], ignore_index=True)
    r = compare_periods(df, "2026Q3").iloc[0]
    assert r["change"] == pytest.approx(-20.0)
    assert r["verdict"] == "down 20.0 points (significant)"


def test_compare_nps_wald_with_summed_variances():
    # 2026Q2: 40 promoters, 30 passives, 30 detractors of 100 -> NPS 10
    # 2026Q3: 60 promoters, 25 passives, 15 detractors of 100 -> NPS 45
    prev = rows("2026-04-01", [10] * 40 + [7] * 30 + [3] * 30, scale="nps")
    cur = rows("2026-07-01", [9] * 60 + [8] * 25 + [0] * 15, scale="nps")
    r = compare_periods(pd.concat([prev, cur]), "2026Q3", metric="nps").iloc[0]
    # hand calculation: Var(NPS) = (p+ + p- - NPS^2) / n on the -1..1 scale
    v_cur = (0.60 + 0.15 - 0.45**2) / 100
    v_prev = (0.40 + 0.30 - 0.10**2) / 100
    se = 100 * np.sqrt(v_cur + v_prev)
    z = stats.norm.ppf(0.975)
    assert r["estimate"] == pytest.approx(45.0)
    assert r["previous_estimate"] == pytest.approx(10.0)
    assert r["change"] == pytest.approx(35.0)
    assert (r["change_ci_low"], r["change_ci_high"]) == pytest.approx((35 - z * se, 35 + z * se))
    assert r["p_value"] == pytest.approx(2 * stats.norm.sf(35 / se))
    assert r["method"] == "wald"
    assert r["verdict"] == "up 35.0 points (significant)"


def test_compare_mean_score_matches_scipy_welch():
    rng = np.random.default_rng(7)
    a = rng.choice([1, 2, 3, 4, 5], size=300, p=[0.05, 0.1, 0.2, 0.35, 0.3])
    b = rng.choice([1, 2, 3, 4, 5], size=120, p=[0.15, 0.15, 0.2, 0.3, 0.2])
    df = pd.concat([rows("2026-07-01", a), rows("2026-04-01", b)], ignore_index=True)
    r = compare_periods(df, "2026Q3", metric="mean_score").iloc[0]
    # scipy's Welch test on the same responses (current minus previous)
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(0.95)
    assert r["change"] == pytest.approx(a.mean() - b.mean())
    assert r["p_value"] == pytest.approx(res.pvalue, rel=1e-9)
    assert (r["change_ci_low"], r["change_ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert r["method"] == "welch"


def test_compare_ces_mean_uses_welch():
    a = np.r_[[7] * 50, [6] * 30, [2] * 20]
    b = np.r_[[7] * 30, [5] * 40, [1] * 30]
    df = pd.concat([rows("2026-07-01", a, scale="ces7"), rows("2026-04-01", b, scale="ces7")])
    r = compare_periods(df, "2026Q3", metric="ces").iloc[0]
    res = stats.ttest_ind(a, b, equal_var=False)
    assert r["p_value"] == pytest.approx(res.pvalue, rel=1e-9)


def test_compare_by_channel_and_missing_group():
    df = pd.concat([
        likert(350, 500, "2026-04-01", channel="phone"), likert(380, 500, "2026-07-01", channel="phone"),
        likert(40, 50, "2026-07-01", channel="chat"),  # chat is new in 2026Q3
    ], ignore_index=True)
    out = compare_periods(df, "2026Q3", by="channel")
    assert out["channel"].tolist() == ["chat", "phone"]
    chat = out.set_index("channel").loc["chat"]
    assert chat["previous_n"] == 0 and chat["n"] == 50
    assert np.isnan(chat["change"]) and np.isnan(chat["p_value"])
    assert chat["verdict"] == "cannot compare: no responses in 2026Q2"
    phone = out.set_index("channel").loc["phone"]
    assert phone["change"] == pytest.approx(6.0)
    # only one testable group: Holm leaves its p-value as it is
    assert phone["p_adj"] == pytest.approx(phone["p_value"])


def test_compare_p_adj_is_holm_across_groups():
    df = pd.concat([
        likert(350, 500, "2026-04-01", channel="phone"), likert(380, 500, "2026-07-01", channel="phone"),
        likert(300, 500, "2026-04-01", channel="email"), likert(310, 500, "2026-07-01", channel="email"),
    ], ignore_index=True)
    out = compare_periods(df, "2026Q3", by="channel")
    p = out["p_value"].to_numpy()
    # Holm with two tests: the smaller p doubled, the larger max(2 * p_min, p_max)
    lo, hi = sorted(p)
    expected = {lo: min(1, 2 * lo), hi: min(1, max(2 * lo, hi))}
    assert out["p_adj"].tolist() == pytest.approx([expected[v] for v in p])


def test_compare_from_score_table_equals_rows(two_quarters):
    table = tabulate(two_quarters, by="quarter", scale="likert5")
    a = compare_periods(two_quarters, "2026Q3")
    b = compare_periods(table, "2026Q3")
    pd.testing.assert_frame_equal(a, b)


def test_compare_previous_options(two_quarters):
    last_year = likert(300, 500, "2025-07-01")
    df = pd.concat([two_quarters, last_year], ignore_index=True)
    assert compare_periods(df, "2026Q3", "last_year")["previous_period"].iloc[0] == "2025Q3"
    r = compare_periods(df, "2026Q3", "2025Q3").iloc[0]
    assert r["previous_estimate"] == pytest.approx(60.0)
    with pytest.raises(ParameterError, match="same kind"):
        compare_periods(df, "2026Q3", "2026-06")
    with pytest.raises(ParameterError, match="must differ"):
        compare_periods(df, "2026Q3", "2026Q3")


def test_compare_fiscal_quarters():
    # fiscal year from July: FY2027Q1 = Jul-Sep 2026, FY2026Q4 = Apr-Jun 2026
    df = pd.concat([likert(350, 500, "2026-04-01"), likert(380, 500, "2026-07-01")], ignore_index=True)
    r = compare_periods(df, "FY2027Q1", fy_start=7).iloc[0]
    assert (r["period"], r["previous_period"]) == ("FY2027Q1", "FY2026Q4")
    assert r["change"] == pytest.approx(6.0)


def test_compare_months(two_quarters):
    out = compare_periods(two_quarters, "2026-07")
    assert out["previous_period"].iloc[0] == "2026-06"


def test_compare_both_periods_all_satisfied():
    df = pd.concat([likert(100, 100, "2026-04-01"), likert(80, 80, "2026-07-01")], ignore_index=True)
    r = compare_periods(df, "2026Q3").iloc[0]
    assert r["change"] == 0
    assert r["p_value"] == 1.0
    assert r["verdict"].startswith("no significant change (+0.0 points")
    assert "p_is_0_or_1" in r["flag"]


def test_compare_cluster_widens_interval():
    rng = np.random.default_rng(3)
    parts = []
    for start, base in (("2026-04-01", 0.70), ("2026-07-01", 0.74)):
        for a in range(20):
            p = np.clip(base + rng.normal(0, 0.12), 0.05, 0.95)
            sat = rng.random(40) < p
            parts.append(rows(start, np.where(sat, 5, 2), agent_id=f"a{a}"))
    df = pd.concat(parts, ignore_index=True)
    plain = compare_periods(df, "2026Q3").iloc[0]
    clustered = compare_periods(df, "2026Q3", cluster="agent_id").iloc[0]
    width = lambda r: r["change_ci_high"] - r["change_ci_low"]  # noqa: E731
    assert clustered["change"] == pytest.approx(plain["change"])
    assert width(clustered) > width(plain)


def test_compare_errors(two_quarters):
    with pytest.raises(ParameterError, match="The value for `metric` must be one of"):
        compare_periods(two_quarters, "2026Q3", metric="median")
    with pytest.raises(ParameterError, match="must not contain the period key 'quarter'"):
        compare_periods(two_quarters, "2026Q3", by=["channel", "quarter"])
    with pytest.raises(CsatkitError, match="is not a period"):
        compare_periods(two_quarters, "2026Q9")
    with pytest.raises(CsatkitError, match="interaction_at"):
        compare_periods(two_quarters.drop(columns="interaction_at"), "2026Q3")
    with pytest.raises(ParameterError, match="A `by` key may not be named 'method', a column of the comparison"):
        compare_periods(two_quarters.assign(method="web"), "2026Q3", by="method")


def test_compare_without_rows_in_either_period_keeps_text_columns(two_quarters):
    # no group has responses in 2024Q1 or 2023Q4: an empty table, with the text columns still text
    out = compare_periods(two_quarters, "2024Q1", by="channel")
    assert out.empty
    assert out["verdict"].dtype == object and out["flag"].dtype == object


# verdicts on simulated data with a known truth


def simulate(p_prev, p_cur, n, seed):
    rng = np.random.default_rng(seed)
    prev = rng.random(n) < p_prev
    cur = rng.random(n) < p_cur
    return pd.concat([rows("2026-04-01", np.where(prev, 4, 2)), rows("2026-07-01", np.where(cur, 5, 1))],
                     ignore_index=True)


def test_verdict_clear_rise_is_significant():
    # truth: 70% -> 80% satisfied, n = 1,500 per quarter: a 10-point rise, SE about 1.6 points
    r = compare_periods(simulate(0.70, 0.80, 1500, seed=11), "2026Q3").iloc[0]
    assert r["verdict"] == f"up {r['change']:.1f} points (significant)"
    assert 6 < r["change"] < 14
    assert r["p_value"] < 1e-6


def test_verdict_no_true_change_is_not_significant():
    # truth: 75% in both quarters, n = 400; with this seed the estimate moves by chance only
    r = compare_periods(simulate(0.75, 0.75, 400, seed=5), "2026Q3").iloc[0]
    assert r["verdict"].startswith("no significant change (")
    assert "95% CI" in r["verdict"]
    assert r["change_ci_low"] < 0 < r["change_ci_high"]
    assert r["p_value"] > 0.05


@pytest.mark.slow
def test_verdict_false_alarm_rate_is_near_level():
    # under no change, "significant" should come up in about 5% of comparisons
    hits = sum(
        compare_periods(simulate(0.75, 0.75, 300, seed=s), "2026Q3")["verdict"].iloc[0].endswith("(significant)")
        for s in range(200)
    )
    assert hits / 200 < 0.10


# --------------------------------------------------------------------------------------------
# p chart


@pytest.fixture
def three_quarters():
    # satisfied / responses: 2026Q1 80/100, 2026Q2 40/100, 2026Q3 150/200
    return pd.concat([likert(80, 100, "2026-01-01"), likert(40, 100, "2026-04-01"),
                      likert(150, 200, "2026-07-01")], ignore_index=True)


def test_p_chart_limits_by_hand(three_quarters):
    out = p_chart(three_quarters, "2026Q1:2026Q3")
    # hand calculation: p-bar = (80 + 40 + 150) / 400 = 0.675
    # n = 100: 3 * sqrt(0.675 * 0.325 / 100) = 3 * 0.0468375 = 0.1405125 -> [53.44875, 81.55125]
    # n = 200: 3 * sqrt(0.675 * 0.325 / 200) = 3 * 0.0331191 = 0.0993573 -> [57.56427, 77.43573]
    assert out["quarter"].tolist() == ["2026Q1", "2026Q2", "2026Q3"]
    assert out["centre"].tolist() == pytest.approx([67.5] * 3)
    assert out["lcl"].tolist() == pytest.approx([53.44875, 53.44875, 57.56427], abs=1e-4)
    assert out["ucl"].tolist() == pytest.approx([81.55125, 81.55125, 77.43573], abs=1e-4)
    assert out["estimate"].tolist() == pytest.approx([80.0, 40.0, 75.0])
    assert out["out_of_control"].tolist() == [False, True, False]
    assert out["n"].tolist() == [100, 100, 200]
    assert out["count"].tolist() == [80, 40, 150]
    lo, hi = proportion_confint(150, 200, method="wilson")
    assert (out["ci_low"].iloc[2], out["ci_high"].iloc[2]) == pytest.approx((100 * lo, 100 * hi))


def test_p_chart_defaults_to_last_periods_ending_at_latest(three_quarters):
    out = p_chart(three_quarters, last=4)
    # four quarters ending at the latest response (2026Q3); 2025Q4 has none
    assert out["quarter"].tolist() == ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    empty = out.iloc[0]
    assert empty["n"] == 0 and np.isnan(empty["estimate"]) and np.isnan(empty["lcl"])
    assert not empty["out_of_control"]
    assert empty["flag"] == "no_responses"
    # the empty quarter does not change the pooled centre
    assert out["centre"].iloc[1] == pytest.approx(67.5)
    out2 = p_chart(three_quarters, last=2, end="2026Q2")
    assert out2["quarter"].tolist() == ["2026Q1", "2026Q2"]


def test_p_chart_limits_clipped_and_sigma():
    df = pd.concat([likert(10, 10, "2026-01-01"), likert(9, 10, "2026-04-01")], ignore_index=True)
    out = p_chart(df, ["2026Q1", "2026Q2"])
    # p-bar = 0.95; 3 * sqrt(0.95 * 0.05 / 10) = 0.20676 -> ucl 1.157 clipped to 100
    assert out["ucl"].tolist() == pytest.approx([100.0, 100.0])
    assert out["lcl"].tolist() == pytest.approx([100 * (0.95 - 3 * np.sqrt(0.95 * 0.05 / 10))] * 2)
    two = p_chart(df, ["2026Q1", "2026Q2"], sigma=2)
    assert two["lcl"].iloc[0] == pytest.approx(100 * (0.95 - 2 * np.sqrt(0.95 * 0.05 / 10)))


def test_p_chart_months_and_score_table(three_quarters):
    out = p_chart(three_quarters, freq="month", last=3)
    assert out["month"].tolist() == ["2026-07", "2026-08", "2026-09"]
    assert out["n"].sum() == 200
    table = tabulate(three_quarters, by="quarter", scale="likert5")
    pd.testing.assert_frame_equal(p_chart(table, "2026Q1:2026Q3"), p_chart(three_quarters, "2026Q1:2026Q3"))


def test_p_chart_errors(three_quarters):
    with pytest.raises(ParameterError, match="`metric`"):
        p_chart(three_quarters, metric="nps")
    with pytest.raises(ParameterError, match="`last`"):
        p_chart(three_quarters, last=0)
    with pytest.raises(ParameterError, match="mixes"):
        p_chart(three_quarters, ["2026Q1", "2026-05"])


# --------------------------------------------------------------------------------------------
# target tracking


def test_target_tracking_below_met_cannot_tell():
    below = target_tracking({"estimate": 75.5, "ci_low": 73.1, "ci_high": 77.9}, 80)
    assert below["status"] == "not_met"
    assert below["target_gap"] == pytest.approx(-4.5)
    assert below["text"] == "4.5 points below the 80% target; the 95% interval (73.1\u201377.9) lies entirely below it"
    met = target_tracking(pd.Series({"estimate": 82.1, "ci_low": 80.5, "ci_high": 83.7}), 80)
    assert met["status"] == "met"
    assert met["text"].startswith("target met: 2.1 points above the 80% target")
    unsure = target_tracking({"estimate": 78.9, "ci_low": 76.0, "ci_high": 81.8}, 80)
    assert unsure["status"] == "cannot_tell"
    assert unsure["text"].startswith("cannot tell: the interval includes the target")
    none = target_tracking({"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan}, 80)
    assert none["status"] == "no_data"


def test_target_tracking_nps_and_frame_and_lower_is_better():
    nps_row = {"metric": "nps", "estimate": -12.0, "ci_low": -20.0, "ci_high": -4.0}
    t = target_tracking(nps_row, 10)
    assert t["text"] == (f"22.0 points below the +10 target; the 95% interval ({MINUS}20.0 to {MINUS}4.0) "
                         "lies entirely below it")
    frame = pd.DataFrame([{"estimate": 75.5, "ci_low": 73.1, "ci_high": 77.9},
                          {"estimate": 85.0, "ci_low": 82.0, "ci_high": 88.0}])
    out = target_tracking(frame, 80)
    assert out["status"].tolist() == ["not_met", "met"]
    assert list(out.columns[:3]) == ["estimate", "ci_low", "ci_high"]
    low = target_tracking({"metric": "ces", "estimate": 2.1, "ci_low": 1.9, "ci_high": 2.3}, 3,
                          higher_is_better=False)
    assert low["status"] == "met"


def test_target_tracking_errors():
    with pytest.raises(CsatkitError, match="'ci_low' is missing"):
        target_tracking({"estimate": 70}, 80)
    with pytest.raises(ParameterError, match="`estimate_row`"):
        target_tracking([70, 65, 75], 80)


# --------------------------------------------------------------------------------------------
# executive summary


@pytest.fixture
def mixed():
    parts = [
        likert(370, 500, "2026-04-01"), likert(3800, 5000, "2026-07-01"),
        rows("2026-04-01", [10] * 40 + [7] * 30 + [3] * 30, scale="nps"),
        rows("2026-07-01", [9] * 60 + [8] * 25 + [0] * 15, scale="nps"),
        rows("2026-07-01", [np.nan] * 1000),  # surveys sent, not answered
        rows("2026-04-01", [np.nan] * 100),
    ]
    return pd.concat(parts, ignore_index=True)


def test_executive_summary_table_and_sentences(mixed):
    es = executive_summary(mixed, "2026Q3", target={"csat": 80, "nps": 30})
    assert isinstance(es, ExecSummary)
    assert (es.period, es.previous) == ("2026Q3", "2026Q2")
    t = es.table.set_index("metric")
    assert list(t.index) == ["csat", "nps", "response_rate"]
    for col in ["estimate", "ci_low", "ci_high", "n", "change", "change_ci_low", "change_ci_high", "p_value",
                "verdict", "target_gap"]:
        assert col in es.table.columns
    csat_row = t.loc["csat"]
    assert csat_row["n"] == 5000 and csat_row["estimate"] == pytest.approx(76.0)
    assert csat_row["target_gap"] == pytest.approx(-4.0)
    lo, hi = proportion_confint(3800, 5000, method="wilson")
    s = es.sentences[0]
    # the sentence carries the estimate, the interval and n
    assert s.startswith(f"CSAT was 76.0% (95% CI {100 * lo:.1f}\u2013{100 * hi:.1f}, n = 5,000)")
    d_lo, d_hi = confint_proportions_2indep(3800, 5000, 370, 500, method="newcomb")
    assert d_lo < 0 < d_hi
    assert minus(f"from 2026Q2 (+2.0 points, CI {100 * d_lo:.1f} to {100 * d_hi:.1f})") in s
    assert "no significant change" in s
    assert "4.0 points below the 80% target" in s
    # response rate: 5,000 of 6,000 surveys answered in 2026Q3
    rr = t.loc["response_rate"]
    assert rr["estimate"] == pytest.approx(100 * 5000 / 6000) and rr["n"] == 6000
    assert "n = 6,000 surveys sent" in es.sentences[2]
    assert es.sentences[1].startswith("NPS was +45.0 (95% CI")
    text = es.summary()
    assert "2026Q3 compared with 2026Q2" in text and all(s in text for s in es.sentences)


def test_executive_summary_html_is_escaped(mixed):
    es = executive_summary(mixed, "2026Q3", target=80)
    es.sentences.append("<script>alert(1)</script>")
    page = es._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<ul>" in page and "<table" in page


def test_executive_summary_without_previous_data():
    df = likert(70, 100, "2026-07-01")
    es = executive_summary(df, "2026Q3")
    assert list(es.table["metric"]) == ["csat"]  # no unanswered rows: no response rate
    assert "no responses in 2026Q2 to compare with" in es.sentences[0]
    assert es.table["verdict"].iloc[0] == "cannot compare: no responses in 2026Q2"


def test_executive_summary_bad_target(mixed):
    with pytest.raises(ParameterError, match="ces"):
        executive_summary(mixed, "2026Q3", target={"ces": 5})


# --------------------------------------------------------------------------------------------
# service recovery


@pytest.fixture
def feedback():
    return pd.DataFrame({
        "response_id": [f"r{i}" for i in range(10)],
        "customer_id": [f"c{i}" for i in range(10)],
        "interaction_at": pd.to_datetime(["2026-07-02", "2026-07-03", "2026-07-04", "2026-07-05", "2026-07-06",
                                          "2026-07-07", "2026-04-02", "2026-07-08", "2026-07-09", "2026-07-10"]),
        "channel": ["phone", "phone", "phone", "email", "email", "chat", "phone", "chat", "email", "phone"],
        "contact_reason": "billing",
        "agent_id": ["a1", "a2", "a1", "a3", "a3", "a4", "a1", "a4", "a3", "a2"],
        "score": [1, 2, 3, 2, 5, 1, 1, 2, np.nan, 2],
        "scale": "likert5",
        "comment": ["rude <agent>", "", "meh", "slow", "great", "never again", "old quarter", None, "x", "   "],
    })


def test_service_recovery_hand_count(feedback):
    out = service_recovery(feedback, "2026Q3")
    # by hand: scores 1-2 with a non-blank comment in 2026Q3 are r0 (1), r5 (1), r3 (2);
    # r1 and r9 have blank comments, r7 none, r2 is neutral (3), r6 falls in 2026Q2, r8 is unanswered
    assert out["response_id"].tolist() == ["r5", "r0", "r3"]  # lowest score first, then most recent
    assert list(out.columns) == ["response_id", "interaction_id", "customer_id", "interaction_at", "channel",
                                 "contact_reason", "agent_id", "score", "comment"]
    assert out.loc[out["response_id"] == "r0", "comment"].item() == "rude <agent>"  # raw, not escaped
    assert out["interaction_id"].isna().all()
    everything = service_recovery(feedback)
    assert set(everything["response_id"]) == {"r0", "r3", "r5", "r6"}


def test_recovery_counts_hand_count(feedback):
    out = recovery_counts(feedback, "channel", period="2026Q3").set_index("channel")
    # by hand (2026Q3, answered): phone r0 r1 r2 r9 -> dissatisfied r0 r1 r9, with comment r0
    #                             email r3 r4      -> dissatisfied r3, with comment r3
    #                             chat  r5 r7      -> dissatisfied r5 r7, with comment r5
    assert out.loc["phone", ["n", "dissatisfied", "with_comment"]].tolist() == [4, 3, 1]
    assert out.loc["email", ["n", "dissatisfied", "with_comment"]].tolist() == [2, 1, 1]
    assert out.loc["chat", ["n", "dissatisfied", "with_comment"]].tolist() == [2, 2, 1]
    assert out.loc["phone", "share_with_comment"] == pytest.approx(100 / 3)
    assert out.loc["chat", "dissatisfied_share"] == pytest.approx(100.0)
    over = recovery_counts(feedback, ["quarter"])
    assert over["quarter"].tolist() == ["2026Q2", "2026Q3"]
    assert over["with_comment"].tolist() == [1, 3]
    assert over["dissatisfied"].tolist() == [1, 6]
    total = recovery_counts(feedback, None)
    assert total[["n", "dissatisfied", "with_comment"]].iloc[0].tolist() == [9, 7, 4]


def test_dissatisfied_points_per_scale():
    assert dissatisfied_points("likert5") == {1, 2}
    assert dissatisfied_points("likert7") == {1, 2, 3}
    assert dissatisfied_points("scale10") == {1, 2, 3, 4, 5}
    assert dissatisfied_points("emoji3") == {1}
    assert dissatisfied_points("binary") == {0}
    assert dissatisfied_points("nps") == set(range(7))
    assert dissatisfied_points("ces7") == {1, 2, 3}
    assert dissatisfied_points("likert5", "bottom_box") == {1}
    assert dissatisfied_points("likert5", "not_satisfied") == {1, 2, 3}
    assert dissatisfied_points("likert5", [1]) == {1}
    with pytest.raises(ParameterError, match="points of scale 'likert5'"):
        dissatisfied_points("likert5", [0, 1])


def test_service_recovery_custom_set(feedback):
    out = service_recovery(feedback, "2026Q3", dissatisfied="not_satisfied")
    assert set(out["response_id"]) == {"r0", "r2", "r3", "r5"}
