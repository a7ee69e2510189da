from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PovertyConfig(AppConfig):
    """The poverty office's 建档立卡 database (全国扶贫开发信息系统) as counties export it.

    Order of imports: tasks ← intake ← poverty ← subsidies, dropout, matching. Nothing here
    imports subsidies or dropout, so the dropout cross-check may read poverty members.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "poverty"
    verbose_name = _("扶贫建档立卡")

    def ready(self) -> None:
        from intake.base import register

        from .imports import POVERTY

        register(POVERTY)
