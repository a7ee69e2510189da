"""Demo registries for the seven counties with a handful of real findings, the cross-check
run on them, and a few cases worked along. Safe to re-run: nothing is added twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from intake.replay import demo_upload
from tasks import audit, clock
from tasks.demo import sheet
from tasks.models import County, RosterSnapshot, RosterStudent, Stage, Unit, User
from xc_fupin.lib.idnumber import make_id_number

from . import services
from .models import (
    CaseStatus,
    DropoutCase,
    EnrolmentRecord,
    EnrolmentSnapshot,
    EnrolmentStatus,
    HouseholdChild,
)

AS_OF = dt.date(2019, 5, 31)  # 统计日期 of the demo registries (spring term 2019)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗"
GIVEN = [
    "子涵",
    "欣怡",
    "浩然",
    "梓轩",
    "雨桐",
    "宇航",
    "诗涵",
    "俊杰",
    "思远",
    "佳怡",
    "一鸣",
    "若曦",
]
TOWNS = {
    "xuanzhou": ("水阳镇", ["金宝圩村", "三埠村", "龙溪村"]),
    "langxi": ("飞鲤镇", ["新发村", "南湖村", "鸣凤村"]),
    "guangde": ("桃州镇", ["东亭村", "太极村", "石龙村"]),
    "jingxian": ("桃花潭镇", ["查济村", "万村", "水东村"]),
    "jixi": ("上庄镇", ["宅坦村", "石家村", "余川村"]),
    "jingde": ("白地镇", ["洋川村", "江村", "高甲村"]),
    "ningguo": ("仙霞镇", ["龙潭村", "杨山村", "石门村"]),
}
# Roles of the demo children, by position in each county's list.
MISSING_POOR, MISSING, MARKED_POOR, SUSPECTED, DOUBLE, RENAMED, TOO_YOUNG = range(7)
PER_COUNTY = 36


def _area(county: County) -> str:
    # 广德's children were born before 2019 and keep the 341822 their IDs were issued under.
    codes = {c.code for c in county.codes.all()}
    return "341822" if "341822" in codes else county.current_code()


def _name(k: int, i: int) -> str:
    return SURNAMES[(k * 7 + i) % len(SURNAMES)] + GIVEN[(k + i * 5) % len(GIVEN)]


def _birth(i: int) -> dt.date:
    # Spread over 2004-2012: primary and junior-secondary age in 2018-19.
    return dt.date(2004 + i % 9, 1 + (i * 5) % 12, 1 + (i * 7) % 28)


ENROLMENT_HEADERS = ("身份证号", "姓名", "学校", "年级", "学籍状态", "统计日期")
TZ = dt.timezone(dt.timedelta(hours=8))
RECEIVED = dt.datetime(2019, 6, 3, 9, tzinfo=TZ)  # when the May registries came in


def _grade(school: Unit, primary: Unit) -> str:
    return "五年级" if school == primary else "八年级"


#: The national registry's export (全国中小学生学籍信息管理系统), as counties download it,
#: with the 统计日期 column a county adds when it uploads without a date field.
REGISTRY_HEADERS = (
    "学校标识码",
    "学校名称",
    "姓名",
    "性别",
    "出生日期",
    "身份证件类型",
    "身份证件号",
    "全国学籍号",
    "年级",
    "班级",
    "入学年月",
    "就读方式",
    "是否留守儿童",
    "残疾人类型",
    "学籍状态",
    "统计日期",
)


def _registry_row(
    school: Unit, id_number: str, name: str, status: str, grade: str, i: int
) -> tuple[Any, ...]:
    """One child as the registry exports it. Two in five board (住校), one in six is
    left behind; the child's G number is G + the ID."""
    entry = 2014 if grade == "五年级" else 2017
    return (
        school.school_code,
        school.name,
        name,
        "男" if int(id_number[16]) % 2 else "女",
        id_number[6:14],
        "居民身份证",
        id_number,
        "G" + id_number,
        grade,
        f"{1 + i % 3}班",
        f"{entry}09",
        "住校" if i % 5 in (1, 3) else "走读",
        "单亲留守儿童" if i % 6 == 5 else "非留守儿童",
        "无残疾",
        status,
        AS_OF,
    )


