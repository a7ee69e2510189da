"""Roles are Django groups with model permissions.

Each app lists what its roles may do in its own `roles.py` (`ROLE_PERMISSIONS`);
`roles_sync()` gathers them, so `tasks` never imports the apps built on it.
What a user may *see* follows from their unit (see scoping.py), not from their role.
"""

from __future__ import annotations

ADMINISTRATOR = "系统管理员"
CITY_REVIEWER = "市级审核员"
CITY_SECTION = "市局科室人员"
COUNTY_STAFF = "县市区人员"
SCHOOL_STAFF = "学校人员"
LEADER = "领导（只读）"

ALL_ROLES = [ADMINISTRATOR, CITY_REVIEWER, CITY_SECTION, COUNTY_STAFF, SCHOOL_STAFF, LEADER]

_VIEW_PLAN = [
    "tasks.view_plan",
    "tasks.view_goal",
    "tasks.view_taskgroup",
    "tasks.view_task",
    "tasks.view_responsibility",
    "tasks.view_deadline",
    "tasks.view_unit",
    "tasks.view_county",
    "tasks.view_ledgerentry",
    "tasks.view_ledgerevidence",
    "tasks.view_indicator",
    "tasks.view_indicatorvalue",
]
# Reporting indicator values (with the ledger entry or by an indicator sheet).
_REPORT = ["tasks.add_ledgerentry", "tasks.add_indicatorvalue"]

# "*" means every permission of every installed app.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    ADMINISTRATOR: ["*"],
    CITY_REVIEWER: [
        *_VIEW_PLAN,
        *_REPORT,
        "tasks.review_ledgerentry",
        "tasks.change_deadline",
        "tasks.change_indicator",
        "tasks.reveal_personal_data",
        "tasks.export_personal_data",
    ],
    CITY_SECTION: [*_VIEW_PLAN, *_REPORT],
    # Counties contact families (notices, dropout cases): they may reveal one record.
    COUNTY_STAFF: [*_VIEW_PLAN, *_REPORT, "tasks.reveal_personal_data"],
    SCHOOL_STAFF: [*_VIEW_PLAN, *_REPORT],
    LEADER: [*_VIEW_PLAN],
}
