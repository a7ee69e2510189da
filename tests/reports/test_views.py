"""Pages in Chinese, scoped: a county sees its own inbox, submissions and escalations only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reports import build, services
from reports.models import CorrectionReport, Escalation, MonthlySubmission, Report

from .conftest import pay, student, unit, upload

MAY = dt.date(2019, 5, 1)


@pytest.fixture
def cycle(
    spring: Any, xz_school: Any, lx_school: Any, xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    for i in range(3):
        student(xz_school, i)
    pay(student(lx_school, 20, county="langxi"), spring)
    student(lx_school, 21, county="langxi")
    services.deadlines_check(today=dt.date(2019, 6, 16))


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_county_sees_only_its_own_inbox_and_escalations(
    cycle: None, xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    page = client_for(xuanzhou_staff).get("/reports/inbox/").content.decode()
    assert "宣州区：3 名建档立卡学生 2019春 资助未发放到位" in page
    assert "郎溪县：1 名" not in page
    theirs = Escalation.objects.filter(unit__code="langxi-jtj").order_by("pk")[0]
    mine = Escalation.objects.filter(unit__code="xuanzhou-jtj").order_by("pk")[0]
    c = client_for(xuanzhou_staff)
    assert c.get(f"/reports/escalations/{theirs.pk}/").status_code == 404
    assert c.get(f"/reports/escalations/{mine.pk}/").status_code == 200
    # Answering someone else's escalation by URL fails too.
    resp = c.post(
        f"/reports/escalations/{theirs.pk}/",
        {"text": "x", "file": SimpleUploadedFile("a.pdf", b"%PDF")},
    )
    assert resp.status_code == 404
    assert not CorrectionReport.objects.exists()


def test_a_county_answers_its_escalation_with_a_correction_plan(
    cycle: None, xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    esc = Escalation.objects.filter(unit__code="xuanzhou-jtj").order_by("pk")[0]
    c = client_for(xuanzhou_staff)
    resp = c.post(
        f"/reports/escalations/{esc.pk}/",
        {"text": "6月25日前补发。", "file": SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4")},
    )
    assert resp.status_code == 302
    esc.refresh_from_db()
    assert esc.state == Escalation.State.ANSWERED
    answer = esc.answers.get()
    assert c.get(f"/reports/corrections/{answer.pk}/file/").status_code == 200
    assert (
        client_for(langxi_staff).get(f"/reports/corrections/{answer.pk}/file/").status_code == 404
    )


def test_the_reviewer_page_lists_every_unit_with_state_and_figures(
    cycle: None, city_reviewer: Any, xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    upload(unit("xuanzhou-jtj"), "disbursements", MAY, on="2019-06-02", rows=12)
    upload(unit("xuanzhou-jtj"), "enrolment", MAY, on="2019-06-02", rows=0)
    c = client_for(xuanzhou_staff)
    resp = c.post(
        "/reports/submissions/2019-05/",
        {"narrative": "5月已完成。", "cover_sheet": SimpleUploadedFile("封面.pdf", b"%PDF-1.4")},
    )
    assert resp.status_code == 302
    sub = MonthlySubmission.objects.get(unit__code="xuanzhou-jtj", period=MAY)
    page = client_for(city_reviewer).get("/reports/submissions/2019-05/").content.decode()
    for name in (
        "宣州区",
        "郎溪县",
        "广德市",
        "泾县",
        "绩溪县",
        "旌德县",
        "宁国市",
        "市直学校",
        "宣职院",
    ):
        assert name in page
    assert "12 行" in page and "0 行" in page and "未报" in page
    # 郎溪 cannot see or act on 宣州's submission by URL.
    lc = client_for(langxi_staff)
    assert lc.get(f"/reports/submission/{sub.pk}/").status_code == 404
    event = sub.events.get()
    assert lc.get(f"/reports/cover/{event.pk}/").status_code == 404
    assert c.get(f"/reports/cover/{event.pk}/").status_code == 200
    langxi_page = lc.get("/reports/submissions/2019-05/").content.decode()
    assert "宣州区" not in langxi_page
    # The reviewer returns it from the page.
    rc = client_for(city_reviewer)
    rc.post(f"/reports/submission/{sub.pk}/return/", {"comment": "请补充封面。"})
    sub.refresh_from_db()
    assert sub.state == "returned"
    # A county cannot review.
    c.post(f"/reports/submission/{sub.pk}/accept/")
    sub.refresh_from_db()
    assert sub.state == "returned"


def test_reports_are_served_only_through_permission_checked_views(
    cycle: None, city_reviewer: Any, xuanzhou_staff: Any
) -> None:
    report = build.report_build(kind="quarterly", period=dt.date(2019, 4, 1))
    rc = client_for(city_reviewer)
    assert "关于2019年第二季度" in rc.get("/reports/").content.decode()
    resp = rc.get(f"/reports/r/{report.pk}/file/docx/")
    assert resp.status_code == 200 and resp["Content-Disposition"].startswith("attachment")
    xc = client_for(xuanzhou_staff)
    assert xc.get(f"/reports/r/{report.pk}/file/docx/").status_code == 404  # a draft: city only
    assert xc.post(f"/reports/r/{report.pk}/approve/").status_code == 404
    build.report_approve(user=city_reviewer, report=report)
    build.report_issue(user=city_reviewer, report=report)
    assert (
        xc.get(f"/reports/r/{report.pk}/file/docx/").status_code == 200
    )  # issued: addressed to them
    anon = Client()
    assert anon.get(f"/reports/r/{report.pk}/file/docx/").status_code == 302


def test_the_calendar_shows_what_each_unit_still_owes(
    cycle: None, city_reviewer: Any, xuanzhou_staff: Any
) -> None:
    import time_machine

    from tasks.clock import today  # noqa: F401 - the view reads the clock

    with time_machine.travel(
        dt.datetime(2019, 6, 10, 9, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False
    ):
        page = client_for(city_reviewer).get("/reports/calendar/").content.decode()
        mine = client_for(xuanzhou_staff).get("/reports/calendar/").content.decode()
    assert "2019春季学期" in page and "宣州区：3 名建档立卡学生 2019春 资助未发放到位" in page
    assert "郎溪县：1 名建档立卡学生" in page
    assert "郎溪县：1 名建档立卡学生" not in mine


def test_every_page_opens_for_the_reviewer(cycle: None, city_reviewer: Any) -> None:
    report = build.report_build(kind="monthly", period=MAY)
    c = client_for(city_reviewer)
    for url in (
        "/reports/",
        f"/reports/r/{report.pk}/",
        "/reports/calendar/",
        "/reports/inbox/",
        "/reports/submissions/2019-05/",
        "/reports/completeness/2019/",
    ):
        resp = c.get(url)
        assert resp.status_code == 200, url
    assert Escalation.objects.exists() and Report.objects.count() == 1
