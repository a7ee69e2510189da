"""The daily deadline check, with the clock frozen on the days that matter."""

from __future__ import annotations

import datetime as dt
import io
import threading
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from reports import jobs, services
from reports.models import Breach, Escalation, MailState, Reminder
from tasks.models import Unit

from .conftest import deadline, pay, student

SPRING_DUE = "2019-06-15"


@pytest.fixture
def xuanzhou_owes(spring: Any, xz_school: Any, mailed_xuanzhou: Any) -> None:
    """Five roster students in 宣州区, two paid: three are still owed their spring aid."""
    for i in range(5):
        s = student(xz_school, i)
        if i < 2:
            pay(s, spring)


def _check(day: str) -> services.CheckResult:
    with time_machine.travel(dt.datetime.fromisoformat(f"{day}T08:00:00+08:00"), tick=False):
        return services.deadlines_check(today=jobs._day(None))


def _reminders(unit_code: str, due: str, task: int = 3) -> list[Reminder]:
    return list(
        Reminder.objects.filter(unit__code=unit_code, deadline=deadline(task, due)).order_by(
            "-offset_days"
        )
    )


@pytest.mark.parametrize(
    ("day", "offset"), [("2019-06-01", 14), ("2019-06-08", 7), ("2019-06-12", 3), ("2019-06-14", 1)]
)
def test_it_reminds_the_county_of_unpaid_students_at_each_offset(
    xuanzhou_owes: None, day: str, offset: int
) -> None:
    mail.outbox.clear()
    _check(day)
    got = _reminders("xuanzhou-jtj", SPRING_DUE)
    assert [r.offset_days for r in got] == [offset]
    assert got[0].items == ["宣州区：3 名建档立卡学生 2019春 资助未发放到位"]
    spring_mails = [m for m in mail.outbox if "2019春季学期" in m.subject]
    assert len(spring_mails) == 1
    assert spring_mails[0].to == ["xuanzhou@example.cn"]
    assert f"还有{offset}天" in spring_mails[0].subject
    assert "3 名建档立卡学生 2019春 资助未发放到位" in spring_mails[0].body
    # The deadline in plain words, not the task's text cut off mid-word.
    assert "…" not in spring_mails[0].body
    assert "2019年6月15日截止" in spring_mails[0].body
    assert got[0].mail_state == MailState.SENT


def test_it_sends_nothing_between_offsets_and_nothing_to_a_unit_that_is_done(
    xuanzhou_owes: None, lx_school: Any
) -> None:
    _check("2019-06-01")
    _check("2019-06-05")  # 10 days before: no new reminder between 14 and 7
    assert [r.offset_days for r in _reminders("xuanzhou-jtj", SPRING_DUE)] == [14]
    _check("2019-06-08")
    # 郎溪 has no roster student owed anything: no reminder about payments.
    assert _reminders("langxi-jtj", SPRING_DUE) == []


def test_a_missed_run_sends_the_latest_reminder_once(xuanzhou_owes: None) -> None:
    _check("2019-06-06")  # beat was down on the 1st: the 14-day reminder goes late, once
    _check("2019-06-07")
    assert [r.offset_days for r in _reminders("xuanzhou-jtj", SPRING_DUE)] == [14]
    _check("2019-06-08")
    assert [r.offset_days for r in _reminders("xuanzhou-jtj", SPRING_DUE)] == [14, 7]


def test_a_passed_deadline_marks_overdue_and_raises_a_numbered_escalation(
    xuanzhou_owes: None,
) -> None:
    result = _check("2019-06-16")
    breach = Breach.objects.get(unit__code="xuanzhou-jtj", deadline=deadline(3, SPRING_DUE))
    assert breach.items == ["宣州区：3 名建档立卡学生 2019春 资助未发放到位"]
    esc = Escalation.objects.get(unit__code="xuanzhou-jtj", deadline=deadline(3, SPRING_DUE))
    assert esc.level == 1
    assert esc.number.startswith("宣教督〔2019〕") and esc.number.endswith("号")
    assert esc.answer_due == dt.date(2019, 6, 26)
    assert esc in result.escalations
    numbers = sorted(Escalation.objects.values_list("seq", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))  # no gaps, no repeats
    assert any("督办单" in m.subject and esc.number in m.subject for m in mail.outbox)
    # The bureau's own section is marked overdue but not sent a 督办单 by itself.
    city = Unit.objects.get(code="city-jcc")
    assert Breach.objects.filter(unit=city).exists()
    assert not Escalation.objects.filter(unit=city).exists()


