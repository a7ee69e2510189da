"""The admin's list of periodic jobs shows each one's last run and result."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from intake.jobs import uploads_resume
from tasks.models import JobRun

pytestmark = pytest.mark.django_db

RESUME = "上传任务补发（队列中断后恢复）"  # the schedule load_plan creates (tasks/schedules.py)


def test_a_scheduled_run_and_its_result_show_in_the_admin(admin_user: Any) -> None:
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/django_celery_beat/periodictask/").content.decode()
    assert "上次运行结果" in page and "成功" not in page
    uploads_resume.apply(headers={"periodic_task_name": RESUME})
    run = JobRun.objects.get(name=RESUME)
    assert (run.state, run.result, run.task) == ("success", "0", "intake.jobs.uploads_resume")
    assert run.finished_at is not None
    page = client.get("/admin/django_celery_beat/periodictask/").content.decode()
    assert "成功" in page


def test_a_failed_run_shows_its_error_and_jobs_sent_by_hand_are_not_recorded(
    admin_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> Any:
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr("intake.services.stalled", broken)
    # throw=False: as in a worker, the error ends the job instead of reaching the caller.
    uploads_resume.apply(headers={"periodic_task_name": RESUME}, throw=False)
    run = JobRun.objects.get(name=RESUME)
    assert run.state == "failure" and run.result == "RuntimeError: 磁盘已满"
    uploads_resume.apply(throw=False)  # not from beat: no schedule to report on
    assert JobRun.objects.count() == 1
