"""The omission check on a small roster whose right answer is known."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from subsidies.selectors import OmissionFilters, omission_check, semester_figures
from tasks.models import County
from tasks.scoping import EVERYTHING, user_scope

from .conftest import add_student, ident, pay


@pytest.fixture
def roster(spring: Any, xuanzhou_school: Any, langxi_school: Any) -> dict[str, Any]:
    a = add_student(xuanzhou_school, 1, name="安安", boarding=True)
    b = add_student(xuanzhou_school, 2, name="贝贝")
    c = add_student(xuanzhou_school, 3, name="春春", boarding=True)
    d = add_student(xuanzhou_school, 4, name="丁丁")
    e = add_student(langxi_school, 5, name="鹅鹅")
    pay(a.id_number, a.name, xuanzhou_school, spring, "500", dt.date(2019, 6, 10))
    pay(c.id_number, c.name, xuanzhou_school, spring, "250", dt.date(2019, 6, 1))
    pay(d.id_number, d.name, xuanzhou_school, spring, "250", dt.date(2019, 6, 20))
    outsider = ident("xuanzhou", 99)
    pay(outsider, "方方", xuanzhou_school, spring, "250", dt.date(2019, 6, 5))
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "outsider": outsider}


def names(report: Any) -> set[str]:
    return {r.name for r in report.rows}


def test_each_finding_is_found_once_and_payments_off_the_roster_are_listed_apart(
    roster: Any, spring: Any
) -> None:
    report = omission_check(semester=spring, scope=EVERYTHING)
    assert report.totals == {"missing": 2, "below": 1, "late": 1, "unowed": 0, "offroster": 1}
    assert names(report) == {"贝贝", "鹅鹅", "春春", "丁丁"}
    assert names(omission_check(semester=spring, scope=EVERYTHING, kind="missing")) == {
        "贝贝",
        "鹅鹅",
    }
    below = omission_check(semester=spring, scope=EVERYTHING, kind="below").rows
    assert [(r.name, r.amount, r.top) for r in below] == [("春春", 250, 500)]
    assert names(omission_check(semester=spring, scope=EVERYTHING, kind="late")) == {"丁丁"}
    apart = omission_check(semester=spring, scope=EVERYTHING, kind="offroster").rows
    assert [(r.name, r.school_name) for r in apart] == [("方方", "宣州区实验小学")]


def test_counts_are_per_county(roster: Any, spring: Any) -> None:
    report = omission_check(semester=spring, scope=EVERYTHING)
    counts = {c.county_name: c.counts for c in report.by_county}
    assert counts["宣州区"] == {"missing": 1, "below": 1, "late": 1, "unowed": 0, "offroster": 1}
    assert counts["郎溪县"]["missing"] == 1


def test_a_county_user_sees_only_their_own_county(
    roster: Any, spring: Any, xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    mine = omission_check(semester=spring, scope=user_scope(xuanzhou_staff))
    assert names(mine) == {"贝贝", "春春", "丁丁"}
    assert [c.county_name for c in mine.by_county] == ["宣州区"]
    theirs = omission_check(semester=spring, scope=user_scope(langxi_staff))
    assert names(theirs) == {"鹅鹅"}
    assert theirs.totals["offroster"] == 0


def test_filters_narrow_the_list(roster: Any, spring: Any) -> None:
    langxi = County.objects.get(slug="langxi")
    assert names(
        omission_check(
            semester=spring, scope=EVERYTHING, filters=OmissionFilters(county_id=langxi.pk)
        )
    ) == {"鹅鹅"}
    assert (
        names(
            omission_check(semester=spring, scope=EVERYTHING, filters=OmissionFilters(stage="初中"))
        )
        == set()
    )


def test_a_roster_student_paid_an_item_not_owed_at_their_stage_is_listed_apart(
    roster: Any, spring: Any, xuanzhou_school: Any
) -> None:
    pay(
        roster["a"].id_number,
        "安安",
        xuanzhou_school,
        spring,
        "1250",
        dt.date(2019, 6, 1),
        item="普通高中国家助学金",
    )
    report = omission_check(semester=spring, scope=EVERYTHING)
    assert report.totals["unowed"] == 1
    assert report.totals["missing"] == 2


def test_paying_the_omission_removes_it(roster: Any, spring: Any, xuanzhou_school: Any) -> None:
    pay(roster["b"].id_number, "贝贝", xuanzhou_school, spring, "250", dt.date(2019, 6, 12))
    assert names(omission_check(semester=spring, scope=EVERYTHING, kind="missing")) == {"鹅鹅"}


def test_the_semester_figures_state_the_four_promises(roster: Any, spring: Any) -> None:
    figures = semester_figures(semester=spring, scope=EVERYTHING)
    total = figures[-1]
    assert (total.students, total.owed_students, total.complete_students) == (5, 5, 3)
    assert total.coverage_rate == 60.0
    assert (total.paid_pairs, total.top_pairs) == (3, 2)
    assert total.late_payments == 1
    assert total.informed_rate == 0.0


def test_the_command_prints_one_line_per_omission_and_the_count(
    roster: Any, spring: Any, tmp_path: Any
) -> None:
    out = io.StringIO()
    call_command(
        "omissions", "--semester", "2019春", "--xlsx", str(tmp_path / "o.xlsx"), stdout=out
    )
    lines = out.getvalue().strip().splitlines()
    assert lines[-1] == "共 4 条"
    assert len(lines) == 5
    assert any("遗漏" in line and "贝*" in line for line in lines)
    sheet = load_workbook(tmp_path / "o.xlsx").active
    assert sheet.max_row == 5


def test_the_command_filters_by_county_code(roster: Any, spring: Any) -> None:
    out = io.StringIO()
    call_command("omissions", "--semester", "2019春", "--county", "341821", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == "共 1 条"
