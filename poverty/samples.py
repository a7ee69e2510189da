"""Member exports as the poverty system (全国扶贫开发信息系统) produces them, for tests,
the demo and anyone trying the import: a merged title row, the system's headers in its
order, every cell text (IDs, household and person numbers keep their digits), households
with adults and children, 户主 first."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from openpyxl import Workbook

from xc_fupin.lib.idnumber import make_id_number

HEADERS = (
    "县(市、区、旗)",
    "乡(镇)",
    "行政村",
    "自然村",
    "户编号",
    "人编号",
    "姓名",
    "证件号码",
    "人数",
    "与户主关系",
    "民族",
    "文化程度",
    "在校生状况",
    "健康状况",
    "劳动技能",
    "务工时间（月）",
    "脱贫属性",
    "贫困户属性",
    "主要致贫原因",
)


@dataclass
class Person:
    name: str
    id_number: str  # as the export writes it: 18 characters, or 20/22 for a 残疾人证
    relation: str = "户主"
    school_status: str = "非在校生"
    education: str = "初中"
    health: str = "健康"
    labour_skill: str = "普通劳动力"
    migrant_months: int = 0


@dataclass
class Household:
    number: str  # 户编号
    county: str = "宣州区"
    township: str = "水阳镇"
    village: str = "金宝圩村"
    natural_village: str = "王村组"
    status: str = "已脱贫（享受政策）"
    household_type: str = "一般贫困户"
    cause: str = "因学"
    people: list[Person] = field(default_factory=list)


def child_id(area: str, birth: str, sequence: int) -> str:
    return make_id_number(area, dt.date.fromisoformat(birth), sequence)


def family(
    number: str,
    children: Iterable[tuple[str, str, str]],
    *,
    area: str = "341802",
    sequence: int = 0,
    **household: object,
) -> Household:
    """A household of two parents and `children` (name, birth date, 在校生状况)."""
    base = sequence * 10 % 990
    people = [
        Person(f"{number[-3:]}父", make_id_number(area, dt.date(1980, 3, 1), base + 1)),
        Person(
            f"{number[-3:]}母",
            make_id_number(area, dt.date(1982, 7, 9), base + 2),
            relation="配偶",
            labour_skill="技能劳动力",
            migrant_months=10,
        ),
    ]
    for index, (name, birth, status) in enumerate(children):
        people.append(
            Person(
                name,
                make_id_number(area, dt.date.fromisoformat(birth), base + 3 + index),
                relation="之子" if index % 2 == 0 else "之女",
                school_status=status,
                education="学龄前儿童" if status in ("非在校生", "学前教育") else "小学",
                labour_skill="无劳动力",
            )
        )
    return Household(number, people=people, **household)  # type: ignore[arg-type]


def rows(households: Sequence[Household]) -> list[list[object]]:
    out: list[list[object]] = []
    for house in households:
        for index, person in enumerate(house.people, start=1):
            out.append(
                [
                    house.county,
                    house.township,
                    house.village,
                    house.natural_village,
                    house.number,
                    f"{house.number}{index:02d}",
                    person.name,
                    person.id_number,
                    str(len(house.people)),
                    person.relation,
                    "汉族",
                    person.education,
                    person.school_status,
                    person.health,
                    person.labour_skill,
                    str(person.migrant_months),
                    house.status,
                    house.household_type,
                    house.cause,
                ]
            )
    return out


def poverty_export(
    households: Sequence[Household],
    *,
    title: str = "贫困人口信息表",
    headers: Sequence[str] = HEADERS,
    extra_rows: Sequence[Sequence[object]] = (),
    as_of: str | None = None,
) -> bytes:
    """The .xlsx a county downloads from the poverty system; `as_of` adds the 数据日期
    column later exports carry."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.append([*headers, *(["数据日期"] if as_of else [])])
    for row in [*rows(households), *extra_rows]:
        sheet.append([*row, *([as_of] if as_of else [])])
    for column in ("H", "E", "F"):  # the exporter sets ID and number columns to text (@)
        for cell in sheet[column][2:]:
            cell.number_format = "@"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
