"""One full deadline cycle through a real Celery worker (and a real beat) on Redis and
PostgreSQL. Skipped unless CELERY_BROKER_URL=redis://… and DATABASE_URL=postgres://…"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from django.core import mail

from reports import jobs
from reports.models import Breach, Escalation, Reminder, Report

from ..conftest import wait_for
from .conftest import pay, student

pytestmark = pytest.mark.broker


@pytest.fixture
def owed(transactional_db: Any, request: Any) -> None:
    spring = request.getfixturevalue("spring")
    school = request.getfixturevalue("xz_school")
    request.getfixturevalue("mailed_xuanzhou")
    for i in range(4):
        s = student(school, i)
        if i == 0:
            pay(s, spring)


def test_a_real_worker_runs_a_full_deadline_cycle_once(live_worker: Any, owed: None) -> None:
    # 14 days before: reminder. After: overdue + escalation. Ten days later: second one.
    for day in ("2019-06-01", "2019-06-16", "2019-06-16", "2019-06-27"):
        jobs.deadlines_check_job.delay(day)
    jobs.report_build_job.delay("quarterly", "2019Q2")
    jobs.report_build_job.delay("quarterly", "2019Q2")

    def done() -> bool:
        return (
            Escalation.objects.filter(unit__code="xuanzhou-jtj", level=2).exists()
            and Report.objects.filter(kind="quarterly", job_state="done").exists()
        )

    wait_for(done, timeout=120)
    time.sleep(1)  # let the duplicate jobs finish too
    assert (
        Reminder.objects.filter(
            unit__code="xuanzhou-jtj", offset_days=14, deadline__task__number=3
        ).count()
        == 1
    )
    assert Breach.objects.filter(unit__code="xuanzhou-jtj", deadline__task__number=3).count() == 1
    levels = sorted(
        Escalation.objects.filter(unit__code="xuanzhou-jtj", deadline__task__number=3).values_list(
            "level", flat=True
        )
    )
    assert levels == [1, 2]
    assert Report.objects.count() == 1
    report = Report.objects.get()
    # Section 四 names the unit's overdue item in plain words.
    assert "尚有3名建档立卡学生2019年春季学期资助未发放到位" in json.dumps(
        report.texts, ensure_ascii=False
    )
    assert "ready." in live_worker.log_path.read_text()
    assert mail.outbox == []  # the worker sent the mail (its own console), not this process
    log = live_worker.log_path.read_text()
    assert "【督办单】" in log or "%E3" in log or "Subject:" in log


def test_a_real_beat_sends_the_check_on_schedule_and_it_runs_once_per_key(
    live_worker: Any, owed: None, tmp_path: Any, settings: Any
) -> None:
    from django.db import connection
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from xc_fupin.celery_app import app

    every, _c = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="test: deadline check every 2s",
        task="reports.jobs.deadlines_check_job",
        interval=every,
        kwargs=json.dumps({"today": "2019-06-16"}),
    )
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_TASK_DEFAULT_QUEUE": app.conf.task_default_queue,
    }
    log = tmp_path / "beat.log"
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "xc_fupin",
            "beat",
            "-l",
            "INFO",
            "--pidfile=",
            "-s",
            str(tmp_path / "beat-schedule"),
            "--max-interval",
            "1",
        ],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        # Beat saves its run counts lazily; its log says when it sent the job.
        wait_for(
            lambda: (
                log.read_text().count("Sending due task test: deadline check") >= 3
                or beat.poll() is not None
            ),
            timeout=90,
        )
        assert beat.poll() is None, log.read_text()
        wait_for(lambda: Escalation.objects.filter(unit__code="xuanzhou-jtj").exists(), timeout=60)
        time.sleep(3)  # a few more beats: each must change nothing
    finally:
        beat.terminate()
        try:
            beat.wait(timeout=15)
        except subprocess.TimeoutExpired:
            beat.kill()
    assert "Sending due task" in log.read_text()
    keys = list(Escalation.objects.values_list("deadline_id", "unit_id", "level"))
    assert len(keys) == len(set(keys))
    assert (
        Escalation.objects.filter(unit__code="xuanzhou-jtj", deadline__task__number=3).count() == 1
    )
    assert dt.date(2019, 6, 16) in set(Breach.objects.values_list("recorded_on", flat=True))
