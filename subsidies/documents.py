"""The printable notice to families (资助信息告知单 · 致家长朋友的一封信), as .docx.

Offices print and edit Word files, so a notice is a .docx: one page per student, with a
tear-off receipt (回执) the parent signs. Identity numbers are masked on paper.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Pt


@dataclass
class NoticeLine:
    item: str
    amount: Decimal
    paid_on: dt.date
    school: str


@dataclass
class NoticeData:
    student_name: str
    id_masked: str
    school: str
    stage: str
    grade: str
    semester: str
    lines: list[NoticeLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))


def _semester_words(code: str) -> str:
    if len(code) == 5 and code[-1] in "春秋":
        return f"{code[:4]}年{'春季' if code[-1] == '春' else '秋季'}学期"
    return code


def _font(document: DocumentType) -> None:
    style = document.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(12)
    # East Asian text uses the eastAsia font slot, not the Latin one.
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")


def _one(document: DocumentType, notice: NoticeData, issued_on: dt.date) -> None:
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("资助信息告知单")
    run.bold = True
    run.font.size = Pt(18)
    sub = document.add_paragraph("——致家长朋友的一封信")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.add_paragraph(f"尊敬的{notice.student_name}同学家长：")
    semester = _semester_words(notice.semester)
    document.add_paragraph(
        f"　　您好！您的孩子{notice.student_name}（身份证号 {notice.id_masked}）在{notice.school}"
        f"{notice.stage}{notice.grade}就读，属于建档立卡贫困家庭学生。根据国家和省学生资助政策，"
        f"{semester}您的孩子享受的资助如下："
    )
    if notice.lines:
        table = document.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(
            table.rows[0].cells, ("资助项目", "金额（元）", "发放日期", "发放学校"), strict=True
        ):
            cell.text = text
        for line in notice.lines:
            cells = table.add_row().cells
            cells[0].text = line.item
            cells[1].text = f"{line.amount:,.2f}"
            cells[2].text = f"{line.paid_on:%Y年%m月%d日}"
            cells[3].text = line.school
        cells = table.add_row().cells
        cells[0].text = "合计"
        cells[1].text = f"{notice.total:,.2f}"
    else:
        document.add_paragraph("　　本学期暂无发放记录。如您认为孩子应当享受资助，请与学校联系。")
    document.add_paragraph(
        "　　建档立卡贫困家庭学生享受资助不需要申请，也不需要提供任何证明材料"
        "（安徽省教育厅教秘计〔2018〕362号）。资助资金按规定发放到学生或家长账户，"
        "任何单位和个人不得截留、挤占、挪用。如对资助情况有疑问，请与学校或县（市、区）学生资助管理中心联系。"
    )
    signature = document.add_paragraph(f"{notice.school}\n{issued_on:%Y年%m月%d日}")
    signature.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.add_paragraph(
        "- - - - - - - - - - - - - - - - 沿此线剪开，回执交回学校 - - - - - - - - - - - - - - - -"
    )
    receipt = document.add_paragraph()
    receipt.add_run("回　执").bold = True
    document.add_paragraph(
        f"　　本人已收到{notice.student_name}同学{semester}资助信息告知单，"
        f"知悉孩子享受资助合计 {notice.total:,.2f} 元。"
    )
    document.add_paragraph(
        "家长签字：____________　　联系电话：____________　　日期：____年__月__日"
    )


def notices_docx(notices: Sequence[NoticeData], *, issued_on: dt.date) -> bytes:
    """One .docx with each notice on its own page."""
    document = Document()
    _font(document)
    for index, notice in enumerate(notices):
        if index:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _one(document, notice, issued_on)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
