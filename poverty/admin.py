"""Admin for the poverty office's data: scoped, masked, read-only.

Members enter only through the import pipeline (one snapshot per county and date), so
nothing is added, changed or deleted here; names and ID numbers are masked, with the
logged reveal one click away, as everywhere else.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tasks.admin import AuditedAdmin, masked_display, reveal_link

from .models import PovertyMember, PovertySnapshot


class _ReadOnlyAdmin(AuditedAdmin):
    list_per_page = 50
    show_full_result_count = False  # counting millions of members on every page

    def _shown(self) -> list[Any]:
        """Every field, read-only; personal ones masked, with the logged reveal link."""
        personal = set(getattr(self.model, "personal_fields", ()))
        shown: list[Any] = [
            masked_display(self.model, f.name) if f.name in personal else f.name
            for f in self.model._meta.fields
            if not f.primary_key
        ]
        return [*shown, reveal_link] if personal else shown

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return self._shown()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return self._shown()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PovertySnapshot)
class PovertySnapshotAdmin(_ReadOnlyAdmin):
    list_display = ["__str__", "county", "as_of", "created_at"]
    list_filter = ["county", "as_of"]
    date_hierarchy = "as_of"


@admin.register(PovertyMember)
class PovertyMemberAdmin(_ReadOnlyAdmin):
    list_display = [
        "id_number",
        "name",
        "county",
        "township",
        "village",
        "household_number",
        "relation",
        "school_status",
        "poverty_status",
        "as_of",
    ]
    list_filter = ["poverty_status", "school_status", "county", "as_of"]
    # Exact ID number or household number: a name search would scan millions of rows.
    search_fields = ["=id_number", "=household_number"]
    list_select_related = ["county"]
