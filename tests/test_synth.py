"""Tests of csatkit.synth: shapes, links and schemas, and recovery of the known truth.

Expected values come from the generating model itself (``Truth``), from scipy / statsmodels
estimators applied to the generated rows, and from the issue's requirements (8+ quarters,
6 channels, 10+ reasons, 50+ agents, 8-12 QA items).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal
from scipy.stats import chi2_contingency

from csatkit.exceptions import ParameterError
from csatkit.periods import assign_periods
from csatkit.scales import get_scale
from csatkit.schema import CONTACT_COLUMNS, ITEM_PREFIX, QA_COLUMNS, RESPONSE_COLUMNS
from csatkit.synth import CHANNELS, ITEMS, REASONS, SynthData, Truth, demo, generate


@pytest.fixture(scope="module")
def small() -> SynthData:
    return generate(5_000, seed=3)


@pytest.fixture(scope="module")
def large() -> SynthData:
    # 200k contacts: about 33k answered surveys, enough for 4-SE checks per channel
    return generate(200_000, seed=11)


def _likert(data: SynthData) -> pd.DataFrame:
    r = data.responses
    return r[(r["scale"] == "likert5") & r["score"].notna()]


# ----------------------------------------------------------------------------------------------
# reproducibility, schemas, sizes


def test_same_seed_gives_identical_tables():
    a, b = generate(2_000, seed=7), generate(2_000, seed=7)
    for name in ("contacts", "responses", "qa"):
        assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.truth.channel_csat == b.truth.channel_csat
    assert_series_equal(a.truth.agent_effects, b.truth.agent_effects)
    c = generate(2_000, seed=8)
    assert not a.contacts["channel"].equals(c.contacts["channel"])


def test_agents_and_evaluators_depend_on_the_seed_only():
    a, b = generate(1_000, seed=5), generate(3_000, seed=5)
    assert_series_equal(a.truth.agent_effects, b.truth.agent_effects)
    assert a.truth.evaluator_offsets == b.truth.evaluator_offsets


def test_columns_follow_the_canonical_schemas(small):
    assert list(small.contacts.columns) == CONTACT_COLUMNS
    assert list(small.responses.columns) == RESPONSE_COLUMNS
    assert list(small.qa.columns) == QA_COLUMNS + list(ITEMS)
    assert all(c.startswith(ITEM_PREFIX) for c in ITEMS) and 8 <= len(ITEMS) <= 12
    for col in ("opened_at", "first_response_at", "resolved_at"):
        assert small.contacts[col].dtype == "datetime64[ns]"
    for col in ("interaction_at", "responded_at"):
        assert small.responses[col].dtype == "datetime64[ns]"
    for col in ("repeat_contact", "resolved_first_contact", "survey_sent", "churned"):
        assert small.contacts[col].dtype == bool
    assert small.responses["score"].dtype == float and small.responses["weight"].eq(1.0).all()
    assert pd.api.types.is_string_dtype(small.responses["comment"]) and small.responses["comment"].notna().all()
    assert small.contacts["interaction_id"].is_unique and small.qa["evaluation_id"].is_unique
    assert not small.responses.duplicated(["response_id", "scale"]).any()
    assert small.contacts["interaction_id"].iloc[0] == "I0000001"


def test_coverage_of_periods_channels_reasons_agents(small):
    c = small.contacts
    quarters = assign_periods(c["opened_at"], "quarter").unique()
    assert len(quarters) >= 8
    assert sorted(quarters)[-2] == "2026Q3" and sorted(quarters)[0] == "2024Q4"
    assert set(c["channel"]) == set(CHANNELS) and len(CHANNELS) == 6
    assert c["contact_reason"].nunique() >= 10 and len(REASONS) == 12
    assert c["agent_id"].nunique() >= 50
    assert c["team"].nunique() == 6
    # volumes are unequal
    shares = c["channel"].value_counts(normalize=True)
    assert shares.max() > 2 * shares.min()
    # every agent works one channel, in one team
    assert c.groupby("agent_id")["channel"].nunique().max() == 1
    assert c.groupby("agent_id")["team"].nunique().max() == 1
    assert c["customer_id"].duplicated().any()  # repeat customers exist
    assert c["opened_at"].is_monotonic_increasing
    assert c["opened_at"].min() >= pd.Timestamp("2024-10-01") and c["opened_at"].max() < pd.Timestamp("2027-01-01")


def test_smallest_size_still_has_everything():
    d = generate(1_000, seed=0)
    assert len(d.contacts) == 1_000
    assert set(d.contacts["channel"]) == set(CHANNELS)
    assert set(d.responses["scale"]) == {"likert5", "nps", "ces7"}
    assert len(d.qa) > 0


def test_scores_lie_on_their_scales(small):
    r = small.responses
    for name in ("likert5", "nps", "ces7"):
        scores = r.loc[r["scale"] == name, "score"].dropna()
        assert len(scores) > 0
        assert set(scores.unique()) <= {float(p) for p in get_scale(name).points}
    # non-responses are likert5 rows only; answered surveys have all three questions
    assert r.loc[r["score"].isna(), "scale"].eq("likert5").all()
    per_survey = r.groupby("response_id")["scale"].agg(list)
    assert set(map(len, per_survey)) == {1, 3}
    answered = r.loc[r["score"].notna(), "response_id"].unique()
    assert (per_survey.loc[answered].map(len) == 3).all()
    for scale, (low, high) in small.truth.item_scales.items():
        assert small.qa[scale].between(low, high).all()
    assert small.qa["qa_score"].between(0, 100).all()


def test_tables_are_linked_consistently(small):
    c, r, q = small.contacts, small.responses, small.qa
    assert r["interaction_id"].isin(c["interaction_id"]).all()
    assert q["interaction_id"].isin(c["interaction_id"]).all()
    # one survey per contact with survey_sent, and no other
    assert r["response_id"].nunique() == int(c["survey_sent"].sum())
    assert set(r["interaction_id"]) == set(c.loc[c["survey_sent"], "interaction_id"])
    keys = ["interaction_id", "customer_id", "channel", "contact_reason", "agent_id", "team"]
    merged = r[keys + ["interaction_at"]].merge(c[keys + ["opened_at"]], on=keys, how="left", indicator=True)
    assert merged["_merge"].eq("both").all()
    assert (merged["interaction_at"] == merged["opened_at"]).all()
    qm = q[["interaction_id", "agent_id", "team", "channel", "contact_reason"]].merge(
        c, on=["interaction_id", "agent_id", "team", "channel", "contact_reason"], how="left", indicator=True
    )
    assert qm["_merge"].eq("both").all()
    # time order within a contact and a survey
    assert (c["first_response_at"] > c["opened_at"]).all() and (c["resolved_at"] > c["first_response_at"]).all()
    answered = r[r["score"].notna()]
    assert (answered["responded_at"] > answered["interaction_at"]).all()
    assert r.loc[r["score"].isna(), "responded_at"].isna().all()


def test_repeat_contacts_follow_unresolved_ones(small):
    c = small.contacts
    assert 0.05 < c["repeat_contact"].mean() < 0.4
    # every repeat contact answers exactly one contact that was not resolved (trimming keeps chains)
    assert int(c["repeat_contact"].sum()) == int((~c["resolved_first_contact"]).sum())
    # a repeat contact comes within 7 days of an unresolved contact of the same customer and reason
    rep = c[c["repeat_contact"]].head(200)
    for _, row in rep.iterrows():
        prior = c[(c["customer_id"] == row["customer_id"]) & (c["contact_reason"] == row["contact_reason"])
                  & ~c["resolved_first_contact"] & (c["resolved_at"] < row["opened_at"])
                  & (c["resolved_at"] > row["opened_at"] - pd.Timedelta(days=7))]  # fmt: skip
        assert len(prior) >= 1


def test_first_response_times_differ_by_channel(small):
    c = small.contacts
    minutes = (c["first_response_at"] - c["opened_at"]).dt.total_seconds() / 60
    med = minutes.groupby(c["channel"]).median()
    assert med["phone"] < 5 and med["chat"] < 5
    assert 15 < med["social"] < 180  # minutes to hours
    assert 120 < med["email"] < 1440  # hours
    assert med["email"] > med["social"] > med["sms"] > med["chat"]


def test_comments_for_escaping_and_masking(large):
    r = large.responses
    comments = r["comment"]
    assert (comments == "").mean() > 0.8
    assert comments.str.contains("<script>alert(1)</script>", regex=False).sum() == 1
    assert comments.str.contains(r"@example\.(?:com|org)", regex=True).any()
    assert comments.str.contains(r"\d{3}[ -]?\d{3,4}", regex=True).any()
    assert (r.loc[comments != "", "scale"] == "likert5").all()
    # comments come mostly from dissatisfied customers
    lik = _likert(large)
    with_text = lik[lik["comment"] != ""]
    assert (with_text["score"] <= 3).mean() > (lik["score"] <= 3).mean()


def test_write_csv_and_parquet_round_trip(tmp_path):
    d = generate(1_000, seed=2)
    paths = d.write(tmp_path / "csv")
    assert set(paths) == {"responses", "qa", "contacts"}
    assert all(p.exists() and p.suffix == ".csv" for p in paths.values())
    back = pd.read_csv(paths["responses"], keep_default_na=False, na_values={"score": [""], "responded_at": [""]},
                       parse_dates=["interaction_at", "responded_at"])  # fmt: skip
    assert list(back.columns) == RESPONSE_COLUMNS and len(back) == len(d.responses)
    assert back["comment"].tolist() == d.responses["comment"].tolist()
    np.testing.assert_array_equal(back["score"].to_numpy(), d.responses["score"].to_numpy())
    contacts = pd.read_csv(paths["contacts"], parse_dates=["opened_at", "first_response_at", "resolved_at"])
    assert_frame_equal(contacts, d.contacts, check_dtype=False)
    qa = pd.read_csv(paths["qa"], parse_dates=["evaluated_at"])
    assert_frame_equal(qa, d.qa, check_dtype=False)
    ppaths = d.write(tmp_path / "pq", format="parquet")
    for name, path in ppaths.items():
        assert path.suffix == ".parquet"
        assert_frame_equal(pd.read_parquet(path), getattr(d, name), check_dtype=False)
    with pytest.raises(ParameterError, match="`format` must be one of"):
        d.write(tmp_path, format="xlsx")


def test_demo_covers_an_eight_quarter_trend_ending_2026q3():
    d = demo()
    assert len(d.contacts) == 150_000
    labels = list(d.truth.quarter_csat["quarter"])
    assert labels == ["2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    # eight quarters up to and including 2026Q3, and the same quarter a year earlier
    assert labels.index("2026Q3") + 1 == 8 and "2025Q3" in labels
    responses_2026q3 = assign_periods(d.responses["interaction_at"]) == "2026Q3"
    assert d.responses.loc[responses_2026q3, "score"].notna().sum() > 1_000


def test_fiscal_quarter_labels():
    d = generate(1_000, seed=1, start="2025-04-01", quarters=4, fy_start=4)
    assert list(d.truth.quarter_csat["quarter"]) == ["FY2026Q1", "FY2026Q2", "FY2026Q3", "FY2026Q4"]
    assert d.truth.end == pd.Timestamp("2026-04-01")
    assert d.truth.quarter_csat["contacts"].sum() == 1_000


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_contacts": 10}, "`n_contacts` must be a whole number of at least 100"),
        ({"n_contacts": 1.5e3}, "`n_contacts` must be a whole number"),
        ({"quarters": 0}, "`quarters` must be a whole number of at least 1"),
        ({"qa_share": 1.5}, r"`qa_share` must lie in \[0, 1\]"),
        ({"response_rate": {"fax": 0.1}}, r"keys of `response_rate` must be channels"),
        ({"response_rate": -0.1}, r"`response_rate` must lie in \[0, 1\]"),
        ({"start": "not a date"}, "`start` must be a date"),
        ({"fy_start": 13}, "`fy_start` must be a whole number of at least 1 and at most 12"),
        ({"seed": -1}, "`seed` must be a whole number of at least 0"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match):
    args = {"n_contacts": 1_000, **kwargs}
    with pytest.raises(ParameterError, match=match):
        generate(**args)


def test_response_rate_argument(small):
    d = generate(20_000, seed=4, response_rate=0.5)
    r = d.responses[d.responses["scale"] == "likert5"]
    rate = r["score"].notna().mean()
    se = np.sqrt(0.25 / len(r))
    assert abs(rate - 0.5) < 4 * se
    assert d.truth.response_rate == {c: 0.5 for c in CHANNELS}
    only_email = generate(1_000, seed=4, response_rate={"email": 0.9}).truth.response_rate
    assert only_email["email"] == 0.9 and only_email["phone"] == small.truth.response_rate["phone"]


# ----------------------------------------------------------------------------------------------
# the truth


def test_truth_is_documented_and_coherent(small):
    t = small.truth
    assert isinstance(t, Truth)
    doc = Truth.__doc__
    missing = [f for f in Truth.__dataclass_fields__ if f not in doc]
    assert not missing, f"Truth fields without documentation: {missing}"
    assert t.cutpoints[2] == 0 and list(t.cutpoints) == sorted(t.cutpoints)
    assert len(t.nps_cutpoints) == 10 and len(t.ces_cutpoints) == 6
    assert len(t.agent_effects) >= 50 and t.agent_effects.index[0] == "A001"
    assert set(t.item_effects) == set(ITEMS)
    zero = {k for k, v in t.item_effects.items() if v == 0}
    assert {"item_compliance", "item_hold_etiquette"} <= zero
    top2 = sorted(t.item_effects, key=t.item_effects.get)[-2:]
    assert set(top2) == {"item_resolution", "item_empathy"}
    assert abs(sum(t.item_weights.values()) - 1) < 1e-12
    assert len(t.evaluator_offsets) == 8
    assert 70 <= t.overall_csat <= 80
    # channel levels: phone best, social worst, as specified
    csat = pd.Series(t.channel_csat)
    assert csat.idxmax() == "phone" and csat.idxmin() == "social"
    assert csat.max() - csat.min() > 10
    # the reason x channel table reproduces the channel rates with the surveyed mix
    n = t.reason_channel_n
    weighted = (t.reason_channel_csat.fillna(0) * n).sum() / n.sum()
    np.testing.assert_allclose(weighted[list(CHANNELS)].to_numpy(), csat[list(CHANNELS)].to_numpy(), rtol=1e-9)
    # pooled rates follow the respondent mix: channel rates weighted by expected responses
    expected_responses = t.by_channel["sent"] * pd.Series(t.response_rate)
    pooled = (t.by_channel["csat"] * expected_responses).sum() / expected_responses.sum()
    assert abs(pooled - t.overall_csat) < 1e-9
    assert t.quarter_csat["contacts"].sum() == len(small.contacts)
    assert t.by_channel["sent"].sum() == small.contacts["survey_sent"].sum()
    # surveying under-covers repeat contacts, which are less satisfied
    assert t.overall_csat > t.overall_csat_all
    assert "Expected CSAT" in t.summary() and "SynthData" in repr(small)


def test_observed_csat_per_channel_matches_truth(large):
    lik = _likert(large)
    sat = lik["score"] >= 4
    obs = sat.groupby(lik["channel"]).mean() * 100
    n = lik.groupby("channel").size()
    truth = pd.Series(large.truth.channel_csat)
    se = np.sqrt(truth * (100 - truth) / n)  # binomial SE, conservative given the covariates
    z = (obs - truth[obs.index]) / se
    assert (z.abs() < 4).all(), z
    overall = sat.mean() * 100
    se_all = np.sqrt(large.truth.overall_csat * (100 - large.truth.overall_csat) / len(lik))
    assert abs(overall - large.truth.overall_csat) < 4 * se_all


def test_observed_nps_per_channel_matches_truth(large):
    r = large.responses
    nps = r[r["scale"] == "nps"]
    promoter, detractor = nps["score"] >= 9, nps["score"] <= 6
    p = promoter.groupby(nps["channel"]).mean()
    d = detractor.groupby(nps["channel"]).mean()
    n = nps.groupby("channel").size()
    obs = (p - d) * 100
    var = (p + d - (p - d) ** 2) / n  # NPS variance (p_promoters + p_detractors - NPS^2) / n
    z = (obs - large.truth.by_channel["nps"][obs.index]) / (np.sqrt(var) * 100)
    assert (z.abs() < 4).all(), z


def test_reason_mix_differs_across_channels(large):
    table = pd.crosstab(large.contacts["channel"], large.contacts["contact_reason"])
    _, p, _, _ = chi2_contingency(table)
    assert p < 1e-50
    share = table.div(table.sum(axis=1), axis=0)
    assert share.loc["social", "complaint"] > 2 * share.loc["in_app", "complaint"]
    assert share.loc["phone", "cancellation"] > share.loc["chat", "cancellation"]


def test_repeat_contacts_are_undersurveyed(large):
    c = large.contacts
    sent_rate = c.groupby("repeat_contact")["survey_sent"].mean()
    assert sent_rate[True] < 0.5 * sent_rate[False]


@pytest.mark.slow
def test_churn_model_is_recovered(large):
    # a logistic regression of churned on the reported satisfaction recovers truth.churn_coef
    import statsmodels.api as sm

    lik = _likert(large)[["interaction_id", "score"]]
    m = lik.merge(large.contacts, on="interaction_id")
    X = pd.DataFrame({
        "const": 1.0,
        "dissatisfied": (m["score"] < 4).astype(float),
        "cancellation": (m["contact_reason"] == "cancellation").astype(float),
        "repeat_contact": m["repeat_contact"].astype(float),
    })  # fmt: skip
    fit = sm.Logit(m["churned"].astype(float), X).fit(disp=0)
    truth = large.truth.churn_coef
    for name, key in [("const", "intercept"), ("dissatisfied", "dissatisfied"), ("cancellation", "cancellation"),
                      ("repeat_contact", "repeat_contact")]:  # fmt: skip
        assert abs(fit.params[name] - truth[key]) < 4 * fit.bse[name], (name, fit.params[name], truth[key])


@pytest.mark.slow
def test_qa_item_effects_are_recovered():
    # every contact evaluated: about 33k surveys answered with a QA evaluation
    import statsmodels.api as sm

    d = generate(200_000, seed=21, qa_share=1.0)
    m = _likert(d)[["interaction_id", "score"]].merge(d.qa, on="interaction_id")
    assert len(m) > 25_000
    X = sm.add_constant(m[list(ITEMS)].astype(float))
    fit = sm.Logit((m["score"] >= 4).astype(float), X).fit(disp=0)
    est, se = fit.params[list(ITEMS)], fit.bse[list(ITEMS)]
    truth = pd.Series(d.truth.item_effects)
    marginal = pd.Series(d.truth.item_effects_marginal)
    for item, effect in truth.items():
        if effect == 0:
            assert abs(est[item]) < 0.1 and abs(est[item]) < 4 * se[item], (item, est[item])
        else:
            assert est[item] > 3 * se[item], (item, est[item])  # sign recovered, significantly
            # close to the attenuated truth; evaluator leniency adds a little measurement error
            assert abs(est[item] - marginal[item]) < 4 * se[item] + 0.02, (item, est[item], marginal[item])
    assert set(est.sort_values().index[-2:]) == {"item_resolution", "item_empathy"}
    # items are correlated (agent skill, interaction factor), as key-driver analysis expects
    corr = m[list(ITEMS)].corr().to_numpy()[np.triu_indices(len(ITEMS), 1)]
    assert 0.1 < corr.min() and corr.max() < 0.7
    # evaluator leniency: mean qa_score by evaluator, relative to the mean, matches the expected shift
    shift = pd.Series(d.truth.evaluator_qa_shift)
    means = d.qa.groupby("evaluator_id")["qa_score"].mean()
    counts = d.qa["evaluator_id"].value_counts()
    expected = shift - (shift * counts[shift.index]).sum() / counts.sum()
    np.testing.assert_allclose((means - d.qa["qa_score"].mean())[expected.index], expected, atol=0.6)
