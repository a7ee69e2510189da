"""Reads of inspections and rectification items: lists, filters, the deadline cycle's
view of them, per-unit counts and the 整改台账 rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from tasks.models import Deadline, Unit
from tasks.scoping import user_scope

from .models import (
    AWAITING_UNIT,
    Feedback,
    Inspection,
    ItemEvent,
    RectificationItem,
    Source,
    Status,
)


def items_for(user: Any) -> QuerySet[RectificationItem]:
    """Every item the user may see, with what its pages and lists show."""
    return (
        RectificationItem.objects.for_user(user)
        .select_related("unit", "unit__county", "inspection", "feedback")
        .order_by("due_on", "unit__order", "pk")
    )


def own_unit_ids(user: Any) -> set[int]:
    """Units whose items are the user's own to answer: their scope, except that a city
    user (who may read everything) answers for their own unit only."""
    if not user.is_authenticated or user.unit_id is None:
        return set()
    units = Unit.objects.for_user(user)
    if user_scope(user).sees_all:
        units = units.filter(pk=user.unit_id)
    return set(units.values_list("pk", flat=True))


def user_may_answer(user: Any, item: RectificationItem) -> bool:
    if not user.is_authenticated or not user.has_perm("inspections.answer_rectificationitem"):
        return False
    return bool(user.is_superuser or item.unit_id in own_unit_ids(user))


def user_may_review(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.has_perm("inspections.review_rectificationitem")
        and user_scope(user).sees_all
    )


def user_may_raise(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.has_perm("inspections.add_inspection")
        and user_scope(user).sees_all
    )


def items_filtered(
    qs: QuerySet[RectificationItem],
    *,
    day: dt.date,
    unit: Unit | None = None,
    source: str = "",
    status: str = "",
    overdue: bool = False,
) -> QuerySet[RectificationItem]:
    if unit is not None:
        qs = qs.filter(unit=unit)
    if source:
        qs = qs.filter(source=source)
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(due_on__lt=day).exclude(status=Status.CLOSED)
    return qs


def item_units_for(user: Any) -> QuerySet[Unit]:
    """Units with at least one item the user may see (the unit filter's choices)."""
    ids = RectificationItem.objects.for_user(user).values("unit_id")
    return Unit.objects.filter(pk__in=ids).order_by("order", "code")


def inspections_for(user: Any) -> QuerySet[Inspection]:
    return (
        Inspection.objects.for_user(user).prefetch_related("units").order_by("-visited_on", "-pk")
    )


def feedback_for(user: Any) -> QuerySet[Feedback]:
    return Feedback.objects.for_user(user).order_by("number")


def timeline(item: RectificationItem) -> list[ItemEvent]:
    return list(
        item.events.select_related("actor", "actor__unit")
        .prefetch_related("evidence")
        .order_by("at", "pk")
    )


def overdue_rectifications(as_of: dt.date) -> QuerySet[RectificationItem]:
    """Items past their due date and not 销号, city-wide (callers scope what they show)."""
    return (
        RectificationItem.objects.overdue(as_of)
        .select_related("unit", "inspection", "feedback")
        .order_by("due_on", "unit__order")
    )


def _owed_words(item: RectificationItem) -> str:
    what = item.problem if len(item.problem) <= 24 else item.problem[:24] + "…"
    if item.source == Source.FEEDBACK and item.feedback is not None:
        head = f"巡视反馈意见第{item.feedback.number}项"
    else:
        head = f"{item.inspection}发现问题" if item.inspection else "明查暗访发现问题"
    state = "整改被退回，尚未重新报告" if item.status == Status.RETURNED else "尚未报告整改情况"
    return f"{head}“{what}”{state}"


def outstanding_for_unit(unit: Unit, as_of: dt.date) -> list[str]:
    """What `unit` still owes on items due by `as_of` (in words a clerk would write)."""
    qs = (
        RectificationItem.objects.filter(unit=unit, due_on__lte=as_of, status__in=AWAITING_UNIT)
        .select_related("inspection", "feedback")
        .order_by("due_on", "pk")
    )
    return [_owed_words(i) for i in qs]


def rectification_outstanding(deadline: Deadline) -> list[tuple[Unit, list[str]]]:
    """For a 整改时限 deadline: each unit with items due on it and what it still owes
    (an empty list = answered or closed). The deadline check's reminders, 逾期 and 督办
    read this, exactly as they read a ledger deadline's outstanding items."""
    return rectification_outstanding_many([deadline])[deadline.pk]


def rectification_outstanding_many(
    deadlines: list[Deadline],
) -> dict[int, list[tuple[Unit, list[str]]]]:
    """`rectification_outstanding` of several deadlines from one query (the calendar and
    the deadline check list several 整改时限 at once)."""
    owed: dict[int, dict[int, list[str]]] = {d.pk: defaultdict(list) for d in deadlines}
    units: dict[int, dict[int, Unit]] = {d.pk: {} for d in deadlines}
    for item in (
        RectificationItem.objects.filter(deadline__in=[d.pk for d in deadlines])
        .select_related("unit", "unit__county", "inspection", "feedback")
        .order_by("unit__order", "pk")
    ):
        due = item.deadline_id
        if due is None:  # not so (filtered on it); for the type checker
            continue
        units[due].setdefault(item.unit_id, item.unit)
        if item.status in AWAITING_UNIT:
            owed[due][item.unit_id].append(_owed_words(item))
    return {
        pk: [(u, owed[pk].get(unit_pk, [])) for unit_pk, u in by_unit.items() if u.is_active]
        for pk, by_unit in units.items()
    }


@dataclass
class UnitCounts:
    open: int = 0
    overdue: int = 0
    closed: int = 0


def review_counts(units: list[Unit], end: dt.date) -> dict[int, UnitCounts]:
    """For the monthly review: per reviewed unit, the items within its scope (a county
    bureau: every unit of its county; 市直学校: the city-run schools) raised by `end`, as
    they stood at `end`: not yet 销号, of them past due, and 销号 by then."""
    closed_by_end = Q(status=Status.CLOSED, closed_on__lte=end)
    out: dict[int, UnitCounts] = {}
    for unit in units:
        got = (
            RectificationItem.objects.for_scope(unit.scope())
            .filter(created_at__date__lte=end)
            .aggregate(
                open=Count("pk", filter=~closed_by_end),
                overdue=Count("pk", filter=~closed_by_end & Q(due_on__lt=end)),
                closed=Count("pk", filter=closed_by_end),
            )
        )
        out[unit.pk] = UnitCounts(open=got["open"], overdue=got["overdue"], closed=got["closed"])
    return out


@dataclass
class Totals:
    all: int = 0
    open: int = 0
    answered: int = 0
    closed: int = 0
    overdue: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def totals(qs: QuerySet[RectificationItem], day: dt.date) -> Totals:
    counts = dict(qs.order_by().values_list("status").annotate(n=Count("pk")))
    return Totals(
        all=sum(counts.values()),
        open=counts.get(Status.OPEN, 0) + counts.get(Status.RETURNED, 0),
        answered=counts.get(Status.ANSWERED, 0),
        closed=counts.get(Status.CLOSED, 0),
        overdue=qs.filter(due_on__lt=day).exclude(status=Status.CLOSED).count(),
        by_status=counts,
    )


LEDGER_HEADERS = [
    "序号",
    "来源",
    "检查日期/反馈事项",
    "责任单位",
    "问题类别",
    "发现问题",
    "整改要求",
    "整改时限",
    "整改情况",
    "状态",
    "销号日期",
]


def ledger_rows(qs: QuerySet[RectificationItem], day: dt.date) -> Iterator[list[object]]:
    """The 整改台账, one row an item, in LEDGER_HEADERS' order."""
    for n, item in enumerate(qs, start=1):
        if item.feedback is not None:
            origin = f"反馈意见第{item.feedback.number}项"
        elif item.inspection is not None:
            origin = f"{item.inspection.visited_on:%Y-%m-%d} {item.inspection.get_kind_display()}"
        else:
            origin = ""
        status = item.get_status_display()
        if item.is_overdue(day):
            status += "（逾期）"
        yield [
            n,
            item.get_source_display(),
            origin,
            item.unit.name + ("" if item.lead else "（配合）"),
            item.category,
            item.problem,
            item.requirement,
            item.due_on,
            item.answer,
            status,
            item.closed_on,
        ]
