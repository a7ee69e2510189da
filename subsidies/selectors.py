"""Reads: the omission check (查遗补漏), the semester figures, notices and the export.

The omission check is one SQL statement per page: the roster joined to what each student
is owed (from the standards, as a small VALUES list), FULL JOINed once to the semester's
payments, so every finding comes from a single pass over the two big tables. Counts per
county and the first page come out of the same materialised result.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from tasks import figures
from tasks.models import County, RosterStudent, Stage, Unit
from tasks.scoping import EVERYTHING, Scope

from . import findings
from .lookups import Rule, semester_rules
from .models import Disbursement, Notice, Semester, SubsidyItem
from .omission_sql import (
    DISB,
    ROSTER,
    OmissionFilters,
    _base_sql,
    _owed_values,
    _owner_filters,
    _scope_sql,
)

logger = logging.getLogger(__name__)

KINDS: dict[str, Any] = {
    "missing": _("遗漏"),
    "below": _("未按最高档"),
    "late": _("超时限"),
    "unowed": _("项目与名册学段不符"),
    "offroster": _("非名册学生发放"),
}
# The findings against the four promises; the other two are listed apart, not as errors.
FINDINGS = ("missing", "below", "late")
APART = ("unowed", "offroster")


@dataclass
class OmissionRow:
    id_number: str
    name: str
    county_id: int | None
    school_id: int | None
    stage: str | None
    item_id: int
    top: Decimal | None
    amount: Decimal | None
    paid_on: dt.date | None
    paid_school_id: int | None
    flags: tuple[str, ...]
    county_name: str = ""
    school_name: str = ""
    paid_school_name: str = ""
    item_name: str = ""

    @property
    def labels(self) -> list[str]:
        return [str(KINDS[f]) for f in self.flags]


@dataclass
class CountyCounts:
    county_id: int | None
    county_name: str
    counts: dict[str, int]


@dataclass
class OmissionReport:
    semester: Semester
    kind: str
    by_county: list[CountyCounts]
    totals: dict[str, int]
    rows: list[OmissionRow]
    page: int
    page_size: int
    filters: OmissionFilters = field(default_factory=OmissionFilters)

    @property
    def total_rows(self) -> int:
        if self.kind == "all":
            return sum(self.totals[k] for k in FINDINGS)
        return self.totals.get(self.kind, 0)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_rows // self.page_size))


def _kind_condition(kind: str) -> str:
    if kind == "all":
        return "(missing = 1 OR below = 1 OR late = 1)"
    if kind not in KINDS:
        raise ValueError(kind)
    return f"{kind} = 1"


def _omission_check(
    *,
    semester: Semester,
    scope: Scope,
    filters: OmissionFilters | None = None,
    kind: str = "all",
    page: int = 1,
    page_size: int = 50,
    rules: Sequence[Rule] | None = None,
) -> OmissionReport:
    """The omission check of one semester for what `scope` may see: counts per county of
    every kind of finding, and one page of findings of `kind` ("all" = the three findings).
    """
    filters = filters or OmissionFilters()
    if rules is None:
        rules = semester_rules(semester)
    items_at_stage = (
        sorted({r.item_id for r in rules if r.stage == filters.stage}) if filters.stage else []
    )
    # The findings maintained by subsidies/findings.py when the semester's are built (and
    # those of the IDs changed since, computed live); else the single pass over the tables.
    stored = findings.is_built(semester)
    if stored:
        base, params = findings.stored_sql(semester, rules)
    else:
        base, params = _base_sql(semester, scope, filters, rules)
    owner, owner_params = _owner_filters(scope, filters, items_at_stage, stored=stored)
    page = max(1, page)
    # Byte order is enough for digits and sorts far faster than the database's locale.
    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    sql = f"""{base},
g AS (SELECT * FROM f WHERE 1 = 1{owner})
SELECT 0 AS part, county_id, NULL AS id_number, NULL AS school_id, NULL AS stage,
       NULL AS item_id, NULL AS top, NULL AS amount, NULL AS paid_on, NULL AS paid_school_id,
       SUM(missing) AS missing, SUM(below) AS below, SUM(late) AS late, SUM(unowed) AS unowed,
       SUM(offroster) AS offroster
