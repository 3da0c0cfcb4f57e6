"""Free text in reports: HTML escaping and masking of personal data.

Survey comments are typed by customers. Before a comment reaches a report it is

1. **masked**: e-mail addresses, telephone numbers and card-like numbers are replaced by
   ``[email]``, ``[phone]`` and ``[card]`` (:func:`mask_pii`);
2. **escaped**: ``<``, ``>``, ``&`` and quotes become HTML entities, so a comment such as
   ``<script>alert(1)</script>`` is shown as text and never runs (:func:`escape_text`).

Notebooks display comments only through :func:`safe_comments_table`, which does both.

What is masked
--------------
========  ===========================================================================
token     matched forms
========  ===========================================================================
[email]   ``name.surname+tag@example.co.uk``
[card]    13 to 19 digits, optionally in groups separated by single spaces or dashes
          (``4111 1111 1111 1111``, ``4111-1111-1111-1111``, ``4111111111111111``);
          with ``luhn=True`` only numbers that pass the Luhn check
[phone]   international numbers starting with ``+`` (``+44 20 7946 0958``,
          ``+1 (555) 123-4567``, ``+4915112345678``); North-American numbers
          (``(555) 123-4567``, ``555-123-4567``, ``555.123.4567``); national numbers with a
          leading trunk zero and 10-11 digits (``07700 900123``, ``020 7946 0958``,
          ``0161 496 0000``)
========  ===========================================================================

Ordinary numbers are left alone: order numbers up to 12 digits, dates (``2026-09-30``,
``30.09.2026``, ``30/09/2026``), times, amounts (``£1,234.56``) and scores.

Masking is a safeguard for reports, not an anonymisation: names, addresses and numbers written
in words pass through.

Examples
--------
>>> from csatkit.privacy import mask_pii
>>> mask_pii("Call me on +44 20 7946 0958 or mail jo@example.com about order 12345")
'Call me on [phone] or mail [email] about order 12345'
>>> mask_pii("card 4111 1111 1111 1111, exp 09/27")
'card [card], exp 09/27'
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import pandas as pd

from ._validate import as_list, check_columns
from .exceptions import ParameterError

__all__ = ["mask_pii", "escape_text", "safe_comments_table", "SafeHTML", "MASK_TOKENS"]

#: The replacement written for each kind of personal data.
MASK_TOKENS = {"email": "[email]", "phone": "[phone]", "card": "[card]"}

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")

# 13-19 digits, single space or dash allowed between digits; not part of a longer run of digits,
# and not an international phone number (those start with "+").
_CARD = re.compile(r"(?<![\d+])(?<!\d[ -])\d(?:[ -]?\d){12,18}(?![ -]?\d)")

_PHONE_PATTERNS = [
    # international: +CC then 1-6 groups of up to 4 digits (area code may be in parentheses)
    re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){1,6}(?!\w)"),
    # North America with the area code in parentheses: (555) 123-4567
    re.compile(r"(?<![\w(])\(\d{3}\)[ .-]?\d{3}[ .-]?\d{4}(?!\w)"),
    # North America with separators: 555-123-4567, 555.123.4567, 555 123 4567
    re.compile(r"(?<![\w.-])\d{3}([ .-])\d{3}\1\d{4}(?![\w]|[.-]\d)"),
    # national formats with a trunk zero: 07700 900123, 020 7946 0958, 0161 496 0000, 07700900123
    re.compile(r"(?<![\w.+-])0\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}(?![\w]|[.-]\d)"),
]


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _mask_one(text: str, *, emails: bool, phones: bool, cards: bool, luhn: bool) -> str:
    if emails:
        text = _EMAIL.sub(MASK_TOKENS["email"], text)
    if phones:  # before cards, so that a card number written right after a phone number is still found
        for pattern in _PHONE_PATTERNS:
            text = pattern.sub(_phone, text)
    if cards:

        def card(m: re.Match) -> str:
            s = m.group(0)
            if luhn and not _luhn_ok(s):
                return s
            return MASK_TOKENS["card"]

        text = _CARD.sub(card, text)
    return text


def _phone(m: re.Match) -> str:
    s = m.group(0)
    if s.startswith("+"):
        # the pattern may run on into a following number: keep the longest run of digit groups
        # that is still a possible international number (at most 15 digits, E.164)
        best, count = None, 0
        for i, ch in enumerate(s):
            if ch.isdigit():
                count += 1
                if count > 15:
                    break
                if count >= 8 and (i + 1 == len(s) or not s[i + 1].isdigit()):
                    best = i + 1
        if best is None:
            return s
        if best < len(s) and s[best] == ")":
            best += 1
        return MASK_TOKENS["phone"] + s[best:]
    n = _digits(s)
    ok = 10 <= n <= 11 if s.startswith("0") else n == 10
    return MASK_TOKENS["phone"] if ok else s


def mask_pii(text, *, emails: bool = True, phones: bool = True, cards: bool = True, luhn: bool = False):
    """Replace e-mail addresses, telephone numbers and card-like numbers in free text.

    Parameters
    ----------
    text : str, pandas.Series, list of str, or None
        The text. Missing values (None, NaN, ``pd.NA``) pass through unchanged, and so do
        non-string cells of a Series.
    emails, phones, cards : bool, default True
        Which kinds of personal data to mask.
    luhn : bool, default False
        Mask a 13-19 digit number as ``[card]`` only when it passes the Luhn check. The default
        masks every number of card length, which errs on the side of privacy.

    Returns
    -------
    str, pandas.Series or list
        Of the same kind as ``text``, with ``[email]``, ``[phone]`` and ``[card]`` in place of what
        was found. A Series keeps its index and name.

    Raises
    ------
    ParameterError
        When ``text`` is neither a string, a Series, a list/tuple of strings nor missing.

    Examples
    --------
    >>> mask_pii("(555) 123-4567 / 07700 900123 / a.b@c.org")
    '[phone] / [phone] / [email]'
    >>> mask_pii("Ticket 2026-09-30, order 123456789")
    'Ticket 2026-09-30, order 123456789'
    """
    opts = dict(emails=emails, phones=phones, cards=cards, luhn=luhn)
    if isinstance(text, str):
        return _mask_one(text, **opts)
    if isinstance(text, pd.Series):
        return text.map(lambda v: _mask_one(v, **opts) if isinstance(v, str) else v)
    if isinstance(text, (list, tuple)):
        return type(text)(_mask_one(v, **opts) if isinstance(v, str) else v for v in text)
    if text is None or (not isinstance(text, Iterable) and pd.isna(text)):
        return text
    raise ParameterError(
        f"The value for `text` must be a string, a pandas Series or a list of strings, but a {type(text).__name__} was passed."
    )


def escape_text(text):
    """HTML-escape text (``&``, ``<``, ``>``, ``"`` and ``'``) so that it is shown, never interpreted.

    Parameters
    ----------
    text : str, pandas.Series or None
        A Series is escaped cell by cell; missing values pass through.

    Returns
    -------
    str or pandas.Series

    Examples
    --------
    >>> escape_text("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    """
    if isinstance(text, pd.Series):
        return text.map(lambda v: html.escape(v, quote=True) if isinstance(v, str) else v)
    if text is None:
        return None
    return html.escape(str(text), quote=True)


class SafeHTML(str):
    """A string of HTML built by csatkit from escaped parts; notebooks display it as HTML."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return str(self)


def safe_comments_table(
    df: pd.DataFrame,
    columns=None,
    *,
    mask: bool = True,
    text_columns=None,
    max_rows: int | None = 50,
    caption: str | None = None,
    luhn: bool = False,
) -> SafeHTML:
    """An HTML table of free-text comments, masked and escaped, for reports.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows to show, e.g. the comments of dissatisfied customers.
    columns : list of str, optional
        Columns to show, in order; all columns when omitted.
    mask : bool, default True
        Mask personal data in the text columns with :func:`mask_pii`. ``False`` (the report's
        ``mask=False`` parameter, ``csatkit report ... --no-mask``) shows the text as written;
        it is escaped either way.
    text_columns : list of str, optional
        Columns to mask; by default every column of string (object) type among ``columns``.
    max_rows : int or None, default 50
        Show at most this many rows, with a note saying how many were left out. None shows all.
    caption : str, optional
        Caption of the table (escaped).
    luhn : bool, default False
        Passed to :func:`mask_pii`.

    Returns
    -------
    SafeHTML
        A ``str`` holding ``<div class="csatkit-table-wrap"><table>...</table></div>``; a notebook
        cell that ends with it displays the table. Every cell and header is escaped: HTML in a
        comment is shown as text.

    Raises
    ------
    MissingColumnError
        When a column in ``columns`` or ``text_columns`` is absent.

    Examples
    --------
    >>> import pandas as pd
    >>> t = safe_comments_table(pd.DataFrame({"comment": ["<b>hi</b> jo@example.com"]}))
    >>> "&lt;b&gt;hi&lt;/b&gt; [email]" in t
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"The value for `df` must be a pandas DataFrame, but a {type(df).__name__} was passed.")
    if max_rows is not None and (not isinstance(max_rows, int) or max_rows < 0):
        raise ParameterError(f"The value for `max_rows` must be a whole number >= 0 or None, but {max_rows!r} was passed.")
    cols = as_list(columns) or [str(c) for c in df.columns]
    check_columns(df.columns, cols, where="the comments table")
    view = df.loc[:, cols]
    total = len(view)
    if max_rows is not None:
        view = view.head(max_rows)
    view = view.copy()
    if text_columns is None:
        texts = [c for c in cols if view[c].dtype == object or pd.api.types.is_string_dtype(view[c].dtype)]
    else:
        texts = as_list(text_columns)
        check_columns(view.columns, texts, where="the comments table")
    if mask:
        for c in texts:
            view[c] = mask_pii(view[c].astype(object), luhn=luhn)
    body = view.to_html(index=False, escape=True, na_rep="", border=0, classes="csatkit-comments")
    parts = ['<div class="csatkit-table-wrap">']
    if caption:
        parts.append(f'<p class="csatkit-caption">{escape_text(caption)}</p>')
    parts.append(body)
    if total > len(view):
        parts.append(f'<p class="csatkit-note">Showing {len(view):,} of {total:,} rows.</p>')
    if total == 0:
        parts.append('<p class="csatkit-note">No comments.</p>')
    parts.append("</div>")
    return SafeHTML("\n".join(parts))
