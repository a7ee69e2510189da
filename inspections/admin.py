"""Admin pages: scoped like the views, each record with its 历史 (who changed what).

Items change state only through the services (the answer, 销号 and return forms), so the
state fields are read-only here; an administrator may correct texts and due dates."""

from __future__ import annotations

from django.contrib import admin

from tasks.admin import AuditedAdmin, ScopedTabularInline

from .models import Feedback, Inspection, ItemEvent, ItemEvidence, RectificationItem

_WORKFLOW = [
    "status",
    "answer",
    "answered_by",
    "answered_at",
    "closed_on",
    "closed_by",
    "created_by",
    "created_at",
    "deadline",
]


class ItemInline(ScopedTabularInline):
    model = RectificationItem
    extra = 0
    fields = ["unit", "category", "problem", "due_on", "status"]
    readonly_fields = fields  # type: ignore[assignment]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Inspection)
class InspectionAdmin(AuditedAdmin):
    list_display = ["visited_on", "kind", "team", "created_by"]
    list_filter = ["kind", "visited_on"]
    search_fields = ["team", "places", "note"]
    filter_horizontal = ["units"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [ItemInline]


@admin.register(Feedback)
class FeedbackAdmin(AuditedAdmin):
    list_display = ["number", "text", "due_on"]
    search_fields = ["text", "measures"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [ItemInline]


@admin.register(RectificationItem)
class RectificationItemAdmin(AuditedAdmin):
    list_display = ["pk", "source", "unit", "category", "due_on", "status", "closed_on"]
    list_filter = ["source", "status", "unit__county"]
    search_fields = ["problem", "requirement", "answer", "unit__name"]
    readonly_fields = ["source", "inspection", "feedback", "unit", *_WORKFLOW]
    list_select_related = ["unit"]

    def has_add_permission(self, request: object) -> bool:
        return False  # raised through the inspection and feedback forms


@admin.register(ItemEvent)
class ItemEventAdmin(AuditedAdmin):
    list_display = ["item", "action", "status_after", "actor", "at"]
    list_filter = ["action"]
    readonly_fields = ["item", "action", "status_before", "status_after", "actor", "at", "comment"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(ItemEvidence)
class ItemEvidenceAdmin(AuditedAdmin):
    list_display = ["original_name", "item", "size", "uploaded_at"]
    readonly_fields = ["item", "event", "file", "original_name", "size", "content_type"]

    def has_add_permission(self, request: object) -> bool:
        return False
