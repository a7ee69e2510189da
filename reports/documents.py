"""The printable files: the monthly review and the quarterly circular as .docx (python-docx)
laid out as GB/T 9704-2012《党政机关公文格式》 asks, and their figures as .xlsx.

Everything is rendered from a report's stored snapshot (`figures`, `texts`), never from
live data, so an issued circular's files can always be explained by its snapshot.

The layout, in numbers (GB/T 9704-2012 §5):
- A4 (210 × 297 mm); margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right, which
  leaves a text block (版心) of 156 × 225 mm.
- Body in 3号仿宋 (16 pt), 22 lines of 28 characters per page:
  line pitch = 225 mm / 22 = 10.23 mm = 28.99 pt; Word's grid takes whole twips, so 579
  twips (28.95 pt), and paragraphs use exactly that line spacing, so the 22 lines fit.
  Character pitch ≤ 156 mm / 28 = 15.79 pt: the text is condensed by 0.25 pt per
  character (w:spacing -5 twentieths in the Normal style), a pitch of 15.75 pt, 28 to the
  line. Not Word's character grid (docGrid linesAndChars with a negative charSpace):
  Word and WPS squeeze 16 pt glyphs into its 15.79 pt cells, but LibreOffice gives each
  glyph two cells and prints 14 characters a line (seen rendering the 季通报 to PDF), while
  condensed spacing lays out the same everywhere.
- Title in 2号小标宋 (22 pt), centred; first-level headings 3号黑体.
- Page numbers "— 1 —" in 4号宋体 (14 pt) below the text block: odd pages on the right,
  even pages on the left, each one character (14 pt) in from the edge of the block.
- 版记 at the end: 抄送 and 印发机关/印发日期 in 4号仿宋, between rules (the first and the
  last 0.35 mm, the one between 0.25 mm). §7.4.1 puts the last rule on the bottom edge of
  the text block of the document's last page, so the 版记 is a frame anchored to the
  bottom margin (w:framePr yAlign="bottom"), on the last page whatever the body's length.
  Its 抄送 comes from settings.REPORT_CC (env XC_REPORT_CC).
Dates are written 2019年6月15日 (texts.date_words); no ISO date appears in a document.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import OrderedDict
from typing import Any

from django.conf import settings
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from tasks.indicators import cell as number_cell
from tasks.indicators import quantity
from xc_fupin.lib.export import xlsx_bytes

from .texts import date_words, plain_item, semester_words, short_name_of_number, tidy

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

# Fonts by their Chinese names, as Word on a government office PC knows them.
FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
SONGTI = "宋体"
LATIN = "Times New Roman"

BODY_PT = 16.0  # 3号
TITLE_PT = 22.0  # 2号
PAGE_NUMBER_PT = 14.0  # 4号
BANJI_PT = 14.0  # 4号
TABLE_PT = 10.5  # 5号: tables are annexed detail, not body text
LINE_PITCH_TWIPS = 579  # 28.95 pt: 22 lines in the 225 mm block (see the module docstring)
LINE_PT = LINE_PITCH_TWIPS / 20
CONDENSE_TWENTIETHS = -5  # -0.25 pt a character: 28 in the 156 mm block (module docstring)
TEXT_WIDTH_MM = 210 - 28 - 26
RED = RGBColor(0xE6, 0x00, 0x12)  # 红色分隔线 and the masthead

CIRCULAR_ADDRESSEES = "各县市区教体局、市直学校："


def default_cc() -> str:
    """The 抄送 of the 版记 (settings.REPORT_CC, env XC_REPORT_CC); staff may change a
    circular's with its other paragraphs (texts["cc"])."""
    return str(settings.REPORT_CC)


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


def _state(r: dict[str, Any]) -> str:
    state = r["submission_state"]
    if r.get("submission_on_time") is False:
        state += "（逾期）"
    return str(state)


