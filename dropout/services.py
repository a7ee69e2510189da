"""Writes for dropout control. Views, commands, jobs and the demo all call these."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext as _

from intake import writer
from tasks import audit, clock
from tasks.clock import today
from tasks.models import County, Unit

from . import selectors
from .models import (
    ALLOWED_TRANSITIONS,
    OPEN_STATUSES,
    CaseFinding,
    CaseFollowUp,
    CaseStatus,
    CaseStatusChange,
    CrosscheckRun,
    DropoutCase,
    FollowUpKind,
)
from .selectors import CHUNK, Finding

log = logging.getLogger(__name__)


@dataclass
class CrosscheckOutcome:
    run: CrosscheckRun
    findings: list[Finding]
    warnings: list[str] = field(default_factory=list)
    cases_opened: int = 0
    findings_recorded: int = 0


def registries_vacuum() -> None:
    """PostgreSQL: VACUUM ANALYZE the registries before a cross-check, outside any
    transaction (elsewhere: nothing).

    Rows an import just wrote are not yet marked all-visible, so the cross-check's
    index-only scan would fetch each of them from the table in ID order (random reads)
    until autovacuum comes by. Vacuuming first costs one sequential pass over the new
    pages and refreshes the planner's statistics. Skipped while another vacuum of the
    table runs (SKIP_LOCKED), and when inside a transaction (VACUUM cannot run there).
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    from .models import EnrolmentRecord, HouseholdChild

    tables = ", ".join(m._meta.db_table for m in (EnrolmentRecord, HouseholdChild))
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE, SKIP_LOCKED) {tables}")
    except DatabaseError:
        # Not the table owner, say: the check still runs, only slower.
        log.warning("VACUUM of the registries failed", exc_info=True)


def enrolment_spread_rebuild() -> None:
    """PostgreSQL: rebuild `EnrolmentSpread` (the children enrolled in more than one
    county) from every record, set-based (elsewhere: nothing, SQLite keeps none). The
    triggers keep it on every write; only a load that bypasses them (the benchmark's
    `session_replication_role = replica`) needs this."""
    if connection.vendor != "postgresql":
        return
    from .models import EnrolmentRecord, EnrolmentSnapshot, EnrolmentSpread

    spread = EnrolmentSpread._meta.db_table
    records = EnrolmentRecord._meta.db_table
    snapshots = EnrolmentSnapshot._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {spread}")  # noqa: S608 - names from models
        # The same statement as the triggers' (migration 0009), over every child.
        join = f"FROM {records} e JOIN {snapshots} s ON s.id = e.snapshot_id"
        cursor.execute(
            f"INSERT INTO {spread} (county_key, id_number) "  # noqa: S608 - names from models
            f"SELECT DISTINCT COALESCE(s.county_id, 0), e.id_number {join} "
            f"WHERE e.id_number IN (SELECT e.id_number {join} GROUP BY e.id_number "
            "HAVING MIN(COALESCE(s.county_id, 0)) <> MAX(COALESCE(s.county_id, 0))) "
            "ON CONFLICT DO NOTHING"
        )


def crosscheck_run(*, county: County, as_of: dt.date, triggered_by: str = "") -> CrosscheckOutcome:
    """Run the cross-check (数据比对核查) for one county on `as_of` and record its findings.

    Opens a case (status 疑似) for each child with a finding who has none yet, adds each
    new kind of finding to the child's case and moves `last_seen_as_of` of findings seen
    again. A closed case is never reopened: a finding on it is recorded with
    `after_close`. Safe to re-run and to run twice at once: the unique constraints on the
    case's ID number, the (case, kind) of a finding and a case's opening decide, and a
    second run on the same data creates nothing. Writes a `CrosscheckRun` with the counts.
    """
    return crosscheck_run_many(counties=[county], as_of=as_of, triggered_by=triggered_by)[0]


