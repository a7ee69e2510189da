from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    """比对: the semester's aid roster from the poverty office's members and the student
    registry. Reads poverty (members) and dropout (the registry), writes tasks' roster,
    so it sits above both: tasks ← intake ← poverty ← subsidies, dropout ← matching."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "matching"
    verbose_name = _("名册比对")
