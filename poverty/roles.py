"""What each role may do with the poverty office's data. Who sees which county's
members follows from the unit (a school sees none)."""

from __future__ import annotations

from tasks import roles

_VIEW = ["poverty.view_povertysnapshot", "poverty.view_povertymember"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    roles.CITY_REVIEWER: [*_VIEW, "poverty.add_povertymember"],
    roles.CITY_SECTION: [*_VIEW],
    # Counties download their members from the poverty system and upload them here.
    roles.COUNTY_STAFF: [*_VIEW, "poverty.add_povertymember"],
    roles.LEADER: [*_VIEW],
}
