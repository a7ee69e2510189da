"""The plan board is cached per day and rebuilt when the plan or the ledger changes
(tasks/board.py): a submitted entry, a renamed unit show on the next page view."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks import services
from tasks.models import LedgerEntry, Task


@pytest.fixture
def real_cache(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "b"}
    }
    from django.core.cache import cache

    cache.clear()


def _chip(html: str, task: int) -> str:
    row = html.split(f'id="task-{task}"', 1)[1].split("</tr>", 1)[0]
    return row


def test_the_board_follows_a_ledger_entry_and_a_renamed_unit(
    real_cache: None,
    client: Any,
    xuanzhou_staff: Any,
    city_reviewer: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XC_TODAY", "2019-04-20")  # before the first monthly due date
    task = Task.objects.get(number=5)
    unit = xuanzhou_staff.unit
    client.force_login(city_reviewer)
    before = _chip(client.get("/plan/").content.decode(), 5)
    assert f"{unit.display_name} · 逾期" in before  # the March report, due April 5

    # A second view is served from the cached fragment: the ledger is not read again.
    with CaptureQueriesContext(connection) as queries:
        again = _chip(client.get("/plan/").content.decode(), 5)
    assert again == before
    assert not any("tasks_ledgerentry" in q["sql"] for q in queries.captured_queries)

    services.ledger_entry_submit(
        user=xuanzhou_staff,
        task=task,
        unit=unit,
        period=dt.date(2019, 3, 1),
        status=LedgerEntry.Status.DONE,
        narrative="3月月报已报送。",
    )
    after = _chip(client.get("/plan/").content.decode(), 5)
    assert f"{unit.display_name} · 已完成" in after

    unit.short_name = "宣州教体局"
    unit.save()
    renamed = _chip(client.get("/").content.decode(), 5)
    assert "宣州教体局 · 已完成" in renamed
