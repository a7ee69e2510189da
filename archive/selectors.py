"""What the archive holds for a task, a unit and a range of months: every record the user
may see, each with its files, and the months a responsible unit sent no ledger entry.

Every query goes through the model's `for_user` (reports: issued documents for a county),
so a county's archive is its own units' and a school's its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone

from inspections.models import FEEDBACK_TASK, INSPECTION_TASK, RectificationItem
from intake.base import get_spec
from intake.models import Upload
from reports.models import MonthlySubmission, Report
from reports.periods import month_label, month_start, next_month, quarter_start
from reports.selectors import first_reporting_month, submission_due
from reports.texts import task_short_name
from tasks import indicators as task_indicators
from tasks.models import IndicatorValue, LedgerEntry, Responsibility, Task, Unit

#: The plan tasks each upload kind is evidence for (an upload names no task of its own).
#: A kind not listed here (user accounts) is not archive material.
UPLOAD_TASKS: dict[str, tuple[int, ...]] = {
    "schools": (9,),
    "roster": (3, 7),
    "standards": (3,),
    "disbursements": (3, 5, 7),
    "enrolment": (9, 10, 11),
    "household": (10, 11),
    "poverty": (3, 10, 11),
    "employment": (14,),
    "indicators": (4, 12, 13, 15, 16, 19, 20),
}
#: The tasks whose product the documents are: the monthly review and quarterly circular
#: (task 17), the units' monthly reports (task 5).
REPORT_TASK = 17
SUBMISSION_TASK = 5


class Category:
    """类别, in the order the page and the table of contents list them."""

    LEDGER = "台账记录"
    INDICATOR = "指标数值"
    UPLOAD = "上传表格"
    SUBMISSION = "月报"
    REPORT = "点评通报"
    ITEM = "整改事项"
    MISSING = "缺报"

    ORDER = (LEDGER, INDICATOR, UPLOAD, SUBMISSION, REPORT, ITEM, MISSING)


@dataclass
class ArchiveFile:
    field: FieldFile
    name: str
    url: str
    #: Set when the zip is built: the file's place inside it.
    path: str = ""


@dataclass
class Record:
    category: str
    task: Task | None
    unit: Unit | None
    period: dt.date | None
    text: str
    status: str
    url: str = ""
    files: list[ArchiveFile] = field(default_factory=list)
    #: The full text (a ledger entry's narrative) for the table of contents' second sheet.
    detail: str = ""
    #: The tasks a record serves when it is more than one (an upload kind: 任务3、5、7).
    task_numbers: tuple[int, ...] = ()

    @property
    def month(self) -> str:
        return month_label(self.period) if self.period else ""

    @property
    def task_label(self) -> str:
        if len(self.task_numbers) > 1:
            return "任务" + "、".join(str(n) for n in self.task_numbers)
        return f"任务{self.task.number} {task_short_name(self.task)}" if self.task else "—"

    @property
    def unit_label(self) -> str:
        return self.unit.display_name if self.unit else "全市"


@dataclass
class Gap:
    """A responsible unit's months without any ledger entry for a task."""

    task: Task
    unit: Unit
    months: list[dt.date]

    @property
    def task_label(self) -> str:
        return f"任务{self.task.number} {task_short_name(self.task)}"

    @property
    def month_words(self) -> str:
        return "、".join(
            f"{m.month}月" if m.year == self.months[0].year else month_label(m) for m in self.months
        )


@dataclass
class Archive:
    task: Task | None
    unit: Unit | None
    start: dt.date
    end: dt.date
    records: list[Record]
    gaps: list[Gap]

    @property
    def files(self) -> list[tuple[Record, ArchiveFile]]:
        return [(r, f) for r in self.records for f in r.files]

    @property
    def counts(self) -> list[tuple[str, int]]:
        n: dict[str, int] = defaultdict(int)
        for r in self.records:
            n[r.category] += 1
        n[Category.MISSING] = sum(len(g.months) for g in self.gaps)
        return [(c, n[c]) for c in Category.ORDER]

    @property
    def period_words(self) -> str:
        if self.start == self.end:
            return month_label(self.start)
        return f"{month_label(self.start)}至{month_label(self.end)}"


def months(start: dt.date, end: dt.date) -> list[dt.date]:
    out, m = [], month_start(start)
    while m <= end:
        out.append(m)
        m = next_month(m)
    return out


def default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """From the plan's issue month to the last month whose report is due."""
    last = month_start(today)
    while last > dt.date(2000, 1, 1) and submission_due(last) >= today:
        last = month_start(last - dt.timedelta(days=1))
    first = first_reporting_month() or last.replace(month=1)
    return min(first, last), last


def units_for(user: Any) -> Any:
    """The units a user may pick: those in their scope that answer for a task, report
    monthly or send sheets."""
    return (
        Unit.objects.for_user(user)
        .filter(is_active=True)
        .filter(
            Q(responsibilities__isnull=False)
            | Q(reporting__isnull=False)
            | Q(kind=Unit.Kind.COUNTY_BUREAU)
        )
        .distinct()
        .order_by("order", "code")
    )


