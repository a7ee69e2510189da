"""Children's personal data: masked by default, revealed one record at a time with a reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tasks.models import County, PersonalDataAccess, RosterSnapshot, RosterStudent
from xc_fupin.lib.idnumber import make_id_number

from ..factories import make_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def student(xuanzhou_school: Any) -> RosterStudent:
    snap = RosterSnapshot.objects.create(as_of=dt.date(2019, 3, 1))
    idn = make_id_number("341802", dt.date(2012, 5, 1), 7)
    return RosterStudent.objects.create(
        id_number=idn,
        name="王小明",
        gender="男",
        birth_date=dt.date(2012, 5, 1),
        county=County.objects.get(slug="xuanzhou"),
        school=xuanzhou_school,
        stage="小学",
        snapshot=snap,
    )


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_reveal_needs_a_reason_and_is_logged(student: RosterStudent, xuanzhou_staff: Any) -> None:
    client = client_for(xuanzhou_staff)
    url = f"/reveal/tasks.RosterStudent/{student.pk}/"
    assert "王小明" not in client.get(url).content.decode()
    refused = client.post(url, {"reason": ""}).content.decode()
    assert "请填写查看事由" in refused and "王小明" not in refused
    assert not PersonalDataAccess.objects.exists()
    shown = client.post(url, {"reason": "联系家长送达告知单"}).content.decode()
    assert "王小明" in shown and student.id_number in shown
    log = PersonalDataAccess.objects.get()
    assert (log.user, log.kind, log.target, log.reason) == (
        xuanzhou_staff,
        "reveal",
        f"tasks.RosterStudent#{student.pk}",
        "联系家长送达告知单",
    )


def test_another_county_cannot_reveal_and_leaves_no_log(
    student: RosterStudent, langxi_staff: Any
) -> None:
    response = client_for(langxi_staff).post(
        f"/reveal/tasks.RosterStudent/{student.pk}/", {"reason": "好奇看看"}
    )
    assert response.status_code == 404
    assert "王小明" not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_without_the_permission_nothing_is_revealed(student: RosterStudent, leader: Any) -> None:
    page = (
        client_for(leader)
        .post(f"/reveal/tasks.RosterStudent/{student.pk}/", {"reason": "领导查看"})
        .content.decode()
    )
    assert "您没有查看完整个人信息的权限" in page and "王小明" not in page


def test_models_without_personal_fields_cannot_be_revealed(xuanzhou_staff: Any) -> None:
    entry = make_entry(5, "xuanzhou-jtj", xuanzhou_staff)
    assert (
        client_for(xuanzhou_staff).get(f"/reveal/tasks.LedgerEntry/{entry.pk}/").status_code == 404
    )


def test_the_back_link_never_leaves_the_site(student: RosterStudent, xuanzhou_staff: Any) -> None:
    page = (
        client_for(xuanzhou_staff)
        .get(f"/reveal/tasks.RosterStudent/{student.pk}/?next=javascript:alert(1)")
        .content.decode()
    )
    assert "javascript:" not in page
