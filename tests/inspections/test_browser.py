"""In real Chromium: an inspection finding and a task-1 feedback item go from raised to
overdue (督办) to answered to 销号. The one clock is moved with XC_TODAY, which the live
server (a thread of this process) reads too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from inspections.models import RectificationItem, Status
from reports import services as report_services
from reports.models import Escalation
from tasks.models import Deadline

from ..browser import login, shot

pytestmark = pytest.mark.browser


@contextmanager
def _as(browser: Any, live_server: Any, user: Any, width: int = 1440) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, live_server, user)
    try:
        yield page
    finally:
        context.close()


def test_a_finding_and_a_feedback_item_from_raised_to_closed(
    browser: Any,
    live_server: Any,
    transactional_db: Any,
    request: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reviewer = request.getfixturevalue("city_reviewer")
    county = request.getfixturevalue("xuanzhou_staff")
    url = live_server.url

    # 5-21: the city records the 暗访 with its finding, then the feedback item.
    monkeypatch.setenv("XC_TODAY", "2019-05-21")
    with _as(browser, live_server, reviewer) as page:
        page.goto(f"{url}/inspections/")
        page.click("text=登记明查暗访")
        page.select_option("#id_kind", label="暗访")
        page.fill("#id_visited_on", "2019-05-20")
        page.fill("#id_team", "市教体局暗访组")
        page.fill("#id_places", "宣州区水东镇建档立卡户5户")
        page.select_option("#id_f-0-unit", label="宣州区教体局")
        page.fill("#id_f-0-category", "结果告知")
        page.fill("#id_f-0-problem", "两户家庭未收到春季学期资助告知单")
        page.fill("#id_f-0-requirement", "补发告知单并留存签收记录")
        page.fill("#id_f-0-due_on", "2019-06-10")
        page.click("#inspection-form button.primary")
        page.wait_for_selector("text=已登记暗访，下发整改事项 1 条。")
        page.goto(f"{url}/inspections/")
        page.click("text=登记巡视反馈事项")
        page.fill("#id_number", "1")
        page.fill("#id_text", "部分县区资助资金发放不及时")
        page.fill("#id_measures", "每学期按时足额发放到位")
        page.select_option("#id_lead", label="宣州区教体局")
        page.fill("#id_due_on", "2019-06-12")
        page.click("#feedback-form button.primary")
        page.wait_for_selector("text=已登记反馈意见第1项")
    finding = RectificationItem.objects.get(source="inspection")
    item = RectificationItem.objects.get(source="feedback")

    # Every morning the deadline check runs; by 6-13 both are overdue and escalated.
    for day in ("2019-06-07", "2019-06-11", "2019-06-13"):
        monkeypatch.setenv("XC_TODAY", day)
        report_services.deadlines_check(today=dt.date.fromisoformat(day), send=False)
    escalated = Escalation.objects.filter(
        unit=county.unit, state="open", deadline__kind=Deadline.Kind.RECTIFICATION
    )
    assert {e.deadline.task.number for e in escalated} == {21, 1}

    monkeypatch.setenv("XC_TODAY", "2019-06-14")
    with _as(browser, live_server, county) as page:
        page.goto(f"{url}/reports/inbox/")
        inbox = page.locator("#escalations").inner_text()
        assert "两户家庭未收到春季学期资助告知单" in inbox
        assert "巡视反馈意见第1项" in inbox
        page.goto(f"{url}/inspections/mine/")
        assert page.locator("#items .chip.overdue").count() == 2
        shot(page, "inspections-mine-overdue-1440")
        for it, text in [(finding, "已补发2户告知单并取得签收"), (item, "春季学期资助已全部发放")]:
            page.goto(f"{url}/inspections/items/{it.pk}/")
            assert page.locator("#item-overdue").is_visible()
            page.fill("#id_answer", text)
            page.set_input_files(
                "#id_evidence",
                files=[{"name": "签收记录.pdf", "mimeType": "application/pdf", "buffer": b"%PDF"}],
            )
            page.click("#answer-form button")
            page.wait_for_selector("text=已报告整改情况，等待市局审核销号。")
            assert page.locator("#item-status").inner_text() == "已报告"
        shot(page, "inspections-item-answered-1440")

    monkeypatch.setenv("XC_TODAY", "2019-06-15")
    with _as(browser, live_server, reviewer) as page:
        for it in (finding, item):
            page.goto(f"{url}/inspections/items/{it.pk}/")
            assert "签收记录.pdf" in page.locator("#timeline").inner_text()
            page.check("#review-form input[value=close]")
            page.fill("#review-form textarea", "核实无误，同意销号。")
            page.click("#review-form button")
            page.wait_for_selector("text=已销号。")
            assert page.locator("#item-status").inner_text() == "已销号"
            assert page.locator("#item-overdue").count() == 0
        shot(page, "inspections-item-closed-1440")
        page.goto(f"{url}/inspections/?overdue=on")
        assert "没有符合条件的整改事项" in page.locator("#items").inner_text()
    for it in (finding, item):
        it.refresh_from_db()
        assert it.status == Status.CLOSED and it.closed_on == dt.date(2019, 6, 15)
        assert [e.action for e in it.events.all()] == ["raised", "answered", "closed"]

    # The same pages on a phone: the tables scroll inside their box, not the page.
    with _as(browser, live_server, county, width=390) as page:
        for path, name in [
            ("/inspections/", "list"),
            (f"/inspections/items/{finding.pk}/", "item"),
        ]:
            page.goto(f"{url}{path}")
            shot(page, f"inspections-{name}-390")
            box = page.locator(".card").first.bounding_box()
            assert box is not None and box["x"] + box["width"] <= 390
