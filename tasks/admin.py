from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from . import privacy
from .jobruns import PeriodicTaskRunsAdmin
from .models import (
    County,
    CountyCode,
    Deadline,
    Goal,
    Indicator,
    IndicatorValue,
    LedgerEntry,
    LedgerEvidence,
    PersonalDataAccess,
    Plan,
    Responsibility,
    RosterSnapshot,
    School,
    Task,
    TaskGroup,
    Unit,
    User,
)
from .scoping import user_scope

# --- Personal data in the admin ---------------------------------------------------------
#
# A model's `personal_fields` (tasks/privacy.py) are shown in the admin as on the pages:
# masked in lists, change forms, history lists and history versions, with a link to the
# logged reveal. The change form shows them read-only; only a superuser who has just
# revealed the record may correct a name (never the ID number). Related objects show
# through their masked __str__.

_MASKED: dict[tuple[str, str], Callable[[Any], str]] = {}


def masked_display(model: type[models.Model], name: str) -> Callable[[Any], str]:
    """A list/readonly column showing `name` masked (one callable per model and field, so
    the admin's field lists can compare them)."""
    key = (model._meta.label, name)
    if key not in _MASKED:
        field = model._meta.get_field(name)

        def show(obj: Any) -> str:
            return privacy.mask_value(name, getattr(obj, name, ""))

        show.__name__ = f"masked_{name}"
        _MASKED[key] = admin.display(description=getattr(field, "verbose_name", name))(show)
    return _MASKED[key]


@admin.display(description=_("完整信息"))
def reveal_link(obj: Any) -> str:
    """The way to the full record: the shared reveal page, which asks a reason and logs it."""
    if obj is None or obj.pk is None:
        return ""
    url = reverse("tasks:reveal", args=[obj._meta.label, obj.pk])
    back = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}?next={}">{}</a>', url, back, _("查看完整信息（需填写事由）"))


class _MaskedHistoryHelper(HistoricalRecordContextHelper):
    """The history list's "changes" column, with personal values masked."""

    def prepare_delta_change_value(self, change: Any, value: Any) -> Any:
        if change.field in privacy.personal_fields(self.model):
            return privacy.mask_value(change.field, value)
        return super().prepare_delta_change_value(change, value)


class PersonalDataAdminMixin:
    """Masks a model's personal fields everywhere the admin shows them (see above)."""

    model: type[models.Model]

    def _masked(self, request: HttpRequest, obj: Any) -> list[str]:
        """The personal fields shown masked on this record's page (none on an add page)."""
        names = privacy.personal_fields(self.model)
        if obj is None or not names:
            return []
        editable = privacy.editable_personal_fields(request.user, obj)
        return [n for n in names if n not in editable]

    def _swap(self, fields: Sequence[Any], masked: Sequence[str]) -> list[Any]:
        shown: list[Any] = []
        for f in fields:
            f = masked_display(self.model, f) if isinstance(f, str) and f in masked else f
            if f not in shown:
                shown.append(f)
        return shown

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        names = privacy.personal_fields(self.model)
        return self._swap(super().get_list_display(request), names)  # type: ignore[misc]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str] | None:
        excluded = list(super().get_exclude(request, obj) or [])  # type: ignore[misc]
        masked = self._masked(request, obj)
        return [*excluded, *masked] if masked else (excluded or None)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        readonly = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        masked = self._masked(request, obj)
        if not masked:
            return readonly
        extra: list[Any] = [masked_display(self.model, n) for n in masked]
        if not any(getattr(f, "__name__", "") == "reveal_link" for f in readonly):
            extra.append(reveal_link)
        return self._swap([*extra, *readonly], masked)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = list(super().get_fields(request, obj))  # type: ignore[misc]
        masked = self._masked(request, obj)
        if not masked:
            return fields
        # The masked identity and the reveal link first, where the record's page starts.
        shown = self._swap(fields, masked)
        first = {masked_display(self.model, n) for n in masked} | {reveal_link}
        return [f for f in shown if f in first] + [f for f in shown if f not in first]

    def get_historical_record_context_helper(
        self, request: HttpRequest, historical_record: Any
    ) -> HistoricalRecordContextHelper:
        return _MaskedHistoryHelper(self.model, historical_record)


