"""Figures for gap analysis (to be merged into :mod:`csatkit.plots`).

Each function takes a result of :mod:`csatkit.gaps`, an optional ``ax`` and returns the Axes. They
compute nothing: every number drawn is read from the result's tables.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Colormap
from matplotlib.patches import Patch, Rectangle

from ._validate import check_choice
from .exceptions import ParameterError
from .gaps import GapDecomposition, GapResult, MixResult, ReasonChannelResult

__all__ = ["plot_channel_estimates", "plot_reason_channel_heatmap", "plot_gap_waterfall"]

_OK = "#1f5fa8"
_WEAK = "#9a9a9a"
_UP = "#2e8b57"
_DOWN = "#c0392b"
_TOTAL = "#4a6fa5"
_METHOD_COLOURS = {"raw": "#9a9a9a", "standardised": "#1f5fa8", "model": "#e08e0b"}
_AXIS_LABEL = {"csat": "CSAT (% satisfied)", "ces_low_effort": "Low-effort share (%)", "nps": "NPS",
               "mean_score": "Mean score", "ces": "Mean effort score"}


def _axes(ax, figsize):
    if ax is None:
        # constrained layout keeps the labels, legend and colour bar inside the figure (as plots.py does)
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _intervals(ax, lo, hi, y, colour, lw=1.2):
    """Intervals drawn as lines with end caps; unlike errorbar they do not assume the estimate lies inside.

    One collection for the lines and one line of markers for the caps, however many intervals: a
    pair of artists per interval made the figure several times slower to draw. Intervals with a
    missing end are left out.
    """
    lo, hi, y = (np.asarray(v, dtype=float) for v in (lo, hi, y))
    ok = np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return
    lo, hi, y = lo[ok], hi[ok], y[ok]
    ax.hlines(y, lo, hi, colors=colour, lw=lw, capstyle="butt")
    ax.plot(np.concatenate([lo, hi]), np.concatenate([y, y]), "|", color=colour, ms=7, mew=lw, linestyle="none")


def plot_channel_estimates(result, *, ax=None, methods=None, show_n: bool = True):
    """Estimates per group with their intervals, the target line and the benchmark band.

    Parameters
    ----------
    result : GapResult or MixResult
        A :class:`~csatkit.gaps.GapResult` draws one point per group (best on top); groups flagged
        ``small_n`` are hollow and grey, groups without responses are listed without a point. A
        :class:`~csatkit.gaps.MixResult` draws raw, standardised and model-based CSAT side by side.
    ax : matplotlib Axes, optional
    methods : list of str, optional
        For a MixResult, which methods to draw (default: all present).
    show_n : bool
        Append n to the group labels.

    Returns
    -------
    matplotlib Axes
    """
    if isinstance(result, MixResult):
        return _plot_mix_estimates(result, ax=ax, methods=methods, show_n=show_n)
    if not isinstance(result, GapResult):
        raise ParameterError(
            f"`result` must be a GapResult or MixResult, but {type(result).__name__} was passed."
        )
    est = result.estimates
    ax = _axes(ax, (7, 0.5 * len(est) + 1.5))
    y = np.arange(len(est))[::-1]
    labels = []
    for yi, (_, r) in zip(y, est.iterrows()):
        name = str(r[result.by])
        labels.append(f"{name} (n={int(r['n'])})" if show_n else name)
        if r["n"] <= 0:
            ax.text(0.02, yi, "no responses", transform=ax.get_yaxis_transform(), va="center", color=_WEAK,
                    fontsize=8, style="italic")
    has = est["n"].to_numpy() > 0
    weak = est["flag"].astype(str).str.contains("small_n").to_numpy()
    for sel, colour, face in ((has & ~weak, _OK, _OK), (has & weak, _WEAK, "white")):
        if sel.any():
            _intervals(ax, est["ci_low"].to_numpy()[sel], est["ci_high"].to_numpy()[sel], y[sel], colour, lw=1.5)
            ax.plot(est["estimate"].to_numpy(dtype=float)[sel], y[sel], "o", color=colour, mfc=face, ms=7,
                    linestyle="none")
    if result.benchmark is not None:
        ax.axvspan(*result.benchmark, color="#b8d8b8", alpha=0.35, lw=0,
                   label=f"benchmark {result.benchmark[0]:g}-{result.benchmark[1]:g}")
    if result.target is not None:
        ax.axvline(result.target, color=_DOWN, ls="--", lw=1.2, label=f"target {result.target:g}")
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.set_xlabel(_AXIS_LABEL.get(result.metric, result.metric))
    ax.set_title(f"{_AXIS_LABEL.get(result.metric, result.metric)} by {result.by} ({result.level:.0%} intervals)")
    if result.target is not None or result.benchmark is not None:
        ax.legend(loc="best", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return ax


def _plot_mix_estimates(result: MixResult, *, ax=None, methods=None, show_n=True):
    est = result.estimates
    present = list(dict.fromkeys(est["method"]))
    methods = present if methods is None else list(methods)
    for m in methods:
        check_choice("methods", m, present)
    groups = list(dict.fromkeys(est[result.by]))
    ax = _axes(ax, (7, 0.6 * len(groups) + 1.5))
    y = np.arange(len(groups))[::-1].astype(float)
    width = 0.6 / max(len(methods), 1)
    for k, m in enumerate(methods):
        sub = est[est["method"] == m].set_index(result.by)
        off = (k - (len(methods) - 1) / 2) * width
        shown = [g in sub.index for g in groups]
        if not any(shown):
            continue
        rows = sub.loc[[g for g in groups if g in sub.index]]
        at = y[shown] - off
        colour = _METHOD_COLOURS.get(m, _OK)
        _intervals(ax, rows["ci_low"], rows["ci_high"], at, colour)
        ax.plot(rows["estimate"].to_numpy(dtype=float), at, "o", color=colour, ms=5, linestyle="none", label=m)
    raw = est[est["method"] == "raw"].set_index(result.by)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{g} (n={int(raw.loc[g, 'n'])})" if show_n and g in raw.index else str(g) for g in groups])
    ax.set_xlabel(_AXIS_LABEL["csat"])
    ax.set_title(f"CSAT by {result.by}: raw and adjusted for the {result.reason} mix")
    ax.legend(loc="best", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_reason_channel_heatmap(result: ReasonChannelResult, *, ax=None, cmap="RdYlGn", annotate: bool = True,
                                vmin: float | None = None, vmax: float | None = None):
    """CSAT per contact reason (rows) and group (columns); insufficient cells masked.

    Cells below the result's ``min_n`` are grey and read "n<min_n"; the best group of a reason,
    where one is declared, is outlined.

    Parameters
    ----------
    result : ReasonChannelResult
    ax : matplotlib Axes, optional
    cmap : str or Colormap
    annotate : bool
        Write the estimate and n in each cell.
    vmin, vmax : float, optional
        Colour range (default: the range of the sufficient cells).

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(result, ReasonChannelResult):
        raise ParameterError(
            f"`result` must be a ReasonChannelResult, but {type(result).__name__} was passed."
        )
    cells = result.cells
    reasons = list(dict.fromkeys(cells[result.reason]))
    groups = list(dict.fromkeys(cells[result.by]))
    ax = _axes(ax, (1.3 * len(groups) + 3, 0.6 * len(reasons) + 1.8))
    est = cells.pivot(index=result.reason, columns=result.by, values="estimate").reindex(index=reasons,
                                                                                         columns=groups)
    n = cells.pivot(index=result.reason, columns=result.by, values="n").reindex(index=reasons, columns=groups)
    ok = cells.pivot(index=result.reason, columns=result.by, values="sufficient").reindex(index=reasons,
                                                                                          columns=groups)
    mask = ~ok.to_numpy(dtype=bool)
    data = np.ma.masked_array(est.to_numpy(dtype=float), mask=mask | ~np.isfinite(est.to_numpy(dtype=float)))
    cm = (plt.get_cmap(cmap) if not isinstance(cmap, Colormap) else cmap).with_extremes(bad="#e6e6e6")
    shown = data.compressed()
    lo = vmin if vmin is not None else (float(shown.min()) if shown.size else 0.0)
    hi = vmax if vmax is not None else (float(shown.max()) if shown.size else 100.0)
    if hi <= lo:
        lo, hi = lo - 1, hi + 1
    im = ax.imshow(data, cmap=cm, vmin=lo, vmax=hi, aspect="auto")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([str(g) for g in groups])
    ax.set_yticks(range(len(reasons)))
    ax.set_yticklabels([str(r) for r in reasons])
    if annotate:
        for i in range(len(reasons)):
            for j in range(len(groups)):
                nij = int(n.iat[i, j])
                if mask[i, j]:
                    txt = f"n<{result.min_n:g}\n({nij})" if nij > 0 else "none"
                    ax.text(j, i, txt, ha="center", va="center", fontsize=7, color="#666666")
                else:
                    ax.text(j, i, f"{est.iat[i, j]:.0f}\nn={nij}", ha="center", va="center", fontsize=8)
    best = result.best[result.best["status"] == "best_declared"]
    for _, r in best.iterrows():
        i, j = reasons.index(r[result.reason]), groups.index(r["best_group"])
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="black", lw=2))
    ax.figure.colorbar(im, ax=ax, label="CSAT (%)")
    handles = [Patch(fc="#e6e6e6", label=f"insufficient (n < {result.min_n:g})"),
               Patch(fc="none", ec="black", lw=2, label="best (after correction)")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, fontsize=8, frameon=False)
    ax.set_title(f"CSAT by {result.reason} and {result.by}")
    return ax


