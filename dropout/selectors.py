"""Reads for dropout control: the cross-check queries, case lists, dashboard figures."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.utils.translation import gettext as _

from poverty.models import POLICY_STATUSES, PovertyMember, PovertySnapshot
from tasks.models import County, RosterStudent, Unit
from tasks.scoping import user_scope
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from .age import compulsory_birth_range
from .models import (
    HOLDS_PLACE_STATUSES,
    OPEN_STATUSES,
    OUT_OF_SCHOOL_STATUSES,
    CaseStatus,
    DropoutCase,
    DropoutCaseQuerySet,
    EnrolmentRecord,
    EnrolmentSnapshot,
    EnrolmentSpread,
    FindingKind,
    HouseholdChild,
)

#: Findings are listed in this order after the registered-poor children.
KIND_ORDER: dict[str, int] = {
    FindingKind.NOT_ENROLLED: 0,
    FindingKind.POOR_NOT_ENROLLED: 1,
    FindingKind.MARKED_DROPOUT: 2,
    FindingKind.DOUBLE_ENROLLED: 3,
    FindingKind.NAME_MISMATCH: 4,
}
CHUNK = 2000


@dataclass
class Finding:
    kind: str
    id_number: str
    name: str
    county_id: int | None
    registered_poor: bool
    birth_date: dt.date | None = None
    school_id: int | None = None
    township: str = ""
    village: str = ""
    guardian: str = ""
    phone: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[int, int, int, str]:
        return (
            0 if self.registered_poor else 1,
            KIND_ORDER[self.kind],
            self.county_id or 0,
            self.id_number,
        )


@dataclass
class CrosscheckData:
    findings: list[Finding]
    warnings: list[tuple[int, str]]  # (county id, Chinese message)
    enrolment_as_of: dict[int | None, dt.date]  # county id (None: city-run schools) -> date
    household_as_of: dict[int, dt.date]


def latest_enrolment_snapshots(as_of: dt.date) -> dict[int | None, EnrolmentSnapshot]:
    """For every county (and the city-run schools), its latest snapshot on or before `as_of`."""
    latest = (
        EnrolmentSnapshot.objects.filter(as_of__lte=as_of)
        .values("county_id")
        .annotate(last=Max("as_of"))
    )
    wanted = Q(pk__in=[])
    for row in latest:
        wanted |= Q(county_id=row["county_id"], as_of=row["last"])
    return {s.county_id: s for s in EnrolmentSnapshot.objects.filter(wanted)}


def latest_household_dates(county_ids: Iterable[int], as_of: dt.date) -> dict[int, dt.date]:
    """Per county, the date of its latest household list on or before `as_of`.
    One indexed max() per county (a backward index scan), not a GROUP BY over the table."""
    result = {}
    for county_id in county_ids:
        last = HouseholdChild.objects.filter(county_id=county_id, as_of__lte=as_of).aggregate(
            last=Max("as_of")
        )["last"]
        if last is not None:
            result[county_id] = last
    return result


def latest_poverty_snapshots(county_ids: Iterable[int], as_of: dt.date) -> dict[int, int]:
    """Per county, the id of its latest poverty snapshot (建档立卡人口) on or before `as_of`."""
    result: dict[int, int] = {}
    for county_id, pk in (
        PovertySnapshot.objects.filter(county_id__in=list(county_ids), as_of__lte=as_of)
        .order_by("county_id", "-as_of")
        .values_list("county_id", "pk")
    ):
        result.setdefault(county_id, pk)
    return result


def _marks(n: int) -> str:
    return ", ".join(["%s"] * n)


def crosscheck_findings(*, county_ids: Sequence[int], as_of: dt.date) -> CrosscheckData:
    """What the cross-check (数据比对核查) finds for these counties on `as_of`.

    Set-based: ONE SQL statement reads each registry once — the latest enrolment
    snapshots grouped by child (on PostgreSQL an index-only scan in ID order), the
    counties' latest household lists, the poverty office's latest member lists and the
    roster, joined by ID number — and returns only the ID numbers of children who may
    have a finding; `_findings` then reads those few children in full and applies the
    rules. Kinds:

    - NOT_ENROLLED: on the county's household list, of compulsory-education age, and
      without any record that holds a place (在读, 休学 …) or marks the child out of school
      (辍学, 流失 …, its own kind). Skipped, with a warning, for a county without an
      enrolment snapshot.
    - POOR_NOT_ENROLLED: the same for a member of a registered poor household
      (建档立卡, poverty office's latest list, still under the policy), whether or not a
      household list was uploaded; the age is read from the ID number.
    - DOUBLE_ENROLLED: holding a place at two different schools, one of them in the county.
    - MARKED_DROPOUT: marked 辍学, 疑似辍学, 流失, 下落不明 or 其他离校 at a school of the county.
    - NAME_MISMATCH: the names for one ID differ between enrolment, household and roster.
    """
    county_ids = sorted(set(county_ids))
    snapshots = latest_enrolment_snapshots(as_of)
    household_dates = latest_household_dates(county_ids, as_of)
    poverty = latest_poverty_snapshots(county_ids, as_of)
    names = {
        c.pk: c.current_name()
        for c in County.objects.filter(pk__in=county_ids).prefetch_related("codes")
    }
    warnings: list[tuple[int, str]] = []
    for county_id in county_ids:
        if county_id not in snapshots:
            warnings.append(
                (
                    county_id,
                    _("%(county)s尚无%(date)s及以前的学籍数据，未核查“户籍有、学籍无”。")
                    % {"county": names.get(county_id, county_id), "date": f"{as_of:%Y-%m-%d}"},
                )
            )
        if county_id not in household_dates:
            warnings.append(
                (
                    county_id,
                    _("%(county)s尚无%(date)s及以前的户籍名单，未核查“户籍有、学籍无”。")
                    % {"county": names.get(county_id, county_id), "date": f"{as_of:%Y-%m-%d}"},
                )
            )
    data = CrosscheckData(
        findings=[],
        warnings=warnings,
        enrolment_as_of={k: s.as_of for k, s in snapshots.items()},
        household_as_of=household_dates,
    )
    snapshot_ids = sorted(s.pk for s in snapshots.values())
    if not snapshot_ids and not household_dates and not poverty:
        return data
    query = _Query(county_ids, snapshots, household_dates, poverty, as_of)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Hash the household and poverty lists in memory rather than sort them on
            # disk; local to the transaction the service opens. Compiling this one-off
            # query (JIT) costs more than it saves.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
        candidates = query.candidates(cursor)
    data.findings = _findings(candidates, query)
    data.findings.sort(key=lambda f: f.sort_key)
    return data


class _Query:
    """The set-based SQL of the cross-check: one statement, one pass over each registry,
    returning only the ID numbers of children who may have a finding."""

    def __init__(
        self,
        county_ids: list[int],
        snapshots: dict[int | None, EnrolmentSnapshot],
        household_dates: dict[int, dt.date],
        poverty: dict[int, int],
        as_of: dt.date,
    ) -> None:
        self.county_ids = county_ids
        self.snapshot_ids = sorted(s.pk for s in snapshots.values()) or [-1]
        # The snapshots of these counties: a record in one is "here" (a record's county
        # is its snapshot's), which the covering index answers without the table.
        self.here_ids = sorted(s.pk for c, s in snapshots.items() if c in county_ids) or [-1]
        # The other counties' snapshots (a per-county run looks children up in them).
        self.other_ids = sorted(set(self.snapshot_ids) - set(self.here_ids)) or [-1]
        self.household_dates = household_dates
        self.poverty_ids = sorted(poverty.values()) or [-1]
        # Children "enrolled nowhere" are looked for only where the registry is known.
        self.missing_counties = [c for c in county_ids if c in snapshots] or [-1]
        self.as_of = as_of
        self.all_counties = set(county_ids) >= set(County.objects.values_list("pk", flat=True))
        self.e = EnrolmentRecord._meta.db_table
        self.h = HouseholdChild._meta.db_table
        self.r = RosterStudent._meta.db_table
        self.p = PovertyMember._meta.db_table

    def household_filter(self, alias: str = "h") -> tuple[str, list[Any]]:
        parts, params = [], []
        for county_id, day in self.household_dates.items():
            parts.append(f"({alias}.county_id = %s AND {alias}.as_of = %s)")
            params += [county_id, day]
        return "(" + (" OR ".join(parts) or "1 = 0") + ")", params

    def born(self) -> tuple[dt.date, dt.date, str, str]:
        born_from, born_to = compulsory_birth_range(self.as_of)
        return born_from, born_to, f"{born_from:%Y%m%d}", f"{born_to:%Y%m%d}"

    def candidates(self, cursor: Any) -> set[str]:
        e, h, r, p = self.e, self.h, self.r, self.p
        snaps, here, poverty = self.snapshot_ids, self.here_ids, self.poverty_ids
        places = [str(s) for s in HOLDS_PLACE_STATUSES]
        marks = [str(s) for s in OUT_OF_SCHOOL_STATUSES]
        policy = [str(s) for s in POLICY_STATUSES]
        hf, hp = self.household_filter()
        born_from, born_to, id_from, id_to = self.born()
        S, H, P = _marks(len(snaps)), _marks(len(here)), _marks(len(poverty))
        PL, MK, PO = _marks(len(places)), _marks(len(marks)), _marks(len(policy))
        missing = self.missing_counties
        MI = _marks(len(missing))
        # Names compare byte-wise: min/max only ask "are they all the same", and the
        # database's default collation (strcoll) costs several times more per row.
        binary = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
        # The optimisation fence below is PostgreSQL's; SQLite takes OFFSET only after LIMIT.
        fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
        # Per record, once: st 1 holds a place, 2 marks the child out of school.
        status = f"CASE WHEN e.status IN ({PL}) THEN 1 WHEN e.status IN ({MK}) THEN 2 ELSE 0 END"
        columns = f"e.id_number, e.school_id, e.name{binary} AS name, {status} AS st"
        if self.all_counties:
            # Every registry, read once in ID order off the covering index; mine: the
            # record is in one of these counties' snapshots.
            records = (
                f"SELECT {columns}, CASE WHEN e.snapshot_id IN ({H}) THEN 1 ELSE 0 END AS mine "  # noqa: S608
                f"FROM {e} e WHERE e.snapshot_id IN ({S}) ORDER BY e.id_number{fence}"
            )
            records_params: list[Any] = [*places, *marks, *here, *snaps]
            far, tail, tail_params = "1 = 0", "", []
        else:
            # These counties' own registries only, grouped in ID order off the covering
            # index (one snapshot per county: no sort), and no other county's registry
            # in full. What another county's records could add is found by index for the
            # few children it can concern, and those children are returned as
            # candidates for `_findings`, which reads every record of a candidate and
            # applies the rules exactly. The statement returns a superset of the one
            # pass's candidates for these counties:
            # - a child enrolled here and elsewhere (a second place, another name) is
            #   listed in EnrolmentSpread, kept by PostgreSQL triggers;
            # - a household child with no record here that has one elsewhere (counted
            #   there, or another name there) is found by an index probe per such
            #   child, about 1% of the list;
            # - a child counted nowhere here is a candidate by the rules below anyway.
            # (Earlier this run looked the household and poverty children up in its own
            # registry a second time, a hash of ~1.1 M records per county, to pick which
            # to read elsewhere.)
            others = self.other_ids
            keys = list(self.county_ids)
            if connection.vendor == "postgresql":
                spread = (
                    f"SELECT id_number FROM {EnrolmentSpread._meta.db_table} "  # noqa: S608
                    f"WHERE county_key IN ({_marks(len(keys))})"
                )
                spread_params: list[Any] = keys
            else:
                # SQLite keeps no EnrolmentSpread (its ALTER TABLE rebuilds a table and
                # drops its triggers): the same children from the registries themselves,
                # a scan that matters little at the size of a SQLite installation.
                spread = (
                    f"SELECT s1.id_number FROM {e} s1 WHERE s1.snapshot_id IN ({H}) "  # noqa: S608
                    f"AND EXISTS (SELECT 1 FROM {e} s2 WHERE s2.snapshot_id IN ({_marks(len(others))}) "
                    "AND s2.id_number = s1.id_number)"
                )
                spread_params = [*here, *others]
            records = (
                f"SELECT {columns}, 1 AS mine FROM {e} e WHERE e.snapshot_id IN ({H}) "  # noqa: S608
                f"ORDER BY e.id_number{fence}"
            )
            records_params = [*places, *marks, *here]
            # Household children with no record here: probed by index in the others'
            # registries after the statement (`probe`); as a correlated EXISTS in the
            # statement PostgreSQL hashes every other registry instead.
            far = "g.id_number IS NULL AND hh.id_number IS NOT NULL"
            tail = f" UNION ALL SELECT id_number, 1, 0 FROM ({spread}) s"  # noqa: S608
            tail_params = spread_params
        rule = (
            "COALESCE(g.counted, 0) = 0 AND ("
            f"(hh.county_id IN ({MI}) AND hh.birth_date BETWEEN %s AND %s) "
            f"OR pm.county_id IN ({MI})) "
            "OR g.marked = 1 OR (g.here = 1 AND g.p_min <> g.p_max) "
            "OR ((g.here = 1 OR hh.id_number IS NOT NULL) AND (g.n_min <> g.n_max "
            "OR g.n_min <> hh.name OR g.n_max <> hh.name OR r.name <> hh.name "
            "OR r.name <> g.n_min OR r.name <> g.n_max))"
        )
        sql = (
            # OFFSET 0 (above) keeps PostgreSQL from repeating the per-record expressions
            # in every aggregate; ORDER BY lets it group as it reads in ID order.
            f"WITH hh AS (SELECT h.id_number, h.name, h.birth_date, h.county_id FROM {h} h WHERE {hf}), "  # noqa: S608 - names from models, values as parameters
            "g AS (SELECT id_number, "
            "MIN(CASE WHEN st = 1 THEN school_id END) AS p_min, "
            "MAX(CASE WHEN st = 1 THEN school_id END) AS p_max, "
            "MAX(mine) AS here, MAX(CASE WHEN st = 2 THEN mine ELSE 0 END) AS marked, "
            "MAX(st) AS counted, MIN(name) AS n_min, MAX(name) AS n_max "
            f"FROM ({records}) rec GROUP BY id_number), "
            # Registered poor children of compulsory age (birth date from the ID number).
            f"pm AS (SELECT DISTINCT m.id_number, m.county_id FROM {p} m WHERE m.snapshot_id IN ({P}) "
            f"AND m.poverty_status IN ({PO}) AND substr(m.id_number, 7, 8) BETWEEN %s AND %s) "
            # Per child: the rules hit (hit), or another county's records may decide (far).
            "SELECT id_number, hit, far FROM (SELECT "
            "COALESCE(g.id_number, hh.id_number, pm.id_number) AS id_number, "
            f"CASE WHEN {rule} THEN 1 ELSE 0 END AS hit, CASE WHEN {far} THEN 1 ELSE 0 END AS far "
            "FROM g FULL JOIN hh ON hh.id_number = g.id_number "
            "FULL JOIN pm ON pm.id_number = COALESCE(g.id_number, hh.id_number) "
            f"LEFT JOIN {r} r ON r.id_number = COALESCE(g.id_number, hh.id_number, pm.id_number) "
            f"AND r.is_active = %s) x WHERE hit = 1 OR far = 1{tail}"
        )
        params = [
            *hp,
            *records_params,
            *poverty,
            *policy,
            id_from,
            id_to,
            *missing,
            born_from,
            born_to,
            *missing,
            True,
            *tail_params,
        ]
        cursor.execute(sql, params)
        found: set[str] = set()
        far_only: list[str] = []
        for id_number, hit, far_row in cursor.fetchall():
            if hit or not far_row:
                found.add(id_number)
            else:
                far_only.append(id_number)
        if far_only:
            found |= self.probe(cursor, far_only)
        return found

    def probe(self, cursor: Any, ids: list[str]) -> set[str]:
        """Which of these children have a record in another county's registry."""
        if connection.vendor == "postgresql":
            # One statement: the array is looked up child by child in the covering index.
            batches: list[tuple[str, list[Any]]] = [("= ANY(%s)", [ids])]
        else:
            chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
            batches = [(f"IN ({_marks(len(c))})", c) for c in chunks]
        found: set[str] = set()
        for condition, values in batches:
            cursor.execute(
                f"SELECT DISTINCT id_number FROM {self.e} "  # noqa: S608 - names from models
                f"WHERE snapshot_id IN ({_marks(len(self.other_ids))}) AND id_number {condition}",
                [*self.other_ids, *values],
            )
            found |= {row[0] for row in cursor.fetchall()}
        return found


def _findings(candidates: set[str], query: _Query) -> list[Finding]:
    """Read the candidate children in full (a few queries of CHUNK IDs) and apply the rules."""
    ids = sorted(candidates)
    enrolment: dict[str, list[dict[str, Any]]] = defaultdict(list)
    households: dict[str, dict[str, Any]] = {}
    roster: dict[str, str] = {}
    poor: dict[str, dict[str, Any]] = {}
    household_q = Q(pk__in=[])
    for county_id, day in query.household_dates.items():
        household_q |= Q(county_id=county_id, as_of=day)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for rec in EnrolmentRecord.objects.filter(
            snapshot_id__in=query.snapshot_ids, id_number__in=chunk
        ).values("id_number", "school_id", "county_id", "grade", "status", "name"):
            enrolment[rec["id_number"]].append(dict(rec))
        for row in HouseholdChild.objects.filter(household_q, id_number__in=chunk).values(
            "id_number",
            "name",
            "birth_date",
            "county_id",
            "township",
            "village",
            "guardian",
            "phone",
        ):
            households[row["id_number"]] = dict(row)
        roster.update(
            RosterStudent.objects.filter(is_active=True, id_number__in=chunk).values_list(
                "id_number", "name"
            )
        )
        for member_row in (
            PovertyMember.objects.filter(
                snapshot_id__in=query.poverty_ids,
                poverty_status__in=POLICY_STATUSES,
                id_number__in=chunk,
            )
            .order_by("county_id")
            .values("id_number", "name", "county_id", "township", "village")
        ):
            poor.setdefault(member_row["id_number"], dict(member_row))
    school_ids = {r["school_id"] for rows in enrolment.values() for r in rows}
    schools = dict(Unit.objects.filter(pk__in=school_ids).values_list("pk", "name"))
    counties = set(query.county_ids)
    missing_counties = set(query.missing_counties)
    born_from, born_to = compulsory_birth_range(query.as_of)
    findings: list[Finding] = []
    for id_number in ids:
        records = sorted(enrolment.get(id_number, []), key=lambda r: (r["school_id"], r["status"]))
        here = [r for r in records if r["county_id"] in counties]
        home = households.get(id_number)
        member = poor.get(id_number)
        if member is not None and member["county_id"] not in counties:
            member = None
        if home is None and not here and member is None:
            continue
        details = [
            {
                "school": schools.get(r["school_id"], ""),
                "school_id": r["school_id"],
                "grade": r["grade"],
                "status": r["status"],
                "name": r["name"],
            }
            for r in records
        ]
        birth = home["birth_date"] if home else _birth_from_id(id_number)
        place: dict[str, Any] | None = home or member
        base: dict[str, Any] = {
            "id_number": id_number,
            "name": (
                home["name"] if home else here[0]["name"] if here else member["name"]  # type: ignore[index]
            ),
            "county_id": (
                home["county_id"]
                if home
                else min(r["county_id"] for r in here)
                if here
                else member["county_id"]  # type: ignore[index]
            ),
            "registered_poor": id_number in roster or id_number in poor,
            "birth_date": birth,
            "township": place["township"] if place else "",
            "village": place["village"] if place else "",
            "guardian": home["guardian"] if home else "",
            "phone": home["phone"] if home else "",
        }

        def add(
            kind: str,
            school_id: int | None = None,
            *,
            details: list[dict[str, Any]] = details,
            base: dict[str, Any] = base,
            **extra: Any,
        ) -> None:
            info = {"enrolment": details, **extra}
            if school_id:
                info["school"] = schools.get(school_id, "")
            findings.append(Finding(kind=kind, school_id=school_id, details=info, **base))

        counted = [
            r
            for r in records
            if r["status"] in HOLDS_PLACE_STATUSES or r["status"] in OUT_OF_SCHOOL_STATUSES
        ]
        of_age = birth is not None and born_from <= birth <= born_to
        if home is not None and home["county_id"] in missing_counties and of_age and not counted:
            add(FindingKind.NOT_ENROLLED)
        if (
            member is not None
            and member["county_id"] in missing_counties
            and of_age
            and not counted
        ):
            add(FindingKind.POOR_NOT_ENROLLED)
        marked = [r for r in here if r["status"] in OUT_OF_SCHOOL_STATUSES]
        if marked:
            add(FindingKind.MARKED_DROPOUT, marked[0]["school_id"], status=marked[0]["status"])
        active_schools = sorted(
            {r["school_id"] for r in records if r["status"] in HOLDS_PLACE_STATUSES}
        )
        if here and len(active_schools) > 1:
            add(FindingKind.DOUBLE_ENROLLED, active_schools[0])
        names = {r["name"] for r in records} | ({home["name"]} if home else set())
        if id_number in roster:
            names.add(roster[id_number])
        if len(names) > 1 and (home is not None or here):
            school_id = (
                active_schools[0] if active_schools else (here[0]["school_id"] if here else None)
            )
            add(
                FindingKind.NAME_MISMATCH,
                school_id,
                names={
                    "户籍": home["name"] if home else "",
                    "学籍": sorted({r["name"] for r in records}),
                    "建档立卡": roster.get(id_number, ""),
                },
            )
    return findings


def _birth_from_id(id_number: str) -> dt.date | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def finding_place(finding: Finding) -> str:
    """What the crosscheck command prints after the name: the school(s), else the village."""
    if finding.kind == FindingKind.DOUBLE_ENROLLED:
        return "、".join(
            r["school"]
            for r in finding.details.get("enrolment", [])
            if r["status"] in HOLDS_PLACE_STATUSES
        )
    if finding.school_id:
        return str(finding.details.get("school", ""))
    return "".join(p for p in (finding.township, finding.village) if p)


# --- cases --------------------------------------------------------------------------


def case_list(
    user: Any,
    *,
    county: int | None = None,
    school: int | None = None,
    status: str | None = None,
    category: str | None = None,
    attention_only: bool = False,
    today: dt.date,
) -> QuerySet[DropoutCase]:
    # The list shows each case's findings and County.current_name() (the code history).
    qs = (
        DropoutCase.objects.for_user(user)
        .select_related("county", "school")
        .prefetch_related("county__codes", "findings")
    )
    if county:
        qs = qs.filter(county_id=county)
    if school:
        qs = qs.filter(school_id=school)
    if status:
        qs = qs.filter(status=status)
    if category in CATEGORY_FIELDS:
        qs = qs.filter(**{CATEGORY_FIELDS[category]: True})
    if attention_only:
        qs = cast(DropoutCaseQuerySet, qs).needs_attention(today)
    return qs.order_by("-is_registered_poor", "county__order", "status", "id_number")


CATEGORY_FIELDS = {
    "poor": "is_registered_poor",
    "left_behind": "is_left_behind",
    "disabled": "is_disabled",
    "other": "is_other_difficulty",
}
CATEGORY_LABELS = {
    "poor": "建档立卡",
    "left_behind": "留守儿童",
    "disabled": "残疾儿童",
    "other": "其他特殊困难",
}


def case_timeline(case: DropoutCase) -> list[dict[str, Any]]:
    """Findings, status changes and follow-ups of a case, oldest first."""
    items: list[dict[str, Any]] = []
    for finding in case.findings.all():
        items.append({"kind": "finding", "at": finding.created_at, "obj": finding})
    for change in case.status_changes.select_related("changed_by"):
        items.append({"kind": "status", "at": change.changed_at, "obj": change})
    for follow in case.follow_ups.select_related("recorded_by"):
        items.append({"kind": "follow_up", "at": follow.recorded_at, "obj": follow})
    items.sort(key=lambda item: item["at"])
    return items


@dataclass
class CountyRow:
    county: County | None
    counts: dict[str, int]
    poor: int
    attention: int
    total: int


def dashboard(user: Any, today: dt.date) -> list[CountyRow]:
    """Case counts per county and status, open registered-poor cases and cases needing
    attention (next follow-up overdue or none in 30 days), for the counties the user sees."""
    qs = DropoutCase.objects.for_user(user)
    by_status: dict[int | None, Counter[str]] = defaultdict(Counter)
    for row in qs.values("county_id", "status").annotate(n=Count("pk")):
        by_status[row["county_id"]][row["status"]] = row["n"]
    poor: dict[int | None, int] = dict(
        qs.filter(is_registered_poor=True, status__in=OPEN_STATUSES)
        .values("county_id")
        .annotate(n=Count("pk"))
        .values_list("county_id", "n")
    )
    attention: dict[int | None, int] = dict(
        cast(DropoutCaseQuerySet, qs)
        .needs_attention(today)
        .values("county_id")
        .annotate(n=Count("pk"))
        .values_list("county_id", "n")
    )
    shown: list[County | None] = list(counties_for_user(user))
    shown_ids = {c.pk for c in shown if c is not None}
    # A school user has no county list but may still see its own cases.
    for other in County.objects.filter(pk__in=[k for k in by_status if k is not None]).exclude(
        pk__in=shown_ids
    ):
        shown.append(other)
    if None in by_status:
        shown.append(None)
    rows = []
    for county in shown:
        key = county.pk if county is not None else None
        counts = by_status.get(key, Counter())
        rows.append(
            CountyRow(
                county=county,
                counts={s.value: counts.get(s.value, 0) for s in CaseStatus},
                poor=poor.get(key, 0),
                attention=attention.get(key, 0),
                total=sum(counts.values()),
            )
        )
    return rows


def counties_for_user(user: Any) -> QuerySet[County]:
    """The counties a user works on: all for the city, their own for a county, none else."""
    scope = user_scope(user)
    counties = County.objects.prefetch_related("codes")
    if scope.sees_all:
        return counties
    if scope.county_id is not None:
        return counties.filter(pk=scope.county_id)
    return counties.none()


# --- the case ledger export (控辍保学台账) --------------------------------------------

LEDGER_HEADERS = [
    "序号",
    "县市区",
    "身份证号",
    "姓名",
    "性别",
    "出生日期",
    "学籍学校",
    "年级",
    "乡镇",
    "村",
    "监护人",
    "联系电话",
    "建档立卡",
    "留守儿童",
    "残疾儿童",
    "其他特殊困难",
    "核查发现",
    "辍学原因",
    "帮扶措施",
    "责任人",
    "责任单位",
    "状态",
    "立案日期",
    "最近跟进",
    "下次跟进期限",
    "跟进次数",
    "送教课时",
    "结果日期",
    "复学学校",
    "核销原因",
    "结果说明",
]


def ledger_rows(cases: QuerySet[DropoutCase], *, reveal: bool) -> Iterable[list[object]]:
    """The case ledger, one row per case in LEDGER_HEADERS order; names, IDs, guardians and
    phones masked unless `reveal`."""
    from django.db.models import Sum

    qs = (
        cases.select_related("county", "school", "responsible_unit", "outcome_school")
        .prefetch_related("county__codes", "findings")
        .annotate(n_follow=Count("follow_ups"), hours=Sum("follow_ups__hours"))
        .order_by("-is_registered_poor", "county__order", "id_number")
    )
    yes = "是"
    for number, case in enumerate(qs.iterator(chunk_size=500), start=1):
        yield [
            number,
            case.county.current_name() if case.county else "市直",
            case.id_number if reveal else mask_id_number(case.id_number),
            case.name if reveal else mask_name(case.name),
            case.gender,
            case.birth_date,
            case.school.name if case.school else "",
            case.grade,
            case.township,
            case.village,
            case.guardian if reveal else mask_name(case.guardian),
            case.phone if reveal else mask_id_number(case.phone) if case.phone else "",
            yes if case.is_registered_poor else "",
            yes if case.is_left_behind else "",
            yes if case.is_disabled else "",
            yes if case.is_other_difficulty else "",
            "；".join(str(f.get_kind_display()) for f in case.findings.all()),
            case.cause,
            case.measures,
            case.responsible_person,
            case.responsible_unit.name if case.responsible_unit else "",
            case.get_status_display(),
            case.opened_on,
            case.last_follow_up_on,
            case.next_follow_up_due,
            case.n_follow,  # type: ignore[attr-defined]
            case.hours or 0,  # type: ignore[attr-defined]
            case.outcome_date,
            case.outcome_school.name if case.outcome_school else "",
            case.get_close_reason_display() if case.close_reason else "",
            case.outcome_note,
        ]
