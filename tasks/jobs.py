"""Celery entry points of the tasks app: thin wrappers that take ids and call services."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def figures_warm_job() -> list[str]:
    """Recompute the cached dashboard figures of every area whose data changed."""
    from .figures import figures_warm_changed

    return figures_warm_changed()
