"""The cross-check reads the poverty office's list too (issue 11 item 5): a registered poor
child of compulsory age with no record that holds a place opens a case even where no
household list was uploaded; 流失, 下落不明 and 其他离校 are findings like 辍学."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dropout.models import CaseFinding, CaseStatusChange, DropoutCase, FindingKind
from dropout.services import crosscheck_run, crosscheck_run_many
from tasks.models import County

from .builders import LANGXI, enrol, kid, poor_member

AS_OF = dt.date(2019, 10, 15)

P_OUT = kid("2010-04-04", 21, area=LANGXI)  # poor, of age, no record at all
P_LEFT = kid("2009-05-05", 22, area=LANGXI)  # poor, only record 转学: holds no place
P_IN_SCHOOL = kid("2011-06-06", 23, area=LANGXI)  # poor, 在读
P_SUSPENDED = kid("2008-07-07", 24, area=LANGXI)  # poor, 休学: holds a place
P_YOUNG = kid("2013-09-01", 25, area=LANGXI)  # poor, not yet of age (September 1 rule)
P_OFF_POLICY = kid("2010-08-08", 26, area=LANGXI)  # 已脱贫（不再享受政策）


def found(outcome: Any) -> set[tuple[str, str]]:
    return {(f.kind, f.id_number) for f in outcome.findings}


@pytest.fixture
def poverty_only(langxi_school: Any) -> None:
    """郎溪县: a registry and a poverty list, no household list."""
    enrol(P_LEFT, "转出甲", langxi_school, status="转学")
    enrol(P_IN_SCHOOL, "在读乙", langxi_school)
    enrol(P_SUSPENDED, "休学丙", langxi_school, status="休学")
    poor_member(P_OUT, "失学丁", county_slug="langxi")
    poor_member(P_LEFT, "转出甲", county_slug="langxi")
    poor_member(P_IN_SCHOOL, "在读乙", county_slug="langxi")
    poor_member(P_SUSPENDED, "休学丙", county_slug="langxi")
    poor_member(P_YOUNG, "幼戊", county_slug="langxi", school_status="学龄前儿童")
    poor_member(
        P_OFF_POLICY, "脱贫己", county_slug="langxi", poverty_status="已脱贫（不再享受政策）"
    )


def test_a_poor_child_out_of_school_opens_a_case_without_a_household_list(
    poverty_only: None, langxi: Any
) -> None:
    outcome = crosscheck_run(county=langxi, as_of=AS_OF)
    assert found(outcome) == {
        (FindingKind.POOR_NOT_ENROLLED, P_OUT),
        (FindingKind.POOR_NOT_ENROLLED, P_LEFT),
    }
    assert outcome.cases_opened == 2
    case = DropoutCase.objects.get(id_number=P_OUT)
    assert case.county == langxi
    assert case.is_registered_poor
    assert (case.name, case.township, case.village) == ("失学丁", "狸桥镇", "新田村")
    assert case.status_changes.get().from_status == ""
    assert case.findings.get().get_kind_display() == "建档立卡、学籍无"
    # The missing household list is still said.
    assert any("户籍名单" in w for w in outcome.warnings)


def test_a_second_run_changes_nothing(poverty_only: None, langxi: Any) -> None:
    crosscheck_run(county=langxi, as_of=AS_OF)
    counts = (
        DropoutCase.objects.count(),
        CaseFinding.objects.count(),
        CaseStatusChange.objects.count(),
        DropoutCase.history.count(),
        CaseFinding.history.count(),
    )
    again = crosscheck_run(county=langxi, as_of=AS_OF)
    assert (again.cases_opened, again.findings_recorded) == (0, 0)
    assert (
        DropoutCase.objects.count(),
        CaseFinding.objects.count(),
        CaseStatusChange.objects.count(),
        DropoutCase.history.count(),
        CaseFinding.history.count(),
    ) == counts


def test_another_county_does_not_see_the_poor_children_of_langxi(
    poverty_only: None, xuanzhou_school: Any, xuanzhou: Any, langxi: Any
) -> None:
    enrol(kid("2010-01-01", 1), "宣州甲", xuanzhou_school)
    outcome = crosscheck_run(county=xuanzhou, as_of=AS_OF)
    assert outcome.findings == []
    assert not DropoutCase.objects.exists()
    # The whole city in one pass puts them under 郎溪县.
    outcomes = crosscheck_run_many(counties=list(County.objects.order_by("order")), as_of=AS_OF)
    by_county = {o.run.county_id: found(o) for o in outcomes}
    assert by_county[langxi.pk] == {
        (FindingKind.POOR_NOT_ENROLLED, P_OUT),
        (FindingKind.POOR_NOT_ENROLLED, P_LEFT),
    }
    assert by_county[xuanzhou.pk] == set()
    assert set(DropoutCase.objects.values_list("county_id", flat=True)) == {langxi.pk}


def test_no_registry_no_poverty_finding(plan: None, langxi: Any) -> None:
    """Without the county's registry nobody can be said to be out of school."""
    poor_member(P_OUT, "失学丁", county_slug="langxi")
    outcome = crosscheck_run(county=langxi, as_of=AS_OF)
    assert outcome.findings == []
    assert any("学籍数据" in w for w in outcome.warnings)


@pytest.mark.parametrize("status", ["流失", "下落不明", "其他离校", "辍学", "疑似辍学"])
def test_each_out_of_school_status_is_a_finding(
    status: str, xuanzhou_school: Any, xuanzhou: Any
) -> None:
    child = kid("2009-03-03", 31)
    enrol(child, "离校庚", xuanzhou_school, status=status)
    outcome = crosscheck_run(county=xuanzhou, as_of=AS_OF)
    assert found(outcome) == {(FindingKind.MARKED_DROPOUT, child)}
    finding = DropoutCase.objects.get(id_number=child).findings.get()
    assert finding.details["status"] == status
    assert finding.details["school"] == xuanzhou_school.name
