"""Pages show only what the user can do: no button or form a role cannot use, and
本单位 lists only the user's own items."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tasks.models import LedgerEntry

from .conftest import ledger

MAY = dt.date(2019, 5, 1)


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def returned_entries(xuanzhou_staff: Any, langxi_staff: Any, city_reviewer: Any) -> None:
    for author, code in ((xuanzhou_staff, "xuanzhou-jtj"), (langxi_staff, "langxi-jtj")):
        entry = ledger(5, code, author, MAY)
        LedgerEntry.objects.filter(pk=entry.pk).update(
            review=LedgerEntry.Review.RETURNED,
            review_comment="请补充佐证。",
            reviewed_by=city_reviewer,
        )


def test_the_leader_sees_no_correction_or_entry_buttons_on_my_unit(
    returned_entries: None, leader: Any
) -> None:
    page = client_for(leader).get("/mine/").content.decode()
    assert "更正后重新提交" not in page
    assert "/ledger/new/" not in page
    assert "被退回待更正" not in page


def test_the_leader_sees_no_upload_form(leader: Any) -> None:
    page = client_for(leader).get("/uploads/").content.decode()
    assert 'enctype="multipart/form-data"' not in page and "上传并校验" not in page
    assert "只能查看上传记录" in page


def test_a_county_still_gets_its_upload_form(xuanzhou_staff: Any) -> None:
    assert "上传并校验" in client_for(xuanzhou_staff).get("/uploads/").content.decode()


def test_the_reviewer_my_unit_lists_no_other_units_returned_items(
    returned_entries: None, city_reviewer: Any
) -> None:
    page = client_for(city_reviewer).get("/mine/").content.decode()
    assert "被退回待更正" not in page and "更正后重新提交" not in page


def test_a_county_my_unit_lists_only_its_own_returned_items(
    returned_entries: None, xuanzhou_staff: Any
) -> None:
    page = client_for(xuanzhou_staff).get("/mine/").content.decode()
    assert page.count("更正后重新提交") == 1
    assert "宣州区" in page and "郎溪县" not in page.split("被退回待更正")[1].split("</section>")[0]


def test_only_the_reporting_unit_sees_the_correction_button_on_the_task_page(
    returned_entries: None, city_reviewer: Any, xuanzhou_staff: Any
) -> None:
    reviewer_page = client_for(city_reviewer).get("/tasks/5/").content.decode()
    assert (
        "更正后重新提交" not in reviewer_page
    )  # 宣州区's and 郎溪县's entries, not the reviewer's
    county_page = client_for(xuanzhou_staff).get("/tasks/5/").content.decode()
    assert county_page.count("更正后重新提交") == 1
