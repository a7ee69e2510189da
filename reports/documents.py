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
  Character pitch = 156 mm / 28 = 15.79 pt, i.e. 0.207 pt less than the 16 pt glyphs;
  Word's docGrid expresses that as charSpace = -0.207 × 4096 = -849.
- Title in 2号小标宋 (22 pt), centred; first-level headings 3号黑体.
- Page numbers "— 1 —" in 4号宋体 (14 pt) below the text block: odd pages on the right,
  even pages on the left, each one character (14 pt) in from the edge of the block.
- 版记 at the end: 抄送 and 印发机关/印发日期 in 4号仿宋, between rules (the first and the
  last 0.35 mm, the one between 0.25 mm).
Dates are written 2019年6月15日 (texts.date_words); no ISO date appears in a document.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import OrderedDict
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from xc_fupin.lib.export import xlsx_bytes

from .texts import date_words, plain_item, semester_words, tidy

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
CHAR_SPACE = -849  # 28 characters in the 156 mm block (see the module docstring)
TEXT_WIDTH_MM = 210 - 28 - 26
RED = RGBColor(0xE6, 0x00, 0x12)  # 红色分隔线 and the masthead

CIRCULAR_ADDRESSEES = "各县市区教体局、市直学校："
#: The default 抄送; staff may change it with the other paragraphs (texts["cc"]).
DEFAULT_CC = "市人民政府办公室，市扶贫开发领导小组办公室"


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
        [(title[:31] or "月点评", REVIEW_HEADERS, rows)], column_widths={"点评": 60, "单位": 14}
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
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FANGSONG)
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
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))
    grid.set(qn("w:charSpace"), str(CHAR_SPACE))
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


def _border(paragraph: Any, **sides: float) -> None:
    """Rules above/below a paragraph: sides in millimetres (top=0.35, bottom=0.25)."""
    ppr = paragraph._p.get_or_add_pPr()
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
    ppr.append(borders)


def _banji(doc: Any, *, cc: str, office: str, day: dt.date) -> None:
    """The 版记: 抄送, then 印发机关 and 印发日期 on one line, between rules."""
    _blank(doc)
    one = Pt(BANJI_PT)
    cc_text = f"抄送：{tidy(cc).rstrip('。')}。"
    p = doc.add_paragraph()
    p.paragraph_format.left_indent = one
    p.paragraph_format.right_indent = one
    p.paragraph_format.line_spacing = Pt(BANJI_PT * 1.6)
    _run(p, cc_text, FANGSONG, BANJI_PT)
    _border(p, top=0.35, bottom=0.25)
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.left_indent = one
    fmt.line_spacing = Pt(BANJI_PT * 1.6)
    # 印发日期 flush right, one character in from the edge of the text block.
    fmt.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM) - one, WD_TAB_ALIGNMENT.RIGHT)
    _run(p, f"{office}\t{date_words(day)}印发", FANGSONG, BANJI_PT)
    _border(p, bottom=0.35)


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
        _run(p, text, font, TABLE_PT)

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
    *, title: str, figures: dict[str, Any], issuer: str, day: dt.date, cc: str = DEFAULT_CC
) -> bytes:
    """The monthly review: title, one paragraph, the ranked table, one comment per unit."""
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
    _signature(doc, issuer, day)
    _banji(doc, cc=cc, office=office_of(issuer), day=day)
    return _save(doc)


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
    _banji(doc, cc=texts.get("cc") or DEFAULT_CC, office=office_of(issuer), day=day)
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
            ("逾期事项", ["单位", "截止事项", "截止日期", "未完成内容"], missed),
            (
                "督办单",
                ["文号", "单位", "级别", "截止事项", "下发日期", "整改报告期限", "状态"],
                escs,
            ),
        ],
        column_widths={"点评": 60, "未完成内容": 60, "截止事项": 36},
    )
