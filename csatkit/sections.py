"""Report sections: one call, one heading, prose, a figure and a table.

The periodic report notebooks stay thin: they set parameters, build a :class:`ReportContext`
with :func:`prepare`, and display one section per cell::

    ctx = sections.prepare(data, period="2026Q3", target=80)
    sections.executive_summary(ctx)
    sections.trend(ctx)

Each section returns a :class:`Section`, which a notebook displays as HTML: a heading, short
paragraphs, an embedded PNG figure and tables. Every piece of text that comes from the data is
HTML-escaped; customer comments also go through :func:`csatkit.privacy.mask_pii` unless masking
is turned off. Every score is shown with its n and its confidence interval.
"""

from __future__ import annotations

import base64
import html
import io
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from . import metrics as _metrics
from . import trends as _trends
from ._validate import check_range
from .exceptions import InputError
from .load import _BESIDE_PARSE, read_contacts, read_qa, read_responses
from .periods import Period, filter_period, parse_period
from .privacy import safe_comments_table
from .scales import Scale, get_scale
from .schema import Ledger

__all__ = [
    "Section",
    "ReportContext",
    "prepare",
    "title",
    "executive_summary",
    "trend",
    "channels",
    "reason_by_channel",
    "service_recovery",
    "data_quality",
    "methods",
    "provenance_section",
    "channel_gaps",
    "gap_matrix",
    "gap_decomposition",
    "drivers",
    "driver_details",
]


# --------------------------------------------------------------------------------------------
# the displayable section


@dataclass
class Section:
    """A titled block of a report: paragraphs, an optional figure, tables.

    Attributes
    ----------
    title : str
        Heading (shown as ``<h2>``).
    paragraphs : list of str
        Plain text, escaped when shown.
    figure : matplotlib Figure or None
        Embedded as a PNG.
    tables : list of (caption, HTML) pairs
        HTML built by csatkit from escaped parts.
    html_parts : list of str
        Further HTML blocks built by csatkit (e.g. a result object's own HTML view).
    data : dict
        The tidy results the section shows, for analysts who want the numbers.
    """

    title: str
    paragraphs: list = field(default_factory=list)
    # left out of repr(), which a notebook computes for every section it shows (as text/plain,
    # next to the HTML): the tables and results are large and slow to print, and shown as HTML
    figure: object = field(default=None, repr=False)
    tables: list = field(default_factory=list, repr=False)
    html_parts: list = field(default_factory=list, repr=False)
    data: dict = field(default_factory=dict, repr=False)
    level: int = 2
    _png: str | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.figure is not None:
            buf = io.BytesIO()
            # a figure with a layout engine already fits its labels to the figure; "tight" would
            # measure every artist once more only to crop the margin
            tight = None if self.figure.get_layout_engine() is not None else "tight"
            self.figure.savefig(buf, format="png", dpi=110, bbox_inches=tight)
            self._png = base64.b64encode(buf.getvalue()).decode("ascii")
            import matplotlib.pyplot as plt

            plt.close(self.figure)  # shown once, embedded; not again by the inline backend

    def _repr_html_(self) -> str:
        tag = f"h{self.level}"
        out = [f"<section class='csatkit-section'><{tag}>{html.escape(self.title)}</{tag}>"]
        out += [f"<p>{html.escape(p)}</p>" for p in self.paragraphs]
        if self._png:
            alt = html.escape(f"Figure: {self.title}")
            out.append(f"<figure><img src='data:image/png;base64,{self._png}' alt='{alt}' "
                       "style='max-width:100%;height:auto'></figure>")
        out += list(self.html_parts)
        for caption, table_html in self.tables:
            if caption:
                out.append(f"<p class='csatkit-caption'><b>{html.escape(caption)}</b></p>")
            out.append(table_html)
        out.append("</section>")
        return "\n".join(out)

    def __str__(self) -> str:
        return "\n".join([self.title, "=" * len(self.title), *self.paragraphs])


def _table_html(df: pd.DataFrame, digits: int = 1) -> str:
    return ("<div class='csatkit-table-wrap'>"
            + df.to_html(index=False, escape=True, na_rep="–", border=0, float_format=lambda v: f"{v:,.{digits}f}")
            + "</div>")


def _fmt(v, d=1) -> str:
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:,.{d}f}"


def _ci(lo, hi, d=1) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "–"
    return f"{lo:.{d}f}–{hi:.{d}f}"


