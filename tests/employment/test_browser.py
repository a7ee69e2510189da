"""A county adds a one-to-one guidance record in real headless Chromium, and the graduate
leaves the 30-day list."""

from __future__ import annotations

from typing import Any

import pytest

from employment.models import Graduate
from tasks.clock import today
from xc_fupin.lib.idnumber import mask_id_number

from ..browser import login, shot
from .test_ledger import ROWS, ident, rows

pytestmark = pytest.mark.browser


def test_a_county_records_guidance_and_the_flag_goes(
    page: Any,
    live_server: Any,
    transactional_db: Any,
    xuanzhou_staff: Any,
    xuanzhou_vocational: Any,
    import_sheet: Any,
) -> None:
    assert import_sheet(rows())[0]
    never = Graduate.objects.get(id_number=ident(4))
    flagged_before = Graduate.objects.without_guidance(today())

    login(page, live_server, xuanzhou_staff)
    page.goto(f"{live_server.url}/employment/")
    page.wait_for_selector("text=建档立卡学生就业台账")
    assert page.locator("#graduates tbody tr").count() == len(ROWS)
    page.check("input[name=flagged]")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#graduates tbody tr.flagged")
    assert page.locator("#graduates tbody tr").count() == flagged_before.count()
    shot(page, "employment_ledger_flagged")
    page.click(f"text={mask_id_number(never.id_number)}")
    page.wait_for_selector("#flag")
    assert never.id_number not in page.content()  # masked

    page.fill("#guidance-add input[name=given_on]", "2019-06-15")
    page.fill("#guidance-add input[name=adviser]", "汪老师")
    page.fill("#guidance-add textarea[name=content]", "电话回访，推荐县人社局招聘会岗位两个")
    page.fill("#guidance-add textarea[name=next_step]", "跟进面试结果")
    page.fill("#guidance-add input[name=next_on]", "2019-06-29")
    page.click("#guidance-add button[type=submit]")
    page.wait_for_selector("text=已记录2019-06-15的就业指导")
    assert "电话回访，推荐县人社局招聘会岗位两个" in page.inner_text("#guidance-records")
    assert page.locator("#flag").count() == 0
    shot(page, "employment_graduate_guided")

    page.goto(f"{live_server.url}/employment/?flagged=on")
    assert mask_id_number(never.id_number) not in page.inner_text("#graduates")
    never.refresh_from_db()
    assert str(never.last_guidance_on) == "2019-06-15"
