"""The omission check's SQL, shared by the page's check (selectors) and the stored findings
(findings): which payments each roster student is owed in a semester, what was paid, and
the scope's condition. A module of its own so that `findings` and `selectors` both read it
without importing each other (STYLE rule 17: no import cycles)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from tasks.models import RosterStudent
from tasks.scoping import Scope

from .lookups import Rule
from .models import Disbursement, Semester

ROSTER = RosterStudent._meta.db_table
DISB = Disbursement._meta.db_table


@dataclass(frozen=True)
class OmissionFilters:
    county_id: int | None = None
    school_id: int | None = None
    stage: str | None = None
    item_id: int | None = None


def _scope_sql(scope: Scope, county_col: str, school_col: str) -> tuple[str, list[Any]]:
    """The scope's own SQL condition (tasks/scoping.py) as an " AND …" suffix."""
    if scope.sees_all:
        return "", []
    condition, params = scope.sql(county_col, school_col)
    return f" AND {condition}", params


def _owed_values(rules: Sequence[Rule]) -> tuple[str, list[Any]]:
    if not rules:
        # A row that matches nothing keeps the statement valid when no standard applies.
        return "(0, '', %s, 0, %s)", [False, False]
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rules))
    params: list[Any] = []
    for r in rules:
        params += [r.item_id, r.stage, r.boarding, r.top, r.checks_tier]
    return rows, params


def _owed_groups(rules: Sequence[Rule]) -> tuple[str, list[Any]]:
    """The owed items as one VALUES row per (stage, boarding), the items in parallel arrays
    (PostgreSQL only). A plain VALUES join is estimated at half a row per student (500k at
    province scale, 1.4M in fact), so the planner hashed roster x owed rows, the larger side;
    with the arrays unnested the estimate errs high instead, and it hashes the semester's
    payments (1M narrower rows) and streams the roster past them (a few per cent faster)."""
    if not rules:
        return "(%s, %s, ARRAY[0]::integer[], ARRAY[0]::numeric[], ARRAY[false]::boolean[])", [
            "",
            False,
        ]
    groups: dict[tuple[str, bool], list[Rule]] = {}
    for r in rules:
        groups.setdefault((r.stage, r.boarding), []).append(r)
    rows = ", ".join(["(%s, %s, %s::integer[], %s::numeric[], %s::boolean[])"] * len(groups))
    params: list[Any] = []
    for (stage, boarding), group in groups.items():
        params += [
            stage,
            boarding,
            [r.item_id for r in group],
            [r.top for r in group],
            [r.checks_tier for r in group],
        ]
    return rows, params


def _owner_filters(
    scope: Scope, filters: OmissionFilters, items_at_stage: Sequence[int], stored: bool = False
) -> tuple[str, list[Any]]:
    """Conditions on a finding's owner: the roster student, or for a payment to someone not on
    the roster, the school that paid."""
    sql, params = _scope_sql(scope, "county_id", "school_id")
    if filters.county_id is not None:
        sql += " AND county_id = %s"
        params.append(filters.county_id)
    if filters.school_id is not None:
        sql += " AND school_id = %s"
        params.append(filters.school_id)
    if filters.item_id is not None:
        sql += " AND item_id = %s"
        params.append(filters.item_id)
    if filters.stage:
        ids = list(items_at_stage) or [0]
        # Owed rows were filtered by stage already; the stage of the others is the roster's,
        # or for students off the roster, that of the items paid.
        # Stored findings carry the roster stage of owed rows too (they hold every stage).
        owed = "" if stored else "owed = 1 OR "
        sql += f" AND ({owed}stage = %s OR (stage IS NULL AND item_id IN ({', '.join(['%s'] * len(ids))})))"
        params += [filters.stage, *ids]
    return sql, params


