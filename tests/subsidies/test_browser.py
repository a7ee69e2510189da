"""The dashboard and the omission page in headless Chromium, with screenshots."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ..browser import login, shot
from .conftest import add_student, pay

pytestmark = pytest.mark.browser


def test_the_city_sees_the_charts_and_drills_down_from_an_omission_to_the_student(
    page: Any,
    live_server: Any,
    city_reviewer: Any,
    spring: Any,
    xuanzhou_school: Any,
    langxi_school: Any,
    transactional_db: Any,  # noqa: F811
) -> None:
    for n in range(1, 7):
        student = add_student(
            xuanzhou_school if n % 2 else langxi_school, n, name=f"测试{n}", boarding=n % 3 == 0
        )
        if n % 4:
            pay(
                student.id_number,
                student.name,
                xuanzhou_school if n % 2 else langxi_school,
                spring,
                "250",
                dt.date(2019, 6, 10 + n),
            )
    login(page, live_server, city_reviewer)
    page.goto(f"{live_server.url}/subsidies/?semester=2019春")
    page.wait_for_selector("#chart-counties canvas")
    page.wait_for_selector("#chart-stages canvas")
    assert "对象无遗漏" in page.inner_text("#kpi-coverage")
    shot(page, "subsidies_dashboard")
    page.click("#kpi-missing a")
    page.wait_for_selector("#omission-rows")
    assert page.locator("#omission-rows tbody tr").count() >= 1
    shot(page, "subsidies_omissions")
    page.locator("#omission-rows tbody tr a").first.click()
    page.wait_for_selector("#payments")
    assert "个人信息默认脱敏显示" in page.content()
    shot(page, "subsidies_student")
