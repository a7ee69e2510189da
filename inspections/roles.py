"""What each role may do with inspections and rectification. Which items a user sees
follows from their unit (a county sees its own, the city all)."""

from __future__ import annotations

from tasks import roles

_VIEW = [
    "inspections.view_inspection",
    "inspections.view_feedback",
    "inspections.view_rectificationitem",
    "inspections.view_itemevent",
    "inspections.view_itemevidence",
]
# Responsible units (county bureaus, schools, and city sections named in feedback items)
# report what they did.
_ANSWER = [*_VIEW, "inspections.answer_rectificationitem"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    roles.CITY_REVIEWER: [
        *_ANSWER,
        "inspections.add_inspection",
        "inspections.add_feedback",
        "inspections.add_rectificationitem",
        "inspections.review_rectificationitem",
    ],
    roles.CITY_SECTION: _ANSWER,
    roles.COUNTY_STAFF: _ANSWER,
    roles.SCHOOL_STAFF: _ANSWER,
    roles.LEADER: _VIEW,
}
