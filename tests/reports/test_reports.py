"""The monthly review and the quarterly circular: figures on a data set whose answer is
known, the files read back, the draft → approved → issued cycle, idempotent builds."""

from __future__ import annotations

import datetime as dt
import io
import threading
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from docx import Document
from openpyxl import load_workbook

from dropout.models import CaseStatus, DropoutCase
from reports import build, jobs
from reports.figures import unit_figures
from reports.models import MonthlySubmission, Report
from tasks.models import County

from .conftest import at, pay, student, unit

MAY = dt.date(2019, 5, 1)
Q2 = dt.date(2019, 4, 1)


@pytest.fixture
def known(spring: Any, xz_school: Any, lx_school: Any) -> None:
    """宣州区: 4 owed, 3 paid, one of them below the top tier. 郎溪县: 2 owed, both paid in
    full. 宣州区 reported May on time, 郎溪县 late. One open dropout case in 宣州区, one
    returned to school in May in 郎溪县."""
    xs = [student(xz_school, i) for i in range(4)]
    pay(xs[0], spring)
    pay(xs[1], spring)
    pay(xs[2], spring, amount="200")
    ls = [student(lx_school, 10 + i, county="langxi") for i in range(2)]
    for s in ls:
        pay(s, spring)
    for code, day in (("xuanzhou-jtj", "2019-06-03"), ("langxi-jtj", "2019-06-07")):
        MonthlySubmission.objects.create(
            unit=unit(code),
            period=MAY,
            due_on=dt.date(2019, 6, 5),
            state="submitted",
            version=1,
            first_submitted_at=at(day),
        )
    xz, lx = County.objects.get(slug="xuanzhou"), County.objects.get(slug="langxi")
    DropoutCase.objects.create(
        id_number="341802200801010011",
        name="甲",
        birth_date=dt.date(2008, 1, 1),
        county=xz,
        status=CaseStatus.PERSUADING,
        opened_on=dt.date(2019, 4, 1),
    )
    DropoutCase.objects.create(
        id_number="341821200801010022",
        name="乙",
        birth_date=dt.date(2008, 1, 1),
        county=lx,
        status=CaseStatus.RETURNED,
        opened_on=dt.date(2019, 3, 1),
        outcome_date=dt.date(2019, 5, 20),
    )


def _row(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in data["rows"] if r["unit"] == name)


def test_the_review_figures_are_right_on_a_known_data_set(known: None) -> None:
    data = unit_figures(MAY)
    xz, lx = _row(data, "宣州区"), _row(data, "郎溪县")
    assert data["semester"] == "2019春"
    assert (xz["coverage"], xz["omissions"], xz["unpaid_students"]) == (75.0, 1, 1)
    assert xz["top_rate"] == round(2 * 100 / 3, 1)
    assert xz["informed_rate"] == 0.0
    assert (lx["coverage"], lx["omissions"], lx["top_rate"]) == (100.0, 0, 100.0)
    assert (xz["timeliness"], lx["timeliness"]) == (100.0, 0.0)
    assert (xz["submission_on_time"], lx["submission_on_time"]) == (True, False)
    assert (xz["open_cases"], lx["open_cases"], lx["returned_cases"]) == (1, 0, 1)
    guangde = _row(data, "广德市")
    assert guangde["coverage"] is None and guangde["omissions"] is None  # no data, not zero
    assert guangde["timeliness"] == 0.0  # expected and not received
    # Rank: 郎溪 (100, 100, 0, 0, ledger 0) vs 宣州 (75, 66.7, 0, 100, ledger 0).
    assert lx["score"] == 40.0 and xz["score"] == round((75 + 66.7 + 0 + 100 + 0) / 5, 1)
    assert xz["rank"] == 1 and lx["rank"] == 2
    # Averages over units with data: top tier (66.7 + 100) / 2; nothing else lags more.
    assert (
        xz["comment"]
        == "最高档发放率最为滞后：66.7%，低于全市平均 16.6 个百分点；尚有遗漏 1 人次，在办辍学个案 1 件。"
    )
    assert "月报按时报送率最为滞后" in lx["comment"]