def enrolment_rows(unit: Unit, as_of: dt.date) -> list[tuple[Any, ...]]:
    """The 学籍 sheet `unit` uploads for the month ending `as_of`, for the reports demo: a
    county's registry as the May one lists it (everyone still 在读 before May), or the
    city-run schools' registered pupils for 市直学校."""
    if unit.kind == Unit.Kind.COUNTY_BUREAU and unit.county_id:
        records = EnrolmentRecord.objects.filter(county_id=unit.county_id, as_of=AS_OF)
        return [
            (
                r.id_number,
                r.name,
                r.school.name,
                r.grade,
                r.status if as_of >= AS_OF else EnrolmentStatus.ENROLLED,
                as_of,
            )
            for r in records.select_related("school").order_by("id_number", "school_id")
        ]
    if unit.code == "city-schools":
        pupils = RosterStudent.objects.filter(school__is_city_run=True).select_related("school")
        return [
            (p.id_number, p.name, p.school.name, p.grade, EnrolmentStatus.ENROLLED, as_of)
            for p in pupils.order_by("id_number")
            if p.school is not None
        ]
    return []


def _registries(county: County, k: int, roster_snapshot: RosterSnapshot) -> int:
    if EnrolmentSnapshot.objects.filter(county=county, as_of=AS_OF).exists():
        return 0
    primary = Unit.objects.get(code=f"school-{county.slug}-1")
    junior = Unit.objects.get(code=f"school-{county.slug}-2")
    second = Unit.objects.get(code=f"school-{county.slug}-4")
    town, villages = TOWNS.get(county.slug, ("城关镇", ["一村", "二村", "三村"]))
    area = _area(county)
    households, records, roster = [], [], []
    for i in range(PER_COUNTY):
        birth = dt.date(2012, 9, 1) if i == TOO_YOUNG else _birth(i)
        id_number = make_id_number(area, birth, 100 + i)
        name = _name(k, i)
        households.append(
            HouseholdChild(
                id_number=id_number,
                name=name,
                birth_date=birth,
                county=county,
                township=town,
                village=villages[i % len(villages)],
                guardian=SURNAMES[(k * 7 + i) % len(SURNAMES)] + "建国",
                phone=f"139{k:02d}{i:06d}",
                as_of=AS_OF,
            )
        )
        school = primary if birth >= dt.date(2006, 9, 1) else junior
        if i in (MISSING_POOR, MISSING, TOO_YOUNG):
            pass  # on the household list, in no school's registry
        else:
            status = "在读"
            if i == MARKED_POOR:
                status = "辍学"
            elif i == SUSPECTED:
                status = "疑似辍学"
            shown = name if i != RENAMED else name[0] + "晓" + name[-1]
            records.append((school, id_number, shown, status, i))
            if i == DOUBLE:
                records.append((second, id_number, name, "在读", i))
        if i in (MISSING_POOR, MARKED_POOR) or i % 9 == 8:
            roster.append(
                RosterStudent(
                    id_number=id_number,
                    name=name,
                    gender="男" if int(id_number[16]) % 2 else "女",
                    birth_date=birth,
                    household_county=county,
                    county=county,
                    school=None if i == MISSING_POOR else school,
                    stage=Stage.PRIMARY if school == primary else Stage.JUNIOR,
                    snapshot=roster_snapshot,
                )
            )
    HouseholdChild.objects.bulk_create(households, ignore_conflicts=True)
    services._audit_created(
        HouseholdChild,
        HouseholdChild.objects.filter(county=county, as_of=AS_OF).values_list("pk", flat=True),
    )
    # The May registry arrives as the county's 学籍 sheet for the May 月报, through the
    # real upload pipeline (its rows show in the 月报).
    bureau = Unit.objects.get(code=f"{county.slug}-jtj")
    author = User.objects.filter(unit=bureau, is_active=True).order_by("pk").first()
    if author is None:
        raise ValueError(f"no demo user for {bureau.code}")
    demo_upload(
        user=author,
        unit=bureau,
        kind="enrolment",
        period=AS_OF.replace(day=1),
        name=f"{bureau.display_name}{AS_OF.month}月学籍.xlsx",
        content=sheet(
            REGISTRY_HEADERS,
            [
                _registry_row(school, id_number, name, status, _grade(school, primary), i)
                for school, id_number, name, status, i in records
            ],
        ),
        at=clock.now(),
    )
    RosterStudent.objects.bulk_create(roster, ignore_conflicts=True)
    services._audit_created(
        RosterStudent,
        RosterStudent.objects.filter(id_number__in=[r.id_number for r in roster]).values_list(
            "pk", flat=True
        ),
    )
    return len(households)


