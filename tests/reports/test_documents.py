"""The 季通报 and 月点评 as a 科长 would sign them: GB/T 9704-2012 layout, plain words,
dates of issue, praise only for units with nothing overdue; the annex keeps numbers as
numbers. Every file is read back with python-docx / openpyxl."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from reports import build, jobs, services
from reports.models import Report

from .test_reports import known  # noqa: F401 - the fixture with a known answer

TZ = dt.timezone(dt.timedelta(hours=8))
Q2 = dt.date(2019, 4, 1)
ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
TASK_JARGON = re.compile(r"任务\s*\d+")


def _all_text(doc: Any) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    for section in doc.sections:
        for part in (section.footer, section.even_page_footer, section.header):
            parts += [p.text for p in part.paragraphs]
    return "\n".join(parts)


def _section(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


@pytest.fixture
def circular(known: None, city_reviewer: Any) -> Report:  # noqa: F811
    services.deadlines_check(today=dt.date(2019, 6, 16))
    with time_machine.travel(dt.datetime(2019, 7, 1, 9, tzinfo=TZ), tick=False):
        return Report.objects.get(pk=jobs.quarterly_circular_job())


def test_the_circular_has_the_national_layout(circular: Report) -> None:
    doc = Document(circular.docx.path)
    section = doc.sections[0]
    mm = {
        name: round(getattr(section, name).mm, 1)
        for name in (
            "page_width",
            "page_height",
            "top_margin",
            "bottom_margin",
            "left_margin",
            "right_margin",
        )
    }
    assert mm == {
        "page_width": 210.0,
        "page_height": 297.0,
        "top_margin": 37.0,
        "bottom_margin": 35.0,
        "left_margin": 28.0,
        "right_margin": 26.0,
    }
    # Body: 3号 (16 pt) 仿宋 as the east-asian font; 22 lines a page on the grid.
    normal = doc.styles["Normal"]
    assert normal.font.size.pt == 16
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines" and grid.get(qn("w:linePitch")) == "579"
    # 28 characters a line: 16 pt glyphs condensed to a pitch that fits 28 in 156 mm.
    condensed = int(normal.element.rPr.find(qn("w:spacing")).get(qn("w:val"))) / 20
    assert 28 * (16 + condensed) <= 156 / 25.4 * 72 < 29 * (16 + condensed)
    # Page numbers "— 1 —": a PAGE field in the odd and the even footers.
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element.xml
        assert "PAGE" in "".join(t.text or "" for t in footer._element.iter(qn("w:instrText")))
        assert "fldChar" in xml
        assert footer.paragraphs[0].text.startswith("— ") and footer.paragraphs[0].text.endswith(
            " —"
        )
    assert doc.settings.odd_and_even_pages_header_footer
    # The 版记 closes the document: 抄送, then the printing office and the date of issue.
    last = [p.text for p in doc.paragraphs if p.text.strip()][-2:]
    assert last[0].startswith("抄送：")
    assert last[1].startswith("宣城市教育体育局办公室") and last[1].endswith("2019年7月1日印发")


def test_the_circular_speaks_plain_chinese_dated_on_its_issue_day(circular: Report) -> None:
    text = _all_text(Document(circular.docx.path))
    assert circular.doc_number == "宣教通〔2019〕1号" and "宣教通〔2019〕1号" in text
    assert "2019年7月1日" in text
    assert not ISO_DATE.search(text), ISO_DATE.findall(text)
    assert not TASK_JARGON.search(text), TASK_JARGON.findall(text)
    assert not re.search(r"[\u4e00-\u9fff] +[\d\u4e00-\u9fff]|\d +[\u4e00-\u9fff]", text)
    missed = _section(text, "四、逾期事项及督办情况", "五、下季度工作要求")
    # One paragraph per unit: 宣州区 appears at the start of exactly one line.
    starts = [line.split("：", 1)[0] for line in missed.splitlines() if "：" in line]
    assert len(starts) == len(set(starts)) and "宣州区" in starts


def test_no_praised_unit_has_an_overdue_item_or_an_open_escalation(circular: Report) -> None:
    text = _all_text(Document(circular.docx.path))
    praised = _section(text, "二、表扬单位", "三、通报单位")
    events = circular.figures["events"]
    blocked = {m["unit"] for m in events["missed"]} | {
        e["unit"] for e in events["escalations"] if e["open"]
    }
    assert "宣州区" in blocked  # 宣州区 ranks first but owes a payment and has a 督办单
    for unit in blocked:
        assert unit not in praised


def test_praise_goes_to_the_best_units_with_nothing_overdue() -> None:
    rows = [
        {"unit": "宣州区", "unit_id": 1, "rank": 1, "score": 90.0},
        {"unit": "郎溪县", "unit_id": 2, "rank": 2, "score": 80.0},
        {"unit": "广德市", "unit_id": 3, "rank": 3, "score": 70.0},
        {"unit": "泾县", "unit_id": 4, "rank": 4, "score": 60.0},
    ]
    data = {
        "rows": rows,
        "events": {
            "missed": [{"unit": "宣州区", "unit_id": 1}],
            "escalations": [{"unit": "郎溪县", "unit_id": 2, "open": True}],
            "not_praised": [],
        },
    }
    assert [r["unit"] for r in build.praisable(data)] == ["广德市", "泾县"]


def test_the_annex_keeps_numbers_and_repeats_its_header_on_print(circular: Report) -> None:
    book = load_workbook(circular.xlsx.path)
    sheet = book["指标排名"]
    assert sheet.print_title_rows == "$1:$1"
    header = [c.value for c in sheet[1]]
    score, coverage = header.index("综合得分"), header.index("资助覆盖率(%)")
    rows = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    xuanzhou = next(r for r in rows if r[1] == "宣州区")
    assert isinstance(xuanzhou[score], int | float) and xuanzhou[coverage] == 75.0
    assert all(r[score] is None or isinstance(r[score], int | float) for r in rows)
    levels = [r[2] for r in book["督办单"].iter_rows(min_row=2, values_only=True)]
    assert levels and set(levels) <= {"第一次督办", "第二次督办"}


def test_the_monthly_review_has_the_same_layout_and_no_iso_dates(known: None) -> None:  # noqa: F811
    with time_machine.travel(dt.datetime(2019, 6, 1, 9, tzinfo=TZ), tick=False):
        report = build.report_build(kind="monthly", period=dt.date(2019, 5, 1))
    doc = Document(report.docx.path)
    top = doc.sections[0].top_margin
    assert top is not None and round(top.mm, 1) == 37.0
    text = _all_text(doc)
    assert "2019年6月1日" in text and not ISO_DATE.search(text)
    assert any(p.text.startswith("抄送：") for p in doc.paragraphs)


def test_issuing_asks_for_confirmation_and_dates_the_files_on_the_day_of_issue(
    circular: Report, city_reviewer: Any
) -> None:
    build.report_approve(user=city_reviewer, report=circular)
    c = Client()
    c.force_login(city_reviewer)
    detail = c.get(f"/reports/r/{circular.pk}/").content.decode()
    assert f'href="/reports/r/{circular.pk}/issue/"' in detail  # a link to the confirm page
    with time_machine.travel(dt.datetime(2019, 7, 5, 9, tzinfo=TZ), tick=False):
        page = c.get(f"/reports/r/{circular.pk}/issue/").content.decode()
        circular.refresh_from_db()
        assert circular.state == Report.State.APPROVED  # looking at the page issues nothing
        assert "确认印发" in page and "2019年7月5日" in page
        assert c.post(f"/reports/r/{circular.pk}/issue/").status_code == 302
    circular.refresh_from_db()
    assert circular.state == Report.State.ISSUED
    text = _all_text(Document(circular.docx.path))
    assert "2019年7月5日印发" in text and "2019年7月1日" not in text


def test_a_circular_issued_in_the_new_year_takes_that_years_number(
    known: None,  # noqa: F811
    city_reviewer: Any,
) -> None:
    with time_machine.travel(dt.datetime(2019, 12, 31, 9, tzinfo=TZ), tick=False):
        draft = build.report_build(kind="quarterly", period=dt.date(2019, 10, 1))
        assert draft.doc_number == "宣教通〔2019〕1号"
        build.report_approve(user=city_reviewer, report=draft)
    with time_machine.travel(dt.datetime(2020, 1, 3, 9, tzinfo=TZ), tick=False):
        issued = build.report_issue(user=city_reviewer, report=draft)
    assert issued.doc_number == "宣教通〔2020〕1号"
    text = _all_text(Document(issued.docx.path))
    assert "宣教通〔2020〕1号" in text and "2020年1月3日印发" in text
    assert "〔2019〕" not in text