def _people_table(df: pd.DataFrame, keys: list[str], *, label: str, d: int = 1) -> pd.DataFrame:
    """A metric table for people: keys, estimate, interval, n, a note."""
    level = "95%"
    out = df[keys].copy() if keys else pd.DataFrame(index=df.index)
    out.columns = [k.replace("_", " ") for k in keys]
    out[label] = [_fmt(v, d) for v in df["estimate"]]
    out[f"{level} CI"] = [_ci(lo, hi, d) for lo, hi in zip(df["ci_low"], df["ci_high"])]
    out["n"] = [f"{int(v):,}" for v in df["n"]]
    notes = []
    for f in df["flag"].fillna(""):
        words = []
        if "no_responses" in f:
            words.append("no responses")
        if "small_n" in f:
            words.append("small n: read with care, not ranked")
        if "p_is_0_or_1" in f:
            words.append("all or none satisfied")
        notes.append("; ".join(words))
    if any(notes):
        out["note"] = notes
    return out


# --------------------------------------------------------------------------------------------
# context


@dataclass
class ReportContext:
    """What every section of one report needs: the data, the periods and the parameters."""

    responses: pd.DataFrame
    ledger: Ledger
    period: Period
    previous: Period
    scale: Scale
    target: float | None = None
    benchmark: tuple = (70.0, 80.0)
    mask: bool = True
    fy_start: int = 1
    level: float = 0.95
    min_n: int = _metrics.MIN_N
    contacts: pd.DataFrame | None = None
    contacts_ledger: Ledger | None = None
    qa: pd.DataFrame | None = None
    qa_ledger: Ledger | None = None
    data_path: Path | None = None
    params: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict, repr=False)

    def _memo(self, key: tuple, compute):
        """``compute()``, kept in :attr:`cache` for as long as :attr:`responses` is the same frame."""
        hit = self.cache.get(key)
        if hit is None or hit[0] is not self.responses:
            hit = self.cache[key] = (self.responses, compute())
        return hit[1]

    @property
    def current(self) -> pd.DataFrame:
        """Responses of the period reported."""
        return self._memo(("rows", self.period), lambda: filter_period(self.responses, self.period))

    @property
    def prior(self) -> pd.DataFrame:
        """Responses of the period compared with."""
        return self._memo(("rows", self.previous), lambda: filter_period(self.responses, self.previous))

    @property
    def _csat_responses(self) -> pd.DataFrame:
        """Responses to the CSAT question (answered or not), in every period."""
        return self._memo(("csat", self.scale.name), lambda: _on_scale(self.responses, self.scale))

    @property
    def csat_rows(self) -> pd.DataFrame:
        """Responses to the CSAT question in the period (answered or not)."""
        return self._memo(("csat", self.scale.name, self.period), lambda: _on_scale(self.current, self.scale))

    def _compared_rows(self, csat_only: bool, columns: list | None = None) -> pd.DataFrame:
        """Responses of the period and of the one compared with (CSAT question only when ``csat_only``).

        Only ``columns`` (those present; None: all): the others are not copied for the selected rows.
        """
        def both():
            rows = self.responses
            if columns is not None:
                rows = rows[[c for c in dict.fromkeys(columns) if c in rows.columns]]
            parts = [filter_period(rows, self.period), filter_period(rows, self.previous)]
            if csat_only:
                parts = [_on_scale(p, self.scale) for p in parts]
            return pd.concat(parts) if len(parts[1]) else parts[0]
        key = ("compared", csat_only, None if columns is None else tuple(columns), self.scale.name, self.period,
               self.previous)
        return self._memo(key, both)

    @property
    def current_contacts(self) -> pd.DataFrame | None:
        if self.contacts is None:
            return None
        return filter_period(self.contacts, self.period, column="opened_at")


def _on_scale(rows: pd.DataFrame, scale: Scale) -> pd.DataFrame:
    if "scale" in rows.columns:
        rows = rows[rows["scale"].astype(str) == scale.name]
    return rows


def _sibling(data_path: Path, name: str) -> Path | None:
    if data_path.is_dir():
        return None
    for suffix in (data_path.suffix, ".csv", ".parquet"):
        p = data_path.with_name(name + suffix)
        if p.exists() and p != data_path:
            return p
    return None


