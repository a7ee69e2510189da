"""Admin of the employment ledger: scoped and masked like the pages (tasks.admin's
AuditedAdmin), every record with its history. Graduates enter through the import and
guidance through the graduate's page, so nothing is added here; a bureau may correct a
graduate's employment details."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse

from tasks.admin import AuditedAdmin, ScopedTabularInline

from .models import Graduate, GuidanceRecord

GUIDANCE_FIELDS: list[Any] = [
    "given_on",
    "adviser",
    "content",
    "next_step",
    "next_on",
    "recorded_by",
]
#: What a bureau may correct by hand; identity, school and guidance dates come from the
#: import and the guidance service.
GRADUATE_EDITABLE = ["major", "employer", "workplace", "job", "monthly_income", "poverty_status"]


class GuidanceInline(ScopedTabularInline):
    model = GuidanceRecord
    fields = GUIDANCE_FIELDS
    readonly_fields = GUIDANCE_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Graduate)
class GraduateAdmin(AuditedAdmin):
    list_display = [
        "id_number",
        "name",
        "county",
        "school",
        "major",
        "graduation_date",
        "destination",
        "last_guidance_on",
    ]
    list_filter = ["destination", "county", "poverty_status", "graduation_date"]
    search_fields = ["=id_number", "school__name", "major", "employer"]
    list_select_related = ["county", "school"]
    inlines = [GuidanceInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fixed = [
            f.name
            for f in Graduate._meta.fields
            if not f.primary_key
            and f.name not in GRADUATE_EDITABLE
            # Personal fields are the mixin's: shown masked, never as raw read-only text.
            and f.name not in Graduate.personal_fields
        ]
        return [*super().get_readonly_fields(request, obj), *fixed]

    def view_on_site(self, obj: Graduate) -> str:  # type: ignore[override]
        return reverse("employment:graduate", args=[obj.pk])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # graduates come in through the import sheet

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a graduate who left the ledger is re-imported, not deleted


@admin.register(GuidanceRecord)
class GuidanceRecordAdmin(AuditedAdmin):
    list_display = ["graduate", "given_on", "adviser", "next_on", "recorded_by"]
    list_filter = ["graduate__county", "given_on"]
    search_fields = ["=graduate__id_number", "adviser"]
    list_select_related = ["graduate", "recorded_by"]
    readonly_fields = ["graduate", *GUIDANCE_FIELDS]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded on the graduate's page, through the service

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
