"""Admin for the matching (比对): its runs and findings, scoped, masked and read-only.

Both are written only by `matching.services.roster_match` (the command, the page's job);
the admin shows them so an administrator can see what a run did without the page."""

from __future__ import annotations

from django.contrib import admin

from tasks.admin import ReadOnlyAuditedAdmin

from .models import MatchFinding, MatchRun


@admin.register(MatchRun)
class MatchRunAdmin(ReadOnlyAuditedAdmin):
    list_display = [
        "__str__",
        "semester",
        "county",
        "state",
        "triggered_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["state", "semester", "county"]
    list_select_related = ["semester", "county"]


@admin.register(MatchFinding)
class MatchFindingAdmin(ReadOnlyAuditedAdmin):
    list_display = [
        "id_number",
        "name",
        "semester",
        "county",
        "kind",
        "school_status",
        "school",
        "registry_stage",
        "registry_status",
    ]
    list_filter = ["semester", "kind", "county"]
    # Exact ID number only: a name search would scan every finding.
    search_fields = ["=id_number"]
    list_select_related = ["semester", "county", "school"]
