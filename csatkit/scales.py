"""Survey scales: their points, labels, satisfied sets and NPS buckets.

A :class:`Scale` knows the points a question can take, the labels and emoji survey tools export
for them, which points count as "satisfied" (top-2-box by default, 8-10 on a 1-10 scale, the
top box on a 3-face scale), and for the 0-10 recommendation question which points are promoters,
passives and detractors. Customer-effort scales also know which end is "easy".

Examples
--------
>>> from csatkit.scales import get_scale
>>> s = get_scale("likert5")
>>> s.to_points(["4 stars", "Very satisfied", 2]).tolist()
[4.0, 5.0, 2.0]
>>> sorted(s.satisfied)
[4, 5]
>>> sorted(get_scale("likert5", satisfied="top_box").satisfied)
[5]
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Iterable

import numpy as np
import pandas as pd

from ._validate import check_choice
from .exceptions import ParameterError, ScaleError

__all__ = ["Scale", "get_scale", "register_scale", "scale_names", "names_for", "SCALES", "normalise_label"]

_VARIATION = re.compile("[\ufe0e\ufe0f\u200d]")
_SPACES = re.compile(r"\s+")


def normalise_label(value) -> str:
    """Lower-case, strip, fold whitespace and emoji variation selectors: the key used for label lookup."""
    text = unicodedata.normalize("NFKC", str(value))
    text = _VARIATION.sub("", text)
    text = text.replace("\u2019", "'").strip().lower()
    return _SPACES.sub(" ", text)


@dataclass(frozen=True)
class Scale:
    """A survey scale.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"likert5"``.
    kind : {"csat", "nps", "ces"}
        What the question measures; decides which metric functions accept it by default.
    points : tuple of int
        The admissible points, in increasing order.
    labels : dict
        Display label of each point.
    satisfied : frozenset of int
        Points counted as satisfied (CSAT) or as low effort (CES).
    aliases : dict
        Normalised text (see :func:`normalise_label`) -> point, for labels and emoji that tools export.
    promoters, detractors : frozenset of int
        For the 0-10 recommendation scale only.
    easy_end : {"high", "low", None}
        For effort scales: which end of the scale means "easy".
    """

    name: str
    kind: str
    points: tuple
    labels: dict
    satisfied: frozenset
    aliases: dict = field(default_factory=dict, repr=False)
    promoters: frozenset = frozenset()
    detractors: frozenset = frozenset()
    easy_end: str | None = None
    description: str = ""

    # -- derived sets ---------------------------------------------------------------------------
    @property
    def passives(self) -> frozenset:
        """Points that are neither promoters nor detractors (0-10 scale only)."""
        if not self.promoters:
            return frozenset()
        return frozenset(self.points) - self.promoters - self.detractors

    @property
    def low(self) -> int:
        return self.points[0]

    @property
    def high(self) -> int:
        return self.points[-1]

    def satisfied_label(self) -> str:
        """A short description of the satisfied set, for methods sections: e.g. "4-5 (top-2-box)"."""
        pts = sorted(self.satisfied)
        span = f"{pts[0]}-{pts[-1]}" if len(pts) > 1 and pts == list(range(pts[0], pts[-1] + 1)) else ", ".join(map(str, pts))
        top = [p for p in self.points[::-1]][: len(pts)]
        bottom = list(self.points[: len(pts)])
        if sorted(top) == pts:
            box = "top box" if len(pts) == 1 else f"top-{len(pts)}-box"
        elif sorted(bottom) == pts:
            box = "bottom box" if len(pts) == 1 else f"bottom-{len(pts)}-box"
        else:
            box = "custom set"
        return f"{span} ({box})"

    # -- variants -------------------------------------------------------------------------------
    def with_satisfied(self, satisfied) -> "Scale":
        """A copy whose satisfied set is ``satisfied``: ``"top_box"``, ``"top2"``, ``"top3"`` or explicit points."""
        if isinstance(satisfied, str):
            check_choice("satisfied", satisfied, ["top_box", "top2", "top3", "default"])
            if satisfied == "default":
                return get_scale(self.name)
            k = {"top_box": 1, "top2": 2, "top3": 3}[satisfied]
            ordered = self.points[::-1] if self.easy_end != "low" else self.points
            pts = frozenset(ordered[:k])
        else:
            pts = frozenset(int(p) for p in satisfied)
            unknown = sorted(pts - set(self.points))
            if unknown:
                raise ParameterError(
                    f"The value for `satisfied` must be points of scale {self.name!r} {list(self.points)}, "
                    f"but {unknown} are not on it."
                )
            if not pts:
                raise ParameterError("The value for `satisfied` must name at least one point, but an empty set was passed.")
        return replace(self, satisfied=pts)

    def with_easy_end(self, easy_end: str) -> "Scale":
        """A copy of an effort scale with the "easy" end at ``"high"`` or ``"low"``; the low-effort set follows."""
        if self.kind != "ces":
            raise ParameterError(f"`easy_end` applies to effort (CES) scales only, but scale {self.name!r} is a {self.kind} scale.")
        check_choice("easy_end", easy_end, ["high", "low"])
        if easy_end == self.easy_end:
            return self
        k = len(self.satisfied)
        pts = self.points[::-1][:k] if easy_end == "high" else self.points[:k]
        labels = {p: self.labels[q] for p, q in zip(self.points, self.points[::-1])}
        aliases = {key: self.high + self.low - p for key, p in self.aliases.items()}
        return replace(self, easy_end=easy_end, satisfied=frozenset(pts), labels=labels, aliases=aliases)

    # -- mapping --------------------------------------------------------------------------------
    def lookup(self, value) -> float | None:
        """The point for one raw value, or None when it cannot be mapped; NaN for a missing value."""
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
            return np.nan
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        if isinstance(value, (int, float, np.integer, np.floating)):
            v = float(value)
            return v if v.is_integer() and int(v) in self.points else None
        key = normalise_label(value)
        if key == "" or key in {"nan", "none", "null", "na", "n/a"}:
            return np.nan
        if key in self.aliases:
            return float(self.aliases[key])
        try:
            v = float(key.replace(",", "."))
        except ValueError:
            pass
        else:
            return v if v.is_integer() and int(v) in self.points else None
        m = _LEADING_NUMBER.match(key)
        if m:
            v = float(m.group(1))
            return v if v.is_integer() and int(v) in self.points else None
        stars = key.count("★")
        if stars and set(key) <= {"★", "☆", " "}:
            return float(stars) if stars in self.points else None
        return None

    def to_points(self, values: Iterable, *, column: str | None = None) -> pd.Series:
        """Map raw values (numbers, labels, emoji) to points; raise :class:`ScaleError` on the first unmapped one.

        Missing values map to NaN. Use :meth:`map_values` to get the unmapped positions instead of an error.
        """
        points, bad = self.map_values(values)
        if bad.any():
            raw = pd.Series(values if not isinstance(values, pd.Series) else values.to_numpy(), dtype=object)
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            where = f" in column {column!r}" if column else ""
            raise ScaleError(
                f"Value {raw.iloc[pos]!r}{where} (position {pos}, counting from 0) is not a point or label of scale {self.name!r}; "
                f"known points {list(self.points)} and labels {self.known_labels()}."
            )
        return points

    def map_values(self, values: Iterable) -> tuple[pd.Series, pd.Series]:
        """Map raw values to points. Returns ``(points, unmapped)``: a float Series and a boolean mask.

        Works on the distinct values only, so it is fast on millions of rows.
        """
        s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            f = s.astype(float)
            ok = f.isin([float(p) for p in self.points]) | f.isna()
            return f.where(ok), ~ok
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        mapped = np.array([self.lookup(u) for u in uniques], dtype=object)
        unmapped_u = np.array([m is None for m in mapped], dtype=bool)
        values_u = np.array([np.nan if m is None else m for m in mapped], dtype=float)
        out = np.full(len(s), np.nan)
        bad = np.zeros(len(s), dtype=bool)
        has = codes >= 0
        out[has] = values_u[codes[has]]
        bad[has] = unmapped_u[codes[has]]
        return pd.Series(out, index=s.index, name=s.name), pd.Series(bad, index=s.index, name=s.name)

    def known_labels(self) -> list[str]:
        """The display labels, one per point, in scale order."""
        return [self.labels[p] for p in self.points]

    def is_satisfied(self, points) -> np.ndarray:
        return np.isin(np.asarray(points, dtype=float), [float(p) for p in self.satisfied])


_LEADING_NUMBER = re.compile(r"^\s*(-?\d+(?:\.0+)?)\s*(?:stars?|/\s*\d+|-|–|:|\(|\)|\.|\s|$)")


def _aliases(labels: dict, extra: dict | None = None) -> dict:
    out = {normalise_label(v): k for k, v in labels.items()}
    for k, v in (extra or {}).items():
        out[normalise_label(k)] = v
    return out


def _numbered(points, words) -> dict:
    return {p: w for p, w in zip(points, words)}


def _star_aliases(points) -> dict:
    out = {}
    for p in points:
        out[f"{p} star" if p == 1 else f"{p} stars"] = p
        out[f"{p} star"] = p
        out["★" * p] = p
        out[f"{p}/{points[-1]}"] = p
    return out


_BINARY = Scale(
    name="binary",
    kind="csat",
    points=(0, 1),
    labels={0: "Bad", 1: "Good"},
    satisfied=frozenset({1}),
    aliases=_aliases(
        {0: "Bad", 1: "Good"},
        {
            "good": 1, "bad": 0, "yes": 1, "no": 0, "y": 1, "n": 0, "true": 1, "false": 0,
            "satisfied": 1, "dissatisfied": 0, "unsatisfied": 0, "not satisfied": 0,
            "neutral or dissatisfied": 0, "neutral/dissatisfied": 0,
            "good, i'm satisfied": 1, "bad, i'm unsatisfied": 0, "bad, i'm not satisfied": 0,
            "positive": 1, "negative": 0, "helpful": 1, "not helpful": 0,
            "👍": 1, "👎": 0, "thumbs up": 1, "thumbs down": 0,
        },
    ),
    description="Binary good/bad (yes/no) rating, e.g. Zendesk satisfaction",
)

_FACES3 = {1: "Unhappy", 2: "Neutral", 3: "Happy"}
_EMOJI3 = Scale(
    name="emoji3",
    kind="csat",
    points=(1, 2, 3),
    labels=_FACES3,
    satisfied=frozenset({3}),
    aliases=_aliases(
        _FACES3,
        {
            "😞": 1, "🙁": 1, "☹": 1, "😠": 1, "😡": 1, "😐": 2, "😶": 2, "😊": 3, "🙂": 3, "😀": 3, "😃": 3, "😄": 3,
            "not good": 1, "sad": 1, "bad": 1, "okay": 2, "ok": 2, "just okay": 2, "awesome": 3, "good": 3,
            "satisfied": 3, "dissatisfied": 1, "great": 3,
        },
    ),
    description="Three faces (unhappy / neutral / happy); satisfied = the happy face",
)

_FACES5 = {1: "Very unhappy", 2: "Unhappy", 3: "Neutral", 4: "Happy", 5: "Very happy"}
_EMOJI5 = Scale(
    name="emoji5",
    kind="csat",
    points=(1, 2, 3, 4, 5),
    labels=_FACES5,
    satisfied=frozenset({4, 5}),
    aliases=_aliases(
        _FACES5,
        {
            "😡": 1, "😠": 1, "😫": 1, "😞": 2, "🙁": 2, "☹": 2, "😐": 3, "😶": 3, "🙂": 4, "😊": 4, "😀": 5, "😃": 5,
            "😄": 5, "😍": 5, "🤩": 5,
            "extremely unhappy": 1, "extremely happy": 5, "not good": 2, "terrible": 1, "bad": 2, "okay": 3,
            "ok": 3, "good": 4, "great": 5, "amazing": 5, "awesome": 5,
        },
    ),
    description="Five faces, very unhappy to very happy (Freshdesk, Intercom)",
)

_LIKERT5_LABELS = {1: "Very dissatisfied", 2: "Dissatisfied", 3: "Neutral", 4: "Satisfied", 5: "Very satisfied"}
_LIKERT5 = Scale(
    name="likert5",
    kind="csat",
    points=(1, 2, 3, 4, 5),
    labels=_LIKERT5_LABELS,
    satisfied=frozenset({4, 5}),
    aliases=_aliases(
        _LIKERT5_LABELS,
        {
            **_star_aliases((1, 2, 3, 4, 5)),
            "very unsatisfied": 1, "unsatisfied": 2, "neither satisfied nor dissatisfied": 3,
            "neither": 3, "somewhat dissatisfied": 2, "somewhat satisfied": 4, "extremely dissatisfied": 1,
            "extremely satisfied": 5, "very poor": 1, "poor": 2, "fair": 3, "average": 3, "good": 4,
            "very good": 5, "excellent": 5,
            "😡": 1, "😞": 2, "🙁": 2, "😐": 3, "🙂": 4, "😊": 4, "😀": 5, "😃": 5, "😄": 5, "😍": 5,
        },
    ),
    description="1-5 stars / five-point Likert (very dissatisfied to very satisfied)",
)

_LIKERT7_LABELS = {
    1: "Extremely dissatisfied", 2: "Very dissatisfied", 3: "Somewhat dissatisfied", 4: "Neutral",
    5: "Somewhat satisfied", 6: "Very satisfied", 7: "Extremely satisfied",
}
_LIKERT7 = Scale(
    name="likert7",
    kind="csat",
    points=tuple(range(1, 8)),
    labels=_LIKERT7_LABELS,
    satisfied=frozenset({6, 7}),
    aliases=_aliases(
        _LIKERT7_LABELS,
        {"dissatisfied": 2, "satisfied": 6, "neither satisfied nor dissatisfied": 4, "completely satisfied": 7,
         "completely dissatisfied": 1, **{f"{p} stars": p for p in range(2, 8)}, "1 star": 1},
    ),
    description="Seven-point Likert; satisfied = 6-7",
)

_SCALE10 = Scale(
    name="scale10",
    kind="csat",
    points=tuple(range(1, 11)),
    labels={p: str(p) for p in range(1, 11)},
    satisfied=frozenset({8, 9, 10}),
    aliases=_aliases({1: "1 - very dissatisfied", 10: "10 - very satisfied"}),
    description="1-10 rating (e.g. post-call IVR); satisfied = 8-10",
)

_NPS = Scale(
    name="nps",
    kind="nps",
    points=tuple(range(0, 11)),
    labels={p: str(p) for p in range(0, 11)},
    satisfied=frozenset({9, 10}),
    aliases=_aliases(
        {0: "0 - not at all likely", 10: "10 - extremely likely"},
        {"not at all likely": 0, "extremely likely": 10},
    ),
    promoters=frozenset({9, 10}),
    detractors=frozenset(range(0, 7)),
    description="0-10 likelihood to recommend: promoters 9-10, passives 7-8, detractors 0-6",
)

_CES5_LABELS = {1: "Very difficult", 2: "Difficult", 3: "Neither easy nor difficult", 4: "Easy", 5: "Very easy"}
_CES5 = Scale(
    name="ces5",
    kind="ces",
    points=(1, 2, 3, 4, 5),
    labels=_CES5_LABELS,
    satisfied=frozenset({4, 5}),
    aliases=_aliases(_CES5_LABELS, {"neutral": 3, "somewhat difficult": 2, "somewhat easy": 4}),
    easy_end="high",
    description="Customer effort 1-5, 5 = very easy; low effort = 4-5",
)

_CES7_LABELS = {
    1: "Extremely difficult", 2: "Very difficult", 3: "Somewhat difficult", 4: "Neither easy nor difficult",
    5: "Somewhat easy", 6: "Very easy", 7: "Extremely easy",
}
_CES7 = Scale(
    name="ces7",
    kind="ces",
    points=tuple(range(1, 8)),
    labels=_CES7_LABELS,
    satisfied=frozenset({6, 7}),
    aliases=_aliases(_CES7_LABELS, {"neutral": 4, "difficult": 2, "easy": 6, "strongly disagree": 1,
                                    "disagree": 2, "somewhat disagree": 3, "somewhat agree": 5, "agree": 6,
                                    "strongly agree": 7}),
    easy_end="high",
    description="Customer effort 1-7, 7 = extremely easy; low effort = 6-7",
)

SCALES: dict[str, Scale] = {}

_ALIASES = {
    "stars": "likert5", "stars5": "likert5", "5pt": "likert5", "likert": "likert5", "csat5": "likert5",
    "good_bad": "binary", "yes_no": "binary", "zendesk": "binary", "faces3": "emoji3", "faces5": "emoji5",
    "1-10": "scale10", "ten": "scale10", "0-10": "nps", "ces": "ces7", "likert_7": "likert7",
}


def register_scale(scale: Scale, *, overwrite: bool = False) -> Scale:
    """Add a scale to the registry so that it can be named in loaders, metrics and the command line."""
    if not isinstance(scale, Scale):
        raise ParameterError(f"The value for `scale` must be a csatkit Scale, but {type(scale).__name__} was passed.")
    if scale.name in SCALES and not overwrite:
        raise ParameterError(f"A scale named {scale.name!r} is already registered; pass overwrite=True to replace it.")
    SCALES[scale.name] = scale
    return scale


for _s in (_BINARY, _EMOJI3, _EMOJI5, _LIKERT5, _LIKERT7, _SCALE10, _NPS, _CES5, _CES7):
    register_scale(_s)


def scale_names() -> list[str]:
    """Names of the registered scales."""
    return list(SCALES)


def names_for(scale) -> set[str]:
    """Every name that denotes ``scale`` in a data set's ``scale`` column: its registry name and aliases."""
    name = get_scale(scale).name
    return {name} | {alias for alias, target in _ALIASES.items() if target == name}


def get_scale(scale, *, satisfied=None, easy_end: str | None = None) -> Scale:
    """Look a scale up by name (or pass a :class:`Scale` through), optionally changing its satisfied set.

    Parameters
    ----------
    scale : str or Scale
        A registered name (see :func:`scale_names`) or a Scale.
    satisfied : {"top_box", "top2", "top3"} or iterable of int, optional
        Override the satisfied (CSAT) / low-effort (CES) set.
    easy_end : {"high", "low"}, optional
        For effort scales, which end means "easy".
    """
    if isinstance(scale, Scale):
        out = scale
    else:
        key = str(scale).strip().lower()
        key = _ALIASES.get(key, key)
        if key not in SCALES:
            known = ", ".join(repr(n) for n in SCALES)
            raise ParameterError(f"The value for `scale` must be one of {{{known}}}, but {scale!r} was passed.")
        out = SCALES[key]
    if easy_end is not None:
        out = out.with_easy_end(easy_end)
    if satisfied is not None:
        out = out.with_satisfied(satisfied)
    return out
