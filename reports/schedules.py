"""Periodic jobs of the monthly cycle, created in django-celery-beat by `load_plan` when
missing (an administrator's change in the admin is never overwritten). Times are
Asia/Shanghai."""

from __future__ import annotations

SCHEDULES = [
    {
        "name": "每日截止检查（提醒、逾期、督办）",
        "task": "reports.jobs.deadlines_check_job",
        "crontab": {"minute": "0", "hour": "8"},
    },
    {
        "name": "月点评（每月1日生成上月）",
        "task": "reports.jobs.monthly_review_job",
        "crontab": {"minute": "30", "hour": "6", "day_of_month": "1"},
    },
    {
        # Runs on days 1–5 so a beat that was down on the 1st still builds it (once).
        "name": "季通报（1、4、7、10月初生成上季度草稿）",
        "task": "reports.jobs.quarterly_circular_job",
        "crontab": {"minute": "0", "hour": "7", "day_of_month": "1-5", "month_of_year": "1,4,7,10"},
    },
]
