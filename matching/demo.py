"""Demo: 宣州区 uploads its poverty office export (spring 2019) through the upload
pipeline, and the city runs the matching for 2019春 — a few children matched from the
demo registry, one the registry lists 疑似辍学, one at 高中 the registry does not hold, one
listed 非在校生 though 在读, a kindergarten child listed apart. Runs after the dropout demo
(whose registry it reads). Safe to re-run: the upload is found by name, the matching
changes nothing the second time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dropout.models import EnrolmentRecord
from intake.replay import demo_upload
from poverty.samples import Household, Person, poverty_export
from subsidies.models import Semester
from tasks import clock
from tasks.models import Unit, User
from tasks.scoping import user_scope
from xc_fupin.lib.idnumber import make_id_number

from . import services
from .models import MatchRun

AREA = "341802"
TZ = dt.timezone(dt.timedelta(hours=8))
NAME = "宣州区贫困人口信息（2019年3月导出）.xlsx"


def _parents(number: str, seq: int) -> list[Person]:
    return [
        Person(f"{number[-2:]}号户主", make_id_number(AREA, dt.date(1978, 4, 2), 900 + seq)),
        Person(
            f"{number[-2:]}号配偶",
            make_id_number(AREA, dt.date(1980, 8, 9), 950 + seq),
            relation="配偶",
            migrant_months=9,
        ),
    ]


def _child(record: Any, status: str, relation: str = "之子") -> Person:
    return Person(
        record.name,
        record.id_number,
        relation=relation,
        school_status=status,
        education="小学",
        labour_skill="无劳动力",
    )


def seed(stdout: Any) -> None:
    registry = {
        r.name: r
        for r in EnrolmentRecord.objects.filter(
            county__slug="xuanzhou", as_of=dt.date(2019, 5, 31)
        ).order_by("id_number")
    }
    wanted = ("郭欣怡", "林俊杰", "刘梓轩", "黄一鸣")
    if any(name not in registry for name in wanted):
        return  # the dropout demo did not run
    houses = [
        Household(
            "34180210100100101",
            people=[
                *_parents("34180210100100101", 1),
                _child(registry["郭欣怡"], "小学", "之女"),
                Person(
                    "郭小朵",
                    make_id_number(AREA, dt.date(2015, 3, 3), 971),
                    relation="之女",
                    school_status="学前教育",
                    education="学龄前儿童",
                    labour_skill="无劳动力",
                ),
            ],
        ),
        Household(
            "34180210100100102",
            status="未脱贫",
            household_type="低保贫困户",
            cause="因病",
            people=[
                *_parents("34180210100100102", 2),
                _child(registry["林俊杰"], "非在校生"),
                Person(
                    "林大壮",
                    make_id_number(AREA, dt.date(2002, 10, 5), 973),
                    relation="之子",
                    school_status="高中一年级",
                    education="初中",
                    labour_skill="无劳动力",
                ),
            ],
        ),
        Household(
            "34180210100100103",
            people=[
                *_parents("34180210100100103", 3),
                _child(registry["刘梓轩"], "小学"),
            ],
        ),
        Household(
            "34180210100100104",
            status="已脱贫（不再享受政策）",
            people=[
                *_parents("34180210100100104", 4),
                _child(registry["黄一鸣"], "小学"),
            ],
        ),
    ]
    county_user = User.objects.get(username="xuanzhou")
    at = dt.datetime(2019, 3, 8, 10, 0, tzinfo=TZ)
    upload = demo_upload(
        user=county_user,
        unit=Unit.objects.get(code="xuanzhou-jtj"),
        kind="poverty",
        period=None,
        name=NAME,
        content=poverty_export(houses, title="宣州区贫困人口信息", as_of="2019-03-01"),
        at=at,
    )
    semester = Semester.objects.get(code="2019春")
    reviewer = User.objects.get(username="reviewer")
    if MatchRun.objects.filter(semester=semester).exists():
        return
    with clock.replay(dt.datetime(2019, 6, 10, 9, 30, tzinfo=TZ)):
        run = services.run_start(
            user=reviewer, scope=user_scope(reviewer), semester=semester, county=None
        )
        run = services.run_execute(run.pk)
    stdout.write(f"名册比对演示：扶贫数据上传#{upload.pk}，{semester.code} 比对 {run.counts}。")
