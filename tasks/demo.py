"""Demo users, schools and ledger entries for the run command. Safe to re-run.

The demo replays the spring of 2019 through the real services on the clock of each
event (`clock.replay`), so nothing in it is dated after the demo day (XC_TODAY,
2019-06-16 in scripts/run) and every stamp and history row agrees with the story.
`sheet` makes the .xlsx the other apps' demos upload with `intake.replay.demo_upload`."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from openpyxl import Workbook

from . import clock, roles
from .models import County, LedgerEntry, Responsibility, School, Unit, User

DEMO_PASSWORD = "demo-2019"  # noqa: S105 - printed by the run command for local demos only

# (username, display name, unit code, role)
DEMO_USERS = [
    ("admin", "系统管理员", "city", roles.ADMINISTRATOR),
    ("reviewer", "计财科审核员", "city-jcc", roles.CITY_REVIEWER),
    ("jijiao", "基教科科员", "city-jjk", roles.CITY_SECTION),
    ("leader", "局领导", "city", roles.LEADER),
    ("xuanzhou", "宣州区教体局", "xuanzhou-jtj", roles.COUNTY_STAFF),
    ("langxi", "郎溪县教体局", "langxi-jtj", roles.COUNTY_STAFF),
    ("guangde", "广德市教体局", "guangde-jtj", roles.COUNTY_STAFF),
    ("jingxian", "泾县教体局", "jingxian-jtj", roles.COUNTY_STAFF),
    ("jixi", "绩溪县教体局", "jixi-jtj", roles.COUNTY_STAFF),
    ("jingde", "旌德县教体局", "jingde-jtj", roles.COUNTY_STAFF),
    ("ningguo", "宁国市教体局", "ningguo-jtj", roles.COUNTY_STAFF),
    ("shizhi", "市直学校联络员", "city-schools", roles.SCHOOL_STAFF),
    ("school", "宣州区实验小学", "school-xuanzhou-1", roles.SCHOOL_STAFF),
]

SCHOOL_NAMES = [
    ("实验小学", ["小学"]),
    ("第一初级中学", ["初中"]),
    ("中心幼儿园", ["学前教育"]),
    ("第二中学", ["初中", "普通高中"]),
    ("职业技术学校", ["中等职业教育"]),
]
CITY_SCHOOLS = [
    ("宣城中学", ["普通高中"]),
    ("宣城市第二中学", ["初中", "普通高中"]),
    ("宣城市机械电子工程学校", ["中等职业教育"]),
    ("宣城市实验幼儿园", ["学前教育"]),
]


def _schools() -> list[School]:
    made = []
    for county in County.objects.order_by("order"):
        prefix = county.current_name()
        for i, (name, stages) in enumerate(SCHOOL_NAMES, start=1):
            school, _ = School.objects.get_or_create(
                code=f"school-{county.slug}-{i}",
                defaults={
                    "name": f"{prefix}{name}",
                    "short_name": f"{prefix}{name}",
                    "school_code": f"31340{county.order:02d}{i:03d}",
                    "county": county,
                    "stages": stages,
                    "parent": Unit.objects.get(code=f"{county.slug}-jtj"),
                    "order": 1000 + county.order * 10 + i,
                },
            )
            made.append(school)
    parent = Unit.objects.get(code="city-schools")
    for i, (name, stages) in enumerate(CITY_SCHOOLS, start=1):
        school, _ = School.objects.get_or_create(
            code=f"school-city-{i}",
            defaults={
                "name": name,
                "short_name": name,
                "school_code": f"3134000{i:03d}",
                "stages": stages,
                "is_city_run": True,
                "parent": parent,
                "order": 1100 + i,
            },
        )
        made.append(school)
    # The demo school user sits in a school whose code the user list names.
    School.objects.filter(code="school-xuanzhou-1").update(name="宣州区实验小学")
    return made


def _users() -> dict[str, User]:
    users = {}
    for username, display, unit_code, role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": display,
                "unit": Unit.objects.get(code=unit_code),
                # A reserved domain (RFC 2606): reminders show in the console mail log
                # and can never reach anyone.
                "email": f"{username}@demo.invalid",
            },
        )
        if not user.email:  # accounts seeded before the demo had addresses
            User.objects.filter(pk=user.pk).update(email=f"{username}@demo.invalid")
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_superuser = role == roles.ADMINISTRATOR
            user.is_staff = role in {roles.ADMINISTRATOR, roles.CITY_REVIEWER}
            user.save()
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


def _ledger(users: dict[str, User]) -> int:
    if LedgerEntry.objects.exists():
        return 0
    rng = random.Random(2019)  # noqa: S311 - demo data, reproducible on purpose
    made = 0
    by_unit = {u.unit_id: u for u in users.values() if u.unit_id}
    texts = {
        LedgerEntry.Status.DONE: "已按要求完成本月工作，相关材料已归档。",
        LedgerEntry.Status.IN_PROGRESS: "正在推进，已完成摸底排查，下月完成汇总。",
        LedgerEntry.Status.NOT_STARTED: "本月尚未启动，已列入下月工作计划。",
    }
    for resp in Responsibility.objects.select_related("task", "unit").filter(
        task__number__in=[1, 3, 5, 9, 17, 22]
    ):
        author = by_unit.get(resp.unit_id)
        if author is None:
            continue
        for month in (3, 4, 5):
            if rng.random() < 0.25:
                continue
            status = rng.choice(
                [
                    LedgerEntry.Status.DONE,
                    LedgerEntry.Status.DONE,
                    LedgerEntry.Status.IN_PROGRESS,
                    LedgerEntry.Status.NOT_STARTED,
                ]
            )
            with clock.replay(_at(month + 1, 2 + rng.randrange(4))):
                LedgerEntry.objects.create(
                    task=resp.task,
                    unit=resp.unit,
                    period=dt.date(2019, month, 1),
                    status=status,
                    narrative=f"{resp.unit.display_name}：{texts[status]}",
                    submitted_by=author,
                )
            made += 1
    reviewer = users["reviewer"]
    for entry in LedgerEntry.objects.exclude(submitted_by=reviewer).filter(
        period__lt=dt.date(2019, 5, 1)
    ):
        returned = rng.random() < 0.1
        entry.review = LedgerEntry.Review.RETURNED if returned else LedgerEntry.Review.ACCEPTED
        entry.review_comment = "请补充佐证材料（会议纪要或发放表）。" if returned else ""
        entry.reviewed_by = reviewer
        with clock.replay(_at(entry.period.month + 1, 8)):
            entry.reviewed_at = clock.now()
            entry.save()
    return made


def _at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2019, month, day, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def sheet(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """A one-sheet .xlsx with a header row, as a county would fill the template."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@transaction.atomic
def seed(stdout: Any) -> None:
    schools = _schools()
    users = _users()
    made = _ledger(users)
    stdout.write(
        f"演示数据：{len(schools)} 所学校，{len(users)} 个演示账号，新增台账记录 {made} 条。"
    )
