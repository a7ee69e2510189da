"""Demo data for the run command: standards, ~300 roster students, 2019 payments with
omissions, below-top-tier and late payments to find, a few payments to students off the
roster, and some notices delivered. Safe to re-run (it does nothing the second time)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db import transaction

from tasks.models import County, RosterSnapshot, RosterStudent, School
from xc_fupin.lib.idnumber import make_id_number

from .lookups import semester_rules
from .models import Disbursement, Notice, Semester
from .services import standards_load

SOURCE = "演示名册（学生资助）"
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


def _pay(
    rng: random.Random, students: list[RosterStudent], semester: Semester, paid_share: float
) -> int:
    rules = semester_rules(semester)
    owed: dict[tuple[str, bool], list[Any]] = {}
    for rule in rules:
        owed.setdefault((rule.stage, rule.boarding), []).append(rule)
    start = semester.deadline - dt.timedelta(days=30)
    made = []
    for s in students:
        for rule in owed.get((s.stage, s.boarding), []):
            if rng.random() > paid_share:
                continue  # an omission for the check to find
            amount = rule.top
            if rule.checks_tier and rng.random() < 0.06:
                amount = (rule.top / 2).quantize(Decimal("0.01"))  # below the highest tier
            on = start + dt.timedelta(days=rng.randrange(28))
            if rng.random() < 0.05:
                on = semester.deadline + dt.timedelta(days=rng.randint(3, 20))  # late
            made.append(
                Disbursement(
                    id_number=s.id_number,
                    name=s.name,
                    school=s.school,
                    county_id=s.school.county_id if s.school else None,
                    item_id=rule.item_id,
                    semester=semester,
                    amount=amount,
                    paid_on=on,
                )
            )
    # Other needy students the schools paid too: listed apart by the check.
    schools = [s.school for s in students[:: max(1, len(students) // 4)] if s.school]
    for n, school in enumerate(schools[:4]):
        stage_rules = [r for r in rules if r.stage in (school.stages or [])]
        if not stage_rules:
            continue
        rule = stage_rules[0]
        number = make_id_number(
            "341802", dt.date(2009, 3, 1 + n), 900 + n + (10 if semester.term == "秋" else 0)
        )
        made.append(
            Disbursement(
                id_number=number,
                name=_name(rng),
                school=school,
                county_id=school.county_id,
                item_id=rule.item_id,
                semester=semester,
                amount=rule.top,
                paid_on=semester.deadline - dt.timedelta(days=5),
            )
        )
    Disbursement.objects.bulk_create(made, ignore_conflicts=True)
    return len(made)


def _notices(rng: random.Random, students: list[RosterStudent], semester: Semester) -> int:
    made = []
    for s in students:
        if rng.random() < 0.65:
            on = semester.deadline + dt.timedelta(days=rng.randint(1, 20))
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
    students = _students(rng)
    spring = Semester.objects.get(code="2019春")
    fall = Semester.objects.get(code="2019秋")
    paid = _pay(rng, students, spring, 0.93) + _pay(rng, students, fall, 0.85)
    notices = _notices(rng, students, spring)
    stdout.write(
        f"学生资助演示数据：名册学生 {len(students)} 名，发放记录 {paid} 条，已告知 {notices} 户（2019春）。"
    )