FROM g GROUP BY county_id
UNION ALL
SELECT * FROM (
  SELECT 1 AS part, county_id, id_number, school_id, stage, item_id, top, amount, paid_on,
         paid_school_id, missing, below, late, unowed, offroster
  FROM g WHERE {_kind_condition(kind)}
  ORDER BY county_id, school_id, id_number{collate}, item_id
  LIMIT %s OFFSET %s
) p"""  # noqa: S608 - only placeholders and constant table names
    statements = [(sql, params + owner_params + [page_size, (page - 1) * page_size])]
    if stored:
        # Two statements over the stored findings, not one materialising them all twice:
        # the counts are one aggregate pass; the page reads the findings' index in its
        # order and stops after one page.
        grouped = (
            f"""{base}
SELECT 0 AS part, county_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       SUM(missing), SUM(below), SUM(late), SUM(unowed), SUM(offroster)
FROM f WHERE 1 = 1{owner} GROUP BY county_id""",  # noqa: S608 - placeholders only
            params + owner_params,
        )
        statements = [
            _summary_counts(semester, scope, filters) or grouped,
            (
                f"""{base}
SELECT 1 AS part, county_id, id_number, school_id, stage, item_id, top, amount, paid_on,
       paid_school_id, missing, below, late, unowed, offroster
FROM f WHERE 1 = 1{owner} AND {_kind_condition(kind)}
ORDER BY county_id, school_id, id_number{collate}, item_id
LIMIT %s OFFSET %s""",  # noqa: S608 - placeholders only
                params + owner_params + [page_size, (page - 1) * page_size],
            ),
        ]
    records = []
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The planner's cost for this one statement crosses the JIT threshold, and
            # compiling it costs more (~0.3 s) than it saves on a single pass.
            cursor.execute("SET LOCAL jit = off")
        for statement, statement_params in statements:
            cursor.execute(statement, statement_params)
            records += cursor.fetchall()

    known = list(County.objects.prefetch_related("codes"))
    counties = {c.pk: c.current_name() for c in known}
    by_county: list[CountyCounts] = []
    totals = dict.fromkeys(KINDS, 0)
    rows: list[OmissionRow] = []
    for rec in records:
        if rec[0] == 0:
            counts = {k: int(v or 0) for k, v in zip(KINDS, rec[10:15], strict=True)}
            for k, v in counts.items():
                totals[k] += v
            by_county.append(CountyCounts(rec[1], counties.get(rec[1], str(_("市直学校"))), counts))
        else:
            flags = tuple(k for k, v in zip(KINDS, rec[10:15], strict=True) if v)
            rows.append(
                OmissionRow(
                    id_number=rec[2],
                    name="",
                    county_id=rec[1],
                    school_id=rec[3],
                    stage=rec[4],
                    item_id=rec[5],
                    top=_dec(rec[6]),
                    amount=_dec(rec[7]),
                    paid_on=_date(rec[8]),
                    paid_school_id=rec[9],
                    flags=flags,
                )
            )
    order = {c.pk: c.order for c in known}
    by_county.sort(key=lambda c: order.get(c.county_id, 99) if c.county_id else 98)
    _name_rows(rows, counties, semester)
    return OmissionReport(
        semester=semester,
        kind=kind,
        by_county=by_county,
        totals=totals,
        rows=rows,
        page=page,
        page_size=page_size,
        filters=filters,
    )


def _summary_counts(
    semester: Semester, scope: Scope, filters: OmissionFilters
) -> tuple[str, list[Any]] | None:
    """The counts per county from the findings' summary (subsidies/findings.py), where it
    can answer: the city's or a county's findings, unfiltered but by county, and none
    changed since they were stored. Else None (the counts group the findings)."""
    if filters.school_id is not None or filters.item_id is not None or filters.stage:
        return None
    if not (scope.sees_all or scope.county_id is not None) or findings.dirty():
        return None
    where, params = "", [semester.pk]
    for county_id in (scope.county_id, filters.county_id):
        if county_id is not None:
            where += " AND county_id = %s"
            params.append(county_id)
    sql = f"""
