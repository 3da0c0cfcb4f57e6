"""Tests for csatkit.plots: each function returns the Axes it drew on, with the expected artists.

Figures are closed after every test by the autouse fixture in conftest.py.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer, ErrorbarContainer

from csatkit.counts import ScoreTable, tabulate
from csatkit.exceptions import ParameterError
from csatkit.metrics import csat, nps
from csatkit.plots import (
    HOUSE_STYLE,
    PALETTE,
    house_style,
    plot_distribution,
    plot_estimates,
    plot_ledger,
    plot_trend,
)
from csatkit.schema import Ledger
from csatkit.trends import p_chart


def responses(rng, quarters=("2026-01-01", "2026-04-01", "2026-07-01"), n=200):
    parts = []
    for start in quarters:
        scores = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.1, 0.1, 0.1, 0.35, 0.35])
        parts.append(pd.DataFrame({
            "interaction_at": pd.Timestamp(start) + pd.to_timedelta(np.arange(n) % 80, unit="D"),
            "channel": rng.choice(["phone", "email", "chat"], size=n),
            "score": scores.astype(float),
            "scale": "likert5",
        }))
    return pd.concat(parts, ignore_index=True)


def hlines_at(ax, y):
    return [ln for ln in ax.get_lines() if len(ln.get_ydata()) == 2 and np.allclose(ln.get_ydata(), [y, y])
            and tuple(ln.get_xdata()) == (0, 1)]


def vlines_at(ax, x):
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2 and np.allclose(ln.get_xdata(), [x, x])
            and tuple(ln.get_ydata()) == (0, 1)]


def errorbars(ax):
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def bars(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


# --------------------------------------------------------------------------------------------
# plot_trend


@pytest.fixture
def chart(rng):
    return p_chart(responses(rng), "2025Q4:2026Q3")  # 2025Q4 has no responses


def test_plot_trend_artists(chart):
    ax = plot_trend(chart, target=80)
    assert isinstance(ax, Axes)
    assert len(errorbars(ax)) == 1
    data_line = errorbars(ax)[0].lines[0]
    assert len(data_line.get_xdata()) == 3  # no point for the empty quarter
    joins = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 4]
    assert len(joins) == 1 and np.isnan(joins[0].get_ydata()[0])  # the joining line breaks there
    assert len(hlines_at(ax, 80)) == 1  # target
    assert len(hlines_at(ax, chart["centre"].iloc[0])) == 1  # centre line
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1  # control limits
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert "n = 600" in ax.get_title() and "CSAT" in ax.get_title()
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert "target 80%" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_trend_highlights_out_of_control(chart):
    chart = chart.copy()
    chart.loc[2, "out_of_control"] = True
    ax = plot_trend(chart)
    rings = [c for c in ax.collections if c.get_label() == "outside control limits"]
    assert len(rings) == 1
    assert rings[0].get_offsets().tolist() == [[2.0, chart["estimate"].iloc[2]]]
    assert hlines_at(ax, 80) == []  # no target given, no target line


def test_plot_trend_uses_given_ax_and_single_period(rng):
    fig, (left, right) = plt.subplots(1, 2)
    one = p_chart(responses(rng, quarters=("2026-07-01",)), "2026Q3")
    assert plot_trend(one, ax=right) is right
    assert len(errorbars(right)) == 1
    assert len(left.lines) == 0 and len(left.containers) == 0


def test_plot_trend_all_empty_periods():
    empty = pd.DataFrame({"quarter": ["2026Q1", "2026Q2"], "metric": "csat", "estimate": np.nan, "ci_low": np.nan,
                          "ci_high": np.nan, "n": 0, "count": 0, "centre": np.nan, "lcl": np.nan, "ucl": np.nan,
                          "out_of_control": False, "flag": "no_responses"})
    ax = plot_trend(empty, target=75)
    assert len(hlines_at(ax, 75)) == 1
    assert "n = 0" in ax.get_title()


# --------------------------------------------------------------------------------------------
# plot_estimates


def test_plot_estimates_artists(rng):
    table = csat(responses(rng), by="channel")
    ax = plot_estimates(table, target=78)
    assert isinstance(ax, Axes)
    assert len(errorbars(ax)) == 1
    assert len(errorbars(ax)[0].lines[0].get_xdata()) == 3
    assert len(vlines_at(ax, 78)) == 1
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 3
    for ch, n in zip(table["channel"], table["n"]):
        assert f"{ch} (n = {n:,})" in labels
    # highest estimate at the top (largest y)
    top = max(ax.get_yticks())
    best = table.sort_values("estimate").iloc[-1]
    assert labels[list(ax.get_yticks()).index(top)].startswith(best["channel"])
    band = [p for p in ax.patches if p.get_label().startswith("benchmark 70")]
    assert len(band) == 1
    assert "CSAT by channel" in ax.get_title() and f"n = {table['n'].sum():,}" in ax.get_title()


def test_plot_estimates_single_group_nan_and_small(rng):
    table = pd.DataFrame({"channel": ["phone", "social", "sms"], "metric": "csat",
                          "estimate": [76.0, np.nan, 60.0], "ci_low": [74.0, np.nan, 40.0],
                          "ci_high": [78.0, np.nan, 77.0], "n": [1200, 0, 12],
                          "flag": ["", "no_responses", "small_n"]})
    fig, ax = plt.subplots()
    assert plot_estimates(table, ax=ax, benchmark=None) is ax
    assert len(errorbars(ax)) == 2  # regular and "few responses"
    assert "social (n = 0)" in [t.get_text() for t in ax.get_yticklabels()]
    assert not [p for p in ax.patches if p.get_label().startswith("benchmark")]
    one = plot_estimates(table.iloc[:1])
    assert [t.get_text() for t in one.get_yticklabels()] == ["phone (n = 1,200)"]


def test_plot_estimates_nps_skips_percentage_benchmark(rng):
    df = pd.DataFrame({"channel": ["phone", "email"] * 50, "score": [10, 3] * 50, "scale": "nps"})
    ax = plot_estimates(nps(df, by="channel"), target=20)
    assert not [p for p in ax.patches if p.get_label().startswith("benchmark")]
    assert "target 20" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_estimates_two_keys_and_errors(rng):
    df = responses(rng).assign(team=lambda d: np.where(d.index % 2, "north", "south"))
    table = csat(df, by=["channel", "team"])
    ax = plot_estimates(table, key=["channel", "team"])
    assert len(ax.get_yticklabels()) == 6
    mixed = pd.concat([table, table.assign(metric="nps")])
    with pytest.raises(ParameterError, match="several metrics"):
        plot_estimates(mixed, key=["channel", "team"])
    with pytest.raises(ParameterError, match="Axes"):
        plot_estimates(table, key=["channel", "team"], ax="left")


# --------------------------------------------------------------------------------------------
# plot_ledger


def test_plot_ledger_bars():
    ledger = Ledger(source="export.csv", rows_read=1000)
    ledger.exclude("missing_score", [1, 2, 3])
    ledger.exclude("duplicate_response_id", list(range(10, 50)))
    ax = plot_ledger(ledger.to_frame())
    assert isinstance(ax, Axes)
    assert len(bars(ax)) == 1 and len(bars(ax)[0].patches) == 2
    widths = sorted(p.get_width() for p in bars(ax)[0].patches)
    assert widths == [3, 40]
    assert ax.get_title() == "Rows excluded: 43 of 1,000 read (4.3%)"
    texts = [t.get_text() for t in ax.texts]
    assert "40 (4.0%)" in texts and "3 (0.3%)" in texts
    # the Ledger object itself is accepted, into a given ax
    fig, ax2 = plt.subplots()
    assert plot_ledger(ledger, ax=ax2) is ax2


def test_plot_ledger_without_exclusions():
    ax = plot_ledger(Ledger(source="clean.csv", rows_read=10))
    assert bars(ax) == []
    assert [t.get_text() for t in ax.texts] == ["No rows excluded"]


# --------------------------------------------------------------------------------------------
# plot_distribution


def test_plot_distribution_stacks(rng):
    table = tabulate(responses(rng), by="channel", scale="likert5")
    ax = plot_distribution(table)
    assert isinstance(ax, Axes)
    assert len(bars(ax)) == 5  # one per scale point
    assert all(len(c.patches) == 3 for c in bars(ax))  # one bar per channel
    # the segments of each bar add up to 100%
    totals = np.sum([[p.get_width() for p in c.patches] for c in bars(ax)], axis=0)
    assert totals == pytest.approx([100, 100, 100])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "1 Very dissatisfied" and legend[-1] == "5 Very satisfied"
    assert f"n = {table.n:,}" in ax.get_title()


def test_plot_distribution_single_group_and_empty_group():
    counts = pd.DataFrame({"score": [4, 5], "n": [3, 7]})
    one = ScoreTable.from_counts(counts, scale="likert5")
    fig, ax = plt.subplots()
    assert plot_distribution(one, ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == ["all (n = 10)"]
    wide = pd.DataFrame({1: [1, 0], 2: [1, 0], 3: [2, 0]}, index=pd.Index(["email", "sms"], name="channel"))
    ax2 = plot_distribution(wide)
    assert len(bars(ax2)) == 3
    assert "sms (n = 0)" in [t.get_text() for t in ax2.get_yticklabels()]
    assert all(c.patches[1].get_width() == 0 for c in bars(ax2))


# --------------------------------------------------------------------------------------------
# house style


def test_house_style_is_scoped():
    before = plt.rcParams["axes.spines.top"]
    with house_style():
        assert plt.rcParams["axes.spines.top"] is False
        assert plt.rcParams["axes.titlesize"] == HOUSE_STYLE["axes.titlesize"]
    assert plt.rcParams["axes.spines.top"] == before
    assert set(PALETTE) >= {"main", "alert", "target", "band"}
