"""Celery entry point of the matching: a thin wrapper that takes the run's id."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="matching.roster_match", acks_late=True)
def roster_match_job(run_id: int) -> dict[str, int]:
    """Carry out a run recorded by the page (same service as `manage.py match_roster`);
    a second delivery finds the run claimed and does nothing."""
    return dict(services.run_execute(run_id).counts or {})
