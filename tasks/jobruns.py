"""The last run and result of each periodic job, for the admin's list of schedules.

django-celery-beat marks every job it sends with the header `periodic_task_name`; the
Celery signals below record, for those jobs only, when the last run started and ended
and how (`JobRun`, one row per schedule). django-celery-results would store a row per
run of every job — about 2,200 a day from the resume and figure jobs alone — and needs a
result backend and a cleanup job; the admin only needs the last run of each schedule.
"""

from __future__ import annotations

from typing import Any

from celery.signals import task_failure, task_postrun, task_prerun
from django.contrib import admin
from django.db import DatabaseError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin

from . import clock
from .models import JobRun


def _schedule_name(task: Any) -> str | None:
    # A worker puts message headers on the request; an eager run keeps them in `headers`.
    request = task.request
    name = getattr(request, "periodic_task_name", None) or (
        getattr(request, "headers", None) or {}
    ).get("periodic_task_name")
    return str(name)[:200] if name else None


@task_prerun.connect
def _job_started(sender: Any = None, task: Any = None, **kwargs: Any) -> None:
    name = _schedule_name(task)
    if name is None:
        return
    try:
        JobRun.objects.update_or_create(
            name=name,
            defaults={
                "task": task.name[:200],
                "state": JobRun.State.RUNNING,
                "result": "",
                "started_at": clock.now(),
                "finished_at": None,
            },
        )
    except DatabaseError:  # the record must never stop the job itself
        pass


@task_failure.connect
def _job_failed(sender: Any = None, exception: Any = None, **kwargs: Any) -> None:
    name = _schedule_name(sender) if sender is not None else None
    if name is not None:
        _finish(name, JobRun.State.FAILURE, f"{type(exception).__name__}: {exception}")


@task_postrun.connect
def _job_finished(
    sender: Any = None, task: Any = None, retval: Any = None, state: str = "", **kwargs: Any
) -> None:
    name = _schedule_name(task)
    if name is None:
        return
    if state == "SUCCESS":
        _finish(name, JobRun.State.SUCCESS, repr(retval))
    elif isinstance(retval, BaseException):  # a retry, or a failure already recorded
        _finish(name, JobRun.State.FAILURE, f"{type(retval).__name__}: {retval}")


def _finish(name: str, state: str, result: str) -> None:
    try:
        JobRun.objects.filter(name=name).update(
            state=state, result=result[:500], finished_at=clock.now()
        )
    except DatabaseError:  # the record must never stop the job itself
        pass


class PeriodicTaskRunsAdmin(PeriodicTaskAdmin):
    """django-celery-beat's admin of schedules, with each one's last run and result."""

    list_display = (*PeriodicTaskAdmin.list_display, "run_state", "run_finished", "run_result")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        runs = JobRun.objects.filter(name=OuterRef("name"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                _run_state=Subquery(runs.values("state")[:1]),
                _run_finished=Subquery(runs.values("finished_at")[:1]),
                _run_result=Subquery(runs.values("result")[:1]),
            )
        )

    @admin.display(description=_("上次运行结果"))
    def run_state(self, obj: Any) -> str:
        state = obj._run_state
        return str(JobRun.State(state).label) if state else "—"

    @admin.display(description=_("上次运行结束"))
    def run_finished(self, obj: Any) -> Any:
        return obj._run_finished or "—"

    @admin.display(description=_("返回值或错误"))
    def run_result(self, obj: Any) -> str:
        return obj._run_result or "—"