def review_row(r: dict[str, Any]) -> list[Any]:
    """One unit's row as the pages show it (text; "—" where there is no figure)."""
    return [
        r["rank"],
        r["unit"],
        _fmt(r["score"], True),
        _change(r.get("rank_change")),
        _fmt(r["coverage"], True),
        _fmt(r["omissions"]),
        _fmt(r["top_rate"], True),
        _fmt(r["informed_rate"], True),
        _state(r),
        _fmt(r["timeliness"], True),
        r["open_cases"],
        r["returned_cases"],
        _fmt(r["ledger_rate"], True),
        r["comment"],
    ]


def review_values(r: dict[str, Any]) -> list[Any]:
    """The same row for a spreadsheet: numbers stay numbers (a missing figure is an empty
    cell, not "—"), so the annex can be summed and sorted."""
    return [
        r["rank"],
        r["unit"],
        r["score"],
        _change(r.get("rank_change")),
        r["coverage"],
        r["omissions"],
        r["top_rate"],
        r["informed_rate"],
        _state(r),
        r["timeliness"],
        r["open_cases"],
        r["returned_cases"],
        r["ledger_rate"],
        tidy(str(r["comment"])),
    ]


def _ranked(figures: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(figures["rows"], key=lambda r: (r["rank"], r["unit_id"]))


def review_xlsx(figures: dict[str, Any], title: str) -> bytes:
    rows = [review_values(r) for r in _ranked(figures)]
    return xlsx_bytes(
        [
            (title[:31] or "月点评", REVIEW_HEADERS, rows),
            ("指标汇总", INDICATOR_HEADERS, indicator_values(figures)),
            ("整改事项", RECTIFICATION_HEADERS, rectification_values(figures)),
        ],
        column_widths={"点评": 60, "单位": 14, "工作任务": 24, "指标": 24},
    )


# --- the page ---------------------------------------------------------------------------


def _run(paragraph: Any, text: str, font: str = FANGSONG, size: float = BODY_PT, **kw: Any) -> Any:
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.name = SONGTI if font == SONGTI else LATIN
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if kw.get("bold"):
        run.bold = True
    if kw.get("color") is not None:
        run.font.color.rgb = kw["color"]
    return run


def _doc() -> Any:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(BODY_PT)
    style.font.name = LATIN
    rpr = style.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), FANGSONG)
    condensed = OxmlElement("w:spacing")
    condensed.set(qn("w:val"), str(CONDENSE_TWENTIETHS))
    rpr.append(condensed)
    fmt = style.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(LINE_PT)
    fmt.widow_control = False  # a grid of 22 lines: no line pushed to the next page

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance = Mm(15)
    # The page number sits about 7 mm below the text block (GB/T 9704 §7.5).
    section.footer_distance = Mm(35 - 7 - 6)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")  # 22 lines; characters: the condensed spacing above
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))
    if grid.get(qn("w:charSpace")) is not None:
        del grid.attrib[qn("w:charSpace")]
    _page_numbers(doc, section)
    return doc


def _field(paragraph: Any, instruction: str, shown: str) -> None:
    """A Word field (e.g. PAGE): Word and WPS replace `shown` with the value."""

    def char(kind: str) -> Any:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    r = _run(paragraph, "", SONGTI, PAGE_NUMBER_PT)
    r._element.append(char("begin"))
    r = _run(paragraph, "", SONGTI, PAGE_NUMBER_PT)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    r._element.append(instr)
    r = _run(paragraph, "", SONGTI, PAGE_NUMBER_PT)
    r._element.append(char("separate"))
    _run(paragraph, shown, SONGTI, PAGE_NUMBER_PT)
    r = _run(paragraph, "", SONGTI, PAGE_NUMBER_PT)
    r._element.append(char("end"))


