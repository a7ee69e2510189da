"""Money amounts: Decimal end to end, one rounding rule."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from xc_fupin.lib.text import normalize_text, shorten

__all__ = ["MAX_AMOUNT", "AmountError", "format_money", "parse_amount", "round_money"]

CENT = Decimal("0.01")
# No single aid payment comes near this; a bigger number is a pasted ID or a typo.
MAX_AMOUNT = Decimal("1000000000")

_DECORATED = re.compile(r"(?:人民币|rmb|¥)?(?P<number>.*?)(?:元整?)?", re.IGNORECASE)
_PLAIN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


class AmountError(ValueError):
    """An amount that cannot be accepted; str(error) is the Chinese message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def round_money(value: Decimal) -> Decimal:
    """Round to cents, halves away from zero (the rule finance offices use)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value: Decimal | int | float | str | None) -> str:
    """The one way an amount is written for people: cents and thousands separators,
    "1,250.00" (pages, documents and export labels all use it). None and "" give ""."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{round_money(amount):,.2f}"


def _not_a_number(raw: object) -> AmountError:
    return AmountError(_("金额不是数字：%(value)s") % {"value": shorten(raw)})


def _from_text(raw: str) -> Decimal:
    # NFKC turns "￥" into "¥" and "，" into ",", so only half-width forms remain.
    compact = "".join(normalize_text(raw).split())
    match = _DECORATED.fullmatch(compact)
    text = match.group("number") if match else compact
    if not text:
        raise AmountError(_("金额为空"))
    if "," in text:
        # Thousands separators must group by three: "1,250.00" yes, "12,5" (a decimal comma) no.
        if not _GROUPED.fullmatch(text):
            raise _not_a_number(raw)
        text = text.replace(",", "")
    elif not _PLAIN.fullmatch(text):
        raise _not_a_number(raw)
    return Decimal(text)


def parse_amount(raw: object) -> Decimal:
    """Parse an amount of yuan from a cell and round it to cents.

    Accepts Decimal, int, float (via its shortest repr, never its binary value) and text
    such as "1,250.00元", "￥1250", "RMB 1250". Raises AmountError when the value is empty,
    not a number, negative, or over MAX_AMOUNT.
    """
    if raw is None:
        raise AmountError(_("金额为空"))
    if isinstance(raw, bool):
        raise _not_a_number(raw)
    if isinstance(raw, Decimal):
        amount = raw
    elif isinstance(raw, int):
        amount = Decimal(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise _not_a_number(raw)
        amount = Decimal(str(raw))
    elif isinstance(raw, str):
        amount = _from_text(raw)
    else:
        raise _not_a_number(raw)
    if not amount.is_finite():
        raise _not_a_number(raw)
    if amount < 0:
        raise AmountError(_("金额不能为负数：%(value)s") % {"value": shorten(raw)})
    if amount > MAX_AMOUNT:
        raise AmountError(_("金额过大：%(value)s") % {"value": shorten(raw)})
    try:
        rounded = round_money(amount)
    except InvalidOperation:
        raise _not_a_number(raw) from None
    # Decimal keeps the sign of zero; "-0" must not show up as "-0.00".
    return rounded if rounded else Decimal("0.00")
