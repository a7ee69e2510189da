"""The one clock: every "now" and "today" the app writes or compares comes from here.

`XC_TODAY=YYYY-MM-DD` pins the date for demonstrations of the 2019 plan (the run
command sets it so deadlines show as they did that year); pages show a banner when it is
set, so nobody mistakes the demo clock for the real one. `now()` is that date with the
current time of day in Asia/Shanghai, so an upload made "today" in the demo is stamped
2019-06-16 and sorts after the ones made this morning. Tests freeze time (time-machine)
or set XC_TODAY.

Nothing else calls timezone.now()/localdate() (tests/test_clock.py greps the tree).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models
from django.utils import timezone

_pinned: ContextVar[dt.datetime | None] = ContextVar("clock_pinned", default=None)


def demo_today() -> dt.date | None:
    value = os.environ.get("XC_TODAY", "").strip()
    return dt.date.fromisoformat(value) if value else None


def now() -> dt.datetime:
    """The current moment, aware, in the site's time zone (Asia/Shanghai).

    Under XC_TODAY: that date with the real time of day. Inside `replay(moment)`: that
    moment."""
    pinned = _pinned.get()
    if pinned is not None:
        return timezone.localtime(pinned)
    real = timezone.localtime(timezone.now())
    day = demo_today()
    if day is None:
        return real
    return real.replace(year=day.year, month=day.month, day=day.day)


def today() -> dt.date:
    return now().date()


@contextmanager
def replay(moment: dt.datetime) -> Iterator[None]:
    """Run the block as if it were `moment` (aware). The demo replays the spring of 2019
    through the real services this way, so every stamp, history row and "today" check
    inside tells the same story. Never used by a request or a job."""
    if timezone.is_naive(moment):
        raise ValueError("replay() needs an aware datetime")
    token = _pinned.set(moment)
    try:
        yield
    finally:
        _pinned.reset(token)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def stamp_last_login(sender: Any, user: Any, **kwargs: Any) -> None:
    """django.contrib.auth's update_last_login on this clock (tasks.apps wires it in)."""
    user.last_login = now()
    user.save(update_fields=["last_login"])


class DateTimeField(models.DateTimeField):
    """A DateTimeField whose `auto_now`/`auto_now_add` stamp comes from `now()`.

    A subclass rather than `default=now` plus save() overrides: the fields keep Django's
    auto_now semantics (not editable in forms, set by save() and bulk_create alike), and
    the models read as before. Like Django's own, it is not applied by QuerySet.update()
    or bulk_update(); those callers pass `now()` themselves.
    """

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        if self.auto_now or (self.auto_now_add and add):
            value = now()
            setattr(model_instance, self.attname, value)
            return value
        return super().pre_save(model_instance, add)
