from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xc_fupin.settings")

app = Celery("xc_fupin")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The app `tasks` is the plan's tasks, so Celery entry points live in `<app>/jobs.py`.
app.autodiscover_tasks(related_name="jobs")