def _page_numbers(doc: Any, section: Any) -> None:
    doc.settings.odd_and_even_pages_header_footer = True
    one_char = Pt(PAGE_NUMBER_PT)
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),  # odd pages: right, one character in
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),  # even pages: left
    ):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.alignment = align
        fmt = p.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            fmt.right_indent = one_char
        else:
            fmt.left_indent = one_char
        _run(p, "— ", SONGTI, PAGE_NUMBER_PT)
        _field(p, "PAGE", "1")
        _run(p, " —", SONGTI, PAGE_NUMBER_PT)


def _para(
    doc: Any,
    text: str,
    *,
    align: Any = None,
    indent: bool = True,
    font: str = FANGSONG,
    size: float = BODY_PT,
    bold: bool = False,
) -> Any:
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)  # 空二字
    _run(p, tidy(text), font, size, bold=bold)
    return p


def _blank(doc: Any) -> None:
    doc.add_paragraph()


def _title(doc: Any, text: str) -> None:
    p = _para(
        doc, text, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, font=XIAOBIAOSONG, size=TITLE_PT
    )
    # Two-line titles need room for 22 pt glyphs; 35 pt is the usual title spacing.
    p.paragraph_format.line_spacing = Pt(35)


def _heading(doc: Any, text: str) -> None:
    _para(doc, text, font=HEITI)


def _signature(doc: Any, issuer: str, day: dt.date) -> None:
    """发文机关署名 centred above the date; the date 右空四字 (GB/T 9704 §7.3.5.2)."""
    date = date_words(day)
    right = 4 * BODY_PT
    _blank(doc)
    _blank(doc)
    p = _para(doc, issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    # Centre the issuer over the date: half the difference of their widths, in characters.
    diff = (_width(date) - _width(issuer)) / 2
    p.paragraph_format.right_indent = Pt(right + max(diff, 0) * BODY_PT)
    d = _para(doc, date, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    d.paragraph_format.right_indent = Pt(right)


def _width(text: str) -> float:
    """Width in characters (digits and Latin letters are half a character)."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1 for ch in text)


#: The order of a paragraph's properties (ECMA-376 Part 1, §17.3.1.26 w:pPr).
_PPR_ORDER = (
    "w:pStyle",
    "w:keepNext",
    "w:keepLines",
    "w:pageBreakBefore",
    "w:framePr",
    "w:widowControl",
    "w:numPr",
    "w:suppressLineNumbers",
    "w:pBdr",
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def _insert_ppr(paragraph: Any, element: Any) -> None:
    """Put `element` into the paragraph's properties where the schema orders it (Word
    reports a w:pPr whose children are out of order as unreadable content)."""
    ppr = paragraph._p.get_or_add_pPr()
    tag = "w:" + element.tag.split("}")[1]
    ppr.insert_element_before(element, *_PPR_ORDER[_PPR_ORDER.index(tag) + 1 :])


def _frame_at_bottom(paragraph: Any) -> None:
    """Take the paragraph out of the flow into a frame as wide as the text block whose
    bottom is the bottom margin; consecutive paragraphs with the same frame properties
    share one frame (GB/T 9704 §7.4.1: the 版记 ends on the text block's bottom edge)."""
    frame = OxmlElement("w:framePr")
    for name, value in (
        ("w:w", str(round(TEXT_WIDTH_MM / 25.4 * 1440))),
        ("w:wrap", "around"),
        ("w:vAnchor", "margin"),
        ("w:hAnchor", "margin"),
        ("w:xAlign", "center"),
        ("w:yAlign", "bottom"),
    ):
        frame.set(qn(name), value)
    _insert_ppr(paragraph, frame)


def _border(paragraph: Any, **sides: float) -> None:
    """Rules above/below a paragraph: sides in millimetres (top=0.35, bottom=0.25)."""
    borders = OxmlElement("w:pBdr")
    for side in ("top", "bottom"):
        if side not in sides:
            continue
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        # w:sz is in eighths of a point: 0.35 mm ≈ 1 pt → 8; 0.25 mm ≈ 0.71 pt → 6.
        el.set(qn("w:sz"), str(round(sides[side] / 25.4 * 72 * 8)))
        el.set(qn("w:space"), "1")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    _insert_ppr(paragraph, borders)


def _banji(doc: Any, *, cc: str, office: str, day: dt.date) -> None:
    """The 版记: 抄送, then 印发机关 and 印发日期 on one line, between rules, in a frame at
    the foot of the last page (see `_frame_at_bottom`)."""
    one = Pt(BANJI_PT)
    cc_text = f"抄送：{tidy(cc).rstrip('。')}。"
    p = doc.add_paragraph()
    p.paragraph_format.left_indent = one
    p.paragraph_format.right_indent = one
    p.paragraph_format.line_spacing = Pt(BANJI_PT * 1.6)
    _run(p, cc_text, FANGSONG, BANJI_PT)
    _border(p, top=0.35, bottom=0.25)
    _frame_at_bottom(p)
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.left_indent = one
    fmt.line_spacing = Pt(BANJI_PT * 1.6)
    # 印发日期 flush right, one character in from the edge of the text block.
    fmt.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM) - one, WD_TAB_ALIGNMENT.RIGHT)
    _run(p, f"{office}\t{date_words(day)}印发", FANGSONG, BANJI_PT)
    _border(p, bottom=0.35)
    _frame_at_bottom(p)


