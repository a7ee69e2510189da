from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DropoutConfig(AppConfig):
    name = "dropout"
    verbose_name = _("控辍保学")

    def ready(self) -> None:
        from intake.base import register

        from .imports import ENROLMENT, HOUSEHOLD

        register(ENROLMENT)
        register(HOUSEHOLD)