def prepare(data="", *, period: str, compare_to: str = "", target: float | None = None,
            benchmark_low: float = 70.0, benchmark_high: float = 80.0, scale: str = "likert5", mask: bool = True,
            fy_start: int = 1, contacts: str = "", qa: str = "", level: float = 0.95, params: dict | None = None,
            **read_kwargs) -> ReportContext:
    """Load a report's inputs and settle its periods.

    Parameters
    ----------
    data : str or Path
        Responses file; ``""`` for the demo data set (see :func:`csatkit.report.resolve_data`).
    period, compare_to : str
        The period reported (``2026Q3``, ``FY2027Q1``, ``2026-09``) and the one compared with
        (empty: the period before).
    target, benchmark_low, benchmark_high : float
        CSAT target and the benchmark band, in % satisfied.
    scale : str
        Scale of the CSAT question.
    contacts, qa : str
        Contact-log and QA-evaluation files; empty: ``contacts.*`` / ``qa.*`` beside the data
        file when present (as the demo data set has them), else none.
    read_kwargs
        Passed to :func:`csatkit.read_responses` (e.g. ``preset="zendesk"``).
    """
    from .report import resolve_data

    if target is not None:
        check_range("target", target, 0, 100)
    check_range("benchmark_low", benchmark_low, 0, 100)
    check_range("benchmark_high", benchmark_high, benchmark_low, 100)
    data_path = resolve_data(data)
    sc = get_scale(scale)
    # while pyarrow parses a CSV file (without the GIL), import what draws the figures
    beside = _BESIDE_PARSE.set(_import_figure_modules)
    try:
        responses, ledger = read_responses(data_path, scale=sc, **read_kwargs)
    finally:
        _BESIDE_PARSE.reset(beside)
    if ledger.rows_kept == 0:
        raise InputError(f"No rows of {data_path.name} could be used; the ledger:\n{ledger.summary()}")
    this = parse_period(period, fy_start=fy_start)
    prev = (parse_period(compare_to, fy_start=this.fy_start) if compare_to else this.previous())
    c_path = Path(contacts) if contacts else _sibling(data_path, "contacts")
    q_path = Path(qa) if qa else _sibling(data_path, "qa")
    cdf = cled = qdf = qled = None
    if c_path is not None:
        cdf, cled = read_contacts(c_path)
    if q_path is not None:
        qdf, qled = read_qa(q_path)
    ctx = ReportContext(
        responses=responses, ledger=ledger, period=this, previous=prev, scale=sc, target=target,
        benchmark=(benchmark_low, benchmark_high), mask=mask, fy_start=this.fy_start, level=level,
        contacts=cdf, contacts_ledger=cled, qa=qdf, qa_ledger=qled, data_path=data_path,
        params=dict(params or {}),
    )
    ctx.cache[("sha256", data_path)] = _digest_in_background(data_path)
    return ctx


def _import_figure_modules() -> None:
    from . import plots  # noqa: F401 - matplotlib


def _digest_in_background(path: Path) -> "_Digest":
    """The input's SHA-256 (for the provenance section), hashed on a thread while the sections run.

    Started once the data are read, so that it does not compete with the reader's threads; hashing
    releases the GIL, so it takes the machine's otherwise idle core rather than time from the sections.
    """
    from .report import data_digest

    return _Digest(data_digest, path)


class _Digest:
    """A digest computed on a daemon thread; copied and pickled as its finished value (or error)."""

    def __init__(self, compute, path):
        self._value = self._error = None
        self._thread = threading.Thread(target=self._run, args=(compute, path), name="csatkit-digest", daemon=True)
        self._thread.start()

    def _run(self, compute, path) -> None:
        try:
            self._value = compute(path)
        except Exception as exc:  # noqa: BLE001 - handed to whoever asks for the result
            self._error = exc

    def result(self) -> str:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error.with_traceback(None)
        return self._value

    def __reduce__(self):
        if self._thread is not None:
            self._thread.join()
        return _finished_digest, (self._value, self._error)


def _finished_digest(value, error) -> _Digest:
    """A :class:`_Digest` that is done (what a copy or an unpickled one is)."""
    done = _Digest.__new__(_Digest)
    done._value, done._error, done._thread = value, error, None
    return done


# --------------------------------------------------------------------------------------------
# sections


def title(ctx: ReportContext, *, name: str = "Customer satisfaction report") -> Section:
    """The report's title and a one-line description of what it covers."""
    kind = {"quarter": "Quarterly", "month": "Monthly", "year": "Annual"}[ctx.period.freq]
    lines = [
        f"{kind} report for {ctx.period.label} ({ctx.period.start:%d %b %Y} to "
        f"{(ctx.period.end - pd.Timedelta(days=1)):%d %b %Y}), compared with {ctx.previous.label}.",
    ]
    if ctx.target is not None:
        lines.append(f"Target: {ctx.target:g}% satisfied; benchmark band {ctx.benchmark[0]:g}–{ctx.benchmark[1]:g}% "
                     "(typical levels across industries, a reference line, not a verdict).")
    return Section(f"{name}: {ctx.period.label}", lines, level=1)