def _table(doc: Any, headers: list[str], rows: list[list[Any]], widths: list[float]) -> Any:
    """A table in 5号 with single spacing; `widths` in millimetres (unit names on one line)."""
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False

    def fill(cell: Any, text: str, font: str, width: float) -> None:
        cell.width = Mm(width)
        p = cell.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        p.paragraph_format.first_line_indent = None
        # Off the body's 22-line grid: snapped, every 5号 line took a 29 pt grid line.
        snap = OxmlElement("w:snapToGrid")
        snap.set(qn("w:val"), "0")
        _insert_ppr(p, snap)
        _run(p, text, font, TABLE_PT)

    # 1 mm cell margins (Word's default is 1.9 mm): a two-character 5号 value fits 9 mm.
    margins = OxmlElement("w:tblCellMar")
    for side in ("w:left", "w:right"):
        el = OxmlElement(side)
        el.set(qn("w:w"), "57")
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    look = table._tbl.tblPr.find(qn("w:tblLook"))
    if look is not None:
        look.addprevious(margins)
    else:
        table._tbl.tblPr.append(margins)
    # The column widths in the table's grid too: Word reads each cell's width, LibreOffice
    # the grid (python-docx leaves it at equal columns).
    for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(round(width / 25.4 * 1440)))
    for cell, text, width in zip(table.rows[0].cells, headers, widths, strict=True):
        fill(cell, text, HEITI, width)
    for row in rows:
        for cell, value, width in zip(table.add_row().cells, row, widths, strict=True):
            fill(cell, str(value), FANGSONG, width)
    return table


def _save(doc: Any) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def office_of(issuer: str) -> str:
    """The 印发机关: the issuer's office (宣城市教育体育局 → 宣城市教育体育局办公室)."""
    return issuer if issuer.endswith("办公室") else f"{issuer}办公室"


# --- the monthly review -----------------------------------------------------------------

#: Columns of the review table in the document, and their widths (156 mm in all).
_REVIEW_COLUMNS = [
    ("排名", 9),
    ("单位", 22),  # 4 characters of 5号 plus the cell margins: "市直学校" on one line
    ("得分", 11),
    ("较上月", 10),
    ("覆盖率", 13),
    ("遗漏", 11),
    ("最高档", 13),
    ("告知率", 13),
    ("月报", 17),
    ("按时率", 13),
    ("辍学在办", 12),
    ("台账", 12),
]


