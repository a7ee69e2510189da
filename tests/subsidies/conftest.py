from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest

from intake.base import ImportContext
from subsidies.models import Disbursement, Semester, SubsidyItem
from subsidies.services import standards_load
from tasks.models import RosterSnapshot, RosterStudent, School
from tasks.scoping import user_scope
from xc_fupin.lib.idnumber import make_id_number
from xc_fupin.lib.sheets import read_table

from ..factories import make_school

LIVING = "义务教育家庭经济困难学生生活补助"
AREA = {"xuanzhou": "341802", "langxi": "341821", "guangde": "341822"}


@pytest.fixture
def standards(plan: None) -> None:
    standards_load()


@pytest.fixture
def spring(standards: None) -> Semester:
    return Semester.objects.get(code="2019春")


@pytest.fixture
def fall(standards: None) -> Semester:
    return Semester.objects.get(code="2019秋")


@pytest.fixture
def xuanzhou_junior(plan: None) -> School:
    return make_school("xuanzhou", "宣州区第一初级中学", "3134001002", ["初中"])


@pytest.fixture
def city_high(plan: None) -> School:
    return make_school(None, "宣城中学", "3134000001", ["普通高中"])


def ident(county: str, n: int, *, year: int = 2010) -> str:
    return make_id_number(AREA[county], dt.date(year, 1 + n % 12, 1 + n % 28), n)


def add_student(
    school: School,
    number: int,
    *,
    name: str = "",
    stage: str = "小学",
    boarding: bool = False,
    county: str | None = None,
) -> RosterStudent:
    snapshot = RosterSnapshot.objects.first() or RosterSnapshot.objects.create(
        as_of=dt.date(2019, 3, 1)
    )
    slug = county or (school.county.slug if school.county else "xuanzhou")
    number_text = ident(slug, number)
    return RosterStudent.objects.create(
        id_number=number_text,
        name=name or f"学生{number}",
        gender="男" if int(number_text[16]) % 2 else "女",
        birth_date=dt.date(2010, 1, 1),
        county=school.county,
        household_county=school.county,
        school=school,
        stage=stage,
        boarding=boarding,
        snapshot=snapshot,
    )


@pytest.fixture
def pupils(spring: Semester, xuanzhou_school: School) -> list[RosterStudent]:
    return [
        add_student(xuanzhou_school, n, name=f"学生{n}", boarding=n % 2 == 0) for n in range(1, 5)
    ]


def pay(
    id_number: str,
    name: str,
    school: School,
    semester: Semester,
    amount: str,
    on: dt.date,
    item: str = LIVING,
) -> Disbursement:
    return Disbursement.objects.create(
        id_number=id_number,
        name=name,
        school=school,
        county=school.county,
        item=SubsidyItem.objects.get(name=item),
        semester=semester,
        amount=Decimal(amount),
        paid_on=on,
    )


def context(user: Any, **options: Any) -> ImportContext:
    return ImportContext(user=user, scope=user_scope(user), unit=user.unit, options=options)


def read(spec: Any, data: bytes, filename: str = "表.xlsx") -> Any:
    return read_table(io.BytesIO(data), filename=filename, columns=spec.columns)
