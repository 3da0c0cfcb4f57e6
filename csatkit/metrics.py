"""Headline metrics from score tables: CSAT, mean score, NPS, CES, response rate, FCR.

Every function takes responses (a DataFrame in the canonical schema) or a :class:`ScoreTable`
and returns a tidy DataFrame with one row per group:

========== ==============================================================================
column     meaning
========== ==============================================================================
<keys>     the group keys given in ``by``
metric     ``csat``, ``nps``, ``mean_score``, ``ces``, ``ces_low_effort``, ``response_rate``, ``coverage``, ``fcr``
estimate   the point estimate: % for shares (0-100), -100..100 for NPS, scale units for means
ci_low     lower bound of the confidence interval (same units)
ci_high    upper bound
se         standard error (same units)
n          responses (or surveys, contacts) in the group
n_eff      effective sample size: n, or Kish's (Σw)²/Σw² with weights, divided by the design effect with clusters
flag       empty, or ``;``-joined warnings: ``small_n`` (n_eff below ``min_n``), ``no_responses``, ``p_is_0_or_1``
========== ==============================================================================

plus metric-specific columns (``satisfied``; ``promoters``/``passives``/``detractors`` in %).

Because the metrics only see counts, the figures computed from a score table equal those
computed from the rows (tested).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validate import as_list, check_choice, check_columns, check_range
from .counts import ScoreTable, _derive_periods, _show, select_scale, tabulate
from .exceptions import InputError, ParameterError
from .intervals import (
    NPS_METHODS,
    PROPORTION_METHODS,
    bootstrap_counts,
    design_effect,
    kish_n_eff,
    mean_ci,
    nps_ci,
    proportion_ci,
)
from .scales import get_scale

__all__ = ["csat", "mean_score", "nps", "ces", "response_rate", "fcr", "headline", "METRICS", "MIN_N"]

#: Groups whose effective n is below this are flagged ``small_n``.
MIN_N = 30
#: Clustered groups with fewer clusters than this are flagged ``few_clusters``: their
#: cluster-robust variance rests on few units and is itself uncertain.
FEW_CLUSTERS = 20

_COLUMNS = ["metric", "estimate", "ci_low", "ci_high", "se", "n", "n_eff"]


def _table(data, by, scale, kind, weight, cluster, fy_start) -> ScoreTable:
    by = as_list(by)
    if isinstance(data, ScoreTable):
        if scale is not None:
            wanted = get_scale(scale)
            if wanted.points != data.scale.points:
                raise ParameterError(
                    f"The score table is on scale {data.scale.name!r}, but scale={wanted.name!r} was passed."
                )
        if cluster is not None and cluster != data.cluster:
            raise ParameterError(f"The score table keeps cluster key {data.cluster!r}, not {cluster!r}; tabulate again.")
        return data.collapse(by)
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"`data` must be a DataFrame or a ScoreTable, but {type(data).__name__} was passed.")
    sc = select_scale(data, scale, kind=kind)
    return tabulate(data, by, scale=sc, weight=weight, cluster=cluster, fy_start=fy_start)


def _group_stats(table: ScoreTable, values: np.ndarray) -> pd.DataFrame:
    """Per group: n, counts per point (effective), estimate, variance, n_eff, deff."""
    by = list(table.by)
    n_w = table.wide("n", keys=by)
    if table.weighted:
        w_w = table.wide("w", keys=by)
        w2_w = table.wide("w2", keys=by)
    else:
        w_w = w2_w = n_w
    n = n_w.to_numpy(dtype=float).sum(axis=1)
    wsum = w_w.to_numpy(dtype=float).sum(axis=1)
    w2sum = w2_w.to_numpy(dtype=float).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = (w_w.to_numpy(dtype=float) @ values) / wsum
        dev2 = (values[None, :] - est[:, None]) ** 2
        var = np.where(n > 1, n / (n - 1) * (w2_w.to_numpy(dtype=float) * dev2).sum(axis=1) / wsum**2, np.nan)
    n_eff = kish_n_eff(wsum, w2sum) if table.weighted else n.copy()
    deff = np.ones_like(n)
    n_clusters = np.full_like(n, np.nan)
    if table.cluster:
        # one table of counts per (group, cluster) x point, split by group below: the clusters of a
        # group come out in the same (sorted) order as a table built for that group alone
        cn_all = table.wide("n", keys=by + [table.cluster])
        if by:
            row_group = n_w.index.get_indexer(cn_all.index.droplevel(table.cluster))
        else:
            row_group = np.zeros(len(cn_all), dtype=np.intp)
        cn_vals = cn_all.to_numpy()
        if table.weighted:
            cw_vals = table.wide("w", keys=by + [table.cluster]).reindex(index=cn_all.index, fill_value=0).to_numpy()
            cw2_vals = table.wide("w2", keys=by + [table.cluster]).reindex(index=cn_all.index, fill_value=0).to_numpy()
        for i in range(len(n_w.index)):
            rows = row_group == i
            if table.weighted:
                d = design_effect(values, cn_vals[rows], cw_vals[rows], cw2_vals[rows])
            else:
                d = design_effect(values, cn_vals[rows])
            deff[i] = d["deff"]
            n_clusters[i] = d["n_clusters"]
            if np.isfinite(d["var"]) and d["deff"] > 1:
                var[i] = d["var"]
            elif np.isfinite(var[i]):
                var[i] = var[i] * d["deff"]
        n_eff = n_eff / deff
    eff_counts = w_w.to_numpy(dtype=float) / np.where(wsum > 0, wsum, 1)[:, None] * n_eff[:, None]
    keys = n_w.index.to_frame(index=False) if by else pd.DataFrame(index=range(len(n)))
    return keys, {
        "n": n, "est": est, "var": var, "n_eff": n_eff, "deff": deff, "n_clusters": n_clusters,
        "counts": n_w.to_numpy(dtype=float), "eff_counts": eff_counts,
    }


def _flags(n, n_eff, min_n, extra=None) -> list[str]:
    out = []
    for i in range(len(n)):
        f = []
        if n[i] == 0:
            f.append("no_responses")
        elif n_eff[i] < min_n:
            f.append("small_n")
        if extra is not None and extra[i]:
            f.append(extra[i])
        out.append(";".join(f))
    return out


def _assemble(keys, metric, est, low, high, se, st, min_n, extra_cols=None, extra_flags=None) -> pd.DataFrame:
    out = keys.reset_index(drop=True).copy()
    out["metric"] = metric
    out["estimate"] = est
    out["ci_low"] = low
    out["ci_high"] = high
    out["se"] = se
    out["n"] = st["n"].astype(np.int64)
    out["n_eff"] = st["n_eff"]
    for name, col in (extra_cols or {}).items():
        out[name] = col
    nc = np.asarray(st.get("n_clusters", np.full(len(st["n"]), np.nan)), dtype=float)
    clustered = np.isfinite(nc) & (st["n"] > 0)
    if clustered.any():
        # one cluster: no clustered variance can be estimated, so no interval is claimed
        single = clustered & (nc < 2)
        out.loc[single, ["ci_low", "ci_high", "se"]] = np.nan
        few = np.where(clustered & (nc < FEW_CLUSTERS), "few_clusters", "")
        extra_flags = few if extra_flags is None else np.array(
            [";".join(x for x in (a, b) if x) for a, b in zip(extra_flags, few)], dtype=object)
    out["flag"] = _flags(st["n"], st["n_eff"], min_n, extra_flags)
    return out


def _check_common(level, min_n, n_boot):
    check_range("level", level, 0, 1, inclusive=False)
    check_range("min_n", min_n, 0, None)
    check_range("n_boot", n_boot, 100, None)


def _bootstrap(st, stat, level, n_boot, seed):
    rng = np.random.default_rng(seed)
    lows, highs = [], []
    for row in st["eff_counts"]:
        lo, hi = bootstrap_counts(row, stat, n_boot=n_boot, level=level, seed=rng)
        lows.append(lo)
        highs.append(hi)
    return np.array(lows), np.array(highs)


def csat(data, by=None, *, scale=None, satisfied=None, level: float = 0.95, method: str = "wilson",
         weight: str | None = None, cluster: str | None = None, min_n: int = MIN_N, n_boot: int = 2000,
         seed=None, fy_start: int = 1) -> pd.DataFrame:
    r"""Percentage of satisfied responses (top box(es)) with a confidence interval.

    .. math:: \mathrm{CSAT} = 100 \cdot \frac{\#\{\text{score} \in S\}}{n}

    where :math:`S` is the scale's satisfied set (4-5 on a 5-point scale, 6-7 on a 7-point scale,
    8-10 on a 1-10 scale, the happy face on a 3-face scale).

    Parameters
    ----------
    data : DataFrame or ScoreTable
        Responses in the canonical schema, or a score table.
    by : str or list of str, optional
        Group keys (``"quarter"``, ``"month"``, ``"year"`` are derived from ``interaction_at``).
    scale : str or Scale, optional
        Defaults to the single satisfaction scale in the data's ``scale`` column.
    satisfied : {"top_box", "top2", "top3"} or iterable of int, optional
        Override the satisfied set.
    level : float
        Confidence level.
    method : {"wilson", "agresti_coull", "jeffreys", "clopper_pearson", "bootstrap"}
        Interval method (the first four as statsmodels' ``proportion_confint`` computes them).
    weight : str, optional
        Column of survey weights; the interval then uses Kish's effective n.
    cluster : str, optional
        Cluster key (e.g. ``"agent_id"``): the interval uses n / design effect.
    min_n : int
        Groups with a smaller effective n are flagged ``small_n``.

    Returns
    -------
    DataFrame
        keys, ``metric`` ("csat"), ``estimate``, ``ci_low``, ``ci_high``, ``se``, ``n``, ``n_eff``,
        ``satisfied`` (count), ``flag``.

    Examples
    --------
    150 satisfied responses of 250 give a CSAT of 60.0:

    >>> import pandas as pd
    >>> df = pd.DataFrame({"score": [5] * 150 + [2] * 100, "scale": "likert5"})
    >>> round(float(csat(df)["estimate"].iloc[0]), 1)
    60.0
    """
    check_choice("method", method, list(PROPORTION_METHODS) + ["bootstrap"])
    _check_common(level, min_n, n_boot)
    table = _table(data, by, scale, "csat", weight, cluster, fy_start)
    sc = table.scale if satisfied is None else table.scale.with_satisfied(satisfied)
    values = sc.is_satisfied(list(sc.points)).astype(float)
    keys, st = _group_stats(table, values)
    p = st["est"]
    sat_count = st["counts"] @ values
    plain = not table.weighted and not table.cluster
    if method == "bootstrap":
        low, high = _bootstrap(st, lambda d: (d @ values) / d.sum(axis=1), level, n_boot, seed)
    elif plain:
        low, high = proportion_ci(sat_count, st["n"], level=level, method=method)
    else:
        low, high = proportion_ci(p * st["n_eff"], st["n_eff"], level=level, method=method)
    se = np.sqrt(st["var"]) if not plain else np.sqrt(p * (1 - p) / np.where(st["n"] > 0, st["n"], np.nan))
    extreme = np.where((st["n"] > 0) & ((sat_count == 0) | (sat_count == st["n"])), "p_is_0_or_1", "")
    return _assemble(keys, "csat", 100 * p, 100 * low, 100 * high, 100 * se, st, min_n,
                     {"satisfied": sat_count.astype(np.int64)}, extreme)


def _mean_metric(data, by, scale, kind, metric, level, method, weight, cluster, min_n, n_boot, seed, fy_start):
    check_choice("method", method, ["t", "bootstrap"])
    _check_common(level, min_n, n_boot)
    table = _table(data, by, scale, kind, weight, cluster, fy_start)
    values = np.array(table.scale.points, dtype=float)
    keys, st = _group_stats(table, values)
    se = np.sqrt(st["var"])  # var is already the variance of the (weighted, clustered) mean
    if method == "bootstrap":
        low, high = _bootstrap(st, lambda d: (d @ values) / d.sum(axis=1), level, n_boot, seed)
    else:
        df = st["n_eff"] - 1
        if table.cluster:  # cluster-robust convention: at most C - 1 degrees of freedom
            df = np.where(np.isfinite(st["n_clusters"]), np.minimum(df, st["n_clusters"] - 1), df)
        low, high = mean_ci(st["est"], se, df, level=level)
    return table, _assemble(keys, metric, st["est"], low, high, se, st, min_n)


def mean_score(data, by=None, *, scale=None, level: float = 0.95, method: str = "t", weight: str | None = None,
               cluster: str | None = None, min_n: int = MIN_N, n_boot: int = 2000, seed=None,
               fy_start: int = 1) -> pd.DataFrame:
    r"""Mean score on the scale's own units with a Student-t interval.

    .. math:: \bar x = \frac{\sum_k n_k x_k}{n}, \qquad
              \bar x \pm t_{n-1,\,1-\alpha/2}\, s/\sqrt{n}

    With weights, the mean is :math:`\sum w x / \sum w`, its variance the linearised
    :math:`\frac{n}{n-1}\sum w_i^2 (x_i - \bar x)^2 / (\sum w)^2` and the t degrees of freedom
    Kish's effective n minus one. Returns the columns described in the module docstring
    (``metric`` = "mean_score").
    """
    return _mean_metric(data, by, scale, "csat", "mean_score", level, method, weight, cluster, min_n, n_boot,
                        seed, fy_start)[1]


def nps(data, by=None, *, scale=None, level: float = 0.95, method: str = "wald", weight: str | None = None,
        cluster: str | None = None, min_n: int = MIN_N, n_boot: int = 2000, seed=None,
        fy_start: int = 1) -> pd.DataFrame:
    r"""Net promoter score: % promoters (9-10) minus % detractors (0-6), from -100 to 100.

    Variance (Wald): :math:`\widehat V(\widehat{NPS}) = (p_+ + p_- - (p_+ - p_-)^2)/n` (on the -1..1 scale).
    ``method="adjusted_wald"`` adds 3/4 to the promoters and to the detractors and 3 to n before
    applying it (Rocks 2016); ``"bootstrap"`` redraws the counts from a multinomial.

    Returns the columns described in the module docstring (``metric`` = "nps") plus
    ``promoters``, ``passives``, ``detractors`` (% of responses).

    Examples
    --------
    50 promoters, 30 passives and 20 detractors of 100 give NPS = 50 - 20 = 30:

    >>> import pandas as pd
    >>> df = pd.DataFrame({"score": [10] * 50 + [7] * 30 + [3] * 20, "scale": "nps"})
    >>> float(nps(df)["estimate"].iloc[0])
    30.0
    """
    check_choice("method", method, list(NPS_METHODS) + ["bootstrap"])
    _check_common(level, min_n, n_boot)
    table = _table(data, by, scale, "nps", weight, cluster, fy_start)
    sc = table.scale
    if not sc.promoters:
        raise ParameterError(
            f"NPS needs the 0-10 recommendation scale ('nps'), but scale {sc.name!r} ({sc.description}) was given."
        )
    pts = np.array(sc.points)
    values = np.where(np.isin(pts, list(sc.promoters)), 1.0, np.where(np.isin(pts, list(sc.detractors)), -1.0, 0.0))
    keys, st = _group_stats(table, values)
    pro_share = st["eff_counts"] @ (values > 0) / np.where(st["n_eff"] > 0, st["n_eff"], np.nan)
    det_share = st["eff_counts"] @ (values < 0) / np.where(st["n_eff"] > 0, st["n_eff"], np.nan)
    if table.weighted or table.cluster:
        pro, det, n = pro_share * st["n_eff"], det_share * st["n_eff"], st["n_eff"]
    else:
        pro, det, n = st["counts"] @ (values > 0), st["counts"] @ (values < 0), st["n"]
    if method == "bootstrap":
        low, high = _bootstrap(st, lambda d: (d @ values) / d.sum(axis=1), level, n_boot, seed)
        _, _, se = nps_ci(pro, det, n, level=level)
    else:
        low, high, se = nps_ci(pro, det, n, level=level, method=method)
    extras = {
        "promoters": 100 * pro_share,
        "passives": 100 * (1 - pro_share - det_share),
        "detractors": 100 * det_share,
    }
    return _assemble(keys, "nps", 100 * st["est"], 100 * low, 100 * high, 100 * se, st, min_n, extras)


def ces(data, by=None, *, scale=None, statistic: str = "mean", easy_end: str | None = None, level: float = 0.95,
        method: str | None = None, weight: str | None = None, cluster: str | None = None, min_n: int = MIN_N,
        n_boot: int = 2000, seed=None, fy_start: int = 1) -> pd.DataFrame:
    """Customer effort score: the mean effort rating, or the % of low-effort (easy) responses.

    Parameters
    ----------
    statistic : {"mean", "low_effort"}
        ``"mean"`` (t interval, ``metric`` = "ces") or the share of the scale's easy-end boxes
        (Wilson interval, ``metric`` = "ces_low_effort").
    easy_end : {"high", "low"}, optional
        Which end of the scale means easy, when it differs from the scale's definition.
    method : str, optional
        ``"t"`` or ``"bootstrap"`` for the mean; a proportion method for the low-effort share.

    Returns the columns described in the module docstring.
    """
    check_choice("statistic", statistic, ["mean", "low_effort"])
    if isinstance(data, pd.DataFrame):
        sc = select_scale(data, scale, kind="ces")
    else:
        sc = data.scale if scale is None else get_scale(scale)
    if sc.kind != "ces":
        raise ParameterError(f"CES needs an effort scale ('ces5', 'ces7'), but scale {sc.name!r} was given.")
    if easy_end is not None:
        sc = sc.with_easy_end(easy_end)
    if statistic == "low_effort":
        out = csat(data, by, scale=sc, satisfied=sorted(sc.satisfied), level=level, method=method or "wilson",
                   weight=weight, cluster=cluster, min_n=min_n, n_boot=n_boot, seed=seed, fy_start=fy_start)
        out["metric"] = "ces_low_effort"
        return out.rename(columns={"satisfied": "low_effort"})
    if isinstance(data, ScoreTable) and easy_end is not None and data.scale.easy_end != sc.easy_end:
        raise ParameterError("Re-orienting a score table's effort scale is not supported; tabulate with the new scale.")
    return _mean_metric(data, by, sc, "ces", "ces", level, method or "t", weight, cluster, min_n, n_boot, seed,
                        fy_start)[1]


def _distinct_count(frame: pd.DataFrame, by: list[str], column: str | None, name: str) -> pd.DataFrame:
    if column and column in frame.columns:
        if by:
            out = frame.groupby(by, observed=True)[column].nunique().rename(name)
        else:
            out = pd.Series([frame[column].nunique()], name=name)
    else:
        out = frame.groupby(by, observed=True).size().rename(name) if by else pd.Series([len(frame)], name=name)
    return out.reset_index() if by else out.to_frame()


def _rate_rows(num: pd.DataFrame, den: pd.DataFrame, by, metric, level, method, min_n) -> pd.DataFrame:
    if by:
        merged = den.merge(num, on=by, how="left")
    else:
        merged = pd.concat([den.reset_index(drop=True), num.reset_index(drop=True)], axis=1)
    merged = merged.fillna({"x": 0})
    x = merged["x"].to_numpy(dtype=float)
    n = merged["d"].to_numpy(dtype=float)
    over = x > n
    if over.any():
        i = int(np.flatnonzero(over)[0])
        where = ", ".join(f"{b}={merged[b].iloc[i]!r}" for b in by) or "overall"
        raise InputError(
            f"{metric}: {int(x[i])} responses but only {int(n[i])} in the denominator ({where}); "
            "check that the responses and the surveys sent / contacts cover the same period and groups."
        )
    low, high = proportion_ci(x, n, level=level, method=method)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / n, np.nan)
        se = np.sqrt(p * (1 - p) / n)
    st = {"n": n, "n_eff": n}
    keys = merged[by] if by else pd.DataFrame(index=range(len(n)))
    return _assemble(keys, metric, 100 * p, 100 * low, 100 * high, 100 * se, st, min_n,
                     {"count": x.astype(np.int64)})


def response_rate(responses: pd.DataFrame, by=None, *, contacts: pd.DataFrame | None = None, sent=None, served=None,
                  level: float = 0.95, method: str = "wilson", min_n: int = MIN_N, fy_start: int = 1) -> pd.DataFrame:
    """Response rate (responses / surveys sent) and coverage (responding customers / customers served).

    A survey counts as answered when any question of it (same ``response_id``) has a score.

    Denominators, in order of precedence:

    * ``sent`` / ``served``: numbers (no ``by``) or DataFrames with the ``by`` keys and a column
      ``sent`` / ``served``;
    * ``contacts``: the contact log: surveys sent = rows with ``survey_sent``; customers served =
      distinct ``customer_id``;
    * otherwise the responses themselves: every distinct ``response_id`` is a survey sent (rows
      without a score record surveys sent but not answered).

    Returns one row per group and metric (``response_rate``; ``coverage`` when customers served
    are known), with ``estimate`` in %, a Wilson (or ``method``) interval, ``n`` = the denominator,
    and ``count`` = the numerator.
    """
    check_choice("method", method, list(PROPORTION_METHODS))
    check_range("level", level, 0, 1, inclusive=False)
    by = as_list(by)
    responses = _derive_periods(responses, by, fy_start)
    check_columns(responses.columns, by + ["score"], where="the responses")
    rid = "response_id" if "response_id" in responses.columns else None
    present = list(responses.columns)
    # only the columns counted: selecting rows of the others would be wasted work
    responses = responses[[c for c in dict.fromkeys(by + ["score", "response_id", "customer_id"]) if c in present]]
    answered = responses[responses["score"].notna()]
    num = _distinct_count(answered, by, rid, "x")
    out = []
    if sent is not None:
        den = _given(sent, by, "sent")
    elif contacts is not None:
        c = _contacts_frame(contacts, by, fy_start)
        check_columns(c.columns, ["survey_sent"], where="the contacts")
        c = c[c["survey_sent"].astype(bool)]
        den = _distinct_count(c, by, None, "d")
    else:
        den = _distinct_count(responses, by, rid, "d")
    out.append(_rate_rows(num, den, by, "response_rate", level, method, min_n))
    den_served = None
    if served is not None:
        den_served = _given(served, by, "served")
    elif contacts is not None:
        c = _contacts_frame(contacts, by, fy_start)
        check_columns(c.columns, ["customer_id"], where="the contacts")
        den_served = _distinct_count(c, by, "customer_id", "d")
    if den_served is not None:
        check_columns(present, ["customer_id"], where="the responses (needed for coverage)")
        num_c = _distinct_count(answered, by, "customer_id", "x")
        out.append(_rate_rows(num_c, den_served, by, "coverage", level, method, min_n))
    return pd.concat(out, ignore_index=True)


def _given(value, by, name) -> pd.DataFrame:
    if isinstance(value, pd.DataFrame):
        check_columns(value.columns, by + [name], where=f"the `{name}` table")
        return value[by + [name]].rename(columns={name: "d"})
    if by:
        raise ParameterError(f"`{name}` must be a DataFrame with columns {by + [name]} when `by` is given.")
    check_range(name, value, 0, None)
    return pd.DataFrame({"d": [float(value)]})


def _contacts_frame(contacts, by, fy_start):
    if not isinstance(contacts, pd.DataFrame):
        raise ParameterError(f"`contacts` must be a DataFrame, but {type(contacts).__name__} was passed.")
    if any(b in ("month", "quarter", "year") and b not in contacts.columns for b in by):
        if "interaction_at" not in contacts.columns and "opened_at" in contacts.columns:
            contacts = contacts.assign(interaction_at=contacts["opened_at"])
    c = _derive_periods(contacts, by, fy_start)
    check_columns(c.columns, by, where="the contacts")
    return c


def fcr(contacts: pd.DataFrame, by=None, *, level: float = 0.95, method: str = "wilson", min_n: int = MIN_N,
        fy_start: int = 1) -> pd.DataFrame:
    """First-contact resolution: % of contacts resolved without a repeat contact.

    Uses the contact log's ``resolved_first_contact`` column when present, else ``not repeat_contact``.
    Returns the columns described in the module docstring (``metric`` = "fcr", ``count`` = resolved).
    """
    check_choice("method", method, list(PROPORTION_METHODS))
    by = as_list(by)
    c = _contacts_frame(contacts, by, fy_start)
    if "resolved_first_contact" in c.columns:
        resolved = _flag_column(c, "resolved_first_contact")
    elif "repeat_contact" in c.columns:
        resolved = ~_flag_column(c, "repeat_contact")
    else:
        check_columns(c.columns, ["resolved_first_contact"], where="the contacts")
    c = c.assign(_res=resolved)
    num = (c[c["_res"]].groupby(by, observed=True).size().rename("x").reset_index() if by
           else pd.DataFrame({"x": [int(c["_res"].sum())]}))
    den = (c.groupby(by, observed=True).size().rename("d").reset_index() if by else pd.DataFrame({"d": [len(c)]}))
    return _rate_rows(num, den, by, "fcr", level, method, min_n)


_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def _flag_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A yes/no column as booleans; missing or unreadable values are an error naming the column."""
    s = frame[column]
    if s.isna().any():
        pos = int(np.flatnonzero(s.isna().to_numpy())[0])
        raise InputError(f"FCR: column {column!r} has missing values (first at index label {_show(frame.index[pos])}); "
                         "drop or fill those contacts first.")
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=bool)
    text = s.astype(str).str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"FCR: column {column!r} holds {s.iloc[pos]!r} (index label {_show(frame.index[pos])}); expected "
                         "true/false, yes/no or 1/0.")
    return text.isin(_TRUE).to_numpy()


