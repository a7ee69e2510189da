"""Months and quarters as the monthly cycle names them (2019-05, 2019Q2)."""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext as _

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(period: dt.date) -> dt.date:
    return next_month(period) - dt.timedelta(days=1)


def next_month(period: dt.date) -> dt.date:
    return (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(period: dt.date) -> dt.date:
    return (period.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def parse_month(text: str) -> dt.date:
    """`2019-05` → 2019-05-01. Raises ValueError with a Chinese message."""
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(_("月份应写作 YYYY-MM，如 2019-05：%(v)s") % {"v": text})
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def parse_quarter(text: str) -> dt.date:
    """`2019Q2` → 2019-04-01 (the quarter's first day)."""
    m = _QUARTER.match(text.strip())
    if not m:
        raise ValueError(_("季度应写作 YYYYQn，如 2019Q2：%(v)s") % {"v": text})
    return dt.date(int(m.group(1)), (int(m.group(2)) - 1) * 3 + 1, 1)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def quarter_months(start: dt.date) -> list[dt.date]:
    return [dt.date(start.year, start.month + i, 1) for i in range(3)]


def quarter_end(start: dt.date) -> dt.date:
    return month_end(quarter_months(start)[-1])


def next_quarter(start: dt.date) -> dt.date:
    return next_month(quarter_months(start)[-1])


def quarter_number(start: dt.date) -> int:
    return (start.month - 1) // 3 + 1


def month_label(period: dt.date) -> str:
    return f"{period.year}年{period.month}月"


QUARTER_WORDS = {1: "一", 2: "二", 3: "三", 4: "四"}


def quarter_label(start: dt.date) -> str:
    return f"{start.year}年第{QUARTER_WORDS[quarter_number(start)]}季度"