def test_the_monthly_build_writes_a_docx_and_xlsx_with_the_figures(known: None) -> None:
    out = io.StringIO()
    with time_machine.travel(
        dt.datetime(2019, 6, 1, 6, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False
    ):
        call_command("build_report", "monthly", "2019-05", stdout=out)
    report = Report.objects.get(kind="monthly", period=MAY)
    paths = out.getvalue().splitlines()[1:]
    assert paths == [report.docx.path, report.xlsx.path]
    doc = Document(report.docx.path)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "2019年5月教育助学脱贫工作月点评" in text
    assert "宣州区（第1名）" in text and "郎溪县（第2名）" in text
    cells = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    xz = next(r for r in cells if r[1] == "宣州区")
    assert xz[0] == "1" and xz[4] == "75.0" and xz[5] == "1"
    sheet = load_workbook(report.xlsx.path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "排名"
    lx = next(r for r in rows if r[1] == "郎溪县")
    # Numbers are stored as numbers, so the annex sums and sorts in Excel.
    assert lx[4] == 100.0 and isinstance(lx[4], int | float) and lx[8] == "已报（逾期）"


def test_building_twice_changes_nothing_and_regenerating_a_draft_is_allowed(known: None) -> None:
    first = build.report_build(kind="monthly", period=MAY)
    again = build.report_build(kind="monthly", period=MAY)
    assert (again.pk, again.generated_at, again.docx.name) == (
        first.pk,
        first.generated_at,
        first.docx.name,
    )
    assert Report.objects.count() == 1
    forced = build.report_build(kind="monthly", period=MAY, force=True)
    assert forced.generated_at and first.generated_at
    assert forced.generated_at > first.generated_at


def test_change_from_last_month_comes_from_the_last_review(known: None) -> None:
    april = build.report_build(kind="monthly", period=dt.date(2019, 4, 1))
    may = build.report_build(kind="monthly", period=MAY)
    before = {r["unit"]: r["rank"] for r in april.figures["rows"]}
    for row in may.figures["rows"]:
        assert row["rank_change"] == before[row["unit"]] - row["rank"]


def test_the_quarterly_circular_is_formal_and_freezes_when_issued(
    known: None, city_reviewer: Any
) -> None:
    from reports import services

    services.deadlines_check(today=dt.date(2019, 6, 16))
    with time_machine.travel(
        dt.datetime(2019, 7, 1, 7, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False
    ):
        report = Report.objects.get(pk=jobs.quarterly_circular_job())
    assert report.kind == "quarterly" and report.period == Q2
    assert report.doc_number == "宣教通〔2019〕1号"
    text = "\n".join(p.text for p in Document(report.docx.path).paragraphs)
    assert "关于2019年第二季度教育助学脱贫工作情况的通报" in text
    assert "各县市区教体局、市直学校：" in text
    for heading in ("二、表扬单位", "三、通报单位", "四、逾期事项及督办情况", "五、下季度工作要求"):
        assert heading in text
    assert "宣教督〔2019〕" in text  # the escalation notices of the quarter are named
    xuanzhou = next(line for line in text.splitlines() if line.startswith("宣州区："))
    assert "尚有1名建档立卡学生2019年春季学期资助未发放到位（2019年6月15日截止）" in xuanzhou
    assert "9月25日前完成2019秋季学期资助资金发放" in text
    annex = load_workbook(report.xlsx.path)
    assert annex.sheetnames == ["指标排名", "指标汇总", "整改事项", "逾期事项", "督办单"]

    report = build.report_texts_update(
        user=city_reviewer, report=report, texts={"summary": "人工修改的总体情况。"}
    )
    assert "人工修改的总体情况。" in "\n".join(
        p.text for p in Document(report.docx.path).paragraphs
    )
    rebuilt = build.report_build(kind="quarterly", period=Q2, force=True)
    assert rebuilt.texts["summary"] == "人工修改的总体情况。"  # staff edits survive a regeneration
    build.report_approve(user=city_reviewer, report=rebuilt)
    issued = build.report_issue(user=city_reviewer, report=rebuilt)
    frozen = (issued.figures, issued.docx.name, issued.xlsx.name, issued.generated_at)
    # Approving and issuing are claimed with update(); both are still in the audit trail.
    states = [(h.state, h.history_user) for h in issued.history.order_by("history_date")]
    assert states[-2:] == [("approved", city_reviewer), ("issued", city_reviewer)]
    # Later data changes: another student paid, another build forced. Nothing changes.
    MonthlySubmission.objects.filter(unit__code="langxi-jtj").update(
        first_submitted_at=at("2019-06-01")
    )
    again = build.report_build(kind="quarterly", period=Q2, force=True)
    assert (again.figures, again.docx.name, again.xlsx.name, again.generated_at) == frozen
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        build.report_texts_update(user=city_reviewer, report=again, texts={"summary": "x"})


def test_the_monthly_job_builds_the_month_before(known: None) -> None:
    with time_machine.travel(
        dt.datetime(2019, 6, 1, 6, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False
    ):
        pk = jobs.monthly_review_job()
        assert jobs.monthly_review_job() == pk
    assert Report.objects.get(pk=pk).period == MAY


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_builds_make_one_report(transactional_db: Any, request: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    request.getfixturevalue("plan")
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(
                build.report_build(
                    kind="quarterly", period=Q2, today=dt.date(2019, 7, 1)
                ).generated_at
            )
        except BaseException as exc:  # noqa: BLE001
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert Report.objects.count() == 1
    report = Report.objects.get()
    assert report.doc_number == "宣教通〔2019〕1号"  # one number used, not two
    assert len(set(results)) == 1
