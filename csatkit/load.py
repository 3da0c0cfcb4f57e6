"""Loaders: survey responses, QA evaluations and contact logs into csatkit's canonical schemas.

Every loader reads a file (CSV/TXT/TSV, Excel, Parquet file or directory, SPSS ``.sav``) or a
DataFrame, maps its columns onto the canonical names of :mod:`csatkit.schema`, cleans the values,
and returns a :class:`~csatkit.schema.Loaded` pair ``(data, ledger)``. The ledger accounts for
every data row read: ``rows_read == rows_kept + rows_excluded``, each excluded row carrying exactly
one reason (the first that applies, in the order listed in each loader's docstring) and a few
example row numbers.

Row numbers are 1-based *data rows*: row 1 is the first row below the header (and below the extra
header rows of a Qualtrics export). Blank and separator-only lines of a text file are read as rows
(so that row numbers match the lines of a file without multi-line quoted fields) and excluded as
``blank_row``; blank lines *before* the header are skipped and noted.

Presets (:data:`PRESETS`, for :func:`read_responses`)
-----------------------------------------------------
generic
    Canonical names plus common synonyms, matched ignoring case and punctuation: Ticket ID ->
    interaction_id; Rating / CSAT / Satisfaction -> score; Channel / Via / Source -> channel;
    Created at / Date -> interaction_at; Comment / Feedback -> comment; Agent / Assignee -> agent_id;
    Group / Queue -> team. Scale ``likert5`` when every score is a number from 1 to 5, else pass ``scale=``.
zendesk
    Satisfaction rating export (Ticket ID, Satisfaction Rating, Satisfaction Comment, Via, Assignee,
    Group, Created at). good/bad on the ``binary`` scale; ``offered`` = survey sent, not answered
    (non-response); ``unoffered`` = not surveyed (excluded as ``not_surveyed``). One rating per ticket:
    the ticket id is the response id.
freshdesk
    Satisfaction survey export (Ticket Id, Rating, Agent, Group, Source, Created Time, Feedback) with
    labelled faces: Extremely Happy ... Extremely Unhappy -> ``emoji5``; Awesome / Just Okay / Not Good
    (or Happy / Neutral / Unhappy) -> ``emoji3``, chosen from the labels present and noted.
qualtrics
    CSV or Excel export with two extra header rows (question text, ImportId JSON), which are skipped and
    noted; ResponseId -> response_id, RecordedDate -> responded_at; name the question column with
    ``columns={"Q1": "score"}``; embedded data (ticket id, channel, agent) through the generic synonyms.

Examples
--------
>>> import pandas as pd
>>> from csatkit.load import read_responses
>>> raw = pd.DataFrame({"Ticket ID": ["T1", "T2", "T3"], "Rating": [5, 9, None], "Via": ["E-mail", "Voice", "chat"]})
>>> responses, ledger = read_responses(raw, scale="likert5")
>>> responses[["interaction_id", "channel", "score"]].to_dict("list")
{'interaction_id': ['T1', 'T3'], 'channel': ['email', 'chat'], 'score': [5.0, nan]}
>>> ledger.rows_read, ledger.rows_kept, ledger.excluded, ledger.unanswered
(3, 2, {'score_out_of_range': 1}, 1)
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import datetime as _dt
import io
import math
import os
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from ._validate import check_choice, check_columns, nearest
from .exceptions import DataFileError, InputError, MissingColumnError, ParameterError
from .scales import Scale, get_scale, normalise_label, scale_names
from .schema import (
    CONTACT_COLUMNS,
    EXCLUSION_REASONS,
    ITEM_PREFIX,
    QA_COLUMNS,
    RESPONSE_COLUMNS,
    STRING_DTYPE,
    Ledger,
    Loaded,
)

__all__ = [
    "read_responses",
    "read_qa",
    "read_contacts",
    "normalise_channel",
    "CHANNELS",
    "CHANNEL_ALIASES",
    "Preset",
    "PRESETS",
    "SUPPORTED_SUFFIXES",
]

# ------------------------------------------------------------------------------------------------
# Text helpers
# ------------------------------------------------------------------------------------------------

_NON_WORD = re.compile(r"[\W_]+")


def _compact(text) -> str:
    """Lower-case letters and digits only: ``'Ticket ID'`` -> ``'ticketid'``, ``'E-mail'`` -> ``'email'``."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", str(text)).lower())


def _snake(text) -> str:
    """Lower-case words joined by underscores: ``'Greeting & ID check'`` -> ``'greeting_id_check'``."""
    return _NON_WORD.sub("_", unicodedata.normalize("NFKC", str(text)).lower()).strip("_")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _is_missing_scalar(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)):
        return bool(np.isnan(v))
    return False