class ScopedAdminMixin(PersonalDataAdminMixin):
    """Admin pages (and inlines) go through the same `for_user` scope as the views.

    Any queryset with `for_user` is scoped: the ScopedQuerySet models and those with a
    rule of their own (reports: a county sees issued ones only). tests/test_admin_privacy.py
    fails for any registered admin or inline of such a model that is not.

    simple-history's history pages look rows up without get_queryset() (and fall back
    to the history of rows the queryset does not contain), so they are guarded here.
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)  # type: ignore[misc]
        for_user = getattr(qs, "for_user", None)
        return for_user(request.user) if for_user is not None else qs

    def _require_visible(self, request: HttpRequest, object_id: str) -> None:
        if user_scope(request.user).sees_all:
            return  # the city may read the history of deleted rows too
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        self._require_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)  # type: ignore[misc]

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> Any:
        self._require_visible(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)  # type: ignore[misc]


class AuditedAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """Scoped, with a 历史 button on every record showing who changed what, from where."""

    history_list_display = ["history_source", "history_upload_id"]


class ReadOnlyAuditedAdmin(AuditedAdmin):
    """Rows that enter only through a pipeline (imports, the matching run): every field
    shown read-only, personal ones masked with the logged reveal link; nothing is added,
    changed or deleted here."""

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


class ScopedTabularInline(ScopedAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    """An inline showing only the rows the user may see (the parent may be unscoped, e.g.
    a task with every unit's responsibility)."""


class CountyCodeInline(admin.TabularInline):
    model = CountyCode
    extra = 0


@admin.register(County)
class CountyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "slug", "order"]
    inlines = [CountyCodeInline]
    search_fields = ["name", "codes__code", "codes__name"]


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ["name", "short_name", "code", "kind", "county", "is_active"]
    list_filter = ["kind", "county", "is_active"]
    search_fields = ["name", "short_name", "code", "school_code"]
    autocomplete_fields = ["parent"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).exclude(kind=Unit.Kind.SCHOOL)


# simple-history registers its manager on Unit's options only; the proxy's 历史 page (the
# unit's history, same table) looks it up on School's and answered 500 without this.
School._meta.simple_history_manager_attribute = Unit._meta.simple_history_manager_attribute  # type: ignore[attr-defined]


@admin.register(School)
class SchoolAdmin(AuditedAdmin):
    list_display = ["name", "school_code", "county", "is_city_run", "stages", "is_active"]
    list_filter = ["county", "is_city_run", "is_active"]
    search_fields = ["name", "school_code"]
    fields = [
        "school_code",
        "name",
        "short_name",
        "code",
        "county",
        "is_city_run",
        "stages",
        "parent",
        "order",
        "is_active",
    ]
    autocomplete_fields = ["parent"]


@admin.register(User)
class UserAdmin(ScopedAdminMixin, SimpleHistoryAdmin, BaseUserAdmin):
    list_display = ["username", "last_name", "first_name", "unit", "is_staff", "is_active"]
    list_filter = ["groups", "unit__kind", "unit__county", "is_staff", "is_active"]
    search_fields = ["username", "first_name", "last_name", "email", "unit__name"]
    autocomplete_fields = ["unit"]
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), (_("所在单位"), {"fields": ("unit",)}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, (_("所在单位"), {"fields": ("unit",)}))


class GoalInline(admin.TabularInline):
    model = Goal
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["doc_number", "title", "issued_on", "year"]
    inlines = [GoalInline]
    search_fields = ["doc_number", "title"]


@admin.register(TaskGroup)
class TaskGroupAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "units_text"]
    list_filter = ["plan"]
    search_fields = ["title"]


class ResponsibilityInline(ScopedTabularInline):
    model = Responsibility
    extra = 0
    autocomplete_fields = ["unit"]


class DeadlineInline(admin.TabularInline):
    model = Deadline
    extra = 0


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ["name", "measure", "sums_over_months", "order", "is_active", "code"]
    can_delete = False  # switched off, not deleted: values and load_plan refer to it