def _with(qs: Any, task: Task | None, unit: Unit | None, *, task_field: str = "task") -> Any:
    if task is not None:
        qs = qs.filter(**{task_field: task})
    if unit is not None:
        qs = qs.filter(unit=unit)
    return qs


def _ledger(
    user: Any, task: Task | None, unit: Unit | None, start: dt.date, end: dt.date
) -> list[Record]:
    qs = (
        _with(LedgerEntry.objects.for_user(user), task, unit)
        .filter(period__range=(start, end))
        .select_related("task", "unit")
        .prefetch_related("evidence")
        .order_by("task__number", "unit__order", "period", "submitted_at")
    )
    records = []
    for e in qs:
        status = e.get_review_display()
        if e.review == LedgerEntry.Review.RETURNED and hasattr(e, "revision"):
            status += "（已更正）"
        records.append(
            Record(
                category=Category.LEDGER,
                task=e.task,
                unit=e.unit,
                period=e.period,
                text=f"{e.get_status_display()}：{_short(e.narrative, 80)}",
                status=status,
                url=reverse("tasks:task", args=[e.task.number]) + f"#unit-{e.unit_id}",
                files=[
                    ArchiveFile(v.file, v.original_name, reverse("tasks:evidence", args=[v.pk]))
                    for v in e.evidence.all()
                ],
                detail=e.narrative,
            )
        )
    return records


def _indicators(
    user: Any, task: Task | None, unit: Unit | None, start: dt.date, end: dt.date
) -> list[Record]:
    qs = (
        _with(IndicatorValue.objects.for_user(user), task, unit, task_field="indicator__task")
        .filter(period__range=(start, end))
        .select_related("indicator", "indicator__task", "unit", "entry")
        .order_by("indicator__task__number", "unit__order", "period", "indicator__order")
    )
    return [
        Record(
            category=Category.INDICATOR,
            task=v.indicator.task,
            unit=v.unit,
            period=v.period,
            text=f"{v.indicator.name}：{task_indicators.quantity(v.value, v.indicator.measure)}",
            status="随台账填报" if v.entry_id else "表格导入",
            url=reverse("tasks:task", args=[v.indicator.task.number]),
        )
        for v in qs
    ]


def _upload_period(u: Upload) -> dt.date:
    return u.period or month_start(timezone.localtime(u.created_at).date())


def _uploads(
    user: Any, task: Task | None, unit: Unit | None, start: dt.date, end: dt.date
) -> list[Record]:
    kinds = [k for k, tasks in UPLOAD_TASKS.items() if task is None or task.number in tasks]
    qs = Upload.objects.for_user(user).filter(kind__in=kinds, state=Upload.State.APPLIED)
    if unit is not None:
        qs = qs.filter(unit=unit)
    tasks_by_number = {
        t.number: t
        for t in Task.objects.filter(number__in={n for k in kinds for n in UPLOAD_TASKS[k]})
    }
    records = []
    for u in qs.select_related("unit").order_by("unit__order", "created_at"):
        period = _upload_period(u)
        if not start <= period <= end:
            continue
        try:
            title = str(get_spec(u.kind).title)
        except LookupError:
            title = "上传表格"
        numbers = (task.number,) if task else UPLOAD_TASKS[u.kind]
        records.append(
            Record(
                category=Category.UPLOAD,
                task=tasks_by_number.get(numbers[0]),
                task_numbers=numbers,
                unit=u.unit,
                period=period,
                text=f"{title}：{u.original_name}（{u.rows_total}行）",
                status=u.get_state_display(),
                url=reverse("intake:upload", args=[u.pk]),
                files=[
                    ArchiveFile(u.file, u.original_name, reverse("intake:upload_file", args=[u.pk]))
                ],
            )
        )
    return records


def _submissions(
    user: Any, unit: Unit | None, start: dt.date, end: dt.date, task: Task | None
) -> list[Record]:
    qs = (
        MonthlySubmission.objects.for_user(user)
        .filter(period__range=(start, end))
        .exclude(state=MonthlySubmission.State.NOT_SUBMITTED)
        .select_related("unit")
        .order_by("unit__order", "period")
    )
    if unit is not None:
        qs = qs.filter(unit=unit)
    records = []
    for s in qs:
        cover = s.latest_cover
        files = []
        if cover is not None:
            files.append(
                ArchiveFile(
                    cover.cover_sheet,
                    cover.cover_name or "签字盖章封面",
                    reverse("reports:cover", args=[cover.pk]),
                )
            )
        records.append(
            Record(
                category=Category.SUBMISSION,
                task=task,
                unit=s.unit,
                period=s.period,
                text=f"{month_label(s.period)}月报",
                status=s.get_state_display(),
                url=reverse("reports:submission", args=[s.pk]),
                files=files,
            )
        )
    return records