def _scalar_text(v) -> str | None:
    """One cell as text: integral floats lose their ``.0``, datetimes are ISO, missing is None."""
    if _is_missing_scalar(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if isinstance(v, (pd.Timestamp, _dt.datetime)):
        return v.isoformat(sep=" ")
    return str(v)


_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d{1,2}")


def _scalar_number(v) -> float | None:
    """A cell as a number (``'4'``, ``' 4.0 '``, ``'4,5'``, ``4``, ``True``), or None when it is not one."""
    if _is_missing_scalar(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if isinstance(v, str):
        t = v.strip()
        if _DECIMAL_COMMA.fullmatch(t):
            t = t.replace(",", ".")
        try:
            f = float(t)
        except ValueError:
            return None
        return None if math.isnan(f) else f
    return None


def _as_text(s: pd.Series, *, blank_free: bool = False) -> pd.Series:
    """Any column as stripped text (:data:`~csatkit.schema.STRING_DTYPE`), empty strings as missing.

    ``blank_free``: no value of ``s`` is an empty string, so that only stripping can make one.
    """
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        s = s.astype(object)
        dt = s.dtype
    if isinstance(dt, pd.StringDtype):
        t = s.astype(STRING_DTYPE)
    elif pd.api.types.is_bool_dtype(dt) or pd.api.types.is_integer_dtype(dt):
        t = s.astype(STRING_DTYPE)
    elif pd.api.types.is_float_dtype(dt):
        # numbers repeat (scores, weights): write each distinct value once and look the rows up
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        u = pd.Series(uniques)
        v = u.to_numpy(dtype=float, na_value=np.nan)  # the distinct values, missing ones left out
        integral = np.all(np.isfinite(v)) and np.all(np.mod(v, 1) == 0) and np.all(np.abs(v) < 1e15)
        if integral or not (v == 0).any() or not _both_zeros(s):  # factorize takes -0.0 for 0.0
            ut = _blank_as_missing((u.astype("Int64") if integral else u).astype(STRING_DTYPE).str.strip())
            return pd.Series(ut.array.take(codes, allow_fill=True), index=s.index, name=s.name)
        t = s.astype(STRING_DTYPE)
    else:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        texts = np.array([_scalar_text(u) for u in uniques] + [None], dtype=object)
        t = pd.Series(pd.array(texts[codes], dtype=STRING_DTYPE), index=s.index, name=s.name)
    stripped = _strip(t)
    if blank_free and stripped is t:  # the text of ``s`` unstripped: no empty string to look for
        return t
    return _blank_as_missing(stripped)


def _strip(t: pd.Series) -> pd.Series:
    """``t.str.strip()``; ``t`` itself when nothing was stripped, so that no second copy of the text stays."""
    if not _may_have_padding(t):
        return t
    stripped = t.str.strip()
    return t if (stripped.eq(t) | t.isna()).all() else stripped


def _whitespace_bytes() -> tuple[np.ndarray, np.ndarray]:
    """Which bytes start, and which end, the UTF-8 encoding of a whitespace character (256 flags each).

    Whitespace as ``str.strip`` (and pyarrow's ``utf8_trim_whitespace``, which agrees) knows it:
    ``str.isspace``, whose last character is U+3000.
    """
    first = np.zeros(256, dtype=bool)
    last = np.zeros(256, dtype=bool)
    for cp in range(0x3001):
        c = chr(cp)
        if c.isspace():
            b = c.encode("utf-8")
            first[b[0]] = last[b[-1]] = True
    return first, last


_WS_FIRST_BYTE, _WS_LAST_BYTE = _whitespace_bytes()


def _may_have_padding(t: pd.Series) -> bool:
    """False when no value of ``t`` (string dtype) starts or ends with whitespace; True when some may.

    For pyarrow-backed strings only the first and the last byte of each value are read, from the
    Arrow buffers: a value whose first byte starts no whitespace character and whose last byte ends
    none has nothing to strip. A False is certain; a True (also for any other storage) only means
    that the caller strips and compares.
    """
    if getattr(t.dtype, "storage", None) != "pyarrow":
        return True
    import pyarrow.types as pa_types

    for chunk in t.array.__arrow_array__().chunks:
        if pa_types.is_string(chunk.type):
            width = np.int32
        elif pa_types.is_large_string(chunk.type):
            width = np.int64
        else:
            return True
        _, offsets, data = chunk.buffers()
        if len(chunk) == 0 or data is None:  # no value has a byte
            continue
        off = np.frombuffer(offsets, dtype=width, count=chunk.offset + len(chunk) + 1)[chunk.offset:]
        size = int(off[-1])
        if size == 0:
            continue
        raw = np.frombuffer(data, dtype=np.uint8, count=size)
        # Every position of every value is read, without picking the values that have bytes: the
        # start of an empty (or missing) value is that of the next value with bytes, and its end that
        # of the value before; beyond the buffer, the position is clipped to its last (or first) byte.
        # Such a byte is one of a value's own first or last bytes, where a first byte cannot be flagged
        # as a last one nor a last byte as a first one unless it is ASCII whitespace, which pads its
        # value anyway. (In a sliced array the byte may belong to a value outside the slice: at worst
        # a True the caller's comparison corrects.)
        if _has_flagged(raw.take(off[:-1], mode="clip"), _WS_FIRST_BYTE):
            return True
        if _has_flagged(raw.take(off[1:] - 1, mode="clip"), _WS_LAST_BYTE):
            return True
    return False


def _has_flagged(values: np.ndarray, flags: np.ndarray) -> bool:
    """Whether some byte of ``values`` is flagged in the 256-entry table ``flags``."""
    if len(values) == 0:
        return False
    lo, hi = int(values.min()), int(values.max())
    if not flags[lo:hi + 1].any():  # no flagged byte within the range (the rule for plain ASCII text)
        return False
    return bool(flags.take(values).any())


def _blank_as_missing(t: pd.Series) -> pd.Series:
    """``t`` with its empty strings as missing values (``t`` itself when it has none)."""
    if getattr(t.dtype, "storage", None) == "pyarrow":  # the same in pyarrow, without Series.mask
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = t.array.__arrow_array__()
        empty = pc.equal(arr, "")
        if not pc.any(empty).as_py():  # None: every value missing
            return t
        out = pc.if_else(empty, pa.scalar(None, type=arr.type), arr)
        return pd.Series(pd.array(out, dtype=t.dtype), index=t.index, name=t.name)
    empty = t.eq("")
    return t.mask(empty) if empty.any() else t


def _both_zeros(s: pd.Series) -> bool:
    """Whether a float column holds both 0.0 and -0.0 (written "0.0" and "-0.0")."""
    v = s.to_numpy(dtype=float, na_value=np.nan)
    neg = np.signbit(v[v == 0])
    return bool(neg.any() and not neg.all())


_MISSING_TOKENS = frozenset({"", "nan", "none", "null", "na", "n/a", "#n/a"})


# ------------------------------------------------------------------------------------------------
# Channels
# ------------------------------------------------------------------------------------------------

#: The canonical channel names.
CHANNELS = ("phone", "email", "chat", "social", "in_app", "sms")

#: Channel spellings -> canonical channel. Keys are matched ignoring case, spaces and punctuation
#: (``"E-mail"``, ``"e mail"`` and ``"EMAIL"`` all match ``"email"``). Extend it in place, or pass
#: ``channel_aliases=`` to a loader for one call.
CHANNEL_ALIASES: dict[str, str] = {
    # phone
    "phone": "phone", "telephone": "phone", "tel": "phone", "telephony": "phone", "voice": "phone",
    "call": "phone", "calls": "phone", "phone call": "phone", "phone call (inbound)": "phone",
    "phone call (outbound)": "phone", "inbound call": "phone", "outbound call": "phone", "ivr": "phone",
    "voicemail": "phone", "voice mail": "phone", "callback": "phone", "call back": "phone",
    # email
    "email": "email", "e-mail": "email", "mail": "email", "inbound email": "email",
    "outbound email": "email", "email ticket": "email",
    # chat
    "chat": "chat", "live chat": "chat", "webchat": "chat", "web chat": "chat", "online chat": "chat",
    "chat widget": "chat", "web widget": "chat", "chatbot": "chat", "chat bot": "chat",
    # social
    "social": "social", "social media": "social", "twitter": "social", "x": "social", "x (twitter)": "social",
    "facebook": "social", "instagram": "social", "linkedin": "social", "tiktok": "social",
    "twitter dm": "social", "instagram dm": "social", "facebook post": "social",
    # in-app and messaging apps
    "in_app": "in_app", "in-app": "in_app", "app": "in_app", "mobile app": "in_app", "mobile sdk": "in_app",
    "messaging": "in_app", "native messaging": "in_app", "whatsapp": "in_app", "messenger": "in_app",
    "facebook messenger": "in_app", "telegram": "in_app", "viber": "in_app", "wechat": "in_app",
    "mobihelp": "in_app",
    # sms
    "sms": "sms", "text": "sms", "text message": "sms", "texting": "sms", "txt": "sms", "mms": "sms",
}


def _channel_table(aliases: Mapping | None) -> dict[str, str]:
    table = {_compact(k): _snake(v) for k, v in CHANNEL_ALIASES.items()}
    if aliases is not None:
        if not isinstance(aliases, Mapping):
            raise ParameterError(
                "The value for `channel_aliases` must be a dict mapping a spelling to a channel, "
                f"e.g. {{'web form': 'email'}}, but {type(aliases).__name__} was passed."
            )
        table.update({_compact(k): _snake(v) for k, v in aliases.items()})
    return table


def _normalise_channel(values: pd.Series, aliases: Mapping | None) -> tuple[pd.Series, list[str]]:
    # spaces around a name do not matter (the keys ignore them), so text needs no stripping
    text = values if isinstance(values.dtype, pd.StringDtype) else _as_text(values)
    table = _channel_table(aliases)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    out_u: list = []
    unknown: list[str] = []
    for u in uniques:
        key = _compact(u)
        if not key:
            out_u.append(None)
        elif key in table:
            out_u.append(table[key])
        else:
            name = _snake(u)
            out_u.append(name)
            unknown.append(name)
    if text.dtype == STRING_DTYPE and all(a == b for a, b in zip(out_u, uniques)):
        # every spelling is already its canonical name: the text itself, without a second copy
        return pd.Series(text.array, index=values.index, name=values.name), sorted(set(unknown))
    mapped = pd.array(out_u, dtype=STRING_DTYPE).take(codes, allow_fill=True)
    return pd.Series(mapped, index=values.index, name=values.name), sorted(set(unknown))


def normalise_channel(values, aliases: Mapping | None = None) -> pd.Series:
    """Map channel spellings onto the canonical channel names.

    Case, spacing and punctuation are ignored (``"E-mail"``, ``"email"``, ``"EMAIL"`` -> ``email``);
    aliases map voice/call/IVR to ``phone``, live chat/web chat to ``chat``, Twitter/X/Facebook/Instagram
    to ``social``, in-app and messaging apps (WhatsApp, Messenger, Telegram) to ``in_app``, text messages
    to ``sms``. A spelling that no alias knows is kept as lower-case text with underscores
    (``"Web Form"`` -> ``"web_form"``); missing values stay missing.

    Parameters
    ----------
    values : array-like or Series
        Channel names as exported.
    aliases : dict, optional
        Extra spelling -> channel pairs for this call, on top of :data:`CHANNEL_ALIASES`
        (they win over it). Targets need not be canonical channels.

    Returns
    -------
    Series
        The channel names, string dtype, same index as ``values`` when it is a Series.

    Examples
    --------
    >>> normalise_channel(["E-mail", "Live Chat", "voice", "WhatsApp", "Portal"]).tolist()
    ['email', 'chat', 'phone', 'in_app', 'portal']
    >>> normalise_channel(["Portal"], aliases={"portal": "email"}).tolist()
    ['email']
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return _normalise_channel(s, aliases)[0]


# ------------------------------------------------------------------------------------------------
# Presets
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    """How the export of one tool maps onto the canonical response schema.

    Parameters
    ----------
    name : str
        Key in :data:`PRESETS`.
    columns : dict
        Source header -> canonical column. Headers are matched ignoring case, spaces and punctuation;
        when several headers map to one canonical column, the first listed that is present wins.
    default_scale : str, optional
        Scale used when neither ``scale=`` nor a ``scale`` column is given.
    scale_from_labels : callable, optional
        ``f(labels) -> scale name or None``, choosing the scale from the distinct text values of the score
        column when neither ``scale=`` nor a ``scale`` column is given (tried before ``default_scale``).
    header_rows_to_skip : int
        Rows below the header that are not data (question text, import ids). With ``detect_header_rows``
        only leading rows that look like header rows are skipped, up to this number.
    detect_header_rows : bool
        See ``header_rows_to_skip``.
    nonresponse_labels : tuple of str
        Score values meaning "survey sent, not answered" (kept with a missing score).
    not_surveyed_labels : tuple of str
        Score values meaning "no survey was offered" (excluded as ``not_surveyed``).
    response_id_from : str, optional
        Canonical column to use as ``response_id`` when the export has none (one rating per ticket).
    generic : bool
        Whether the synonyms of the ``generic`` preset are tried after ``columns``.
    description : str
        One line shown in documentation.
    """

    name: str
    columns: Mapping[str, str] = field(default_factory=dict)
    default_scale: str | None = None
    scale_from_labels: Callable | None = field(default=None, repr=False)
    header_rows_to_skip: int = 0
    detect_header_rows: bool = False
    nonresponse_labels: tuple = ()
    not_surveyed_labels: tuple = ()
    response_id_from: str | None = None
    generic: bool = True
    description: str = ""

    def synonyms(self) -> list[tuple[str, str]]:
        """(compact header, canonical column) pairs in priority order."""
        pairs = [(_compact(k), v) for k, v in self.columns.items()]
        if self.generic and self.name != "generic":
            pairs += [(_compact(k), v) for k, v in _GENERIC_RESPONSE_COLUMNS.items()]
        return pairs


_GENERIC_RESPONSE_COLUMNS = {
    "response id": "response_id", "survey response id": "response_id", "rating id": "response_id",
    "feedback id": "response_id", "answer id": "response_id",
    "ticket id": "interaction_id", "ticket": "interaction_id", "ticket number": "interaction_id",
    "case id": "interaction_id", "case number": "interaction_id", "conversation id": "interaction_id",
    "call id": "interaction_id", "chat id": "interaction_id", "interaction": "interaction_id",
    "customer": "customer_id", "customer id": "customer_id", "requester id": "customer_id",
    "requester": "customer_id", "client id": "customer_id", "user id": "customer_id", "account id": "customer_id",
    "channel": "channel", "via": "channel", "source": "channel", "medium": "channel",
    "contact channel": "channel", "ticket channel": "channel",
    "contact reason": "contact_reason", "reason": "contact_reason", "reason for contact": "contact_reason",
    "category": "contact_reason", "topic": "contact_reason", "issue type": "contact_reason",
    "ticket type": "contact_reason", "disposition": "contact_reason",
    "agent": "agent_id", "agent name": "agent_id", "assignee": "agent_id", "assignee id": "agent_id",
    "assignee name": "agent_id", "owner": "agent_id", "advisor": "agent_id", "rep": "agent_id",
    "team": "team", "group": "team", "group name": "team", "queue": "team", "department": "team",
    "created at": "interaction_at", "created": "interaction_at", "created time": "interaction_at",
    "interaction date": "interaction_at", "contact date": "interaction_at", "call date": "interaction_at",
    "ticket created": "interaction_at", "date": "interaction_at",
    "responded at": "responded_at", "response date": "responded_at", "rated at": "responded_at",
    "rating date": "responded_at", "survey date": "responded_at", "submitted at": "responded_at",
    "completed at": "responded_at", "recorded date": "responded_at",
    "rating": "score", "csat": "score", "csat score": "score", "satisfaction": "score",
    "satisfaction rating": "score", "satisfaction score": "score", "nps": "score", "ces": "score",
    "rating value": "score",
    "scale name": "scale",
    "comments": "comment", "feedback": "comment", "verbatim": "comment", "satisfaction comment": "comment",
    "remarks": "comment", "free text": "comment",
    "survey weight": "weight", "wt": "weight",
}


def _freshdesk_scale(labels: Iterable[str]) -> str | None:
    keys = {normalise_label(v) for v in labels}
    if not keys:
        return None
    if keys & {"extremely happy", "extremely unhappy", "very happy", "very unhappy"}:
        return "emoji5"
    if keys <= {"awesome", "just okay", "not good", "happy", "neutral", "unhappy"}:
        return "emoji3"
    return None


#: Column maps and value conventions of common exports, by name (see the module docstring). Add a
#: :class:`Preset` here, or pass one as ``preset=``, for another tool.
PRESETS: dict[str, Preset] = {
    "generic": Preset(
        name="generic",
        columns=_GENERIC_RESPONSE_COLUMNS,
        description=(
            "Canonical names plus common synonyms (Ticket ID, Rating/CSAT/Satisfaction, Channel/Via, "
            "Created at/Date, Comment/Feedback, Agent/Assignee, Group); scale likert5 when every score "
            "is a number from 1 to 5, otherwise pass scale="
        ),
    ),
    "zendesk": Preset(
        name="zendesk",
        columns={
            "satisfaction rating id": "response_id",
            "ticket id": "interaction_id",
            "satisfaction rating": "score", "ticket satisfaction rating": "score", "rating": "score",
            "score": "score",
            "satisfaction comment": "comment", "ticket satisfaction comment": "comment",
            "requester id": "customer_id", "requester": "customer_id",
            "assignee": "agent_id", "assignee name": "agent_id", "assignee id": "agent_id",
            "group": "team", "group name": "team",
            "via": "channel", "ticket channel": "channel", "channel": "channel",
            "created at": "interaction_at", "ticket created": "interaction_at", "ticket created date": "interaction_at",
            "satisfaction rating updated at": "responded_at", "rated at": "responded_at", "updated at": "responded_at",
        },
        default_scale="binary",
        nonresponse_labels=("offered",),
        not_surveyed_labels=("unoffered",),
        response_id_from="interaction_id",
        description=(
            "Zendesk satisfaction ratings: good/bad on the binary scale; 'offered' = survey sent, not "
            "answered (non-response); 'unoffered' = not surveyed (excluded as not_surveyed); one rating "
            "per ticket, so the ticket id is the response id"
        ),
    ),
    "freshdesk": Preset(
        name="freshdesk",
        columns={
            "survey result id": "response_id",
            "ticket id": "interaction_id",
            "rating": "score", "survey rating": "score", "satisfaction rating": "score", "csat rating": "score",
            "agent": "agent_id", "agent name": "agent_id", "responder": "agent_id",
            "group": "team", "group name": "team",
            "source": "channel",
            "created time": "interaction_at", "ticket created time": "interaction_at",
            "survey response time": "responded_at", "rated time": "responded_at", "responded time": "responded_at",
            "feedback": "comment", "comments": "comment", "customer feedback": "comment",
            "contact": "customer_id", "contact id": "customer_id", "requester": "customer_id",
            "type": "contact_reason", "category": "contact_reason",
        },
        scale_from_labels=_freshdesk_scale,
        response_id_from="interaction_id",
        description=(
            "Freshdesk satisfaction survey: labelled faces, 5-point (Extremely Happy ... Extremely Unhappy -> "
            "emoji5) or 3-point (Awesome / Just Okay / Not Good, or Happy / Neutral / Unhappy -> emoji3), "
            "chosen from the labels present; Source is the channel"
        ),
    ),
    "qualtrics": Preset(
        name="qualtrics",
        columns={
            "responseid": "response_id", "response id": "response_id",
            "recordeddate": "responded_at", "recorded date": "responded_at",
        },
        header_rows_to_skip=2,
        detect_header_rows=True,
        description=(
            "Qualtrics CSV/Excel export: the two rows under the header (question text, ImportId JSON) are "
            "skipped; ResponseId and RecordedDate are mapped, the question column is named with "
            "columns={'Q1': 'score'}; embedded data (ticket id, channel, agent) by the generic synonyms"
        ),
    ),
}


def _get_preset(preset) -> Preset:
    if isinstance(preset, Preset):
        return preset
    check_choice("preset", preset, list(PRESETS))
    return PRESETS[preset]


_QA_SYNONYMS = {
    "evaluation id": "evaluation_id", "evaluation": "evaluation_id", "review id": "evaluation_id",
    "qa id": "evaluation_id", "scorecard id": "evaluation_id", "audit id": "evaluation_id",
    "ticket id": "interaction_id", "ticket": "interaction_id", "case id": "interaction_id",
    "conversation id": "interaction_id", "call id": "interaction_id", "chat id": "interaction_id",
    "agent": "agent_id", "agent name": "agent_id", "reviewee": "agent_id", "assignee": "agent_id",
    "team": "team", "group": "team", "queue": "team",
    "evaluator": "evaluator_id", "evaluator name": "evaluator_id", "reviewer": "evaluator_id",
    "reviewer id": "evaluator_id", "grader": "evaluator_id", "auditor": "evaluator_id", "qa analyst": "evaluator_id",
    "evaluated at": "evaluated_at", "evaluation date": "evaluated_at", "review date": "evaluated_at",
    "reviewed at": "evaluated_at", "date": "evaluated_at", "created at": "evaluated_at",
    "channel": "channel", "via": "channel", "source": "channel",
    "contact reason": "contact_reason", "reason": "contact_reason", "category": "contact_reason",
    "qa score": "qa_score", "score": "qa_score", "total": "qa_score", "total score": "qa_score",
    "overall score": "qa_score", "quality score": "qa_score", "review score": "qa_score",
}

_CONTACT_SYNONYMS = {
    "ticket id": "interaction_id", "ticket": "interaction_id", "case id": "interaction_id",
    "conversation id": "interaction_id", "call id": "interaction_id", "chat id": "interaction_id",
    "contact id": "interaction_id", "id": "interaction_id",
    "customer": "customer_id", "requester id": "customer_id", "requester": "customer_id",
    "client id": "customer_id", "user id": "customer_id", "account id": "customer_id",
    "channel": "channel", "via": "channel", "source": "channel", "medium": "channel",
    "contact reason": "contact_reason", "reason": "contact_reason", "category": "contact_reason",
    "topic": "contact_reason", "issue type": "contact_reason", "ticket type": "contact_reason",
    "agent": "agent_id", "agent name": "agent_id", "assignee": "agent_id", "owner": "agent_id",
    "team": "team", "group": "team", "queue": "team", "department": "team",
    "created at": "opened_at", "created": "opened_at", "opened": "opened_at", "created time": "opened_at",
    "start time": "opened_at", "date": "opened_at",
    "first response at": "first_response_at", "first reply at": "first_response_at",
    "first responded at": "first_response_at",
    "resolved at": "resolved_at", "solved at": "resolved_at", "closed at": "resolved_at",
    "resolved time": "resolved_at", "closed time": "resolved_at",
    "repeat": "repeat_contact", "is repeat": "repeat_contact", "repeat contact": "repeat_contact",
    "fcr": "resolved_first_contact", "first contact resolution": "resolved_first_contact",
    "resolved on first contact": "resolved_first_contact", "one touch": "resolved_first_contact",
    "surveyed": "survey_sent", "survey offered": "survey_sent", "csat offered": "survey_sent",
    "churn": "churned", "has churned": "churned",
}


# ------------------------------------------------------------------------------------------------
# Reading files
# ------------------------------------------------------------------------------------------------

#: File suffixes the loaders read, and the reader each uses.
SUPPORTED_SUFFIXES = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
    ".parquet": "parquet", ".pq": "parquet",
    ".sav": "spss", ".zsav": "spss",
}
_DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_CHARS = 1 << 16
_SNIFF_LINES = 60


@dataclass
class _Codes:
    """Declared missing codes of one column: numbers, labels and numeric ranges."""

    numbers: set = field(default_factory=set)
    labels: set = field(default_factory=set)
    ranges: list = field(default_factory=list)

    @classmethod
    def of(cls, values) -> "_Codes":
        out = cls()
        if values is None:
            return out
        if isinstance(values, (str, bytes, int, float, np.integer, np.floating)):
            values = [values]
        for v in values:
            num = _scalar_number(v)
            if num is not None:
                out.numbers.add(num)
            if isinstance(v, str):
                out.labels.add(normalise_label(v))
        return out

    def merge(self, other: "_Codes") -> "_Codes":
        return _Codes(self.numbers | other.numbers, self.labels | other.labels, self.ranges + other.ranges)

    def __bool__(self) -> bool:
        return bool(self.numbers or self.labels or self.ranges)

    def match(self, value) -> bool:
        num = _scalar_number(value)
        if num is not None and (num in self.numbers or any(lo <= num <= hi for lo, hi in self.ranges)):
            return True
        return isinstance(value, str) and normalise_label(value) in self.labels

    def describe(self) -> str:
        parts = [f"{int(n) if float(n).is_integer() else n}" for n in sorted(self.numbers)]
        parts += [f"{lo:g} to {hi:g}" for lo, hi in self.ranges]
        parts += [repr(lab) for lab in sorted(self.labels) if _scalar_number(lab) is None]
        return ", ".join(parts)

    def mask(self, s: pd.Series) -> np.ndarray:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        hit = np.array([self.match(u) for u in uniques] + [False], dtype=bool)
        return hit[codes]


@dataclass
class _Raw:
    frame: pd.DataFrame
    ledger: Ledger
    kind: str
    missing: dict = field(default_factory=dict)
    value_labels: dict = field(default_factory=dict)
    blank_free: bool = False  # no cell of ``frame`` is an empty string (pyarrow's CSV reader makes them missing)


def _encoding_from_head(head: bytes) -> tuple[str, str] | None:
    """(encoding, how it was found) when the file's first bytes decide it (a byte-order mark, NUL bytes), else None."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32", "UTF-32 byte-order mark"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 byte-order mark"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16 byte-order mark"
    if len(head) >= 4 and b"\x00" in head:
        zeros_odd = head[1::2].count(0)
        zeros_even = head[0::2].count(0)
        if zeros_odd > zeros_even:
            return "utf-16-le", "NUL bytes, no byte-order mark: guessed UTF-16 LE"
        return "utf-16-be", "NUL bytes, no byte-order mark: guessed UTF-16 BE"
    return None


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4096)


#: How :func:`_detect_encoding` describes a file that decodes as UTF-8 throughout.
_VALID_UTF8 = ("utf-8", "valid UTF-8")


def _detect_encoding(path: Path) -> tuple[str, str]:
    """(encoding, how it was found): byte-order mark, else UTF-8 if the whole file decodes, else cp1252/latin-1."""
    found = _encoding_from_head(_read_head(path))
    if found is not None:
        return found
    for enc in ("utf-8", "cp1252"):
        dec = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 22), b""):
                    dec.decode(chunk)
                dec.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return _VALID_UTF8 if enc == "utf-8" else (enc, "not valid UTF-8: read as Windows-1252 (cp1252)")
    return "latin-1", "neither UTF-8 nor Windows-1252: read as Latin-1"


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample into the most consistent number (>= 2) of fields."""
    body = [ln for ln in lines[:_SNIFF_LINES] if ln.strip()]
    if not body:
        return ","
    text = "\n".join(body)

    def consistency(d: str) -> tuple[float, int]:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=d) if any(c.strip() for c in r)]
        if not rows or len(rows[0]) < 2:
            return 0.0, 0
        n = len(rows[0])
        return sum(len(r) == n for r in rows) / len(rows), n

    scores = {d: consistency(d) for d in _DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(text, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    best = max(_DELIMITERS, key=lambda d: (scores[d][0], d == sniffed, scores[d][1]))
    return best if scores[best][0] > 0 else ","


class _WideRow(Exception):
    """A line with more fields than the header that is not separator-only."""


def _read_csv_wide_blanks(path: Path, kwargs: dict, lines: list[str], sep: str) -> pd.DataFrame | None:
    """Re-read a file whose only over-long lines are separator-only (``,,,,,,`` under a 3-column header).

    Such lines are kept as blank rows, so that they are counted and excluded like the others.
    Returns None when some over-long line holds data (the caller then reports the parser error).
    """
    header = next(csv.reader(lines[:1], delimiter=sep), []) if lines else []

    def blank_or_fail(fields: list[str]) -> list[str]:
        if any(f.strip() for f in fields):
            raise _WideRow()
        return [""] * len(header)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.read_csv(path, **{**kwargs, "engine": "python", "on_bad_lines": blank_or_fail})
    except (_WideRow, pd.errors.ParserError, ValueError):
        return None


_FIELD_COUNT_ERROR = re.compile(r"Expected \d+ fields in line \d+, saw \d+")


def _open_quote_line(path: Path, enc: str, sep: str, quotechar: str = '"') -> int | None:
    """The 1-based file line where a quoted field opens and is never closed, or None.

    Follows the rules both pandas and :mod:`csv` use by default: a quote opens a field only at the
    start of a field, and ``""`` inside a quoted field is a literal quote.
    """
    if len(sep) != 1:
        return None
    try:
        with open(path, encoding=enc, newline="") as fh:
            text = fh.read()
    except (OSError, UnicodeError, LookupError):
        return None
    starts = (sep, "\n", "\r")
    i = 0
    while True:
        i = text.find(quotechar, i)
        if i < 0:
            return None
        if i > 0 and text[i - 1] not in starts and not (i == 1 and text[0] == "\ufeff"):
            i += 1  # a quote inside an unquoted field is a literal character
            continue
        opened = i
        j = i + 1
        while True:
            j = text.find(quotechar, j)
            if j < 0:
                return text.count("\n", 0, opened) + 1 if "\n" in text else text.count("\r", 0, opened) + 1
            if text.startswith(quotechar, j + 1):
                j += 2  # "" is an escaped quote
                continue
            break
        i = j + 1


def _csv_record_count(path: Path, enc: str, sep: str, skip: int) -> int | None:
    """Data records after ``skip`` lead records and the header, counted by :mod:`csv` (None if it cannot)."""
    if len(sep) != 1:
        return None
    try:
        with _csv_fields_unlimited(), open(path, encoding=enc, newline="") as fh:
            n = sum(1 for _ in csv.reader(fh, delimiter=sep))
    except (OSError, UnicodeError, LookupError, csv.Error):
        return None
    return max(n - skip - 1, 0)


@contextlib.contextmanager
def _csv_fields_unlimited():
    """:mod:`csv` without its 131,072-character field limit (long comments are real), restored after."""
    old_limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(old_limit)


def _unclosed_quote_error(shown: str, line: int) -> DataFileError:
    return DataFileError(f"{shown}: a quote opened on line {line} is never closed; fix the file or pass sep=/quotechar")


def _read_csv_arrow(path: Path, enc: str, sep: str, lines: list[str], lead: int,
                    block_size: int | None = None) -> pd.DataFrame | None:
    """The file read by pyarrow's CSV reader, or None where only pandas' reader is known to be right.

    For a well-formed UTF-8 file the result is the frame ``pd.read_csv(path, dtype=str,
    keep_default_na=False, na_values=[""], skip_blank_lines=False)`` gives (every field text,
    empty fields missing, a blank line a row of missing values), at a fraction of the time.
    Anything unusual (another encoding, a multi-character separator, blank lines before the header,
    duplicate or empty column names, a line with the wrong number of fields, a line break inside a
    value, an unclosed quote, invalid UTF-8) makes pyarrow stop or is excluded up front; pandas then
    reads the file, with all its error handling.
    """
    if enc not in ("utf-8", "utf-8-sig") or len(sep) != 1 or lead or not lines or sep in "\r\n\"":
        return None
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:
        return None
    names = next(csv.reader(lines[:1], delimiter=sep), [])
    if not names or len(set(names)) != len(names) or any(not n.strip() for n in names):
        return None
    from concurrent.futures import ThreadPoolExecutor

    # The lines are counted (file reads and numpy, no Python warnings machinery) on a worker thread
    # during the parse, which leaves the cores some slack; the count is only needed after it.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csatkit-lines") as pool:
        line_count = pool.submit(_line_count, path)
        table = _parse_arrow(path, sep, names, block_size)
        if table is None or table.column_names != names:
            return None
        # one record per line: a line break inside a quoted value, or a quote left open (which pyarrow
        # reads as a field running to the end of the file), makes fewer records than lines; a quote
        # opened on the last line is checked on its own
        if table.num_rows + 1 != line_count.result() or not _last_record_closed(path, sep):
            return None
    text = pd.Series([""], dtype=str).dtype  # pandas' default string dtype, as read_csv(dtype=str) gives
    return table.to_pandas(types_mapper=lambda t: text if t in (pa.string(), pa.large_string()) else None)


def _parse_arrow(path: Path, sep: str, names: list[str], block_size: int | None):
    """The file as a pyarrow Table of text columns (see :func:`_read_csv_arrow`), or None when pyarrow refuses it."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    try:
        return _parse_beside(lambda: pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(encoding="utf8", **({"block_size": block_size} if block_size else {})),
            # records end at line breaks (checked by the caller), which lets pyarrow split the file between threads
            parse_options=pcsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True, escape_char=False,
                                            newlines_in_values=False, ignore_empty_lines=False),
            # check_utf8 (the default, made explicit): _read_csv_utf8_first relies on every value being checked
            convert_options=pcsv.ConvertOptions(column_types={n: pa.large_string() for n in names}, null_values=[""],
                                                strings_can_be_null=True, quoted_strings_can_be_null=True,
                                                check_utf8=True),
        ))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeError, OSError):
        return None


