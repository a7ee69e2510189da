"""The main flow in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.models import LedgerEntry

from .factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("XC_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page: Any, live_server: Any, user: Any) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


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