def plot_gap_waterfall(result, *, ax=None, by_reason: bool = False):
    """The mix / performance decomposition of a CSAT gap as a waterfall.

    From group b's CSAT, a step for the mix part and one for the performance part (or one step per
    reason and part with ``by_reason=True``) lead to group a's CSAT.

    Parameters
    ----------
    result : GapDecomposition or MixResult
        A MixResult draws its default decomposition.
    ax : matplotlib Axes, optional
    by_reason : bool

    Returns
    -------
    matplotlib Axes
    """
    if isinstance(result, MixResult):
        if result.decomposition is None:
            raise ParameterError("The MixResult holds no decomposition (fewer than two groups with enough "
                                 "responses); call result.decompose(a, b) and plot that.")
        result = result.decomposition
    if not isinstance(result, GapDecomposition):
        raise ParameterError(
            f"`result` must be a GapDecomposition or MixResult, but {type(result).__name__} was passed."
        )
    if by_reason:
        t = result.table
        steps = [(f"mix: {r}", v) for r, v in zip(t[result.reason], t["mix"])]
        steps += [(f"perf.: {r}", v) for r, v in zip(t[result.reason], t["performance"])]
    else:
        steps = [("mix", result.mix), ("performance", result.performance)]
    ax = _axes(ax, (max(6, 0.9 * (len(steps) + 2)), 4))
    start, end = result.estimate_b, result.estimate_a
    levels = [start]
    for _, v in steps:
        levels.append(levels[-1] + v)
    span = max(levels + [end]) - min(levels + [end])
    floor = max(0.0, min(levels + [end]) - max(span, 1.0) * 0.6)
    x = np.arange(len(steps) + 2)
    ax.bar(x[0], start - floor, bottom=floor, color=_TOTAL)
    ax.text(x[0], start, f"{start:.1f}", ha="center", va="bottom", fontsize=8)
    for k, (name, v) in enumerate(steps, start=1):
        base = levels[k - 1]
        ax.bar(x[k], v, bottom=base, color=_UP if v >= 0 else _DOWN)
        ax.text(x[k], max(base, base + v), f"{v:+.1f}", ha="center", va="bottom", fontsize=8)
        ax.plot([x[k - 1] - 0.4, x[k] + 0.4], [base, base], color="#555555", lw=0.6, ls=":")
    ax.bar(x[-1], end - floor, bottom=floor, color=_TOTAL)
    ax.text(x[-1], end, f"{end:.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels([str(result.b)] + [s[0] for s in steps] + [str(result.a)], rotation=30 if by_reason else 0,
                       ha="right" if by_reason else "center")
    ax.set_ylim(floor, max(levels + [end]) + max(span, 1.0) * 0.15)
    ax.set_ylabel("CSAT (%)")
    ax.set_title(f"CSAT gap {result.a} - {result.b} = {result.raw_gap:+.1f}: mix {result.mix:+.1f}, "
                 f"performance {result.performance:+.1f}")
    return ax
