"""The main flow in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.models import LedgerEntry

from .browser import login, shot

pytestmark = pytest.mark.browser


def test_log_in_open_the_board_and_record_a_ledger_entry(
    page: Any, live_server: Any, xuanzhou_staff: Any, transactional_db: Any
) -> None:
    login(page, live_server, xuanzhou_staff)
    page.wait_for_selector("text=宣城市2019年教育助学脱贫工作计划")
    assert page.locator("table.board tbody tr").count() == 22
    shot(page, "board")
    page.click("#task-5 a")
    page.wait_for_selector("text=按月统计、审核、汇总、上报")
    page.click("text=填报台账")
    page.fill("#id_period", "2019-05")
    page.select_option("#id_status", "done")
    page.fill("#id_narrative", "5月资助进展已统计上报。")
    page.set_input_files(
        "#id_evidence",
        files=[{"name": "报表.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}],
    )
    shot(page, "ledger_form")
    page.click("button[type=submit]")
    page.wait_for_selector("text=已保存：宣州区教体局 2019年05月 任务5台账")
    shot(page, "task_detail")
    entry = LedgerEntry.objects.get()
    assert entry.narrative == "5月资助进展已统计上报。" and entry.evidence.count() == 1


def test_a_missing_status_shows_a_chinese_message_in_the_browser(
    page: Any, live_server: Any, xuanzhou_staff: Any, transactional_db: Any
) -> None:
    login(page, live_server, xuanzhou_staff)
    page.goto(f"{live_server.url}/tasks/3/ledger/new/")
    page.fill("#id_narrative", "未选状态")
    page.click("button[type=submit]")
    page.wait_for_selector("text=进展状态：请选择进展状态。")
    shot(page, "ledger_form_error")
    assert not LedgerEntry.objects.exists()
