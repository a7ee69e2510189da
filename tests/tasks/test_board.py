from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from ..factories import PASSWORD, make_entry

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@time_machine.travel(dt.datetime(2019, 3, 25, 9, 0, tzinfo=SHANGHAI), tick=False)
def test_the_board_lists_22_tasks_in_six_groups_with_their_units(leader: Any) -> None:
    page = login(leader).get("/").content.decode()
    for numeral in "一二三四五六":
        assert f"（{numeral}）" in page
    for n in range(1, 23):
        assert f'id="task-{n}"' in page
    assert "党委 · 未填报" in page
    assert "宁国市 · 未填报" in page


@time_machine.travel(dt.datetime(2019, 6, 16, 9, 0, tzinfo=SHANGHAI), tick=False)
def test_the_day_after_the_spring_deadline_unreported_units_show_overdue(
    xuanzhou_staff: Any, leader: Any
) -> None:
    # 宣州区 reported task 3 done for the spring semester; the others did not.
    make_entry(3, "xuanzhou-jtj", xuanzhou_staff, month=6, status="done")
    page = login(leader).get("/").content.decode()
    row = page[page.index('id="task-3"') : page.index('id="task-4"')]
    assert "宣州区 · 已完成" in row
    assert "郎溪县 · 逾期" in row
    assert "9月25日" in row and "剩 101 天" in row


@time_machine.travel(dt.datetime(2019, 6, 10, 9, 0, tzinfo=SHANGHAI), tick=False)
def test_before_the_deadline_the_days_left_are_shown(leader: Any) -> None:
    page = login(leader).get("/tasks/3/").content.decode()
    assert "2019春季学期" in page and "2019-06-15" in page
    board = login(leader).get("/").content.decode()
    row = board[board.index('id="task-3"') : board.index('id="task-4"')]
    assert "剩 5 天" in row and "郎溪县 · 逾期" not in row


def test_my_unit_lists_the_tasks_of_my_unit(xuanzhou_staff: Any) -> None:
    page = login(xuanzhou_staff).get("/mine/").content.decode()
    assert "宣州区教体局" in page
    assert "/tasks/3/" in page and "/tasks/17/" not in page  # task 17 is 计财科's alone
    assert "郎溪县" not in page


def test_the_breakdown_table_downloads_as_xlsx(leader: Any) -> None:
    response = login(leader).get("/plan/breakdown.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("序号", "任务组", "任务内容", "牵头单位", "配合单位", "完成时限")
    assert len(rows) == 23
    one = rows[1]
    assert one[0] == 1 and one[3] == "市教体局党委"
    assert one[4].startswith("市教体局计财科、市教体局基教科、") and one[4].endswith(
        "宁国市教体局、市直学校"
    )
    three = rows[3]
    assert "春季学期6月15日前" in three[5]


def test_export_plan_command_writes_the_same_table(plan: None, tmp_path: Any) -> None:
    out = tmp_path / "任务分解表.xlsx"
    buf = io.StringIO()
    call_command("export_plan", str(out), stdout=buf)
    assert "22 项任务" in buf.getvalue()
    ws = load_workbook(out).active
    assert ws.cell(row=23, column=1).value == 22
    assert ws.cell(row=18, column=4).value == "市教体局计财科"
