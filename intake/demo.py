"""Demo indicator sheets: each county, the 市直学校 coordinator and 计财科 send the values of
their tasks' indicators for April (early May) and May (early June) as a real .xlsx
through the upload pipeline (`intake.replay.demo_upload`), so the task pages, the May
review and the second-quarter circular have totals to show. Nothing is dated after the
demo day (2019-06-16). Safe to re-run: an upload already made is not made again.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from intake.replay import demo_upload
from tasks.demo import sheet
from tasks.models import Indicator, Responsibility, Unit, User

from .indicators import INDICATORS

HEADERS = [c.name for c in INDICATORS.columns]
TZ = dt.timezone(dt.timedelta(hours=8))

#: The demo users who send an indicator sheet (unit code -> username).
SENDERS = {
    "xuanzhou-jtj": "xuanzhou",
    "langxi-jtj": "langxi",
    "guangde-jtj": "guangde",
    "jingxian-jtj": "jingxian",
    "jixi-jtj": "jixi",
    "jingde-jtj": "jingde",
    "ningguo-jtj": "ningguo",
    "city-schools": "shizhi",
    "city-jcc": "reviewer",
}

#: A plausible monthly range per indicator (a county's month); money in 万元.
RANGES: dict[str, tuple[float, float]] = {
    "培训场次": (1, 3),
    "培训人次": (40, 160),
    "参训乡村教师人数": (30, 240),
    "参训乡村校长人数": (3, 25),
    "建档立卡初中毕业生人数": (120, 480),
    "升入中职人数": (40, 160),
    "职业技能培训人次": (150, 700),
    "其中贫困劳动者人次": (20, 110),
    "推普培训人次": (60, 300),
    "投稿篇数": (2, 8),
    "媒体采用篇数": (0, 4),
    "报送信息条数": (3, 10),
    "中央资金": (40, 260),
    "省级资金": (20, 140),
    "市级资金": (8, 50),
    "县级资金": (10, 80),
}
MONTHS = [dt.date(2019, 4, 1), dt.date(2019, 5, 1)]


def _value(rng: random.Random, indicator: Indicator, unit: Unit) -> Decimal:
    low, high = RANGES.get(indicator.name, (1, 10))
    if indicator.measure == "万元":
        return Decimal(str(round(rng.uniform(low, high), 2)))
    if indicator.name == "建档立卡初中毕业生人数":
        # A head count: the same cohort each month, give or take a transfer.
        base = random.Random(unit.pk).randint(int(low), int(high))  # noqa: S311 - demo
        return Decimal(base + rng.randint(0, 3))
    return Decimal(rng.randint(int(low), int(high)))


def _rows(rng: random.Random, sender: Unit, month: dt.date) -> list[list[Any]]:
    """The sheet `sender` sends for `month`: its own units' responsibilities (a county's
    bureau and language office), every indicator of those tasks."""
    units = {u.pk: u for u in Unit.objects.filter(pk=sender.pk)}
    if sender.county_id:
        units.update({u.pk: u for u in Unit.objects.filter(county=sender.county_id)})
    rows: list[list[Any]] = []
    for resp in (
        Responsibility.objects.filter(unit__in=units, task__indicators__is_active=True)
        .select_related("task", "unit")
        .distinct()
        .order_by("task__number", "unit__order")
    ):
        for indicator in resp.task.indicators.filter(is_active=True).order_by("order"):
            value = _value(rng, indicator, resp.unit)
            if indicator.name in ("其中贫困劳动者人次", "媒体采用篇数") and rows:
                value = min(value, Decimal(str(rows[-1][4])))  # part of the line above
            rows.append(
                [
                    resp.unit.name,
                    f"{month.year}年{month.month}月",
                    resp.task.number,
                    indicator.name,
                    float(value),
                ]
            )
    return rows


def seed(stdout: Any) -> None:
    rng = random.Random(201905)  # noqa: S311 - demo data, reproducible on purpose
    made = 0
    for code, username in SENDERS.items():
        unit = Unit.objects.filter(code=code).first()
        user = User.objects.filter(username=username).first()
        if unit is None or user is None:
            continue
        for month in MONTHS:
            rows = _rows(rng, unit, month)
            if not rows:
                continue
            sent = dt.datetime(2019, month.month + 1, 3 + unit.order % 4, 15, 30, tzinfo=TZ)
            upload = demo_upload(
                user=user,
                unit=unit,
                kind=INDICATORS.key,
                period=None,
                name=f"{unit.display_name}{month.month}月任务指标.xlsx",
                content=sheet(HEADERS, rows),
                at=sent,
            )
            made += upload.rows_accepted
    stdout.write(f"演示数据：任务指标数值 {made} 条（4月、5月）。")
