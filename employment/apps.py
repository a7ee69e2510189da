from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmploymentConfig(AppConfig):
    name = "employment"
    verbose_name = _("就业台账")

    def ready(self) -> None:
        from intake.base import register

        from .imports import GRADUATES

        register(GRADUATES)
