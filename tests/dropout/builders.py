"""Builders for dropout tests: registry rows written directly, so each test states its data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dropout.models import EnrolmentRecord, EnrolmentSnapshot, HouseholdChild
from tasks.models import County, RosterSnapshot, RosterStudent, Stage, Unit
from xc_fupin.lib.idnumber import make_id_number

XUANZHOU = "341802"
LANGXI = "341821"


def kid(born: str, seq: int, area: str = XUANZHOU) -> str:
    """A valid synthetic ID number for a child born on `born` (YYYY-MM-DD)."""
    return make_id_number(area, dt.date.fromisoformat(born), seq)


def enrol(
    id_number: str,
    name: str,
    school: Unit,
    status: str = "在读",
    as_of: str = "2019-10-01",
    grade: str = "三年级",
) -> EnrolmentRecord:
    day = dt.date.fromisoformat(as_of)
    snapshot, _ = EnrolmentSnapshot.objects.get_or_create(county_id=school.county_id, as_of=day)
    return EnrolmentRecord.objects.create(
        snapshot=snapshot,
        id_number=id_number,
        name=name,
        school=school,
        county_id=school.county_id,
        grade=grade,
        status=status,
        as_of=day,
    )


def household(
    id_number: str,
    name: str,
    county_slug: str = "xuanzhou",
    as_of: str = "2019-10-01",
    village: str = "金宝圩村",
) -> HouseholdChild:
    day = dt.date.fromisoformat(as_of)
    return HouseholdChild.objects.create(
        id_number=id_number,
        name=name,
        birth_date=dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])),
        county=County.objects.get(slug=county_slug),
        township="水阳镇",
        village=village,
        guardian="监护人",
        phone="13800000000",
        as_of=day,
    )


def roster(id_number: str, name: str, county_slug: str = "xuanzhou") -> RosterStudent:
    snapshot, _ = RosterSnapshot.objects.get_or_create(as_of=dt.date(2019, 3, 1))
    county = County.objects.get(slug=county_slug)
    return RosterStudent.objects.create(
        id_number=id_number,
        name=name,
        gender="男",
        birth_date=dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])),
        household_county=county,
        county=county,
        stage=Stage.PRIMARY,
        snapshot=snapshot,
    )


def poor_member(
    id_number: str,
    name: str,
    county_slug: str = "xuanzhou",
    as_of: str = "2019-09-01",
    poverty_status: str = "未脱贫",
    school_status: str = "小学",
    village: str = "新田村",
) -> Any:
    """A member of a registered poor household on the poverty office's list (建档立卡)."""
    from poverty.models import PovertyMember, PovertySnapshot

    day = dt.date.fromisoformat(as_of)
    county = County.objects.get(slug=county_slug)
    snapshot, _ = PovertySnapshot.objects.get_or_create(county=county, as_of=day)
    return PovertyMember.objects.create(
        snapshot=snapshot,
        county=county,
        township="狸桥镇",
        village=village,
        household_number=f"H{id_number[-6:]}",
        person_number=f"P{id_number[-6:]}",
        name=name,
        id_number=id_number,
        relation="之子",
        school_status=school_status,
        poverty_status=poverty_status,
        as_of=day,
    )
