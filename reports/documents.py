"""The printable files: the monthly review and the quarterly circular as .docx (python-docx,
in the bureau's document format) and their figures as .xlsx (xc_fupin.lib.export).

Everything is rendered from a report's stored snapshot (`figures`, `texts`), never from
live data, so an issued circular's files can always be explained by its snapshot.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from xc_fupin.lib.export import xlsx_bytes

REVIEW_HEADERS = [
    "排名",
    "单位",
    "综合得分",
    "较上月排名",
    "资助覆盖率(%)",
    "遗漏(人次)",
    "最高档发放率(%)",
    "结果告知率(%)",
    "月报状态",
    "月报按时率(%)",
    "在办辍学个案",
    "劝返复学",
    "台账完成率(%)",
    "点评",
]


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None:
        return "—"
    if pct:
        return f"{value:.1f}"
    return str(value)


def _change(value: int | None) -> str:
    if value is None:
        return "—"
    if value > 0:
        return f"↑{value}"
    if value < 0:
        return f"↓{-value}"
    return "持平"


def review_row(r: dict[str, Any]) -> list[Any]:
    state = r["submission_state"]
    if r.get("submission_on_time") is False:
        state += "（逾期）"
    return [
        r["rank"],
        r["unit"],
        _fmt(r["score"], True),
        _change(r.get("rank_change")),
        _fmt(r["coverage"], True),
        _fmt(r["omissions"]),
        _fmt(r["top_rate"], True),
        _fmt(r["informed_rate"], True),
        state,
        _fmt(r["timeliness"], True),
        r["open_cases"],
        r["returned_cases"],
        _fmt(r["ledger_rate"], True),
        r["comment"],
    ]


def _ranked(figures: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(figures["rows"], key=lambda r: (r["rank"], r["unit_id"]))


def review_xlsx(figures: dict[str, Any], title: str) -> bytes:
    rows = [review_row(r) for r in _ranked(figures)]
    return xlsx_bytes(
        [(title[:31] or "月点评", REVIEW_HEADERS, rows)], column_widths={"点评": 60, "单位": 14}
    )


def _doc() -> Any:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "仿宋_GB2312"
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋_GB2312")
    section = doc.sections[0]
    section.page_width, section.page_height = Pt(595), Pt(842)  # A4
    return doc


def _run_font(
    run: Any, name: str, size: float, bold: bool = False, color: RGBColor | None = None
) -> None:
    run.font.name = name
    run._element.rPr.rFonts.set(qn("w:eastAsia"), name)
    run.font.size = Pt(size)
    run.bold = bold
    if color is not None:
        run.font.color.rgb = color


def _para(
    doc: Any,
    text: str,
    *,
    align: Any = None,
    indent: bool = True,
    font: str | None = None,
    size: float = 14,
    bold: bool = False,
) -> Any:
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    run = p.add_run(text)
    _run_font(run, font or "仿宋_GB2312", size, bold)
    return p


def _heading(doc: Any, text: str) -> None:
    _para(doc, text, font="黑体", size=14)


def _table(doc: Any, headers: list[str], rows: list[list[Any]], size: float = 9) -> Any:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        _run_font(cell.paragraphs[0].add_run(text), "黑体", size)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = ""
            _run_font(cell.paragraphs[0].add_run(str(value)), "仿宋_GB2312", size)
    return table


def _date_words(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def review_docx(*, title: str, figures: dict[str, Any], issuer: str, day: dt.date) -> bytes:
    """The monthly review: title, one paragraph, the ranked table, one comment per unit."""
    doc = _doc()
    _para(doc, title, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, font="方正小标宋简体", size=20)
    rows = _ranked(figures)
    avg = figures.get("averages", {})
    totals = figures.get("totals", {})
    intro = (
        f"根据各县市区教体局、市直学校报送的月报和系统数据（{figures.get('semester') or '当前学期'}），"
        f"现对{len(rows)}个单位教育助学脱贫工作进行点评。全市平均资助覆盖率{_fmt(avg.get('coverage'), True)}%，"
        f"最高档发放率{_fmt(avg.get('top_rate'), True)}%，结果告知率{_fmt(avg.get('informed_rate'), True)}%，"
        f"月报按时报送率{_fmt(avg.get('timeliness'), True)}%；尚有{totals.get('unpaid_students', 0)}名建档立卡学生资助未发放到位"
        f"（遗漏{totals.get('omissions', 0)}人次），在办辍学个案{totals.get('open_cases', 0)}件。"
    )
    _para(doc, intro)
    _heading(doc, "一、综合排名")
    _table(
        doc,
        [
            "排名",
            "单位",
            "得分",
            "较上月",
            "覆盖率",
            "遗漏",
            "最高档",
            "告知率",
            "月报",
            "按时率",
            "辍学在办",
            "台账",
        ],
        [row[:8] + [row[8], row[9], row[10], row[12]] for row in (review_row(r) for r in rows)],
    )
    _heading(doc, "二、单位点评")
    for r in rows:
        _para(doc, f"{r['unit']}（第{r['rank']}名）：{r['comment']}")
    _para(doc, "")
    _para(doc, issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _para(doc, _date_words(day), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


CIRCULAR_ADDRESSEES = "各县市区教体局、市直学校："


def circular_docx(
    *,
    doc_number: str,
    title: str,
    texts: dict[str, str],
    figures: dict[str, Any],
    issuer: str,
    day: dt.date,
) -> bytes:
    """The quarterly circular in the bureau's format: red masthead, 文号, title,
    addressees, sections one to five, sign-off; the ranked figures as a table."""
    doc = _doc()
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run_font(p.add_run(f"{issuer}文件"), "方正小标宋简体", 26, color=RGBColor(0xC0, 0x00, 0x00))
    _para(doc, doc_number, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _para(doc, title, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, font="方正小标宋简体", size=20)
    _para(doc, CIRCULAR_ADDRESSEES, indent=False)
    _para(doc, texts.get("summary", ""))
    _heading(doc, "一、主要指标排名")
    rows = _ranked(figures)
    _table(
        doc,
        [
            "排名",
            "单位",
            "得分",
            "覆盖率(%)",
            "遗漏(人次)",
            "最高档(%)",
            "告知率(%)",
            "月报按时率(%)",
            "辍学在办",
            "劝返复学",
            "台账(%)",
        ],
        [
            [
                r["rank"],
                r["unit"],
                _fmt(r["score"], True),
                _fmt(r["coverage"], True),
                _fmt(r["omissions"]),
                _fmt(r["top_rate"], True),
                _fmt(r["informed_rate"], True),
                _fmt(r["timeliness"], True),
                r["open_cases"],
                r["returned_cases"],
                _fmt(r["ledger_rate"], True),
            ]
            for r in rows
        ],
    )
    _heading(doc, "二、表扬单位")
    for line in (texts.get("praised") or "").splitlines():
        if line.strip():
            _para(doc, line.strip())
    _heading(doc, "三、通报单位")
    for line in (texts.get("lagging") or "").splitlines():
        if line.strip():
            _para(doc, line.strip())
    _heading(doc, "四、逾期事项及督办情况")
    for line in (texts.get("missed") or "").splitlines():
        if line.strip():
            _para(doc, line.strip())
    _heading(doc, "五、下季度工作要求")
    for line in (texts.get("requirements") or "").splitlines():
        if line.strip():
            _para(doc, line.strip())
    _para(doc, "")
    _para(doc, "附件：" + title + "数据表（Excel）", indent=True)
    _para(doc, "")
    _para(doc, issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _para(doc, _date_words(day), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def circular_xlsx(figures: dict[str, Any], title: str) -> bytes:
    rows = [review_row(r) for r in _ranked(figures)]
    events = figures.get("events", {})
    missed = [
        [m["unit"], m["deadline"], m["due_on"], "；".join(m["items"])]
        for m in events.get("missed", [])
    ]
    escs = [
        [
            e["number"],
            e["unit"],
            e["level"],
            e["deadline"],
            e["raised_on"],
            e["answer_due"],
            e["state"],
        ]
        for e in events.get("escalations", [])
    ]
    return xlsx_bytes(
        [
            ("指标排名", REVIEW_HEADERS, rows),
            ("逾期事项", ["单位", "截止事项", "截止日期", "未完成内容"], missed),
            (
                "督办单",
                ["文号", "单位", "级别", "截止事项", "下发日期", "整改报告期限", "状态"],
                escs,
            ),
        ],
        column_widths={"点评": 60, "未完成内容": 60},
    )
