"""A county user cannot read or change another county's ledger: by URL, form or admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tasks.models import LedgerEntry, LedgerEvidence, Unit
from tasks.scoping import user_scope

from ..factories import PASSWORD, make_entry

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def langxi_entry(langxi_staff: Any) -> LedgerEntry:
    entry = make_entry(5, "langxi-jtj", langxi_staff, narrative="郎溪县内部情况")
    LedgerEvidence.objects.create(
        entry=entry, file=SimpleUploadedFile("a.pdf", b"secret"), original_name="a.pdf", size=6
    )
    return entry


def test_another_countys_entry_is_not_shown_on_the_task_page(
    xuanzhou_staff: Any, langxi_entry: LedgerEntry
) -> None:
    page = login(xuanzhou_staff).get("/tasks/5/").content.decode()
    assert "郎溪县内部情况" not in page
    # The city sees it.


def test_the_city_sees_every_county(city_reviewer: Any, langxi_entry: LedgerEntry) -> None:
    assert "郎溪县内部情况" in login(city_reviewer).get("/tasks/5/").content.decode()


def test_another_countys_evidence_is_not_downloadable(
    xuanzhou_staff: Any, langxi_entry: LedgerEntry
) -> None:
    evidence = langxi_entry.evidence.get()
    assert login(xuanzhou_staff).get(f"/evidence/{evidence.pk}/").status_code == 404
    assert Client().get(f"/evidence/{evidence.pk}/").status_code == 302  # to the login page


def test_a_county_cannot_report_for_another_county_by_form(xuanzhou_staff: Any) -> None:
    langxi = Unit.objects.get(code="langxi-jtj")
    response = login(xuanzhou_staff).post(
        "/tasks/5/ledger/new/",
        {"unit": langxi.pk, "period": "2019-05", "status": "done", "narrative": "冒名"},
    )
    assert "所选单位不是本任务中您可以填报的单位" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_a_county_cannot_revise_or_review_another_countys_entry(
    xuanzhou_staff: Any, langxi_entry: LedgerEntry
) -> None:
    client = login(xuanzhou_staff)
    assert client.get(f"/tasks/5/ledger/new/?revise={langxi_entry.pk}").status_code == 404
    assert (
        client.post(f"/ledger/{langxi_entry.pk}/review/", {"decision": "accept"}).status_code == 404
    )
    langxi_entry.refresh_from_db()
    assert langxi_entry.review == "pending"


def test_the_admin_is_scoped_too(xuanzhou_staff: Any, langxi_entry: LedgerEntry) -> None:
    # Even a county user given admin access and full ledger permissions sees only their county.
    xuanzhou_staff.is_staff = True
    xuanzhou_staff.save()
    xuanzhou_staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_ledgerentry", "change_ledgerentry"])
    )
    own = make_entry(5, "xuanzhou-jtj", xuanzhou_staff, narrative="宣州区情况")
    client = login(xuanzhou_staff)
    changelist = client.get("/admin/tasks/ledgerentry/").content.decode()
    assert "宣州区教体局" in changelist and "郎溪县教体局" not in changelist
    assert client.get(f"/admin/tasks/ledgerentry/{own.pk}/change/").status_code == 200
    other = client.get(f"/admin/tasks/ledgerentry/{langxi_entry.pk}/change/", follow=True)
    assert "郎溪县内部情况" not in other.content.decode()
    client.post(
        f"/admin/tasks/ledgerentry/{langxi_entry.pk}/change/",
        {"narrative": "被改了", "status": "done"},
    )
    langxi_entry.refresh_from_db()
    assert langxi_entry.narrative == "郎溪县内部情况"


def test_scopes_by_unit_kind(
    xuanzhou_staff: Any, school_staff: Any, leader: Any, city_reviewer: Any
) -> None:
    assert user_scope(city_reviewer).sees_all and user_scope(leader).sees_all
    assert user_scope(xuanzhou_staff).county_id == xuanzhou_staff.unit.county_id
    assert user_scope(school_staff).unit_ids == frozenset({school_staff.unit_id})
    assert user_scope(None).sees_nothing


def test_anonymous_users_are_sent_to_login(plan: None) -> None:
    for url in ["/", "/tasks/1/", "/mine/", "/plan/breakdown.xlsx", "/tasks/1/ledger/new/"]:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith(
            "/accounts/login/"
        ), url
