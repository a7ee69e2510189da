"""Task indicators: the quantities tasks 4, 12, 13, 15, 16, 19 and 20 report (people
trained, articles placed, money spent), their values per unit and month, and totals.

Values come in two ways — with a unit's monthly ledger entry (the ledger form shows the
task's indicators) or by an indicator sheet (`import_sheet indicators`, intake) — and
are stored once per indicator, unit and month: the latest report of a month replaces
the earlier one, and the history keeps both.

A period's total of an indicator that sums over months (培训人次) is the sum of its
months; of one that does not (建档立卡初中毕业生人数, a head count) it is the latest month's
value in the period. Across units, unit totals add up.

Reads here are plain functions over a `Scope` (the task page passes the user's, the
circular and `export_plan` the whole city); the one write is
`ledger_entry_submit_with_values`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from .models import Indicator, IndicatorValue, LedgerEntry, Task, Unit
from .scoping import EVERYTHING, Scope
from .selectors import plan_current
from .services import ledger_entry_submit

#: The headers of the 指标汇总 sheet of `export_plan`.
SUMMARY_HEADERS = ["任务序号", "指标", "单位", "合计"]


# --- numbers as people read them ------------------------------------------------------


def quantity(value: Decimal | int | float | str | None, measure: str = "") -> str:
    """A value as pages and documents write it: whole numbers without decimals and with
    thousands separators (1,250), money in 万元 always with two decimals (12.50); "—"
    for no value (which is not 0)."""
    if value is None or value == "":
        return "—"
    number = Decimal(str(value))
    if measure == "万元" or number != number.to_integral_value():
        return f"{number:,.2f}"
    return f"{int(number):,}"


def cell(value: Decimal | int | float | str | None) -> int | Decimal | None:
    """A value for a spreadsheet cell: a number (int when whole), never text."""
    if value is None or value == "":
        return None
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else number


def label(indicator: Indicator) -> str:
    return f"{indicator.name}（{indicator.measure}）"


# --- reads ----------------------------------------------------------------------------


def indicators_of(task: Task) -> list[Indicator]:
    """The task's indicators in use, in their order."""
    return list(task.indicators.filter(is_active=True).order_by("order", "pk"))


def year_start(day: dt.date) -> dt.date:
    return day.replace(month=1, day=1)


def plan_months(day: dt.date) -> tuple[dt.date, dt.date]:
    """The months "this year so far" means for the plan: January of the plan's year to
    `day`'s month, or to December once the plan's year is over."""
    plan = plan_current()
    year = plan.year if plan is not None else day.year
    end = min(day.replace(day=1), dt.date(year, 12, 1))
    return dt.date(year, 1, 1), end


def _combine(
    indicators: Mapping[int, Indicator], rows: Iterable[tuple[int, int, dt.date, Decimal]]
) -> dict[tuple[int, int], Decimal]:
    """(indicator id, unit id) -> the period's total for that unit (see the module doc)."""
    sums: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    latest: dict[tuple[int, int], tuple[dt.date, Decimal]] = {}
    for indicator_id, unit_id, period, value in rows:
        key = (indicator_id, unit_id)
        if indicators[indicator_id].sums_over_months:
            sums[key] += value
        elif key not in latest or latest[key][0] < period:
            latest[key] = (period, value)
    return {**sums, **{k: v for k, (_p, v) in latest.items()}}


def _values(
    indicators: Mapping[int, Indicator], start: dt.date, end: dt.date, scope: Scope
) -> Iterable[tuple[int, int, dt.date, Decimal]]:
    return (
        IndicatorValue.objects.for_scope(scope)
        .filter(indicator_id__in=list(indicators), period__gte=start, period__lte=end)
        .values_list("indicator_id", "unit_id", "period", "value")
    )


@dataclass
class IndicatorTotal:
    """One indicator over a period: each unit's total (units with a value only, in the
    plan's unit order) and their sum."""

    indicator: Indicator
    units: list[tuple[Unit, Decimal]] = field(default_factory=list)

    @property
    def total(self) -> Decimal | None:
        return sum((v for _u, v in self.units), Decimal(0)) if self.units else None


def indicator_totals(
    *,
    start: dt.date,
    end: dt.date,
    scope: Scope = EVERYTHING,
    tasks: Sequence[Task] | None = None,
) -> list[IndicatorTotal]:
    """Every indicator in use (of `tasks`, or of the whole plan) with its totals per unit
    for the months from `start` to `end` (both taken as months), within `scope`."""
    qs = Indicator.objects.filter(is_active=True).select_related("task")
    if tasks is not None:
        qs = qs.filter(task__in=tasks)
    indicators = {i.pk: i for i in qs.order_by("task__number", "order", "pk")}
    totals = _combine(indicators, _values(indicators, start.replace(day=1), end, scope))
    units = Unit.objects.in_bulk({u for _i, u in totals})
    ordered_units = sorted(units.values(), key=lambda u: (u.order, u.code))
    out = []
    for indicator in indicators.values():
        row = IndicatorTotal(indicator)
        for unit in ordered_units:
            value = totals.get((indicator.pk, unit.pk))
            if value is not None:
                row.units.append((unit, value))
        out.append(row)
    return out


