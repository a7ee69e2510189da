"""Overdue rectification items go through the deadline check like any other deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from inspections import services
from inspections.models import RectificationItem
from inspections.selectors import outstanding_for_unit
from reports import services as report_services
from reports.figures import unit_figures
from reports.models import Breach, Escalation, Reminder
from tasks.selectors import plan_board

from .conftest import at

pytestmark = pytest.mark.django_db


def _check(day: str) -> report_services.CheckResult:
    with at(day, hour=8):
        return report_services.deadlines_check(today=dt.date.fromisoformat(day), send=False)


def test_it_reminds_then_marks_overdue_and_escalates(
    xz_item: RectificationItem, lx_item: RectificationItem, feedback: Any
) -> None:
    _check("2019-06-07")  # 3 days before 6-10
    reminder = Reminder.objects.get(unit__code="xuanzhou-jtj", deadline=xz_item.deadline)
    assert reminder.offset_days == 3
    assert reminder.items == [
        "2019-05-20 暗访发现问题“宣州区三户家庭未收到资助告知单”尚未报告整改情况"
    ]
    result = _check("2019-06-11")
    breach = Breach.objects.get(unit__code="xuanzhou-jtj", deadline=xz_item.deadline)
    assert "宣州区三户家庭未收到资助告知单" in breach.items[0]
    esc = Escalation.objects.get(unit__code="xuanzhou-jtj", deadline=xz_item.deadline)
    assert esc in result.escalations and esc.deadline.task.number == 21
    # 郎溪's finding is due 6-30: not overdue, no 督办.
    assert not Escalation.objects.filter(unit__code="langxi-jtj", deadline=lx_item.deadline)


def test_feedback_items_escalate_each_county_but_not_the_city_section(feedback: Any) -> None:
    _check("2019-06-13")
    units = set(
        Breach.objects.filter(deadline__task__number=1).values_list("unit__code", flat=True)
    )
    assert units == {"city-jcc", "xuanzhou-jtj", "langxi-jtj"}
    escalated = set(
        Escalation.objects.filter(deadline__task__number=1).values_list("unit__code", flat=True)
    )
    assert escalated == {"xuanzhou-jtj", "langxi-jtj"}  # the bureau's own section: the circular


def test_an_answered_item_is_no_longer_owed(
    xz_item: RectificationItem, xuanzhou_staff: Any
) -> None:
    with at("2019-06-09"):
        services.item_answer(user=xuanzhou_staff, item=xz_item, answer="已补发")
    _check("2019-06-11")
    assert not Breach.objects.filter(deadline=xz_item.deadline).exists()
    assert not Escalation.objects.filter(deadline=xz_item.deadline).exists()


def test_rectification_deadlines_stay_off_the_plan_board(xz_item: RectificationItem) -> None:
    (row,) = [r for g in plan_board(dt.date(2019, 6, 16)) for r in g.rows if r.task.number == 21]
    # Task 21's ledger state is unchanged by the item: no unit is overdue because of it.
    assert row.overdue_count == 0
    assert row.next_deadline is not None and row.next_deadline.kind == "annual"


def test_the_monthly_review_counts_items_per_unit_as_at_its_month_end(
    xz_item: RectificationItem, lx_item: RectificationItem, xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    with at("2019-06-12"):
        services.item_answer(user=xuanzhou_staff, item=xz_item, answer="已补发")
        services.item_close(user=city_reviewer, item=xz_item)
    may = {r["unit"]: r for r in unit_figures(dt.date(2019, 5, 1))["rows"]}
    assert (may["宣州区"]["rect_open"], may["宣州区"]["rect_overdue"]) == (1, 0)
    assert may["宣州区"]["rect_closed"] == 0  # closed in June, after the month's end
    june = unit_figures(dt.date(2019, 6, 1))
    rows = {r["unit"]: r for r in june["rows"]}
    assert (rows["宣州区"]["rect_open"], rows["宣州区"]["rect_closed"]) == (0, 1)
    assert (rows["郎溪县"]["rect_open"], rows["郎溪县"]["rect_overdue"]) == (1, 0)  # due 6-30
    assert june["totals"]["rect_closed"] == 1


def test_an_overdue_item_is_named_in_the_units_comment(
    xz_item: RectificationItem, city_reviewer: Any
) -> None:
    rows = {r["unit"]: r for r in unit_figures(dt.date(2019, 6, 1))["rows"]}
    assert rows["宣州区"]["rect_overdue"] == 1
    assert "整改事项逾期未销号 1 条" in rows["宣州区"]["comment"]
    assert "整改事项" not in rows["郎溪县"]["comment"]


def test_outstanding_for_unit_lists_what_it_owes_by_a_date(
    xz_item: RectificationItem, feedback: Any, xuanzhou_staff: Any
) -> None:
    unit = xz_item.unit
    assert outstanding_for_unit(unit, dt.date(2019, 6, 9)) == []
    assert outstanding_for_unit(unit, dt.date(2019, 6, 12)) == [
        "2019-05-20 暗访发现问题“宣州区三户家庭未收到资助告知单”尚未报告整改情况",
        "巡视反馈意见第1项“部分县区资助存在漏助错助、资金发放不及时”尚未报告整改情况",
    ]
    services.item_answer(user=xuanzhou_staff, item=xz_item, answer="已补发")
    assert len(outstanding_for_unit(unit, dt.date(2019, 6, 12))) == 1
