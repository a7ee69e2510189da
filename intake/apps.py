from __future__ import annotations

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    """Uploads end to end: declarative column parsers, the spec base every import
    subclasses, and the one bulk writer (tasks ← intake ← subsidies, dropout)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "intake"
    verbose_name = "数据导入"

    def ready(self) -> None:
        from .base import register

        # The sheets of tasks' own data (tasks cannot import intake).
        from .indicators import INDICATORS
        from .users import USERS

        register(USERS)
        register(INDICATORS)