SELECT 0 AS part, NULLIF(county_id, 0), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       SUM(missing), SUM(below), SUM(late), SUM(unowed), SUM(offroster)
FROM {findings.SUMMARY} WHERE semester_id = %s{where} GROUP BY county_id"""  # noqa: S608 - placeholders only
    return sql, params


def omission_rows(
    *,
    semester: Semester,
    scope: Scope,
    filters: OmissionFilters | None = None,
    kind: str = "all",
    batch: int = 5000,
) -> Iterator[OmissionRow]:
    """Every finding of `kind`, for the .xlsx download and the command; streamed by pages."""
    rules = semester_rules(semester)
    page = 1
    while True:
        report = omission_check(
            semester=semester,
            scope=scope,
            filters=filters,
            kind=kind,
            page=page,
            page_size=batch,
            rules=rules,
        )
        yield from report.rows
        if len(report.rows) < batch:
            return
        page += 1


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _name_rows(rows: list[OmissionRow], counties: dict[int, str], semester: Semester) -> None:
    ids = sorted({r.id_number for r in rows})
    names: dict[str, str] = {}
    stages: dict[str, str] = {}
    for ident, name, stage in RosterStudent.objects.filter(id_number__in=ids).values_list(
        "id_number", "name", "stage"
    ):
        names[ident], stages[ident] = name, stage
    # Students off the roster: the name the paying school wrote.
    for ident, name in Disbursement.objects.filter(
        semester=semester, id_number__in=[i for i in ids if i not in names]
    ).values_list("id_number", "name"):
        names.setdefault(ident, name)
    for r in rows:
        r.name = names.get(r.id_number, "")
        r.stage = r.stage or stages.get(r.id_number)
    school_ids = {r.school_id for r in rows} | {r.paid_school_id for r in rows}
    schools = dict(
        Unit.objects.filter(pk__in=[i for i in school_ids if i]).values_list("pk", "name")
    )
    items = dict(SubsidyItem.objects.values_list("pk", "name"))
    for r in rows:
        city = str(_("市直学校"))
        r.county_name = counties.get(r.county_id, city) if r.county_id else city
        r.school_name = schools.get(r.school_id, "") if r.school_id else ""
        r.paid_school_name = schools.get(r.paid_school_id, "") if r.paid_school_id else ""
        r.item_name = items.get(r.item_id, "")


# --- semester figures -----------------------------------------------------------------


@dataclass
class CountyFigures:
    county_id: int | None
    county_name: str
    students: int = 0  # active roster students
    owed_students: int = 0  # owed at least one item this semester
    complete_students: int = 0  # paid every item owed
    owed_pairs: int = 0
    paid_pairs: int = 0
    top_pairs: int = 0  # paid at the highest tier (or an item not checked by tier)
    paid_roster_payments: int = 0
    late_payments: int = 0
    informed: int = 0
    by_stage: dict[str, list[int]] = field(default_factory=dict)  # stage -> [owed, complete]

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part * 100 / whole, 1) if whole else None

    @property
    def coverage_rate(self) -> float | None:
        """对象无遗漏: share of owed students paid every item they are owed."""
        return self._rate(self.complete_students, self.owed_students)

    @property
    def top_rate(self) -> float | None:
        """标准最高档: share of paid owed items paid at the highest tier."""
        return self._rate(self.top_pairs, self.paid_pairs)

    @property
    def informed_rate(self) -> float | None:
        """结果全告知: share of roster students whose family was informed this semester."""
        return self._rate(self.informed, self.students)

    @property
    def missing_pairs(self) -> int:
        return self.owed_pairs - self.paid_pairs


def _semester_figures(
    *, semester: Semester, scope: Scope, county_id: int | None = None, city_schools: bool = False
) -> list[CountyFigures]:
    """The four promises per county for one semester (one aggregate query over the roster
    and payments, one over notices). The last element is the total. `city_schools`: only
    the students with no county (the city-run schools)."""
    rules = semester_rules(semester)
    owed_rows, params = _owed_values(rules)
    params += [semester.deadline, semester.pk]
    where, p = _scope_sql(scope, "r.county_id", "r.school_id")
    params += p
    if county_id is not None:
        where += " AND r.county_id = %s"
        params.append(county_id)
    if city_schools:
        where += " AND r.county_id IS NULL"
    sql = f"""
