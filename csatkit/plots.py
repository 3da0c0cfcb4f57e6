"""Figures from csatkit results, in one house style.

Every function takes a result (a tidy table or a score table), an optional ``ax`` and returns the
:class:`~matplotlib.axes.Axes` it drew on. Nothing is computed here beyond what drawing needs
(shares of a row of counts, label text): the numbers come from :mod:`csatkit.metrics`,
:mod:`csatkit.trends`, :mod:`csatkit.counts` and :mod:`csatkit.schema`.

============================  ==============================================================
function                      draws
============================  ==============================================================
:func:`plot_trend`            a p chart from :func:`csatkit.trends.p_chart`: estimates with
                              intervals, centre line, control limits, target, signals
:func:`plot_estimates`        a metric per group (channel, reason, team) with intervals, n in
                              the labels, a benchmark band and a target line
:func:`plot_ledger`           rows excluded by the loader, per reason
:func:`plot_distribution`     stacked shares of the scale points per group
============================  ==============================================================

When ``ax`` is None a new figure is made with :func:`matplotlib.pyplot.subplots`, so that a
notebook's inline backend shows it without further calls; this is the only module of csatkit that
imports :mod:`matplotlib.pyplot`. In scripts, close figures you no longer need
(``plt.close(ax.figure)``). Pass ``ax`` to draw into a figure of your own.

House style
-----------
One palette (:data:`PALETTE`), readable font sizes, no top or right spines, titles that say what is
shown and on how many responses. :data:`HOUSE_STYLE` holds the rcParams; :func:`house_style` applies
them in a ``with`` block::

    with house_style():
        fig, axes = plt.subplots(1, 2)
        plot_trend(chart, ax=axes[0])
"""

from __future__ import annotations

import contextlib

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes

from ._validate import as_list, check_columns
from .counts import ScoreTable
from .exceptions import ParameterError

__all__ = [
    "PALETTE",
    "HOUSE_STYLE",
    "house_style",
    "plot_trend",
    "plot_estimates",
    "plot_ledger",
    "plot_distribution",
    # gap analysis (csatkit.plots_gaps)
    "plot_channel_estimates",
    "plot_reason_channel_heatmap",
    "plot_gap_waterfall",
    # QA key drivers (csatkit.plots_drivers)
    "plot_importance",
    "plot_item_effects",
    "plot_qa_calibration",
]

#: The house colours. ``main`` draws estimates, ``alert`` signals (out-of-control points,
#: exclusions), ``target`` target lines, ``centre`` centre lines, ``band`` shaded ranges
#: (control limits, benchmarks), ``muted`` secondary marks (small groups).
PALETTE = {
    "main": "#1f4e79",
    "alert": "#c0392b",
    "target": "#2e7d32",
    "centre": "#4d4d4d",
    "band": "#d5dde8",
    "muted": "#9aa5b1",
}

#: rcParams of the house style.
HOUSE_STYLE = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.prop_cycle": cycler(color=[PALETTE["main"], "#e08a2c", "#5a9bd4", "#7f7f7f", PALETTE["target"],
                                     PALETTE["alert"]]),
    "font.size": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
}

_TICK_SIZE = 10
_MINUS = "\u2212"
_DASH = "\u2013"
_PCT_METRICS = {"csat", "ces_low_effort", "response_rate", "coverage", "fcr"}
_NAMES = {"csat": "CSAT", "ces_low_effort": "Low-effort share", "response_rate": "Response rate",
          "coverage": "Coverage", "fcr": "FCR", "nps": "NPS", "mean_score": "Mean score", "ces": "CES"}
_AXIS_LABELS = {"csat": "% satisfied", "ces_low_effort": "% low effort", "response_rate": "% of surveys answered",
                "coverage": "% of customers responding", "fcr": "% resolved at first contact", "nps": "NPS",
                "mean_score": "mean score", "ces": "mean effort score"}


@contextlib.contextmanager
def house_style():
    """Apply :data:`HOUSE_STYLE` within a ``with`` block (a :func:`matplotlib.rc_context`)."""
    with mpl.rc_context(HOUSE_STYLE):
        yield


# --------------------------------------------------------------------------------------------
# helpers


