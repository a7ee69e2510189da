"""What each role may do in the monthly cycle. What they may *see* follows from their unit."""

from __future__ import annotations

from tasks import roles

_VIEW = [
    "reports.view_monthlysubmission",
    "reports.view_submissionevent",
    "reports.view_reminder",
    "reports.view_breach",
    "reports.view_escalation",
    "reports.view_correctionreport",
    "reports.view_report",
]
# Units that report: submit their monthly report and answer escalation notices.
_REPORTING = [
    *_VIEW,
    "reports.change_monthlysubmission",
    "reports.add_correctionreport",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    roles.CITY_REVIEWER: [
        *_VIEW,
        "reports.review_monthlysubmission",
        "reports.change_escalation",
        "reports.add_report",
        "reports.change_report",
        "reports.issue_report",
        "reports.view_reportingsettings",
        "reports.change_reportingsettings",
        "reports.view_reportingunit",
    ],
    roles.CITY_SECTION: [*_VIEW, "reports.add_correctionreport"],
    roles.COUNTY_STAFF: _REPORTING,
    roles.SCHOOL_STAFF: _REPORTING,
    roles.LEADER: [*_VIEW],
}