def crosscheck_run_many(
    *, counties: Sequence[County], as_of: dt.date, triggered_by: str = ""
) -> list[CrosscheckOutcome]:
    """The cross-check of several counties (the whole city) in one pass over the registries.

    Same effects and guarantees as `crosscheck_run`, one `CrosscheckRun` per county. A
    child enrolled in two of these counties is found once, under the first county.
    """
    by_pk = {c.pk: c for c in counties}
    with transaction.atomic():
        runs = {
            c.pk: CrosscheckRun.objects.create(county=c, as_of=as_of, triggered_by=triggered_by)
            for c in counties
        }
        data = selectors.crosscheck_findings(county_ids=list(by_pk), as_of=as_of)
        grouped: dict[int, list[Finding]] = defaultdict(list)
        first = counties[0].pk
        for finding in data.findings:
            grouped[finding.county_id if finding.county_id in by_pk else first].append(finding)
        outcomes = []
        for county in counties:
            findings = grouped.get(county.pk, [])
            opened, recorded = _record_findings(findings, county=county, as_of=as_of)
            counts: dict[str, Any] = defaultdict(int)
            for finding in findings:
                counts[finding.kind] += 1
            warnings = [w for county_id, w in data.warnings if county_id == county.pk]
            run = runs[county.pk]
            run.findings = len(findings)
            run.cases_opened = opened
            run.counts = {**counts, "findings_recorded": recorded, "warnings": warnings}
            run.finished_at = clock.now()
            run.save()
            outcomes.append(
                CrosscheckOutcome(
                    run=run,
                    findings=findings,
                    warnings=warnings,
                    cases_opened=opened,
                    findings_recorded=recorded,
                )
            )
    return outcomes


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _record_findings(findings: list[Finding], *, county: County, as_of: dt.date) -> tuple[int, int]:
    """Open the cases and record the findings, set-based: the bulk writer (COPY plus one
    INSERT … ON CONFLICT DO NOTHING on PostgreSQL, with the historical rows of exactly the
    rows it inserted) for cases and findings, one INSERT … SELECT for the openings, one
    UPDATE per change of flag or date; no statement per child."""
    by_child: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_child[finding.id_number].append(finding)
    ids = sorted(by_child)
    existing = _cases_of(ids)

    now = clock.now()
    opened_on = today()
    new_rows = []
    for id_number in ids:
        if id_number in existing:
            continue
        group = by_child[id_number]
        first = group[0]
        school_id = next((f.school_id for f in group if f.school_id), None)
        grade = next(
            (
                r["grade"]
                for f in group
                for r in f.details.get("enrolment", [])
                if r["school_id"] == school_id
            ),
            "",
        )
        birth = first.birth_date or dt.date(
            int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])
        )
        new_rows.append(
            (
                id_number,
                first.name[:50],
                "男" if int(id_number[16]) % 2 else "女",
                birth,
                first.county_id or county.pk,
                school_id,
                grade[:20],
                first.township[:50],
                first.village[:50],
                first.guardian[:50],
                first.phone[:30],
                first.registered_poor,
            )
        )
    opened = writer.bulk_write(
        DropoutCase,
        new_rows,
        fields=[
            "id_number",
            "name",
            "gender",
            "birth_date",
            "county_id",
            "school_id",
            "grade",
            "township",
            "village",
            "guardian",
            "phone",
            "is_registered_poor",
        ],
        # Every column without a database default: the COPY path inserts only these.
        constants={
            "opened_on": opened_on,
            "status": CaseStatus.SUSPECTED.value,
            "is_left_behind": False,
            "is_disabled": False,
            "is_other_difficulty": False,
            "cause": "",
            "cause_note": "",
            "measures": "",
            "responsible_person": "",
            "close_reason": "",
            "outcome_note": "",
            "created_at": now,
            "updated_at": now,
        },
        conflict=["id_number"],
    ).inserted

    cases: dict[str, tuple[int, str]] = dict(existing)
    if new_rows:
        fresh = _cases_of([row[0] for row in new_rows])
        cases.update(fresh)
        new_pks = [pk for pk, _status in fresh.values()]
        _record_openings(county=county, as_of=as_of)
        _audit_created(
            CaseStatusChange,
            CaseStatusChange.objects.filter(case_id__in=new_pks, from_status="").values_list(
                "pk", flat=True
            ),
        )

    poor_ids = sorted({f.id_number for f in findings if f.registered_poor})
    for chunk in _chunks(poor_ids):
        _update_audited(
            DropoutCase.objects.filter(id_number__in=chunk, is_registered_poor=False),
            is_registered_poor=True,
            updated_at=clock.now(),
        )

    case_ids = [pk for pk, _status in cases.values()]
    known: dict[tuple[int, str], int] = {}
    for chunk in _chunks(case_ids):
        for pk, case_id, kind in CaseFinding.objects.filter(case_id__in=chunk).values_list(
            "pk", "case_id", "kind"
        ):
            known[(case_id, kind)] = pk
    # The COPY path takes the JSON as text; the ORM path a dict.
    as_json = connection.vendor == "postgresql"
    to_create: list[tuple[Any, ...]] = []
    seen_again = []
    for finding in findings:
        case_id, status = cases[finding.id_number]
        finding_pk = known.get((case_id, finding.kind))
        if finding_pk is not None:
            seen_again.append(finding_pk)
            continue
        details = _json_details(finding)
        to_create.append(
            (
                case_id,
                finding.kind,
                json.dumps(details, ensure_ascii=False) if as_json else details,
                status not in OPEN_STATUSES,
            )
        )
    recorded = writer.bulk_write(
        CaseFinding,
        to_create,
        fields=["case_id", "kind", "details", "after_close"],
        constants={"first_seen_as_of": as_of, "last_seen_as_of": as_of, "created_at": now},
        conflict=["case_id", "kind"],
    ).inserted
    for chunk in _chunks(seen_again):
        _update_audited(
            CaseFinding.objects.filter(pk__in=chunk, last_seen_as_of__lt=as_of),
            last_seen_as_of=as_of,
        )
    return opened, recorded


