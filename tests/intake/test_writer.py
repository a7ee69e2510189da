"""The one bulk writer: insert-or-ignore and upsert, each written row with its
historical row stamped with the audit source, in the caller's transaction (COPY on
PostgreSQL, bulk_create elsewhere: the same test runs on both)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from dropout.models import HouseholdChild
from intake.writer import bulk_write
from tasks import audit
from tasks.models import County

pytestmark = pytest.mark.django_db

DAY = dt.date(2019, 9, 30)
FIELDS = ["id_number", "as_of", "name", "birth_date", "county_id", "village"]


def rows(county: County, names: dict[str, str], village: str = "金宝圩村") -> list[tuple[Any, ...]]:
    return [
        (ident, DAY, name, dt.date(2012, 1, 1), county.pk, village) for ident, name in names.items()
    ]


def write(county: County, names: dict[str, str], mode: Any, **kw: Any) -> Any:
    with transaction.atomic(), audit.audit_source("上传#7 户籍.xlsx", upload_id=7):
        return bulk_write(
            HouseholdChild,
            rows(county, names, **kw),
            fields=FIELDS,
            conflict=["id_number", "as_of"],
            mode=mode,
            update=["name", "village"],
            constants={"phone": "", "township": "水阳镇", "guardian": ""},
        )


def test_insert_or_ignore_leaves_stored_rows_alone_and_records_history(plan: None) -> None:
    county = County.objects.get(slug="xuanzhou")
    first = write(county, {"A1": "张三", "A2": "李四"}, "ignore")
    assert (first.inserted, first.updated) == (2, 0)
    again = write(county, {"A1": "张三改", "A3": "王五"}, "ignore")
    assert (again.inserted, again.updated) == (1, 0)
    assert dict(HouseholdChild.objects.values_list("id_number", "name")) == {
        "A1": "张三",
        "A2": "李四",
        "A3": "王五",
    }
    assert HouseholdChild.objects.get(id_number="A3").township == "水阳镇"
    history = HouseholdChild.history.order_by("id_number")  # type: ignore[attr-defined]
    assert [(h.id_number, h.history_type) for h in history] == [
        ("A1", "+"),
        ("A2", "+"),
        ("A3", "+"),
    ]
    assert {(h.history_source, h.history_upload_id) for h in history} == {("上传#7 户籍.xlsx", 7)}


def test_upsert_updates_and_marks_the_change(plan: None) -> None:
    county = County.objects.get(slug="xuanzhou")
    write(county, {"A1": "张三"}, "upsert")
    done = write(county, {"A1": "张三", "A2": "李四"}, "upsert", village="新村")
    assert (done.inserted, done.updated) == (1, 1)
    assert set(HouseholdChild.objects.values_list("village", flat=True)) == {"新村"}
    kinds = sorted(
        HouseholdChild.history.values_list("id_number", "history_type")  # type: ignore[attr-defined]
    )
    assert kinds == [("A1", "+"), ("A1", "~"), ("A2", "+")]


def test_text_with_tabs_and_backslashes_survives(plan: None) -> None:
    county = County.objects.get(slug="xuanzhou")
    write(county, {"A1": "张\\三"}, "ignore", village="金宝\t圩\n村")
    child = HouseholdChild.objects.get()
    assert (child.name, child.village) == ("张\\三", "金宝\t圩\n村")
