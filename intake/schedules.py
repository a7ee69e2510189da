"""Periodic jobs of uploads, created in django-celery-beat by `load_plan`."""

from __future__ import annotations

SCHEDULES = [
    {
        # The name is the row's key: an install that had it under tasks keeps its row
        # (migration intake 0002 points it at intake.jobs).
        "name": "上传任务补发（队列中断后恢复）",
        "task": "intake.jobs.uploads_resume",
        # Every minute: a stalled upload moves within a lease plus a minute (intake/services.py).
        "crontab": {"minute": "*"},
    },
]