def _cases_of(ids: Sequence[str]) -> dict[str, tuple[int, str]]:
    """ID number -> (case id, status) of the children among `ids` who have a case."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(ids):
        for pk, id_number, status in DropoutCase.objects.filter(id_number__in=chunk).values_list(
            "pk", "id_number", "status"
        ):
            found[id_number] = (pk, status)
    return found


def _audit_created(model: Any, pks: Iterable[int]) -> None:
    """Historical "+" rows for rows just written in bulk with `ignore_conflicts` (which
    returns no primary keys). A row that already has history was created by a concurrent
    run, which recorded it; so each row is recorded once. PostgreSQL: one INSERT … SELECT."""
    pks = sorted(set(pks))
    if not pks:
        return
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        historical = model.history.model._meta.db_table
        sql, params = writer._history_sql(
            model,
            f"(SELECT t.*, TRUE AS xc_inserted FROM {table} t WHERE t.id = ANY(%s) "  # noqa: S608 - names from models
            f"AND NOT EXISTS (SELECT 1 FROM {historical} x WHERE x.id = t.id)) AS written",
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, pks])
        return
    for chunk in _chunks(pks):
        recorded = set(model.history.filter(id__in=chunk).values_list("id", flat=True))
        fresh = [pk for pk in chunk if pk not in recorded]
        if fresh:
            audit.bulk_created(model, model.objects.filter(pk__in=fresh).order_by("pk"))


def _update_audited(queryset: Any, **values: Any) -> int:
    """`queryset.update(**values)` that leaves a historical "~" row per changed row.

    The rows are locked first (select_for_update re-checks the filter after waiting, so
    of two concurrent runs only the first changes and records a row); then one UPDATE,
    and the historical rows are written from the locked objects with the new values."""
    rows = list(queryset.select_for_update().order_by("pk"))
    if not rows:
        return 0
    queryset.model.objects.filter(pk__in=[r.pk for r in rows]).update(**values)
    for row in rows:
        for name, value in values.items():
            setattr(row, name, value)
    audit.bulk_created(queryset.model, rows, update=True)
    return len(rows)


def _record_openings(*, county: County, as_of: dt.date) -> None:
    """One INSERT … SELECT: every case of the county without an opening gets one. The
    partial unique constraint makes a concurrent run's insert a no-op."""
    changes = CaseStatusChange._meta.db_table
    cases = DropoutCase._meta.db_table
    note = _("数据比对核查（%(date)s）发现，立案") % {"date": f"{as_of:%Y-%m-%d}"}
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {changes} (case_id, from_status, to_status, changed_at, note) "  # noqa: S608 - table names from models
            f"SELECT c.id, '', %s, %s, %s FROM {cases} c WHERE c.county_id = %s "
            f"AND NOT EXISTS (SELECT 1 FROM {changes} s WHERE s.case_id = c.id AND s.from_status = '') "
            "ON CONFLICT DO NOTHING",
            [
                CaseStatus.SUSPECTED.value,
                connection.ops.adapt_datetimefield_value(clock.now()),
                note,
                county.pk,
            ],
        )


