"""What each role may do with the employment ledger (task 14). Who sees which graduates
follows from the unit; guidance is recorded by the county and the school."""

from __future__ import annotations

from tasks import roles

_VIEW = ["employment.view_graduate", "employment.view_guidancerecord"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    roles.CITY_REVIEWER: [*_VIEW],
    # 职成教科 leads task 14: it may load a ledger for any school.
    roles.CITY_SECTION: [*_VIEW, "employment.add_graduate"],
    roles.COUNTY_STAFF: [*_VIEW, "employment.add_graduate", "employment.add_guidancerecord"],
    roles.SCHOOL_STAFF: [*_VIEW, "employment.add_graduate", "employment.add_guidancerecord"],
    roles.LEADER: [*_VIEW],
}
