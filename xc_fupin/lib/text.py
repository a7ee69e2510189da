"""Text clean-up shared by every importer: what counties type is not what we compare."""

from __future__ import annotations

import unicodedata

# Zero-width characters survive NFKC and str.split(); they arrive with text pasted from
# web pages and WeChat, and a BOM can lead the first cell of a CSV.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def normalize_text(value: object) -> str:
    """Return `value` as clean single-spaced text.

    None becomes "". NFKC folds full-width digits, letters and punctuation to half-width
    ("１２３" -> "123", "（" -> "("); leading/trailing whitespace is stripped and inner runs
    of whitespace (ideographic and non-breaking spaces included) become one space.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return " ".join(text.split())


def header_key(value: object) -> str:
    """Return the comparison key of a column header.

    Only letters, digits and combining marks are kept (case-folded), so "金额（元）",
    "金额(元)", " 金 额 (元) " and "*金额【元】" all give "金额元".
    """
    text = normalize_text(value)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNM").casefold()


def shorten(value: object, limit: int = 40) -> str:
    """Return `value` as normalised text cut to `limit` characters, for error messages."""
    text = normalize_text(value)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
