"""In real Chromium: a county picks a task, its unit and a period on the archive page,
downloads the .zip, and finds the evidence files and the Chinese table of contents."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from tasks import services
from tasks.models import LedgerEntry, Task, Unit

from ..browser import login, shot

pytestmark = pytest.mark.browser


def test_a_county_downloads_the_archive_of_a_task_and_unit(
    browser: Any,
    live_server: Any,
    transactional_db: Any,
    request: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    county = request.getfixturevalue("xuanzhou_staff")
    monkeypatch.setenv("XC_TODAY", "2019-06-16")
    unit = Unit.objects.get(code="xuanzhou-jtj")
    task = Task.objects.get(number=5)
    services.ledger_entry_submit(
        user=county,
        task=task,
        unit=unit,
        period=dt.date(2019, 5, 1),
        status=LedgerEntry.Status.DONE,
        narrative="五月资助统计按时上报",
        files=[SimpleUploadedFile("五月统计表.pdf", b"%PDF-1.4 may", "application/pdf")],
    )
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1440, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        login(page, live_server, county)
        page.click("text=检查档案")
        page.select_option("#id_task", value=str(task.pk))
        page.select_option("#id_unit", label=unit.display_name)
        page.fill("#id_start", "2019-04")
        page.fill("#id_end", "2019-05")
        page.click("button:has-text('查看')")
        assert page.locator("text=五月资助统计按时上报").is_visible()
        assert "4月" in page.inner_text("#archive-gaps")  # April has no entry
        shot(page, "archive-county")
        with page.expect_download() as info:
            page.click("#archive-zip")
        download = info.value
        assert download.suggested_filename.endswith(".zip")
        assert "任务5" in download.suggested_filename
        data = open(download.path(), "rb").read()
    finally:
        context.close()
    zf = zipfile.ZipFile(io.BytesIO(data))
    rows = list(load_workbook(io.BytesIO(zf.read("目录.xlsx"))).worksheets[0].values)
    assert rows[0][:7] == ("序号", "类别", "任务", "单位", "月份", "文件名/说明", "状态")
    (path,) = [r[7] for r in rows if r[5] == "五月统计表.pdf"]
    assert zf.read(path) == b"%PDF-1.4 may"
    assert ("缺报", "2019年4月", "未填报") in [(r[1], r[4], r[6]) for r in rows]
