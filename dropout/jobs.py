"""Celery entry points: thin wrappers that take ids and call a service."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from tasks.audit import audit_source
from tasks.models import County

from . import services


@shared_task(name="dropout.crosscheck_county")
def crosscheck_county(county_id: int, as_of: str, triggered_by: str = "job") -> dict[str, int]:
    """Run the cross-check for one county (queued after each enrolment/household import).

    Same service as `manage.py crosscheck`; safe to run twice or twice at once."""
    county = County.objects.get(pk=county_id)
    services.registries_vacuum()
    with audit_source(f"定时任务 dropout.crosscheck_county（{triggered_by}）"[:100]):
        outcome = services.crosscheck_run(
            county=county, as_of=dt.date.fromisoformat(as_of), triggered_by=triggered_by
        )
    return {"findings": len(outcome.findings), "cases_opened": outcome.cases_opened}
