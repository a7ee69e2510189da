"""The matching page in headless Chromium: a city reviewer presses the button, the job
runs, the results show; the page fits a desktop and a phone."""

from __future__ import annotations

from typing import Any

import pytest

from matching.jobs import roster_match_job

from ..browser import login, shot
from .test_match_roster import world  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.browser


def test_the_city_runs_the_matching_and_reads_it_at_both_widths(
    page: Any,
    live_server: Any,
    transactional_db: Any,
    world: dict[str, Any],  # noqa: F811
    city_reviewer: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No worker in this test: the job runs where it is sent, after the request's commit.
    monkeypatch.setattr(roster_match_job, "delay_on_commit", lambda pk: roster_match_job(pk))
    login(page, live_server, city_reviewer)
    for name, width in (("desktop", 1440), ("phone", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/matching/?semester=2019秋")
        page.wait_for_selector("text=建档立卡名册比对")
        if name == "desktop":
            run_form = "form[action$='/run/']"
            page.select_option(f"{run_form} select[name=semester]", label="2019秋")
            page.click(f"{run_form} button")
            page.wait_for_selector("text=已提交 2019秋（全市）的名册比对")
        page.wait_for_selector("#findings >> text=学籍中无记录")
        assert page.locator("#findings tbody tr").count() == 4
        assert world["people"]["李高一"] not in page.content()
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name}: {wide}px wide"
        shot(page, f"matching_page_{name}")
