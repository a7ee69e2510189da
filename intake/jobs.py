"""Celery entry points of uploads: thin wrappers that take ids and call services."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError

from tasks.queue import send_now

from . import services as uploads
from .models import Upload


# acks_late: a job lost with its worker is delivered again; upload_* are safe to re-run.
# The lease makes a second copy of a job exit at once while the first one is alive.
@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def upload_validate_job(upload_id: int) -> str:
    with uploads.upload_lease(upload_id) as mine:
        return uploads.upload_validate(upload_id).state if mine else "running elsewhere"


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def upload_apply_job(upload_id: int) -> str:
    with uploads.upload_lease(upload_id) as mine:
        return uploads.upload_apply(upload_id).state if mine else "running elsewhere"


def job_for(upload: Upload) -> Any:
    """The job that carries a busy upload forward from its state."""
    return upload_apply_job if upload.state == Upload.State.APPLYING else upload_validate_job


@shared_task
def uploads_resume() -> int:
    """Send again the stalled uploads: their worker died, or the broker was down when the
    job was sent. Runs every minute, so an upload moves again within the lease
    (UPLOAD_LEASE_SECONDS, 90 s) plus a minute of a worker or the broker being back."""
    sent = 0
    for upload in uploads.stalled().only("pk", "state"):
        if send_now(job_for(upload), upload.pk):
            uploads.upload_requeued(upload.pk)
            sent += 1
    return sent