def review_docx(
    *, title: str, figures: dict[str, Any], issuer: str, day: dt.date, cc: str | None = None
) -> bytes:
    """The monthly review: title, one paragraph, the ranked table, one comment per unit,
    the tasks' indicators (this month and since January)."""
    doc = _doc()
    _title(doc, title)
    _blank(doc)
    rows = _ranked(figures)
    avg = figures.get("averages", {})
    totals = figures.get("totals", {})
    intro = (
        f"根据各县市区教体局、市直学校报送的月报和系统数据（{semester_words(figures.get('semester'))}），"
        f"现对{len(rows)}个单位教育助学脱贫工作进行点评。全市平均资助覆盖率{_fmt(avg.get('coverage'), True)}%，"
        f"最高档发放率{_fmt(avg.get('top_rate'), True)}%，结果告知率{_fmt(avg.get('informed_rate'), True)}%，"
        f"月报按时报送率{_fmt(avg.get('timeliness'), True)}%；尚有{totals.get('unpaid_students', 0)}名建档立卡学生资助未发放到位"
        f"（遗漏{totals.get('omissions', 0)}人次），在办辍学个案{totals.get('open_cases', 0)}件。"
        f"{rectification_words(totals)}"
    )
    _para(doc, intro)
    _heading(doc, "一、综合排名")
    _table(
        doc,
        [h for h, _w in _REVIEW_COLUMNS],
        [row[:8] + [row[8], row[9], row[10], row[12]] for row in (review_row(r) for r in rows)],
        [w for _h, w in _REVIEW_COLUMNS],
    )
    _heading(doc, "二、单位点评")
    for r in rows:
        _para(doc, f"{r['unit']}（第{r['rank']}名）：{r['comment']}")
    if figures.get("indicators"):
        _heading(doc, "三、工作指标完成情况")
        _para(
            doc, "各单位随台账或指标表填报的工作指标，本月合计和年度累计如下（分单位数据见附表）："
        )
        _indicator_table(doc, figures["indicators"], "本月")
    _signature(doc, issuer, day)
    _banji(doc, cc=cc or default_cc(), office=office_of(issuer), day=day)
    return _save(doc)


def rectification_words(totals: dict[str, Any]) -> str:
    """The rectification items (明查暗访, 巡视反馈) in one sentence, or "" when the snapshot
    predates them."""
    if "rect_open" not in totals:
        return ""
    opened, overdue, closed = totals["rect_open"], totals["rect_overdue"], totals["rect_closed"]
    if not (opened or closed):
        return "明查暗访和巡视反馈意见暂无整改事项。"
    late = f"（其中逾期{overdue}条）" if overdue else ""
    return f"明查暗访和巡视反馈意见整改事项尚未销号{opened}条{late}，已整改销号{closed}条。"


#: The indicator table of the documents: task, indicator, the period, since January (mm).
_INDICATOR_WIDTHS: list[float] = [46, 50, 30, 30]


def _indicator_table(doc: Any, indicators: list[dict[str, Any]], period: str) -> None:
    """One row per indicator: the task by its short name (never "任务N"), the indicator
    and its unit, the period's total and the year's, each with its unit of measure."""

    def amount(value: str | None, measure: str) -> str:
        return "—" if value is None else f"{quantity(value, measure)}{measure}"

    _table(
        doc,
        ["工作任务", "指标", period, "年度累计"],
        [
            [
                short_name_of_number(i["task"]),
                i["name"],
                amount(i["total"], i["measure"]),
                amount(i["ytd"], i["measure"]),
            ]
            for i in indicators
        ],
        _INDICATOR_WIDTHS,
    )


INDICATOR_HEADERS = ["任务序号", "工作任务", "指标", "计量单位", "单位", "本期", "年度累计"]
RECTIFICATION_HEADERS = ["单位", "未销号", "其中逾期", "已销号"]