WITH owed(item_id, stage, boarding, top, checks_tier) AS (VALUES {owed_rows}),
per_student AS (
  SELECT r.county_id, r.stage, r.id_number,
         COUNT(o.item_id) AS owed, COUNT(d.id) AS paid,
         SUM(CASE WHEN d.id IS NOT NULL AND (NOT o.checks_tier OR d.amount >= o.top) THEN 1 ELSE 0 END) AS top_paid,
         SUM(CASE WHEN d.paid_on > %s THEN 1 ELSE 0 END) AS late
  FROM {ROSTER} r
  LEFT JOIN owed o ON o.stage = r.stage AND o.boarding = r.boarding
  LEFT JOIN {DISB} d ON d.semester_id = %s AND d.item_id = o.item_id AND d.id_number = r.id_number
  WHERE r.is_active{where}
  GROUP BY r.county_id, r.stage, r.id_number
)
SELECT county_id, stage, COUNT(*) AS students,
       SUM(CASE WHEN owed > 0 THEN 1 ELSE 0 END) AS owed_students,
       SUM(CASE WHEN owed > 0 AND paid = owed THEN 1 ELSE 0 END) AS complete_students,
       SUM(owed), SUM(paid), SUM(top_paid), SUM(late)
FROM per_student GROUP BY county_id, stage"""  # noqa: S608 - only placeholders and constant table names
    stored = findings.is_built(semester) and not findings.dirty()
    if stored:
        sql, params = _stored_figures_sql(semester, rules, scope, county_id, city_schools)
    with transaction.atomic(), connection.cursor() as cursor:
        if stored and not (scope.sees_all or scope.county_id is not None):
            # A school's scope groups its findings per student (the city and a county read
            # the summary): a hash in memory, not a sort spilled to disk as with 4 MB.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, params)
        records = cursor.fetchall()

    counties = {c.pk: c for c in County.objects.prefetch_related("codes")}
    figures: dict[int | None, CountyFigures] = {}

    def get(cid: int | None) -> CountyFigures:
        if cid not in figures:
            name = counties[cid].current_name() if cid in counties else str(_("市直学校"))
            figures[cid] = CountyFigures(cid, name)
        return figures[cid]

    for cid, stage, students, owed_students, complete, owed, paid, top_paid, late in records:
        f = get(cid)
        f.students += students
        f.owed_students += int(owed_students or 0)
        f.complete_students += int(complete or 0)
        f.owed_pairs += int(owed or 0)
        f.paid_pairs += int(paid or 0)
        f.top_pairs += int(top_paid or 0)
        f.paid_roster_payments += int(paid or 0)
        f.late_payments += int(late or 0)
        slot = f.by_stage.setdefault(stage, [0, 0])
        slot[0] += int(owed_students or 0)
        slot[1] += int(complete or 0)

    informed = (
        Notice.objects.for_scope(scope)
        .filter(semester=semester, student__is_active=True)
        .filter(
            Q(delivered_on__isnull=False) | Q(signed_on__isnull=False) | Q(visited_on__isnull=False)
        )
    )
    if county_id is not None:
        informed = informed.filter(student__county_id=county_id)
    if city_schools:
        informed = informed.filter(student__county_id__isnull=True)
    for row in informed.values("student__county_id").annotate(n=Count("pk")):
        get(row["student__county_id"]).informed += row["n"]

    return _with_total(list(figures.values()))


def _stored_figures_sql(
    semester: Semester,
    rules: Sequence[Rule],
    scope: Scope,
    county_id: int | None,
    city_schools: bool,
) -> tuple[str, list[Any]]:
    """The same records as _semester_figures' single pass, from the roster alone (how many
    students, and items owed, by stage and boarding) and the stored findings of owed items
    (subsidies/findings.py): an owed item not missing is paid; paid and not below the
    highest tier is paid at the top. No join of the roster to the payments. For the city
    or a county, the findings' side is their summary per county and stage (a few rows);
    for a school's scope, its findings grouped per student."""
    counts: dict[tuple[str, bool], int] = {}
    for r in rules:
        counts[(r.stage, r.boarding)] = counts.get((r.stage, r.boarding), 0) + 1
    params: list[Any] = []
    for (stage, boarding), n in counts.items():
        params += [stage, boarding, n]
    owed_rows = ", ".join(["(%s, %s, %s)"] * len(counts)) or "('', FALSE, 0)"

    def where(county: str, school: str) -> tuple[str, list[Any]]:
        sql, p = _scope_sql(scope, county, school)
        if county_id is not None:
            sql += f" AND {county} = %s"
            p.append(county_id)
        if city_schools:
            sql += f" AND {county} IS NULL"
        return sql, p

    roster_where, p = where("r.county_id", "r.school_id")
    roster_sql = f"""
  SELECT r.county_id, r.stage, COUNT(*) AS students,
         SUM(CASE WHEN o.n > 0 THEN 1 ELSE 0 END) AS owed_students,
         SUM(COALESCE(o.n, 0)) AS owed_pairs
  FROM {ROSTER} r LEFT JOIN owed o ON o.stage = r.stage AND o.boarding = r.boarding
  WHERE r.is_active{roster_where}
  GROUP BY r.county_id, r.stage"""  # noqa: S608 - placeholders and constant table names only
    if scope.sees_all and (county_id is not None or city_schools):
        # One county's part: its roster counts change only with its roster, not with each
        # payment import, so they are cached on their own (see roster_part).
        one = None if city_schools else county_id
        owed_params, roster_params = list(params), list(p)

        def roster_counts() -> list[tuple[Any, ...]]:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"WITH owed(stage, boarding, n) AS (VALUES {owed_rows}) {roster_sql}",
                    owed_params + roster_params,
                )
                return [tuple(row) for row in cursor.fetchall()]

        rows = figures.cached(
            "subsidies",
            ("roster_counts", one, tuple(sorted(counts.items()))),
            roster_counts,
            depends=[roster_part(one)],
        )
        values = ", ".join(
            ["(%s::integer, %s::text, %s::bigint, %s::bigint, %s::bigint)"] * len(rows)
        )
        r_cte = (
            f"r(county_id, stage, students, owed_students, owed_pairs) AS (VALUES {values})"
            if rows
            else "r AS (SELECT NULL::integer AS county_id, NULL::text AS stage, 0 AS students, "
            "0 AS owed_students, 0 AS owed_pairs WHERE FALSE)"
        )
        params += [v for row in rows for v in row]
    else:
        r_cte = f"r AS ({roster_sql})"
        params += p
    if scope.sees_all or scope.county_id is not None:
        # The findings' counts per county and stage, kept with them: a few rows.
        found_where, p = where("NULLIF(x.county_id, 0)", "NULL")
        params += [semester.pk, *p]
        s_cte = f"""s AS (
  SELECT NULLIF(x.county_id, 0) AS county_id, x.stage, x.missing, x.below,
         x.owed_late AS late, x.incomplete
  FROM {findings.SUMMARY} x
  WHERE x.semester_id = %s AND x.stage <> ''{found_where}
)"""  # noqa: S608 - placeholders and constant table names only
    else:
        found_where, p = where("s.county_id", "s.school_id")
        params += [semester.pk, *p]
        s_cte = f"""per AS (
  SELECT s.county_id, s.stage, s.id_number, SUM(s.missing) AS missing, SUM(s.below) AS below,
         SUM(s.late) AS late
  FROM {findings.FINDINGS} s
  WHERE s.semester_id = %s AND s.owed = 1{found_where}
  GROUP BY s.county_id, s.stage, s.id_number
),
s AS (
  -- Per student first (a hash aggregate), not COUNT(DISTINCT …), which sorts.
  SELECT county_id, stage, SUM(missing) AS missing, SUM(below) AS below, SUM(late) AS late,
         SUM(CASE WHEN missing > 0 THEN 1 ELSE 0 END) AS incomplete
  FROM per GROUP BY county_id, stage
)"""  # noqa: S608 - placeholders and constant table names only
    sql = f"""
WITH owed(stage, boarding, n) AS (VALUES {owed_rows}),
{r_cte},
{s_cte}
SELECT r.county_id, r.stage, r.students, r.owed_students,
       r.owed_students - COALESCE(s.incomplete, 0),
       r.owed_pairs, r.owed_pairs - COALESCE(s.missing, 0),
       r.owed_pairs - COALESCE(s.missing, 0) - COALESCE(s.below, 0), COALESCE(s.late, 0)
FROM r LEFT JOIN s ON s.county_id IS NOT DISTINCT FROM r.county_id AND s.stage = r.stage"""  # noqa: S608 - placeholders and constant table names only
    return sql, params


