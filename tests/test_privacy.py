"""Masking of personal data and HTML escaping of free text (csatkit.privacy).

Expected strings are written by hand from the masking rules in the module docstring; the phone
numbers are the ones reserved for fiction and documentation (Ofcom's 020 7946 0xxx and
07700 900xxx ranges, the North-American 555 range) and the card numbers are the well-known
test numbers of the card schemes.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from csatkit.exceptions import MissingColumnError, ParameterError
from csatkit.privacy import SafeHTML, escape_text, mask_pii, safe_comments_table


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mail jo@example.com now", "mail [email] now"),
        ("John.Smith+csat@mail.example.co.uk.", "[email]."),
        ("two: a@b.io, c_d@e-f.org", "two: [email], [email]"),
    ],
)
def test_emails_are_masked(text, expected):
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "+44 20 7946 0958",  # UK, international form
        "+44 (0)20 7946 0958",
        "+1 (555) 123-4567",  # North America, international form
        "+4915112345678",  # Germany, no separators
        "+33 6 12 34 56 78",  # France, pairs
        "(555) 123-4567",  # North America, local forms
        "555-123-4567",
        "555.123.4567",
        "07700 900123",  # UK mobile, national form
        "07700900123",
        "020 7946 0958",  # UK landline, national form
        "0161 496 0000",
    ],
)
def test_phone_numbers_are_masked(text):
    assert mask_pii(f"ring {text} please") == "ring [phone] please"


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1111",  # Visa test number, grouped by spaces
        "4111-1111-1111-1111",
        "4111111111111111",
        "5500 0000 0000 0004",  # Mastercard test number
        "3782 822463 10005",  # Amex test number, 15 digits in 4-6-5
    ],
)
def test_card_numbers_are_masked(text):
    assert mask_pii(f"card {text}, exp 09/27") == "card [card], exp 09/27"


def test_luhn_option_masks_only_valid_card_numbers():
    # 4111 1111 1111 1111 passes the Luhn check; changing the last digit breaks it.
    assert mask_pii("4111 1111 1111 1111", luhn=True) == "[card]"
    assert mask_pii("4111 1111 1111 1112", luhn=True) == "4111 1111 1111 1112"
    assert mask_pii("4111 1111 1111 1112") == "[card]"  # default errs on the side of privacy


@pytest.mark.parametrize(
    "text",
    [
        "order 12345",
        "order 123456789012",  # 12 digits: below card length
        "on 2026-09-30 at 10:30",
        "30.09.2026",
        "30/09/2026",
        "2026-09-30 12:00:00",
        "£1,234.56 refunded",
        "scores 5 4 3 2 1",
        "version 1.2.3",
        "ip 192.168.1.1",
        "12-34-5678",
        "I waited 45 minutes, 3 times, in 2025",
        "",
    ],
)
def test_ordinary_numbers_are_not_masked(text):
    assert mask_pii(text) == text


def test_phone_followed_by_card():
    text = "ring +44 20 7946 0958 4111 1111 1111 1111"
    assert mask_pii(text) == "ring [phone] [card]"


def test_kinds_can_be_switched_off():
    text = "jo@example.com, +44 20 7946 0958, 4111 1111 1111 1111"
    assert mask_pii(text, emails=False) == "jo@example.com, [phone], [card]"
    assert mask_pii(text, phones=False) == "[email], +44 20 7946 0958, [card]"
    assert mask_pii(text, cards=False) == "[email], [phone], 4111 1111 1111 1111"


def test_series_keep_index_name_and_missing_values():
    s = pd.Series(["a@b.com", None, np.nan, "fine", 3], index=[10, 11, 12, 13, 14], name="comment", dtype=object)
    out = mask_pii(s)
    assert out.index.tolist() == [10, 11, 12, 13, 14]
    assert out.name == "comment"
    assert out.iloc[0] == "[email]" and out.iloc[3] == "fine" and out.iloc[4] == 3
    assert out.iloc[1] is None and np.isnan(out.iloc[2])


def test_string_dtype_series_and_lists():
    s = pd.Series(["a@b.com", pd.NA], dtype="string")
    assert mask_pii(s).iloc[0] == "[email]"
    assert mask_pii(["a@b.com", "x"]) == ["[email]", "x"]
    assert mask_pii(None) is None


def test_mask_rejects_other_types():
    with pytest.raises(ParameterError, match="The value for `text` must be a string"):
        mask_pii({"a": 1})


def test_escape_text():
    assert escape_text("<script>alert('x') & \"y\"</script>") == (
        "&lt;script&gt;alert(&#x27;x&#x27;) &amp; &quot;y&quot;&lt;/script&gt;"
    )
    s = escape_text(pd.Series(["<b>", None]))
    assert s.iloc[0] == "&lt;b&gt;" and pd.isna(s.iloc[1])


class _Collect(HTMLParser):
    """Collects start tags and text of an HTML fragment."""

    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _parse(fragment: str) -> _Collect:
    p = _Collect()
    p.feed(fragment)
    p.close()
    return p


def _comments():
    return pd.DataFrame(
        {
            "channel": ["chat", "email", "phone"],
            "score": [1.0, 2.0, np.nan],
            "comment": ["<script>alert(1)</script> rude", "mail me at jo@example.com", None],
        }
    )


def test_safe_comments_table_escapes_and_masks():
    out = safe_comments_table(_comments(), columns=["channel", "comment"])
    assert isinstance(out, SafeHTML) and out._repr_html_() == str(out)
    parsed = _parse(out)
    assert "script" not in parsed.tags  # the comment did not become an element ...
    assert "<script>alert(1)</script> rude" in parsed.text  # ... but is shown as text
    assert "mail me at [email]" in parsed.text
    assert "jo@example.com" not in out
    assert "score" not in out  # only the columns asked for


def test_safe_comments_table_without_masking_still_escapes():
    out = safe_comments_table(_comments(), mask=False)
    parsed = _parse(out)
    assert "script" not in parsed.tags
    assert "mail me at jo@example.com" in parsed.text


def test_safe_comments_table_limits_rows_and_escapes_caption():
    out = safe_comments_table(_comments(), max_rows=1, caption="<i>worst</i>")
    assert "Showing 1 of 3 rows." in out
    assert "&lt;i&gt;worst&lt;/i&gt;" in out
    assert "No comments." in safe_comments_table(_comments().iloc[:0])


def test_safe_comments_table_checks_its_arguments():
    with pytest.raises(MissingColumnError, match="'coment' is missing"):
        safe_comments_table(_comments(), columns=["coment"])
    with pytest.raises(ParameterError, match="`max_rows`"):
        safe_comments_table(_comments(), max_rows=-1)
    with pytest.raises(ParameterError, match="`df` must be a pandas DataFrame"):
        safe_comments_table(["a"])


def test_html_escape_roundtrip_matches_stdlib():
    text = "a < b & c > d \"q\" 'r'"
    assert html.unescape(escape_text(text)) == text
