"""Indicator totals in the monthly review, the quarterly circular and its annex, and the
documents' 版记 and rectification counts — every file read back as a user opens it."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from inspections.models import Inspection
from reports import build
from tasks.demo import sheet
from tasks.indicators import quantity
from tasks.models import Indicator

from ..inspections.conftest import inspection  # noqa: F401 - the fixture
from .test_documents import ISO_DATE, TASK_JARGON, _all_text

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=8))
MAY, Q2 = dt.date(2019, 5, 1), dt.date(2019, 4, 1)

#: The sheet the units send (several units and months), as (unit, month, task, indicator, value).
ROWS: list[tuple[str, str, int, str, str]] = [
    ("宣州区教体局", "2019-04", 4, "培训人次", "100"),
    ("宣州区教体局", "2019-05", 4, "培训人次", "120"),
    ("郎溪县教体局", "2019年5月", 4, "培训人次", "85"),
    ("宣州区教体局", "2019-04", 13, "建档立卡初中毕业生人数", "300"),
    ("宣州区教体局", "2019-05", 13, "建档立卡初中毕业生人数", "310"),
    ("市教体局计财科", "2019-03", 20, "中央资金", "10"),
    ("市教体局计财科", "2019-05", 20, "中央资金", "35.5"),
]


def _month(text: str) -> dt.date:
    text = text.replace("年", "-").replace("月", "")
    year, month = text.split("-")
    return dt.date(int(year), int(month), 1)


def expected(name: str, start: dt.date, end: dt.date) -> Decimal:
    """The total the rules give for ROWS: months add up, unless the indicator is a head
    count (then each unit's latest month); units add up."""
    sums = Indicator.objects.get(name=name).sums_over_months
    per_unit: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for unit, month, _task, indicator, value in ROWS:
        if indicator == name and start <= _month(month) <= end:
            per_unit[unit].append((_month(month), Decimal(value)))
    if sums:
        return sum((v for got in per_unit.values() for _m, v in got), Decimal(0))
    return sum((max(got)[1] for got in per_unit.values()), Decimal(0))


def shown(name: str, start: dt.date, end: dt.date) -> str:
    measure = Indicator.objects.get(name=name).measure
    return f"{quantity(expected(name, start, end), measure)}{measure}"


@pytest.fixture
def imported(plan: None, tmp_path: Path) -> None:
    path = tmp_path / "指标.xlsx"
    path.write_bytes(sheet(["单位", "月份", "任务序号", "指标", "数值"], [list(r) for r in ROWS]))
    with time_machine.travel(dt.datetime(2019, 6, 16, 10, tzinfo=TZ), tick=False):
        call_command("import_sheet", "indicators", str(path), stdout=io.StringIO())


def annex_rows(path: str) -> dict[tuple[str, str], list[Any]]:
    ws = load_workbook(path)["指标汇总"]
    header = [c.value for c in ws[1]]
    assert header == ["任务序号", "工作任务", "指标", "计量单位", "单位", "本期", "年度累计"]
    return {(r[2], r[4]): list(r) for r in ws.iter_rows(min_row=2, values_only=True)}


def test_the_monthly_review_totals_the_months_indicators(
    imported: None, city_reviewer: Any
) -> None:
    with time_machine.travel(dt.datetime(2019, 6, 16, 10, tzinfo=TZ), tick=False):
        report = build.report_build(kind="monthly", period=MAY)
    jan = dt.date(2019, 1, 1)
    text = _all_text(Document(report.docx.path))
    assert "三、工作指标完成情况" in text
    assert not TASK_JARGON.search(text) and not ISO_DATE.search(text)
    doc = Document(report.docx.path)
    table = [[c.text for c in row.cells] for row in doc.tables[-1].rows]
    assert table[0] == ["工作任务", "指标", "本月", "年度累计"]
    rows = {r[1]: r for r in table[1:]}
    for name in ("培训人次", "建档立卡初中毕业生人数", "中央资金"):
        assert rows[name][2:] == [shown(name, MAY, MAY), shown(name, jan, MAY)]
    assert rows["推普培训人次"][2:] == ["—", "—"]
    # The spreadsheet: per unit, numbers as numbers.
    annex = annex_rows(report.xlsx.path)
    total = annex[("培训人次", "合计")]
    assert total[5:] == [expected("培训人次", MAY, MAY), expected("培训人次", jan, MAY)]
    assert isinstance(total[5], int)
    assert annex[("中央资金", "计财科")][5:] == [35.5, 45.5]
    # The report's page shows them too.
    client = Client()
    client.force_login(city_reviewer)
    page = client.get(f"/reports/r/{report.pk}/").content.decode()
    assert 'id="indicator-table"' in page and shown("培训人次", MAY, MAY) in page


def test_the_circular_and_its_annex_total_the_quarter(imported: None) -> None:
    with time_machine.travel(dt.datetime(2019, 7, 1, 9, tzinfo=TZ), tick=False):
        report = build.report_build(kind="quarterly", period=Q2)
    jun, jan = dt.date(2019, 6, 1), dt.date(2019, 1, 1)
    text = _all_text(Document(report.docx.path))
    assert shown("培训人次", Q2, jun) in text and shown("中央资金", jan, jun) in text
    assert not TASK_JARGON.search(text)
    annex = annex_rows(report.xlsx.path)
    for name in ("培训人次", "建档立卡初中毕业生人数", "中央资金"):
        total = annex[(name, "合计")]
        assert total[5:] == [expected(name, Q2, jun), expected(name, jan, jun)]
        assert all(isinstance(v, int | float) for v in total[5:])
    assert annex[("培训人次", "宣州区")][5] == expected("培训人次", Q2, jun) - 85
    assert load_workbook(report.xlsx.path)["指标汇总"].print_title_rows == "$1:$1"


def _banji(doc: Any) -> list[Any]:
    return [p for p in doc.paragraphs if p.text.strip()][-2:]


def test_the_banji_sits_in_a_frame_at_the_foot_of_the_last_page(plan: None) -> None:
    with time_machine.travel(dt.datetime(2019, 6, 16, 10, tzinfo=TZ), tick=False):
        report = build.report_build(kind="monthly", period=MAY)
    doc = Document(report.docx.path)
    banji = _banji(doc)
    assert banji[0].text.startswith("抄送：") and banji[1].text.endswith("印发")
    body = doc.element.body
    assert banji[1]._p is body.findall(qn("w:p"))[-1]  # the document's last paragraph
    for p in banji:
        ppr = p._p.pPr
        frame = ppr.find(qn("w:framePr"))
        assert frame is not None
        assert (frame.get(qn("w:vAnchor")), frame.get(qn("w:yAlign"))) == ("margin", "bottom")
        # Word refuses properties out of the schema's order: the frame, then the rules.
        tags = [child.tag.split("}")[1] for child in ppr]
        assert tags.index("framePr") < tags.index("pBdr") < tags.index("spacing")
    # The last rule (0.35 mm) closes the 版记 on the text block's bottom edge.
    bottom = banji[1]._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert bottom.get(qn("w:sz")) == "8"


def test_the_cc_comes_from_the_setting(plan: None, settings: Any) -> None:
    settings.REPORT_CC = "市委办公室，市人民政府办公室，市扶贫开发领导小组办公室"
    with time_machine.travel(dt.datetime(2019, 7, 1, 9, tzinfo=TZ), tick=False):
        review = build.report_build(kind="monthly", period=MAY)
        circular = build.report_build(kind="quarterly", period=Q2)
    for report in (review, circular):
        cc = _banji(Document(report.docx.path))[0].text
        assert cc == f"抄送：{settings.REPORT_CC}。"
    assert circular.texts["cc"] == settings.REPORT_CC


def test_the_documents_count_the_rectification_items(
    inspection: Inspection,  # noqa: F811
) -> None:
    with time_machine.travel(dt.datetime(2019, 7, 1, 9, tzinfo=TZ), tick=False):
        review = build.report_build(kind="monthly", period=dt.date(2019, 6, 1))
        circular = build.report_build(kind="quarterly", period=Q2)
    for report in (review, circular):
        totals = report.figures["totals"]
        assert totals["rect_open"] == inspection.items.count()
        text = _all_text(Document(report.docx.path))
        sentence = f"整改事项尚未销号{totals['rect_open']}条"
        if totals["rect_overdue"]:
            sentence += f"（其中逾期{totals['rect_overdue']}条）"
        assert sentence in text, text[:600]
        sheet_rows = list(
            load_workbook(report.xlsx.path)["整改事项"].iter_rows(min_row=2, values_only=True)
        )
        assert sum(r[1] for r in sheet_rows) == totals["rect_open"]


def test_the_imported_sheet_totals_on_the_task_page_and_in_export_plan(
    imported: None, city_reviewer: Any, tmp_path: Path
) -> None:
    jan, jun = dt.date(2019, 1, 1), dt.date(2019, 6, 1)
    client = Client()
    client.force_login(city_reviewer)
    page = client.get("/tasks/13/?start=2019-01&end=2019-06").content.decode()
    table = page.split('id="indicator-units"', 1)[1].split("</table>", 1)[0]
    total = quantity(expected("建档立卡初中毕业生人数", jan, jun), "人")
    assert f"<th>合计</th><th>{total}</th>" in table.replace("\n", "")
    out = tmp_path / "计划.xlsx"
    with time_machine.travel(dt.datetime(2019, 6, 16, 10, tzinfo=TZ), tick=False):
        call_command("export_plan", str(out), stdout=io.StringIO())
    rows = {r[1]: r for r in load_workbook(out)["指标汇总"].iter_rows(min_row=2, values_only=True)}
    for name in ("培训人次", "建档立卡初中毕业生人数", "中央资金"):
        assert rows[name][3] == expected(name, jan, jun)
