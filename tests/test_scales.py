"""Scales: points, labels, satisfied sets, NPS buckets, effort direction."""

import numpy as np
import pandas as pd
import pytest

from csatkit.exceptions import ParameterError, ScaleError
from csatkit.scales import Scale, get_scale, register_scale, scale_names


def test_registered_scales_cover_the_issue_list():
    for name in ["binary", "emoji3", "emoji5", "likert5", "likert7", "scale10", "nps", "ces5", "ces7"]:
        assert name in scale_names()


@pytest.mark.parametrize(
    "name, satisfied",
    [
        ("binary", {1}),
        ("emoji3", {3}),
        ("emoji5", {4, 5}),
        ("likert5", {4, 5}),  # top-2-box, DOMAIN.md
        ("likert7", {6, 7}),  # DOMAIN.md: 6-7 on a 7-point scale
        ("scale10", {8, 9, 10}),  # DOMAIN.md: 8-10 on a 10-point scale
    ],
)
def test_default_satisfied_sets(name, satisfied):
    assert set(get_scale(name).satisfied) == satisfied


def test_nps_buckets():
    s = get_scale("nps")
    assert set(s.promoters) == {9, 10}
    assert set(s.passives) == {7, 8}
    assert set(s.detractors) == set(range(0, 7))


def test_satisfied_set_is_configurable():
    assert set(get_scale("likert5", satisfied="top_box").satisfied) == {5}
    assert set(get_scale("likert7", satisfied="top3").satisfied) == {5, 6, 7}
    assert set(get_scale("scale10", satisfied=[9, 10]).satisfied) == {9, 10}
    with pytest.raises(ParameterError, match=r"not on it"):
        get_scale("likert5", satisfied=[6])
    with pytest.raises(ParameterError, match=r"`satisfied` must be one of"):
        get_scale("likert5", satisfied="top4")


def test_ces_direction():
    easy_high = get_scale("ces7")
    assert easy_high.easy_end == "high" and set(easy_high.satisfied) == {6, 7}
    easy_low = get_scale("ces7", easy_end="low")
    assert set(easy_low.satisfied) == {1, 2}
    # labels follow the direction: 1 is now "Extremely easy"
    assert easy_low.labels[1] == "Extremely easy"
    assert easy_low.to_points(["Extremely easy"]).tolist() == [1.0]
    with pytest.raises(ParameterError, match="effort"):
        get_scale("likert5", easy_end="low")


@pytest.mark.parametrize(
    "name, raw, expected",
    [
        ("binary", ["Good, I'm satisfied", "Bad, I'm unsatisfied", "good", "BAD", "yes", "no"], [1, 0, 1, 0, 1, 0]),
        ("binary", ["satisfied", "neutral or dissatisfied", "👍", "👎"], [1, 0, 1, 0]),
        ("emoji5", ["Extremely happy", "Happy", "Neutral", "Unhappy", "Very unhappy"], [5, 4, 3, 2, 1]),
        ("emoji5", ["😡", "🙁", "😐", "🙂", "😍"], [1, 2, 3, 4, 5]),
        ("emoji3", ["😞", "😐", "😊", "Awesome", "Just okay", "Not good"], [1, 2, 3, 3, 2, 1]),
        ("likert5", ["4 stars", "1 star", "★★★", "5 - Very satisfied", "Very dissatisfied", 3, "2"], [4, 1, 3, 5, 1, 3, 2]),
        ("likert7", ["Extremely satisfied", "Neutral", 7], [7, 4, 7]),
        ("nps", [0, "10", "10 - extremely likely", 7.0], [0, 10, 10, 7]),
        ("ces5", ["Very easy", "Very difficult"], [5, 1]),
    ],
)
def test_labels_and_emoji_map_to_points(name, raw, expected):
    assert get_scale(name).to_points(raw).tolist() == [float(e) for e in expected]


def test_emoji_variation_selector_and_case_and_space_are_ignored():
    s = get_scale("emoji5")
    assert s.to_points(["\u2639\ufe0f", "  extremely   HAPPY "]).tolist() == [2.0, 5.0]


def test_missing_values_map_to_nan():
    pts = get_scale("likert5").to_points([None, np.nan, "", "NA"])
    assert pts.isna().all()


def test_unmapped_label_error_lists_known_labels():
    with pytest.raises(ScaleError) as err:
        get_scale("likert5").to_points(["Satisfied", "Meh"], column="rating")
    msg = str(err.value)
    assert "'Meh'" in msg and "'rating'" in msg and "Very satisfied" in msg and "[1, 2, 3, 4, 5]" in msg


def test_out_of_scale_number_is_unmapped():
    pts, bad = get_scale("likert5").map_values(pd.Series([1, 5, 6, 0, 3.5]))
    assert bad.tolist() == [False, False, True, True, True]
    assert pts.iloc[:2].tolist() == [1.0, 5.0]


def test_map_values_many_rows_uses_distinct_values():
    raw = pd.Series(["4 stars", "Very satisfied", None] * 100_000, dtype=object)
    pts, bad = get_scale("likert5").map_values(raw)
    assert not bad.any()
    assert pts.iloc[:3].tolist()[:2] == [4.0, 5.0] and np.isnan(pts.iloc[2])


def test_unknown_scale_name():
    with pytest.raises(ParameterError, match=r"`scale` must be one of .*'likert5'.* but 'likert11' was passed"):
        get_scale("likert11")


def test_register_custom_scale():
    custom = Scale(name="test_four", kind="csat", points=(1, 2, 3, 4), labels={1: "a", 2: "b", 3: "c", 4: "d"},
                   satisfied=frozenset({4}), aliases={"d": 4})
    register_scale(custom, overwrite=True)
    assert get_scale("test_four").to_points(["d", 2]).tolist() == [4.0, 2.0]
    with pytest.raises(ParameterError, match="already registered"):
        register_scale(custom)


def test_satisfied_label_for_methods_section():
    assert get_scale("likert5").satisfied_label() == "4-5 (top-2-box)"
    assert get_scale("scale10").satisfied_label() == "8-10 (top-3-box)"
    assert get_scale("emoji3").satisfied_label() == "3 (top box)"
