"""Monthly submissions, their history, and completeness/timeliness from the uploads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from reports import selectors, services
from reports.models import MonthlySubmission, ReportingUnit, SubmissionEvent
from tasks.models import Unit

from .conftest import unit, upload

MAY = dt.date(2019, 5, 1)
APRIL = dt.date(2019, 4, 1)


def _submit(
    user: Any, code: str, when: str, text: str = "5月情况已汇总。", cover: bool = False
) -> MonthlySubmission:
    with time_machine.travel(dt.datetime.fromisoformat(f"{when}T10:00:00+08:00"), tick=False):
        return services.submission_submit(
            user=user,
            unit=unit(code),
            period=MAY,
            narrative=text,
            cover_sheet=SimpleUploadedFile("封面.pdf", b"%PDF-1.4", content_type="application/pdf")
            if cover
            else None,
        )


def test_a_returned_submission_keeps_its_history_when_resubmitted(
    xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    upload(unit("xuanzhou-jtj"), "disbursements", MAY, on="2019-06-02", rows=12)
    first = _submit(xuanzhou_staff, "xuanzhou-jtj", "2019-06-03", "第一版说明。", cover=True)
    assert first.state == MonthlySubmission.State.SUBMITTED and first.version == 1
    services.submission_return(user=city_reviewer, submission=first, comment="人数与学籍不符。")
    upload(unit("xuanzhou-jtj"), "enrolment", MAY, on="2019-06-07", rows=0)
    second = _submit(xuanzhou_staff, "xuanzhou-jtj", "2019-06-08", "第二版说明。")
    assert second.version == 2
    events = list(second.events.order_by("pk"))
    assert [e.action for e in events] == ["submitted", "returned", "submitted"]
    assert events[0].narrative == "第一版说明。" and events[0].cover_sheet
    assert events[0].figures["enrolment"] is None  # missing in the first version
    assert events[1].comment == "人数与学籍不符。"
    assert events[2].narrative == "第二版说明。"
    assert events[2].figures["enrolment"]["rows"] == 0  # a reported zero
    # Judged by the first submission: on time although fixed after the due day.
    assert second.on_time is True
    services.submission_accept(user=city_reviewer, submission=second)
    second.refresh_from_db()
    assert second.state == MonthlySubmission.State.REVIEWED
    with pytest.raises(ValidationError):
        _submit(xuanzhou_staff, "xuanzhou-jtj", "2019-06-09")


def test_a_late_submission_is_marked_late(langxi_staff: Any) -> None:
    sub = _submit(langxi_staff, "langxi-jtj", "2019-06-06")
    assert sub.due_on == dt.date(2019, 6, 5)
    assert sub.on_time is False


def test_a_county_cannot_submit_for_another(xuanzhou_staff: Any) -> None:
    with pytest.raises(PermissionDenied):
        _submit(xuanzhou_staff, "langxi-jtj", "2019-06-03")


def test_returning_needs_a_comment_and_a_reviewer(
    xuanzhou_staff: Any, city_reviewer: Any, langxi_staff: Any
) -> None:
    sub = _submit(xuanzhou_staff, "xuanzhou-jtj", "2019-06-03")
    with pytest.raises(ValidationError):
        services.submission_return(user=city_reviewer, submission=sub, comment=" ")
    with pytest.raises(PermissionDenied):
        services.submission_return(user=langxi_staff, submission=sub, comment="不行")


def test_a_locked_month_refuses_changes_until_reopened_with_a_reason(
    xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    for code in [u.code for u in selectors.reporting_units(MAY)]:
        sub = MonthlySubmission.objects.create(
            unit=unit(code), period=MAY, due_on=dt.date(2019, 6, 5), state="reviewed", version=1
        )
    with pytest.raises(ValidationError):
        services.month_reopen(user=city_reviewer, period=MAY, reason="x")  # not locked yet
    services.month_lock(user=city_reviewer, period=MAY)
    sub = MonthlySubmission.objects.get(unit__code="xuanzhou-jtj", period=MAY)
    with pytest.raises(ValidationError):
        services.submission_reopen(user=city_reviewer, submission=sub, reason="数据有误")
    with pytest.raises(ValidationError):
        services.month_reopen(user=city_reviewer, period=MAY, reason="")
    lock = services.month_reopen(user=city_reviewer, period=MAY, reason="宣州区补报更正数据")
    assert [h["action"] for h in lock.history] == ["locked", "reopened"]
    services.submission_reopen(user=city_reviewer, submission=sub, reason="数据有误")
    sub.refresh_from_db()
    assert sub.state == MonthlySubmission.State.RETURNED
    assert SubmissionEvent.objects.filter(
        submission=sub, action="reopened", comment="数据有误"
    ).exists()


def test_locking_a_month_with_unreviewed_reports_names_them(city_reviewer: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        services.month_lock(user=city_reviewer, period=MAY)
    assert "宣州区" in str(exc.value)


def test_completeness_and_timeliness_count_what_was_uploaded(
    plan: None, city_reviewer: Any
) -> None:
    xz, lx, city = unit("xuanzhou-jtj"), unit("langxi-jtj"), unit("city-schools")
    # 宣州区: both sheets on time. 郎溪: one sheet, late. 市直学校: one on time, one zero-row
    # sheet late. Everyone else: nothing.
    upload(xz, "disbursements", MAY, on="2019-06-01")
    upload(xz, "enrolment", MAY, on="2019-06-05")
    upload(lx, "disbursements", MAY, on="2019-06-06")
    upload(city, "disbursements", MAY, on="2019-06-04")
    upload(city, "enrolment", MAY, on="2019-06-09", rows=0)
    # Not applied, or for another month: not counted.
    upload(lx, "enrolment", MAY, on="2019-06-02", state="rejected")
    upload(lx, "enrolment", APRIL, on="2019-06-02")
    grid = selectors.completeness([MAY])
    cell = {u.code: grid.cells[(u.pk, MAY)] for u in grid.units}
    assert (cell["xuanzhou-jtj"].received_sets, cell["xuanzhou-jtj"].on_time_sets) == (2, 2)
    assert (cell["langxi-jtj"].received_sets, cell["langxi-jtj"].on_time_sets) == (1, 0)
    assert cell["langxi-jtj"].kinds["enrolment"] is None  # missing, not zero
    zero = cell["city-schools"].kinds["enrolment"]
    assert zero is not None and zero.rows == 0  # a reported zero
    assert (cell["city-schools"].received_sets, cell["city-schools"].on_time_sets) == (2, 1)
    rates = grid.month_rates(MAY)
    assert rates.expected == 9 * 2
    assert (rates.received, rates.on_time) == (5, 3)
    assert rates.completeness == round(5 * 100 / 18, 1)
    assert rates.timeliness == round(3 * 100 / 18, 1)


def test_a_unit_that_did_not_exist_in_a_month_is_not_expected(plan: None) -> None:
    for order, u in enumerate(selectors.all_reporting_units()):
        ReportingUnit.objects.create(unit=u, order=order, valid_from=dt.date(2019, 1, 1))
    ReportingUnit.objects.filter(unit__code="xcvtc").update(valid_from=dt.date(2019, 5, 1))
    grid = selectors.completeness([APRIL, MAY])
    college = Unit.objects.get(code="xcvtc")
    assert grid.cells[(college.pk, APRIL)].expected is False
    assert grid.cells[(college.pk, MAY)].expected is True
    assert grid.unit_rates(college).expected == 2
    assert grid.month_rates(APRIL).expected == 8 * 2


def test_the_due_day_follows_the_deadline_row_an_administrator_edits(plan: None) -> None:
    from tasks.models import Deadline

    assert selectors.submission_due(MAY) == dt.date(2019, 6, 5)
    Deadline.objects.filter(task__number=5, period_start=MAY).update(due_on=dt.date(2019, 6, 10))
    assert selectors.submission_due(MAY) == dt.date(2019, 6, 10)
    # A month without a deadline row falls back to the settings' day.
    assert selectors.submission_due(dt.date(2020, 3, 1)) == dt.date(2020, 4, 5)
