from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    """检查档案 (task 22): every record and file of a task, unit and period on one page and
    in one .zip. It reads every other app (the reports' documents included), so it sits
    on top of them and nothing imports it."""

    name = "archive"
    verbose_name = _("检查档案")