def _axes(ax, figsize) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax
    if not isinstance(ax, Axes):
        raise ParameterError(f"`ax` must be a matplotlib Axes or None, but {type(ax).__name__} was passed.")
    return ax


def _finish(ax: Axes) -> Axes:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(labelsize=_TICK_SIZE)
    return ax


def _table(result, name: str) -> pd.DataFrame:
    if not isinstance(result, pd.DataFrame):
        raise ParameterError(f"`{name}` must be a DataFrame, but {type(result).__name__} was passed.")
    return result


def _single_metric(df: pd.DataFrame, name: str) -> str | None:
    if "metric" not in df.columns:
        return None
    metrics = [m for m in pd.unique(df["metric"].dropna())]
    if len(metrics) > 1:
        raise ParameterError(
            f"`{name}` holds several metrics {sorted(map(str, metrics))}; plot one at a time, "
            f"e.g. {name}[{name}['metric'] == {str(metrics[0])!r}]."
        )
    return str(metrics[0]) if metrics else None


def _fmt(v: float) -> str:
    return f"{v:g}".replace("-", _MINUS)


def _target_label(metric, target) -> str:
    if metric is None or metric in _PCT_METRICS:
        return f"target {_fmt(target)}%"
    return f"target {_fmt(target)}"


def _n_total(n) -> int:
    return int(np.nansum(pd.to_numeric(pd.Series(n), errors="coerce").to_numpy(dtype=float)))


# --------------------------------------------------------------------------------------------
# plot_trend


