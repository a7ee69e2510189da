"""Who may run the matching and read its findings; which county's, the unit decides."""

from __future__ import annotations

from tasks import roles

_VIEW = ["matching.view_matchrun", "matching.view_matchfinding"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    roles.CITY_REVIEWER: [*_VIEW, "matching.add_matchrun"],
    roles.CITY_SECTION: [*_VIEW],
    roles.COUNTY_STAFF: [*_VIEW, "matching.add_matchrun"],
    roles.LEADER: [*_VIEW],
}
