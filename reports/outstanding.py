"""What each responsible unit still owes for a deadline, in words a clerk would write
("宣州区：37 名建档立卡学生 2019春 资助未发放到位", "2019年5月月报未报送").

Four sources: the subsidies omission figures (task 3's semester payment deadlines), the
monthly submissions (task 5's monthly due day), the ledger (every task deadline) and the
rectification items of inspections and feedback (their 整改时限 deadlines).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from inspections.selectors import rectification_outstanding, rectification_outstanding_many
from subsidies.models import Semester
from subsidies.selectors import semester_figures
from tasks.models import County, Deadline, LedgerEntry, Responsibility, Unit
from tasks.scoping import EVERYTHING, user_scope

from .models import Breach, Escalation, MonthlySubmission
from .periods import month_label
from .selectors import listed_reporting_units, reporting_units
from .texts import task_short_name

PAYMENT_TASK = 3
MONTHLY_TASK = 5

T = TypeVar("T")


class Memo:
    """What several deadlines of one page share (a task's units, a month's reporting units,
    a semester's figures, a county's current name), read once per page instead of once per
    deadline: the calendar lists about fifteen deadlines."""

    def __init__(self, deadlines: list[Deadline] | None = None) -> None:
        self._store: dict[tuple[Any, ...], Any] = {}
        if deadlines:
            # The 整改时限 among them: their items in one query rather than one each.
            due = [d for d in deadlines if d.kind == Deadline.Kind.RECTIFICATION]
            if due:
                for pk, owed in rectification_outstanding_many(due).items():
                    self._store[("rectification", pk)] = owed

    def get(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        if key not in self._store:
            self._store[key] = compute()
        return self._store[key]  # type: ignore[no-any-return]


def _responsibilities(task_id: int, memo: Memo) -> list[Responsibility]:
    """The task's responsibilities; every task's are read at once (a hundred rows)."""

    def every_task() -> dict[int, list[Responsibility]]:
        grouped: dict[int, list[Responsibility]] = defaultdict(list)
        for r in Responsibility.objects.select_related("unit", "unit__county").order_by("order"):
            grouped[r.task_id].append(r)
        return grouped

    return memo.get(("responsibilities",), every_task).get(task_id, [])


def _reporting_units(period: dt.date, memo: Memo) -> list[Unit]:
    listed = memo.get(("reporting",), listed_reporting_units)
    return memo.get(("reporting", period), lambda: reporting_units(period, listed))


def _county_name(unit: Unit, memo: Memo) -> str:
    if unit.county_id is None:
        return unit.display_name

    def every_county() -> dict[int, str]:  # seven counties and their codes, at once
        return {c.pk: c.current_name() for c in County.objects.prefetch_related("codes")}

    names = memo.get(("counties",), every_county)
    return names.get(unit.county_id) or unit.display_name


def responsible_units(deadline: Deadline, memo: Memo | None = None) -> list[Unit]:
    """The deadline's task's units, plus every reporting unit for the monthly report."""
    memo = memo or Memo()
    units = {
        r.unit.pk: r.unit for r in _responsibilities(deadline.task_id, memo) if r.unit.is_active
    }
    if deadline.task.number == MONTHLY_TASK and deadline.kind == Deadline.Kind.MONTHLY:
        for unit in _reporting_units(deadline.period_start.replace(day=1), memo):
            units.setdefault(unit.pk, unit)
    return list(units.values())


def _semester_for(deadline: Deadline) -> Semester | None:
    return (
        Semester.objects.filter(plan_deadline=deadline).first()
        or Semester.objects.filter(start__lte=deadline.period_end, end__gte=deadline.period_start)
        .order_by("start")
        .first()
    )


def _payment_items(
    deadline: Deadline, units: list[Unit], memo: Memo
) -> dict[int, list[str]] | None:
    """Students of each county (and the city-run schools) not yet paid all they are owed."""
    semester = _semester_for(deadline)
    if semester is None:
        return None

    def figures() -> dict[int | None, Any]:
        rows = semester_figures(semester=semester, scope=EVERYTHING)[:-1]
        return {f.county_id: f for f in rows}

    by_county = memo.get(("figures", semester.pk), figures)
    out: dict[int, list[str]] = {}
    for unit in units:
        if unit.kind == Unit.Kind.COUNTY_BUREAU:
            fig = by_county.get(unit.county_id)
        elif unit.kind == Unit.Kind.CITY_SCHOOLS:
            fig = by_county.get(None)
        else:
            continue
        unpaid = (fig.owed_students - fig.complete_students) if fig else 0
        if unpaid:
            name = _county_name(unit, memo)
            out[unit.pk] = [f"{name}：{unpaid} 名建档立卡学生 {semester.code} 资助未发放到位"]
        else:
            out[unit.pk] = []
    return out


def _period_words(deadline: Deadline) -> str:
    if deadline.kind == Deadline.Kind.MONTHLY:
        return month_label(deadline.period_start)
    return deadline.label


def _ledger_items(deadline: Deadline, units: list[Unit], memo: Memo) -> dict[int, list[str]]:
    start = deadline.period_start.replace(day=1)

    def task_entries() -> list[tuple[int, dt.date, str, str]]:
        # A task's entries of every unit and month (a few hundred a year), read once for
        # all of its deadlines on the page.
        return list(
            LedgerEntry.objects.filter(task_id=deadline.task_id).values_list(
                "unit_id", "period", "status", "review"
            )
        )

    wanted = {u.pk for u in units}
    entries: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for unit_id, period, status, review in memo.get(("ledger", deadline.task_id), task_entries):
        if unit_id in wanted and start <= period <= deadline.period_end:
            entries[unit_id].append((status, review))
    out: dict[int, list[str]] = {}
    words = _period_words(deadline)
    # In the words of a clerk, as reminders, the calendar and 督办单 show them (not "任务5").
    name = task_short_name(deadline.task)
    for unit in units:
        mine = entries.get(unit.pk, [])
        done = any(
            status == LedgerEntry.Status.DONE and review != LedgerEntry.Review.RETURNED
            for status, review in mine
        )
        if done:
            out[unit.pk] = []
        elif mine:
            out[unit.pk] = [f"{words}“{name}”台账未完成"]
        else:
            out[unit.pk] = [f"{words}“{name}”台账未填报"]
    return out


def _submission_items(deadline: Deadline, units: list[Unit], memo: Memo) -> dict[int, list[str]]:
    period = deadline.period_start.replace(day=1)
    expected = {u.pk for u in _reporting_units(period, memo)}
    states = dict(
        MonthlySubmission.objects.filter(period=period, unit__in=units).values_list(
            "unit_id", "state"
        )
    )
    out: dict[int, list[str]] = {}
    for unit in units:
        if unit.pk not in expected:
            continue
        state = states.get(unit.pk, MonthlySubmission.State.NOT_SUBMITTED)
        if state == MonthlySubmission.State.NOT_SUBMITTED:
            out[unit.pk] = [f"{month_label(period)}月报未报送"]
        elif state == MonthlySubmission.State.RETURNED:
            out[unit.pk] = [f"{month_label(period)}月报被退回，尚未重新报送"]
        else:
            out[unit.pk] = []
    return out


def outstanding_by_unit(
    deadline: Deadline, today: dt.date, memo: Memo | None = None
) -> list[tuple[Unit, list[str]]]:
    """Each responsible unit with its outstanding items for `deadline` (empty = done).

    Reads only; a handful of queries per deadline whatever the number of units (fewer
    when a page passes one `memo` for all its deadlines)."""
    memo = memo or Memo()
    if deadline.kind == Deadline.Kind.RECTIFICATION:
        # The items due that day, by unit; a page's 整改时限 are read at once (`prime`).
        return memo.get(("rectification", deadline.pk), lambda: rectification_outstanding(deadline))
    units = responsible_units(deadline, memo)
    items: dict[int, list[str]] = {u.pk: [] for u in units}
    number = deadline.task.number
    payment = None
    if number == PAYMENT_TASK and deadline.kind == Deadline.Kind.SEMESTER:
        payment = _payment_items(deadline, units, memo)
    if payment is not None:
        for pk, found in payment.items():
            items[pk].extend(found)
        # Units that pay no one (the city section leading the task) keep their ledger duty.
        ledger_units = [u for u in units if u.pk not in payment]
    else:
        ledger_units = units
    if number == MONTHLY_TASK and deadline.kind == Deadline.Kind.MONTHLY:
        for pk, found in _submission_items(deadline, units, memo).items():
            items[pk].extend(found)
        responsible = {r.unit_id for r in _responsibilities(deadline.task_id, memo)}
        ledger_units = [u for u in ledger_units if u.pk in responsible]
    for pk, found in _ledger_items(deadline, ledger_units, memo).items():
        items[pk].extend(found)
    return [(u, items[u.pk]) for u in units]


@dataclass
class CalendarRow:
    deadline: Deadline
    days_left: int
    outstanding: dict[str, list[str]]  # unit name -> items
    breaches: list[Breach]
    escalations: list[Escalation]


def calendar(user: Any, today: dt.date, *, start: dt.date, end: dt.date) -> list[CalendarRow]:
    """Deadlines due between start and end with what each unit in the user's scope still owes."""
    scope = user_scope(user)
    deadlines = list(
        Deadline.objects.filter(due_on__gte=start, due_on__lte=end)
        .select_related("task")
        .order_by("due_on", "task__number")
    )
    breaches: dict[int, list[Breach]] = defaultdict(list)
    for b in Breach.objects.for_user(user).filter(deadline__in=deadlines).select_related("unit"):
        breaches[b.deadline_id].append(b)
    escs: dict[int, list[Escalation]] = defaultdict(list)
    for e in (
        Escalation.objects.for_user(user).filter(deadline__in=deadlines).select_related("unit")
    ):
        escs[e.deadline_id].append(e)
    rows = []
    memo = Memo(deadlines)
    for d in deadlines:
        owed = outstanding_by_unit(d, today, memo)
        shown = {
            u.display_name: items
            for u, items in owed
            if items and scope.covers(county_id=u.county_id, unit_id=u.pk)
        }
        rows.append(CalendarRow(d, (d.due_on - today).days, shown, breaches[d.pk], escs[d.pk]))
    return rows
