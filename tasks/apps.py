from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("工作计划与台账")

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the go-live checks
        from .accounts_import import USERS
        from .imports import register

        register(USERS)