def _json_details(finding: Finding) -> dict[str, Any]:
    details = dict(finding.details)
    details["place"] = selectors.finding_place(finding)
    return details


# --- working a case ---------------------------------------------------------------------


def _label(status: str) -> str:
    return str(CaseStatus(status).label)


def case_transition(
    *,
    case: DropoutCase,
    user: Any,
    to_status: str,
    note: str = "",
    cause: str = "",
    outcome_date: dt.date | None = None,
    outcome_school: Unit | None = None,
    close_reason: str = "",
) -> CaseStatusChange:
    """Move a case one step forward and record who, when, from, to and why.

    Raises ValidationError (Chinese) for a move the rules do not allow (backwards, skipping
    核实, out of a finished case) or without what the new status needs: a cause to confirm
    (核实); measures and a responsible person to start persuasion (劝返中); the school and
    date to record a return (已复学); the date for 送教上门; a reason and evidence to close
    (已核销). A second identical request finds the case already moved and is refused, so
    a double submit records one change.
    """
    if to_status not in CaseStatus.values:
        raise ValidationError(_("未知的状态：%(s)s") % {"s": to_status})
    current = case.status
    allowed = ALLOWED_TRANSITIONS.get(current, ())
    if to_status not in allowed:
        if not allowed:
            raise ValidationError(
                _("个案已是“%(current)s”，状态不能再变更。") % {"current": _label(current)}
            )
        raise ValidationError(
            _(
                "不能从“%(current)s”改为“%(to)s”：状态只能按 疑似 → 核实 → 劝返中 → 已复学/送教上门/已核销 依次向前。允许的下一步：%(allowed)s。"
            )
            % {
                "current": _label(current),
                "to": _label(to_status),
                "allowed": "、".join(_label(s) for s in allowed),
            }
        )
    errors: dict[str, list[str]] = {}
    updates: dict[str, Any] = {}
    day = today()
    if to_status == CaseStatus.VERIFIED:
        cause = cause or case.cause
        if not cause:
            errors["cause"] = [_("核实时须填写辍学原因。")]
        updates["cause"] = cause
    if to_status == CaseStatus.PERSUADING and not (case.measures and case.responsible_person):
        errors["__all__"] = [_("开始劝返前须先填写帮扶措施和责任人（个案页“一生一案”）。")]
    if to_status in (CaseStatus.RETURNED, CaseStatus.HOME_TEACHING, CaseStatus.CLOSED):
        if outcome_date is None:
            errors["outcome_date"] = [_("请填写日期。")]
        elif outcome_date > day:
            errors["outcome_date"] = [_("日期不能晚于今天。")]
        updates["outcome_date"] = outcome_date
    if to_status == CaseStatus.RETURNED:
        if outcome_school is None:
            errors["outcome_school"] = [_("请选择复学学校。")]
        updates["outcome_school"] = outcome_school
    if to_status == CaseStatus.CLOSED:
        if not close_reason:
            errors["close_reason"] = [_("核销须选择原因（外省就读、死亡、迁出、已毕业等）。")]
        if not note.strip():
            errors["note"] = [
                _("核销须写明佐证材料（如外省学校就读证明、死亡证明、户籍迁出证明）。")
            ]
        updates["close_reason"] = close_reason
    if to_status in (CaseStatus.RETURNED, CaseStatus.HOME_TEACHING, CaseStatus.CLOSED) and note:
        updates["outcome_note"] = note
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Lock the case: of two concurrent moves from the same status only the first
        # wins; the second finds the status changed. save() leaves the audit record.
        locked = DropoutCase.objects.select_for_update().get(pk=case.pk)
        if locked.status != current:
            raise ValidationError(_("该个案状态已被他人修改，请刷新页面后重试。"))
        locked.status = to_status
        for name, value in updates.items():
            setattr(locked, name, value)
        locked.save()
        change = CaseStatusChange.objects.create(
            case=locked, from_status=current, to_status=to_status, changed_by=user, note=note
        )
    case.refresh_from_db()
    return change


