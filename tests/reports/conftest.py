from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile

from intake.models import Upload
from subsidies.models import Disbursement, Semester, SubsidyItem
from subsidies.services import standards_load
from tasks import roles
from tasks.models import LedgerEntry, RosterSnapshot, RosterStudent, School, Task, Unit, User
from xc_fupin.lib.idnumber import make_id_number

from ..factories import make_school, make_user

TZ = dt.timezone(dt.timedelta(hours=8))
LIVING = "义务教育家庭经济困难学生生活补助"
AREA = {"xuanzhou": "341802", "langxi": "341821"}


def at(day: str, hour: int = 10) -> dt.datetime:
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, hour, tzinfo=TZ)


@pytest.fixture
def standards(plan: None) -> None:
    standards_load()


@pytest.fixture
def spring(standards: None) -> Semester:
    return Semester.objects.get(code="2019春")


@pytest.fixture
def mailed_xuanzhou(xuanzhou_staff: User) -> User:
    xuanzhou_staff.email = "xuanzhou@example.cn"
    xuanzhou_staff.save()
    return xuanzhou_staff


@pytest.fixture
def shizhi_staff(plan: None) -> User:
    return make_user("shizhi_staff", "city-schools", roles.SCHOOL_STAFF, email="shizhi@example.cn")


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def upload(
    unit_obj: Unit,
    kind: str,
    period: dt.date,
    *,
    on: str,
    rows: int = 10,
    user: User | None = None,
    state: str = Upload.State.APPLIED,
) -> Upload:
    """An applied upload of `kind` for `period`, uploaded on `on` (YYYY-MM-DD)."""
    user = (
        user
        or User.objects.filter(unit=unit_obj).first()
        or User.objects.create_user(
            username=f"u-{unit_obj.code}-{Upload.objects.count()}", unit=unit_obj
        )
    )
    up = Upload(
        kind=kind,
        unit=unit_obj,
        uploaded_by=user,
        original_name=f"{kind}.xlsx",
        size=3,
        sha256="0" * 64,
        period=period,
        state=state,
        rows_total=rows,
        rows_accepted=rows,
    )
    up.file.save("upload", ContentFile(b"abc"), save=False)
    up.save()
    Upload.objects.filter(pk=up.pk).update(created_at=at(on))
    up.refresh_from_db()
    return up


def ledger(
    task: int, unit_code: str, author: User, period: dt.date, status: str = "done"
) -> LedgerEntry:
    return LedgerEntry.objects.create(
        task=Task.objects.get(number=task),
        unit=unit(unit_code),
        period=period,
        status=status,
        narrative="已完成。",
        submitted_by=author,
    )


def student(school: School, n: int, county: str = "xuanzhou") -> RosterStudent:
    snapshot = RosterSnapshot.objects.first() or RosterSnapshot.objects.create(
        as_of=dt.date(2019, 3, 1)
    )
    return RosterStudent.objects.create(
        id_number=make_id_number(AREA[county], dt.date(2010, 1 + n % 12, 1 + n % 28), n),
        name=f"学生{n}",
        gender="男",
        birth_date=dt.date(2010, 1, 1),
        county=school.county,
        household_county=school.county,
        school=school,
        stage="小学",
        snapshot=snapshot,
    )


def pay(
    s: RosterStudent, semester: Semester, amount: str = "250", on: str = "2019-05-20"
) -> Disbursement:
    assert s.school is not None
    return Disbursement.objects.create(
        id_number=s.id_number,
        name=s.name,
        school=s.school,
        county=s.county,
        item=SubsidyItem.objects.get(name=LIVING),
        semester=semester,
        amount=Decimal(amount),
        paid_on=dt.date.fromisoformat(on),
    )


@pytest.fixture
def xz_school(plan: None) -> School:
    return make_school("xuanzhou", "宣州区实验小学", "3134001001", ["小学"])


@pytest.fixture
def lx_school(plan: None) -> School:
    return make_school("langxi", "郎溪县实验小学", "3134002001", ["小学"])


def deadline(task: int, due: str) -> Any:
    from tasks.models import Deadline

    return Deadline.objects.get(task__number=task, due_on=dt.date.fromisoformat(due))
