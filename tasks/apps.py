from __future__ import annotations

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext_lazy as _

from . import clock


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("工作计划与台账")

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the go-live checks

        # Logins are stamped by the one clock too (Django's receiver uses timezone.now).
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(clock.stamp_last_login, dispatch_uid="update_last_login")

        from .board import connect_board_signals

        connect_board_signals()
