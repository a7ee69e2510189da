"""The indicator sheet (`import_sheet indicators FILE`, or the upload page): the values
units report for the tasks' indicators (tasks/indicators.py), one row per unit, month,
task and indicator.

Columns 单位, 月份 (2019-05 or 2019年5月), 任务序号, 指标, 数值. Rules beyond the cells:
the unit is the uploader's (the city may upload for any unit), the month is not after
today, the unit is responsible for the task, the indicator is one of the task's, and a
unit, month and indicator appear once in the file. A value already stored for the
month is replaced (audited, the history keeps the old one); the same value again is
skipped, so uploading a sheet twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from tasks import clock
from tasks.indicators import quantity
from tasks.models import Indicator, IndicatorValue, Responsibility
from tasks.scoping import Scope

from .base import ImportContext, ValidationResult
from .columns import Column, Month, Quantity, TaskParser, Text, UnitParser, compact
from .specs import DeclarativeSpec, FirstSeen, Row
from .writer import bulk_write


class _State:
    """What the rules need, loaded once per file."""

    def __init__(self, ctx: ImportContext) -> None:
        self.scope: Scope = ctx.scope
        self.today = clock.today()
        self.responsible: set[tuple[int, int]] = set(
            Responsibility.objects.values_list("task_id", "unit_id")
        )
        self.indicators: dict[int, dict[str, Indicator]] = defaultdict(dict)
        for indicator in Indicator.objects.filter(is_active=True).order_by("order", "pk"):
            self.indicators[indicator.task_id][compact(indicator.name)] = indicator


class IndicatorsSpec(DeclarativeSpec):
    key = "indicators"
    title = "任务指标数值"
    permission = "tasks.add_indicatorvalue"
    area = "indicators"
    columns: ClassVar[Sequence[Column]] = [
        Column("单位", ("填报单位", "单位名称", "责任单位"), parser=UnitParser()),
        Column("月份", ("填报月份", "统计月份", "所属月份"), parser=Month()),
        Column("任务序号", ("任务", "任务编号", "任务号"), parser=TaskParser()),
        Column("指标", ("指标名称", "统计指标"), parser=Text(50, blank="指标为空")),
        Column("数值", ("数量", "指标值", "完成数", "数据"), parser=Quantity()),
    ]
    example: ClassVar[dict[str, object]] = {
        "单位": "宣州区教体局",
        "月份": "2019-05",
        "任务序号": 4,
        "指标": "培训人次",
        "数值": 120,
    }

    def dropdowns(self) -> dict[str, list[str]]:
        drops = super().dropdowns()
        drops["指标"] = list(
            dict.fromkeys(
                Indicator.objects.filter(is_active=True)
                .order_by("task__number", "order")
                .values_list("name", flat=True)
            )
        )
        return drops

    def prepare(self, ctx: ImportContext) -> _State:
        return _State(ctx)

    def check_row(self, row: Row, state: _State) -> dict[str, Any] | None:
        unit, month, task = row["单位"], row["月份"], row["任务序号"]
        name = row["指标"]
        if unit is not None and not state.scope.covers(county_id=unit.county_id, unit_id=unit.pk):
            # Says only that the row is outside the uploader's scope: no unit, no value.
            row.error("单位", _("不属于本单位的管辖范围，不能上传"))
            return None
        if month is not None and month > state.today:
            row.error(
                "月份",
                _("%(m)s 晚于当前月份，不能填报以后月份的数值")
                % {"m": f"{month.year}年{month.month}月"},
            )
        if task is not None and unit is not None and (task.pk, unit.pk) not in state.responsible:
            row.error(
                "任务序号",
                _("%(unit)s不是任务%(n)d的责任单位，不能填报该任务的指标")
                % {"unit": unit.name, "n": task.number},
            )
        indicator = None
        if task is not None and name:
            known = state.indicators.get(task.pk, {})
            indicator = known.get(compact(name))
            if indicator is None and known:
                row.error(
                    "指标",
                    _("任务%(n)d没有指标“%(v)s”（可填：%(allowed)s）")
                    % {
                        "n": task.number,
                        "v": name,
                        "allowed": "、".join(i.name for i in known.values()),
                    },
                )
            elif indicator is None:
                row.error("指标", _("任务%(n)d没有需要填报的指标") % {"n": task.number})
        if not row.ok or indicator is None:
            return None
        return {
            "unit_id": unit.pk,
            "unit": unit.name,
            "period": month,
            "task": task.number,
            "indicator_id": indicator.pk,
            "indicator": indicator.name,
            "measure": indicator.measure,
            "value": row["数值"],
        }

    def check_rows(
        self, rows: list[tuple[int, dict[str, Any]]], result: ValidationResult, state: _State
    ) -> None:
        seen = FirstSeen()
        fresh: list[tuple[int, dict[str, Any]]] = []
        for number, clean in rows:
            first = seen.check((clean["unit_id"], clean["period"], clean["indicator_id"]), number)
            if first is not None:
                result.error(
                    number,
                    "指标",
                    _("与第%(r)d行重复：同一单位同一月份同一指标只能填一行") % {"r": first},
                )
            else:
                fresh.append((number, clean))
        stored = _stored(fresh)
        for number, clean in fresh:
            key = (clean["indicator_id"], clean["unit_id"], clean["period"])
            if stored.get(key) == clean["value"]:
                result.skip(number, _("与已报数值相同，跳过"))
            else:
                result.accept(number, clean)

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        written = bulk_write(
            IndicatorValue,
            [(r["indicator_id"], r["unit_id"], r["period"], r["value"]) for r in result.rows],
            fields=["indicator_id", "unit_id", "period", "value"],
            conflict=["indicator_id", "unit_id", "period"],
            mode="upsert",
            update=["value"],
            # A value from a sheet replaces one reported with a ledger entry: the entry no
            # longer carries it.
            constants={"entry_id": None, "updated_at": clock.now()},
        )
        return {_("新增指标数值"): written.inserted, _("更新指标数值"): written.updated}

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        return [
            clean["unit"],
            f"{clean['period'].year}年{clean['period'].month}月",
            str(clean["task"]),
            clean["indicator"],
            quantity(clean["value"], clean["measure"]),
        ]


def _stored(rows: list[tuple[int, dict[str, Any]]]) -> dict[tuple[int, int, dt.date], Decimal]:
    """The values already stored for the rows' indicators, units and months."""
    if not rows:
        return {}
    values = [clean for _n, clean in rows]
    qs = IndicatorValue.objects.filter(
        indicator_id__in={v["indicator_id"] for v in values},
        unit_id__in={v["unit_id"] for v in values},
        period__in={v["period"] for v in values},
    ).values_list("indicator_id", "unit_id", "period", "value")
    return {(i, u, p): value for i, u, p, value in qs}


INDICATORS = IndicatorsSpec()
