"""Admin for dropout control: scoped like the pages, every record with its history.

The admin is for looking things up and correcting master data, not for working cases:
registries enter through the import pipeline, cases are opened by the cross-check and
moved only through the case page's services (forward-only status, required evidence),
so those fields are read-only here and nothing is added or deleted. Children's names,
ID numbers, guardians and phones are shown masked; the full record is one click away on
the logged reveal page (tasks:reveal).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tasks.admin import AuditedAdmin, ScopedTabularInline
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from .models import (
    CaseFinding,
    CaseFollowUp,
    CaseStatusChange,
    CrosscheckRun,
    DropoutCase,
    EnrolmentRecord,
    EnrolmentSnapshot,
    HouseholdChild,
)


@admin.display(description=_("身份证号"))
def masked_id(obj: Any) -> str:
    return mask_id_number(obj.id_number)


@admin.display(description=_("姓名"))
def masked_name(obj: Any) -> str:
    return mask_name(obj.name)


@admin.display(description=_("监护人"))
def masked_guardian(obj: Any) -> str:
    return mask_name(obj.guardian) if obj.guardian else ""


@admin.display(description=_("联系电话"))
def masked_phone(obj: Any) -> str:
    return mask_id_number(obj.phone) if obj.phone else ""


@admin.display(description=_("完整信息"))
def reveal_link(obj: Any) -> str:
    url = reverse("tasks:reveal", args=[obj._meta.label, obj.pk])
    back = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}?next={}">{}</a>', url, back, _("查看完整信息（需填写事由）"))


@admin.display(description=_("全国学籍号"))
def masked_student_number(obj: Any) -> str:
    return mask_id_number(obj.student_number) if obj.student_number else ""


MASKED = {
    "id_number": masked_id,
    "student_number": masked_student_number,
    "name": masked_name,
    "guardian": masked_guardian,
    "phone": masked_phone,
}


#: Not shown at all: a finding's details repeat the child's names from every registry.
HIDDEN = {(CaseFinding, "details")}


def _shown_fields(model: type[models.Model]) -> list[Any]:
    """The model's fields in order, personal ones replaced by their masked display."""
    personal = set(getattr(model, "personal_fields", ()))
    shown: list[Any] = []
    for field in model._meta.fields:
        if field.primary_key or (model, field.name) in HIDDEN:
            continue
        shown.append(MASKED[field.name] if field.name in personal else field.name)
    if personal:
        shown.append(reveal_link)
    return shown


class ReadOnlyAdmin(AuditedAdmin):
    """Shown, searched and audited; written only by imports, the cross-check and the
    case page's services. Nothing is deleted (a snapshot's cascade would also write a
    historical row per enrolment row, one by one)."""

    list_per_page = 50
    show_full_result_count = False  # counting millions of registry rows on every page

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return _shown_fields(self.model)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return _shown_fields(self.model)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EnrolmentSnapshot)
class EnrolmentSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "county", "as_of", "created_at"]
    list_filter = ["county", "as_of"]
    date_hierarchy = "as_of"


@admin.register(EnrolmentRecord)
class EnrolmentRecordAdmin(ReadOnlyAdmin):
    list_display = [
        masked_id,
        masked_name,
        "school",
        "county",
        "stage",
        "grade",
        "boarding",
        "status",
        "as_of",
    ]
    list_filter = ["status", "stage", "boarding", "county", "as_of"]
    # Exact ID number (the index) or the school: a name search would scan millions of rows.
    search_fields = ["=id_number", "school__name"]
    list_select_related = ["school", "county"]


@admin.register(HouseholdChild)
class HouseholdChildAdmin(ReadOnlyAdmin):
    list_display = [masked_id, masked_name, "county", "township", "village", "as_of"]
    list_filter = ["county", "as_of"]
    search_fields = ["=id_number", "township", "village"]
    list_select_related = ["county"]


class _ReadOnlyInline(ScopedTabularInline):
    extra = 0

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return list(self.fields or [])

    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FindingInline(_ReadOnlyInline):
    model = CaseFinding
    fields = ["kind", "first_seen_as_of", "last_seen_as_of", "after_close"]


class StatusChangeInline(_ReadOnlyInline):
    model = CaseStatusChange
    fields = ["from_status", "to_status", "changed_by", "changed_at", "note"]


class FollowUpInline(_ReadOnlyInline):
    model = CaseFollowUp
    fields = ["kind", "happened_on", "hours", "visitors", "notes", "next_due", "recorded_by"]


#: Case fields a bureau may correct here (household address, grade); everything else is
#: the cross-check's (identity, findings) or the case page's (plan, status, outcome).
CASE_EDITABLE = ("grade", "township", "village")


@admin.register(DropoutCase)
class DropoutCaseAdmin(AuditedAdmin):
    list_display = [
        masked_id,
        masked_name,
        "county",
        "school",
        "status",
        "is_registered_poor",
        "opened_on",
        "last_follow_up_on",
        "next_follow_up_due",
    ]
    list_filter = ["status", "county", "is_registered_poor", "cause", "close_reason"]
    search_fields = ["=id_number", "school__name", "village", "responsible_person"]
    list_select_related = ["county", "school"]
    inlines = [FindingInline, StatusChangeInline, FollowUpInline]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return _shown_fields(DropoutCase)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [f for f in _shown_fields(DropoutCase) if f not in CASE_EDITABLE]

    def view_on_site(self, obj: DropoutCase) -> str:  # type: ignore[override]
        return reverse("dropout:case", args=[obj.pk])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # cases are opened by the cross-check (一生一案, one per child)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # explained cases are closed (已核销), never deleted


@admin.register(CaseFinding)
class CaseFindingAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "first_seen_as_of", "last_seen_as_of", "after_close"]
    list_filter = ["kind", "after_close", "case__county"]
    search_fields = ["=case__id_number"]
    list_select_related = ["case"]


@admin.register(CaseFollowUp)
class CaseFollowUpAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "happened_on", "hours", "recorded_by", "next_due"]
    list_filter = ["kind", "case__county"]
    search_fields = ["=case__id_number", "visitors"]
    date_hierarchy = "happened_on"
    list_select_related = ["case", "recorded_by"]


@admin.register(CaseStatusChange)
class CaseStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["case", "from_status", "to_status", "changed_by", "changed_at"]
    list_filter = ["to_status", "case__county"]
    search_fields = ["=case__id_number"]
    date_hierarchy = "changed_at"
    list_select_related = ["case", "changed_by"]


@admin.register(CrosscheckRun)
class CrosscheckRunAdmin(ReadOnlyAdmin):
    list_display = [
        "county",
        "as_of",
        "started_at",
        "finished_at",
        "findings",
        "cases_opened",
        "triggered_by",
    ]
    list_filter = ["county", "triggered_by"]
    date_hierarchy = "started_at"
    list_select_related = ["county"]