#: Work for the calling thread while pyarrow parses a CSV file on a worker thread (see :func:`_parse_beside`);
#: :func:`csatkit.sections.prepare` sets it to import the modules that draw the report's figures.
_BESIDE_PARSE: contextvars.ContextVar = contextvars.ContextVar("csatkit_beside_parse", default=None)


def _parse_beside(parse):
    """``parse()``, with the callable in :data:`_BESIDE_PARSE` (if any, once) run beside it.

    ``parse`` is a pyarrow reader call: C++ work on the machine's cores without the GIL, and no Python
    warnings machinery, so the calling thread can do Python work meanwhile (importing matplotlib
    takes a quarter of a second). Only the parse goes to the worker thread: code that enters
    ``warnings.catch_warnings`` (pandas, most of this module) must not run on two threads at once,
    for the warning filters are process-wide.
    """
    beside = _BESIDE_PARSE.get()
    if beside is None:
        return parse()
    _BESIDE_PARSE.set(None)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csatkit-parse") as pool:
        future = pool.submit(parse)
        try:
            beside()
        except Exception:  # noqa: BLE001 - only a head start: whoever needs the work does it again
            pass
        return future.result()


def _line_count(path: Path, chunk_size: int = 1 << 22) -> int:
    """Lines of a file ending in LF or CRLF (or CR alone, when it has no LF); a last line without its end counts."""
    lf = cr = 0
    last = b""
    buf = bytearray(chunk_size)  # read in chunks into one buffer: no second copy of a large file in memory
    with open(path, "rb") as fh:
        while size := fh.readinto(buf):
            # numpy compares the bytes a vector at a time, several times faster than bytes.count
            chunk = np.frombuffer(buf, dtype=np.uint8, count=size)
            lf += int(np.count_nonzero(chunk == 10))
            if not lf:  # CR counts only in a file without LF
                cr += int(np.count_nonzero(chunk == 13))
            last = bytes(buf[size - 1:size])
    end, count = (b"\n", lf) if lf else (b"\r", cr)
    return count + (0 if not last or last == end else 1)


def _last_record_closed(path: Path, sep: str) -> bool:
    """Whether the file's last line parses with every quote closed (the file's other lines are checked by pyarrow)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(size - (1 << 16), 0))
        tail = fh.read()
    last = next((ln for ln in reversed(tail.splitlines()) if ln.strip()), b"")
    if len(last) >= (1 << 16) - 1:
        return False  # a line too long to judge: let pandas read the file
    try:
        list(csv.reader([last.decode("utf-8")], delimiter=sep, strict=True))
    except (csv.Error, UnicodeError):
        return False
    return True


def _sample_lines(path: Path, enc: str) -> list[str]:
    """The file's first lines decoded as ``enc`` (a last line cut by the end of the sample left out)."""
    with open(path, encoding=enc, newline="") as fh:
        sample = fh.read(_SAMPLE_CHARS)
    sample = sample.lstrip("\ufeff")
    lines = sample.splitlines()
    if len(sample) == _SAMPLE_CHARS and len(lines) > 1:
        lines = lines[:-1]
    return lines


def _layout(path: Path, lines: list[str], sep) -> tuple[str, str, int]:
    """(delimiter, how it was found, blank lines before the header) from the file's first lines."""
    if sep is None:
        sep = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(lines)
        sep_how = "detected"
    else:
        sep_how = "given"
    lead = 0
    for ln in lines:
        if ln.strip().strip(sep).strip():
            break
        lead += 1
    return sep, sep_how, lead


def _read_csv_utf8_first(path: Path, sep) -> tuple[pd.DataFrame | None, tuple | None]:
    """The file read by pyarrow's reader as UTF-8 before its encoding is known, when the reader takes it.

    Returns (frame, (lines, sep, sep_how, lead)), or (None, what was tried): the layout of the
    attempt that declined (the caller need not read the file with the same arguments again), or None
    when nothing was read.

    Why the frame settles the encoding: deciding UTF-8 takes decoding the whole file
    (:func:`_detect_encoding`), but a file pyarrow's reader takes is valid UTF-8 throughout. The
    reader checks the UTF-8 of every value (``check_utf8``; all columns are strings), the header
    names are decoded strictly (``Table.column_names``, compared with the names :mod:`csv` finds in
    the strictly decoded sample), and every other byte is a delimiter (pyarrow takes only an ASCII
    one), a quote or a line end, all ASCII. Valid pieces joined by ASCII bytes are valid UTF-8, so
    :func:`_detect_encoding` would have said ``utf-8`` (``valid UTF-8``), and :func:`_read_csv` would
    have made this very call. When the reader declines, the caller detects the encoding as before.
    """
    try:
        lines = _sample_lines(path, "utf-8")
    except UnicodeError:
        return None, None
    if not any(ln.strip() for ln in lines):
        return None, None  # an empty file: reported by the usual path, in the encoding it detects
    layout = _layout(path, lines, sep)
    try:
        df = _read_csv_arrow(path, "utf-8", layout[0], lines, layout[2])
    except Exception:  # noqa: BLE001 - whatever the reader raises, the usual path raises (or not) as before
        return None, None
    return df, (lines, *layout)


def _read_csv(path: Path, shown: str, sep, encoding, ledger: Ledger) -> tuple[pd.DataFrame, bool]:
    """The file as a frame of text columns, and whether pyarrow's reader read it (then no cell is an empty string)."""
    declined = None  # the layout of a UTF-8 attempt of pyarrow's reader that declined
    if encoding is not None:
        enc, how = encoding, "given"
    elif (found := _encoding_from_head(_read_head(path))) is not None:
        enc, how = found
    else:
        # no byte-order mark nor NUL bytes: UTF-8 if the whole file decodes, which pyarrow's reader,
        # when it takes the file, shows without a pass of its own
        df, tried = _read_csv_utf8_first(path, sep)
        if df is not None:
            _, sep, sep_how, lead = tried
            _note_csv(ledger, *_VALID_UTF8, sep, sep_how, False, lead)
            return df, True
        declined = tried
        enc, how = _detect_encoding(path)
    try:
        lines = _sample_lines(path, enc)
    except LookupError:
        raise ParameterError(f"The value for `encoding` must be a codec Python knows, but {encoding!r} was passed.") from None
    except UnicodeError as exc:
        raise DataFileError(
            f"{shown} could not be decoded as {enc} ({_one_line(exc)}); pass encoding=, e.g. encoding='cp1252'."
        ) from None
    if not any(ln.strip() for ln in lines):
        raise DataFileError(f"{shown} is empty (no header, no rows)")
    sep, sep_how, lead = _layout(path, lines, sep)
    kwargs = dict(
        sep=sep, encoding=enc, dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=False,
        skiprows=lead or None, index_col=False,
    )
    if len(sep) > 1:
        kwargs["engine"] = "python"
    # pyarrow's reader already declined this file with these arguments: straight to pandas' reader
    arrow = not (declined is not None and enc == "utf-8" and declined == (lines, sep, sep_how, lead))
    wide = extra = False
    try:
        df = _read_csv_arrow(path, enc, sep, lines, lead) if arrow else None
        via_arrow = df is not None
        if df is None:
            with warnings.catch_warnings():
                # with index_col=False pandas drops the fields of a first row wider than the header,
                # saying so only in this warning: stop, and see what would be lost
                warnings.filterwarnings("error", message="Length of header or names does not match",
                                        category=pd.errors.ParserWarning)
                try:
                    df = pd.read_csv(path, **kwargs)
                except pd.errors.ParserWarning:
                    df = None
            if df is None:
                _refuse_values_beyond_header(path, shown, enc, sep, lead)
                extra = True  # only empty fields lie beyond the header: read as before
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", pd.errors.ParserWarning)
                    df = pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{shown} is empty (no header, no rows)") from None
    except pd.errors.ParserError as exc:
        # Only the "Expected N fields in line M, saw K" error can be separator-only wide lines; any
        # other parser error (an unclosed quote, EOF inside string) must not reach the fallback,
        # whose python engine stops quietly at an open quote and so loses every later row.
        df = None
        if _FIELD_COUNT_ERROR.search(str(exc)) and len(sep) == 1:
            df = _read_csv_wide_blanks(path, kwargs, lines[lead:], sep)
        if df is not None:
            expected = _csv_record_count(path, enc, sep, lead)
            if expected != len(df):
                quote_line = _open_quote_line(path, enc, sep)
                if quote_line is not None:
                    raise _unclosed_quote_error(shown, quote_line) from None
                raise DataFileError(
                    f"{shown}: the lenient re-read gave {len(df)} data row(s) but the file holds "
                    f"{'an unknown number of' if expected is None else expected} record(s); "
                    "fix the file or pass sep= (and encoding=)."
                ) from None
        if df is None:
            quote_line = _open_quote_line(path, enc, sep)
            if quote_line is not None:
                raise _unclosed_quote_error(shown, quote_line) from None
            raise DataFileError(
                f"{shown} could not be read as delimited text with delimiter {sep!r}: {_one_line(exc)}; "
                "pass sep= (and encoding=) if the guess was wrong."
            ) from None
        wide = True
    except UnicodeError as exc:
        raise DataFileError(
            f"{shown} could not be decoded as {enc} ({_one_line(exc)}); pass encoding=, e.g. encoding='cp1252'."
        ) from None
    _note_csv(ledger, enc, how, sep, sep_how, wide, lead)
    if extra:
        ledger.note("empty fields after the last column of the header ignored")
    return df, via_arrow


