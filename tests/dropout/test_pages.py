"""Case pages, transitions and the ledger export, tried as the right and the wrong county."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from dropout.models import CaseStatus, CaseStatusChange, DropoutCase
from dropout.selectors import LEDGER_HEADERS
from dropout.services import case_transition, crosscheck_run, follow_up_record
from tasks.models import PersonalDataAccess
from xc_fupin.lib.idnumber import mask_id_number

from ..factories import PASSWORD
from .builders import LANGXI, enrol, household, kid

TODAY = dt.datetime(2019, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
XZ_CHILD = kid("2010-05-01", 1)
LX_CHILD = kid("2010-06-01", 2, area=LANGXI)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def cases(
    xuanzhou: Any, langxi: Any, xuanzhou_school: Any, langxi_school: Any
) -> dict[str, DropoutCase]:
    enrol(kid("2010-01-01", 50), "在读生", xuanzhou_school)
    enrol(kid("2010-01-01", 51, area=LANGXI), "在读生", langxi_school)
    household(XZ_CHILD, '=HYPERLINK("http://x")')
    household(LX_CHILD, "郎溪童", county_slug="langxi")
    crosscheck_run(county=xuanzhou, as_of=dt.date(2019, 10, 15))
    crosscheck_run(county=langxi, as_of=dt.date(2019, 10, 15))
    return {
        "xuanzhou": DropoutCase.objects.get(id_number=XZ_CHILD),
        "langxi": DropoutCase.objects.get(id_number=LX_CHILD),
    }


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_county_user_gets_404_on_every_page_of_another_countys_case(
    cases: Any, xuanzhou_staff: Any
) -> None:
    client = client_for(xuanzhou_staff)
    other = cases["langxi"].pk
    assert client.get(reverse("dropout:case", args=[other])).status_code == 404
    for name in ("dropout:follow_up", "dropout:move", "dropout:plan"):
        assert (
            client.post(
                reverse(name, args=[other]), {"to_status": "verified", "cause": "因贫"}
            ).status_code
            == 404
        )
    assert DropoutCase.objects.get(pk=other).status == CaseStatus.SUSPECTED
    assert client.get(reverse("dropout:case", args=[cases["xuanzhou"].pk])).status_code == 200


def test_the_county_list_shows_only_its_own_cases_masked(cases: Any, xuanzhou_staff: Any) -> None:
    page = client_for(xuanzhou_staff).get(reverse("dropout:cases")).content.decode()
    assert XZ_CHILD[:4] + "**********" + XZ_CHILD[-4:] in page
    assert XZ_CHILD not in page
    assert LX_CHILD[-4:] not in page
    assert "共 1 件" in page


def test_the_city_sees_every_county(cases: Any, city_reviewer: Any) -> None:
    client = client_for(city_reviewer)
    assert "共 2 件" in client.get(reverse("dropout:cases")).content.decode()
    assert client.get(reverse("dropout:case", args=[cases["langxi"].pk])).status_code == 200
    dashboard = client.get(reverse("dropout:dashboard")).content.decode()
    assert "郎溪县" in dashboard and "宣州区" in dashboard


def sheet_rows(response: Any) -> list[tuple[Any, ...]]:
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


def test_the_export_holds_only_the_users_county_masked_in_the_fixed_columns(
    cases: Any, xuanzhou_staff: Any
) -> None:
    rows = sheet_rows(client_for(xuanzhou_staff).get(reverse("dropout:export")))
    assert list(rows[0]) == LEDGER_HEADERS
    assert len(rows) == 2
    assert rows[1][1] == "宣州区"
    assert rows[1][2] == mask_id_number(XZ_CHILD)
    # A county may reveal one child at a time, not export them all: even with a reason.
    response = client_for(xuanzhou_staff).post(
        reverse("dropout:export"), {"reason": "报送省厅台账"}
    )
    assert sheet_rows(response)[1][2] == mask_id_number(XZ_CHILD)
    assert not PersonalDataAccess.objects.exists()


def test_a_full_export_needs_the_permission_and_a_reason_and_is_logged(
    cases: Any, city_reviewer: Any
) -> None:
    client = client_for(city_reviewer)
    masked = sheet_rows(client.get(reverse("dropout:export")))
    assert len(masked) == 3
    assert {r[2] for r in masked[1:]} == {mask_id_number(XZ_CHILD), mask_id_number(LX_CHILD)}
    page = client.get(reverse("dropout:cases")).content.decode()
    assert 'id="full-export"' in page

    refused = client.post(reverse("dropout:export") + "?status=suspected", {"reason": "看"})
    assert refused.status_code == 302 and "status=suspected" in refused["Location"]
    assert not PersonalDataAccess.objects.exists()

    url = reverse("dropout:export") + f"?county={cases['xuanzhou'].county_id}"
    rows = sheet_rows(client.post(url, {"reason": "报送省厅控辍保学台账"}))
    assert [r[2] for r in rows[1:]] == [XZ_CHILD]
    # The name is a formula in the registry: it stays text in the sheet.
    assert rows[1][3] == '\'=HYPERLINK("http://x")'
    log = PersonalDataAccess.objects.get()
    assert (log.user, log.kind, log.rows, log.reason) == (
        city_reviewer,
        PersonalDataAccess.Kind.EXPORT,
        1,
        "报送省厅控辍保学台账",
    )


def test_the_case_page_is_masked_and_links_to_the_logged_reveal(
    cases: Any, xuanzhou_staff: Any, school_staff: Any
) -> None:
    case = cases["xuanzhou"]
    client = client_for(xuanzhou_staff)
    page_url = reverse("dropout:case", args=[case.pk])
    page = client.get(page_url).content.decode()
    assert XZ_CHILD not in page and mask_id_number(XZ_CHILD) in page
    reveal = reverse("tasks:reveal", args=["dropout.DropoutCase", case.pk])
    assert f'href="{reveal}?next={page_url.replace("/", "%2F")}"' in page
    shown = client.post(f"{reveal}?next={page_url}", {"reason": "联系家长送达告知书"})
    assert XZ_CHILD in shown.content.decode() and page_url in shown.content.decode()
    assert PersonalDataAccess.objects.get().target == f"dropout.DropoutCase#{case.pk}"
    # Another county's child cannot be revealed, nor listed with a link.
    other = reverse("tasks:reveal", args=["dropout.DropoutCase", cases["langxi"].pk])
    assert client.post(other, {"reason": "联系家长送达告知书"}).status_code == 404
    listing = client.get(reverse("dropout:cases")).content.decode()
    assert reveal in listing and other not in listing
    assert (
        "查看完整信息"
        not in client_for(school_staff).get(reverse("dropout:cases")).content.decode()
    )


def test_a_school_user_sees_no_household_cases(cases: Any, school_staff: Any) -> None:
    client = client_for(school_staff)
    assert client.get(reverse("dropout:case", args=[cases["xuanzhou"].pk])).status_code == 404
    rows = list(
        load_workbook(io.BytesIO(client.get(reverse("dropout:export")).content)).active.iter_rows(
            values_only=True
        )
    )
    assert len(rows) == 1


def test_a_skipped_step_is_refused_with_a_clear_message(cases: Any, xuanzhou_staff: Any) -> None:
    case = cases["xuanzhou"]
    client = client_for(xuanzhou_staff)
    response = client.post(
        reverse("dropout:move", args=[case.pk]), {"to_status": "returned"}, follow=True
    )
    page = response.content.decode()
    assert "不能从“疑似”改为“已复学”" in page
    assert "允许的下一步：核实、已核销" in page
    case.refresh_from_db()
    assert case.status == CaseStatus.SUSPECTED
    assert CaseStatusChange.objects.filter(case=case).count() == 1


def test_a_case_cannot_go_back_or_leave_a_finished_state(
    cases: Any, xuanzhou_staff: Any, xuanzhou_school: Any
) -> None:
    from django.core.exceptions import ValidationError

    case = cases["xuanzhou"]
    case_transition(case=case, user=xuanzhou_staff, to_status=CaseStatus.VERIFIED, cause="因贫")
    with pytest.raises(ValidationError, match="不能从“核实”改为“疑似”"):
        case_transition(case=case, user=xuanzhou_staff, to_status=CaseStatus.SUSPECTED)
    with pytest.raises(ValidationError, match="帮扶措施和责任人"):
        case_transition(case=case, user=xuanzhou_staff, to_status=CaseStatus.PERSUADING)
    with pytest.raises(ValidationError) as refused:
        case_transition(case=case, user=xuanzhou_staff, to_status=CaseStatus.CLOSED)
    assert "核销须选择原因" in str(refused.value) and "佐证材料" in str(refused.value)
    case_transition(
        case=case,
        user=xuanzhou_staff,
        to_status=CaseStatus.HOME_TEACHING,
        outcome_date=dt.date(2019, 11, 1),
    )
    with pytest.raises(ValidationError, match="状态不能再变更"):
        case_transition(
            case=case,
            user=xuanzhou_staff,
            to_status=CaseStatus.RETURNED,
            outcome_school=xuanzhou_school,
            outcome_date=dt.date(2019, 11, 2),
        )
    history = list(
        case.status_changes.values_list("from_status", "to_status", "changed_by__username")
    )
    assert history == [
        ("", "suspected", None),
        ("suspected", "verified", "xuanzhou_staff"),
        ("verified", "home_teaching", "xuanzhou_staff"),
    ]


def test_overdue_and_stale_cases_are_flagged_on_the_list_and_dashboard(
    cases: Any, xuanzhou_staff: Any
) -> None:
    case = cases["xuanzhou"]
    DropoutCase.objects.filter(pk=case.pk).update(opened_on=dt.date(2019, 11, 1))
    client = client_for(xuanzhou_staff)
    assert 'class="chip overdue"' not in client.get(reverse("dropout:cases")).content.decode()
    follow_up_record(
        case=case,
        user=xuanzhou_staff,
        kind="家访",
        happened_on=dt.date(2019, 11, 5),
        notes="家长答应送孩子返校",
        next_due=dt.date(2019, 11, 12),
    )
    page = client.get(reverse("dropout:cases") + "?attention=on").content.decode()
    assert "下次跟进已逾期" in page and "共 1 件" in page
    DropoutCase.objects.filter(pk=case.pk).update(
        next_follow_up_due=None, last_follow_up_on=dt.date(2019, 10, 1)
    )
    assert (
        '<span class="chip overdue">30天未跟进</span>'
        in client.get(reverse("dropout:cases")).content.decode()
    )
    dashboard = client.get(reverse("dropout:dashboard")).content.decode()
    assert 'class="chip overdue"' in dashboard


def test_a_follow_up_is_recorded_and_sets_the_next_due_date(
    cases: Any, xuanzhou_staff: Any
) -> None:
    case = cases["xuanzhou"]
    client = client_for(xuanzhou_staff)
    response = client.post(
        reverse("dropout:follow_up", args=[case.pk]),
        {
            "kind": "送教上门",
            "happened_on": "2019-11-18",
            "notes": "送教",
            "next_due": "2019-11-25",
        },
        follow=True,
    )
    assert "送教上门须填写课时" in response.content.decode()
    client.post(
        reverse("dropout:follow_up", args=[case.pk]),
        {
            "kind": "送教上门",
            "happened_on": "2019-11-18",
            "hours": "3",
            "notes": "送教",
            "next_due": "2019-11-25",
        },
    )
    case.refresh_from_db()
    assert (case.last_follow_up_on, case.next_follow_up_due) == (
        dt.date(2019, 11, 18),
        dt.date(2019, 11, 25),
    )
    assert "3.0 课时" in client.get(reverse("dropout:case", args=[case.pk])).content.decode()


def test_a_leader_may_look_but_not_change(cases: Any, leader: Any) -> None:
    client = client_for(leader)
    assert client.get(reverse("dropout:case", args=[cases["xuanzhou"].pk])).status_code == 200
    assert (
        client.post(
            reverse("dropout:move", args=[cases["xuanzhou"].pk]), {"to_status": "verified"}
        ).status_code
        == 403
    )