def test_no_correction_plan_by_the_due_date_raises_a_second_escalation(xuanzhou_owes: None) -> None:
    _check("2019-06-16")
    first = Escalation.objects.get(unit__code="xuanzhou-jtj", deadline=deadline(3, SPRING_DUE))
    _check("2019-06-26")  # the due date itself: still in time
    assert not Escalation.objects.filter(previous=first).exists()
    _check("2019-06-27")
    second = Escalation.objects.get(previous=first)
    assert second.level == 2 and second.unit == first.unit and second.number != first.number
    _check("2019-06-28")
    assert Escalation.objects.filter(unit=first.unit, deadline=first.deadline).count() == 2


def test_a_correction_plan_in_time_stops_the_second_escalation(
    xuanzhou_owes: None, mailed_xuanzhou: Any
) -> None:
    _check("2019-06-16")
    first = Escalation.objects.get(unit__code="xuanzhou-jtj", deadline=deadline(3, SPRING_DUE))
    services.escalation_answer(
        user=mailed_xuanzhou,
        escalation=first,
        text="已于6月20日前补发3名学生资助。",
        file=SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4", content_type="application/pdf"),
    )
    _check("2019-06-27")
    assert not Escalation.objects.filter(previous=first).exists()
    first.refresh_from_db()
    assert first.state == Escalation.State.ANSWERED


def test_the_monthly_report_deadline_names_the_missing_report(plan: None) -> None:
    _check("2019-06-04")
    r = Reminder.objects.get(unit__code="jingde-jtj", deadline=deadline(5, "2019-06-05"))
    assert r.offset_days == 1
    assert "2019年5月月报未报送" in r.items
    assert "2019年5月“学生资助进展按月统计上报”台账未填报" in r.items
    # The college reports monthly too, though the plan does not list it under task 5.
    assert Reminder.objects.filter(unit__code="xcvtc", deadline=deadline(5, "2019-06-05")).exists()


def test_running_the_check_twice_changes_nothing(xuanzhou_owes: None) -> None:
    for day in ("2019-06-01", "2019-06-16"):
        _check(day)
        counts = (
            Reminder.objects.count(),
            Breach.objects.count(),
            Escalation.objects.count(),
            len(mail.outbox),
        )
        again = _check(day)
        assert (again.reminders, again.breaches, again.escalations, again.mails) == ([], [], [], 0)
        assert counts == (
            Reminder.objects.count(),
            Breach.objects.count(),
            Escalation.objects.count(),
            len(mail.outbox),
        )


def test_the_command_runs_the_same_check_and_prints_what_it_did(xuanzhou_owes: None) -> None:
    out = io.StringIO()
    call_command("check_deadlines", "--today", "2019-06-16", stdout=out)
    text = out.getvalue()
    assert "督办 宣教督〔2019〕" in text and "宣州区" in text
    out = io.StringIO()
    call_command("check_deadlines", "--today", "2019-06-16", stdout=out)
    assert "新提醒 0 条，逾期 0 条，督办单 0 份，发送邮件 0 封" in out.getvalue()


def test_a_mail_claimed_by_a_dead_worker_is_sent_later_and_only_once(xuanzhou_owes: None) -> None:
    services.deadlines_check(today=dt.date(2019, 6, 1), send=False)
    r = Reminder.objects.get(unit__code="xuanzhou-jtj", deadline=deadline(3, SPRING_DUE))
    old = dt.datetime(2019, 6, 1, 8, tzinfo=dt.UTC)
    Reminder.objects.filter(pk=r.pk).update(mail_state=MailState.SENDING, mail_claimed_at=old)
    mail.outbox.clear()
    with time_machine.travel(dt.datetime(2019, 6, 1, 9, tzinfo=dt.UTC), tick=False):
        services.mails_flush()
        services.mails_flush()
    assert sum("2019春季学期" in m.subject for m in mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_create_each_notice_once(transactional_db: Any, request: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises whole transactions)")
    request.getfixturevalue("xuanzhou_owes")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            services.deadlines_check(today=dt.date(2019, 6, 16))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    for day in ("2019-06-01",):
        services.deadlines_check(today=dt.date.fromisoformat(day))
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    per_key = Escalation.objects.values_list("deadline_id", "unit_id", "level")
    assert len(per_key) == len(set(per_key))
    seqs = sorted(Escalation.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert Breach.objects.count() == len(set(Breach.objects.values_list("deadline_id", "unit_id")))
    assert (
        sum("督办单" in m.subject for m in mail.outbox)
        == Escalation.objects.exclude(recipients=[]).count()
    )
