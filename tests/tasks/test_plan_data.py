"""The plan as data, checked against the document itself."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from tasks.models import (
    County,
    CountyCode,
    Deadline,
    Goal,
    Plan,
    Responsibility,
    Task,
    TaskGroup,
    Unit,
)
from tasks.services import plan_load

SOURCE = (Path(__file__).resolve().parents[2] / "fixtures" / "plan_2019_source.txt").read_text(
    encoding="utf-8"
)
SOURCE_LINES = {line.strip() for line in SOURCE.splitlines() if line.strip()}
COUNTIES = [
    "宣州区教体局",
    "郎溪县教体局",
    "广德市教体局",
    "泾县教体局",
    "绩溪县教体局",
    "旌德县教体局",
    "宁国市教体局",
]
SECTIONS = [
    "市教体局计财科",
    "市教体局基教科",
    "市教体局人事科",
    "市教体局职成教科",
    "市电教馆",
    "市教育技术中心",
]

pytestmark = pytest.mark.django_db


def units_of(number: int, lead: bool | None = None) -> list[str]:
    qs = Responsibility.objects.filter(task__number=number).order_by("order")
    if lead is not None:
        qs = qs.filter(lead=lead)
    return [r.unit.name for r in qs.select_related("unit")]


def test_it_holds_the_notice_goals_and_22_tasks_in_six_groups(plan: None) -> None:
    p = Plan.objects.get()
    assert p.doc_number == "教秘计〔2019〕5号"
    assert p.issued_on == dt.date(2019, 3, 19)
    assert p.title == "宣城市2019年教育助学脱贫工作计划"
    assert p.guiding_principle in SOURCE
    assert [g.text for g in Goal.objects.order_by("number")] == [
        "确保建档立卡贫困家庭学生(含幼儿,下同)学段全覆盖、对象无遗漏、标准最高档、结果全告知。",
        "确保义务教育阶段建档立卡贫困家庭适龄儿童少年无因贫失学辍学。",
    ]
    assert list(TaskGroup.objects.values_list("numeral", flat=True)) == list("一二三四五六")
    assert list(Task.objects.values_list("number", flat=True)) == list(range(1, 23))
    assert [
        TaskGroup.objects.get(tasks__number=n).numeral for n in (1, 2, 8, 9, 11, 12, 13, 16, 17, 22)
    ] == list("一二二三三四五五六六")


def test_every_task_text_is_the_documents_word_for_word(plan: None) -> None:
    for task in Task.objects.all():
        line = f"{task.number}、{task.text}" + (f"({task.units_text})" if task.units_text else "")
        # Tasks 13–15 end with "。" after the closing bracket in the document.
        assert line in SOURCE_LINES or line + "。" in SOURCE_LINES, task.number


def test_tasks_2_to_8_take_the_units_of_group_two(plan: None) -> None:
    group = TaskGroup.objects.get(numeral="二")
    assert group.units_text == "责任单位:市教体局计财科,各县市区教体局,市直学校"
    for n in range(2, 9):
        assert Task.objects.get(number=n).units_text == ""
        assert units_of(n) == ["市教体局计财科", *COUNTIES, "市直学校"], n
        assert units_of(n, lead=True) == ["市教体局计财科"]


@pytest.mark.parametrize(
    ("number", "leads", "others"),
    [
        (1, ["市教体局党委"], [*SECTIONS, *COUNTIES, "市直学校"]),
        (9, ["市教体局基教科"], ["市电教馆", *COUNTIES]),
        (10, ["市教体局基教科"], ["市电教馆", "市教体局计财科", *COUNTIES]),
        (12, ["市教体局人事科"], ["市教育技术中心", *COUNTIES]),
        (13, ["市教体局职成教科"], COUNTIES),
        (16, ["市语委办"], [c.replace("教体局", "语委办") for c in COUNTIES]),
        (17, ["市教体局计财科"], []),
        (19, SECTIONS, [*COUNTIES, "市直学校"]),
        (21, SECTIONS, COUNTIES),
        (22, SECTIONS, [*COUNTIES, "市直学校"]),
    ],
)
def test_units_are_in_document_order_with_the_first_named_leading(
    plan: None, number: int, leads: list[str], others: list[str]
) -> None:
    assert units_of(number, lead=True) == leads
    assert units_of(number, lead=False) == others


def test_task_21_names_its_units_without_the_word(plan: None) -> None:
    assert Task.objects.get(number=21).units_text == "市教体局有关科室,各县市区教体局"


def test_deadlines_of_2019(plan: None) -> None:
    t3 = Deadline.objects.filter(task__number=3).order_by("due_on")
    assert [(d.label, d.due_on, d.stated_in_plan) for d in t3] == [
        ("2019春季学期", dt.date(2019, 6, 15), True),
        ("2019秋季学期", dt.date(2019, 9, 25), True),
    ]
    assert Deadline.objects.filter(task__number=5, kind="monthly").count() == 10
    assert Deadline.objects.filter(task__number=17, kind="monthly").count() == 10
    assert list(
        Deadline.objects.filter(task__number=17, kind="quarterly")
        .order_by("due_on")
        .values_list("due_on", flat=True)
    ) == [dt.date(2019, 4, 10), dt.date(2019, 7, 10), dt.date(2019, 10, 10), dt.date(2020, 1, 10)]
    assert Deadline.objects.filter(task__number=7, kind="semester").count() == 2
    assert not Task.objects.filter(deadlines__isnull=True).exists()


def test_counties_keep_their_code_history(plan: None) -> None:
    guangde = County.objects.get(slug="guangde")
    assert sorted(guangde.codes.values_list("code", "name")) == [
        ("341822", "广德县"),
        ("341882", "广德市"),
    ]
    assert guangde.current_code() == "341882"
    assert sorted(CountyCode.objects.filter(is_current=True).values_list("code", flat=True)) == [
        "341802",
        "341821",
        "341823",
        "341824",
        "341825",
        "341881",
        "341882",
    ]
    assert Unit.objects.filter(kind="county_bureau").count() == 7
    assert Unit.objects.filter(kind="county_office").count() == 7
    assert Unit.objects.filter(name="宣城职业技术学院").exists()


def test_loading_twice_changes_nothing_and_keeps_edited_deadlines(plan: None) -> None:
    d = Deadline.objects.get(task__number=3, label="2019春季学期")
    d.due_on = dt.date(2019, 6, 20)
    d.save()
    counts = {
        m: m.objects.count() for m in (Unit, Task, Responsibility, Deadline, Goal, CountyCode)
    }
    result = plan_load()
    assert not result.changed_anything
    assert {m: m.objects.count() for m in counts} == counts
    d.refresh_from_db()
    assert d.due_on == dt.date(2019, 6, 20)
    out = io.StringIO()
    call_command("load_plan", stdout=out)
    assert "未做改动" in out.getvalue()


def test_every_task_line_of_the_document_is_loaded(plan: None) -> None:
    numbered = [
        line
        for line in SOURCE_LINES
        if re.match(r"^\d+、", line) and not line.startswith(("1、确保", "2、确保"))
    ]
    assert len(numbered) == 22
