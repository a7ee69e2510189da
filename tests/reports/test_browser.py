"""The reviewer's month page and a county's inbox in real headless Chromium."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reports import services
from reports.models import Escalation

from ..browser import login, shot
from .conftest import pay, student, unit, upload

pytestmark = pytest.mark.browser


def test_a_county_opens_its_inbox_and_answers_an_escalation(
    page: Any,  # noqa: F811
    live_server: Any,
    transactional_db: Any,
    request: Any,  # noqa: F811
) -> None:
    spring = request.getfixturevalue("spring")
    school = request.getfixturevalue("xz_school")
    staff = request.getfixturevalue("xuanzhou_staff")
    request.getfixturevalue("city_reviewer")
    for i in range(3):
        s = student(school, i)
        if i == 0:
            pay(s, spring)
    upload(unit("xuanzhou-jtj"), "disbursements", dt.date(2019, 5, 1), on="2019-06-03", rows=12)
    services.deadlines_check(today=dt.date(2019, 6, 16))
    login(page, live_server, staff)
    page.goto(f"{live_server.url}/reports/inbox/")
    page.wait_for_selector("text=督办单")
    assert page.locator("#escalations tbody tr").count() >= 1
    assert "宣州区：2 名建档立卡学生 2019春 资助未发放到位" in page.content()
    shot(page, "reports-inbox")
    page.click("#escalations tbody tr a >> nth=0")
    page.fill("#id_text", "已于6月20日补发2名学生资助，并建立月度核对制度。")
    page.set_input_files(
        "#id_file",
        files=[{"name": "整改报告.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}],
    )
    page.click("#answer-form button")
    page.wait_for_selector("text=整改报告已报送")
    shot(page, "reports-escalation-answered")
    assert Escalation.objects.filter(unit__code="xuanzhou-jtj", state="answered").exists()


def test_the_reviewer_sees_every_unit_for_the_month(
    page: Any,  # noqa: F811
    live_server: Any,
    transactional_db: Any,
    request: Any,  # noqa: F811
) -> None:
    reviewer = request.getfixturevalue("city_reviewer")
    staff = request.getfixturevalue("xuanzhou_staff")
    upload(unit("xuanzhou-jtj"), "disbursements", dt.date(2019, 5, 1), on="2019-06-03", rows=12)
    upload(unit("xuanzhou-jtj"), "enrolment", dt.date(2019, 5, 1), on="2019-06-03", rows=0)
    services.submission_submit(
        user=staff,
        unit=unit("xuanzhou-jtj"),
        period=dt.date(2019, 5, 1),
        narrative="5月资助发放已汇总。",
    )
    login(page, live_server, reviewer)
    page.goto(f"{live_server.url}/reports/submissions/2019-05/")
    page.wait_for_selector("#submissions")
    assert page.locator("#submissions tbody tr").count() == 9
    shot(page, "reports-submissions")
    page.fill("#unit-xuanzhou-jtj input[name=comment]", "请附签字盖章封面。")
    page.click("#unit-xuanzhou-jtj >> text=退回")
    page.wait_for_selector("text=已退回")
    assert "退回" in page.locator("#unit-xuanzhou-jtj").inner_text()
