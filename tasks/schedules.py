"""Periodic jobs of the tasks app, created in django-celery-beat by `load_plan`.

Each app may list its own in `<app>/schedules.py`. Rows are only created when missing:
an administrator's change to a schedule in the admin is never overwritten.
"""

from __future__ import annotations

SCHEDULES = [
    {
        "name": "看板数据预热（数据变化后重算常用统计）",
        "task": "tasks.jobs.figures_warm_job",
        "crontab": {"minute": "*/2"},
    },
]
