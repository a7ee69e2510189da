"""Today's date, in Asia/Shanghai.

`XC_TODAY=YYYY-MM-DD` pins the date for demonstrations of the 2019 plan (the run
command sets it so deadlines show as they did that year); pages show a banner when it is
set, so nobody mistakes the demo clock for the real one. Tests freeze time instead.
"""

from __future__ import annotations

import datetime as dt
import os

from django.utils import timezone


def demo_today() -> dt.date | None:
    value = os.environ.get("XC_TODAY", "").strip()
    return dt.date.fromisoformat(value) if value else None


def today() -> dt.date:
    return demo_today() or timezone.localdate()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)