def _with_total(parts: list[CountyFigures]) -> list[CountyFigures]:
    """The counties' figures in the city's order, and their total last."""
    order = dict(County.objects.values_list("pk", "order"))
    result = sorted(parts, key=lambda f: order.get(f.county_id, 98) if f.county_id else 99)
    total = CountyFigures(None, str(_("合计")))
    for f in result:
        for attr in (
            "students",
            "owed_students",
            "complete_students",
            "owed_pairs",
            "paid_pairs",
            "top_pairs",
            "paid_roster_payments",
            "late_payments",
            "informed",
        ):
            setattr(total, attr, getattr(total, attr) + getattr(f, attr))
        for stage, (owed_n, complete_n) in f.by_stage.items():
            slot = total.by_stage.setdefault(stage, [0, 0])
            slot[0] += owed_n
            slot[1] += complete_n
    result.append(total)
    return result


# --- students, notices, export --------------------------------------------------------


def student_get(*, user: Any, pk: int) -> RosterStudent:
    return (
        RosterStudent.objects.for_user(user)
        .select_related("school", "county", "household_county")
        .get(pk=pk)
    )


def student_payments(*, student: RosterStudent) -> list[Disbursement]:
    """Every payment to the student's ID number, whoever paid it: the family is owed the
    whole picture."""
    return list(
        Disbursement.objects.filter(id_number=student.id_number)
        .select_related("item", "semester", "school")
        .order_by("-semester__start", "item__order")
    )


