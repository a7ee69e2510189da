from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from intake.base import all_specs
from tasks.admin import ScopedAdminMixin, ScopedTabularInline

from .models import (
    Breach,
    CorrectionReport,
    Escalation,
    MonthLock,
    MonthlySubmission,
    Reminder,
    Report,
    ReportingSettings,
    ReportingUnit,
    SubmissionEvent,
)


class ReportingSettingsForm(forms.ModelForm):
    """The sheets a 月报 must hold, picked by their Chinese names (the field stores the
    kinds' codes, which no user should have to type)."""

    expected_kinds = forms.MultipleChoiceField(
        label=_("月报应含的上传表格"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=lambda: [(s.key, s.title) for s in all_specs()],
    )

    class Meta:
        model = ReportingSettings
        fields = [
            "due_day",
            "expected_kinds",
            "reminder_offsets",
            "correction_days",
            "escalation_prefix",
            "circular_prefix",
            "issuer",
        ]


@admin.register(ReportingSettings)
class ReportingSettingsAdmin(admin.ModelAdmin):
    form = ReportingSettingsForm
    list_display = [
        "__str__",
        "due_day",
        "reminder_offsets",
        "correction_days",
        "escalation_prefix",
    ]


@admin.register(ReportingUnit)
class ReportingUnitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["unit", "valid_from", "valid_to", "order"]
    autocomplete_fields = ["unit"]


class EventInline(ScopedTabularInline):
    model = SubmissionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["action", "version", "narrative", "comment", "cover_sheet", "actor", "at"]
    fields = readonly_fields  # type: ignore[assignment]


@admin.register(MonthlySubmission)
class MonthlySubmissionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["unit", "period", "state", "version", "due_on", "first_submitted_at"]
    list_filter = ["state", "period"]
    readonly_fields = ["figures", "version", "first_submitted_at", "submitted_at"]
    inlines = [EventInline]


@admin.register(MonthLock)
class MonthLockAdmin(admin.ModelAdmin):
    list_display = ["period", "locked", "updated_at"]
    readonly_fields = ["history"]


@admin.register(Reminder)
class ReminderAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["unit", "deadline", "offset_days", "created_on", "mail_state"]
    list_filter = ["offset_days", "mail_state"]
    readonly_fields = ["deadline", "unit", "offset_days", "items", "created_on", "recipients"]


@admin.register(Breach)
class BreachAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["unit", "deadline", "recorded_on"]
    readonly_fields = ["deadline", "unit", "items", "recorded_on"]


class AnswerInline(ScopedTabularInline):
    model = CorrectionReport
    extra = 0
    readonly_fields = ["text", "file", "original_name", "submitted_by", "submitted_at"]


@admin.register(Escalation)
class EscalationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["number", "unit", "level", "deadline", "raised_on", "answer_due", "state"]
    list_filter = ["level", "state"]
    readonly_fields = [
        "number",
        "year",
        "seq",
        "deadline",
        "unit",
        "level",
        "items",
        "raised_on",
        "previous",
    ]
    inlines = [AnswerInline]


@admin.register(Report)
class ReportAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "kind", "period", "state", "job_state", "generated_at"]
    list_filter = ["kind", "state"]
    readonly_fields = ["figures", "docx", "xlsx", "generated_at", "issued_at", "issued_by"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if "texts" in form.base_fields:  # the model's help text names the JSON keys
            form.base_fields["texts"].help_text = _("正文各段落（摘要、工作要求等），印发前可修改")
        return form
