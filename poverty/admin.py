"""Admin for the poverty office's data: scoped, masked, read-only.

Members enter only through the import pipeline (one snapshot per county and date), so
nothing is added, changed or deleted here; names and ID numbers are masked, with the
logged reveal one click away, as everywhere else.
"""

from __future__ import annotations

from django.contrib import admin

from tasks.admin import ReadOnlyAuditedAdmin

from .models import PovertyMember, PovertySnapshot


@admin.register(PovertySnapshot)
class PovertySnapshotAdmin(ReadOnlyAuditedAdmin):
    list_display = ["__str__", "county", "as_of", "created_at"]
    list_filter = ["county", "as_of"]
    date_hierarchy = "as_of"


@admin.register(PovertyMember)
class PovertyMemberAdmin(ReadOnlyAuditedAdmin):
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