def semester_current(day: dt.date) -> Semester | None:
    """The semester a date falls in, else the latest that started before it, else the first."""
    qs = Semester.objects.order_by("start")
    within = qs.filter(start__lte=day, end__gte=day).last()
    return within or qs.filter(start__lte=day).last() or qs.first()


def export_rows(
    *, semester: Semester, scope: Scope
) -> tuple[list[SubsidyItem], Iterator[tuple[RosterStudent, dict[int, Disbursement]]]]:
    """Roster students in scope with what each received this semester, item by item.

    Returns the items (the export's fixed column order) and an iterator of
    (student, {item_id: payment}), reading the roster in chunks of 2,000.
    """
    items = list(SubsidyItem.objects.order_by("order", "pk"))

    def gen() -> Iterator[tuple[RosterStudent, dict[int, Disbursement]]]:
        students = (
            RosterStudent.objects.for_scope(scope)
            .filter(is_active=True)
            .select_related("school", "county", "household_county")
            .order_by("county__order", "school__order", "id_number")
        )
        chunk: list[RosterStudent] = []
        for student in students.iterator(chunk_size=2000):
            chunk.append(student)
            if len(chunk) == 2000:
                yield from _with_payments(chunk, semester)
                chunk = []
        if chunk:
            yield from _with_payments(chunk, semester)

    return items, gen()


def _with_payments(
    students: list[RosterStudent], semester: Semester
) -> Iterator[tuple[RosterStudent, dict[int, Disbursement]]]:
    paid: dict[str, dict[int, Disbursement]] = {}
    for d in Disbursement.objects.filter(
        semester=semester, id_number__in=[s.id_number for s in students]
    ):
        paid.setdefault(d.id_number, {})[d.item_id] = d
    for s in students:
        yield s, paid.get(s.id_number, {})


STAGES = [s.value for s in Stage]


# Cached entry points. At province scale one check reads a million roster students and
# two million payments (seconds); pages read the cached result, which stays valid until
# subsidy data changes (tasks/figures.py: imports and saves move the "subsidies" version).


