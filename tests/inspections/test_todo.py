"""Rectification items on the landing page's to-do list (reports/todo.py): the unit sees
what it must answer, by due date, overdue first; the city sees answers awaiting 销号."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from inspections import services
from inspections.models import RectificationItem

from .conftest import at


@pytest.fixture(autouse=True)
def _june_16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XC_TODAY", "2019-06-16")


def todo(user: Any) -> str:
    client = Client()
    client.force_login(user)
    page = client.get("/").content.decode()
    m = re.search(r'<section class="card todo".*?</section>', page, re.S)
    return m.group(0) if m else ""


def test_a_unit_sees_its_open_items_with_due_dates_overdue_first(
    xz_item: RectificationItem, feedback: Any, xuanzhou_staff: Any
) -> None:
    section = todo(xuanzhou_staff)
    # The 暗访 finding was due 6月10日 (overdue on 6-16); the feedback item 6月12日.
    first = section.index("宣州区三户家庭未收到资助告知单")
    second = section.index("部分县区资助存在漏助错助")
    assert first < second
    assert "2019年6月10日" in section
    assert f"/inspections/items/{xz_item.pk}/" in section
    assert "郎溪县建平镇" not in section  # another county's finding


def test_a_returned_item_shows_the_citys_reason(
    xz_item: RectificationItem, xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    with at("2019-06-01"):
        services.item_answer(user=xuanzhou_staff, item=xz_item, answer="已补发")
    assert "宣州区三户家庭" in todo(city_reviewer)  # awaiting 销号 on the city's list
    assert "宣州区三户家庭" not in todo(xuanzhou_staff)  # answered: nothing to do
    with at("2019-06-02"):
        services.item_return(user=city_reviewer, item=xz_item, comment="缺少签收记录")
    section = todo(xuanzhou_staff)
    assert "被退回" in section and "缺少签收记录" in section


def test_a_closed_item_leaves_both_lists(
    xz_item: RectificationItem, xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    with at("2019-06-01"):
        services.item_answer(user=xuanzhou_staff, item=xz_item, answer="已补发")
        services.item_close(user=city_reviewer, item=xz_item)
    assert "宣州区三户家庭" not in todo(city_reviewer)
    assert "宣州区三户家庭" not in todo(xuanzhou_staff)
