"""The landing page starts with what the user must do next (reports/todo.py)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from intake.models import Upload
from reports.models import CorrectionReport, Escalation, MonthlySubmission
from tasks.models import Deadline, LedgerEntry, Task

from .conftest import ledger, unit

MAY = dt.date(2019, 5, 1)


@pytest.fixture(autouse=True)
def _june_16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XC_TODAY", "2019-06-16")


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _todo_section(page: str) -> str:
    m = re.search(r'<section class="card todo".*?</section>', page, re.S)
    return m.group(0) if m else ""


@pytest.fixture
def returned_may(xuanzhou_staff: Any, city_reviewer: Any) -> MonthlySubmission:
    return MonthlySubmission.objects.create(
        unit=unit("xuanzhou-jtj"),
        period=MAY,
        due_on=dt.date(2019, 6, 5),
        state=MonthlySubmission.State.RETURNED,
        version=1,
        review_comment="发放明细缺少泾川镇中心小学，请补充后重报。",
        reviewed_by=city_reviewer,
    )


def test_it_shows_a_returned_monthly_report_first_with_the_comment_and_a_link(
    returned_may: MonthlySubmission, xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    # Something less urgent is on the list too: an escalation notice due in ten days.
    esc_deadline = Deadline.objects.filter(task__number=3).order_by("due_on").first()
    assert esc_deadline is not None
    Escalation.objects.create(
        deadline=esc_deadline,
        unit=unit("xuanzhou-jtj"),
        number="宣教督〔2019〕1号",
        year=2019,
        seq=1,
        raised_on=dt.date(2019, 6, 16),
        answer_due=dt.date(2019, 6, 26),
    )
    page = client_for(xuanzhou_staff).get("/").content.decode()
    todo = _todo_section(page)
    assert todo, "the landing page has a to-do list"
    assert page.index("待办事项") < page.index('class="board"')  # before the plan board
    items = re.findall(r'<li class="todo-item[^"]*">(.*?)</li>', todo, re.S)
    assert "2019年5月月报被退回" in items[0]
    assert "发放明细缺少泾川镇中心小学，请补充后重报。" in items[0]
    assert 'href="/reports/submissions/2019-05/"' in items[0]
    later = next(i for i in items if "宣教督〔2019〕1号" in i)
    assert "2019年6月26日" in later and 'href="/reports/escalations/' in later


def test_another_county_sees_none_of_it(returned_may: MonthlySubmission, langxi_staff: Any) -> None:
    page = client_for(langxi_staff).get("/").content.decode()
    todo = _todo_section(page)
    assert todo  # langxi has its own list (its May report is not sent yet)
    assert "被退回" not in todo and "泾川镇" not in page


def test_a_returned_ledger_entry_links_to_its_correction(
    xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    entry = ledger(5, "xuanzhou-jtj", xuanzhou_staff, MAY)
    LedgerEntry.objects.filter(pk=entry.pk).update(
        review=LedgerEntry.Review.RETURNED, review_comment="缺少佐证材料。"
    )
    todo = _todo_section(client_for(xuanzhou_staff).get("/").content.decode())
    assert "“学生资助进展按月统计上报”2019年5月台账被退回" in todo
    assert "缺少佐证材料。" in todo
    assert f"/tasks/5/ledger/new/?revise={entry.pk}" in todo
    assert not re.search(r"任务\d+", todo)


def test_a_rejected_upload_is_listed_until_a_good_file_follows(xuanzhou_staff: Any) -> None:
    def make(state: str) -> Upload:
        up = Upload(
            kind="disbursements",
            unit=unit("xuanzhou-jtj"),
            uploaded_by=xuanzhou_staff,
            original_name="5月发放明细.xlsx",
            size=3,
            sha256="0" * 64,
            period=MAY,
            state=state,
            rows_rejected=4,
        )
        up.file.save("upload", ContentFile(b"abc"), save=False)
        up.save()
        return up

    bad = make(Upload.State.REJECTED)
    c = client_for(xuanzhou_staff)
    todo = _todo_section(c.get("/").content.decode())
    assert "资助发放明细未通过校验" in todo and f'href="/uploads/{bad.pk}/"' in todo
    assert "4行有误" in todo
    make(Upload.State.APPLIED)
    assert "未通过校验" not in _todo_section(c.get("/").content.decode())


def test_the_reviewer_sees_what_waits_for_review(
    returned_may: MonthlySubmission,
    city_reviewer: Any,
    langxi_staff: Any,
    xuanzhou_staff: Any,
) -> None:
    sub = MonthlySubmission.objects.create(
        unit=unit("langxi-jtj"),
        period=MAY,
        due_on=dt.date(2019, 6, 5),
        state=MonthlySubmission.State.SUBMITTED,
        version=1,
    )
    ledger(5, "langxi-jtj", langxi_staff, MAY)
    esc = Escalation.objects.create(
        deadline=Deadline.objects.filter(task__number=3).order_by("due_on")[0],
        unit=unit("xuanzhou-jtj"),
        number="宣教督〔2019〕2号",
        year=2019,
        seq=2,
        raised_on=dt.date(2019, 6, 16),
        answer_due=dt.date(2019, 6, 26),
        state=Escalation.State.ANSWERED,
    )
    answer = CorrectionReport(
        escalation=esc, text="6月25日前补发。", original_name="a.pdf", submitted_by=xuanzhou_staff
    )
    answer.file.save("a.pdf", ContentFile(b"%PDF"), save=False)
    answer.save()
    todo = _todo_section(client_for(city_reviewer).get("/").content.decode())
    assert "审核郎溪县2019年5月月报" in todo and f'href="/reports/submission/{sub.pk}/"' in todo
    assert "1条台账待审核" in todo
    assert "宣州区已报整改报告（宣教督〔2019〕2号），待销号" in todo
    # Not the units' own work: the reviewer is not asked to correct 宣州区's report.
    assert "被退回" not in todo


def test_the_leader_gets_no_to_do_list(returned_may: MonthlySubmission, leader: Any) -> None:
    page = client_for(leader).get("/").content.decode()
    assert "待办事项" not in page
    assert 'class="board"' in page  # the plan board is still there


def test_the_plan_board_alone_is_at_plan(xuanzhou_staff: Any) -> None:
    page = client_for(xuanzhou_staff).get("/plan/").content.decode()
    assert "待办事项" not in page and 'class="board"' in page
    assert Task.objects.count() == 22


def test_a_reminder_stays_until_read_and_only_its_unit_can_mark_it(
    xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    from reports.models import Reminder

    deadline = Deadline.objects.filter(due_on__gt=dt.date(2019, 6, 16)).order_by("due_on")[0]
    Reminder.objects.create(
        deadline=deadline,
        unit=unit("xuanzhou-jtj"),
        offset_days=7,
        items=["宣州区：资助尚未发放完毕"],
        created_on=dt.date(2019, 6, 16),
    )
    c = client_for(xuanzhou_staff)
    todo = _todo_section(c.get("/").content.decode())
    read_url = f"/reports/reminders/{deadline.pk}/read/"
    assert "资助尚未发放完毕" in todo and f'action="{read_url}"' in todo
    assert c.get(read_url).status_code == 405  # reading a page never marks anything
    client_for(langxi_staff).post(read_url)
    assert Reminder.objects.get().read_at is None  # another county cannot mark it
    assert c.post(read_url).status_code == 302
    assert Reminder.objects.get().read_at is not None
    assert "资助尚未发放完毕" not in _todo_section(c.get("/").content.decode())
