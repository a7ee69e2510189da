"""Is the site alive: the database, the broker, a Celery worker and beat.

`/healthz` (no login) answers JSON `{database, broker, worker, beat}`, each
`{"ok": bool, "detail": str}`, with 200 only when all four are ok, so a load balancer or
a monitoring probe can act on the status code alone. Nothing here reads personal data.

Beat is judged by what it does rather than by its process (which may run on another
machine): the daily deadline check's last run, as django-celery-beat records it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection
from django.db.models import DurationField, ExpressionWrapper, F
from django.db.models.functions import Now
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django_celery_beat.models import PeriodicTask

from xc_fupin.celery_app import app

# The daily job whose runs prove beat is alive (reports/schedules.py).
BEAT_PROBE_TASK = "reports.jobs.deadlines_check_job"
# A daily job: a day and two hours of grace for a slow run or a clock change.
BEAT_MAX_AGE = dt.timedelta(hours=26)
# Seconds a probe waits for the broker and for a worker's answer: a monitoring probe
# must answer quickly even when both are down.
TIMEOUT = 2


@dataclass
class Check:
    ok: bool
    detail: str


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the detail says which
        return Check(False, f"数据库无法连接：{type(exc).__name__}")
    return Check(True, "数据库连接正常")


def broker_reachable() -> bool:
    return check_broker().ok


def check_broker() -> Check:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=TIMEOUT)
    except Exception as exc:  # kombu raises several kinds of connection error
        return Check(False, f"消息队列无法连接：{type(exc).__name__}")
    return Check(True, "消息队列连接正常")


def check_worker() -> Check:
    try:
        replies = app.control.ping(timeout=TIMEOUT)
    except Exception as exc:
        return Check(False, f"无法询问后台进程：{type(exc).__name__}")
    if not replies:
        return Check(False, "没有后台进程（Celery worker）应答")
    return Check(True, f"{len(replies)} 个后台进程应答")


def check_beat() -> Check:
    # Ages are computed by the database: beat stamps real time, and the app's clock may
    # be pinned to a demo date (tasks/clock.py).
    job = (
        PeriodicTask.objects.filter(task=BEAT_PROBE_TASK, enabled=True)
        .annotate(
            run_age=ExpressionWrapper(Now() - F("last_run_at"), output_field=DurationField()),
            set_age=ExpressionWrapper(Now() - F("date_changed"), output_field=DurationField()),
        )
        .first()
    )
    if job is None:
        return Check(False, "未设置每日到期检查（请运行 load_plan）")
    if job.last_run_at is None:
        # A new install: healthy for the first day, then the job must have run.
        if job.set_age <= BEAT_MAX_AGE:
            return Check(True, "每日到期检查尚未运行（刚设置）")
        return Check(False, "每日到期检查从未运行：定时进程（Celery beat）未运行？")
    if job.run_age > BEAT_MAX_AGE:
        hours = int(job.run_age.total_seconds() // 3600)
        return Check(False, f"每日到期检查已 {hours} 小时未运行：定时进程（Celery beat）未运行？")
    return Check(True, f"每日到期检查 {int(job.run_age.total_seconds() // 3600)} 小时前运行过")


def site_health() -> dict[str, Check]:
    database = check_database()
    return {
        "database": database,
        "broker": check_broker(),
        "worker": check_worker(),
        "beat": check_beat() if database.ok else Check(False, "数据库无法连接"),
    }


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = site_health()
    body: dict[str, Any] = {name: asdict(check) for name, check in checks.items()}
    healthy = all(check.ok for check in checks.values())
    body["ok"] = healthy
    return JsonResponse(
        body, status=200 if healthy else 503, json_dumps_params={"ensure_ascii": False}
    )