def executive_summary(ctx: ReportContext) -> Section:
    """Headline CSAT, NPS, CES and response rate: value, interval, n, change and target distance, in words."""
    summ = _trends.executive_summary(ctx.responses, ctx.period, compare_to=ctx.previous, target=ctx.target,
                                     contacts=ctx.contacts, level=ctx.level, fy_start=ctx.fy_start,
                                     csat_scale=ctx.scale, min_n=ctx.min_n)
    t = summ.table
    names = {"csat": "CSAT (% satisfied)", "nps": "NPS (−100 to 100)", "ces": "CES (mean effort score)",
             "ces_low_effort": "Low effort (%)", "response_rate": "Response rate (%)", "coverage": "Coverage (%)",
             "fcr": "FCR (%)"}
    people = pd.DataFrame({
        "metric": [names.get(m, m) for m in t["metric"]],
        "value": [_fmt(v, 2 if m == "ces" else 1) for v, m in zip(t["estimate"], t["metric"])],
        "95% CI": [_ci(lo, hi, 2 if m == "ces" else 1) for lo, hi, m in zip(t["ci_low"], t["ci_high"], t["metric"])],
        "n": [f"{int(v):,}" if np.isfinite(v) else "–" for v in t["n"].astype(float)],
        f"change vs {summ.previous}": list(t["verdict"]),
    })
    return Section("Executive summary", list(summ.sentences), tables=[("", _table_html(people))],
                   data={"summary": summ, "table": t})


def trend(ctx: ReportContext, *, last: int | None = None) -> Section:
    """CSAT over the last periods with p-chart control limits and the target line."""
    from .plots import plot_trend

    last = last or (12 if ctx.period.freq == "month" else 8)
    chart = _trends.p_chart(ctx.responses, last=last, end=ctx.period, freq=ctx.period.freq, scale=ctx.scale,
                            level=ctx.level, fy_start=ctx.fy_start, min_n=ctx.min_n)
    ax = plot_trend(chart, target=ctx.target)
    key = ctx.period.freq
    out = chart[chart["out_of_control"].fillna(False).astype(bool)]
    paras = [
        f"CSAT per {key} over the last {len(chart)} {key}s. Bars are {int(ctx.level * 100)}% intervals; the grey band "
        "shows 3-sigma control limits around the pooled centre line: a point outside it is a signal worth "
        "investigating, a point inside is ordinary variation.",
    ]
    if len(out):
        paras.append("Outside the control limits: " + ", ".join(
            f"{r[key]} ({r['estimate']:.1f}%)" for _, r in out.iterrows()) + ".")
    else:
        paras.append("No period lies outside the control limits.")
    table = _people_table(chart, [key], label="CSAT %")
    return Section("Trend", paras, figure=ax.figure, tables=[("", _table_html(table))], data={"p_chart": chart})


def channels(ctx: ReportContext) -> Section:
    """CSAT by channel with intervals, the target and the benchmark band."""
    from .plots import plot_estimates

    cur = ctx.csat_rows
    by_channel = _metrics.csat(cur, "channel", scale=ctx.scale, level=ctx.level, min_n=ctx.min_n)
    ax = plot_estimates(by_channel, key="channel", target=ctx.target, benchmark=ctx.benchmark,
                        title=f"CSAT by channel, {ctx.period.label}")
    best = by_channel[~by_channel["flag"].str.contains("small_n|no_responses")].sort_values("estimate")
    paras = []
    if len(best) >= 2:
        paras.append(
            f"Highest: {best['channel'].iloc[-1]} ({best['estimate'].iloc[-1]:.1f}%, n = {best['n'].iloc[-1]:,}); "
            f"lowest: {best['channel'].iloc[0]} ({best['estimate'].iloc[0]:.1f}%, n = {best['n'].iloc[0]:,}). "
            "Whether these differences are real, and whether they come from the contact-reason mix, is in "
            "the channel-gap section."
        )
    small = by_channel[by_channel["flag"].str.contains("small_n")]
    if len(small):
        paras.append("Too few responses to rank: " + ", ".join(small["channel"]) + ".")
    table = _people_table(by_channel.sort_values("estimate", ascending=False), ["channel"], label="CSAT %")
    return Section("CSAT by channel", paras, figure=ax.figure, tables=[("", _table_html(table))],
                   data={"by_channel": by_channel})


