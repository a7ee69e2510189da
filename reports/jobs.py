"""Celery entry points of the monthly cycle: thin wrappers that take dates and call services.

Each is also a management command (check_deadlines, build_report). All are safe to run
twice or at once: the services claim their work through unique constraints.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import OperationalError

from tasks.clock import today as clock_today

from . import build, services
from .models import Report
from .periods import parse_month, parse_quarter


def _day(value: str | None) -> dt.date:
    return dt.date.fromisoformat(value) if value else clock_today()


# acks_late: a job lost with its worker is delivered again; every job here is re-runnable.
@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def deadlines_check_job(today: str | None = None) -> dict[str, int]:
    result = services.deadlines_check(today=_day(today))
    return {
        "reminders": len(result.reminders),
        "breaches": len(result.breaches),
        "escalations": len(result.escalations),
        "mails": result.mails,
    }


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def report_build_job(kind: str, period: str, force: bool = False) -> int:
    """Build one report; `period` is 2019-05 (monthly) or 2019Q2 (quarterly)."""
    start = parse_month(period) if kind == Report.Kind.MONTHLY else parse_quarter(period)
    return build.report_build(kind=kind, period=start, force=force).pk


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def monthly_review_job(today: str | None = None) -> int:
    """On the 1st: the review of the month before."""
    day = _day(today)
    return build.report_build(
        kind=Report.Kind.MONTHLY, period=build.month_to_build(day), today=day
    ).pk


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def quarterly_circular_job(today: str | None = None) -> int:
    """In the first days of January, April, July and October: the circular of the quarter before."""
    day = _day(today)
    return build.report_build(
        kind=Report.Kind.QUARTERLY, period=build.quarter_to_build(day), today=day
    ).pk