def _work(case: DropoutCase | None, user: User, steps: list[tuple[str, dict[str, Any]]]) -> int:
    if case is None or case.status != CaseStatus.SUSPECTED:
        return 0
    # Each step on the clock of its day: a visit on the day it happened, a move on its
    # outcome date, anything else on the day of the step before.
    day = case.opened_on
    for n, (action, values) in enumerate(steps):
        day = values.get("happened_on") or values.get("outcome_date") or day
        with clock.replay(dt.datetime(day.year, day.month, day.day, 10, n, tzinfo=TZ)):
            if action == "plan":
                services.case_update_plan(case=case, user=user, **values)
            elif action == "follow":
                services.follow_up_record(case=case, user=user, **values)
            else:
                services.case_transition(case=case, user=user, to_status=action, **values)
    return 1


def _plan(cause: str, measures: str, person: str, unit: Unit, **flags: bool) -> dict[str, Any]:
    return {
        "cause": cause,
        "cause_note": "",
        "measures": measures,
        "responsible_person": person,
        "responsible_unit": unit,
        "is_left_behind": flags.get("left_behind", False),
        "is_disabled": flags.get("disabled", False),
        "is_other_difficulty": False,
    }


def _move_cases() -> int:
    users = {
        u.username: u for u in User.objects.filter(username__in=["xuanzhou", "langxi", "jingxian"])
    }
    if len(users) < 3:
        return 0
    d = dt.date
    counties = {c.slug: c for c in County.objects.prefetch_related("codes")}

    def case(slug: str, i: int) -> DropoutCase | None:
        county = counties[slug]
        birth = dt.date(2012, 9, 1) if i == TOO_YOUNG else _birth(i)
        return DropoutCase.objects.filter(
            id_number=make_id_number(_area(county), birth, 100 + i)
        ).first()

    moved = 0
    xz_bureau = Unit.objects.get(code="xuanzhou-jtj")
    lx_bureau = Unit.objects.get(code="langxi-jtj")
    # 宣州区: a registered-poor child marked 辍学, persuaded back to school.
    moved += _work(
        case("xuanzhou", MARKED_POOR),
        users["xuanzhou"],
        [
            (
                "plan",
                _plan(
                    "因贫",
                    "落实义务教育家庭经济困难学生生活补助；班主任结对帮扶；每周家访。",
                    "王老师（班主任）",
                    xz_bureau,
                ),
            ),
            (
                "follow",
                {
                    "kind": "家访",
                    "happened_on": d(2019, 6, 3),
                    "notes": "家长在外务工，孩子随祖父母生活，答应返校。",
                    "visitors": "班主任、村干部",
                    "next_due": d(2019, 6, 10),
                },
            ),
            (CaseStatus.VERIFIED, {"note": "入户核实：因家庭经济困难辍学。"}),
            (CaseStatus.PERSUADING, {"note": "制定劝返方案。"}),
            (
                "follow",
                {
                    "kind": "资助落实",
                    "happened_on": d(2019, 6, 6),
                    "notes": "已落实生活补助500元。",
                    "next_due": d(2019, 6, 13),
                },
            ),
            (
                CaseStatus.RETURNED,
                {
                    "note": "已返校上课。",
                    "outcome_date": d(2019, 6, 10),
                    "outcome_school": Unit.objects.get(code="school-xuanzhou-2"),
                },
            ),
        ],
    )
    # 宣州区: a suspected dropout being persuaded, whose next visit is overdue.
    moved += _work(
        case("xuanzhou", SUSPECTED),
        users["xuanzhou"],
        [
            (
                "plan",
                _plan(
                    "因学习困难",
                    "学校安排学业辅导，心理老师谈心。",
                    "李主任",
                    xz_bureau,
                    left_behind=True,
                ),
            ),
            (CaseStatus.VERIFIED, {"note": "连续两周未到校。"}),
            (CaseStatus.PERSUADING, {"note": ""}),
            (
                "follow",
                {
                    "kind": "劝返",
                    "happened_on": d(2019, 6, 5),
                    "notes": "学生厌学情绪较重，家长配合。",
                    "visitors": "校长、班主任",
                    "next_due": d(2019, 6, 12),
                },
            ),
        ],
    )
    # 郎溪县: a child with a severe disability, taught at home.
    moved += _work(
        case("langxi", MISSING),
        users["langxi"],
        [
            (
                "plan",
                _plan(
                    "因残",
                    "重度残疾，安排特教老师每周送教上门一次。",
                    "郎溪县特殊教育学校",
                    lx_bureau,
                    disabled=True,
                ),
            ),
            (CaseStatus.VERIFIED, {"note": "持残疾证（一级），无法随班就读。"}),
            (CaseStatus.HOME_TEACHING, {"note": "送教上门已安排。", "outcome_date": d(2019, 6, 5)}),
            (
                "follow",
                {
                    "kind": "送教上门",
                    "happened_on": d(2019, 6, 12),
                    "hours": Decimal("4"),
                    "notes": "康复训练与语文启蒙。",
                    "visitors": "特教老师",
                    "next_due": d(2019, 6, 19),
                },
            ),
        ],
    )
    # 泾县: the household child is at school in another province: closed with evidence.
    moved += _work(
        case("jingxian", MISSING_POOR),
        users["jingxian"],
        [
            (
                CaseStatus.CLOSED,
                {
                    "note": "随父母在浙江省杭州市某小学就读，已取得学校出具的在读证明。",
                    "close_reason": "外省就读",
                    "outcome_date": d(2019, 6, 4),
                },
            ),
        ],
    )
    return moved


def seed(stdout: Any) -> None:
    with transaction.atomic(), audit.audit_source("演示数据"):
        _seed(stdout)


def _seed(stdout: Any) -> None:
    roster_snapshot, _created = RosterSnapshot.objects.get_or_create(
        as_of=dt.date(2019, 3, 1),
        source="扶贫部门建档立卡人口数据库",
        defaults={"note": "演示数据"},
    )
    children = 0
    counties = list(County.objects.prefetch_related("codes").order_by("order"))
    # The May registries came in on 3 June and were cross-checked that morning.
    with clock.replay(RECEIVED):
        for k, county in enumerate(counties):
            children += _registries(county, k, roster_snapshot)
        # A second seed finds the registries in place and runs nothing again.
        outcomes = (
            services.crosscheck_run_many(counties=counties, as_of=AS_OF, triggered_by="演示数据")
            if children
            else []
        )
    opened = sum(o.cases_opened for o in outcomes)
    moved = _move_cases()
    stdout.write(
        f"控辍保学演示数据：户籍儿童 {children} 名，核查发现 {sum(len(o.findings) for o in outcomes)} 条，"
        f"新立案 {opened} 件，推进个案 {moved} 件。"
    )