def reason_by_channel(ctx: ReportContext) -> Section:
    """A contact reason x channel table of CSAT with n; small cells are shown as insufficient."""
    cur = ctx.csat_rows
    if "contact_reason" not in cur.columns or cur["contact_reason"].isna().all():
        return Section("Contact reason by channel", ["The data has no contact reasons."])
    cur = cur[cur["contact_reason"].notna()]
    cells = _metrics.csat(cur, ["contact_reason", "channel"], scale=ctx.scale, level=ctx.level, min_n=ctx.min_n)
    text = [
        f"{e:.0f} ({lo:.0f}–{hi:.0f}), n = {n:,}" if "small_n" not in f else f"insufficient (n = {n:,})"
        for e, lo, hi, n, f in zip(cells["estimate"], cells["ci_low"], cells["ci_high"], cells["n"], cells["flag"])
    ]
    grid = cells.assign(cell=text).pivot(index="contact_reason", columns="channel", values="cell")
    totals = _metrics.csat(cur, "contact_reason", scale=ctx.scale, level=ctx.level, min_n=ctx.min_n)
    grid["all channels"] = [
        f"{r.estimate:.0f} ({r.ci_low:.0f}–{r.ci_high:.0f}), n = {r.n:,}"
        for r in totals.set_index("contact_reason").loc[grid.index].itertuples()
    ]
    grid = grid.fillna("no responses").reset_index().rename(columns={"contact_reason": "contact reason"})
    grid.columns.name = None
    paras = [
        f"CSAT % (95% interval) and n per contact reason and channel in {ctx.period.label}. Cells with fewer than "
        f"{ctx.min_n} responses are marked insufficient rather than ranked.",
    ]
    return Section("Contact reason by channel", paras, tables=[("", _table_html(grid))], data={"cells": cells})


def service_recovery(ctx: ReportContext, *, max_rows: int = 25) -> Section:
    """Dissatisfied responses with a comment: how many per channel, and the list for call-backs."""
    rows = _trends.service_recovery(ctx.current, scale=ctx.scale, fy_start=ctx.fy_start)
    counts = _trends.recovery_counts(ctx.current, "channel", scale=ctx.scale, fy_start=ctx.fy_start)
    dis = sorted(_trends.dissatisfied_points(ctx.scale))
    paras = [
        f"{len(rows):,} dissatisfied responses (score {dis[0]}–{dis[-1]}) left a comment in {ctx.period.label}: "
        "candidates for a service-recovery call-back.",
        "Comments are shown as customers wrote them, HTML-escaped"
        + (", with e-mail addresses, phone and card numbers masked." if ctx.mask else " (masking turned off)."),
    ]
    people_counts = pd.DataFrame({
        "channel": counts["channel"],
        "dissatisfied": counts["dissatisfied"].map("{:,}".format),
        "of which with a comment": counts["with_comment"].map("{:,}".format),
        "responses": counts["n"].map("{:,}".format),
        "% dissatisfied": counts["dissatisfied_share"].map(lambda v: _fmt(v)),
    })
    cols = [c for c in ["interaction_at", "channel", "contact_reason", "agent_id", "score", "comment"] if c in rows]
    shown = rows[cols].copy()
    if "interaction_at" in shown:
        shown["interaction_at"] = pd.to_datetime(shown["interaction_at"]).dt.strftime("%Y-%m-%d")
    comments = safe_comments_table(shown, mask=ctx.mask, text_columns=["comment"], max_rows=max_rows)
    return Section("Service recovery", paras,
                   tables=[("Per channel", _table_html(people_counts)),
                           (f"Comments (lowest scores first, at most {max_rows})", str(comments))],
                   data={"rows": rows, "counts": counts})


def data_quality(ctx: ReportContext) -> Section:
    """Rows read, kept and excluded by reason, from the loaders' ledgers."""
    from .plots import plot_ledger

    led = ctx.ledger
    paras = [
        f"{led.rows_read:,} rows read from {led.source}; {led.rows_kept:,} kept and {led.rows_excluded:,} excluded "
        f"({100 * led.rows_excluded / max(led.rows_read, 1):.1f}%). Every row read is either kept or excluded for "
        "the reason shown.",
    ]
    if led.unanswered:
        paras.append(f"Of the kept rows, {led.unanswered:,} record a survey sent but not answered; they count "
                     "toward the response rate, not the scores.")
    tables = [("Responses", _table_html(_ledger_table(led)))]
    for name, other in (("Contact log", ctx.contacts_ledger), ("QA evaluations", ctx.qa_ledger)):
        if other is not None:
            tables.append((f"{name}: {other.rows_read:,} read, {other.rows_kept:,} kept",
                           _table_html(_ledger_table(other))))
    fig = None
    if led.rows_excluded:
        fig = plot_ledger(led).figure
    return Section("Data quality", paras, figure=fig, tables=tables, data={"ledger": led})


