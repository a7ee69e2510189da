"""A 学籍 export as the national registry (全国中小学生学籍信息管理系统) writes it.

The headers are the registry's field names in the order of its 学生基本信息 template
(EXTERNAL_FORMATS §1a), the columns the app does not read included; values are labels
("住校", "非留守儿童", "无残疾"), dates YYYYMMDD and months YYYYMM as text, ID numbers
and 学籍号 in text cells. No title row and no date column: the export has neither
(EXTERNAL_FORMATS names none), so the upload gives the date.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from openpyxl import Workbook

HEADERS = (
    "学校标识码",
    "学校名称",
    "姓名",
    "曾用名",
    "性别",
    "出生日期",
    "出生地行政区划代码",
    "籍贯",
    "民族",
    "国籍/地区",
    "身份证件类型",
    "身份证件号",
    "港澳台侨外",
    "健康状况",
    "全国学籍号",
    "学籍辅号",
    "班内学号",
    "年级",
    "班级",
    "入学年月",
    "入学方式",
    "就读方式",
    "现住址",
    "联系电话",
    "是否独生子女",
    "是否留守儿童",
    "是否进城务工人员随迁子女",
    "是否孤儿",
    "随班就读",
    "残疾人类型",
    "是否享受一补",
    "学籍状态",
    "成员1姓名",
    "成员1关系",
    "成员1身份证件号",
    "成员1联系电话",
)
#: Cells the app reads as identifiers: written as text, as the registry does.
TEXT_COLUMNS = {"学校标识码", "身份证件号", "全国学籍号", "学籍辅号", "出生日期", "入学年月"}


@dataclass
class Pupil:
    """One row of the export; `student_number` defaults to G + the ID."""

    school_code: str
    school_name: str
    name: str
    id_number: str
    grade: str
    status: object = "在读"
    attendance: str = "走读"
    id_type: str = "居民身份证"
    student_number: str | None = None
    left_behind: str = "非留守儿童"
    disability: str = "无残疾"
    class_name: str = "1班"
    entry_month: str = "201809"
    aux_number: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def cells(self) -> dict[str, object]:
        ident = self.id_number
        birth = ident[6:14] if len(ident) == 18 else ""
        gender = ("男" if int(ident[16]) % 2 else "女") if len(ident) == 18 else "男"
        number = self.student_number if self.student_number is not None else "G" + ident
        return {
            "学校标识码": self.school_code,
            "学校名称": self.school_name,
            "姓名": self.name,
            "性别": gender,
            "出生日期": birth,
            "出生地行政区划代码": "341802000000",
            "籍贯": "安徽省宣城市",
            "民族": "汉族",
            "国籍/地区": "中国",
            "身份证件类型": self.id_type,
            "身份证件号": ident,
            "港澳台侨外": "否",
            "健康状况": "健康或良好",
            "全国学籍号": number,
            "学籍辅号": self.aux_number,
            "班内学号": "1",
            "年级": self.grade,
            "班级": self.class_name,
            "入学年月": self.entry_month,
            "入学方式": "就近入学",
            "就读方式": self.attendance,
            "现住址": "安徽省宣城市宣州区水阳镇",
            "联系电话": "13800000000",
            "是否独生子女": "否",
            "是否留守儿童": self.left_behind,
            "是否进城务工人员随迁子女": "否",
            "是否孤儿": "否",
            "随班就读": "非随班就读",
            "残疾人类型": self.disability,
            "是否享受一补": "否",
            "学籍状态": self.status,
            "成员1姓名": self.name[0] + "建国",
            "成员1关系": "父亲",
            "成员1身份证件号": "",
            "成员1联系电话": "13900000000",
            **self.extra,
        }


def registry_xlsx(pupils: Sequence[Pupil], *, dated: str | None = None) -> bytes:
    """The export of `pupils`; `dated` adds a 统计日期 column (a county's own addition)."""
    headers = [*HEADERS, "统计日期"] if dated else list(HEADERS)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "学生基本信息"
    sheet.append(headers)
    for pupil in pupils:
        cells = {**pupil.cells(), "统计日期": dated}
        sheet.append([cells.get(h, "") for h in headers])
    for index, header in enumerate(headers, start=1):
        if header in TEXT_COLUMNS:
            for (cell,) in sheet.iter_rows(min_col=index, max_col=index, min_row=2):
                cell.number_format = "@"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
