"""The cross-check on a small hand-made data set whose right answer is known."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command

from dropout.models import CaseFinding, CaseStatus, CaseStatusChange, DropoutCase, FindingKind
from dropout.services import case_transition, crosscheck_run

from .builders import LANGXI, enrol, household, kid, roster

AS_OF = dt.date(2019, 10, 15)

# Children of 宣州区 and what the cross-check must say about each.
A_ENROLLED = kid("2010-05-01", 1)
B_MISSING_POOR = kid("2012-03-03", 2)
C_TOO_YOUNG = kid("2013-09-01", 3)
C2_JUST_OF_AGE = kid("2013-08-31", 4)
D_TOO_OLD = kid("2003-08-31", 5)
E_DOUBLE = kid("2009-01-01", 6)
F_DROPPED = kid("2006-02-02", 7)
G_NAME = kid("2008-07-07", 8)
H_ELSEWHERE = kid("2011-11-11", 9)
I_TRANSFERRED_ONLY = kid("2007-04-04", 10)
J_LANGXI_MISSING = kid("2010-01-01", 11, area=LANGXI)
K_SUSPECTED_NOT_IN_HOUSEHOLD = kid("2005-05-05", 12)
L_ROSTER_NAME = kid("2009-09-09", 13)


@pytest.fixture
def registries(xuanzhou_school: Any, xuanzhou_junior: Any, langxi_school: Any) -> None:
    # An older snapshot in which B was still enrolled, and a later one (after the
    # check date) in which B is back: neither counts, only the latest on or before AS_OF.
    enrol(B_MISSING_POOR, "贫困生乙", xuanzhou_school, as_of="2019-09-01")
    enrol(B_MISSING_POOR, "贫困生乙", xuanzhou_school, as_of="2019-11-01")

    for id_number, name in [
        (A_ENROLLED, "在读甲"),
        (B_MISSING_POOR, "贫困生乙"),
        (C_TOO_YOUNG, "幼丙"),
        (C2_JUST_OF_AGE, "适龄丙"),
        (D_TOO_OLD, "超龄丁"),
        (E_DOUBLE, "重复戊"),
        (F_DROPPED, "辍学己"),
        (G_NAME, "王小明"),
        (H_ELSEWHERE, "外县辛"),
        (I_TRANSFERRED_ONLY, "转学壬"),
        (L_ROSTER_NAME, "李四"),
    ]:
        household(id_number, name)
    household(J_LANGXI_MISSING, "郎溪癸", county_slug="langxi")
    # An older household list that still had a child since moved away: not read.
    household(kid("2010-02-02", 99), "旧名单", as_of="2019-03-01")

    enrol(A_ENROLLED, "在读甲", xuanzhou_school)
    enrol(E_DOUBLE, "重复戊", xuanzhou_school)
    enrol(E_DOUBLE, "重复戊", langxi_school)
    enrol(F_DROPPED, "辍学己", xuanzhou_junior, status="辍学")
    enrol(G_NAME, "王晓明", xuanzhou_school)
    enrol(H_ELSEWHERE, "外县辛", langxi_school)
    enrol(I_TRANSFERRED_ONLY, "转学壬", xuanzhou_school, status="转学")
    enrol(K_SUSPECTED_NOT_IN_HOUSEHOLD, "疑似子", xuanzhou_junior, status="疑似辍学")
    enrol(L_ROSTER_NAME, "李四", xuanzhou_school)
    roster(B_MISSING_POOR, "贫困生乙")
    roster(L_ROSTER_NAME, "李思")


def found(outcome: Any) -> set[tuple[str, str]]:
    return {(f.kind, f.id_number) for f in outcome.findings}


def test_it_finds_exactly_the_children_it_should(registries: None, xuanzhou: Any) -> None:
    outcome = crosscheck_run(county=xuanzhou, as_of=AS_OF)
    assert found(outcome) == {
        (FindingKind.NOT_ENROLLED, B_MISSING_POOR),
        (FindingKind.NOT_ENROLLED, C2_JUST_OF_AGE),
        (FindingKind.NOT_ENROLLED, I_TRANSFERRED_ONLY),
        (FindingKind.DOUBLE_ENROLLED, E_DOUBLE),
        (FindingKind.MARKED_DROPOUT, F_DROPPED),
        (FindingKind.MARKED_DROPOUT, K_SUSPECTED_NOT_IN_HOUSEHOLD),
        (FindingKind.NAME_MISMATCH, G_NAME),
        (FindingKind.NAME_MISMATCH, L_ROSTER_NAME),
    }
    assert outcome.cases_opened == 8
    assert outcome.warnings == []


def test_registered_poor_children_come_first_and_their_cases_are_flagged(
    registries: None, xuanzhou: Any
) -> None:
    outcome = crosscheck_run(county=xuanzhou, as_of=AS_OF)
    poor = [f.id_number for f in outcome.findings if f.registered_poor]
    assert set(poor) == {B_MISSING_POOR, L_ROSTER_NAME}
    assert [f.id_number for f in outcome.findings[: len(poor)]] == poor
    assert set(
        DropoutCase.objects.filter(is_registered_poor=True).values_list("id_number", flat=True)
    ) == {
        B_MISSING_POOR,
        L_ROSTER_NAME,
    }


def test_cases_belong_to_the_county_and_record_what_was_found(
    registries: None, xuanzhou: Any, xuanzhou_junior: Any
) -> None:
    crosscheck_run(county=xuanzhou, as_of=AS_OF)
    case = DropoutCase.objects.get(id_number=F_DROPPED)
    assert case.county == xuanzhou
    assert case.school_id == xuanzhou_junior.pk
    assert case.status == CaseStatus.SUSPECTED
    assert case.village == "金宝圩村"
    finding = case.findings.get()
    assert finding.kind == FindingKind.MARKED_DROPOUT
    assert finding.details["status"] == "辍学"
    opening = case.status_changes.get()
    assert (opening.from_status, opening.to_status, opening.changed_by) == (
        "",
        CaseStatus.SUSPECTED,
        None,
    )
    double = DropoutCase.objects.get(id_number=E_DOUBLE).findings.get()
    assert {r["school"] for r in double.details["enrolment"]} == {
        "宣州区实验小学",
        "郎溪县实验小学",
    }


def test_a_second_run_on_the_same_data_creates_nothing(registries: None, xuanzhou: Any) -> None:
    first = crosscheck_run(county=xuanzhou, as_of=AS_OF)
    counts = (
        DropoutCase.objects.count(),
        CaseFinding.objects.count(),
        CaseStatusChange.objects.count(),
    )
    second = crosscheck_run(county=xuanzhou, as_of=AS_OF)
    assert found(second) == found(first)
    assert second.cases_opened == 0
    assert second.findings_recorded == 0
    assert (
        DropoutCase.objects.count(),
        CaseFinding.objects.count(),
        CaseStatusChange.objects.count(),
    ) == counts
    # A later check on unchanged data moves "last seen", still adds nothing.
    crosscheck_run(county=xuanzhou, as_of=AS_OF + dt.timedelta(days=10))
    assert CaseFinding.objects.count() == counts[1]
    assert (
        CaseFinding.objects.filter(last_seen_as_of=AS_OF + dt.timedelta(days=10)).count()
        == counts[1]
    )


def test_a_closed_case_is_not_reopened_by_the_same_finding(
    registries: None, xuanzhou: Any, xuanzhou_staff: Any
) -> None:
    crosscheck_run(county=xuanzhou, as_of=AS_OF)
    case = DropoutCase.objects.get(id_number=C2_JUST_OF_AGE)
    case_transition(
        case=case,
        user=xuanzhou_staff,
        to_status=CaseStatus.CLOSED,
        close_reason="外省就读",
        outcome_date=dt.date(2019, 10, 20),
        note="在浙江省湖州市某小学就读，附学校证明",
    )
    outcome = crosscheck_run(county=xuanzhou, as_of=AS_OF + dt.timedelta(days=30))
    assert (FindingKind.NOT_ENROLLED, C2_JUST_OF_AGE) in found(outcome)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.findings.count() == 1
    assert DropoutCase.objects.filter(id_number=C2_JUST_OF_AGE).count() == 1


def test_the_other_county_sees_its_own_children(registries: None, langxi: Any) -> None:
    outcome = crosscheck_run(county=langxi, as_of=AS_OF)
    assert found(outcome) == {
        (FindingKind.NOT_ENROLLED, J_LANGXI_MISSING),
        # The double enrolment has a 郎溪 school too; the case is one per child.
        (FindingKind.DOUBLE_ENROLLED, E_DOUBLE),
    }


def test_a_county_without_enrolment_data_gets_a_warning_not_every_child(
    plan: None, langxi: Any
) -> None:
    household(J_LANGXI_MISSING, "郎溪癸", county_slug="langxi")
    outcome = crosscheck_run(county=langxi, as_of=AS_OF)
    assert outcome.findings == []
    assert any("尚无" in w for w in outcome.warnings)


def test_the_command_prints_each_finding_and_the_counts(registries: None) -> None:
    out = io.StringIO()
    call_command("crosscheck", "--county", "341802", "--as-of", "2019-10-15", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[-1] == "宣州区 2019-10-15：发现 8 条，新立案 8 件"
    body = lines[:-1]
    assert len(body) == 8
    assert body[0].split("\t")[:3] == ["户籍有、学籍无", B_MISSING_POOR, "贫困生乙"]
    assert body[0].endswith("建档立卡")
    assert f"重复学籍\t{E_DOUBLE}\t重复戊\t宣州区实验小学、郎溪县实验小学" in body
    assert f"学籍标记辍学/疑似辍学\t{F_DROPPED}\t辍学己\t宣州区第一初级中学" in body
    assert f"户籍有、学籍无\t{C2_JUST_OF_AGE}\t适龄丙\t水阳镇金宝圩村" in body
    out = io.StringIO()
    call_command("crosscheck", "--county", "xuanzhou", "--as-of", "2019-10-15", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == "宣州区 2019-10-15：发现 8 条，新立案 0 件"
