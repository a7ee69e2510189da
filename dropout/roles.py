"""What each role may do in dropout control. Who sees which cases follows from the unit."""

from __future__ import annotations

from tasks import roles

_VIEW = [
    "dropout.view_dropoutcase",
    "dropout.view_casefinding",
    "dropout.view_casefollowup",
    "dropout.view_casestatuschange",
    "dropout.view_enrolmentrecord",
    "dropout.view_householdchild",
]
_WORK = [
    *_VIEW,
    "dropout.change_dropoutcase",
    "dropout.add_casefollowup",
    "dropout.add_enrolmentrecord",
    "dropout.add_householdchild",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    roles.CITY_REVIEWER: [*_VIEW],
    # 基教科 leads tasks 9-11 for the city.
    roles.CITY_SECTION: [*_WORK],
    # County bureaus work their children's cases; they see a child in full one record at
    # a time through the shared, logged reveal (tasks.reveal_personal_data, tasks/roles.py).
    roles.COUNTY_STAFF: [*_WORK],
    roles.SCHOOL_STAFF: [*_VIEW, "dropout.add_casefollowup", "dropout.add_enrolmentrecord"],
    roles.LEADER: [*_VIEW],
}
