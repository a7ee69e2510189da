from __future__ import annotations

from django.contrib import admin

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


@admin.register(ReportingSettings)
class ReportingSettingsAdmin(admin.ModelAdmin):
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
