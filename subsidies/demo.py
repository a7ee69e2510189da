"""Demo data for the run command: standards, ~300 roster students and some notices
delivered; the spring 2019 payments (with omissions, below-top-tier and late payments to
find, a few payments to students off the roster) are planned here and uploaded month by
month by the reports demo. Nothing is dated after the demo day. Safe to re-run (it does
nothing the second time)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db import transaction

from tasks import clock
from tasks.models import County, RosterSnapshot, RosterStudent, School, Unit
from xc_fupin.lib.idnumber import make_id_number

from .lookups import semester_rules
from .models import Notice, Semester, SubsidyItem
from .services import standards_load

SOURCE = "演示名册（学生资助）"
TZ = dt.timezone(dt.timedelta(hours=8))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯许邓曹彭曾汪"
GIVEN = "子涵浩然梓萱宇轩欣怡雨桐俊杰佳琪思远文博嘉怡晨曦明轩诗涵一诺若汐宏伟静怡"
# Birth years by stage, as children of that stage in 2019 were born.
BIRTH_YEARS = {
    "学前教育": (2014, 2016),
    "小学": (2007, 2012),
    "初中": (2004, 2007),
    "普通高中": (2001, 2004),
    "中等职业教育": (2001, 2004),
    "高等教育": (1998, 2001),
}
GRADES = {
    "学前教育": ["小班", "中班", "大班"],
    "小学": ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"],
    "初中": ["七年级", "八年级", "九年级"],
    "普通高中": ["高一", "高二", "高三"],
    "中等职业教育": ["一年级", "二年级", "三年级"],
    "高等教育": ["大一", "大二", "大三"],
}


def _name(rng: random.Random) -> str:
    given = "".join(rng.sample(GIVEN, rng.choice([1, 2])))
    return rng.choice(SURNAMES) + given


def _students(rng: random.Random) -> list[RosterStudent]:
    snapshot = RosterSnapshot.objects.create(
        as_of=dt.date(2019, 3, 1), source=SOURCE, note="演示数据"
    )
    counties = list(County.objects.prefetch_related("codes").order_by("order"))
    xuanzhou = counties[0]
    codes = {c.pk: [code.code for code in c.codes.all()] for c in counties}
    schools = list(School.objects.filter(code__startswith="school-").order_by("order"))
    made: list[RosterStudent] = []
    sequence = 500  # the upper half of the sequence range, clear of other demo rosters
    for school in schools:
        county = school.county or xuanzhou
        count = 8 if school.is_city_run else 9
        for _ in range(count):
            stage = rng.choice(school.stages or ["小学"])
            born = dt.date(rng.randint(*BIRTH_YEARS[stage]), rng.randint(1, 12), rng.randint(1, 28))
            household = county if rng.random() < 0.9 else rng.choice(counties)
            sequence += 1
            made.append(
                RosterStudent(
                    id_number=make_id_number(
                        rng.choice(codes[household.pk]), born, sequence % 1000
                    ),
                    name=_name(rng),
                    gender="",
                    birth_date=born,
                    household_county=household,
                    county=school.county or household,
                    school=school,
                    stage=stage,
                    grade=rng.choice(GRADES[stage]),
                    boarding=stage in ("小学", "初中") and rng.random() < 0.3,
                    snapshot=snapshot,
                )
            )
    for s in made:
        s.gender = "男" if int(s.id_number[16]) % 2 else "女"
        # A city-run school's students are managed by the city: county stays empty.
        if s.school and s.school.is_city_run:
            s.county = None
    RosterStudent.objects.bulk_create(made, ignore_conflicts=True)
    return list(RosterStudent.objects.filter(snapshot=snapshot).select_related("school"))


#: The days the schools paid (the payment lists of the spring term, one a month).
BATCHES = (dt.date(2019, 3, 22), dt.date(2019, 4, 19), dt.date(2019, 5, 17), dt.date(2019, 6, 10))
#: The columns of the 资助发放明细 template (subsidies.imports.DisbursementsSpec).
HEADERS = ("身份证号", "姓名", "就读学校", "资助项目", "学期", "金额(元)", "发放日期")


def reporting_unit_code(school: Unit) -> str:
    """Who uploads a school's payments: its county bureau, or 市直学校 for city-run ones."""
    if school.is_city_run or school.county is None:
        return "city-schools"
    return f"{school.county.slug}-jtj"