@admin.register(Task)
class TaskAdmin(AuditedAdmin):
    list_display = ["number", "brief", "group", "cadence_text"]
    list_filter = ["group"]
    search_fields = ["text", "units_text"]
    inlines = [ResponsibilityInline, DeadlineInline, IndicatorInline]

    @admin.display(description=_("任务内容"))
    def brief(self, obj: Task) -> str:
        return obj.short_text


@admin.register(Indicator)
class IndicatorAdmin(AuditedAdmin):
    list_display = ["task", "name", "measure", "sums_over_months", "order", "is_active"]
    list_filter = ["is_active", "sums_over_months", "task__group"]
    list_editable = ["name", "measure", "sums_over_months", "order", "is_active"]
    search_fields = ["name", "code", "task__text"]
    list_select_related = ["task"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Switch an indicator off instead: its values refer to it, and load_plan would
        # create a deleted default again.
        return False


@admin.register(IndicatorValue)
class IndicatorValueAdmin(AuditedAdmin):
    list_display = ["indicator", "unit", "period", "value", "entry", "updated_at"]
    list_filter = ["indicator__task__number", "unit__county", "unit__kind", "period"]
    search_fields = ["indicator__name", "unit__name"]
    date_hierarchy = "period"
    autocomplete_fields = ["unit"]
    raw_id_fields = ["entry"]
    list_select_related = ["indicator", "indicator__task", "unit"]


@admin.register(Responsibility)
class ResponsibilityAdmin(AuditedAdmin):
    list_display = ["task", "unit", "lead", "order", "source_text"]
    list_filter = ["lead", "unit__kind", "task__group"]
    search_fields = ["unit__name", "source_text", "task__text"]
    autocomplete_fields = ["unit"]


@admin.register(Deadline)
class DeadlineAdmin(AuditedAdmin):
    list_display = ["task", "label", "kind", "due_on", "stated_in_plan"]
    list_filter = ["kind", "stated_in_plan", "task__group"]
    list_editable = ["due_on"]
    search_fields = ["label", "note", "task__text"]
    date_hierarchy = "due_on"


class LedgerEvidenceInline(ScopedTabularInline):
    model = LedgerEvidence
    extra = 0
    readonly_fields = ("original_name", "size", "content_type", "uploaded_at")
    fields = readonly_fields


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AuditedAdmin):
    list_display = ["task", "unit", "period", "status", "review", "submitted_by", "submitted_at"]
    list_filter = ["status", "review", "unit__county", "unit__kind", "task__group"]
    search_fields = ["narrative", "unit__name", "task__text", "review_comment"]
    date_hierarchy = "period"
    autocomplete_fields = ["unit", "revision_of"]
    raw_id_fields = ["submitted_by", "reviewed_by"]
    inlines = [LedgerEvidenceInline]
    list_select_related = ["task", "unit", "submitted_by"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The ledger is a record of what was reported: only superusers may remove entries.
        return bool(request.user.is_superuser)


@admin.register(RosterSnapshot)
class RosterSnapshotAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["as_of", "source", "upload", "created_at"]
    date_hierarchy = "as_of"
    search_fields = ["source", "note"]


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "kind", "target", "rows", "reason", "address"]
    list_filter = ["kind"]
    search_fields = ["user__username", "target", "reason"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Schedules with their last run and result. Importing tasks.jobruns here also connects
# its Celery signals in every process (the admin is autodiscovered by django.setup()).
admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskRunsAdmin)
# Column headers the libraries leave untitled (Django shows the property's name in English).
PeriodicTask.scheduler.fget.short_description = _("调度")  # type: ignore[attr-defined]
CrontabSchedule.human_readable.fget.short_description = _("说明")  # type: ignore[attr-defined]
PeriodicTaskRunsAdmin.crontab_translation.short_description = _("定时规则说明")  # type: ignore[attr-defined]
# An untranslatable literal in the library; migrations keep reading Field._verbose_name.
PeriodicTask._meta.get_field("task").verbose_name = _("任务名称")
if TOTPDevice in admin.site._registry:
    type(admin.site._registry[TOTPDevice]).search_help_text = _("按用户名或邮箱搜索")
