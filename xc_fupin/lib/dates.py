"""Dates as counties type them: real date cells, Excel serial numbers and many text forms."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from xc_fupin.lib.text import normalize_text, shorten

__all__ = ["DateParseError", "parse_date"]

# Excel's 1900 date system counts from 1899-12-30 once past its fictitious 1900-02-29.
_EXCEL_EPOCH = date(1899, 12, 30)
# Serials 20000-80000 are 1954-10-03 .. 2119-01-10: every date this product handles, and no
# plausible count, amount or yyyymmdd number.
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000
_YEAR_MIN, _YEAR_MAX = 1900, 2100

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_PATTERNS = (
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]?" + _TIME),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


class DateParseError(ValueError):
    """A date that cannot be accepted; str(error) is the Chinese message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _unrecognised(raw: object) -> DateParseError:
    return DateParseError(_("无法识别的日期：%(value)s") % {"value": shorten(raw)})


def _build(raw: object, year: int, month: int, day: int) -> date:
    try:
        result = date(year, month, day)
    except ValueError:
        raise DateParseError(
            _("日期不存在：%(value)s") % {"value": f"{year:04d}-{month:02d}-{day:02d}"}
        ) from None
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        raise DateParseError(_("日期超出合理范围：%(value)s") % {"value": shorten(raw)})
    return result


def _from_number(raw: int | float | Decimal) -> date:
    if isinstance(raw, Decimal) and not raw.is_finite():
        raise _unrecognised(raw)
    if isinstance(raw, float) and not math.isfinite(raw):
        raise _unrecognised(raw)
    if _SERIAL_MIN <= raw < _SERIAL_MAX:
        # The fraction is the time of day.
        return _EXCEL_EPOCH + timedelta(days=math.floor(raw))
    if raw == int(raw) and 10_000_000 <= raw <= 99_999_999:
        # 20190610 typed into a number-formatted cell.
        digits = str(int(raw))
        return _build(raw, int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    raise _unrecognised(raw)


def parse_date(raw: object) -> date:
    """Parse a date cell.

    Accepts date and datetime objects, Excel serial numbers (1900 date system), yyyymmdd
    numbers and text such as "2019-06-10", "2019/6/10", "2019.6.10", "2019年6月10日",
    "2019年6月10号", "20190610", "2019-06-10 00:00:00". Raises DateParseError.
    """
    if raw is None:
        raise DateParseError(_("日期为空"))
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, bool):
        raise _unrecognised(raw)
    if isinstance(raw, (int, float, Decimal)):
        return _from_number(raw)
    if not isinstance(raw, str):
        raise _unrecognised(raw)
    text = normalize_text(raw)
    if not text:
        raise DateParseError(_("日期为空"))
    # "2019 年 6 月 10 日": spaces only matter between a date and its time.
    compact = re.sub(r"\s*([年月日号\-/.])\s*", r"\1", text)
    for pattern in _PATTERNS:
        match = pattern.fullmatch(compact)
        if match:
            year, month, day = (g for g in match.groups() if g and g.isdigit())
            return _build(raw, int(year), int(month), int(day))
    raise _unrecognised(raw)