METRICS = {"csat": csat, "mean": mean_score, "mean_score": mean_score, "nps": nps, "ces": ces}


def headline(responses: pd.DataFrame, by=None, *, contacts: pd.DataFrame | None = None, level: float = 0.95,
             min_n: int = MIN_N, fy_start: int = 1, csat_scale=None) -> pd.DataFrame:
    """CSAT, NPS, CES and response rate (and FCR when contacts are given) in one tidy table.

    Each metric appears when the data holds a scale of its kind; the table has the columns of the
    module docstring (rows stacked, ``metric`` tells them apart).
    """
    parts = []
    kinds = set()
    if "scale" in responses.columns:
        from .scales import SCALES

        kinds = {SCALES[s].kind for s in pd.unique(responses["scale"].dropna().astype(str)) if s in SCALES}
    elif csat_scale is not None:
        kinds = {"csat"}
    common = dict(level=level, min_n=min_n, fy_start=fy_start)
    if "csat" in kinds:
        parts.append(csat(responses, by, scale=csat_scale, **common))
    if "nps" in kinds:
        parts.append(nps(responses, by, **common))
    if "ces" in kinds:
        parts.append(ces(responses, by, **common))
    rr_src = responses
    if "scale" in responses.columns and "csat" in kinds:
        sc = select_scale(responses, csat_scale, kind="csat")
        rr_src = responses[responses["scale"].astype(str) == sc.name]
    # a response rate needs a denominator: contacts, or rows recording surveys sent but not answered
    if contacts is not None or rr_src["score"].isna().any():
        parts.append(response_rate(rr_src, by, contacts=contacts, **common))
    if contacts is not None and ({"resolved_first_contact", "repeat_contact"} & set(contacts.columns)):
        parts.append(fcr(contacts, by, **common))
    return pd.concat(parts, ignore_index=True)
