"""Sending jobs to Celery without ever losing the user's work.

Jobs are sent after the surrounding transaction commits (a worker must find the rows
the job names). If the broker is down, the send fails fast instead of hanging the page;
the work stays recorded in the database (e.g. an Upload left RECEIVED) and the beat job
`uploads_resume` sends it again once the broker is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)

# Fail fast: a page waits at most a couple of seconds for a broker that is down.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}


def send_now(job: Any, *args: Any) -> bool:
    try:
        job.apply_async(args=args, retry=True, retry_policy=RETRY_POLICY)
    except Exception:  # kombu raises several kinds of connection error; all mean "not sent"
        log.warning(
            "broker unavailable: %s%r not sent, will be resumed", job.name, args, exc_info=True
        )
        return False
    return True


def enqueue(job: Any, *args: Any, on_failure: Callable[[], None] | None = None) -> None:
    """Send `job(*args)` once the current transaction commits; call `on_failure` if the
    broker cannot take it."""

    def send() -> None:
        if not send_now(job, *args) and on_failure is not None:
            on_failure()

    transaction.on_commit(send)