def _planned(
    rng: random.Random,
    students: list[RosterStudent],
    semester: Semester,
    paid_share: float,
    today: dt.date,
) -> list[tuple[str, tuple[Any, ...]]]:
    """(uploading unit code, sheet row) of every payment made by `today`: most paid on
    one of the batch days, some omitted, some below the top tier, a few after the deadline."""
    rules = semester_rules(semester)
    names = dict(SubsidyItem.objects.values_list("pk", "name"))
    owed: dict[tuple[str, bool], list[Any]] = {}
    for rule in rules:
        owed.setdefault((rule.stage, rule.boarding), []).append(rule)
    late_days = (today - semester.deadline).days
    made: list[tuple[str, tuple[Any, ...]]] = []

    def row(number: str, name: str, school: Unit, rule: Any, amount: Decimal, on: dt.date) -> None:
        if on > today:
            return  # not paid yet on the demo day
        made.append(
            (
                reporting_unit_code(school),
                (number, name, school.name, names[rule.item_id], semester.code, amount, on),
            )
        )

    for s in students:
        if s.school is None:
            continue
        for rule in owed.get((s.stage, s.boarding), []):
            if rng.random() > paid_share:
                continue  # an omission for the check to find
            amount = rule.top
            if rule.checks_tier and rng.random() < 0.06:
                amount = (rule.top / 2).quantize(Decimal("0.01"))  # below the highest tier
            on = rng.choice(BATCHES)
            late, days = rng.random() < 0.05, rng.randint(1, 20)  # drawn always: same plan
            if late and late_days > 0:
                on = semester.deadline + dt.timedelta(days=min(days, late_days))
            row(s.id_number, s.name, s.school, rule, amount, on)
    # Other needy students the schools paid too: listed apart by the check.
    schools = [s.school for s in students[:: max(1, len(students) // 4)] if s.school]
    for n, school in enumerate(schools[:4]):
        stage_rules = [r for r in rules if r.stage in (school.stages or [])]
        if not stage_rules:
            continue
        number = make_id_number("341802", dt.date(2009, 3, 1 + n), 900 + n)
        row(number, _name(rng), school, stage_rules[0], stage_rules[0].top, BATCHES[2])
    return made


def payment_rows(unit_code: str, period: dt.date, *, until: dt.date) -> list[tuple[Any, ...]]:
    """The rows of the 资助发放明细 sheet `unit_code` uploads for the month `period`: the
    spring 2019 payments it made that month, in a story that ends on `until` (the demo
    day). Deterministic, so the reports demo can ask for each month's sheet in turn."""
    students = list(
        RosterStudent.objects.filter(snapshot__source=SOURCE)
        .select_related("school", "school__county")
        .order_by("id_number")
    )
    if not students:
        return []
    rng = random.Random(20190615)  # noqa: S311 - demo data, reproducible on purpose
    spring = Semester.objects.get(code="2019春")
    return [
        r
        for code, r in _planned(rng, students, spring, 0.93, until)
        if code == unit_code and r[6].replace(day=1) == period
    ]


def _notices(rng: random.Random, students: list[RosterStudent], semester: Semester) -> int:
    # Families were told in the last weeks before the deadline, never after the demo day.
    last = min(semester.deadline, clock.today())
    made = []
    for s in students:
        if rng.random() < 0.65:
            on = last - dt.timedelta(days=rng.randint(0, 20))
            way = rng.random()
            made.append(
                Notice(
                    student=s,
                    semester=semester,
                    delivered_on=on if way < 0.6 else None,
                    signed_on=on if 0.6 <= way < 0.85 else None,
                    visited_on=on if way >= 0.85 else None,
                    handled_by="班主任",
                )
            )
    Notice.objects.bulk_create(made, ignore_conflicts=True)
    return len(made)


@transaction.atomic
def seed(stdout: Any) -> None:
    standards_load()
    if RosterSnapshot.objects.filter(source=SOURCE).exists():
        stdout.write("学生资助演示数据已存在，未做改动。")
        return
    rng = random.Random(2019)  # noqa: S311 - demo data, reproducible on purpose
    with clock.replay(dt.datetime(2019, 3, 1, 9, tzinfo=TZ)):
        students = _students(rng)
    notices = _notices(rng, students, Semester.objects.get(code="2019春"))
    # Payments are not written here: each unit uploads its month's 资助发放明细 sheet in
    # the reports demo (payment_rows), so the 月报 shows their rows and amounts.
    stdout.write(f"学生资助演示数据：名册学生 {len(students)} 名，已告知 {notices} 户（2019春）。")
