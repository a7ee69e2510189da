"""Celery entry points of the tasks app: thin wrappers that take ids and call services."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import OperationalError

from . import clock, uploads
from .models import Upload
from .queue import send_now


# acks_late: a job lost with its worker is delivered again; upload_* are safe to re-run.
@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def upload_validate_job(upload_id: int) -> str:
    return uploads.upload_validate(upload_id).state


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def upload_apply_job(upload_id: int) -> str:
    return uploads.upload_apply(upload_id).state


@shared_task
def uploads_resume(stale_minutes: int = 10) -> int:
    """Send again the uploads whose job never ran or died (broker down, worker killed)."""
    cutoff = clock.now() - dt.timedelta(minutes=stale_minutes)
    sent = 0
    for upload in Upload.objects.filter(
        state__in=[Upload.State.RECEIVED, Upload.State.VALIDATING], created_at__lt=cutoff
    ).only("pk"):
        sent += send_now(upload_validate_job, upload.pk)
    for upload in Upload.objects.filter(state=Upload.State.APPLYING, validated_at__lt=cutoff).only(
        "pk"
    ):
        sent += send_now(upload_apply_job, upload.pk)
    return sent


@shared_task(acks_late=True)
def figures_warm_job() -> list[str]:
    """Recompute the cached dashboard figures of every area whose data changed."""
    from .figures import figures_warm_changed

    return figures_warm_changed()
