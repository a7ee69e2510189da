"""Writes: loading the standards, notices to families and their delivery, the export."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tasks import audit, clock
from tasks.clock import today
from tasks.models import RosterStudent
from tasks.scoping import Scope
from xc_fupin.lib.export import csv_bytes, write_xlsx
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from . import documents, selectors
from .lookups import semester_rules
from .models import Disbursement, Notice, Semester, SubsidyItem, SubsidyStandard

STANDARDS_FILE = Path(settings.BASE_DIR) / "fixtures" / "subsidies_standards_2019.json"


@dataclass
class LoadResult:
    created: dict[str, int]
    updated: dict[str, int]


@transaction.atomic
def standards_load(*, path: Path = STANDARDS_FILE) -> LoadResult:
    """Create or update the items and standards in `path`.

    Semesters are not in this file: they come from the plan (`load_plan`), which holds
    their deadlines; a standard naming a semester the plan has not created raises
    LookupError. Rows are matched by item name and (item, stage, target, semester, tier):
    an amount an administrator has since changed is overwritten only if the file changes it
    (the file records the last value loaded in `source`). Safe to re-run: a second run
    changes nothing.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    created = {"items": 0, "standards": 0}
    updated = {"items": 0, "standards": 0}
    semesters = {s.code: s for s in Semester.objects.all()}
    items: dict[str, SubsidyItem] = {}
    for i in data["items"]:
        values = {k: i[k] for k in ("aliases", "checks_tier", "order", "note")}
        item, made = SubsidyItem.objects.get_or_create(name=i["name"], defaults=values)
        if not made and any(getattr(item, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(item, k, v)
            item.save()
            updated["items"] += 1
        created["items"] += made
        items[item.name] = item
    for s in data["standards"]:
        semester: Semester | None = None
        if s.get("semester"):
            semester = semesters.get(s["semester"])
            if semester is None:
                raise LookupError(
                    _("学期 %(code)s 尚未设置：请先运行 load_plan") % {"code": s["semester"]}
                )
        lookup = {
            "item": items[s["item"]],
            "stage": s["stage"],
            "target": s["target"],
            "semester": semester,
            "tier": s["tier"],
        }
        values = {"amount": Decimal(s["amount"]), "source": s.get("source", "")}
        if semester is None:
            lookup["valid_from"] = dt.date.fromisoformat(s.get("valid_from", "2019-01-01"))
        standard, made = SubsidyStandard.objects.get_or_create(**lookup, defaults=values)
        if not made and standard.source != values["source"]:
            standard.amount, standard.source = values["amount"], values["source"]
            standard.save()
            updated["standards"] += 1
        created["standards"] += made
    return LoadResult(created, updated)


# --- notices --------------------------------------------------------------------------


def _notice_data(
    students: Sequence[RosterStudent], semester: Semester
) -> list[documents.NoticeData]:
    paid: dict[str, list[Disbursement]] = {}
    for chunk_start in range(0, len(students), 2000):
        ids = [s.id_number for s in students[chunk_start : chunk_start + 2000]]
        for d in (
            Disbursement.objects.filter(semester=semester, id_number__in=ids)
            .select_related("item", "school")
            .order_by("item__order")
        ):
            paid.setdefault(d.id_number, []).append(d)
    return [
        documents.NoticeData(
            student_name=s.name,
            id_masked=mask_id_number(s.id_number),
            school=s.school.name if s.school else "",
            stage=s.stage,
            grade=s.grade,
            semester=semester.code,
            lines=[
                documents.NoticeLine(d.item.name, d.amount, d.paid_on, d.school.name)
                for d in paid.get(s.id_number, [])
            ],
        )
        for s in students
    ]


def notices_generate(*, user: Any, semester: Semester, students: Sequence[RosterStudent]) -> bytes:
    """Build one .docx with a notice per student (a page each) and record that each was
    generated (Notice.generated_at and the total it listed). The caller has already
    scoped `students` to the user. Safe to re-run: it regenerates and updates the record.
    """
    if not students:
        raise ValidationError(_("没有可生成告知单的学生。"))
    data = _notice_data(students, semester)
    content = documents.notices_docx(data, issued_on=today())
    now = clock.now()
    with transaction.atomic():
        existing = {
            n.student_id: n for n in Notice.objects.filter(semester=semester, student__in=students)
        }
        new, changed = [], []
        for student, notice_data in zip(students, data, strict=True):
            notice = existing.get(student.pk)
            if notice is None:
                notice = Notice(student=student, semester=semester)
                new.append(notice)
            else:
                changed.append(notice)
            notice.generated_at = now
            notice.generated_total = notice_data.total
        Notice.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        Notice.objects.bulk_update(changed, ["generated_at", "generated_total"], batch_size=1000)
        # ignore_conflicts returns no primary keys: read back the rows this call created
        # (a concurrent call's rows carry another generated_at) for their history.
        made = Notice.objects.filter(
            semester=semester, student_id__in=[n.student_id for n in new], generated_at=now
        )
        with audit.audit_source(_("生成告知单"), user=user):
            audit.bulk_created(Notice, list(made))
            audit.bulk_created(Notice, changed, update=True)
    return content


WAY_FIELDS = {
    Notice.Way.DELIVERED: "delivered_on",
    Notice.Way.SIGNED: "signed_on",
    Notice.Way.VISITED: "visited_on",
}


def notice_record_delivery(
    *,
    user: Any,
    student: RosterStudent,
    semester: Semester,
    way: str,
    on: dt.date,
    handled_by: str,
    note: str = "",
) -> Notice:
    """Record that the notice reached the family (delivered, signed for, or told on a home
    visit) on a date, by whom. Creates the notice record if it was never generated.
    Raises ValidationError for a future date or a date before the semester. Re-running with
    the same values changes nothing but the recorder and time.
    """
    if way not in WAY_FIELDS:
        raise ValidationError({"way": _("请选择告知方式。")})
    if on > today():
        raise ValidationError({"on": _("日期不能晚于今天。")})
    if on < semester.start:
        raise ValidationError(
            {
                "on": _("日期早于 %(s)s 学期开始（%(d)s）。")
                % {"s": semester.code, "d": semester.start}
            }
        )
    if not handled_by.strip():
        raise ValidationError({"handled_by": _("请填写经办人（送达、签收或走访的老师/干部）。")})
    with transaction.atomic():
        notice, _created = Notice.objects.select_for_update().get_or_create(
            student=student, semester=semester
        )
        setattr(notice, WAY_FIELDS[way], on)  # type: ignore[index]
        notice.handled_by = handled_by.strip()[:50]
        notice.note = note.strip()[:200]
        notice.recorded_by = user
        notice.recorded_at = clock.now()
        notice.save()
    return notice


# --- the semester export to the poverty office (task 7) -------------------------------

EXPORT_HEAD = [
    "序号",
    "县区",
    "就读学校",
    "学校标识码",
    "姓名",
    "身份证号",
    "性别",
    "学段",
    "年级",
    "是否寄宿",
]
EXPORT_TAIL = ["应享项目数", "已享项目数", "资助金额合计(元)", "最后发放日期", "是否告知"]


def _export_table(
    *, semester: Semester, scope: Scope, full_ids: bool
) -> tuple[list[str], Iterator[list[object]]]:
    items, students = selectors.export_rows(semester=semester, scope=scope)
    rules = semester_rules(semester)
    owed: dict[tuple[str, bool], set[int]] = {}
    for rule in rules:
        owed.setdefault((rule.stage, rule.boarding), set()).add(rule.item_id)
    informed = set(
        Notice.objects.for_scope(scope)
        .filter(semester=semester)
        .exclude(delivered_on__isnull=True, signed_on__isnull=True, visited_on__isnull=True)
        .values_list("student_id", flat=True)
    )
    headers = [*EXPORT_HEAD, *(f"{i.name}(元)" for i in items), *EXPORT_TAIL]

    def rows() -> Iterator[list[object]]:
        for number, (s, paid) in enumerate(students, start=1):
            due = owed.get((s.stage, s.boarding), set())
            amounts = [paid[i.pk].amount if i.pk in paid else None for i in items]
            last = max((d.paid_on for d in paid.values()), default=None)
            yield [
                number,
                s.county.current_name() if s.county else _("市直学校"),
                s.school.name if s.school else "",
                s.school.school_code if s.school else "",
                s.name if full_ids else mask_name(s.name),
                s.id_number if full_ids else mask_id_number(s.id_number),
                s.gender,
                s.stage,
                s.grade,
                "是" if s.boarding else "否",
                *amounts,
                len(due),
                len(due & set(paid)),
                sum((d.amount for d in paid.values()), Decimal("0")),
                last,
                "是" if s.pk in informed else "否",
            ]

    return headers, rows()


def export_semester_xlsx(*, semester: Semester, scope: Scope, full_ids: bool, target: Any) -> None:
    """Write the semester's roster-with-payments sheet (fixed column order) to `target`.
    Every cell passes lib.export's formula neutraliser. Writes nothing to the database."""
    headers, rows = _export_table(semester=semester, scope=scope, full_ids=full_ids)
    write_xlsx(
        target,
        [(f"{semester.code}建档立卡学生资助", headers, rows)],
        column_widths={"身份证号": 22, "就读学校": 28, "姓名": 10},
    )


def export_semester_csv(*, semester: Semester, scope: Scope, full_ids: bool) -> bytes:
    headers, rows = _export_table(semester=semester, scope=scope, full_ids=full_ids)
    return csv_bytes(headers, rows)


def omissions_xlsx(*, rows: Iterable[selectors.OmissionRow], target: Any, full_ids: bool) -> None:
    headers = [
        "类别",
        "县区",
        "学校",
        "姓名",
        "身份证号",
        "学段",
        "资助项目",
        "最高档(元)",
        "发放金额(元)",
        "发放日期",
        "发放学校",
    ]

    def gen() -> Iterator[list[object]]:
        for r in rows:
            yield [
                "、".join(r.labels),
                r.county_name,
                r.school_name,
                r.name if full_ids else mask_name(r.name),
                r.id_number if full_ids else mask_id_number(r.id_number),
                r.stage or "",
                r.item_name,
                r.top,
                r.amount,
                r.paid_on,
                r.paid_school_name,
            ]

    write_xlsx(
        target,
        [(_("查遗补漏"), headers, gen())],
        column_widths={"身份证号": 22, "学校": 28, "发放学校": 28},
    )