def _reports(user: Any, start: dt.date, end: dt.date, task: Task | None) -> list[Record]:
    qs = Report.objects.for_user(user).filter(period__range=(quarter_start(start), end))
    records = []
    for r in qs.order_by("period", "kind"):
        if r.kind == Report.Kind.MONTHLY and not start <= r.period <= end:
            continue
        files = []
        stem = r.title or r.period_code
        docx = r.edited_docx or r.docx
        if docx:
            files.append(
                ArchiveFile(
                    docx, f"{stem}.docx", reverse("reports:report_file", args=[r.pk, "docx"])
                )
            )
        if r.xlsx:
            files.append(
                ArchiveFile(
                    r.xlsx, f"{stem}-附件.xlsx", reverse("reports:report_file", args=[r.pk, "xlsx"])
                )
            )
        records.append(
            Record(
                category=Category.REPORT,
                task=task,
                unit=None,
                period=r.period,
                text=f"{r.get_kind_display()} {r.period_label}"
                + (f"（{r.doc_number}）" if r.doc_number else ""),
                status=r.get_state_display(),
                url=reverse("reports:report", args=[r.pk]),
                files=files,
            )
        )
    return records


def _items(
    user: Any, task: Task | None, unit: Unit | None, start: dt.date, end: dt.date
) -> list[Record]:
    qs = (
        RectificationItem.objects.for_user(user)
        .select_related("unit", "inspection", "feedback")
        .prefetch_related("evidence")
    )
    if unit is not None:
        qs = qs.filter(unit=unit)
    if task is not None:
        qs = qs.filter(source="inspection" if task.number == INSPECTION_TASK else "feedback")
    tasks_by_number = {
        t.number: t for t in Task.objects.filter(number__in=(INSPECTION_TASK, FEEDBACK_TASK))
    }
    records = []
    for item in qs.order_by("due_on", "pk"):
        raised = (
            item.inspection.visited_on
            if item.inspection
            else timezone.localtime(item.created_at).date()
        )
        if not start <= month_start(raised) <= end:
            continue
        number = INSPECTION_TASK if item.inspection_id else FEEDBACK_TASK
        records.append(
            Record(
                category=Category.ITEM,
                task=tasks_by_number.get(number),
                unit=item.unit,
                period=month_start(raised),
                text=f"{item.source_label}：{_short(item.problem, 60)}（整改时限{item.due_on:%Y年%-m月%-d日}）",
                status=item.get_status_display(),
                url=reverse("inspections:item", args=[item.pk]),
                files=[
                    ArchiveFile(
                        v.file, v.original_name, reverse("inspections:evidence", args=[v.pk])
                    )
                    for v in item.evidence.all()
                ],
                detail=item.answer,
            )
        )
    return records


def _gaps(
    user: Any, task: Task | None, unit: Unit | None, start: dt.date, end: dt.date, today: dt.date
) -> list[Gap]:
    """Months a responsible unit owes a ledger entry (from the plan's issue, up to the last
    month whose report is due) and has none for."""
    first = first_reporting_month() or start
    due = [m for m in months(max(start, first), end) if submission_due(m) < today]
    if not due:
        return []
    resp = Responsibility.objects.filter(unit__in=Unit.objects.for_user(user), unit__is_active=True)
    if task is not None:
        resp = resp.filter(task=task)
    if unit is not None:
        resp = resp.filter(unit=unit)
    pairs = list(resp.select_related("task", "unit").order_by("task__number", "order"))
    have: set[tuple[int, int, dt.date]] = set(
        _with(LedgerEntry.objects.for_user(user), task, unit)
        .filter(period__range=(due[0], due[-1]))
        .values_list("task_id", "unit_id", "period")
    )
    gaps = []
    for r in pairs:
        missing = [m for m in due if (r.task_id, r.unit_id, m) not in have]
        if missing:
            gaps.append(Gap(r.task, r.unit, missing))
    return gaps


def _task(number: int, chosen: Task | None) -> Task | None:
    return chosen or Task.objects.filter(number=number).order_by("-group__plan__year").first()


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


def archive_for(
    user: Any,
    *,
    task: Task | None,
    unit: Unit | None,
    start: dt.date,
    end: dt.date,
    today: dt.date,
) -> Archive:
    """Everything the user may see of `task` (None: every task) and `unit` (None: every
    unit in their scope) for the months `start`..`end` (first days of months)."""
    start, end = month_start(start), month_start(end)
    records: list[Record] = []
    records += _ledger(user, task, unit, start, end)
    records += _indicators(user, task, unit, start, end)
    records += _uploads(user, task, unit, start, end)
    if task is None or task.number == SUBMISSION_TASK:
        records += _submissions(user, unit, start, end, _task(SUBMISSION_TASK, task))
    if task is None or task.number == REPORT_TASK:
        records += _reports(user, start, end, _task(REPORT_TASK, task))
    if task is None or task.number in (INSPECTION_TASK, FEEDBACK_TASK):
        records += _items(user, task, unit, start, end)
    return Archive(
        task=task,
        unit=unit,
        start=start,
        end=end,
        records=records,
        gaps=_gaps(user, task, unit, start, end, today),
    )


def categories(records: Iterable[Record]) -> list[tuple[str, list[Record]]]:
    by: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by[r.category].append(r)
    return [(c, by[c]) for c in Category.ORDER if by.get(c)]