def plot_trend(p_chart_df: pd.DataFrame, *, target: float | None = None, ax: Axes | None = None,
               title: str | None = None) -> Axes:
    """Draw a p chart: the estimate per period with its interval, centre line, control limits, target.

    Parameters
    ----------
    p_chart_df : DataFrame
        The result of :func:`csatkit.trends.p_chart`: a period column (``quarter``, ``month``,
        ``year`` or ``period``), ``estimate``, ``ci_low``, ``ci_high``, ``n``, ``centre``, ``lcl``,
        ``ucl``, ``out_of_control``; ``metric`` optional.
    target : float, optional
        Draws a dashed horizontal line at the target.
    ax : Axes, optional
        Where to draw; a new figure when None.
    title : str, optional
        Replaces the default title ("CSAT per quarter with control limits (n = ...)").

    Returns
    -------
    Axes
        The estimates are an errorbar container (one point per period with responses) joined by a
        line that breaks at periods without responses; the control limits a step-shaped band
        (``PolyCollection``) from ``lcl`` to ``ucl``; the centre line and the target horizontal
        lines; out-of-control points ringed in the alert colour.
    """
    df = _table(p_chart_df, "p_chart_df")
    check_columns(df.columns, ["estimate", "ci_low", "ci_high", "n", "centre", "lcl", "ucl"], where="the p-chart table")
    period_col = next((c for c in ("quarter", "month", "year", "period") if c in df.columns), None)
    labels = df[period_col].astype(str).tolist() if period_col else [str(i) for i in df.index]
    metric = _single_metric(df, "p_chart_df")
    est = df["estimate"].to_numpy(dtype=float)
    low = df["ci_low"].to_numpy(dtype=float)
    high = df["ci_high"].to_numpy(dtype=float)
    lcl = df["lcl"].to_numpy(dtype=float)
    ucl = df["ucl"].to_numpy(dtype=float)
    centre = df["centre"].to_numpy(dtype=float)
    ooc = df["out_of_control"].fillna(False).to_numpy(dtype=bool) if "out_of_control" in df.columns else \
        np.zeros(len(df), dtype=bool)
    x = np.arange(len(df), dtype=float)
    with house_style():
        ax = _axes(ax, (7.5, 4.2))
        if len(df):
            edges = np.r_[x - 0.5, x[-1] + 0.5]
            band_ok = np.isfinite(lcl) & np.isfinite(ucl)
            ax.fill_between(edges, np.r_[lcl, lcl[-1]], np.r_[ucl, ucl[-1]], step="post",
                            where=np.r_[band_ok, band_ok[-1]], color=PALETTE["band"], alpha=0.7, linewidth=0,
                            label="control limits", zorder=0)
            c = centre[np.isfinite(centre)]
            if c.size:
                unit = "%" if metric is None or metric in _PCT_METRICS else ""
                ax.axhline(c[0], color=PALETTE["centre"], linewidth=1, label=f"centre line {c[0]:.1f}{unit}",
                           zorder=1)
            ok = np.isfinite(est)
            yerr = np.vstack([np.where(ok, est - low, np.nan), np.where(ok, high - est, np.nan)])
            yerr = np.where(np.isfinite(yerr), np.clip(yerr, 0, None), 0)
            ax.plot(x, est, "-", color=PALETTE["main"], linewidth=1.2, zorder=2)  # breaks at empty periods
            ax.errorbar(x[ok], est[ok], yerr=yerr[:, ok], fmt="o", color=PALETTE["main"], markersize=5,
                        capsize=3, linewidth=1.5, label="estimate and interval", zorder=3)
            if ooc.any():
                ax.scatter(x[ooc], est[ooc], s=140, facecolors="none", edgecolors=PALETTE["alert"], linewidths=2,
                           label="outside control limits", zorder=4)
        if target is not None:
            ax.axhline(float(target), color=PALETTE["target"], linestyle="--", linewidth=1.5,
                       label=_target_label(metric, target), zorder=2)
        ax.set_xticks(x, labels, rotation=45 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center")
        ax.set_xlim(-0.6, max(len(df), 1) - 0.4)
        ax.set_ylabel(_AXIS_LABELS.get(metric, "estimate") if metric else "% satisfied")
        if title is None:
            name = _NAMES.get(metric, metric or "CSAT")
            per = f" per {period_col}" if period_col and period_col != "period" else ""
            title = f"{name}{per} with control limits (n = {_n_total(df['n']):,})"
        ax.set_title(title)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        return _finish(ax)


# --------------------------------------------------------------------------------------------
# plot_estimates


def plot_estimates(metric_df: pd.DataFrame, *, key="channel", target: float | None = None, benchmark=(70, 80),
                   ax: Axes | None = None, title: str | None = None, sort: bool = True) -> Axes:
    """Draw a metric per group as horizontal points with intervals.

    Parameters
    ----------
    metric_df : DataFrame
        A metric table (e.g. ``csat(responses, by="channel")``) with one metric: the ``key``
        column(s), ``estimate``, ``ci_low``, ``ci_high``, ``n``; ``metric`` and ``flag`` optional.
    key : str or list of str
        Column(s) naming the groups; several are joined with " · ".
    target : float, optional
        Draws a dashed vertical line at the target.
    benchmark : (float, float) or None
        A shaded reference range, by default the 70-80% trade benchmark for CSAT. Drawn for
        percentage metrics only (CSAT, low-effort share, response rate, FCR, or no ``metric``
        column); ``None`` hides it.
    ax : Axes, optional
        Where to draw; a new figure when None.
    title : str, optional
        Replaces the default title ("CSAT by channel (n = ...)").
    sort : bool
        Highest estimate at the top (groups without responses last); otherwise the table's order.

    Returns
    -------
    Axes
        One errorbar container for the groups, a second one in the muted colour for groups
        flagged ``small_n``; groups without an estimate get a label (with n = 0) and no point.
        Tick labels read "phone (n = 1,234)".
    """
    df = _table(metric_df, "metric_df")
    keys = as_list(key)
    check_columns(df.columns, keys + ["estimate", "ci_low", "ci_high", "n"], where="the metric table")
    metric = _single_metric(df, "metric_df")
    if sort:
        df = df.assign(_missing=df["estimate"].isna()).sort_values(
            ["_missing", "estimate"], ascending=[True, False], kind="stable").drop(columns="_missing")
    k = len(df)
    y = np.arange(k, dtype=float)[::-1]
    est = df["estimate"].to_numpy(dtype=float)
    low = df["ci_low"].to_numpy(dtype=float)
    high = df["ci_high"].to_numpy(dtype=float)
    n = pd.to_numeric(df["n"], errors="coerce").fillna(0).to_numpy()
    small = (df["flag"].fillna("").astype(str).str.contains("small_n").to_numpy()
             if "flag" in df.columns else np.zeros(k, dtype=bool))
    names = [" \u00b7 ".join(str(v) for v in row) for row in df[keys].itertuples(index=False, name=None)]
    labels = [f"{nm} (n = {int(m):,})" for nm, m in zip(names, n)]
    with house_style():
        ax = _axes(ax, (7, 1.2 + 0.45 * max(k, 1)))
        pct = metric is None or metric in _PCT_METRICS
        if benchmark is not None and pct:
            lo, hi = (float(b) for b in benchmark)
            ax.axvspan(lo, hi, color=PALETTE["band"], alpha=0.6, linewidth=0,
                       label=f"benchmark {_fmt(lo)}{_DASH}{_fmt(hi)}%", zorder=0)
        ok = np.isfinite(est)
        xerr = np.vstack([est - low, high - est])
        xerr = np.where(np.isfinite(xerr), np.clip(xerr, 0, None), 0)
        for mask, colour, label in ((ok & ~small, PALETTE["main"], "estimate and interval"),
                                    (ok & small, PALETTE["muted"], "few responses")):
            if mask.any():
                ax.errorbar(est[mask], y[mask], xerr=xerr[:, mask], fmt="o", color=colour, capsize=3,
                            markersize=6, linewidth=1.5, label=label, zorder=3)
        if target is not None:
            ax.axvline(float(target), color=PALETTE["target"], linestyle="--", linewidth=1.5,
                       label=_target_label(metric, target), zorder=2)
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.7, max(k, 1) - 0.3)
        ax.set_xlabel(_AXIS_LABELS.get(metric, "estimate") if metric else "% satisfied")
        if title is None:
            name = _NAMES.get(metric, metric or "Estimate")
            title = f"{name} by {' and '.join(keys)} (n = {_n_total(n):,})"
        ax.set_title(title)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        return _finish(ax)


