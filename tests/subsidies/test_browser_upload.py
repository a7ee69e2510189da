"""A county clerk uploads a messy payment sheet in the browser, previews, confirms, and
the omission list changes accordingly."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook

from subsidies.lookups import semester_rules
from subsidies.models import Disbursement, SubsidyItem
from subsidies.selectors import omission_check
from tasks.scoping import EVERYTHING

from ..browser import login, shot
from .conftest import LIVING, add_student

pytestmark = pytest.mark.browser


def messy_sheet(rows: list[tuple[str, str, str, str]]) -> bytes:
    """The way counties send it: a merged title, a 填报单位 line, alias headers, amounts
    with 元, dates typed as text, a 合计 row and signature lines."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["宣州区2019年春季学期建档立卡学生资助发放明细表"])
    ws.merge_cells("A1:H1")
    ws.append(["填报单位：宣州区教体局（盖章）"])
    ws.append(
        ["序号", "公民身份号码", "学生姓名", "学校", "资助项目", "学期", "发放金额(元)", "发放时间"]
    )
    for n, (ident, name, amount, day) in enumerate(rows, start=1):
        ws.append([n, ident, name, "宣州区实验小学", LIVING, "2019春", amount, day])
    ws.append(["合  计", None, None, None, None, None, f"{len(rows)}笔", None])
    ws.append(["填表人：王某某", None, None, "审核人：李某某", None, "填报日期：2019年6月12日"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_county_uploads_previews_confirms_and_the_omissions_shrink(
    page: Any,
    live_server: Any,
    transactional_db: Any,
    spring: Any,
    xuanzhou_school: Any,
    xuanzhou_staff: Any,
    tmp_path: Any,
) -> None:
    pupils = [
        add_student(xuanzhou_school, n, name=name)
        for n, name in enumerate(["甲一", "乙二", "丙三"], start=1)
    ]
    living = SubsidyItem.objects.get(name=LIVING)
    top = next(
        r.top
        for r in semester_rules(spring)
        if r.item_id == living.pk and r.stage == "小学" and not r.boarding
    )
    missing_before = omission_check(semester=spring, scope=EVERYTHING, kind="missing").total_rows
    sheet = tmp_path / "宣州区春季发放明细.xlsx"
    sheet.write_bytes(
        messy_sheet(
            [
                (pupils[0].id_number.lower(), "甲一", f"{top}元", "2019.6.10"),
                (pupils[1].id_number, "乙二", f"{top:,.2f}", "2019年6月11日"),
            ]
        )
    )

    login(page, live_server, xuanzhou_staff)
    page.goto(f"{live_server.url}/uploads/")
    page.select_option("#id_kind", "disbursements")
    page.fill("#id_period", "2019-06")
    page.set_input_files("#id_file", str(sheet))
    page.click("button[type=submit]")
    page.wait_for_selector("text=校验通过")
    preview = page.content()
    assert "甲*" in preview and "甲一" not in preview  # names masked in the preview
    assert not Disbursement.objects.exists()
    shot(page, "upload_preview")

    page.click("text=确认导入")
    page.wait_for_selector("text=导入完成：2 行已写入")
    shot(page, "upload_applied")
    assert Disbursement.objects.count() == 2

    page.goto(f"{live_server.url}/subsidies/omissions/?semester=2019春&kind=missing")
    after = omission_check(semester=spring, scope=EVERYTHING, kind="missing").total_rows
    assert after == missing_before - 2
    page.wait_for_selector(f"text=明细（共 {after} 条")
    shot(page, "omissions_after_upload")
