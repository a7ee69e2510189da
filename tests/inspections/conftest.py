from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from inspections import services
from inspections.models import Feedback, Inspection, RectificationItem
from tasks.models import Unit

RAISED = dt.datetime(2019, 5, 21, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def at(day: str, hour: int = 9) -> Any:
    """Freeze the one clock on `day` (Asia/Shanghai)."""
    return time_machine.travel(
        dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00"), tick=False
    )


@pytest.fixture
def inspection(city_reviewer: Any) -> Inspection:
    """An 暗访 on 2019-05-20: one finding for 宣州区 (due 6-10), one for 郎溪县 (due 6-30)."""
    xuanzhou = Unit.objects.get(code="xuanzhou-jtj")
    langxi = Unit.objects.get(code="langxi-jtj")
    with at("2019-05-21"):
        return services.inspection_create(
            user=city_reviewer,
            kind=Inspection.Kind.UNANNOUNCED,
            visited_on=dt.date(2019, 5, 20),
            team="市教体局暗访组",
            places="宣州区水东镇；郎溪县建平镇",
            units=[xuanzhou],
            findings=[
                services.FindingData(
                    xuanzhou,
                    "结果告知",
                    "宣州区三户家庭未收到资助告知单",
                    "补发告知单并留存签收记录",
                    dt.date(2019, 6, 10),
                ),
                services.FindingData(
                    langxi,
                    "台账资料",
                    "郎溪县建平镇中心学校缺少发放签字表",
                    "补齐发放签字表",
                    dt.date(2019, 6, 30),
                ),
            ],
        )


@pytest.fixture
def xz_item(inspection: Inspection) -> RectificationItem:
    return inspection.items.get(unit__code="xuanzhou-jtj")


@pytest.fixture
def lx_item(inspection: Inspection) -> RectificationItem:
    return inspection.items.get(unit__code="langxi-jtj")


@pytest.fixture
def feedback(city_reviewer: Any) -> Feedback:
    """Task-1 feedback item 1: 计财科 leads, 宣州区 and 郎溪县 rectify too; due 6-12."""
    with at("2019-04-25"):
        return services.feedback_create(
            user=city_reviewer,
            number=1,
            text="部分县区资助存在漏助错助、资金发放不及时",
            measures="全面比对查遗补漏，按时发放到位",
            units=[Unit.objects.get(code=c) for c in ("city-jcc", "xuanzhou-jtj", "langxi-jtj")],
            due_on=dt.date(2019, 6, 12),
        )