def _refuse_values_beyond_header(path: Path, shown: str, enc: str, sep: str, lead: int) -> None:
    """Raise when a record has a non-empty field beyond the header's columns (which pandas would drop).

    Such a field usually means a value holding the delimiter without quotes, which also shifts the
    record's other values into the wrong columns: the file must be fixed. Empty fields there (a
    trailing delimiter) lose nothing.
    """
    if len(sep) != 1:  # the python engine's separators are regular expressions: no record-level check here
        raise DataFileError(
            f"{shown}: some records have more fields than the header; a value holding the delimiter {sep!r} "
            "needs quotes. Fix the file or pass sep=."
        )
    try:
        with _csv_fields_unlimited(), open(path, encoding=enc, newline="") as fh:
            for _ in range(lead):
                fh.readline()
            reader = csv.reader(fh, delimiter=sep)
            width = len(next(reader, []))
            first = reader.line_num + 1  # a record's first line (a quoted value may span lines)
            for record in reader:
                beyond = [v for v in record[width:] if v.strip()]
                if beyond:
                    raise DataFileError(
                        f"{shown}, line {first + lead}: {len(record)} fields where the header has {width} "
                        f"({beyond[0]!r} after the last column); a value holding the delimiter {sep!r} needs "
                        "quotes. Fix the file or pass sep=."
                    )
                first = reader.line_num + 1
    except csv.Error as exc:
        raise DataFileError(
            f"{shown} could not be read as delimited text with delimiter {sep!r}: {_one_line(exc)}; "
            "pass sep= (and encoding=) if the guess was wrong."
        ) from None


def _note_csv(ledger: Ledger, enc: str, how: str, sep: str, sep_how: str, wide: bool, lead: int) -> None:
    ledger.note(f"read as delimited text: encoding {enc} ({how}), delimiter {sep!r} ({sep_how})")
    if wide:
        ledger.note("separator-only lines wider than the header read as blank rows")
    if lead:
        ledger.note(f"skipped {lead} blank line(s) before the header")


