from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from import_export.admin import ImportExportModelAdmin

from tasks.admin import ScopedAdminMixin
from tasks.models import RosterStudent

from .models import Disbursement, Notice, Semester, SubsidyItem, SubsidyStandard
from .resources import DisbursementResource, RosterStudentResource, SubsidyStandardResource


class SpecImportAdmin(ImportExportModelAdmin):
    # Imports are applied by the spec in bulk; there are no per-row instances to log.
    skip_admin_log = True


class StandardInline(admin.TabularInline):
    model = SubsidyStandard
    extra = 0
    fields = ["stage", "target", "semester", "tier", "amount", "valid_from", "valid_to", "source"]


@admin.register(SubsidyItem)
class SubsidyItemAdmin(admin.ModelAdmin):
    list_display = ["name", "checks_tier", "order", "is_active"]
    list_editable = ["order", "is_active"]
    search_fields = ["name", "aliases"]
    inlines = [StandardInline]


@admin.register(SubsidyStandard)
class SubsidyStandardAdmin(SpecImportAdmin):
    resource_classes = [SubsidyStandardResource]
    list_display = [
        "item",
        "stage",
        "target",
        "semester",
        "tier",
        "amount",
        "valid_from",
        "valid_to",
    ]
    list_filter = ["item", "stage", "target", "semester"]
    search_fields = ["item__name", "tier", "source"]


@admin.register(Semester)
class SemesterAdmin(admin.ModelAdmin):
    list_display = ["code", "start", "end", "deadline", "note"]


@admin.register(Disbursement)
class DisbursementAdmin(ScopedAdminMixin, SpecImportAdmin):
    resource_classes = [DisbursementResource]
    list_display = ["id_number", "name", "school", "item", "semester", "amount", "paid_on"]
    list_filter = ["semester", "item", "county"]
    search_fields = ["id_number", "name", "school__name"]
    list_select_related = ["school", "item", "semester"]
    raw_id_fields = ["school", "upload"]

    def get_export_queryset(self, request: HttpRequest) -> Any:
        return Disbursement.objects.for_user(request.user).select_related(
            "school", "item", "semester"
        )


@admin.register(Notice)
class NoticeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "student",
        "semester",
        "generated_at",
        "delivered_on",
        "signed_on",
        "visited_on",
        "handled_by",
    ]
    list_filter = ["semester"]
    search_fields = ["student__id_number", "student__name"]
    raw_id_fields = ["student", "recorded_by"]


@admin.register(RosterStudent)
class RosterStudentAdmin(ScopedAdminMixin, SpecImportAdmin):
    resource_classes = [RosterStudentResource]
    list_display = [
        "id_number",
        "name",
        "county",
        "school",
        "stage",
        "grade",
        "boarding",
        "is_active",
    ]
    list_filter = ["county", "stage", "boarding", "is_active"]
    search_fields = ["id_number", "name", "school__name"]
    list_select_related = ["county", "school"]
    raw_id_fields = ["school", "snapshot"]

    def get_export_queryset(self, request: HttpRequest) -> Any:
        return RosterStudent.objects.for_user(request.user).select_related("county", "school")
