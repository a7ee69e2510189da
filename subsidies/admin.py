from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin

from tasks.admin import AuditedAdmin
from tasks.models import RosterStudent
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from .models import Disbursement, Notice, Semester, SubsidyItem, SubsidyStandard
from .resources import DisbursementResource, RosterStudentResource, SubsidyStandardResource


class SpecImportAdmin(ImportExportMixin, AuditedAdmin):
    """Scoped, with per-record history, and import/export through the resources.

    Imports are applied by the spec in bulk (their history rows say which upload); there
    are no per-row instances for the admin log.
    """

    skip_admin_log = True


class MaskedPersonMixin:
    """Lists show names and ID numbers masked; a record's page is for authorised staff."""

    @admin.display(description=_("身份证号"), ordering="id_number")
    def masked_id(self, obj: Any) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description=_("姓名"), ordering="name")
    def masked_name(self, obj: Any) -> str:
        return mask_name(obj.name)


class StandardInline(admin.TabularInline):
    model = SubsidyStandard
    extra = 0
    fields = ["stage", "target", "semester", "tier", "amount", "valid_from", "valid_to", "source"]


@admin.register(SubsidyItem)
class SubsidyItemAdmin(AuditedAdmin):
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
class SemesterAdmin(AuditedAdmin):
    list_display = ["code", "start", "end", "plan_deadline", "note"]


@admin.register(Disbursement)
class DisbursementAdmin(MaskedPersonMixin, SpecImportAdmin):
    resource_classes = [DisbursementResource]
    list_display = ["masked_id", "masked_name", "school", "item", "semester", "amount", "paid_on"]
    list_filter = ["semester", "item", "county"]
    search_fields = ["id_number", "name", "school__name"]
    list_select_related = ["school", "item", "semester"]
    raw_id_fields = ["school", "upload"]

    def get_export_queryset(self, request: HttpRequest) -> Any:
        return Disbursement.objects.for_user(request.user).select_related(
            "school", "item", "semester"
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A payment is a record of money paid: only a superuser may remove one (and the
        # history keeps what was removed, by whom).
        return bool(request.user.is_superuser)


@admin.register(Notice)
class NoticeAdmin(AuditedAdmin):
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
class RosterStudentAdmin(MaskedPersonMixin, SpecImportAdmin):
    resource_classes = [RosterStudentResource]
    list_display = [
        "masked_id",
        "masked_name",
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