def omission_check(
    *,
    semester: Semester,
    scope: Scope,
    filters: OmissionFilters | None = None,
    kind: str = "all",
    page: int = 1,
    page_size: int = 50,
    rules: Sequence[Rule] | None = None,
) -> OmissionReport:
    """The omission check of one semester for what `scope` may see (cached; see _omission_check)."""
    if rules is not None:
        return _omission_check(
            semester=semester,
            scope=scope,
            filters=filters,
            kind=kind,
            page=page,
            page_size=page_size,
            rules=rules,
        )
    parts = ("omissions", semester.pk, scope, filters or OmissionFilters(), kind, page, page_size)
    return figures.cached(
        "subsidies",
        parts,
        lambda: _omission_check(
            semester=semester,
            scope=scope,
            filters=filters,
            kind=kind,
            page=page,
            page_size=page_size,
        ),
        depends=_depends(semester, scope, (filters or OmissionFilters()).county_id),
    )


def _omission_first_pages(semester: Semester, scope: Scope) -> None:
    """Cache what the pages open with: the list's first page of 50, and the dashboard's
    counts (a page of 1) taken from it — the same counts and first row, not a second
    check. Both keys from one reading of the versions: the page of 1 is never stored as
    newer than the data it was taken from."""
    filters = OmissionFilters()
    first, counts = figures.keys(
        "subsidies",
        [("omissions", semester.pk, scope, filters, "all", 1, size) for size in (50, 1)],
        depends=_depends(semester, scope),
    )
    report = figures.cached_at(
        first, lambda: _omission_check(semester=semester, scope=scope, page_size=50)
    )
    figures.cached_at(counts, lambda: replace(report, rows=report.rows[:1], page_size=1))


def semester_figures(
    *, semester: Semester, scope: Scope, county_id: int | None = None
) -> list[CountyFigures]:
    """The four promises per county for one semester (cached; see _semester_figures).

    The city's figures are the sum of each county's (and the city-run schools'), each
    cached under its own part's version: after an import into one county only that
    county's part is recomputed, never the whole city."""
    if scope.sees_all and county_id is None:
        parts = figures.cached_many(
            "subsidies", [_part_figures_args(semester, c) for c in part_counties()]
        )
        return _with_total([f for rows in parts for f in rows])
    one = _single_county(scope, county_id)
    if one is not None:
        return _with_total(_part_figures(semester, one))
    return figures.cached(
        "subsidies",
        ("semester_figures", semester.pk, scope, county_id),
        lambda: _semester_figures(semester=semester, scope=scope, county_id=county_id),
        depends=_depends(semester, scope, county_id),
    )


def _part_figures(semester: Semester, county_id: int | None) -> list[CountyFigures]:
    """One county's figures (None: the city-run schools), without a total; cached."""
    parts, compute, depends = _part_figures_args(semester, county_id)
    return figures.cached("subsidies", parts, compute, depends=depends)


def _part_figures_args(
    semester: Semester, county_id: int | None
) -> tuple[tuple[Any, ...], Callable[[], list[CountyFigures]], list[str]]:
    """What `figures.cached` takes for one part's figures (also read eight at a time)."""
    return (
        ("semester_part", semester.pk, county_id),
        lambda: _semester_figures(
            semester=semester,
            scope=EVERYTHING,
            county_id=county_id,
            city_schools=county_id is None,
        )[:-1],
        [data_part(semester.pk, county_id)],
    )


# --- which figures an import makes stale ----------------------------------------------
# A part of the subsidy data is one semester in one county (None: the city-run schools):
# the payments and roster students whose findings belong there. Imports say which parts
# they changed (`parts_changed`), so only those figures are recomputed.


def data_part(semester_id: int, county_id: int | None) -> str:
    return figures.part("subsidies", semester_id, county_id)


def roster_part(county_id: int | None) -> str:
    """The roster of one county (None: the city-run schools), apart from its payments."""
    return figures.part("subsidies", "roster", county_id)


def part_counties() -> list[int | None]:
    return [*County.objects.order_by("order").values_list("pk", flat=True), None]


def _single_county(scope: Scope, county_id: int | None) -> int | None:
    """The one county a result is confined to, if there is one."""
    if scope.sees_all:
        return county_id
    if scope.county_id is not None and county_id in (None, scope.county_id):
        return scope.county_id
    return None