def _base_sql(
    semester: Semester,
    scope: Scope,
    filters: OmissionFilters,
    rules: Sequence[Rule],
    stored: bool = False,
    only_ids: str = "",
) -> tuple[str, list[Any]]:
    """The CTEs up to `f`: one row per finding, with its flags and its owner.

    `stored`: the findings as subsidies/findings.py stores them (scope and filters must be
    the whole city's), with the roster stage of owed rows too, so that a stage filter
    applies to the stored rows alone; `only_ids` (a subquery giving ID numbers) narrows
    them to those students and payees, for the IDs changed since. Parameters are collected in the order their
    placeholders appear in the text.
    """
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        owed_rows, params = _owed_groups(rules)
        owed_cte = f"owed(stage, boarding, items, tops, checks) AS (VALUES {owed_rows})"
        owed_join = (
            "JOIN owed os ON os.stage = r.stage AND os.boarding = r.boarding "
            "CROSS JOIN LATERAL unnest(os.items, os.tops, os.checks) AS o(item_id, top, checks_tier)"
        )
    else:
        owed_rows, params = _owed_values(rules)
        owed_cte = f"owed(item_id, stage, boarding, top, checks_tier) AS (VALUES {owed_rows})"
        owed_join = "JOIN owed o ON o.stage = r.stage AND o.boarding = r.boarding"

    roster_where, p = _scope_sql(scope, "r.county_id", "r.school_id")
    params += p
    if filters.county_id is not None:
        roster_where += " AND r.county_id = %s"
        params.append(filters.county_id)
    if filters.school_id is not None:
        roster_where += " AND r.school_id = %s"
        params.append(filters.school_id)
    if filters.stage:
        roster_where += " AND r.stage = %s"
        params.append(filters.stage)
    if filters.item_id is not None:
        roster_where += " AND o.item_id = %s"
        params.append(filters.item_id)

    # Payments: the semester's, narrowed for a scoped user (or a county/school filter) to
    # those their schools made or their roster students received. `IN (SELECT …)` under an
    # OR becomes a hashed sub-plan: one pass over the roster, not a probe per payment.
    params.append(semester.pk)
    disb_where = ""
    if filters.item_id is not None:
        disb_where += " AND d.item_id = %s"
        params.append(filters.item_id)
    narrowing: list[tuple[Scope, str]] = []
    if not scope.sees_all:
        narrowing.append((scope, ""))
    if filters.county_id is not None:
        narrowing.append((Scope(county_id=filters.county_id), ""))
    if filters.school_id is not None:
        narrowing.append((Scope(unit_ids=frozenset({filters.school_id})), ""))
    for narrow, _unused in narrowing:
        own, own_params = _scope_sql(narrow, "d.county_id", "d.school_id")
        theirs, their_params = _scope_sql(narrow, "county_id", "school_id")
        disb_where += (
            f" AND ({own[5:]} OR d.id_number IN (SELECT id_number FROM {ROSTER} "  # noqa: S608
            f"WHERE is_active{theirs}))"
        )
        params += own_params + their_params
    params.append(semester.deadline)  # j
    params.append(semester.deadline)  # f: late
    r2_scope, r2_params = _scope_sql(scope, "r2.county_id", "r2.school_id")
    params += r2_params

    if postgresql:
        # Only payments with no owed match (a few per cent) look the student up again:
        # an index probe each, instead of a second hash over the whole roster.
        r2_join = (
            f"LEFT JOIN LATERAL (SELECT r2.id_number, r2.county_id, r2.school_id, r2.stage "  # noqa: S608
            f"FROM {ROSTER} r2 WHERE j.r_id IS NULL AND r2.id_number = j.d_id AND r2.is_active LIMIT 1) r2 ON TRUE"
        )
    else:
        r2_join = (
            f"LEFT JOIN {ROSTER} r2 ON j.r_id IS NULL AND r2.id_number = j.d_id AND r2.is_active"
        )
    # On PostgreSQL `f` is inlined into the caller's `g`, which is materialised once (it is
    # read twice); materialising `f` as well would copy every finding a second time.
    roster_source, disb_source = ROSTER, DISB
    if only_ids:
        # Those IDs' rows first, looked up by index one ID at a time: OFFSET 0 keeps the
        # planner from flattening the subqueries, then probing the roster once per owed
        # item, or scanning a whole semester's payments (1M rows) for a few thousand IDs.
        roster_source = (
            f"(SELECT x.* FROM ({only_ids}) i JOIN LATERAL (SELECT * FROM {ROSTER} r0 "  # noqa: S608
            "WHERE r0.id_number = i.id_number OFFSET 0) x ON TRUE OFFSET 0)"
        )
        disb_source = (
            f"(SELECT x.* FROM ({only_ids}) i JOIN LATERAL (SELECT * FROM {DISB} d0 "  # noqa: S608
            f"WHERE d0.id_number = i.id_number AND d0.semester_id = {int(semester.pk)} "
            "OFFSET 0) x ON TRUE OFFSET 0)"
        )
    f_materialized = "" if postgresql else " MATERIALIZED"
    f_name = "live" if stored else "f"
    # Names are not carried through the join (narrow rows keep the hash in memory); the
    # page looks them up for its own rows.
    sql = f"""
WITH {owed_cte},
ro AS (
  SELECT r.id_number, r.county_id, r.school_id, {"r.stage, " if stored else ""}o.item_id, o.top, o.checks_tier
  FROM {roster_source} r {owed_join}
  WHERE r.is_active{roster_where}
),
d AS (
  SELECT d.id_number, d.item_id, d.amount, d.paid_on, d.county_id, d.school_id
  FROM {disb_source} d WHERE d.semester_id = %s{disb_where}
),
j AS (
  SELECT ro.id_number AS r_id, ro.county_id AS r_county,
         ro.school_id AS r_school, {"ro.stage AS r_stage, " if stored else ""}ro.item_id AS r_item, ro.top, ro.checks_tier,
         d.id_number AS d_id, d.item_id AS d_item, d.amount, d.paid_on,
         d.county_id AS d_county, d.school_id AS d_school
  FROM ro FULL JOIN d ON d.id_number = ro.id_number AND d.item_id = ro.item_id
  WHERE ro.id_number IS NULL OR d.id_number IS NULL
     OR (ro.checks_tier AND d.amount < ro.top) OR d.paid_on > %s
),
{f_name} AS{f_materialized} (
  SELECT COALESCE(j.r_id, j.d_id) AS id_number,
         COALESCE(j.r_county, r2.county_id, j.d_county) AS county_id,
         COALESCE(j.r_school, r2.school_id, j.d_school) AS school_id,
         {"COALESCE(j.r_stage, r2.stage)" if stored else "r2.stage"} AS stage,
         CASE WHEN j.r_id IS NULL THEN 0 ELSE 1 END AS owed,
         COALESCE(j.r_item, j.d_item) AS item_id,
         j.top, j.amount, j.paid_on, j.d_school AS paid_school_id,
         CASE WHEN j.d_id IS NULL THEN 1 ELSE 0 END AS missing,
         CASE WHEN j.r_id IS NOT NULL AND j.d_id IS NOT NULL AND j.checks_tier AND j.amount < j.top
              THEN 1 ELSE 0 END AS below,
         CASE WHEN j.d_id IS NOT NULL AND (j.r_id IS NOT NULL OR r2.id_number IS NOT NULL)
              AND j.paid_on > %s THEN 1 ELSE 0 END AS late,
         CASE WHEN j.r_id IS NULL AND r2.id_number IS NOT NULL THEN 1 ELSE 0 END AS unowed,
         CASE WHEN j.r_id IS NULL AND r2.id_number IS NULL THEN 1 ELSE 0 END AS offroster
  FROM j {r2_join}
  WHERE j.r_id IS NOT NULL OR r2.id_number IS NULL OR (1 = 1{r2_scope})
)"""  # noqa: S608 - only placeholders and constant table names
    return sql, params
