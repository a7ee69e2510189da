"""Demo data for the demo clock (XC_TODAY=2019-06-16): an 暗访 in May with three findings
in 宣州 and 郎溪 (one overdue, one answered, one 销号) and two feedback items of the
task-1 整改方案. Each step goes through the services on the day it happened (the one
clock is set to that day), so the timeline, the audit history and the deadline check see
the same dates; steps after the current clock are left out. Safe to re-run."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tasks import clock
from tasks.models import Unit, User

from . import services
from .models import Feedback, Inspection, RectificationItem, Status

TEAM = "市教体局暗访组（计财科、基教科）"
VISITED = dt.date(2019, 5, 20)


@contextmanager
def _on(day: dt.date) -> Iterator[None]:
    old = os.environ.get("XC_TODAY")
    os.environ["XC_TODAY"] = day.isoformat()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("XC_TODAY", None)
        else:
            os.environ["XC_TODAY"] = old


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% demo evidence\n", "application/pdf")


def _inspection(reviewer: Any, end: dt.date) -> int:
    if end < VISITED:
        return 0
    xuanzhou = Unit.objects.get(code="xuanzhou-jtj")
    langxi = Unit.objects.get(code="langxi-jtj")
    school = Unit.objects.filter(code="school-xuanzhou-1").first() or xuanzhou
    F = services.FindingData
    inspection = Inspection.objects.filter(team=TEAM, visited_on=VISITED).first()
    made = 0 if inspection else 1
    with _on(dt.date(2019, 5, 21)):
        inspection = inspection or services.inspection_create(
            user=reviewer,
            kind=Inspection.Kind.UNANNOUNCED,
            visited_on=VISITED,
            team=TEAM,
            places="宣州区水东镇、杨柳镇建档立卡户10户及两所学校；郎溪县建平镇中心学校",
            units=[xuanzhou, langxi, school],
            note="不打招呼、直奔现场，随机入户核查资助政策落实和控辍保学情况。",
            findings=[
                F(
                    xuanzhou,
                    "结果告知",
                    "抽查的10户建档立卡家庭中有3户未收到2019年春季学期资助告知单",
                    "6月10日前完成全区告知单发放情况排查，补发告知单并留存签收记录",
                    dt.date(2019, 6, 10),
                ),
                F(
                    langxi,
                    "台账资料",
                    "建平镇中心学校资助台账缺少2019年春季学期发放签字表",
                    "补齐发放签字表，按学期装订资助档案",
                    dt.date(2019, 6, 30),
                ),
                F(
                    school,
                    "控辍保学",
                    "学校未建立建档立卡学生缺课跟踪记录",
                    "建立缺课当日跟踪登记制度，连续缺课3天以上报县教体局",
                    dt.date(2019, 6, 5),
                ),
            ],
        )
    items = {i.unit.code: i for i in inspection.items.select_related("unit")}
    langxi_user = User.objects.filter(username="langxi").first()
    school_user = (
        User.objects.filter(username="school", unit=school).first()
        or User.objects.filter(username="xuanzhou").first()
    )
    school_item, langxi_item = items[school.code], items[langxi.code]
    # (day, item, the state it must be in, what happens): a re-run skips what is done.
    steps: list[tuple[dt.date, RectificationItem, str, Callable[[], object]]] = []
    if school_user is not None:
        steps.append(
            (
                dt.date(2019, 6, 3),
                school_item,
                Status.OPEN,
                lambda: services.item_answer(
                    user=school_user,
                    item=school_item,
                    answer="已建立缺课当日跟踪登记表，班主任每日上报，连续缺课3天以上即报县教体局。",
                    files=[_pdf("缺课跟踪登记制度.pdf")],
                ),
            )
        )
        steps.append(
            (
                dt.date(2019, 6, 6),
                school_item,
                Status.ANSWERED,
                lambda: services.item_close(
                    user=reviewer, item=school_item, comment="制度和登记表已核实，同意销号。"
                ),
            )
        )
    if langxi_user is not None:
        steps.append(
            (
                dt.date(2019, 6, 12),
                langxi_item,
                Status.OPEN,
                lambda: services.item_answer(
                    user=langxi_user,
                    item=langxi_item,
                    answer="已补齐2019年春季学期发放签字表，资助档案按学期装订归档。",
                    files=[_pdf("建平镇中心学校发放签字表.pdf")],
                ),
            )
        )
    for day, item, status, step in steps:
        item.refresh_from_db()
        if day <= end and item.status == status:
            with _on(day):
                step()
    return made


FEEDBACK = [
    (
        1,
        "部分县区建档立卡贫困家庭学生资助存在漏助、错助，资助资金发放不及时。",
        "开展资助对象全面比对和查遗补漏，每学期资助资金在规定时限内发放到位，建立问题清单逐项销号。",
        ["city-jcc", "xuanzhou-jtj", "langxi-jtj"],
        dt.date(2019, 6, 30),
    ),
    (
        2,
        "控辍保学动态监测机制不健全，对疑似辍学学生跟踪劝返不及时。",
        "建立学籍、户籍比对的动态监测机制，落实“一生一案”，按月报送劝返复学进展。",
        ["city-jjk", "langxi-jtj"],
        dt.date(2019, 6, 14),
    ),
]


def _feedback(reviewer: Any, end: dt.date) -> int:
    made = 0
    raised = dt.date(2019, 4, 25)
    if end < raised:
        return 0
    for number, text, measures, codes, due in FEEDBACK:
        if Feedback.objects.filter(number=number).exists():
            continue
        with _on(raised):
            services.feedback_create(
                user=reviewer,
                number=number,
                text=text,
                measures=measures,
                units=[Unit.objects.get(code=c) for c in codes],
                due_on=due,
            )
        made += 1
    return made


def seed(stdout: Any) -> None:
    reviewer = User.objects.filter(username="reviewer").first()
    if reviewer is None:
        stdout.write("明查暗访演示：没有演示审核员（reviewer），跳过。")
        return
    end = clock.today()
    made = _inspection(reviewer, end) + _feedback(reviewer, end)
    open_items = RectificationItem.objects.exclude(status="closed").count()
    stdout.write(f"明查暗访演示：新增记录 {made} 条；未销号整改事项 {open_items} 条。")