# --------------------------------------------------------------------------------------------
# plot_ledger


def plot_ledger(ledger_frame, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Draw the rows a loader excluded, one bar per reason.

    Parameters
    ----------
    ledger_frame : DataFrame or Ledger
        ``Ledger.to_frame()`` (columns ``outcome``, ``reason``, ``rows``, ``share``) or the
        :class:`~csatkit.schema.Ledger` itself.
    ax : Axes, optional
        Where to draw; a new figure when None.
    title : str, optional
        Replaces the default title ("Rows excluded: 12 of 1,000 read (1.2%)").

    Returns
    -------
    Axes
        One horizontal bar per exclusion reason (largest at the top), labelled with the number of
        rows and their share of the rows read. Without exclusions the axes say so in words.
    """
    if hasattr(ledger_frame, "to_frame") and not isinstance(ledger_frame, (pd.DataFrame, pd.Series)):
        ledger_frame = ledger_frame.to_frame()
    df = _table(ledger_frame, "ledger_frame")
    check_columns(df.columns, ["outcome", "reason", "rows"], where="the ledger table")
    read = _n_total(df["rows"])
    excl = df[df["outcome"] == "excluded"].sort_values("rows", ascending=False, kind="stable")
    n_excl = _n_total(excl["rows"])
    k = len(excl)
    with house_style():
        ax = _axes(ax, (7, 1.4 + 0.45 * max(k, 1)))
        if k:
            y = np.arange(k, dtype=float)[::-1]
            rows = excl["rows"].to_numpy(dtype=float)
            share = (excl["share"].to_numpy(dtype=float) if "share" in excl.columns
                     else 100 * rows / max(read, 1))
            bars = ax.barh(y, rows, color=PALETTE["alert"], height=0.6)
            ax.bar_label(bars, labels=[f"{int(r):,} ({s:.1f}%)" for r, s in zip(rows, share)], padding=3,
                         fontsize=9)
            ax.set_yticks(y, excl["reason"].astype(str).tolist())
            ax.set_xlabel("rows excluded")
            ax.set_xlim(0, rows.max() * 1.25 if rows.max() > 0 else 1)
        else:
            ax.text(0.5, 0.5, "No rows excluded", transform=ax.transAxes, ha="center", va="center", fontsize=11)
            ax.set_xticks([])
            ax.set_yticks([])
        if title is None:
            pct = 100 * n_excl / read if read else 0.0
            title = f"Rows excluded: {n_excl:,} of {read:,} read ({pct:.1f}%)"
        ax.set_title(title)
        return _finish(ax)


# --------------------------------------------------------------------------------------------
# plot_distribution


def plot_distribution(score_table, ax: Axes | None = None, *, title: str | None = None,
                      annotate: bool = True, min_label: float = 8.0) -> Axes:
    """Draw the share of each scale point per group as stacked horizontal bars.

    Parameters
    ----------
    score_table : ScoreTable or DataFrame
        A :class:`~csatkit.counts.ScoreTable` (its group keys become the bars; weighted tables use
        the sums of weights), or a wide table of counts: groups as index, scale points as columns.
    ax : Axes, optional
        Where to draw; a new figure when None.
    title : str, optional
        Replaces the default title ("likert5 scores by channel (n = ...)").
    annotate : bool
        Write the percentage inside segments of at least ``min_label`` percent.

    Returns
    -------
    Axes
        One bar container per scale point (from the unhappy end, red, to the happy end, blue),
        each with one bar per group; the legend names the points. Groups without responses keep
        their label (n = 0) and an empty bar.
    """
    if isinstance(score_table, ScoreTable):
        sc = score_table.scale
        by = list(score_table.by)
        counts = score_table.wide("n", keys=by)
        values = score_table.wide("w", keys=by) if score_table.weighted else counts
        point_labels = [f"{p} {sc.labels.get(p, '')}".strip() if sc.labels.get(p, "") != str(p) else str(p)
                        for p in sc.points]
        reverse = sc.easy_end == "low"
        what = f"{sc.name} scores"
    elif isinstance(score_table, pd.DataFrame):
        by = [str(n) for n in score_table.index.names if n is not None]
        counts = values = score_table
        point_labels = [str(c) for c in score_table.columns]
        reverse = False
        what = "scores"
    else:
        raise ParameterError(
            f"`score_table` must be a ScoreTable or a DataFrame of counts, but {type(score_table).__name__} was passed."
        )
    mat = values.to_numpy(dtype=float)
    n = counts.to_numpy(dtype=float).sum(axis=1)
    tot = mat.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(tot > 0, 100 * mat / np.where(tot > 0, tot, 1), 0.0)
    if by:
        names = [" \u00b7 ".join(map(str, key)) if isinstance(key, tuple) else str(key) for key in counts.index]
    else:
        names = ["all"] * len(counts)
    labels = [f"{nm} (n = {int(m):,})" for nm, m in zip(names, n)]
    g, k = shares.shape
    cmap = mpl.colormaps["RdBu"]
    colours = cmap(np.linspace(0.12, 0.88, k)) if k > 1 else [PALETTE["main"]]
    if reverse:
        colours = colours[::-1]
    y = np.arange(g, dtype=float)[::-1]
    with house_style():
        ax = _axes(ax, (7.5, 1.6 + 0.45 * max(g, 1)))
        left = np.zeros(g)
        for j in range(k):
            bars = ax.barh(y, shares[:, j], left=left, color=colours[j], edgecolor="white", linewidth=0.5,
                           height=0.7, label=point_labels[j])
            if annotate:
                text = [f"{s:.0f}%" if s >= min_label else "" for s in shares[:, j]]
                dark = j < k * 0.2 or j >= k * 0.8
                ax.bar_label(bars, labels=text, label_type="center", fontsize=8,
                             color="white" if dark else "black")
            left = left + shares[:, j]
        ax.set_xlim(0, 100)
        ax.set_yticks(y, labels)
        ax.set_xlabel("% of responses")
        if title is None:
            groups = f" by {' and '.join(by)}" if by else ""
            title = f"Distribution of {what}{groups} (n = {int(n.sum()):,})"
        ax.set_title(title)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)
        return _finish(ax)


# The gap-analysis and key-driver figures live in their own modules (they know those results'
# shapes); they are re-exported here so that every figure is reachable as ``csatkit.plots.<name>``.
from .plots_drivers import plot_importance, plot_item_effects, plot_qa_calibration  # noqa: E402
from .plots_gaps import plot_channel_estimates, plot_gap_waterfall, plot_reason_channel_heatmap  # noqa: E402
