"""What each role may do with student aid. What they may *see* follows from their unit."""

from __future__ import annotations

from tasks import roles

_VIEW = [
    "subsidies.view_subsidyitem",
    "subsidies.view_subsidystandard",
    "subsidies.view_semester",
    "subsidies.view_disbursement",
    "subsidies.view_notice",
    "tasks.view_rosterstudent",
    "tasks.view_rostersnapshot",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    roles.CITY_REVIEWER: [
        *_VIEW,
        "subsidies.add_disbursement",
        "subsidies.add_subsidystandard",
        "subsidies.change_subsidystandard",
        "subsidies.change_semester",
        "subsidies.change_notice",
        "tasks.add_rosterstudent",
    ],
    roles.CITY_SECTION: [*_VIEW],
    roles.COUNTY_STAFF: [
        *_VIEW,
        "subsidies.add_disbursement",
        "subsidies.add_notice",
        "subsidies.change_notice",
        "tasks.add_rosterstudent",
    ],
    roles.SCHOOL_STAFF: [
        *_VIEW,
        "subsidies.add_disbursement",
        "subsidies.add_notice",
        "subsidies.change_notice",
    ],
    roles.LEADER: [*_VIEW],
}