def indicator_values(figures: dict[str, Any]) -> list[list[Any]]:
    """The 指标汇总 sheet of an annex: per indicator a 合计 row, then each unit that
    reported it; numbers as numbers (an empty cell where a unit reported nothing in the
    period)."""
    out: list[list[Any]] = []
    for i in figures.get("indicators", []):
        head = [i["task"], short_name_of_number(i["task"]), i["name"], i["measure"]]
        out.append([*head, "合计", number_cell(i["total"]), number_cell(i["ytd"])])
        out += [
            [*head, u["unit"], number_cell(u["total"]), number_cell(u["ytd"])] for u in i["units"]
        ]
    return out


def indicator_display(figures: dict[str, Any]) -> list[dict[str, str]]:
    """The indicators of a report as its page shows them: words, not numbers to sum."""

    def amount(value: str | None, measure: str) -> str:
        return "—" if value is None else f"{quantity(value, measure)}{measure}"

    return [
        {
            "task": short_name_of_number(i["task"]),
            "name": i["name"],
            "total": amount(i["total"], i["measure"]),
            "ytd": amount(i["ytd"], i["measure"]),
            "units": "；".join(
                f"{u['unit']} {quantity(u['total'], i['measure'])}/{quantity(u['ytd'], i['measure'])}"
                for u in i["units"]
            ),
        }
        for i in figures.get("indicators", [])
    ]


def rectification_values(figures: dict[str, Any]) -> list[list[Any]]:
    return [
        [r["unit"], r.get("rect_open", 0), r.get("rect_overdue", 0), r.get("rect_closed", 0)]
        for r in _ranked(figures)
    ]


# --- the quarterly circular -------------------------------------------------------------


def _masthead(doc: Any, issuer: str, doc_number: str) -> None:
    """发文机关标志 in red, the 文号 below it, then the red rule (GB/T 9704 §7.2)."""
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.line_spacing = Pt(60)
    _run(p, f"{issuer}文件", XIAOBIAOSONG, 42, color=RED)
    _blank(doc)
    _para(doc, doc_number, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    rule = doc.add_paragraph()
    ppr = rule._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), "12")
    bottom.set(qn("w:space"), "1")
    bottom.set(qn("w:color"), "E60012")
    borders.append(bottom)
    ppr.append(borders)
    rule.paragraph_format.line_spacing = Pt(8)


def circular_docx(
    *,
    doc_number: str,
    title: str,
    texts: dict[str, str],
    figures: dict[str, Any],
    issuer: str,
    day: dt.date,
) -> bytes:
    """The quarterly circular in the national format: red masthead, 文号, title,
    addressees, sections one to five, annex note, signature, 版记."""
    doc = _doc()
    _masthead(doc, issuer, doc_number)
    _blank(doc)
    _title(doc, title)
    _blank(doc)
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
            "按时率(%)",
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
        [9, 22, 11, 14, 14, 14, 14, 14, 14, 14, 16],  # 156 mm, unit names on one line
    )
    if figures.get("indicators"):
        _para(doc, "各项工作指标本季度合计和年度累计如下（分单位数据见附件）：")
        _indicator_table(doc, figures["indicators"], "本季度")
    for heading, key in (
        ("二、表扬单位", "praised"),
        ("三、通报单位", "lagging"),
        ("四、逾期事项及督办情况", "missed"),
        ("五、下季度工作要求", "requirements"),
    ):
        _heading(doc, heading)
        for line in (texts.get(key) or "").splitlines():
            if line.strip():
                _para(doc, line.strip())
    _blank(doc)
    _para(doc, f"附件：{annex_title(title)}")
    _signature(doc, issuer, day)
    _banji(doc, cc=texts.get("cc") or default_cc(), office=office_of(issuer), day=day)
    return _save(doc)


def annex_title(title: str) -> str:
    """关于2019年第二季度教育助学脱贫工作情况的通报 → 2019年第二季度教育助学脱贫工作情况数据表."""
    core = title.removeprefix("关于").removesuffix("的通报")
    return f"{core}数据表"


# --- the circular's sentences -----------------------------------------------------------