@dataclass
class TaskTable:
    """The task page's indicator tables: per responsible unit over the period, and per
    month for all the units the user may see."""

    indicators: list[Indicator]
    start: dt.date
    end: dt.date
    unit_rows: list[tuple[Unit, list[Decimal | None]]]
    total_row: list[Decimal | None]
    month_rows: list[tuple[dt.date, list[Decimal | None]]]

    @property
    def headers(self) -> list[str]:
        return [label(i) for i in self.indicators]

    def shown(self, values: list[Decimal | None]) -> list[str]:
        return [quantity(v, i.measure) for v, i in zip(values, self.indicators, strict=True)]

    @property
    def shown_units(self) -> list[tuple[Unit, list[str]]]:
        return [(u, self.shown(v)) for u, v in self.unit_rows]

    @property
    def shown_total(self) -> list[str]:
        return self.shown(self.total_row)

    @property
    def shown_months(self) -> list[tuple[dt.date, list[str]]]:
        return [(m, self.shown(v)) for m, v in self.month_rows]


def task_table(task: Task, *, units: Sequence[Unit], start: dt.date, end: dt.date) -> TaskTable:
    """The indicator tables of one task for the responsible `units` the page shows (the
    caller passes those in the user's scope), months `start` to `end`."""
    indicators = indicators_of(task)
    by_id = {i.pk: i for i in indicators}
    unit_ids = {u.pk for u in units}
    rows = [r for r in _values(by_id, start.replace(day=1), end, EVERYTHING) if r[1] in unit_ids]
    totals = _combine(by_id, rows)
    unit_rows = [(u, [totals.get((i.pk, u.pk)) for i in indicators]) for u in units]
    total_row: list[Decimal | None] = []
    for n, _i in enumerate(indicators):
        got = [v for _u, r in unit_rows if (v := r[n]) is not None]
        total_row.append(sum(got, Decimal(0)) if got else None)
    months: dict[dt.date, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for indicator_id, _unit, period, value in rows:
        months[period][indicator_id] += value
    month_rows = [(m, [months[m].get(i.pk) for i in indicators]) for m in sorted(months)]
    return TaskTable(indicators, start, end, unit_rows, total_row, month_rows)


def summary_rows(day: dt.date) -> list[list[object]]:
    """The 指标汇总 sheet of `export_plan`: one row per indicator in use, its unit of
    measure and the city's total from January of the plan's year to `day`'s month
    (numbers as numbers)."""
    start, end = plan_months(day)
    return [
        [t.indicator.task.number, t.indicator.name, t.indicator.measure, cell(t.total) or 0]
        for t in indicator_totals(start=start, end=end)
    ]


def snapshot(*, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The indicator totals a monthly review or circular keeps in its figures (JSON-ready,
    values as strings so nothing is rounded): each indicator's total for the period and
    from January, in all and per unit."""
    period = {t.indicator.pk: t for t in indicator_totals(start=start, end=end)}
    ytd = indicator_totals(start=year_start(start), end=end)
    out = []
    for year in ytd:
        ind = year.indicator
        now = period[ind.pk]
        this = dict((u.pk, v) for u, v in now.units)
        out.append(
            {
                "task": ind.task.number,
                "code": ind.code,
                "name": ind.name,
                "measure": ind.measure,
                "sums": ind.sums_over_months,
                "total": None if now.total is None else str(now.total),
                "ytd": None if year.total is None else str(year.total),
                "units": [
                    {
                        "unit_id": u.pk,
                        "unit": u.display_name,
                        "total": None if this.get(u.pk) is None else str(this[u.pk]),
                        "ytd": str(v),
                    }
                    for u, v in year.units
                ],
            }
        )
    return out


def stored_values(*, task: Task, unit_id: int, period: dt.date) -> dict[int, Decimal]:
    """What a unit reported for a task's indicators in a month: indicator id -> value."""
    return dict(
        IndicatorValue.objects.filter(
            indicator__task=task, unit_id=unit_id, period=period.replace(day=1)
        ).values_list("indicator_id", "value")
    )


# --- the write ------------------------------------------------------------------------


def ledger_entry_submit_with_values(
    *,
    user: Any,
    task: Task,
    unit: Unit,
    period: dt.date,
    status: str,
    narrative: str,
    values: Mapping[int, Decimal | None],
    files: Sequence[UploadedFile] = (),
    revision_of: LedgerEntry | None = None,
) -> LedgerEntry:
    """`tasks.services.ledger_entry_submit`, and in the same transaction the month's
    indicator values: indicator id -> value; None (a blank field) leaves what is stored.

    Replaces a stored value of the same indicator, unit and month (audited). Raises
    ValidationError (keyed by form field) for what `ledger_entry_submit` refuses, an
    indicator not of this task, or a negative value; then nothing is saved."""
    indicators = {i.pk: i for i in indicators_of(task)}
    for indicator_id, value in values.items():
        if indicator_id not in indicators:
            raise ValidationError(_("指标不属于任务%(n)s。") % {"n": task.number})
        if value is not None and value < 0:
            raise ValidationError({f"indicator_{indicator_id}": _("数值不能为负数。")})
    with transaction.atomic():
        entry = ledger_entry_submit(
            user=user,
            task=task,
            unit=unit,
            period=period,
            status=status,
            narrative=narrative,
            files=files,
            revision_of=revision_of,
        )
        for indicator_id, value in values.items():
            if value is None:
                continue
            # update_or_create locks the row, and a concurrent insert of the same month
            # is retried as an update instead of failing on the unique constraint.
            IndicatorValue.objects.update_or_create(
                indicator_id=indicator_id,
                unit=unit,
                period=entry.period,
                defaults={"value": value, "entry": entry},
            )
    return entry
