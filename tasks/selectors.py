"""Reads for the plan board, task pages, "my unit" and the task breakdown table."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet

from .models import Deadline, LedgerEntry, Plan, Responsibility, Task, TaskGroup, Unit
from .scoping import user_scope


def ledger_units_for(user: Any, task: Task) -> list[Unit]:
    """Units this user may record ledger entries for on this task.

    County users report for their county's responsible units, school users for their
    school; a city section reports for itself only, although it may read everything.
    """
    if not user.is_authenticated or not user.has_perm("tasks.add_ledgerentry"):
        return []
    units = (
        Unit.objects.for_user(user)
        .filter(responsibilities__task=task)
        .order_by("responsibilities__order")
    )
    if user_scope(user).sees_all and not user.is_superuser:
        units = units.filter(pk=user.unit_id)
    return list(units)


def user_may_review(user: Any, task: Task) -> bool:
    """The city reviewer reviews every task; a lead unit's staff review their task."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.has_perm("tasks.review_ledgerentry"):
        return True
    return bool(
        user.unit_id
        and user.has_perm("tasks.add_ledgerentry")
        and Responsibility.objects.filter(task=task, unit_id=user.unit_id, lead=True).exists()
    )


@dataclass
class UnitState:
    unit: Unit
    lead: bool
    latest: LedgerEntry | None = None
    overdue: list[Deadline] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        if self.latest is None:
            return "未填报"
        return self.latest.get_status_display()

    @property
    def css(self) -> str:
        if self.overdue:
            return "overdue"
        return self.latest.status if self.latest else "none"


@dataclass
class TaskRow:
    task: Task
    units: list[UnitState]
    next_deadline: Deadline | None
    days_left: int | None

    @property
    def leads(self) -> list[UnitState]:
        return [u for u in self.units if u.lead]

    @property
    def others(self) -> list[UnitState]:
        return [u for u in self.units if not u.lead]

    @property
    def overdue_count(self) -> int:
        return sum(1 for u in self.units if u.overdue)


def _is_done_for(entries: list[LedgerEntry], deadline: Deadline) -> bool:
    start = deadline.period_start.replace(day=1)
    return any(
        e.status == LedgerEntry.Status.DONE
        and e.review != LedgerEntry.Review.RETURNED
        and start <= e.period <= deadline.period_end
        for e in entries
    )


def overdue_deadlines(
    entries: list[LedgerEntry], deadlines: Iterable[Deadline], today: dt.date
) -> list[Deadline]:
    """Deadlines that have passed with no completed (and not returned) entry for their period."""
    return [d for d in deadlines if d.due_on < today and not _is_done_for(entries, d)]


def _task_queryset() -> QuerySet[Task]:
    return Task.objects.select_related("group").prefetch_related(
        Prefetch(
            "responsibilities",
            queryset=Responsibility.objects.select_related("unit").order_by("order"),
        ),
        # Rectification due dates are answered item by item (inspections), not in the ledger.
        Prefetch(
            "deadlines",
            queryset=Deadline.objects.exclude(kind=Deadline.Kind.RECTIFICATION).order_by("due_on"),
        ),
    )


def task_rows(
    tasks: Iterable[Task], today: dt.date, *, unit_ids: set[int] | None = None
) -> list[TaskRow]:
    """Each task with each responsible unit's latest entry, overdue deadlines and the next deadline."""
    tasks = list(tasks)
    entries: dict[tuple[int, int], list[LedgerEntry]] = defaultdict(list)
    qs = LedgerEntry.objects.filter(task__in=tasks).order_by("-period", "-submitted_at")
    if unit_ids is not None:
        qs = qs.filter(unit_id__in=unit_ids)
    for e in qs.only("id", "task_id", "unit_id", "period", "status", "review", "submitted_at"):
        entries[(e.task_id, e.unit_id)].append(e)
    rows = []
    for task in tasks:
        deadlines = list(task.deadlines.all())
        states = []
        for r in task.responsibilities.all():
            if unit_ids is not None and r.unit_id not in unit_ids:
                continue
            mine = entries.get((task.pk, r.unit_id), [])
            states.append(
                UnitState(
                    unit=r.unit,
                    lead=r.lead,
                    latest=mine[0] if mine else None,
                    overdue=overdue_deadlines(mine, deadlines, today),
                )
            )
        upcoming = [d for d in deadlines if d.due_on >= today]
        nxt = upcoming[0] if upcoming else None
        rows.append(TaskRow(task, states, nxt, (nxt.due_on - today).days if nxt else None))
    return rows


