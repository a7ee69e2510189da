"""The matching (比对) that builds a semester's aid roster, set-based.

`roster_match` takes, per county, the latest poverty snapshot and every county's latest
registry snapshot (and the city-run schools') on or before the semester's end, and:

1. matches them into a temporary table (`xc_match`, one row per member): members whose
   脱贫属性 still carries the policy, each with their best registry record, found by ID
   number or by the ID inside a G 全国学籍号 (a 在读/复学 record first, then the latest).
   The members who may be at school are taken first (`xc_m`), then one pass over the
   registry keeps the records naming one of them (`xc_hit`), then each member is ranked
   with those records only;
2. writes the roster (`tasks.RosterStudent`, the table the omission check reads) with
   INSERT … SELECT and UPDATE … FROM: members with a 在读 record are on it with the
   registry's school, stage and boarding (就读方式); rows an earlier matching put there
   whose member is no longer matched are taken off (is_active false). Rows that
   uploaded rosters wrote are left alone unless the matching finds the same child;
3. replaces the semester's findings (`MatchFinding`) of the counties run: unmatched
   members, stage mismatches, members listed apart;
4. writes the historical row of every roster row and finding it inserted, changed or
   deleted, set-based, stamped with the audit source (as intake/writer.py does; on
   PostgreSQL in the same statement as the write, from what it RETURNs).

Only rows that differ are written (the differences are found in SQL, IS DISTINCT FROM),
so running it again changes nothing (no row, no history) and costs the matching alone.
Two runs at once queue on the semester's row lock. Safe to re-run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from dropout.models import IN_SCHOOL_STATUSES, EnrolmentRecord, EnrolmentSnapshot
from poverty.models import (
    POLICY_STATUSES,
    REGISTRY_STAGES,
    SCHOOL_STATUS_STAGE,
    PovertyMember,
    PovertySnapshot,
)
from subsidies.models import Semester
from tasks import audit, clock, figures
from tasks.models import County, RosterSnapshot, RosterStudent, Stage, Unit
from tasks.scoping import EVERYTHING, Scope, user_scope

from .models import FindingKind, MatchFinding, MatchRun

#: RosterSnapshot.source of the batches this matching writes (uploads write others).
MATCH_SOURCE = "扶贫×学籍比对"
STEPS = 4

Progress = Callable[[str, int, int], None]

MEMBERS = PovertyMember._meta.db_table
RECORDS = EnrolmentRecord._meta.db_table
ROSTER = RosterStudent._meta.db_table
FINDINGS = MatchFinding._meta.db_table

#: Stages a member may be listed apart at (a kindergarten or vocational roster covers them).
APART_STAGES = (Stage.PRESCHOOL, Stage.VOCATIONAL, Stage.HIGHER)


@dataclass
class MatchOutcome:
    semester: Semester
    counties: list[County]
    roster: int = 0
    unmatched: int = 0
    mismatches: int = 0
    apart: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    findings_written: int = 0
    poverty_dates: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "roster": self.roster,
            "unmatched": self.unmatched,
            "mismatches": self.mismatches,
            "apart": self.apart,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
        }

    def summary(self) -> str:
        return (
            f"roster {self.roster}, unmatched {self.unmatched}, stage mismatches {self.mismatches}"
        )


def semester_get(code: str) -> Semester:
    try:
        return Semester.objects.get(code=code.strip())
    except Semester.DoesNotExist:
        known = "、".join(Semester.objects.order_by("start").values_list("code", flat=True))
        raise ValidationError(
            _("没有学期“%(code)s”（已有：%(known)s）") % {"code": code, "known": known}
        ) from None


def counties_for(*, scope: Scope, county: County | None) -> list[County]:
    """The counties a run covers: the one asked for, or every county in scope."""
    if county is not None:
        if not scope.covers(county_id=county.pk):
            raise PermissionDenied(_("该县市区不属于本单位管辖范围"))
        return [county]
    if scope.sees_all:
        return list(County.objects.order_by("order"))
    if scope.county_id is not None:
        return list(County.objects.filter(pk=scope.county_id))
    raise PermissionDenied(_("名册比对由市、县教体局发起"))


# --- SQL helpers (PostgreSQL and SQLite) ----------------------------------------------


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values)) if values else "NULL"


def _differs(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if connection.vendor == "postgresql" else f"{a} IS NOT {b}"


def _birth_date(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"to_date(substr({column}, 7, 8), 'YYYYMMDD')"
    return f"substr({column}, 7, 4) || '-' || substr({column}, 11, 2) || '-' || substr({column}, 13, 2)"


def _case(column: str, mapping: dict[str, str | None]) -> tuple[str, list[Any]]:
    whens, params = [], []
    for key, value in mapping.items():
        if value is not None:
            whens.append("WHEN %s THEN %s")
            params += [key, value]
    return f"CASE {column} {' '.join(whens)} END", params


def _history_sql(model: type[models.Model], source: str, op_column: str) -> tuple[str, list[Any]]:
    """INSERT of one historical row per row of `source` (an alias `r` holding the model's
    columns, and `op_column` holding '+', '~' or '-'), stamped like audit.bulk_created."""
    historical = model.history.model  # type: ignore[attr-defined]
    tracked = {f.attname for f in model._meta.concrete_fields}
    src = audit.current_source()
    stamps: dict[str, Any] = {
        "history_date": clock.now(),
        "history_user_id": getattr(src.user, "pk", None),
        "history_change_reason": src.label[:100] or None,
        "history_source": (src.label or "系统")[:100],
        "history_upload_id": src.upload_id,
    }
    quote = connection.ops.quote_name
    columns, values, params = [], [], []
    for f in historical._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(quote(f.column))
        if f.attname in tracked:
            values.append(f"r.{quote(f.column)}")
        elif f.attname == "history_type":
            values.append(op_column)
        else:
            values.append("%s")
            params.append(stamps[f.attname])
    sql = (
        f"INSERT INTO {historical._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 - names from models
        f"SELECT {', '.join(values)} FROM {source}"
    )
    return sql, params


def _write_logged(
    cursor: Any, model: type[models.Model], write: str, params: list[Any], op: str
) -> bool:
    """Run `write` (an INSERT, UPDATE or DELETE of `model`'s rows) and, on PostgreSQL, in
    the same statement the historical row (`op`) of every row it wrote, from what it
    RETURNs (as intake/writer.py does): no second pass over the table to find them.
    Returns False where the caller must write the history itself (SQLite)."""
    if connection.vendor != "postgresql":
        cursor.execute(write, params)
        return False
    history, history_params = _history_sql(model, "w r", f"'{op}'")
    # The table's own columns only: RETURNING * of an UPDATE … FROM holds the others' too.
    returning = f"RETURNING {model._meta.db_table}.*"
    cursor.execute(f"WITH w AS ({write} {returning}) {history}", [*params, *history_params])
    return True


def _analyze(cursor: Any, table: str) -> None:
    # Temporary tables get no statistics of their own (autovacuum never sees them): without
    # them the planner guesses a few rows and loops where it should hash.
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")


# --- the run ----------------------------------------------------------------------------


def _snapshots(
    semester: Semester, counties: list[County]
) -> tuple[list[int], list[int], dict[str, str]]:
    poverty_ids, dates = [], {}
    for county in counties:
        snap = (
            PovertySnapshot.objects.filter(county=county, as_of__lte=semester.end)
            .order_by("-as_of")
            .first()
        )
        if snap is not None:
            poverty_ids.append(snap.pk)
            dates[county.current_name()] = f"{snap.as_of:%Y-%m-%d}"
    registry_ids: list[int] = []
    latest: dict[int | None, int] = {}
    for pk, county_id in (
        EnrolmentSnapshot.objects.filter(as_of__lte=semester.end)
        .order_by("county_id", "-as_of")
        .values_list("pk", "county_id")
    ):
        latest.setdefault(county_id, pk)
    registry_ids = sorted(latest.values())
    return poverty_ids, registry_ids, dates


def _single_stage_schools() -> list[tuple[int, str]]:
    """Schools teaching one stage: the stage of a registry record that has none."""
    return [
        (pk, stages[0])
        for pk, stages in Unit.objects.filter(kind=Unit.Kind.SCHOOL).values_list("pk", "stages")
        if stages and len(stages) == 1
    ]


#: Members out of school born this many years before the semester are adults the K-12
#: registry cannot hold: left out before the join (seven in ten members), which keeps the
#: join's hash small.
ADULT_YEARS = 30


def _match_table(
    cursor: Any, poverty_ids: list[int], registry_ids: list[int], born_after: int
) -> None:
    stated, stated_params = _case("mm.school_status", SCHOOL_STATUS_STAGE)
    schools = _single_stage_schools()
    if schools:
        single = "VALUES " + ", ".join(["(%s, %s)"] * len(schools))
        single_params = [v for pair in schools for v in pair]
    else:
        single, single_params = "SELECT 0, '' WHERE 1 = 0", []
    in_school = [str(s) for s in IN_SCHOOL_STATUSES]
    policy = [str(s) for s in POLICY_STATUSES]
    registry = [str(s) for s in REGISTRY_STAGES]
    apart = [str(s) for s in APART_STAGES]
    true, false = "TRUE", "FALSE"
    columns = "e.id, e.school_id, e.county_id, e.grade, e.stage, e.boarding, e.status, e.as_of"
    g_id = "substr(e.student_number, 2, 18)"
    for table in ("xc_m", "xc_hit", "xc_match"):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    # 1. The members (policy statuses) who may be at school: adults out of school are
    # left out here, so that what follows hashes and sorts only children.
    cursor.execute(
        f"""
CREATE TEMP TABLE xc_m AS
SELECT mm.id_number, mm.name, mm.county_id, mm.township, mm.village, mm.household_number,
       mm.school_status, mm.poverty_status, mm.as_of, {stated} AS stated_stage
FROM {MEMBERS} mm
WHERE mm.snapshot_id IN ({_marks(poverty_ids)})
  AND mm.poverty_status IN ({_marks(policy)})
  AND (mm.school_status NOT IN ('非在校生', '学龄前儿童') OR substr(mm.id_number, 7, 4) >= %s)
""",  # noqa: S608 - only placeholders and table names from models
        [*stated_params, *poverty_ids, *policy, str(born_after)],
    )
    _analyze(cursor, "xc_m")
    # 2. One pass over the registry keeps the records naming one of them, by ID or by the
    # ID inside a G number (two hash probes per record; nine records in ten name nobody).
    cursor.execute(
        f"""
CREATE TEMP TABLE xc_hit AS
SELECT {columns}, a.id_number AS by_id, b.id_number AS by_g
FROM {RECORDS} e
LEFT JOIN (SELECT DISTINCT id_number FROM xc_m) a ON a.id_number = e.id_number
LEFT JOIN (SELECT DISTINCT id_number FROM xc_m) b ON b.id_number =
  CASE WHEN e.student_number LIKE 'G%%' AND {g_id} <> e.id_number THEN {g_id} END
WHERE e.snapshot_id IN ({_marks(registry_ids)})
  AND (a.id_number IS NOT NULL OR b.id_number IS NOT NULL)
""",  # noqa: S608 - only placeholders and table names from models
        list(registry_ids),
    )
    _analyze(cursor, "xc_hit")
    hit_columns = "h.id, h.school_id, h.county_id, h.grade, h.stage, h.boarding, h.status, h.as_of"
    # 3. Each member with their best record (a 在读/复学 one first, then the latest);
    # members with no record and no school are dropped before the ranking.
    sql = f"""
CREATE TEMP TABLE xc_match AS
WITH ss(school_id, stage) AS ({single}),
reg AS (
  SELECT h.by_id AS person, {hit_columns} FROM xc_hit h WHERE h.by_id IS NOT NULL
  UNION ALL
  SELECT h.by_g, {hit_columns} FROM xc_hit h WHERE h.by_g IS NOT NULL
),
j AS (
  SELECT mm.id_number, mm.name, mm.county_id AS member_county_id, mm.township, mm.village,
         mm.household_number, mm.school_status, mm.poverty_status, mm.stated_stage,
         r.school_id, r.county_id AS school_county_id, r.grade, r.boarding, r.status,
         COALESCE(NULLIF(r.stage, ''), ss.stage) AS reg_stage,
         CASE WHEN r.status IN ({_marks(in_school)}) THEN 1 ELSE 0 END AS in_school,
         ROW_NUMBER() OVER (
           PARTITION BY mm.id_number
           ORDER BY CASE WHEN r.status IN ({_marks(in_school)}) THEN 0 ELSE 1 END,
                    mm.as_of DESC, r.as_of DESC, r.id
         ) AS pick
  FROM xc_m mm
  LEFT JOIN reg r ON r.person = mm.id_number
  LEFT JOIN ss ON ss.school_id = r.school_id
  WHERE r.id IS NOT NULL OR mm.school_status NOT IN ('非在校生', '学龄前儿童')
)
SELECT j.*,
  CASE WHEN in_school = 1 AND reg_stage IS NOT NULL THEN {true} ELSE {false} END AS on_roster,
  CASE WHEN NOT (in_school = 1 AND reg_stage IS NOT NULL)
        AND stated_stage IN ({_marks(registry)}) THEN {true} ELSE {false} END AS unmatched,
  CASE WHEN in_school = 1 AND reg_stage IS NOT NULL
        AND ({_differs("stated_stage", "reg_stage")}) THEN {true} ELSE {false} END AS mismatch,
  CASE WHEN in_school = 0 AND stated_stage IN ({_marks(apart)}) THEN {true} ELSE {false} END AS apart
FROM j WHERE pick = 1
"""  # noqa: S608 - only placeholders and table names from models
    params = [*single_params, *in_school, *in_school, *registry, *apart]
    cursor.execute(sql, params)
    _analyze(cursor, "xc_match")


def _write_roster(
    cursor: Any, snapshot_id: int, county_ids: list[int], now: dt.datetime
) -> tuple[int, int, int]:
    """Roster rows to add (+), change (~) and take off (-); returns their counts."""
    match_batches = f"SELECT id FROM {RosterSnapshot._meta.db_table} WHERE source = %s"  # noqa: S608
    d = _differs
    cursor.execute("DROP TABLE IF EXISTS xc_rc")
    cursor.execute(
        f"""
CREATE TEMP TABLE xc_rc AS
SELECT x.id_number, CASE WHEN r.id IS NULL THEN '+' ELSE '~' END AS op
FROM xc_match x LEFT JOIN {ROSTER} r ON r.id_number = x.id_number
WHERE x.on_roster AND (
  r.id IS NULL OR NOT r.is_active OR r.name <> x.name
  OR {d("r.household_county_id", "x.member_county_id")} OR {d("r.county_id", "x.school_county_id")}
  OR {d("r.school_id", "x.school_id")} OR r.stage <> x.reg_stage
  OR r.grade <> COALESCE(x.grade, '') OR r.boarding <> COALESCE(x.boarding, FALSE))
UNION ALL
SELECT r.id_number, '-' FROM {ROSTER} r
WHERE r.is_active AND r.snapshot_id IN ({match_batches})
  AND r.household_county_id IN ({_marks(county_ids)})
  AND NOT EXISTS (SELECT 1 FROM xc_match x WHERE x.on_roster AND x.id_number = r.id_number)
""",  # noqa: S608
        [MATCH_SOURCE, *county_ids],
    )
    _analyze(cursor, "xc_rc")
    cursor.execute("SELECT op, count(*) FROM xc_rc GROUP BY op")
    ops = dict(cursor.fetchall())
    if not ops:
        return 0, 0, 0
    logged = _write_logged(
        cursor,
        RosterStudent,
        f"""
INSERT INTO {ROSTER} (id_number, name, gender, birth_date, household_county_id, county_id,
  school_id, stage, grade, boarding, snapshot_id, is_active, updated_at)
SELECT x.id_number, x.name,
  CASE WHEN CAST(substr(x.id_number, 17, 1) AS INTEGER) %% 2 = 1 THEN '男' ELSE '女' END,
  {_birth_date("x.id_number")}, x.member_county_id, x.school_county_id, x.school_id,
  x.reg_stage, COALESCE(x.grade, ''), COALESCE(x.boarding, FALSE), %s, TRUE, %s
FROM xc_match x JOIN xc_rc c ON c.id_number = x.id_number AND c.op = '+'
""",  # noqa: S608
        [snapshot_id, now],
        "+",
    )
    _write_logged(
        cursor,
        RosterStudent,
        f"""
UPDATE {ROSTER} SET name = x.name, household_county_id = x.member_county_id,
  county_id = x.school_county_id, school_id = x.school_id, stage = x.reg_stage,
  grade = COALESCE(x.grade, ''), boarding = COALESCE(x.boarding, FALSE),
  snapshot_id = %s, is_active = TRUE, updated_at = %s
FROM xc_match x, xc_rc c
WHERE {ROSTER}.id_number = x.id_number AND c.id_number = x.id_number AND c.op = '~'
""",  # noqa: S608
        [snapshot_id, now],
        "~",
    )
    _write_logged(
        cursor,
        RosterStudent,
        f"UPDATE {ROSTER} SET is_active = FALSE, updated_at = %s "  # noqa: S608
        f"WHERE id_number IN (SELECT id_number FROM xc_rc WHERE op = '-')",
        [now],
        "~",
    )
    if not logged:
        history, params = _history_sql(
            RosterStudent,
            f"{ROSTER} r JOIN xc_rc c ON c.id_number = r.id_number",
            "CASE c.op WHEN '+' THEN '+' ELSE '~' END",
        )
        cursor.execute(history, params)
    return ops.get("+", 0), ops.get("~", 0), ops.get("-", 0)


_FINDING_FIELDS = (
    "name",
    "township",
    "village",
    "household_number",
    "school_status",
    "poverty_status",
    "school_id",
    "grade",
    "registry_stage",
    "registry_status",
)


def _write_findings(cursor: Any, semester_id: int, county_ids: list[int]) -> int:
    """The semester's findings of these counties become exactly this run's; returns how
    many rows were inserted, changed or deleted."""
    kinds = [
        (FindingKind.UNMATCHED, "x.unmatched"),
        (FindingKind.STAGE_MISMATCH, "x.mismatch"),
        (FindingKind.APART, "x.apart"),
    ]
    selects = " UNION ALL ".join(
        f"""SELECT '{kind.value}' AS kind, x.member_county_id AS county_id, x.id_number, x.name,
  x.township, x.village, x.household_number, x.school_status, x.poverty_status,
  x.school_id, COALESCE(x.grade, '') AS grade, COALESCE(x.reg_stage, '') AS registry_stage,
  COALESCE(x.status, '') AS registry_status
FROM xc_match x WHERE {flag}"""  # noqa: S608 - constants only
        for kind, flag in kinds
    )
    cursor.execute("DROP TABLE IF EXISTS xc_f")
    cursor.execute(f"CREATE TEMP TABLE xc_f AS {selects}")
    _analyze(cursor, "xc_f")
    same = " AND ".join(f"NOT ({_differs(f'f.{name}', f'n.{name}')})" for name in _FINDING_FIELDS)
    cursor.execute("DROP TABLE IF EXISTS xc_fc")
    # One FULL JOIN of this run's findings with the semester's stored ones: '+' only here,
    # '-' only stored (in a county run), '~' both but different. A full join is done by
    # hashing or merging, never by a nested loop: the stored rows were written by the
    # previous run, and before autovacuum analyses them the planner believes there is
    # one, so a NOT EXISTS became a nested loop over every pair (168 s at 0.25 scale).
    cursor.execute(
        f"""
CREATE TEMP TABLE xc_fc AS
SELECT COALESCE(n.kind, f.kind) AS kind, COALESCE(n.county_id, f.county_id) AS county_id,
       COALESCE(n.id_number, f.id_number) AS id_number, f.id AS finding_id,
       CASE WHEN f.id IS NULL THEN '+' WHEN n.id_number IS NULL THEN '-' ELSE '~' END AS op
FROM xc_f n
FULL JOIN (SELECT * FROM {FINDINGS} WHERE semester_id = %s) f
  ON f.county_id = n.county_id AND f.id_number = n.id_number AND f.kind = n.kind
WHERE f.id IS NULL
  OR (n.id_number IS NULL AND f.county_id IN ({_marks(county_ids)}))
  OR (n.id_number IS NOT NULL AND NOT ({same}))
""",  # noqa: S608
        [semester_id, *county_ids],
    )
    _analyze(cursor, "xc_fc")
    cursor.execute("SELECT count(*) FROM xc_fc")
    (total,) = cursor.fetchone()
    if not total:
        return 0
    if connection.vendor != "postgresql":
        # Without RETURNING in a WITH, the rows' last state is logged before they go.
        history, params = _history_sql(
            MatchFinding, f"{FINDINGS} r JOIN xc_fc c ON c.finding_id = r.id AND c.op = '-'", "'-'"
        )
        cursor.execute(history, params)
    _write_logged(
        cursor,
        MatchFinding,
        f"DELETE FROM {FINDINGS} WHERE id IN (SELECT finding_id FROM xc_fc WHERE op = '-')",  # noqa: S608
        [],
        "-",
    )
    columns = ", ".join(_FINDING_FIELDS)
    logged = _write_logged(
        cursor,
        MatchFinding,
        f"""
INSERT INTO {FINDINGS} (semester_id, kind, county_id, id_number, {columns})
SELECT %s, n.kind, n.county_id, n.id_number, {", ".join(f"n.{c}" for c in _FINDING_FIELDS)}
FROM xc_f n JOIN xc_fc c ON c.op = '+' AND c.kind = n.kind AND c.county_id = n.county_id
  AND c.id_number = n.id_number
""",  # noqa: S608
        [semester_id],
        "+",
    )
    sets = ", ".join(f"{c} = n.{c}" for c in _FINDING_FIELDS)
    _write_logged(
        cursor,
        MatchFinding,
        f"""
UPDATE {FINDINGS} SET {sets}
FROM xc_f n, xc_fc c
WHERE c.op = '~' AND {FINDINGS}.id = c.finding_id AND c.kind = n.kind
  AND c.county_id = n.county_id AND c.id_number = n.id_number
""",  # noqa: S608
        [],
        "~",
    )
    if not logged:
        history, params = _history_sql(
            MatchFinding,
            f"{FINDINGS} r JOIN xc_fc c ON c.op IN ('+', '~') AND r.semester_id = %s "
            "AND r.county_id = c.county_id AND r.id_number = c.id_number AND r.kind = c.kind",
            "c.op",
        )
        cursor.execute(history, [*params, semester_id])
    return int(total)


def roster_match(
    *,
    semester: Semester,
    scope: Scope,
    county: County | None = None,
    progress: Progress | None = None,
) -> MatchOutcome:
    """Build `semester`'s roster from the poverty members and the registry (see the module).

    Changes tasks.RosterStudent (add, change, take off matched rows) and the semester's
    MatchFinding rows of the counties run, with their history, in one transaction.
    Raises PermissionDenied for a county outside `scope`. Safe to re-run: a second run
    changes nothing."""
    report = progress or (lambda stage, done, total: None)
    counties = counties_for(scope=scope, county=county)
    county_ids = [c.pk for c in counties]
    outcome = MatchOutcome(semester=semester, counties=counties)
    with transaction.atomic():
        # Two runs for the semester queue here; the second finds nothing left to change.
        Semester.objects.select_for_update().filter(pk=semester.pk).first()
        report(_("选取数据批次"), 0, STEPS)
        poverty_ids, registry_ids, outcome.poverty_dates = _snapshots(semester, counties)
        now = clock.now()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The join, the ranking and the writes hash and sort millions of rows: give
                # this transaction the memory to do it in RAM rather than in temp files.
                cursor.execute("SET LOCAL work_mem = '256MB'")
                # Compiling these statements (JIT) took longer than the time it saved.
                cursor.execute("SET LOCAL jit = off")
            report(_("比对扶贫与学籍数据"), 1, STEPS)
            _match_table(cursor, poverty_ids, registry_ids, semester.year - ADULT_YEARS)
            cursor.execute(
                "SELECT "
                "SUM(CASE WHEN on_roster THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN unmatched THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN mismatch THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN apart THEN 1 ELSE 0 END) FROM xc_match"
            )
            roster, unmatched, mismatches, apart = (int(v or 0) for v in cursor.fetchone())
            outcome.roster, outcome.unmatched = roster, unmatched
            outcome.mismatches, outcome.apart = mismatches, apart
            report(_("写入资助名册"), 2, STEPS)
            batch, _created = RosterSnapshot.objects.get_or_create(
                source=MATCH_SOURCE,
                note=f"{semester.code} {county.current_name() if county else '全市'}",
                defaults={"as_of": min(clock.today(), semester.end)},
            )
            outcome.added, outcome.changed, outcome.removed = _write_roster(
                cursor, batch.pk, county_ids, now
            )
            report(_("写入比对结果"), 3, STEPS)
            outcome.findings_written = _write_findings(cursor, semester.pk, county_ids)
            for table in ("xc_m", "xc_hit", "xc_match", "xc_rc", "xc_f", "xc_fc"):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
        if outcome.added or outcome.changed or outcome.removed:
            figures.data_changed("subsidies")
            figures.data_changed("dropout")
        report(_("完成"), STEPS, STEPS)
    return outcome


def run_start(*, user: Any, scope: Scope, semester: Semester, county: County | None) -> MatchRun:
    """Record a run the job will carry out (the page's button). Raises PermissionDenied
    for a county outside the user's scope."""
    counties_for(scope=scope, county=county)
    return MatchRun.objects.create(
        semester=semester,
        county=county,
        started_by=user if getattr(user, "is_authenticated", False) else None,
        triggered_by=f"web:{user.get_username()}" if user is not None else "",
        progress_total=STEPS,
    )


def run_execute(run_id: int) -> MatchRun:
    """Carry out a recorded run: progress on the run's row while it works, counts when
    done. A run already done or running elsewhere is left alone (safe to deliver twice)."""
    claimed = MatchRun.objects.filter(pk=run_id, state=MatchRun.State.QUEUED).update(
        state=MatchRun.State.RUNNING
    )
    run = MatchRun.objects.select_related("semester", "county").get(pk=run_id)
    if not claimed:
        return run
    # The run acts for whoever pressed the button, within their scope at that time.
    scope = user_scope(run.started_by) if run.started_by is not None else EVERYTHING

    def progress(stage: str, done: int, total: int) -> None:
        MatchRun.objects.filter(pk=run_id).update(
            progress_stage=stage, progress_done=done, progress_total=total
        )

    try:
        with audit.audit_source(f"名册比对#{run_id}", user=run.started_by):
            outcome = roster_match(
                semester=run.semester, scope=scope, county=run.county, progress=progress
            )
    except Exception as error:
        run.state = MatchRun.State.FAILED
        run.error = str(error)[:500]
        run.finished_at = clock.now()
        run.save(update_fields=["state", "error", "finished_at"])
        raise
    run.state = MatchRun.State.DONE
    run.counts = outcome.counts()
    run.finished_at = clock.now()
    run.progress_done = run.progress_total = STEPS
    run.save(update_fields=["state", "counts", "finished_at", "progress_done", "progress_total"])
    return run