def case_update_plan(
    *,
    case: DropoutCase,
    user: Any,
    cause: str,
    cause_note: str,
    measures: str,
    responsible_person: str,
    responsible_unit: Unit | None,
    is_left_behind: bool,
    is_disabled: bool,
    is_other_difficulty: bool,
) -> DropoutCase:
    """Record the plan of a case (一生一案): cause, measures, who is responsible, categories.

    The 建档立卡 flag is not edited here: it follows the roster. Safe to re-run.
    Raises ValidationError when the case is finished (已复学/已核销).
    """
    plan = {
        "cause": cause,
        "cause_note": cause_note,
        "measures": measures,
        "responsible_person": responsible_person,
        "responsible_unit": responsible_unit,
        "is_left_behind": is_left_behind,
        "is_disabled": is_disabled,
        "is_other_difficulty": is_other_difficulty,
    }
    with transaction.atomic():
        # Save the plan onto the locked, current row: saving the page's copy would put
        # back a status another user changed meanwhile.
        locked = DropoutCase.objects.select_for_update().get(pk=case.pk)
        if locked.status in (CaseStatus.RETURNED, CaseStatus.CLOSED):
            raise ValidationError(_("个案已结案，不能再修改帮扶方案。"))
        for name, value in plan.items():
            setattr(locked, name, value)
        locked.save()
    case.refresh_from_db()
    return case


def follow_up_record(
    *,
    case: DropoutCase,
    user: Any,
    kind: str,
    happened_on: dt.date,
    notes: str,
    hours: Decimal | None = None,
    visitors: str = "",
    next_due: dt.date | None = None,
) -> CaseFollowUp:
    """Record a dated follow-up (家访/劝返/资助落实/送教上门) and move the case's
    last-follow-up and next-due dates. Raises ValidationError for a date in the future, a
    next due date before the visit, 送教上门 without hours, or a closed case. Each call
    records one visit (not idempotent: two visits are two rows)."""
    errors: dict[str, list[str]] = {}
    day = today()
    if case.status in (CaseStatus.RETURNED, CaseStatus.CLOSED):
        raise ValidationError(_("个案已结案，不能再添加跟进记录。"))
    if happened_on > day:
        errors["happened_on"] = [_("跟进日期不能晚于今天。")]
    if next_due is not None and next_due < happened_on:
        errors["next_due"] = [_("下次跟进期限不能早于本次跟进日期。")]
    if kind == FollowUpKind.HOME_TEACHING and not hours:
        errors["hours"] = [_("送教上门须填写课时。")]
    if hours is not None and hours < 0:
        errors["hours"] = [_("课时不能为负数。")]
    if not notes.strip():
        errors["notes"] = [_("请填写跟进情况。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        follow_up = CaseFollowUp.objects.create(
            case=case,
            kind=kind,
            happened_on=happened_on,
            hours=hours,
            visitors=visitors,
            notes=notes,
            next_due=next_due,
            recorded_by=user,
        )
        locked = DropoutCase.objects.select_for_update().get(pk=case.pk)
        latest = locked.follow_ups.order_by("-happened_on", "-recorded_at").first()
        assert latest is not None
        locked.last_follow_up_on = latest.happened_on
        locked.next_follow_up_due = latest.next_due
        locked.save(update_fields=["last_follow_up_on", "next_follow_up_due", "updated_at"])
    case.refresh_from_db()
    return follow_up