def _ledger_table(led: Ledger) -> pd.DataFrame:
    f = led.to_frame()
    return pd.DataFrame({
        "outcome": f["outcome"], "reason": f["reason"], "rows": f["rows"].map("{:,}".format),
        "% of rows read": f["share"].map(lambda v: f"{v:.1f}"), "example rows": f["example_rows"],
    })


def methods(ctx: ReportContext) -> Section:
    """Definitions, the scale and its satisfied set, interval methods."""
    sc = ctx.scale
    pct = int(round(ctx.level * 100))
    paras = [
        f"CSAT is the percentage of satisfied responses to the satisfaction question, on the {sc.name} scale "
        f"({sc.description}); satisfied means a score of {sc.satisfied_label()}. Its {pct}% interval is the "
        "Wilson score interval.",
        "NPS is the percentage of promoters (9–10) minus the percentage of detractors (0–6) on the 0–10 "
        f"recommendation question; its {pct}% interval uses the variance (p_promoters + p_detractors − NPS²)/n.",
        "CES is the mean answer to the effort question (higher is easier on the ces7 scale), with a "
        f"Student-t {pct}% interval.",
        "Response rate is answered surveys over surveys sent (Wilson interval). Changes between periods use the "
        "Newcombe interval for a difference of proportions and the score test; 'no significant change' means the "
        "interval for the change includes zero.",
        f"Groups with fewer than {ctx.min_n} responses are flagged and not ranked. Control limits are 3-sigma p-chart "
        "limits around the centre line pooled over the periods shown.",
        "Rows that could not be used (blank lines, scores off the scale, duplicates, unreadable dates, "
        "don't-know codes) are excluded and counted in the data-quality section; none is dropped silently.",
    ]
    if "agent_id" in ctx.csat_rows.columns and ctx.csat_rows["agent_id"].notna().any():
        rows = ctx.csat_rows[ctx.csat_rows["agent_id"].notna()]
        clustered = _metrics.csat(rows, scale=ctx.scale, cluster="agent_id", level=ctx.level).iloc[0]
        if clustered["n"] > 0 and clustered["n_eff"] > 0:
            deff = clustered["n"] / clustered["n_eff"]
            paras.append(
                f"Responses handled by the same agent are correlated: in {ctx.period.label} the design effect of "
                f"agent clustering on CSAT is {deff:.1f}. The headline intervals treat this period's responses as "
                "independent draws given the agents who served them, which is right for 'how satisfied were the "
                "customers we served'; to generalise to agents as a population, as the channel-gap tests do, "
                f"intervals widen by about √{deff:.1f} = {deff ** 0.5:.1f}× (csatkit: cluster=\"agent_id\")."
            )
    return Section("Methods", paras)


def provenance_section(ctx: ReportContext) -> Section:
    """Data source, row counts, input fingerprint, parameters, versions and render time."""
    from .report import provenance

    digest = ctx.cache.get(("sha256", ctx.data_path))
    prov = provenance(ctx.data_path, ctx.params, rows=ctx.ledger.rows_read,
                      sha256=None if digest is None else digest.result())
    return Section("Provenance", [f"Computed with csatkit {__version__}."], html_parts=[prov._repr_html_()],
                   data={"provenance": prov})


def _findings_html(findings) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(str(f))}</li>" for f in findings) + "</ul>"


def _details(summary: str, inner: str) -> str:
    return f"<details><summary>{html.escape(summary)}</summary>{inner}</details>"


def _gap_report(ctx: ReportContext, metric: str, reference_mix: str, cluster: str | None):
    """The period's GapReport, computed once per context and arguments."""
    from . import gaps

    key = ("gaps", metric, reference_mix, cluster)
    if key not in ctx.cache:
        # the gap analysis reads the two periods compared only, and these columns (gaps_section's defaults)
        rows = ctx._compared_rows(csat_only=metric in ("csat", "mean_score"),
                                  columns=["channel", "contact_reason", "score", "scale", "interaction_at",
                                           *([cluster] if cluster else [])])
        if cluster and cluster not in rows.columns:
            cluster = None
        ctx.cache[key] = gaps.gaps_section(
            rows, period=ctx.period.label, compare_to=ctx.previous.label, metric=metric,
            target=ctx.target if metric == "csat" else None,  # the target is a CSAT percentage
            benchmark=ctx.benchmark, reference_mix=reference_mix,
            scale=ctx.scale if metric in ("csat", "mean_score") else None, fy_start=ctx.fy_start, level=ctx.level,
            min_n=ctx.min_n, cluster=cluster)
    return ctx.cache[key]