@dataclass
class GroupRows:
    group: TaskGroup
    rows: list[TaskRow]


def plan_current() -> Plan | None:
    return Plan.objects.order_by("-year").first()


def plan_board(today: dt.date) -> list[GroupRows]:
    plan = plan_current()
    if plan is None:
        return []
    tasks = list(_task_queryset().filter(group__plan=plan).order_by("number"))
    rows = task_rows(tasks, today)
    by_group: dict[int, list[TaskRow]] = defaultdict(list)
    for row in rows:
        by_group[row.task.group_id].append(row)
    return [GroupRows(g, by_group[g.pk]) for g in plan.groups.order_by("number")]


def task_get(number: int) -> Task:
    plan = plan_current()
    return _task_queryset().get(group__plan=plan, number=number)


def task_ledger(task: Task, user: Any) -> dict[int, list[LedgerEntry]]:
    """Every entry of the task the user may see, newest first, by unit id (history included)."""
    by_unit: dict[int, list[LedgerEntry]] = defaultdict(list)
    qs = (
        LedgerEntry.objects.for_user(user)
        .filter(task=task)
        .select_related("submitted_by", "reviewed_by", "revision_of")
        .prefetch_related("evidence")
        .order_by("-period", "-submitted_at")
    )
    for e in qs:
        by_unit[e.unit_id].append(e)
    return by_unit


def own_unit_ids(user: Any) -> set[int]:
    """The units whose work is the user's own (本单位): their scope, except that a city
    user, who may read everything, owns only their own unit."""
    if not user.is_authenticated or user.unit_id is None:
        return set()
    units = Unit.objects.for_user(user)
    if user_scope(user).sees_all:
        units = units.filter(pk=user.unit_id)
    return set(units.values_list("pk", flat=True))


def my_tasks(user: Any, today: dt.date) -> list[TaskRow]:
    """The tasks the user's scope reports on, limited to the units in that scope."""
    unit_ids = own_unit_ids(user)
    if not unit_ids:
        return []
    tasks = (
        _task_queryset()
        .filter(responsibilities__unit_id__in=unit_ids)
        .distinct()
        .order_by("number")
    )
    return task_rows(tasks, today, unit_ids=unit_ids)


def entries_to_review(user: Any) -> QuerySet[LedgerEntry]:
    """Pending entries on tasks this user may review."""
    qs = LedgerEntry.objects.for_user(user).filter(review=LedgerEntry.Review.PENDING)
    if user.is_superuser or user.has_perm("tasks.review_ledgerentry"):
        pass
    elif user.unit_id:
        qs = qs.filter(
            task__responsibilities__unit_id=user.unit_id, task__responsibilities__lead=True
        )
    else:
        return qs.none()
    return (
        qs.exclude(submitted_by=user)
        .select_related("task", "unit", "submitted_by")
        .order_by("submitted_at")
    )


def entries_returned(user: Any) -> QuerySet[LedgerEntry]:
    """Returned entries of the user's own units that have not been corrected yet; empty
    for a user who may not record entries (nothing they could correct)."""
    if not user.has_perm("tasks.add_ledgerentry"):
        return LedgerEntry.objects.none()
    return (
        LedgerEntry.objects.for_user(user)
        .filter(
            review=LedgerEntry.Review.RETURNED,
            revision__isnull=True,
            unit_id__in=own_unit_ids(user),
        )
        .select_related("task", "unit", "reviewed_by")
        .order_by("-reviewed_at")
    )


BREAKDOWN_HEADERS = ["序号", "任务组", "任务内容", "牵头单位", "配合单位", "完成时限"]


def plan_breakdown_rows() -> Iterator[list[object]]:
    """The 任务分解表: one row a task, unit names expanded and joined with 、."""
    plan = plan_current()
    if plan is None:
        return
    for task in _task_queryset().filter(group__plan=plan).order_by("number"):
        resp = list(task.responsibilities.all())
        leads = "、".join(r.unit.name for r in resp if r.lead)
        others = "、".join(r.unit.name for r in resp if not r.lead)
        yield [task.number, str(task.group), task.text, leads, others, task.cadence_text]
