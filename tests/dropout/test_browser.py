"""Work a case from 疑似 to 已复学 in real headless Chromium, then see it on the city dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dropout.models import CaseStatus, DropoutCase
from dropout.services import crosscheck_run
from tasks.clock import today

from ..browser import login, shot
from .builders import enrol, household, kid, roster

pytestmark = pytest.mark.browser

# Ten years old whatever the real date (the live server cannot run on a frozen clock).
CHILD = kid(f"{today().year - 10}-05-01", 1)


def test_a_county_works_a_case_from_suspected_to_returned(
    page: Any,  # noqa: F811 - the fixture imported above
    live_server: Any,
    transactional_db: Any,
    xuanzhou_staff: Any,
    city_reviewer: Any,
    xuanzhou_school: Any,
    xuanzhou: Any,
) -> None:
    as_of = today() - dt.timedelta(days=1)
    enrol(kid(f"{as_of.year - 9}-01-01", 50), "在读生", xuanzhou_school, as_of=as_of.isoformat())
    household(CHILD, "陈小雨", as_of=as_of.isoformat())
    roster(CHILD, "陈小雨")
    crosscheck_run(county=xuanzhou, as_of=as_of)
    case = DropoutCase.objects.get(id_number=CHILD)

    login(page, live_server, xuanzhou_staff)
    page.goto(f"{live_server.url}/dropout/")
    page.wait_for_selector("text=控辍保学 · 一生一案")
    page.wait_for_selector("#dropout-status-chart canvas")
    shot(page, "dropout_dashboard_county")
    page.click("text=个案列表")
    page.wait_for_selector("table.cases")
    assert page.locator("table.cases tbody tr").count() == 1
    shot(page, "dropout_case_list")
    page.click("table.cases tbody tr a")
    page.wait_for_selector("#case-status")
    assert page.inner_text("#case-status") == "疑似"
    # Masked; county staff see who the child is through the logged reveal, then return.
    assert CHILD not in page.content()
    case_url = page.url
    page.click("#reveal-link")
    page.fill("input[name=reason]", "入户核实前联系家长")
    page.click("button[type=submit]")
    page.wait_for_selector(f"text={CHILD}")
    shot(page, "dropout_reveal")
    page.click("text=返回")
    page.wait_for_selector("#case-status")
    assert page.url == case_url

    # 核实, with the cause.
    page.select_option("#move select[name=to_status]", "verified")
    page.select_option("#move select[name=cause]", "因贫")
    page.fill("#move textarea[name=note]", "入户核实：家庭困难，已两周未到校。")
    page.click("#move button[type=submit]")
    page.wait_for_selector("text=个案状态已改为“核实”")

    # Persuasion needs the plan first: refused with a clear message, then done right.
    page.select_option("#move select[name=to_status]", "persuading")
    page.click("#move button[type=submit]")
    page.wait_for_selector("text=开始劝返前须先填写帮扶措施和责任人")
    shot(page, "dropout_refused")
    page.click("#plan-edit summary")
    page.fill("#plan-edit textarea[name=measures]", "落实生活补助；班主任每周家访。")
    page.fill("#plan-edit input[name=responsible_person]", "王老师")
    page.click("#plan-edit button[type=submit]")
    page.wait_for_selector("text=已保存帮扶方案")
    page.select_option("#move select[name=to_status]", "persuading")
    page.click("#move button[type=submit]")
    page.wait_for_selector("text=个案状态已改为“劝返中”")

    page.select_option("#follow-up select[name=kind]", "家访")
    page.fill("#follow-up textarea[name=notes]", "家长同意下周一送孩子返校。")
    page.fill("#follow-up input[name=next_due]", (today() + dt.timedelta(days=7)).isoformat())
    page.click("#follow-up button[type=submit]")
    page.wait_for_selector("text=已记录家访")

    page.select_option("#move select[name=to_status]", "returned")
    page.select_option("#move select[name=outcome_school]", label="宣州区实验小学")
    page.fill("#move input[name=outcome_date]", today().isoformat())
    page.fill("#move textarea[name=note]", "已返校。")
    page.click("#move button[type=submit]")
    page.wait_for_selector("text=个案状态已改为“已复学”")
    assert page.inner_text("#case-status") == "已复学"
    assert page.locator(".timeline li").count() == 6  # finding, 4 status changes... and the visit
    shot(page, "dropout_case_returned")
    case.refresh_from_db()
    assert case.status == CaseStatus.RETURNED

    page.click("text=退出")
    login(page, live_server, city_reviewer)
    page.goto(f"{live_server.url}/dropout/")
    page.wait_for_selector("#dropout-status-chart canvas")
    row = page.locator("#county-table tbody tr", has_text="宣州区")
    assert row.locator("td").nth(4).inner_text() == "1"  # 已复学
    shot(page, "dropout_dashboard_city")
