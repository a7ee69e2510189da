"""Task indicators as plan data, reported with the ledger entry, totalled on the task page."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from tasks.models import Indicator, IndicatorValue, LedgerEntry, Unit

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db

#: The plan's default indicators by task, as the issue lists them.
DEFAULTS = {
    4: ["培训场次", "培训人次"],
    12: ["参训乡村教师人数", "参训乡村校长人数"],
    13: ["建档立卡初中毕业生人数", "升入中职人数"],
    15: ["职业技能培训人次", "其中贫困劳动者人次"],
    16: ["推普培训人次"],
    19: ["投稿篇数", "媒体采用篇数", "报送信息条数"],
    20: ["中央资金", "省级资金", "市级资金", "县级资金"],
}


def login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def cells(html: str, table_id: str) -> list[list[str]]:
    """The text of each row of a table on the page (tags stripped)."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)
        ]
        for r in rows
    ]


def test_load_plan_loads_the_default_indicators_once(plan: None) -> None:
    got: dict[int, list[str]] = {}
    for i in Indicator.objects.select_related("task").order_by("task__number", "order"):
        got.setdefault(i.task.number, []).append(i.name)
    assert got == DEFAULTS
    assert set(Indicator.objects.filter(task__number=20).values_list("measure", flat=True)) == {
        "万元"
    }
    assert not Indicator.objects.get(name="建档立卡初中毕业生人数").sums_over_months
    out = io.StringIO()
    call_command("load_plan", stdout=out)
    assert "计划已是最新，未做改动" in out.getvalue()


def test_load_plan_never_overwrites_what_an_administrator_changed(plan: None) -> None:
    Indicator.objects.filter(name="培训场次").update(name="培训班次", measure="期")
    Indicator.objects.filter(name="投稿篇数").update(is_active=False)
    call_command("load_plan", stdout=io.StringIO())
    four = list(Indicator.objects.filter(task__number=4).values_list("name", "measure"))
    assert four == [("培训班次", "期"), ("培训人次", "人次")]
    assert not Indicator.objects.get(name="投稿篇数").is_active