def _read_excel(path: Path, shown: str, sheet, ledger: Ledger) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(path)
    except ImportError as exc:
        raise DataFileError(f"Reading {shown} needs an Excel reader that is not installed: {_one_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes one clear line
        raise DataFileError(f"{shown} could not be read as an Excel workbook ({type(exc).__name__}: {_one_line(exc)}).") from None
    with book:
        names = list(book.sheet_names)
        if not names:
            raise DataFileError(f"{shown} has no worksheets")
        if sheet is None:
            name = names[0]
            if len(names) > 1:
                ledger.note(f"workbook has {len(names)} sheets {names}: read the first, {name!r}; pass sheet= to read another")
        elif isinstance(sheet, (int, np.integer)) and not isinstance(sheet, bool):
            if not 0 <= int(sheet) < len(names):
                raise ParameterError(
                    f"The value for `sheet` must be a sheet name or an index from 0 to {len(names) - 1}, but {sheet!r} "
                    f"was passed; {shown} has sheets {names}."
                )
            name = names[int(sheet)]
        else:
            check_choice("sheet", sheet, names)
            name = sheet
        try:
            df = pd.read_excel(book, sheet_name=name)
        except Exception as exc:  # noqa: BLE001
            raise DataFileError(f"Sheet {name!r} of {shown} could not be read ({type(exc).__name__}: {_one_line(exc)}).") from None
    if df.shape[1] == 0:
        raise DataFileError(f"{shown} sheet {name!r} is empty (no header, no rows)")
    ledger.note(f"read sheet {name!r} of the workbook")
    return df


def _read_parquet(path: Path, shown: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError as exc:
        raise DataFileError(f"Reading {shown} needs pyarrow: {_one_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001
        raise DataFileError(f"{shown} could not be read as Parquet ({type(exc).__name__}: {_one_line(exc)}).") from None


def _read_spss(path: Path, shown: str, raw: _Raw) -> pd.DataFrame:
    try:
        import pyreadstat
    except ImportError as exc:
        raise DataFileError(f"Reading {shown} needs pyreadstat: {_one_line(exc)}") from None
    try:
        df, meta = pyreadstat.read_sav(str(path), user_missing=True, dates_as_pandas_datetime=True)
    except Exception as exc:  # noqa: BLE001
        raise DataFileError(f"{shown} could not be read as an SPSS file ({type(exc).__name__}: {_one_line(exc)}).") from None
    for var, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        codes = _Codes()
        for r in ranges:
            lo, hi = r.get("lo"), r.get("hi")
            if isinstance(lo, str):
                codes.labels.add(normalise_label(lo))
            elif lo == hi:
                codes.numbers.add(float(lo))
            else:
                codes.ranges.append((float(lo), float(hi)))
        if codes:
            raw.missing[str(var)] = codes
    raw.value_labels = {str(k): v for k, v in (getattr(meta, "variable_value_labels", None) or {}).items()}
    return df


def _read_source(source, *, sep, encoding, sheet) -> _Raw:
    if isinstance(source, pd.DataFrame):
        for name, value in (("sep", sep), ("encoding", encoding), ("sheet", sheet)):
            if value is not None:
                raise ParameterError(f"`{name}` applies to files only, but a DataFrame was passed with {name}={value!r}.")
        df = source.copy(deep=False)
        df.columns = [str(c) for c in df.columns]
        raw = _Raw(df.reset_index(drop=True), Ledger(source="DataFrame"), "frame")
    else:
        if not isinstance(source, (str, os.PathLike)):
            raise ParameterError(
                f"The value for `source` must be a file path or a pandas DataFrame, but {type(source).__name__} was passed."
            )
        shown = os.fspath(source)
        path = Path(shown)
        if not path.exists():
            raise DataFileError(f"File not found: {shown}")
        supported = ", ".join(SUPPORTED_SUFFIXES)
        if path.is_dir():
            if not (any(path.rglob("*.parquet")) or any(path.rglob("*.pq"))):
                raise DataFileError(
                    f"{shown} is a directory without Parquet files; pass a file ({supported}) or a directory of Parquet files."
                )
            kind = "parquet"
        else:
            kind = SUPPORTED_SUFFIXES.get(path.suffix.lower())
            if kind is None:
                raise DataFileError(
                    f"Unsupported file format {path.suffix or '(no suffix)'!r} for {shown}; supported: {supported}, "
                    "a directory of Parquet files, or a pandas DataFrame."
                )
            if path.stat().st_size == 0:
                raise DataFileError(f"{shown} is empty (no header, no rows)")
        for name, value, kinds in (("sep", sep, {"csv"}), ("encoding", encoding, {"csv"}), ("sheet", sheet, {"excel"})):
            if value is not None and kind not in kinds:
                raise ParameterError(f"`{name}` applies to {'/'.join(sorted(kinds))} files only, but {shown} is read as {kind}.")
        raw = _Raw(pd.DataFrame(), Ledger(source=shown), kind)
        if kind == "csv":
            df, raw.blank_free = _read_csv(path, shown, sep, encoding, raw.ledger)
        elif kind == "excel":
            df = _read_excel(path, shown, sheet, raw.ledger)
        elif kind == "parquet":
            df = _read_parquet(path, shown)
        else:
            df = _read_spss(path, shown, raw)
        df.columns = [str(c) for c in df.columns]
        if len(df.columns):
            df = df.rename(columns={df.columns[0]: df.columns[0].lstrip("\ufeff").strip()})
        raw.frame = df.reset_index(drop=True)
    dups = sorted({c for c in raw.frame.columns if list(raw.frame.columns).count(c) > 1})
    if dups:
        raise InputError(f"{raw.ledger.source} has duplicate column names {dups}; rename them before loading.")
    return raw


def _looks_like_header_row(row: pd.Series) -> bool:
    same = 0
    for col, v in row.items():
        if _is_missing_scalar(v):
            continue
        text = str(v).strip()
        if text.startswith(('{"ImportId"', "{'ImportId'")):
            return True
        if _compact(text) and _compact(text) == _compact(col):
            same += 1
    return same >= 2


def _skip_header_rows(raw: _Raw, preset: Preset) -> None:
    k = 0
    df = raw.frame
    while k < preset.header_rows_to_skip and k < len(df):
        if preset.detect_header_rows and not _looks_like_header_row(df.iloc[k]):
            break
        k += 1
    if k:
        raw.frame = df.iloc[k:].reset_index(drop=True)
        raw.ledger.note(
            f"{preset.name} export: skipped {k} extra header row(s) below the header (question text, import ids); "
            "row numbers count the data rows after them"
        )


# ------------------------------------------------------------------------------------------------
# Columns
# ------------------------------------------------------------------------------------------------


def _resolve_columns(
    present: list[str], columns, synonyms: list[tuple[str, str]], targets: list[str], ledger: Ledger,
    *, allow_items: bool = False, reserved: Iterable[str] = (),
) -> dict[str, str]:
    """canonical -> source column: the explicit map first, then canonical names, then synonyms."""
    mapping: dict[str, str] = {}
    used: set[str] = set(reserved)
    if columns is not None:
        if not isinstance(columns, Mapping):
            raise ParameterError(
                "The value for `columns` must be a dict mapping source column -> canonical name, "
                f"e.g. {{'Q1': 'score'}}, but {type(columns).__name__} was passed."
            )
        for src, dst in columns.items():
            src = str(src)
            if allow_items and str(dst).startswith(ITEM_PREFIX):
                continue
            if src not in present:
                hint = nearest(src, present)
                tip = f" Did you mean {hint!r}?" if hint else ""
                raise MissingColumnError(
                    f"Column {src!r} named in `columns` is not in {ledger.source}; columns present: {present}.{tip}"
                )
            check_choice(f"columns[{src!r}]", dst, targets)
            if dst in mapping:
                raise ParameterError(
                    f"`columns` maps both {mapping[dst]!r} and {src!r} to {dst!r}; map one source column to each canonical name."
                )
            mapping[dst] = src
            used.add(src)
    by_compact = {_compact(t): t for t in targets}
    for col in present:
        t = by_compact.get(_compact(col))
        if col not in used and t is not None and t not in mapping:
            mapping[t] = col
            used.add(col)
    compact_present = [(col, _compact(col)) for col in present]
    for key, t in synonyms:
        if t in mapping or t not in targets:
            continue
        for col, ckey in compact_present:
            if col not in used and ckey == key:
                mapping[t] = col
                used.add(col)
                break
    renamed = [f"{src!r} -> {dst}" for dst, src in mapping.items() if src != dst]
    if renamed:
        ledger.note("columns mapped: " + ", ".join(renamed))
    unused = [c for c in present if c not in used]
    if unused:
        more = f" and {len(unused) - 12} more" if len(unused) > 12 else ""
        ledger.note(f"columns not used: {unused[:12]}{more}")
    return mapping


def _require(present: list[str], mapping: dict, required: Iterable[str], where: str, hints: Mapping[str, str]) -> None:
    missing = [c for c in required if c not in mapping]
    for col in missing:
        try:
            check_columns(present, [col], where=where)
        except MissingColumnError as exc:
            raise MissingColumnError(f"{exc}{hints.get(col, '')}") from None


def _resolve_codes(missing_codes, mapping: dict, present: list[str], default: str | None, ledger: Ledger,
                   extra: Mapping[str, str] | None = None) -> dict[str, _Codes]:
    """canonical (or item) column -> declared missing codes."""
    out: dict[str, _Codes] = {}
    if missing_codes is None:
        return out
    extra = dict(extra or {})
    if not isinstance(missing_codes, Mapping):
        if default is None:
            raise ParameterError(
                "The value for `missing_codes` must be a dict {column: [codes]}, "
                f"but {type(missing_codes).__name__} was passed."
            )
        missing_codes = {default: missing_codes}
    by_source = {src: dst for dst, src in mapping.items()}
    by_source.update(extra)
    known = set(mapping) | set(extra.values())
    for key, codes in missing_codes.items():
        key = str(key)
        if key in by_source:
            target = by_source[key]
        elif key in known:
            target = key
        else:
            options = sorted(set(by_source) | known)
            hint = nearest(key, options)
            tip = f" Did you mean {hint!r}?" if hint else ""
            raise ParameterError(
                f"`missing_codes` names column {key!r}, which is not a loaded column of {ledger.source}; "
                f"loaded columns: {options}.{tip}"
            )
        c = _Codes.of(codes)
        out[target] = out[target].merge(c) if target in out else c
    return out


def _add_file_codes(codes: dict, raw: _Raw, mapping: dict, extra: Mapping[str, str] | None = None) -> None:
    """SPSS user-missing values become declared missing codes of the columns they belong to."""
    pairs = [(src, dst) for dst, src in mapping.items()] + list((extra or {}).items())
    for src, dst in pairs:
        if src in raw.missing:
            codes[dst] = codes[dst].merge(raw.missing[src]) if dst in codes else raw.missing[src]
            raw.ledger.note(f"user-missing values of {src!r} declared in the file used as missing codes: {raw.missing[src].describe()}")


def _labelled(raw: _Raw, src: str) -> pd.Series:
    """A source column with SPSS value labels applied (for text columns)."""
    s = raw.frame[src]
    labels = raw.value_labels.get(src)
    if not labels:
        return s
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = np.array([labels.get(u, u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=s.index, name=s.name)


def _recode_text(t: pd.Series, codes: _Codes | None, column: str, rows: "_Rows") -> pd.Series:
    """Blank the cells of ``t`` that carry a declared missing code (counted in the ledger)."""
    if not codes:
        return t
    hit = codes.mask(t)
    if hit.any():
        rows.recode(column, "declared missing code", hit)
        t = t.mask(hit)
    return t


# ------------------------------------------------------------------------------------------------
# Row bookkeeping
# ------------------------------------------------------------------------------------------------

#: Exclusions that follow from the caller's choices or the survey design, not from bad data:
#: ``strict=True`` does not raise for them.
_POLICY_REASONS = frozenset({"blank_row", "not_surveyed", "nonsubstantive_answer", "missing_score"})


class _Rows:
    """One exclusion reason per row, the first that applies; raises on data problems when strict."""

    def __init__(self, n: int, ledger: Ledger, strict: bool):
        self.ok = np.ones(n, dtype=bool)
        self.code = np.zeros(n, dtype=np.int16)
        self.reasons: list[str] = []
        self.ledger = ledger
        self.strict = strict
        self.recodes: list[tuple[str, str, np.ndarray]] = []

    def recode(self, column: str, reason: str, mask) -> None:
        """Cells of ``column`` set to missing for ``reason``; counted for the rows finally kept."""
        self.recodes.append((column, reason, np.asarray(mask, dtype=bool)))

    def exclude(self, reason: str, mask, describe: Callable[[int], str] | None = None) -> None:
        mask = np.asarray(mask, dtype=bool) & self.ok
        if not mask.any():
            return
        if self.strict and reason not in _POLICY_REASONS:
            i = int(np.flatnonzero(mask)[0])
            what = describe(i) if describe else EXCLUSION_REASONS[reason]
            raise InputError(
                f"{self.ledger.source}, row {i + 1}: {what} ({reason}). Fix the data, or pass strict=False "
                "to exclude such rows and list them in the ledger."
            )
        if reason not in self.reasons:
            self.reasons.append(reason)
        self.code[mask] = self.reasons.index(reason) + 1
        self.ok &= ~mask

    def finish(self) -> None:
        for k, reason in enumerate(self.reasons, start=1):
            self.ledger.exclude(reason, np.flatnonzero(self.code == k) + 1)
        for column, reason, mask in self.recodes:
            self.ledger.recode(column, reason, int((mask & self.ok).sum()))


def _blank_rows(raw: pd.DataFrame, texts: dict[str, pd.Series]) -> np.ndarray:
    """Rows whose every cell is missing or whitespace.

    ``texts`` maps source columns to their text, already computed; the other columns are looked at
    only for the rows still blank.
    """
    n = len(raw)
    cand = np.ones(n, dtype=bool)
    for t in texts.values():
        cand &= t.isna().to_numpy()
    for col in raw.columns:
        if col in texts:
            continue
        idx = np.flatnonzero(cand)
        if idx.size == 0:
            break
        cand[idx] = _as_text(raw[col].iloc[idx]).isna().to_numpy()
    return cand


def _duplicates(keys: list, ok: np.ndarray) -> np.ndarray:
    """Rows (among ``ok``) whose key repeats that of an earlier ``ok`` row.

    ``keys`` holds the key columns: Series, or (codes, count) pairs already factorized (codes from 0
    to count - 1 over all rows, -1 for missing). The rows are those ``DataFrame(keys).duplicated(keep="first")``
    finds over the ``ok`` rows (missing values equal each other), found on integer codes: each key
    column is factorized (a sorted id column by its runs), several columns' codes are combined into
    one int64 key per row, and the repeats are found in one pass where the codes allow it (numbered
    in order of appearance, or sorted), by hashing otherwise.
    """
    idx = np.flatnonzero(ok)
    n = len(idx)
    dup = np.zeros(len(ok), dtype=bool)
    if n < 2:
        return dup
    subset = n < len(ok)  # otherwise every row counts: no copy
    factorized = []
    for k in keys:
        if isinstance(k, tuple):
            codes, count = k
            if subset:
                codes = codes[idx]
        else:
            codes, count = _key_codes(k.iloc[idx] if subset else k)
            if count == n:  # n distinct values, none missing: no key repeats
                return dup
        factorized.append((codes, count))
    if len(factorized) == 1:
        repeated = _repeated_codes(*factorized[0])
    else:
        repeated = _repeated_keys(_combined_codes(factorized))
    dup[idx[repeated]] = True
    return dup


def _key_codes(k: pd.Series) -> tuple[np.ndarray, int]:
    """``pd.factorize(k)`` as (codes, number of distinct values): -1 missing, values numbered in order of appearance.

    A pyarrow-backed string key without missing values that is sorted (ids often are) needs no hash
    table: equal values are adjacent, so each run of equal values is one code.
    """
    n = len(k)
    if n > 1 and getattr(k.dtype, "storage", None) == "pyarrow":
        import pyarrow.compute as pc

        arr = k.array.__arrow_array__()
        if arr.null_count == 0:
            head, tail = arr.slice(0, n - 1), arr.slice(1)
            if not pc.any(pc.less(tail, head)).as_py():
                starts = np.empty(n, dtype=bool)
                starts[0] = True
                starts[1:] = pc.not_equal(tail, head).to_numpy()
                codes = np.cumsum(starts, dtype=np.intp)
                codes -= 1
                return codes, int(codes[-1]) + 1
    codes, uniques = pd.factorize(k, use_na_sentinel=True)
    return codes, len(uniques)


def _combined_codes(factorized: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One int64 code per row for the tuple of its key codes: equal tuples <=> equal codes.

    ``factorized`` holds (codes, count) per key column, codes from -1 (missing) to count - 1.
    """
    key = None
    size = 1  # the combined codes are below this
    for codes, count in factorized:
        m = count + 1  # codes + 1: 0 missing, 1 .. count the values
        if key is None:
            key = codes.astype(np.int64)  # a copy: the caller's codes stay as they are
            key += 1
            size = m
            continue
        if size > (2**62) // m:  # the combined codes would overflow: renumber them first
            key, u = pd.factorize(key)
            key = key.astype(np.int64, copy=False)
            size = len(u)
        key *= m
        key += codes
        key += 1
        size *= m
    return key


def _repeated_codes(codes: np.ndarray, count: int) -> np.ndarray:
    """``duplicated(keep="first")`` of factorize codes: -1 missing, 0 to ``count - 1`` the values.

    Codes numbered in order of appearance (as factorize numbers them) make it one pass: a row holds
    the first occurrence of its value where its code exceeds every earlier code. That these rows hold
    exactly the codes 0, 1, ..., count - 1, in that order, proves the numbering (a code seen before its
    record row would have made the record impossible); otherwise the codes are hashed.
    """
    seen = np.maximum.accumulate(codes)
    repeated = np.empty(len(codes), dtype=bool)
    repeated[0] = codes[0] < 0
    np.less_equal(codes[1:], seen[:-1], out=repeated[1:])
    firsts = codes[~repeated]
    if len(firsts) != count or not np.array_equal(firsts, np.arange(count)):
        return pd.Series(codes).duplicated(keep="first").to_numpy()
    missing = codes < 0
    if missing.any():  # the first missing row is kept, like the first of any value
        repeated[np.argmax(missing)] = False
    return repeated


def _repeated_keys(key: np.ndarray) -> np.ndarray:
    """``duplicated(keep="first")`` of int64 keys; for sorted keys (rows in key order), equal to the row before."""
    head, tail = key[:-1], key[1:]
    if np.less(tail, head).any():
        return pd.Series(key).duplicated(keep="first").to_numpy()
    repeated = np.empty(len(key), dtype=bool)
    repeated[0] = False
    np.equal(tail, head, out=repeated[1:])
    return repeated


def _first_occurrence(key: pd.Series, ok: np.ndarray, i: int) -> int:
    same = np.flatnonzero(ok & (key == key.iloc[i]).to_numpy(dtype=bool, na_value=False))
    return int(same[0]) + 1


# ------------------------------------------------------------------------------------------------
# Timestamps
# ------------------------------------------------------------------------------------------------

_DMY = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)")
_DMY_FMT = re.compile(r"^%([dm])([/.\-])%([dm])\2%Y")
_MONTH_NAME = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec", re.IGNORECASE)
_NS_LOW = pd.Timestamp("1677-09-22")
_NS_HIGH = pd.Timestamp("2262-04-11")


def _date_evidence(text: pd.Series) -> tuple[bool, bool, int]:
    """(some first field > 12, some second field > 12, number of d/m/y values) over the distinct values."""
    heads = pd.Series(text.dropna().str.slice(0, 12).unique(), dtype=object)
    if heads.empty:
        return False, False, 0
    ex = heads.str.extract(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](?:\d{4}|\d{2})(?!\d)")
    a = pd.to_numeric(ex[0], errors="coerce")
    b = pd.to_numeric(ex[1], errors="coerce")
    return bool((a > 12).any()), bool((b > 12).any()), int(a.notna().sum())


def _decide_dayfirst(texts: dict[str, pd.Series], dayfirst, ledger: Ledger, iso: Iterable[str] = ()) -> bool:
    """Whether d/m/y dates are read day first; ``iso`` names columns known to hold only ISO 8601 values.

    An ISO value opens with a four-digit year and a dash, which the d/m/y pattern of
    :func:`_date_evidence` cannot match: such a column gives no evidence and is not searched for any
    (its name still appears in the notes, which name every text column).
    """
    if dayfirst is not None:
        return bool(dayfirst)
    first = second = False
    count = 0
    for name, t in texts.items():
        if name in iso:
            continue
        f, s, c = _date_evidence(t)
        first, second, count = first or f, second or s, count + c
    if count == 0:
        return False
    cols = ", ".join(texts)
    if first and not second:
        ledger.note(f"dates in {cols} read day first (DD/MM/YYYY): a first field above 12 rules out month first")
        return True
    if second and not first:
        ledger.note(f"dates in {cols} read month first (MM/DD/YYYY): a second field above 12 rules out day first")
        return False
    if first and second:
        ledger.note(
            f"dates in {cols} mix day-first and month-first values: read month first, rows that cannot be "
            "month first are excluded as unparseable; pass dayfirst= to choose"
        )
        return False
    ledger.note(
        f"date order in {cols} is ambiguous (no day or month field above 12): read month first "
        "(01/08/2023 = 8 January 2023); pass dayfirst=True if the export writes the day first"
    )
    return False


_YEAR_FIRST = re.compile(r"^\s*\d{4}[/.\-]")


def _guess_format(text: pd.Series, dayfirst: bool) -> str | None:
    sample = text.dropna().head(5000).unique()[:60]
    counts: Counter = Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for v in sample:
            # a date that starts with its year is year-month-day (ISO 8601) whatever the day order of
            # d/m/y dates: pandas would guess %Y-%d-%m day first and read 2024-01-02 as 1 February
            year_first = bool(_YEAR_FIRST.match(str(v)))
            try:
                fmt = guess_datetime_format(str(v), dayfirst=dayfirst and not year_first)
            except (ValueError, TypeError):
                continue
            order = re.match(r"^%([dm])[/.\-]%([dm])", fmt or "")
            if order and (order.group(1) == "d") != dayfirst:
                continue  # a value that only parses in the other date order: not the file's format
            if fmt and re.match(r"^%Y[/.\-]%d", fmt):
                continue  # year-day-month: not a date format (2024-13-01 is not 13 January)
            counts[fmt] += 1
    counts.pop(None, None)
    return counts.most_common(1)[0][0] if counts else None


def _rewrite_dmy(text: pd.Series, sep: str, first: str) -> pd.Series:
    """``31/12/2023 10:00`` -> ``2023-12-31 10:00`` with pyarrow, so that pandas' fast ISO parser applies."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(text, from_pandas=True)
    s = re.escape(sep)
    pattern = rf"^\s*(\d{{1,2}}){s}(\d{{1,2}}){s}(\d{{4}})"
    replacement = r"\3-\2-\1" if first == "d" else r"\3-\1-\2"
    out = pc.replace_substring_regex(arr, pattern=pattern, replacement=replacement)
    return pd.Series(pd.array(out, dtype=STRING_DTYPE), index=text.index)


def _parse_one(v: str, dayfirst: bool):
    """One value in a format of its own (dateutil), refused when it could be read in the other date order."""
    digits = re.findall(r"\d+", v)
    if not (len(digits) >= 3 or (len(digits) >= 2 and _MONTH_NAME.search(v))):
        return pd.NaT, False
    iso_like = bool(re.match(r"^\s*\d{4}", v))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ts = pd.Timestamp(pd.to_datetime(v, dayfirst=dayfirst and not iso_like, yearfirst=iso_like))
    except (ValueError, TypeError, OverflowError):
        return pd.NaT, False
    tz = ts.tzinfo is not None
    if tz:
        ts = ts.tz_convert("UTC").tz_localize(None)
    m = _DMY.match(v)
    if m:
        a, b = int(m.group(1)), int(m.group(3))
        day, month = (a, b) if dayfirst else (b, a)
        if (ts.day, ts.month) != (day, month):
            return pd.NaT, False
    return ts, tz


def _iso_timestamps(text: pd.Series) -> np.ndarray | None:
    """A text column as datetime64[ns] (missing as NaT) when every value is ISO 8601 that pyarrow reads; else None.

    pyarrow's cast from string to ``timestamp[ns]`` takes ``YYYY-MM-DD``, optionally followed by
    ``T`` or a space and ``hh``, ``hh:mm``, ``hh:mm:ss`` or ``hh:mm:ss.f`` (1 to 9 digits), and checks
    every field (month 13, 30 February, 29 February outside leap years, hour 24, second 60 and any
    value outside the nanosecond range are refused). A value with a zone offset (``Z``, ``+01:00``)
    is refused too, for a type without a time zone. Values in these forms have one reading, which
    :func:`_parse_timestamps` also gives them in either day order (the guessed format is
    ``%Y-%m-%d...`` for a value that starts with its year, and a value outside it goes to dateutil
    with the year first). A single value refused, or one outside ``_NS_LOW .. _NS_HIGH`` (which
    :func:`_parse_timestamps` excludes), and the column is left to :func:`_parse_timestamps`.
    """
    if not text.notna().any():
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    try:
        arr = text.array.__arrow_array__() if getattr(text.dtype, "storage", None) == "pyarrow" else pa.array(
            text.to_numpy(dtype=object, na_value=None), type=pa.large_string())
        stamps = pc.cast(arr, pa.timestamp("ns"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    bounds = pc.min_max(stamps)
    if bounds["min"].value < _NS_LOW.value or bounds["max"].value > _NS_HIGH.value:
        return None
    return stamps.to_numpy()


def _to_ns(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Naive datetimes as datetime64[ns]; values outside the ns range become NaT (second array: which)."""
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    oob = ((values < _NS_LOW) | (values > _NS_HIGH)).to_numpy(dtype=bool)
    if oob.any():
        values = values.mask(oob)
    return values.astype("datetime64[ns]").to_numpy(), oob


def _parse_timestamps(raw: pd.Series, text: pd.Series | None, dayfirst: bool, column: str,
                      ledger: Ledger, iso: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[ns] values, mask of non-empty cells that could not be parsed).

    ``iso``: ``text`` already read by :func:`_iso_timestamps`, whose values are those the format guess,
    pandas and dateutil below would give them, at a fraction of the time.
    """
    n = len(raw)
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        if getattr(raw.dt, "tz", None) is not None:
            ledger.note(f"{column}: time-zone-aware timestamps converted to UTC and stored without a time zone")
        values, oob = _to_ns(raw)
        return values, oob
    if iso is not None and raw.dtype != object:
        # no cell holds a datetime object, so ``iso`` is the answer: a value for every text, NaT for
        # every missing one (pyarrow's cast keeps the nulls), none unparseable
        return (iso if iso.flags.writeable else iso.copy()), np.zeros(n, dtype=bool)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    tz_seen = False
    if text is None:
        text = _as_text(raw)
    if raw.dtype == object:
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        is_dt = np.array([isinstance(u, (_dt.datetime, _dt.date)) for u in uniques] + [False], dtype=bool)
        if is_dt.any():
            stamps = []
            for u, flag in zip(uniques, is_dt[:-1]):
                if not flag:
                    stamps.append(pd.NaT)
                    continue
                ts = pd.Timestamp(u)
                if ts.tzinfo is not None:
                    tz_seen = True
                    ts = ts.tz_convert("UTC").tz_localize(None)
                stamps.append(ts if _NS_LOW <= ts <= _NS_HIGH else pd.NaT)
            conv = pd.Series(stamps + [pd.NaT], dtype="datetime64[ns]").to_numpy()
            row_dt = is_dt[codes]
            out[row_dt] = conv[codes][row_dt]
            text = text.mask(row_dt)
    nonnull = text.notna().to_numpy()
    if nonnull.any() and iso is not None:
        out[nonnull] = iso[nonnull]  # every value read, none outside the range
    elif nonnull.any():
        fmt = _guess_format(text, dayfirst)
        if fmt:
            work, wfmt = text, fmt
            m = _DMY_FMT.match(fmt)
            if m and m.group(1) != m.group(3):
                try:
                    work = _rewrite_dmy(text, m.group(2), m.group(1))
                    wfmt = "%Y-%m-%d" + fmt[m.end():]
                except Exception:  # noqa: BLE001 - pyarrow missing or old: the slower path below still works
                    work, wfmt = text, fmt
            utc = "%z" in wfmt or "%Z" in wfmt
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parsed = pd.to_datetime(work, format=wfmt, errors="coerce", utc=utc)
            if utc and parsed.notna().any():
                tz_seen = True
            values, _ = _to_ns(parsed)
            fill = nonnull & ~np.isnat(values)
            out[fill] = values[fill]
        fail = nonnull & np.isnat(out)
        if fail.any():
            codes, uniques = pd.factorize(text[fail], use_na_sentinel=True)
            results = [_parse_one(str(u), dayfirst) for u in uniques]
            tz_seen = tz_seen or any(tz for _, tz in results)
            stamps = [ts if (ts is not pd.NaT and _NS_LOW <= ts <= _NS_HIGH) else pd.NaT for ts, _ in results]
            conv = pd.Series(stamps, dtype="datetime64[ns]").to_numpy()
            out[fail] = conv[codes]
    if tz_seen:
        ledger.note(f"{column}: time-zone-aware timestamps converted to UTC and stored without a time zone")
    bad = nonnull & np.isnat(out)
    return out, bad


def _timestamps(raw: _Raw, mapping: dict, names: Iterable[str], texts: dict, dayfirst, rows: _Rows) -> dict[str, np.ndarray]:
    present = [c for c in names if c in mapping]
    text_cols = {c: texts[c] for c in present if not pd.api.types.is_datetime64_any_dtype(raw.frame[mapping[c]].dtype)}
    # Columns of ISO 8601 text are read by pyarrow, which also shows that they carry no evidence of
    # the date order (and need none: a year-first date is year-month-day).
    iso = {c: v for c, t in text_cols.items() if (v := _iso_timestamps(t)) is not None}
    order = _decide_dayfirst(text_cols, dayfirst, raw.ledger, iso) if text_cols else False
    out = {}
    for c in present:
        src = raw.frame[mapping[c]]
        values, bad = _parse_timestamps(src, texts.get(c), order, c, raw.ledger, iso.get(c))
        rows.exclude(
            "unparseable_timestamp", bad,
            lambda i, c=c, src=src: f"{c} {src.iloc[i]!r} in column {mapping[c]!r} could not be read as a date/time",
        )
        out[c] = values
    return out


# ------------------------------------------------------------------------------------------------
# Scores
# ------------------------------------------------------------------------------------------------

_K_MISSING, _K_CODE, _K_NOT_SURVEYED, _K_NUMBER, _K_LABEL = range(5)
_C_OK, _C_MISSING, _C_CODE, _C_NOT_SURVEYED, _C_OUT, _C_UNKNOWN = range(6)
_LEADING_NUMBER = re.compile(r"^\s*[-+]?\d")


@dataclass
class _ScoreValues:
    """The distinct raw scores, classified before any scale is applied."""

    codes: np.ndarray  # row -> distinct value index, -1 for missing
    uniques: list
    kinds: np.ndarray
    numbers: np.ndarray

    @classmethod
    def of(cls, raw: pd.Series, codes_decl: _Codes | None, preset: Preset) -> "_ScoreValues":
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        uniques = list(uniques)
        kinds = np.empty(len(uniques), dtype=np.int8)
        numbers = np.full(len(uniques), np.nan)
        nonresp = {normalise_label(x) for x in preset.nonresponse_labels}
        not_surveyed = {normalise_label(x) for x in preset.not_surveyed_labels}
        for j, u in enumerate(uniques):
            label = normalise_label(u) if isinstance(u, str) else None
            num = _scalar_number(u)
            if label is not None and label in _MISSING_TOKENS and not (codes_decl and codes_decl.match(u)):
                kinds[j] = _K_MISSING
            elif codes_decl and codes_decl.match(u):
                kinds[j] = _K_CODE
            elif label is not None and label in not_surveyed:
                kinds[j] = _K_NOT_SURVEYED
            elif label is not None and label in nonresp:
                kinds[j] = _K_MISSING
            elif num is not None:
                kinds[j] = _K_NUMBER
                numbers[j] = num
            else:
                kinds[j] = _K_LABEL
        return cls(codes, uniques, kinds, numbers)

    def row_kinds(self) -> np.ndarray:
        k = np.append(self.kinds, _K_MISSING).astype(np.int8)
        return k[self.codes]

    def substantive(self) -> list:
        """The distinct values that need a scale (numbers and labels)."""
        return [u for u, k in zip(self.uniques, self.kinds) if k in (_K_NUMBER, _K_LABEL)]

    def on_scale(self, scale: Scale, which: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(point, category) of each distinct value (or of ``which`` of them) on ``scale``."""
        idx = np.arange(len(self.uniques)) if which is None else which
        points = np.full(len(idx), np.nan)
        cats = np.empty(len(idx), dtype=np.int8)
        allowed = set(float(p) for p in scale.points)
        passthrough = {_K_MISSING: _C_MISSING, _K_CODE: _C_CODE, _K_NOT_SURVEYED: _C_NOT_SURVEYED}
        for pos, j in enumerate(idx):
            kind = self.kinds[j]
            if kind in passthrough:
                cats[pos] = passthrough[kind]
            elif kind == _K_NUMBER:
                v = self.numbers[j]
                if v in allowed:
                    points[pos], cats[pos] = v, _C_OK
                else:
                    cats[pos] = _C_OUT
            else:
                u = self.uniques[j]
                p = scale.lookup(u if isinstance(u, str) else _scalar_text(u))
                if p is None:
                    text = normalise_label(u)
                    cats[pos] = _C_OUT if _LEADING_NUMBER.match(text) else _C_UNKNOWN
                elif np.isnan(p):
                    cats[pos] = _C_MISSING
                else:
                    points[pos], cats[pos] = p, _C_OK
        return points, cats


def _choose_scale(preset: Preset, values: _ScoreValues, column: str, ledger: Ledger) -> Scale:
    subst = values.substantive()
    labels = [u for u in subst if _scalar_number(u) is None]
    if preset.scale_from_labels is not None and labels:
        name = preset.scale_from_labels([str(v) for v in labels])
        if name:
            ledger.note(f"no scale given: the labels of {column!r} are those of scale {name!r} ({preset.name} preset)")
            return get_scale(name)
    if preset.default_scale:
        ledger.note(f"no scale given: scale {preset.default_scale!r}, the default of the {preset.name} preset")
        return get_scale(preset.default_scale)
    nums = [_scalar_number(u) for u in subst]
    if all(v is not None and v in {1.0, 2.0, 3.0, 4.0, 5.0} for v in nums):
        ledger.note(f"no scale given: every score in {column!r} is a number from 1 to 5, read as scale 'likert5'")
        return get_scale("likert5")
    odd = [u for u, v in zip(subst, nums) if v is None or v not in {1.0, 2.0, 3.0, 4.0, 5.0}][:5]
    raise ParameterError(
        f"No `scale` was given and column {column!r} holds values other than the numbers 1 to 5 "
        f"(e.g. {odd}); pass scale=, one of {scale_names()} (scale='binary' for good/bad or "
        "satisfied/dissatisfied labels, scale='nps' for 0-10, scale='emoji5' for faces)."
    )


@dataclass
class _Scored:
    """Scores on their scales: points and category per row, and the scale of each row."""

    points: np.ndarray
    cats: np.ndarray
    names: pd.Series | None  # per-row scale names (a ``scale`` column), else None
    constant: str | None  # the one scale's name when there is no ``scale`` column
    scale_at: Callable[[int], Scale]
    unknown: np.ndarray | None  # rows whose scale is not registered
    names_key: Callable[[], tuple[np.ndarray, int]] | None = None  # ``names`` factorized: (codes, -1 missing; count)


def _unique_ints(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for keys from 0 to ``size - 1``: one counting pass, no sort."""
    if size > 4 * len(keys) + 1024:  # sparse keys: a table that large would cost more than sorting
        return np.unique(keys, return_inverse=True)
    uniq = np.flatnonzero(np.bincount(keys, minlength=size))
    position = np.zeros(size, dtype=np.intp)
    position[uniq] = np.arange(len(uniq))
    return uniq, position[keys]


def _apply_scales(values: _ScoreValues, names: pd.Series | None, fixed: Scale | None, preset: Preset,
                  column: str, ledger: Ledger) -> _Scored:
    if names is None:
        sc = fixed if fixed is not None else _choose_scale(preset, values, column, ledger)
        p, c = values.on_scale(sc)
        p = np.append(p, np.nan)
        c = np.append(c, _C_MISSING).astype(np.int8)
        return _Scored(p[values.codes], c[values.codes], None, sc.name, lambda i: sc, None)
    # one scale per row: map each distinct (value, scale) pair once
    scodes, suniques = pd.factorize(names, use_na_sentinel=True)
    scales: list[Scale | None] = []
    for u in suniques:
        try:
            scales.append(get_scale(u))
        except ParameterError:
            scales.append(None)
    scales.append(fixed)  # blank scale cells take scale=
    m = len(scales)
    row_scale = np.where(scodes < 0, m - 1, scodes)
    # pair = value code * m + scale code, from -m (a missing score has code -1); shifted by m to count
    key = values.codes.astype(np.int64)
    key += 1
    key *= m
    key += row_scale
    upair, inverse = _unique_ints(key, (len(values.uniques) + 1) * m)
    upair -= m
    pts_u = np.full(len(upair), np.nan)
    cat_u = np.full(len(upair), _C_OK, dtype=np.int8)  # rows of an unknown scale are excluded as such
    for si, sc in enumerate(scales):
        sel = np.flatnonzero(upair % m == si)
        vals = upair[sel] // m
        has = vals >= 0
        if sc is not None and has.any():
            pts_u[sel[has]], cat_u[sel[has]] = values.on_scale(sc, vals[has])
        cat_u[sel[~has]] = _C_MISSING
    names_of_scales = [s.name if s is not None else None for s in scales]
    if names.dtype == STRING_DTYPE and (fixed is None or not (scodes < 0).any()) and all(
        a == b for a, b in zip(names_of_scales, suniques)
    ):  # every cell already names its scale as registered: the column itself, without a second copy
        row_names = names.array
    else:
        row_names = pd.array(names_of_scales, dtype=STRING_DTYPE).take(row_scale)
    # the row names as codes (-1 missing), for the duplicate check: each scale's name factorized once
    name_codes, distinct = pd.factorize(pd.Series(names_of_scales, dtype=object), use_na_sentinel=True)
    known = np.array([s is not None for s in scales], dtype=bool)
    return _Scored(
        pts_u[inverse], cat_u[inverse], pd.Series(row_names), None,
        lambda i: scales[row_scale[i]], ~known[row_scale], lambda: (name_codes[row_scale], len(distinct)),
    )


def _weights(raw: pd.Series, text: pd.Series) -> np.ndarray:
    """Weights as floats (NaN where blank or not a number); decimal commas are read."""
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        w = raw.to_numpy(dtype=float, na_value=np.nan, copy=True)
        w[text.isna().to_numpy()] = np.nan  # declared missing codes
        return w
    # weights repeat: read each distinct text once, then look the rows up
    only = _only_value(text)
    if only is not None:  # one text throughout (often "1"): no hashing, no lookup
        codes, uniques = None, [only]
    else:
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
    u = pd.Series(uniques, dtype=text.dtype)
    w = pd.to_numeric(u, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
    retry = np.isnan(w)
    if retry.any():  # "1,5": looked at only where the plain parse failed
        w[retry] = [np.nan if (x := _scalar_number(v)) is None else x for v in u[retry]]
    if codes is None:
        return np.full(len(text), w[0])
    return np.append(w, np.nan)[codes]


def _only_value(t: pd.Series) -> str | None:
    """The value of a text column whose every row holds that same value; None otherwise (also when a row is missing).

    Answered for pyarrow-backed text with one comparison per row, without hashing; other storage gets None.
    """
    if len(t) == 0 or getattr(t.dtype, "storage", None) != "pyarrow":
        return None
    import pyarrow.compute as pc

    arr = t.array.__arrow_array__()
    if arr.null_count:
        return None
    first = arr[0]
    return first.as_py() if pc.all(pc.equal(arr, first)).as_py() else None


# ------------------------------------------------------------------------------------------------
# Responses
# ------------------------------------------------------------------------------------------------

_RESPONSE_TEXT = ("response_id", "interaction_id", "customer_id", "channel", "contact_reason", "agent_id",
                  "team", "comment", "scale")


def _check_common(dayfirst, strict) -> None:
    check_choice("dayfirst", dayfirst, [None, True, False])
    check_choice("strict", strict, [False, True])


def _texts(raw: _Raw, mapping: dict, names: Iterable[str]) -> dict[str, pd.Series]:
    """Mapped columns as text; columns already holding datetimes are left to the timestamp parser."""
    return {c: _as_text(_labelled(raw, mapping[c]), blank_free=raw.blank_free) for c in names
            if c in mapping and not pd.api.types.is_datetime64_any_dtype(raw.frame[mapping[c]].dtype)}


def _channel_column(texts: dict, mapping: dict, channel, channel_aliases, n: int, ledger: Ledger) -> pd.Series | None:
    fixed = None
    if channel is not None:
        if not isinstance(channel, str) or not channel.strip():
            raise ParameterError(f"The value for `channel` must be a channel name such as 'email', but {channel!r} was passed.")
        fixed = _normalise_channel(pd.Series([channel]), channel_aliases)[0].iloc[0]
    if "channel" in mapping:
        ch, unknown = _normalise_channel(texts["channel"], channel_aliases)
        if unknown:
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            ledger.note(f"channels not in the alias table, kept as written: {unknown[:10]}{more}")
        if fixed is not None:
            blanks = int(ch.isna().sum())
            if blanks:
                ledger.note(f"{blanks} row(s) without a channel set to {fixed!r} (channel=)")
                ch = ch.fillna(fixed)
        return ch
    if fixed is not None:
        ledger.note(f"no channel column: every row set to channel {fixed!r}")
        return pd.Series(pd.array([fixed] * n, dtype=STRING_DTYPE))
    return None


def _row_ids(prefix: str, idx: np.ndarray) -> pd.Series:
    return pd.Series(pd.array([f"{prefix}{i + 1}" for i in idx], dtype=STRING_DTYPE))


def _empty_text(k: int) -> pd.Series:
    return pd.Series(np.nan, index=range(k), dtype=STRING_DTYPE)


def _kept_text(t: pd.Series | None, idx: np.ndarray) -> pd.Series:
    if t is None:
        return _empty_text(len(idx))
    if len(idx) < len(t):  # otherwise every row is kept: no copy
        t = t.iloc[idx]
    return t.reset_index(drop=True).astype(STRING_DTYPE)


def _kept_time(v: np.ndarray | None, idx: np.ndarray) -> pd.Series:
    if v is None:
        return pd.Series(np.full(len(idx), np.datetime64("NaT"), dtype="datetime64[ns]"), copy=False)
    if len(idx) == len(v):  # every row kept: one copy (``v`` may be a view of the caller's frame)
        return pd.Series(v, copy=True)
    return pd.Series(v[idx], copy=False)  # already a copy


def _kept(v: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The kept rows of an array the loader made itself: the array, not a copy, when every row is kept."""
    return v if len(idx) == len(v) else v[idx]


def read_responses(
    source,
    *,
    scale=None,
    columns: Mapping[str, str] | None = None,
    preset="generic",
    channel: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    sheet=None,
    dayfirst: bool | None = None,
    missing_codes=None,
    missing_score: str = "nonresponse",
    channel_aliases: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Loaded:
    """Read survey responses into the canonical response schema, with a ledger of every row.

    Parameters
    ----------
    source : str, path or DataFrame
        A ``.csv``/``.txt``/``.tsv`` file (encoding and delimiter detected unless given), an Excel
        workbook (``.xlsx``, ``.xlsm``, ``.xls``), a Parquet file or directory (``.parquet``, ``.pq``),
        an SPSS file (``.sav``, ``.zsav``), or a DataFrame (validated the same way).
    scale : str or Scale, optional
        The scale of the score when the data has no ``scale`` column. When it has one, each row uses its
        own scale and ``scale`` fills the rows where it is blank. When neither is given: the preset's
        default (Zendesk: ``binary``; Freshdesk: ``emoji5``/``emoji3`` from the labels); otherwise
        ``likert5`` if every score is a number from 1 to 5, else :class:`~csatkit.exceptions.ParameterError`.
    columns : dict, optional
        Source column -> canonical name, e.g. ``{"Q1": "score", "Ticket": "interaction_id"}``. Wins over
        the preset; canonical names and the preset's synonyms are matched ignoring case and punctuation.
    preset : {"generic", "zendesk", "freshdesk", "qualtrics"} or Preset
        Column map and value conventions of a common export; see :data:`PRESETS`.
    channel : str, optional
        The channel of every row when the export has no channel column (a single-channel export);
        with a channel column it fills the blank cells.
    sep, encoding : str, optional
        For text files: the delimiter (default: detected among ``, ; TAB |``) and the encoding (default:
        byte-order mark, else UTF-8, else Windows-1252, else Latin-1). Both are noted in the ledger.
    sheet : str or int, optional
        Excel sheet name or 0-based index. Default: the first sheet (the others are listed in the ledger).
    dayfirst : bool, optional
        Whether ``1/8/2023`` is 1 August (True) or 8 January (False). Default: detected from the values
        (a first field above 12 means day first, a second field above 12 month first); ambiguous or
        conflicting files are read month first with a note.
    missing_codes : list or dict, optional
        Codes meaning "don't know / refused / not applicable" (e.g. ``[98, 99, -99, 0]``): a list applies
        to the score, a dict ``{column: [codes]}`` names columns (source or canonical names). A score
        carrying a code is excluded as ``nonsubstantive_answer``, never averaged; in other columns the
        cell is blanked and counted in ``ledger.recoded``. SPSS user-missing values are added automatically.
    missing_score : {"nonresponse", "exclude"}
        A row without a score records a survey sent but not answered: kept with score NaN and counted in
        ``ledger.unanswered`` (the default, feeding the response rate), or excluded as ``missing_score``.
    channel_aliases : dict, optional
        Extra channel spellings for this call; see :func:`normalise_channel`.
    strict : bool
        Raise :class:`~csatkit.exceptions.InputError` on the first data problem instead of excluding the row.
        Exclusions that follow from the design (blank rows, not surveyed, declared missing codes, missing
        scores under ``missing_score="exclude"``) never raise.

    Returns
    -------
    Loaded
        ``(data, ledger)``. ``data`` has the columns of :data:`~csatkit.schema.RESPONSE_COLUMNS`, in that order:
        ``response_id, interaction_id, customer_id, channel, contact_reason, agent_id, team, comment, scale``
        as strings (``response_id`` is ``"row-<n>"`` when the source has none), ``interaction_at`` and
        ``responded_at`` as naive ``datetime64[ns]`` (time-zone-aware values converted to UTC), ``score`` as
        float (NaN: sent, not answered) and ``weight`` as float (1.0 when absent). Columns absent from the
        source are present and empty.

    Raises
    ------
    DataFileError
        The file does not exist, is empty, has an unsupported format or cannot be parsed.
    MissingColumnError
        ``score`` or ``channel`` (without ``channel=``) cannot be found; the message lists the columns
        present and the nearest match.
    ParameterError
        An argument is invalid, or the scale cannot be determined.
    InputError
        With ``strict=True``: the first row with a data problem.

    Notes
    -----
    Each excluded row gets one reason, the first that applies in this order: ``blank_row``,
    ``not_surveyed``, ``nonsubstantive_answer``, ``missing_score`` (only with ``missing_score="exclude"``),
    ``unknown_scale``, ``score_out_of_range`` (a number, or a label starting with one, not on the scale),
    ``unknown_label``, ``missing_id`` (blank response id), ``missing_channel``, ``unparseable_timestamp``,
    ``invalid_weight`` (blank, negative or non-numeric weight), ``duplicate_response_id`` (same
    ``response_id`` and ``scale`` as an earlier kept row; the first is kept).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"id": ["a", "b", "c", "d"], "Satisfaction": ["satisfied", "neutral or dissatisfied", "", "99"]})
    >>> responses, ledger = read_responses(raw, scale="binary", channel="email", columns={"id": "response_id"},
    ...                                    missing_codes=[99])
    >>> responses["score"].tolist(), ledger.unanswered, ledger.excluded
    ([1.0, 0.0, nan], 1, {'nonsubstantive_answer': 1})
    """
    check_choice("missing_score", missing_score, ["nonresponse", "exclude"])
    _check_common(dayfirst, strict)
    pre = _get_preset(preset)
    fixed_scale = get_scale(scale) if scale is not None else None
    raw = _read_source(source, sep=sep, encoding=encoding, sheet=sheet)
    _skip_header_rows(raw, pre)
    frame, ledger = raw.frame, raw.ledger
    n = len(frame)
    ledger.rows_read = n
    present = list(frame.columns)
    mapping = _resolve_columns(present, columns, pre.synonyms(), RESPONSE_COLUMNS, ledger)
    _require(
        present, mapping, ["score"] + ([] if channel is not None else ["channel"]), ledger.source,
        {
            "score": " Name the score column with columns={'<column>': 'score'}.",
            "channel": " For an export of one channel only, pass channel='email' (or 'phone', 'chat', ...).",
        },
    )
    codes = _resolve_codes(missing_codes, mapping, present, "score", ledger)
    _add_file_codes(codes, raw, mapping)
    if pre.name == "qualtrics" and "Finished" in frame.columns:
        unfinished = int(_as_text(frame["Finished"]).str.lower().isin(["0", "false"]).sum())
        if unfinished:
            ledger.note(f"{unfinished} unfinished Qualtrics response(s) (Finished = 0) kept; a blank score counts as non-response")

    rows = _Rows(n, ledger, strict)
    texts = _texts(raw, mapping, _RESPONSE_TEXT + ("interaction_at", "responded_at", "weight", "score"))
    rows.exclude("blank_row", _blank_rows(frame, {mapping[c]: t for c, t in texts.items()}))
    for name in _RESPONSE_TEXT + ("interaction_at", "responded_at", "weight"):
        if name in texts and name in codes and name != "score":
            texts[name] = _recode_text(texts[name], codes[name], name, rows)

    # -- score and scale ----------------------------------------------------------------------------
    score_src = mapping["score"]
    score_raw = frame[score_src]
    values = _ScoreValues.of(score_raw, codes.get("score"), pre)
    kinds = values.row_kinds()
    rows.exclude("not_surveyed", kinds == _K_NOT_SURVEYED)
    rows.exclude("nonsubstantive_answer", kinds == _K_CODE)

    scored = _apply_scales(values, texts.get("scale"), fixed_scale, pre, score_src, ledger)
    points, cats, scale_text = scored.points, scored.cats, scored.names
    if missing_score == "exclude":
        rows.exclude("missing_score", cats == _C_MISSING, lambda i: f"score missing in column {score_src!r}")
    if scored.unknown is not None:
        given = texts["scale"]
        rows.exclude(
            "unknown_scale", scored.unknown,
            lambda i: (f"scale {given.iloc[i]!r} is not a registered scale (known: {scale_names()})"
                       if pd.notna(given.iloc[i]) else "scale blank and no scale= given"),
        )

    def _bad_score(i: int, what: str) -> str:
        s = scored.scale_at(i)
        return (f"score {score_raw.iloc[i]!r} in column {score_src!r} is {what} scale {s.name!r} "
                f"(points {list(s.points)}, labels {s.known_labels()})")

    rows.exclude("score_out_of_range", cats == _C_OUT, lambda i: _bad_score(i, "outside"))
    rows.exclude("unknown_label", cats == _C_UNKNOWN, lambda i: _bad_score(i, "not a label of"))

    # -- ids, channel, timestamps, weight -----------------------------------------------------------
    rid = None
    if "response_id" in mapping:
        rid = texts["response_id"]
    elif pre.response_id_from and pre.response_id_from in mapping:
        rid = texts[pre.response_id_from]
        ledger.note(f"no response id column: {pre.response_id_from} used as response id ({pre.name} preset)")
    if rid is not None:
        rows.exclude("missing_id", rid.isna().to_numpy(), lambda i: "response id is blank")
    ch = _channel_column(texts, mapping, channel, channel_aliases, n, ledger)
    rows.exclude("missing_channel", ch.isna().to_numpy(),
                 lambda i: f"channel is blank in column {mapping.get('channel')!r}")
    stamps = _timestamps(raw, mapping, ("interaction_at", "responded_at"), texts, dayfirst, rows)
    w = None
    if "weight" in mapping:
        wsrc = frame[mapping["weight"]]
        w = _weights(wsrc, texts["weight"])
        rows.exclude("invalid_weight", ~np.isfinite(w) | (w < 0),
                     lambda i: f"weight {wsrc.iloc[i]!r} in column {mapping['weight']!r} is blank, negative or not a number")
    if rid is not None:
        dup = _duplicates([rid, scored.names_key()] if scale_text is not None else [rid], rows.ok)

        def _dup(i: int) -> str:
            key = rid if scale_text is None else rid + "\x1f" + scale_text.fillna("")
            first = _first_occurrence(key, rows.ok, i)
            return f"response id {rid.iloc[i]!r} (scale {scored.scale_at(i).name!r}) already appears in row {first}"

        rows.exclude("duplicate_response_id", dup, _dup)

    # -- assemble -----------------------------------------------------------------------------------
    idx = np.flatnonzero(rows.ok)
    k = len(idx)
    out = {
        "response_id": _kept_text(rid, idx) if rid is not None else _row_ids("row-", idx),
        "interaction_id": _kept_text(texts.get("interaction_id"), idx),
        "customer_id": _kept_text(texts.get("customer_id"), idx),
        "channel": _kept_text(ch, idx),
        "contact_reason": _kept_text(texts.get("contact_reason"), idx),
        "agent_id": _kept_text(texts.get("agent_id"), idx),
        "team": _kept_text(texts.get("team"), idx),
        "interaction_at": _kept_time(stamps.get("interaction_at"), idx),
        "responded_at": _kept_time(stamps.get("responded_at"), idx),
        "score": pd.Series(_kept(points, idx).astype(float, copy=False), copy=False),
        "scale": (_kept_text(scale_text, idx) if scale_text is not None
                  else pd.Series(pd.array([scored.constant] * k, dtype=STRING_DTYPE))),
        "comment": _kept_text(texts.get("comment"), idx),
        "weight": pd.Series(_kept(w, idx) if w is not None else np.ones(k), dtype=float, copy=False),
    }
    data = pd.DataFrame(out, columns=RESPONSE_COLUMNS, copy=False)  # columns as built: no stacking into 2-D blocks
    ledger.unanswered = int(np.isnan(data["score"].to_numpy()).sum())
    rows.finish()
    ledger.check(len(data))
    return Loaded(data, ledger)


# ------------------------------------------------------------------------------------------------
# QA evaluations
# ------------------------------------------------------------------------------------------------

_ITEM_YES = frozenset({"yes", "y", "true", "t", "pass", "passed", "met", "achieved", "compliant", "done", "✓", "✔"})
_ITEM_NO = frozenset({"no", "n", "false", "f", "fail", "failed", "not met", "missed", "not achieved",
                      "non compliant", "non-compliant", "noncompliant", "✗", "✘"})
_ITEM_NA = frozenset({"n/a", "na", "not applicable", "n.a.", "#n/a"})


def _numeric_cells(raw: pd.Series, codes: _Codes | None, *, words: bool, label: str, source_col: str,
                   rows: _Rows, ledger: Ledger) -> np.ndarray:
    """Numbers from a QA item (or score): yes/no as 1/0 when ``words``; codes and N/A blanked and counted."""
    codes_u, uniques = pd.factorize(raw, use_na_sentinel=True)
    vals = np.full(len(uniques) + 1, np.nan)
    why = np.zeros(len(uniques) + 1, dtype=np.int8)  # 0 ok/missing, 1 code, 2 not applicable, 3 not a number
    for j, u in enumerate(uniques):
        if codes and codes.match(u):
            why[j] = 1
            continue
        num = _scalar_number(u)
        if num is not None and np.isfinite(num):
            vals[j] = num
            continue
        key = normalise_label(u) if isinstance(u, str) else None
        if key is None or key in ("", "nan", "none", "null"):
            continue
        if key in _ITEM_NA:
            why[j] = 2
        elif words and key in _ITEM_YES:
            vals[j] = 1.0
        elif words and key in _ITEM_NO:
            vals[j] = 0.0
        else:
            why[j] = 3
    row_why = why[codes_u]
    bad = (row_why == 3) & rows.ok
    if rows.strict and bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{ledger.source}, row {i + 1}: {label} (column {source_col!r}) has the non-numeric value {raw.iloc[i]!r}; "
            f"expected a number{', yes/no or pass/fail' if words else ''}. Pass strict=False to blank such cells "
            "(counted in the ledger)."
        )
    for code, reason in ((1, "declared missing code"), (2, "not applicable"), (3, "not a number")):
        rows.recode(label, reason, row_why == code)
    return vals[codes_u]


def _find_items(present: list[str], items, item_prefix, columns, ledger: Ledger) -> dict[str, str]:
    """source column -> output column ``item_<name>``."""
    chosen: dict[str, str] = {}
    if items is not None and item_prefix is not None:
        raise ParameterError("Pass either `items` or `item_prefix`, not both.")
    if items is not None:
        pairs = items.items() if isinstance(items, Mapping) else [(c, c) for c in ([items] if isinstance(items, str) else items)]
        for src, name in pairs:
            src = str(src)
            if src not in present:
                hint = nearest(src, present)
                tip = f" Did you mean {hint!r}?" if hint else ""
                raise MissingColumnError(
                    f"Item column {src!r} named in `items` is not in {ledger.source}; columns present: {present}.{tip}"
                )
            chosen[src] = str(name)
    else:
        prefix = (item_prefix if item_prefix is not None else ITEM_PREFIX).lower()
        if not prefix:
            raise ParameterError("The value for `item_prefix` must be a non-empty string, but '' was passed.")
        for col in present:
            if col.lower().startswith(prefix) and len(col) > len(prefix):
                chosen[col] = col[len(prefix):]
    for src, dst in (columns.items() if isinstance(columns, Mapping) else []):
        if str(dst).startswith(ITEM_PREFIX):
            if str(src) not in present:
                hint = nearest(str(src), present)
                tip = f" Did you mean {hint!r}?" if hint else ""
                raise MissingColumnError(
                    f"Column {src!r} named in `columns` is not in {ledger.source}; columns present: {present}.{tip}"
                )
            chosen[str(src)] = str(dst)[len(ITEM_PREFIX):]
    out: dict[str, str] = {}
    taken: set[str] = set()
    for src, name in chosen.items():
        base = ITEM_PREFIX + (_snake(name) or _snake(src) or "item")
        if base.startswith(ITEM_PREFIX + ITEM_PREFIX):
            base = base[len(ITEM_PREFIX):]
        final, k = base, 2
        while final in taken:
            final, k = f"{base}_{k}", k + 1
        taken.add(final)
        out[src] = final
    if out:
        ledger.note("scorecard items: " + ", ".join(f"{s!r} -> {d}" for s, d in out.items()))
    return out


def read_qa(
    source,
    *,
    columns: Mapping[str, str] | None = None,
    items=None,
    item_prefix: str | None = None,
    missing_codes=None,
    channel: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    sheet=None,
    dayfirst: bool | None = None,
    channel_aliases: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Loaded:
    """Read QA evaluations (scorecards) into the canonical QA schema, with a ledger of every row.

    Parameters
    ----------
    source : str, path or DataFrame
        As for :func:`read_responses`.
    columns : dict, optional
        Source column -> canonical name (one of :data:`~csatkit.schema.QA_COLUMNS`), or -> ``"item_<name>"``
        to declare a scorecard item. Synonyms such as Evaluator/Reviewer, Ticket ID, Total are matched.
    items : list or dict, optional
        The scorecard item columns (a dict renames them: ``{"Greeting & ID": "greeting"}``).
    item_prefix : str, optional
        Take as items the columns whose name starts with this prefix (which is dropped from the item name).
        Default when neither ``items`` nor ``item_prefix`` is given: columns named ``item_*``.
    missing_codes : dict, optional
        ``{column: [codes]}``: cells carrying a code (e.g. 9 = not applicable) are blanked and counted in
        ``ledger.recoded``; the row is kept.
    channel : str, optional
        Channel of every row when the file has no channel column (the channel column is optional here).
    sep, encoding, sheet, dayfirst, channel_aliases, strict
        As for :func:`read_responses`.

    Returns
    -------
    Loaded
        ``(data, ledger)``. ``data`` has the columns of :data:`~csatkit.schema.QA_COLUMNS` then one float
        column per item, ``item_<snake_name>``. ``evaluation_id`` is ``"row-<n>"`` when absent. Item values
        are numbers; yes/pass/met -> 1 and no/fail/not met -> 0; "N/A" and declared codes -> NaN (counted
        in ``ledger.recoded``); other text -> NaN counted as "not a number" (or
        :class:`~csatkit.exceptions.InputError` with ``strict=True``).
        When the file has no QA score, ``qa_score`` is the mean, over the items answered, of each item
        rescaled to 0-100 by the lowest and highest value observed in its column (items with a single
        observed value are left out); pass the scorecard's own weighted total when it has one.

    Notes
    -----
    Exclusion order: ``blank_row``, ``missing_id`` (blank interaction id or, when the column exists,
    evaluation id), ``unparseable_timestamp`` (``evaluated_at``), ``duplicate_id`` (evaluation id seen
    in an earlier kept row).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"Ticket ID": ["T1", "T2"], "Reviewer": ["e1", "e1"], "item_greeting": ["yes", "no"],
    ...                     "item_empathy": [4, "N/A"]})
    >>> qa, ledger = read_qa(raw, missing_codes=None)
    >>> qa[["interaction_id", "item_greeting", "item_empathy"]].to_dict("list")
    {'interaction_id': ['T1', 'T2'], 'item_greeting': [1.0, 0.0], 'item_empathy': [4.0, nan]}
    >>> ledger.recoded
    {'item_empathy: not applicable': 1}
    """
    _check_common(dayfirst, strict)
    raw = _read_source(source, sep=sep, encoding=encoding, sheet=sheet)
    frame, ledger = raw.frame, raw.ledger
    n = len(frame)
    ledger.rows_read = n
    present = list(frame.columns)
    item_cols = _find_items(present, items, item_prefix, columns, ledger)
    mapping = _resolve_columns(
        present, columns, [(_compact(k), v) for k, v in _QA_SYNONYMS.items()], QA_COLUMNS, ledger,
        allow_items=True, reserved=item_cols,
    )
    _require(present, mapping, ["interaction_id"], ledger.source, {})
    if not item_cols and "qa_score" not in mapping:
        raise MissingColumnError(
            f"No scorecard item columns and no QA score found in {ledger.source}; columns present: {present}. "
            "Pass items=[...] or item_prefix='...', or name the total with columns={'<column>': 'qa_score'}."
        )
    codes = _resolve_codes(missing_codes, mapping, present, None, ledger, extra=item_cols)
    _add_file_codes(codes, raw, mapping, extra=item_cols)

    rows = _Rows(n, ledger, strict)
    text_names = ("evaluation_id", "interaction_id", "agent_id", "team", "evaluator_id", "channel", "contact_reason")
    texts = _texts(raw, mapping, text_names + ("evaluated_at", "qa_score"))
    by_source = {mapping[c]: t for c, t in texts.items()}
    by_source.update({src: _as_text(frame[src]) for src in item_cols})
    rows.exclude("blank_row", _blank_rows(frame, by_source))
    for name in text_names + ("evaluated_at",):
        if name in texts and name in codes:
            texts[name] = _recode_text(texts[name], codes[name], name, rows)

    ids = texts["interaction_id"]
    rows.exclude("missing_id", ids.isna().to_numpy(), lambda i: f"interaction id is blank in column {mapping['interaction_id']!r}")
    eid = texts.get("evaluation_id")
    if eid is not None:
        rows.exclude("missing_id", eid.isna().to_numpy(), lambda i: f"evaluation id is blank in column {mapping['evaluation_id']!r}")
    stamps = _timestamps(raw, mapping, ("evaluated_at",), texts, dayfirst, rows)
    if eid is not None:
        dup = _duplicates([eid], rows.ok)
        rows.exclude("duplicate_id", dup,
                     lambda i: f"evaluation id {eid.iloc[i]!r} already appears in row {_first_occurrence(eid, rows.ok, i)}")

    item_values = {
        dst: _numeric_cells(frame[src], codes.get(dst), words=True, label=dst, source_col=src, rows=rows, ledger=ledger)
        for src, dst in item_cols.items()
    }
    if "qa_score" in mapping:
        qa = _numeric_cells(frame[mapping["qa_score"]], codes.get("qa_score"), words=False, label="qa_score",
                            source_col=mapping["qa_score"], rows=rows, ledger=ledger)
    else:
        qa = None
    ch = None
    if "channel" in mapping or channel is not None:
        ch = _channel_column(texts, mapping, channel, channel_aliases, n, ledger)

    idx = np.flatnonzero(rows.ok)
    out = {
        "evaluation_id": _kept_text(eid, idx) if eid is not None else _row_ids("row-", idx),
        "interaction_id": _kept_text(ids, idx),
        "agent_id": _kept_text(texts.get("agent_id"), idx),
        "team": _kept_text(texts.get("team"), idx),
        "evaluator_id": _kept_text(texts.get("evaluator_id"), idx),
        "evaluated_at": _kept_time(stamps.get("evaluated_at"), idx),
        "channel": _kept_text(ch, idx),
        "contact_reason": _kept_text(texts.get("contact_reason"), idx),
    }
    kept_items = {dst: v[idx] for dst, v in item_values.items()}
    if qa is not None:
        out["qa_score"] = pd.Series(qa[idx], dtype=float)
    else:
        scaled = []
        for dst, v in kept_items.items():
            lo, hi = (np.nanmin(v), np.nanmax(v)) if np.isfinite(v).any() else (np.nan, np.nan)
            if np.isfinite(lo) and hi > lo:
                scaled.append((v - lo) / (hi - lo) * 100.0)
            else:
                ledger.note(f"{dst} left out of the computed qa_score: fewer than two distinct values")
        if scaled:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                total = np.nanmean(np.vstack(scaled), axis=0)
        else:
            total = np.full(len(idx), np.nan)
        out["qa_score"] = pd.Series(total, dtype=float)
        ledger.note(
            f"qa_score computed as the mean of {len(scaled)} item(s) rescaled to 0-100 by each item's observed range"
        )
    for dst, v in kept_items.items():
        out[dst] = pd.Series(v, dtype=float)
    data = pd.DataFrame(out, columns=QA_COLUMNS + list(kept_items))
    rows.finish()
    ledger.check(len(data))
    return Loaded(data, ledger)


# ------------------------------------------------------------------------------------------------
# Contact logs
# ------------------------------------------------------------------------------------------------

_BOOL_TRUE = frozenset({"yes", "y", "true", "t", "1", "1.0"})
_BOOL_FALSE = frozenset({"no", "n", "false", "f", "0", "0.0"})
_CONTACT_BOOLS = ("repeat_contact", "resolved_first_contact", "survey_sent", "churned")
_CONTACT_TIMES = ("opened_at", "first_response_at", "resolved_at")


def _booleans(raw: pd.Series, codes: _Codes | None, label: str, source_col: str, rows: _Rows, ledger: Ledger) -> pd.Series:
    codes_u, uniques = pd.factorize(raw, use_na_sentinel=True)
    vals: list = []
    why = np.zeros(len(uniques) + 1, dtype=np.int8)  # 1 code, 3 not yes/no
    for j, u in enumerate(uniques):
        if codes and codes.match(u):
            vals.append(pd.NA)
            why[j] = 1
            continue
        if isinstance(u, (bool, np.bool_)):
            vals.append(bool(u))
            continue
        num = _scalar_number(u)
        key = normalise_label(u) if isinstance(u, str) else (None if num is None else ("1" if num == 1 else "0" if num == 0 else "x"))
        if key in _BOOL_TRUE:
            vals.append(True)
        elif key in _BOOL_FALSE:
            vals.append(False)
        elif key is None or key in _MISSING_TOKENS:
            vals.append(pd.NA)
        else:
            vals.append(pd.NA)
            why[j] = 3
    vals.append(pd.NA)
    row_why = why[codes_u]
    bad = (row_why == 3) & rows.ok
    if rows.strict and bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{ledger.source}, row {i + 1}: {label} (column {source_col!r}) has the value {raw.iloc[i]!r}, which is "
            "not yes/no, true/false, 1/0 or Y/N. Pass strict=False to blank such cells (counted in the ledger)."
        )
    rows.recode(label, "declared missing code", row_why == 1)
    rows.recode(label, "not yes/no", row_why == 3)
    arr = pd.array(vals, dtype="boolean")
    return pd.Series(arr.take(np.where(codes_u < 0, len(uniques), codes_u)))


def read_contacts(
    source,
    *,
    columns: Mapping[str, str] | None = None,
    channel: str | None = None,
    missing_codes=None,
    sep: str | None = None,
    encoding: str | None = None,
    sheet=None,
    dayfirst: bool | None = None,
    channel_aliases: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Loaded:
    """Read a contact log into the canonical contact schema, with a ledger of every row.

    Parameters
    ----------
    source : str, path or DataFrame
        As for :func:`read_responses`.
    columns : dict, optional
        Source column -> canonical name (one of :data:`~csatkit.schema.CONTACT_COLUMNS`). Synonyms such as
        Ticket ID, Created at, Solved at, First reply at, FCR are matched.
    channel : str, optional
        Channel of every row when the log has no channel column.
    missing_codes : dict, optional
        ``{column: [codes]}``: cells carrying a code are blanked and counted in ``ledger.recoded``.
    sep, encoding, sheet, dayfirst, channel_aliases, strict
        As for :func:`read_responses`.

    Returns
    -------
    Loaded
        ``(data, ledger)``. ``data`` has the columns of :data:`~csatkit.schema.CONTACT_COLUMNS`: ids, channel,
        reason, agent and team as strings, ``opened_at``, ``first_response_at``, ``resolved_at`` as naive
        ``datetime64[ns]``, and ``repeat_contact``, ``resolved_first_contact``, ``survey_sent``, ``churned``
        as nullable booleans parsed from yes/no, true/false, 1/0, Y/N (other values blanked and counted in
        ``ledger.recoded``, or an error with ``strict=True``).

    Notes
    -----
    Exclusion order: ``blank_row``, ``missing_id`` (blank interaction id), ``missing_channel``,
    ``unparseable_timestamp``, ``duplicate_id`` (interaction id seen in an earlier kept row).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"Ticket ID": [1, 2], "Via": ["Phone", "Email"], "Repeat": ["Y", "no"]})
    >>> contacts, ledger = read_contacts(raw)
    >>> contacts[["interaction_id", "channel", "repeat_contact"]].to_dict("list")
    {'interaction_id': ['1', '2'], 'channel': ['phone', 'email'], 'repeat_contact': [True, False]}
    """
    _check_common(dayfirst, strict)
    raw = _read_source(source, sep=sep, encoding=encoding, sheet=sheet)
    frame, ledger = raw.frame, raw.ledger
    n = len(frame)
    ledger.rows_read = n
    present = list(frame.columns)
    mapping = _resolve_columns(present, columns, [(_compact(k), v) for k, v in _CONTACT_SYNONYMS.items()],
                               CONTACT_COLUMNS, ledger)
    _require(
        present, mapping, ["interaction_id"] + ([] if channel is not None else ["channel"]), ledger.source,
        {"channel": " For a log of one channel only, pass channel='phone' (or 'email', 'chat', ...)."},
    )
    codes = _resolve_codes(missing_codes, mapping, present, None, ledger)
    _add_file_codes(codes, raw, mapping)
    rows = _Rows(n, ledger, strict)
    text_names = ("interaction_id", "customer_id", "channel", "contact_reason", "agent_id", "team")
    texts = _texts(raw, mapping, text_names + _CONTACT_TIMES + _CONTACT_BOOLS)
    rows.exclude("blank_row", _blank_rows(frame, {mapping[c]: t for c, t in texts.items()}))
    for name in text_names + _CONTACT_TIMES:
        if name in texts and name in codes:
            texts[name] = _recode_text(texts[name], codes[name], name, rows)
    ids = texts["interaction_id"]
    rows.exclude("missing_id", ids.isna().to_numpy(), lambda i: f"interaction id is blank in column {mapping['interaction_id']!r}")
    ch = _channel_column(texts, mapping, channel, channel_aliases, n, ledger)
    rows.exclude("missing_channel", ch.isna().to_numpy(), lambda i: f"channel is blank in column {mapping.get('channel')!r}")
    stamps = _timestamps(raw, mapping, _CONTACT_TIMES, texts, dayfirst, rows)
    dup = _duplicates([ids], rows.ok)
    rows.exclude("duplicate_id", dup,
                 lambda i: f"interaction id {ids.iloc[i]!r} already appears in row {_first_occurrence(ids, rows.ok, i)}")
    bools = {
        name: _booleans(frame[mapping[name]], codes.get(name), name, mapping[name], rows, ledger)
        for name in _CONTACT_BOOLS if name in mapping
    }
    idx = np.flatnonzero(rows.ok)
    out = {name: _kept_text(texts.get(name) if name != "channel" else ch, idx) for name in text_names}
    for name in _CONTACT_TIMES:
        out[name] = _kept_time(stamps.get(name), idx)
    for name in _CONTACT_BOOLS:
        out[name] = (bools[name].iloc[idx].reset_index(drop=True) if name in bools
                     else pd.Series(pd.array([pd.NA] * len(idx), dtype="boolean")))
    data = pd.DataFrame(out, columns=CONTACT_COLUMNS)
    rows.finish()
    ledger.check(len(data))
    return Loaded(data, ledger)