#: The tables of the gap analysis a report reader needs, with the columns they need: (part, attribute,
#: heading, columns). The findings above them already state the omnibus test, the gaps to the
#: target and benchmark and the consistency range; the reason x channel cells are the section
#: before; every table stays in full in ``section.data["gaps"]`` (and GapReport.details_html()).
_GAP_DETAILS = [
    ("channels", "estimates", "Estimates per channel", None),
    ("channels", "pairwise", "Pairwise gaps (Holm-adjusted p)",
     ["group_a", "group_b", "estimate", "ci_low", "ci_high", "p_adj", "significant", "effect_size", "magnitude",
      "mdd", "flag"]),
    ("mix", "estimates", "Raw, standardised and model-based CSAT", None),
    ("mix", "gaps", "Gaps after adjusting for the contact-reason mix",
     ["group_a", "group_b", "method", "estimate", "ci_low", "ci_high", "p_adj", "significant", "flag"]),
    ("mix", "design_effects", "Design effects of clustering", None),
    ("matrix", "best", "Best channel per contact reason",
     ["contact_reason", "best_group", "top_group", "runner_up", "estimate", "margin", "ci_low", "ci_high", "p_adj",
      "status"]),
    ("matrix", "shifts", "Largest channel-shift opportunities", None),
    ("change", "pairs", "Change of each gap since the comparison period",
     ["group_a", "group_b", "gap_current", "gap_previous", "estimate", "ci_low", "ci_high", "p_adj", "status"]),
]


def _gap_details(report, max_rows: int = 10) -> str:
    """The detailed gap tables for readers: the columns that carry the result, long tables cut to ``max_rows``."""
    from .gaps import _html_table

    out = []
    for part, attr, heading, columns in _GAP_DETAILS:
        obj = getattr(report, part, None)
        df = getattr(obj, attr, None) if obj is not None else None
        if not isinstance(df, pd.DataFrame) or df.empty:
            continue
        if columns is not None:
            df = df[[c for c in columns if c in df.columns]]
        more = len(df) - max_rows if attr == "shifts" and len(df) > max_rows else 0
        out.append(f"<h5>{html.escape(heading)}</h5>")
        out.append(f"<div class='csatkit-table-wrap'>{_html_table(df.head(max_rows) if more else df)}</div>")
        if more:
            out.append(f"<p class='csatkit-note'>The {max_rows} largest of {len(df)}; all are in the notebook "
                       "(<code>section.data['gaps'].matrix.shifts</code>).</p>")
    dec = getattr(report.mix, "decomposition", None) if report.mix is not None else None
    if dec is not None:
        out.append(f"<h5>{html.escape(f'Mix and performance parts of the {dec.a} – {dec.b} gap')}</h5>")
        out.append(f"<div class='csatkit-table-wrap'>{_html_table(dec.totals)}</div>")
    return "\n".join(out)


def channel_gaps(ctx: ReportContext, *, metric: str = "csat", reference_mix: str = "overall",
                 cluster: str | None = "agent_id") -> Section:
    """Channel gaps: significance after correction, effect sizes, and the contact-reason mix separated out."""
    from .plots_gaps import plot_channel_estimates

    report = _gap_report(ctx, metric, reference_mix, cluster)
    part = report.mix if report.mix is not None else report.channels
    cluster = report.channels.table.cluster  # None when the data has no such column
    fig = plot_channel_estimates(part).figure
    intro = [
        f"Is the experience consistent across channels in {ctx.period.label}? Differences are tested after "
        "correcting for the number of comparisons (Holm), sized with effect sizes, and separated into the part "
        "explained by each channel's contact-reason mix and the part due to performance within reasons. "
        "The figure shows each channel raw, standardised to the "
        + ("overall" if reference_mix == "overall" else f"{reference_mix}'s")
        + " reason mix, and adjusted by a logistic model"
        + (f"; every test and interval allows for responses clustered by {cluster.replace('_', ' ')} "
           "(design effects in the detailed tables)." if cluster else "."),
    ]
    parts = [_findings_html(report.findings)]
    if report.messages:
        parts.append("<p><b>Data notes</b></p>" + _findings_html(report.messages))
    parts.append(_details("Detailed tables: estimates, pairwise gaps, mix adjustment, best channel per reason, "
                          "change over time", _gap_details(report)))
    return Section("Channel gaps", intro, figure=fig, html_parts=parts, data={"gaps": report})


