"""Named personas and small builders for tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import Group

from tasks.models import County, LedgerEntry, School, Task, Unit, User

PASSWORD = "pw-for-tests-only"


def make_user(username: str, unit_code: str, role: str, **extra: Any) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, unit=Unit.objects.get(code=unit_code), **extra
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def make_school(
    county_slug: str | None, name: str, code: str, stages: list[str] | None = None
) -> School:
    county = County.objects.get(slug=county_slug) if county_slug else None
    return School.objects.create(
        code=f"school-{code}",
        name=name,
        school_code=code,
        county=county,
        is_city_run=county is None,
        stages=stages or ["小学"],
    )


def make_entry(
    task_number: int,
    unit_code: str,
    author: User,
    *,
    month: int = 5,
    status: str = "done",
    **extra: Any,
) -> LedgerEntry:
    return LedgerEntry.objects.create(
        task=Task.objects.get(number=task_number),
        unit=Unit.objects.get(code=unit_code),
        period=dt.date(2019, month, 1),
        status=status,
        narrative=extra.pop("narrative", "已完成本月工作。"),
        submitted_by=author,
        **extra,
    )
