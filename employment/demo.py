"""Demo data for the employment ledger on the demo clock (XC_TODAY=2019-06-16): each
county bureau and the city-run schools' coordinator upload their vocational schools'
ledger in June through the real upload pipeline, and the counties record one-to-one
guidance with graduates not yet employed on the days it happened — some recently, some
more than 30 days ago (flagged), some never. Nothing is dated after the clock's today.
Safe to re-run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from intake.replay import demo_upload
from tasks import clock
from tasks.demo import sheet
from tasks.models import County, Unit, User
from xc_fupin.lib.idnumber import make_id_number

from . import services
from .imports import GRADUATES
from .models import Destination, Graduate, GuidanceRecord

TZ = dt.timezone(dt.timedelta(hours=8))
UPLOADED = dt.datetime(2019, 6, 12, 9, 30, tzinfo=TZ)
HEADERS = [c.name for c in GRADUATES.columns]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗"
GIVEN = [
    "子涵",
    "浩然",
    "欣怡",
    "宇轩",
    "梓萱",
    "俊杰",
    "雨桐",
    "思远",
    "佳怡",
    "明轩",
    "晓东",
    "诗琪",
]
MAJORS = [
    "数控技术应用",
    "电子商务",
    "汽车运用与维修",
    "会计",
    "计算机应用",
    "学前教育",
    "旅游服务与管理",
]
EMPLOYERS = [
    ("宣城某机械制造有限公司", "宣城市宣州区", "数控操作工", 3400),
    ("广德某电子科技有限公司", "广德市", "质检员", 3100),
    ("杭州某电子商务有限公司", "浙江省杭州市", "网店客服", 3800),
    ("宁国某汽车零部件有限公司", "宁国市", "装配工", 3300),
    ("郎溪县某幼儿园", "郎溪县", "保育员", 2600),
]
#: (destination, graduation date) of each county's six students.
PATTERN = [
    (Destination.EMPLOYED, dt.date(2018, 6, 30)),
    (Destination.EMPLOYED, dt.date(2019, 6, 10)),
    (Destination.FURTHER_STUDY, dt.date(2019, 6, 10)),
    (Destination.NOT_EMPLOYED, dt.date(2018, 6, 30)),
    (Destination.NOT_EMPLOYED, dt.date(2019, 6, 10)),
    (Destination.NOT_EMPLOYED, dt.date(2018, 6, 30)),
]
EXTRA = [Destination.ARMY, Destination.SELF_EMPLOYED]
#: Guidance given to the county's not-employed graduates, by their place in PATTERN:
#: (day, next day). Index 5 gets none (flagged); index 3's last one is in April (flagged).
GUIDANCE = {
    3: [(dt.date(2019, 3, 18), dt.date(2019, 4, 18)), (dt.date(2019, 4, 22), dt.date(2019, 5, 22))],
    4: [(dt.date(2019, 6, 13), dt.date(2019, 7, 1))],
}
ADVISERS = ["汪老师", "程老师", "方老师", "吴老师"]


def _rows(county: County, school: Unit, k: int) -> list[list[Any]]:
    area = county.current_code() or "341800"
    rows = []
    pattern = [*PATTERN, (EXTRA[k % 2], dt.date(2019, 6, 10))]
    for i, (destination, graduated) in enumerate(pattern):
        born = dt.date(2000 + (i % 3), 1 + (k + i) % 12, 1 + (3 * i + k) % 27)
        ident = make_id_number(area, born, 100 + 10 * k + i, female=i % 2 == 1)
        name = SURNAMES[(k * 7 + i) % len(SURNAMES)] + GIVEN[(k + i * 5) % len(GIVEN)]
        employer = ("", "", "", 0)
        if destination == Destination.EMPLOYED:
            employer = EMPLOYERS[(k + i) % len(EMPLOYERS)]
        elif destination == Destination.FURTHER_STUDY:
            employer = ("宣城职业技术学院", "宣城市", "", 0)
        elif destination == Destination.SELF_EMPLOYED:
            employer = ("个体网店", area and county.current_name(), "店主", 2800)
        elif destination == Destination.ARMY:
            employer = ("中国人民解放军某部", "", "", 0)
        rows.append(
            [
                ident,
                name,
                school.name,
                MAJORS[(k + i) % len(MAJORS)],
                f"{graduated:%Y-%m-%d}",
                str(destination),
                employer[0],
                employer[1],
                employer[2],
                employer[3] or None,
                f"139{k:02d}56{i:04d}",
                county.current_name(),
                "已脱贫（享受政策）" if i % 3 else "未脱贫",
            ]
        )
    return rows


def _guidance(user: User, ids: list[str], end: dt.date) -> int:
    made = 0
    for i, ident in enumerate(ids):
        graduate = Graduate.objects.filter(id_number=ident).first()
        if graduate is None or GuidanceRecord.objects.filter(graduate=graduate).exists():
            continue
        for day, next_on in GUIDANCE.get(i, []):
            if day > end:
                continue
            with clock.replay(dt.datetime.combine(day, dt.time(15, 0), tzinfo=TZ)):
                services.guidance_record(
                    graduate=graduate,
                    user=user,
                    given_on=day,
                    adviser=ADVISERS[(graduate.pk + made) % len(ADVISERS)],
                    content="电话回访了解求职意向，推荐县人社局春季招聘会岗位2个，"
                    "帮助修改求职简历。",
                    next_step="跟进面试结果；如未录用，推荐参加职业技能培训。",
                    next_on=next_on,
                )
            made += 1
    return made


def seed(stdout: Any) -> None:
    end = clock.today()
    if end < UPLOADED.date():
        return
    made = 0
    for k, county in enumerate(County.objects.order_by("order")):
        school = Unit.objects.filter(code=f"school-{county.slug}-5").first()
        user = User.objects.filter(username=county.slug).first()
        if school is None or user is None or user.unit is None:
            continue
        rows = _rows(county, school, k)
        demo_upload(
            user=user,
            unit=user.unit,
            kind=GRADUATES.key,
            period=dt.date(2019, 6, 1),
            name=f"{county.current_name()}建档立卡学生就业台账.xlsx",
            content=sheet(HEADERS, rows),
            at=UPLOADED,
        )
        made += _guidance(user, [r[0] for r in rows], end)
    city_school = Unit.objects.filter(code="school-city-3").first()
    coordinator = User.objects.filter(username="shizhi").first()
    if city_school is not None and coordinator is not None and coordinator.unit is not None:
        xuanzhou = County.objects.get(slug="xuanzhou")
        demo_upload(
            user=coordinator,
            unit=coordinator.unit,
            kind=GRADUATES.key,
            period=dt.date(2019, 6, 1),
            name="市直中职学校建档立卡学生就业台账.xlsx",
            content=sheet(HEADERS, _rows(xuanzhou, city_school, 9)[:4]),
            at=UPLOADED,
        )
    stdout.write(f"就业台账：{Graduate.objects.count()} 名学生，新增就业指导记录 {made} 条。")