def _depends(semester: Semester, scope: Scope, county_id: int | None = None) -> list[str]:
    """The parts a result of `scope` (narrowed to `county_id`) may read."""
    one = _single_county(scope, county_id)
    if one is not None:
        return [data_part(semester.pk, one)]
    # A school's or a mixed scope: its students' and payments' counties are not known
    # here, so any county's change counts.
    return [data_part(semester.pk, c) for c in part_counties()]


def parts_of(
    semester_ids: Iterable[int], ids: Sequence[str], counties: Iterable[int | None]
) -> set[str]:
    """The parts changed by writing rows of these semesters for these ID numbers, paid by
    schools of `counties`: a finding belongs to the roster student's county, or for a
    student off the roster, to the paying school's. Where the students study, and where
    they were paid, both count."""
    touched: set[int | None] = set(counties)
    if ids:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"SELECT DISTINCT county_id FROM {ROSTER} WHERE id_number = ANY(string_to_array(%s, ','))",  # noqa: S608
                    [",".join(ids)],
                )
                touched |= {row[0] for row in cursor.fetchall()}
                cursor.execute(
                    f"SELECT DISTINCT county_id FROM {DISB} WHERE id_number = ANY(string_to_array(%s, ','))",  # noqa: S608
                    [",".join(ids)],
                )
                touched |= {row[0] for row in cursor.fetchall()}
            else:
                for chunk in range(0, len(ids), 500):
                    part = list(ids[chunk : chunk + 500])
                    touched |= set(
                        RosterStudent.objects.filter(id_number__in=part).values_list(
                            "county_id", flat=True
                        )
                    )
                    touched |= set(
                        Disbursement.objects.filter(id_number__in=part).values_list(
                            "county_id", flat=True
                        )
                    )
    return {data_part(s, c) for s in semester_ids for c in touched}


def figures_follow(changed: set[str]) -> list[tuple[str, float]]:
    """Recompute the figures the pages open with for the parts just changed: each changed
    county's first (its own pages), then the city's (a sum of cached parts: only the stale
    ones are recomputed). Runs in the import's job right after its commit. Returns what
    was warmed, with the seconds since the start, for the benchmark."""
    import time

    started = time.perf_counter()
    done: list[tuple[str, float]] = []
    by_semester: dict[int, set[int | None]] = {}
    for semester in Semester.objects.all():
        for c in part_counties():
            if data_part(semester.pk, c) in changed:
                by_semester.setdefault(semester.pk, set()).add(c)
    semesters = Semester.objects.in_bulk(list(by_semester))
    for pk, counties in by_semester.items():
        semester = semesters[pk]
        for c in counties:
            # The county's part (also the city's city-run schools, c None): what a county
            # user's figures read too (the same cached part); then their omission pages.
            semester_figures(semester=semester, scope=EVERYTHING, county_id=c)
            if c is not None:
                _omission_first_pages(semester, Scope(county_id=c))
            done.append((f"{semester.code}:{c}", time.perf_counter() - started))
    for pk in by_semester:
        semester = semesters[pk]
        semester_figures(semester=semester, scope=EVERYTHING)
        _omission_first_pages(semester, EVERYTHING)
        done.append((f"{semester.code}:city", time.perf_counter() - started))
    return done


def follow_import(changed: set[str]) -> None:
    """Mark `changed` parts stale in the caller's transaction, and warm them once it
    commits (never inside it: the warm must read what was committed)."""
    if not changed:
        return
    figures.parts_changed("subsidies", changed)

    def follow() -> None:
        # After the commit: a failure here must not make the applied import look failed;
        # the pages then compute the stale figures on their first visit instead.
        try:
            figures_follow(changed)
        except Exception:
            logger.exception("figures_follow failed after an import")

    transaction.on_commit(follow)


def figures_warm() -> None:
    """Recompute what dashboards open with: every semester, city-wide and per county.
    First the stored findings: any semester not built (after a change of the rules) is
    built, and IDs changed behind the imports' back are folded in."""
    findings.build_missing()
    findings.refresh()
    scopes = [EVERYTHING] + [
        Scope(county_id=pk) for pk in County.objects.values_list("pk", flat=True)
    ]
    for semester in Semester.objects.all():
        for scope in scopes:
            semester_figures(semester=semester, scope=scope)
            omission_check(semester=semester, scope=scope)