def test_the_admin_edits_indicators_and_cannot_delete_them(admin_user: Any) -> None:
    client = login(admin_user)
    indicator = Indicator.objects.get(name="推普培训人次")
    page = client.get(f"/admin/tasks/indicator/{indicator.pk}/change/")
    assert page.status_code == 200
    assert "计量单位" in page.content.decode()
    response = client.post(
        f"/admin/tasks/indicator/{indicator.pk}/change/",
        {
            "task": indicator.task_id,
            "code": indicator.code,
            "name": "推普培训人数",
            "measure": "人",
            "sums_over_months": "on",
            "order": 1,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    indicator.refresh_from_db()
    assert (indicator.name, indicator.measure) == ("推普培训人数", "人")
    assert indicator.history.count() == 2  # audited
    assert client.get(f"/admin/tasks/indicator/{indicator.pk}/delete/").status_code == 403


def test_the_ledger_form_shows_the_tasks_indicators_and_saves_their_values(
    xuanzhou_staff: Any,
) -> None:
    client = login(xuanzhou_staff)
    form = client.get("/tasks/4/ledger/new/").content.decode()
    assert "培训场次（场）" in form and "培训人次（人次）" in form
    sessions, people = Indicator.objects.filter(task__number=4).order_by("order")
    response = client.post(
        "/tasks/4/ledger/new/",
        {
            "unit": xuanzhou_staff.unit.pk,
            "period": "2019-05",
            "status": "in_progress",
            "narrative": "举办资助系统培训两场。",
            f"indicator_{sessions.pk}": "2",
            f"indicator_{people.pk}": "",  # blank: not reported
        },
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    value = IndicatorValue.objects.get()
    assert (value.indicator, value.unit, value.value, value.entry) == (
        sessions,
        xuanzhou_staff.unit,
        Decimal(2),
        entry,
    )
    assert value.history.get().history_user == xuanzhou_staff
    page = client.get("/tasks/4/").content.decode()
    assert ["宣州区", "2", "—"] in cells(page, "indicator-units")


def test_a_negative_value_is_refused_by_name_and_saves_nothing(xuanzhou_staff: Any) -> None:
    client = login(xuanzhou_staff)
    people = Indicator.objects.get(name="培训人次")
    response = client.post(
        "/tasks/4/ledger/new/",
        {
            "unit": xuanzhou_staff.unit.pk,
            "period": "2019-05",
            "status": "done",
            "narrative": "已完成。",
            f"indicator_{people.pk}": "-5",
        },
    )
    assert response.status_code == 200
    assert "培训人次（人次）：数值不能为负数。" in response.content.decode()
    assert not LedgerEntry.objects.exists() and not IndicatorValue.objects.exists()


def test_a_correction_starts_from_the_months_values_and_replaces_them(
    xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    client = login(xuanzhou_staff)
    people = Indicator.objects.get(name="培训人次")
    data = {
        "unit": xuanzhou_staff.unit.pk,
        "period": "2019-05",
        "status": "done",
        "narrative": "培训完成。",
        f"indicator_{people.pk}": "120",
    }
    client.post("/tasks/4/ledger/new/", data)
    entry = LedgerEntry.objects.get()
    login(city_reviewer).post(
        f"/ledger/{entry.pk}/review/", {"decision": "return", "comment": "人次有误"}
    )
    form = client.get(f"/tasks/4/ledger/new/?revise={entry.pk}").content.decode()
    assert f'name="indicator_{people.pk}" value="120"' in form
    client.post(
        f"/tasks/4/ledger/new/?revise={entry.pk}", {**data, f"indicator_{people.pk}": "112"}
    )
    value = IndicatorValue.objects.get()
    assert value.value == 112 and value.entry == LedgerEntry.objects.get(revision_of=entry)
    assert [h.value for h in value.history.order_by("history_id")] == [120, 112]


def _report(unit_code: str, name: str, month: str, value: str) -> None:
    import datetime as dt

    IndicatorValue.objects.create(
        indicator=Indicator.objects.get(name=name),
        unit=Unit.objects.get(code=unit_code),
        period=dt.date.fromisoformat(f"{month}-01"),
        value=Decimal(value),
    )


def test_the_task_page_totals_per_unit_and_month_within_the_users_scope(
    city_reviewer: Any, langxi_staff: Any
) -> None:
    reported = [
        ("xuanzhou-jtj", "培训人次", "2019-04", "100"),
        ("xuanzhou-jtj", "培训人次", "2019-05", "120"),
        ("langxi-jtj", "培训人次", "2019-05", "85"),
        ("langxi-jtj", "培训场次", "2019-05", "1"),
    ]
    for row in reported:
        _report(*row)

    def total(unit: str | None = None, month: str | None = None) -> str:
        got = sum(
            int(v)
            for u, n, m, v in reported
            if n == "培训人次" and unit in (None, u) and month in (None, m)
        )
        return f"{got:,}"

    page = login(city_reviewer).get("/tasks/4/?start=2019-01&end=2019-06").content.decode()
    units = cells(page, "indicator-units")
    assert units[0] == ["单位", "培训场次（场）", "培训人次（人次）"]
    assert ["宣州区", "—", total("xuanzhou-jtj")] in units
    assert ["郎溪县", "1", total("langxi-jtj")] in units
    assert units[-1] == ["合计", "1", total()]
    months = cells(page, "indicator-months")
    assert ["2019年5月", "1", total(month="2019-05")] in months
    may = login(city_reviewer).get("/tasks/4/?start=2019-05&end=2019-05").content.decode()
    assert ["宣州区", "—", total("xuanzhou-jtj", "2019-05")] in cells(may, "indicator-units")
    # A county sees its own unit's values only.
    own = cells(login(langxi_staff).get("/tasks/4/").content.decode(), "indicator-units")
    assert [r[0] for r in own[1:]] == ["郎溪县", "合计"]
    assert own[-1] == ["合计", "1", total("langxi-jtj")]


def test_a_wrong_period_on_the_task_page_gets_a_chinese_message(city_reviewer: Any) -> None:
    page = login(city_reviewer).get("/tasks/4/?start=2019-13&end=abc").content.decode()
    assert "起始月份" in page and "已忽略" in page
    assert 'id="indicator-units"' in page


def test_export_plan_writes_the_year_to_date_totals(plan: None, tmp_path: Any) -> None:
    import time_machine
    from openpyxl import load_workbook

    reported = [
        ("xuanzhou-jtj", "培训人次", "2019-04", "100"),
        ("langxi-jtj", "培训人次", "2019-05", "85"),
        ("city-jcc", "中央资金", "2019-05", "35.5"),
        ("xuanzhou-jtj", "建档立卡初中毕业生人数", "2019-04", "300"),
        ("xuanzhou-jtj", "建档立卡初中毕业生人数", "2019-05", "310"),
        ("xuanzhou-jtj", "培训人次", "2018-12", "999"),  # last year: not in the total
    ]
    for row in reported:
        _report(*row)
    out = tmp_path / "计划.xlsx"
    with time_machine.travel("2019-06-16 10:00 +0800", tick=False):
        call_command("export_plan", str(out), stdout=io.StringIO())
    ws = load_workbook(out)["指标汇总"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == ["任务序号", "指标", "单位", "合计"]
    by_name = {r[1]: r for r in rows[1:]}
    assert len(by_name) == sum(len(v) for v in DEFAULTS.values())
    people = sum(int(v) for _u, n, m, v in reported if n == "培训人次" and m.startswith("2019"))
    assert by_name["培训人次"] == [4, "培训人次", "人次", people]
    assert by_name["中央资金"] == [20, "中央资金", "万元", 35.5]
    # A head count does not add up over months: the latest month's.
    assert by_name["建档立卡初中毕业生人数"][3] == 310
    assert by_name["推普培训人次"][3] == 0