def missed_lines(events: dict[str, Any]) -> list[str]:
    """Section 四: one paragraph per unit — its overdue items in plain words (each with
    its deadline), then the 督办单 it received. Never a task number, never an ISO date."""
    by_unit: OrderedDict[str, list[str]] = OrderedDict()
    for m in events.get("missed", []):
        due = date_words(dt.date.fromisoformat(m["due_on"]))
        items = [plain_item(str(i), m["unit"]) for i in m.get("items", [])]
        what = "；".join(i for i in items if i) or f"“{m.get('task', '')}”{m['deadline']}工作未完成"
        by_unit.setdefault(m["unit"], []).append(f"{what}（{due}截止）")
    escs: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for e in events.get("escalations", []):
        escs.setdefault(e["unit"], []).append(e)
    lines = []
    for unit in list(by_unit) + [u for u in escs if u not in by_unit]:
        parts = by_unit.get(unit, [])
        sentence = f"{unit}：{'；'.join(parts)}。" if parts else f"{unit}："
        sentence += _escalation_words(escs.get(unit, []))
        lines.append(tidy(sentence))
    return lines


def _escalation_words(escs: list[dict[str, Any]]) -> str:
    """The 督办单 a unit received, in one sentence however many there were."""
    if not escs:
        return ""
    numbers = "、".join(e["number"] for e in escs)
    dues = "、".join(date_words(dt.date.fromisoformat(e["answer_due"])) for e in escs)
    again = any(e["level"] > 1 for e in escs)
    states = sorted({e["state"] for e in escs})
    if len(escs) == 1:
        word = "再次督办单" if again else "督办单"
        return f"已下发{word}（{numbers}），要求于{dues}前报送整改报告，目前{states[0]}。"
    state = f"目前均{states[0]}" if len(states) == 1 else f"目前{'、'.join(states)}"
    return f"已下发督办单{len(escs)}份（{numbers}），要求分别于{dues}前报送整改报告，{state}。"


# --- the annex --------------------------------------------------------------------------

_LEVEL_WORDS = {1: "第一次督办"}


def level_words(level: int) -> str:
    return _LEVEL_WORDS.get(level, f"第{_chinese_number(level)}次督办")


def _chinese_number(n: int) -> str:
    digits = "零一二三四五六七八九十"
    return digits[n] if 0 <= n <= 10 else str(n)


def circular_xlsx(figures: dict[str, Any], title: str) -> bytes:
    """The annex: numbers as numbers, dates as dates; each sheet's header row repeats on
    every printed page (xc_fupin.lib.export sets print titles)."""
    rows = [review_values(r) for r in _ranked(figures)]
    events = figures.get("events", {})
    missed = [
        [
            m["unit"],
            f"{m.get('task', '')}（{m['deadline']}）" if m.get("task") else m["deadline"],
            dt.date.fromisoformat(m["due_on"]),
            "；".join(plain_item(str(i), m["unit"]) for i in m["items"]),
        ]
        for m in events.get("missed", [])
    ]
    escs = [
        [
            e["number"],
            e["unit"],
            level_words(int(e["level"])),
            f"{e.get('task', '')}（{e['deadline']}）" if e.get("task") else e["deadline"],
            dt.date.fromisoformat(e["raised_on"]),
            dt.date.fromisoformat(e["answer_due"]),
            e["state"],
        ]
        for e in events.get("escalations", [])
    ]
    return xlsx_bytes(
        [
            ("指标排名", REVIEW_HEADERS, rows),
            ("指标汇总", INDICATOR_HEADERS, indicator_values(figures)),
            ("整改事项", RECTIFICATION_HEADERS, rectification_values(figures)),
            ("逾期事项", ["单位", "截止事项", "截止日期", "未完成内容"], missed),
            (
                "督办单",
                ["文号", "单位", "级别", "截止事项", "下发日期", "整改报告期限", "状态"],
                escs,
            ),
        ],
        column_widths={
            "点评": 60,
            "未完成内容": 60,
            "截止事项": 36,
            "工作任务": 24,
            "指标": 24,
        },
    )
