"""/healthz: database, broker, worker and beat, without login and without personal data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models.functions import Now
from django.test import Client
from django_celery_beat.models import PeriodicTask

from tasks.health import BEAT_PROBE_TASK

from .conftest import wait_for

pytestmark = pytest.mark.django_db


def health(client: Client | None = None) -> tuple[int, dict[str, Any]]:
    response = (client or Client()).get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def set_last_run(age: dt.timedelta | None) -> None:
    PeriodicTask.objects.filter(task=BEAT_PROBE_TASK).update(
        last_run_at=None if age is None else Now() - age
    )


def test_without_a_worker_the_site_is_unhealthy_and_says_which_part(plan: None) -> None:
    status, body = health()  # anonymous: no login needed
    assert status == 503
    assert set(body) == {"ok", "database", "broker", "worker", "beat"}
    assert body["ok"] is False
    assert body["database"]["ok"] is True
    assert body["worker"]["ok"] is False  # no worker answers the ping


def test_beat_is_unhealthy_when_the_daily_check_has_not_run_for_26_hours(plan: None) -> None:
    set_last_run(dt.timedelta(hours=2))
    assert health()[1]["beat"]["ok"] is True
    set_last_run(dt.timedelta(hours=27))
    beat = health()[1]["beat"]
    assert beat["ok"] is False and "27 小时未运行" in beat["detail"]
    # Never run at all, on a schedule set up two days ago: beat is not running.
    set_last_run(None)
    PeriodicTask.objects.filter(task=BEAT_PROBE_TASK).update(
        date_changed=Now() - dt.timedelta(days=2)
    )
    assert health()[1]["beat"]["ok"] is False


def test_without_the_schedule_beat_is_unhealthy(plan: None) -> None:
    PeriodicTask.objects.filter(task=BEAT_PROBE_TASK).delete()
    assert "load_plan" in health()[1]["beat"]["detail"]


@pytest.mark.broker
def test_healthz_reports_a_stopped_worker(live_worker: Any, plan: None) -> None:
    set_last_run(dt.timedelta(hours=1))
    status, body = health()
    assert status == 200, body
    assert all(body[part]["ok"] for part in ("database", "broker", "worker", "beat"))
    live_worker.terminate()
    live_worker.wait(timeout=30)
    status, body = wait_for(lambda: (r := health()) and r[0] == 503 and r)
    assert body["worker"]["ok"] is False
    assert body["database"]["ok"] and body["broker"]["ok"] and body["beat"]["ok"]
