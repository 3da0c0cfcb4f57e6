"""Figures for the key-driver analysis (to be merged into :mod:`csatkit.plots`).

Each function takes a result (or its tidy table), an optional ``ax``, draws, and returns the Axes.
Nothing is computed here beyond sorting and labelling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .exceptions import ParameterError

__all__ = ["plot_importance", "plot_item_effects", "plot_qa_calibration"]

_METHOD_TITLES = {
    "lmg": "Share of explained variance (LMG / Shapley R\u00b2)",
    "relative_weights": "Share of explained variance (Johnson's relative weights)",
    "mcfadden_lmg": "Share of McFadden pseudo-R\u00b2 (Shapley)",
}
_MEASURE_LABELS = {
    "ame_pp": "Average marginal effect on % satisfied (pp per item point)",
    "ame_pp_satisfied": "Average marginal effect on % satisfied (pp per item point, ordinal model)",
    "coef_pp": "Change in % satisfied per item point (linear model)",
    "coef_points": "Change in mean score per item point (linear model)",
}
_VERDICT_COLOURS = {"drives CSAT": "#1b7837", "negative association to investigate": "#b2182b"}
_NEUTRAL = "#4d4d4d"


def _axes(ax, height: float):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, max(2.5, height)), layout="constrained")
    return ax


def _label(item, prefix) -> str:
    s = str(item)
    return s[len(prefix):].replace("_", " ") if prefix and s.startswith(prefix) else s


def plot_importance(drivers, *, method: str = "lmg", ax=None, item_prefix: str = "item_"):
    """Horizontal bars of each item's share of the explained variance, with bootstrap intervals.

    Parameters
    ----------
    drivers : KeyDrivers or DataFrame
        A :func:`csatkit.drivers.key_drivers` result or its ``importance`` table.
    method : {"lmg", "relative_weights", "mcfadden_lmg"}
    ax : matplotlib Axes, optional
    item_prefix : str
        Stripped from item names in the labels.

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = getattr(drivers, "importance", drivers)
    if not isinstance(table, pd.DataFrame):
        raise ParameterError(f"`drivers` must be a KeyDrivers result or its importance table, but {type(drivers).__name__} was passed.")
    tab = table[table["method"] == method].sort_values("rank", ascending=False)
    if tab.empty:
        known = sorted(table["method"].unique())
        raise ParameterError(f"The value for `method` must be one of {known}, but {method!r} was passed.")
    ax = _axes(ax, 0.35 * len(tab) + 1)
    y = np.arange(len(tab))
    est = tab["estimate"].to_numpy(float)
    lo = tab["ci_low"].to_numpy(float)
    hi = tab["ci_high"].to_numpy(float)
    ax.barh(y, est, color="#4575b4", height=0.6)
    if np.isfinite(lo).any():
        err = np.vstack([np.clip(est - lo, 0, None), np.clip(hi - est, 0, None)])
        ax.errorbar(est, y, xerr=np.where(np.isfinite(err), err, 0), fmt="none", ecolor="black", capsize=3, lw=1)
    ax.set_yticks(y, [_label(i, item_prefix) for i in tab["item"]])
    ax.set_xlabel("% of the variance the items explain")
    ax.set_title(_METHOD_TITLES.get(method, method), fontsize="medium")
    ax.set_xlim(left=0)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_item_effects(regression, *, model: str | None = None, ax=None, item_prefix: str = "item_", verdicts=None):
    """Forest plot of the item effects of one model, with confidence intervals.

    Parameters
    ----------
    regression : ScorecardRegression or DataFrame
        A :func:`csatkit.drivers.scorecard_regression` result or its ``effects`` table.
    model : str, optional
        ``logistic``, ``ordinal``, ``linear`` or ``mixed``; default the result's primary model
        (or the first model in the table).
    verdicts : DataFrame, optional
        ``ScorecardValidity.verdicts``: colours the points by verdict.

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = getattr(regression, "effects", regression)
    if not isinstance(table, pd.DataFrame):
        raise ParameterError(f"`regression` must be a ScorecardRegression or its effects table, but {type(regression).__name__} was passed.")
    if model is None:
        model = getattr(regression, "primary", None) or str(table["model"].iloc[0])
    tab = table[table["model"] == model].iloc[::-1]
    if tab.empty:
        known = sorted(table["model"].unique())
        raise ParameterError(f"The value for `model` must be one of {known}, but {model!r} was passed.")
    ax = _axes(ax, 0.35 * len(tab) + 1)
    y = np.arange(len(tab))
    colours = [_NEUTRAL] * len(tab)
    if verdicts is not None:
        vmap = dict(zip(verdicts["item"], verdicts["verdict"]))
        colours = [_VERDICT_COLOURS.get(vmap.get(i), _NEUTRAL) for i in tab["item"]]
    est = tab["estimate"].to_numpy(float)
    ax.hlines(y, tab["ci_low"], tab["ci_high"], colors=colours, lw=1.5)
    ax.scatter(est, y, c=colours, zorder=3, s=25)
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    ax.set_yticks(y, [_label(i, item_prefix) for i in tab["item"]])
    measure = str(tab["measure"].iloc[0])
    ax.set_xlabel(_MEASURE_LABELS.get(measure, measure))
    ax.set_title(f"Item effects ({model} model)", fontsize="medium")
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_qa_calibration(validity, *, ax=None, item_prefix: str = "item_"):
    """CSAT (or mean score) by QA-score decile, with confidence intervals and the n of each bin.

    Parameters
    ----------
    validity : ScorecardValidity or DataFrame
        A :func:`csatkit.drivers.scorecard_validity` result or its ``calibration`` table.

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = getattr(validity, "calibration", validity)
    if not isinstance(table, pd.DataFrame):
        raise ParameterError(f"`validity` must be a ScorecardValidity or its calibration table, but {type(validity).__name__} was passed.")
    if table.empty:
        raise ParameterError("The calibration table is empty (too few evaluations for QA-score bins); nothing to draw.")
    ax = _axes(ax, 4.0)
    x = table["qa_mean"].to_numpy(float)
    est = table["estimate"].to_numpy(float)
    err = np.vstack([est - table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float) - est])
    ax.errorbar(x, est, yerr=err, fmt="o-", color="#4575b4", ecolor="#4575b4", capsize=3, lw=1.2)
    for xi, yi, n in zip(x, table["ci_high"].to_numpy(float), table["n"]):
        ax.annotate(f"n={int(n)}", (xi, yi), textcoords="offset points", xytext=(0, 4), ha="center", fontsize="x-small",
                    color="grey")
    csat = str(table["metric"].iloc[0]) == "csat"
    ax.set_ylabel("% satisfied" if csat else "mean score")
    ax.set_xlabel("QA score (mean within decile)")
    ax.set_title("CSAT by QA-score decile" if csat else "Mean score by QA-score decile", fontsize="medium")
    ax.grid(alpha=0.3)
    return ax