def gap_matrix(ctx: ReportContext, *, reference_mix: str = "overall", cluster: str | None = "agent_id") -> Section:
    """CSAT per contact reason x channel as a heatmap, the best channel per reason, and channel-shift estimates."""
    from .plots_gaps import plot_reason_channel_heatmap

    report = _gap_report(ctx, "csat", reference_mix, cluster)
    m = report.matrix
    if m is None:
        return Section("Best channel per contact reason", ["The data has no contact reasons to compare."])
    fig = plot_reason_channel_heatmap(m).figure
    paras = [
        "CSAT per contact reason and channel; grey cells have too few responses to be ranked. A channel is "
        "declared best for a reason only where it beats every other channel after correction for multiple "
        "comparisons; the shift estimates say how overall CSAT would change if a share of a reason's contacts "
        "moved to that channel and were served as well as that channel serves them now.",
    ]
    tables = []
    if m.best is not None and len(m.best):
        tables.append(("Best channel per reason", _table_html(m.best)))
    if m.shifts is not None and len(m.shifts):
        tables.append(("Channel-shift opportunities", _table_html(m.shifts)))
    return Section("Best channel per contact reason", paras, figure=fig, tables=tables, data={"matrix": m})


def gap_decomposition(ctx: ReportContext, *, reference_mix: str = "overall",
                      cluster: str | None = "agent_id") -> Section:
    """The largest raw CSAT gap split into a contact-reason mix part and a performance part (waterfall)."""
    from .plots_gaps import plot_gap_waterfall

    report = _gap_report(ctx, "csat", reference_mix, cluster)
    dec = None if report.mix is None else report.mix.decomposition
    if dec is None:
        return Section("Mix or performance?", ["Fewer than two channels have enough responses to decompose a gap."])
    fig = plot_gap_waterfall(dec).figure
    paras = [
        "The raw gap between two channels, split per contact reason into a mix part (the channels receive "
        "different reasons) and a performance part (they serve the same reason differently). The parts add up "
        "exactly to the raw gap (Kitagawa / Das Gupta decomposition).",
    ]
    tables = [(f"{dec.a} minus {dec.b}, in points", _table_html(dec.totals)),
              ("Per contact reason", _table_html(dec.table))]
    return Section("Mix or performance?", paras, figure=fig, tables=tables, data={"decomposition": dec})


def _drivers_report(ctx: ReportContext, quarters: int, options: dict):
    from . import drivers as _drivers
    from .periods import last_n

    key = ("drivers", quarters, tuple(sorted((k, str(v)) for k, v in options.items())))
    if key in ctx.cache:
        return ctx.cache[key]
    window = last_n(ctx.period, quarters) if quarters > 1 else [ctx.period]
    qa = ctx.qa
    col = next((c for c in ("interaction_at", "evaluated_at") if c in qa.columns), None)
    if col is not None:
        qa = pd.concat([filter_period(qa, p, column=col) for p in window], ignore_index=True)
    report = _drivers.drivers_section(qa, ctx._csat_responses, **options)
    ctx.cache[key] = (window, qa, report)
    return ctx.cache[key]


def drivers(ctx: ReportContext, *, quarters: int = 4, **options) -> Section:
    """What drives CSAT: which QA scorecard items move satisfaction (evaluations of the last ``quarters`` periods).

    ``options`` go to :func:`csatkit.drivers.drivers_section` (``items``, ``item_prefix``, ``outcome``,
    ``controls``, ...).
    """
    if ctx.qa is None:
        return Section("What drives CSAT", ["No QA evaluations were given, so the scorecard cannot be tested."])
    window, qa, report = _drivers_report(ctx, quarters, options)
    span = window[0].label if len(window) == 1 else f"{window[0].label} to {window[-1].label}"
    intro = [
        f"QA evaluations of {span} ({len(qa):,} evaluations, {len(report.join.data):,} matched to a survey "
        "response) are regressed on customer satisfaction: which scorecard items move CSAT, which are noise, "
        "and how much of the explained variation each item carries (Shapley/LMG shares with bootstrap intervals).",
    ]
    return Section("What drives CSAT", intro, html_parts=[report._repr_html_()], data={"drivers": report})


def driver_details(ctx: ReportContext, *, quarters: int = 4, **options) -> list:
    """The scorecard analysis in full, one section per part: join, regression, validity, key drivers."""
    if ctx.qa is None:
        return [Section("Scorecard details", ["No QA evaluations were given."])]
    _, _, report = _drivers_report(ctx, quarters, options)
    parts = [
        ("Matching evaluations to surveys", report.join),
        ("Scorecard regression", report.regression),
        ("Scorecard validity", report.validity),
        ("Relative importance of the items", report.drivers),
    ]
    return _SectionList([Section(t, [], html_parts=[obj._repr_html_()], level=3) for t, obj in parts])


class _SectionList(list):
    """Several sections displayed as one output."""

    def _repr_html_(self) -> str:
        return "\n".join(s._repr_html_() for s in self)
