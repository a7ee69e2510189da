"""The plan's semesters: `load_plan` alone creates them, and their deadline is the plan's."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from openpyxl import Workbook

from subsidies.imports import StandardsSpec
from subsidies.models import Semester, SubsidyStandard
from tasks.models import Deadline

from .conftest import context, read

pytestmark = pytest.mark.django_db


def test_it_loads_the_two_semesters_of_the_plan_with_task_3s_deadlines(plan: None) -> None:
    semesters = {s.code: s for s in Semester.objects.all()}
    assert sorted(semesters) == ["2019春", "2019秋"]
    assert semesters["2019春"].deadline == dt.date(2019, 6, 15)
    assert semesters["2019秋"].deadline == dt.date(2019, 9, 25)
    assert semesters["2019春"].plan_deadline.task.number == 3
    assert semesters["2019秋"].plan_deadline.label == "2019秋季学期"


def test_a_standards_sheet_for_2019_spring_imports_right_after_load_plan(
    plan: None, admin_user: Any
) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["资助项目", "学段", "适用对象", "学期", "档次", "金额(元)"])
    ws.append(["普通高中国家助学金", "普通高中", "全体", "2019春", "一档", 1250])
    buffer = io.BytesIO()
    wb.save(buffer)
    spec = StandardsSpec()
    ctx = context(admin_user)
    result = spec.validate(read(spec, buffer.getvalue()), ctx)
    assert result.ok, [str(e) for e in result.errors]
    with transaction.atomic():
        spec.apply(result, ctx)
    standard = SubsidyStandard.objects.get(item__name="普通高中国家助学金")
    assert standard.semester is not None
    assert (standard.semester.code, standard.amount) == ("2019春", 1250)


def test_an_admin_edit_of_the_plan_deadline_is_the_semesters_deadline_and_survives_a_reload(
    plan: None,
) -> None:
    row = Deadline.objects.get(task__number=3, label="2019春季学期")
    row.due_on = dt.date(2019, 6, 20)
    row.save()
    assert Semester.objects.get(code="2019春").deadline == dt.date(2019, 6, 20)
    out = io.StringIO()
    call_command("load_plan", stdout=out)
    assert "计划已是最新，未做改动。" in out.getvalue()
    assert Semester.objects.get(code="2019春").deadline == dt.date(2019, 6, 20)
    assert Semester.objects.count() == 2


def test_two_semesters_cannot_share_one_deadline(plan: None) -> None:
    spring = Semester.objects.get(code="2019春")
    with pytest.raises(IntegrityError), transaction.atomic():
        Semester.objects.create(
            code="2020春",
            year=2020,
            term="春",
            start=dt.date(2020, 2, 17),
            end=dt.date(2020, 7, 10),
            plan_deadline=spring.plan_deadline,
        )
