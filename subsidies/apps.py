from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubsidiesConfig(AppConfig):
    name = "subsidies"
    verbose_name = _("学生资助")

    def ready(self) -> None:
        from tasks.imports import register

        from .imports import SPECS

        for spec in SPECS:
            register(spec)
