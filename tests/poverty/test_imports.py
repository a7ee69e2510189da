"""The poverty office's member export, imported as the system produces it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from intake.base import ImportContext
from poverty.imports import POVERTY
from poverty.models import PovertyMember, PovertySnapshot
from poverty.samples import Household, Person, family, poverty_export, rows
from tasks.scoping import user_scope
from xc_fupin.lib.idnumber import make_id_number
from xc_fupin.lib.sheets import read_table

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2019, 9, 1)


def households() -> list[Household]:
    return [
        family(
            "341802101001001",
            [("王小一", "2012-03-04", "小学"), ("王小二", "2016-05-06", "学前教育")],
            sequence=1,
        ),
        family(
            "341802101001002",
            [("李初二", "2006-09-01", "八年级"), ("李高一", "2003-10-10", "高中一年级")],
            sequence=2,
            status="未脱贫",
            household_type="低保贫困户",
            cause="因病",
        ),
        family(
            "341802101001003",
            [("赵中职", "2002-01-01", "中职二年级")],
            sequence=3,
            status="已脱贫(不再享受政策)",  # half-width, as some exports write it
        ),
    ]


def ctx_for(user: Any, **options: Any) -> ImportContext:
    return ImportContext(user=user, scope=user_scope(user), unit=user.unit, options=options)


def validate(content: bytes, user: Any, **options: Any) -> Any:
    table = read_table(content, filename="贫困人口.xlsx", columns=POVERTY.columns)
    return POVERTY.validate(table, ctx_for(user, **options))


def run(content: bytes, user: Any, **options: Any) -> tuple[Any, dict[str, int] | None]:
    result = validate(content, user, **options)
    if not result.ok:
        return result, None
    with transaction.atomic():
        return result, POVERTY.apply(result, ctx_for(user, **options))


def test_it_imports_the_export_as_the_system_produces_it(xuanzhou_staff: Any) -> None:
    houses = households()
    # A disabled father's 证件号码 is his 残疾人证 number: the ID and two digits.
    father = houses[0].people[0]
    ident = father.id_number
    father.id_number = ident + "42"
    result, counts = run(poverty_export(houses), xuanzhou_staff, as_of=AS_OF)
    assert result.errors == []
    assert counts is not None and counts["新增"] == 11

    snapshot = PovertySnapshot.objects.get()
    assert snapshot.as_of == AS_OF and snapshot.county.name == "宣州区"
    members = PovertyMember.objects.filter(snapshot=snapshot)
    assert members.count() == 11
    dad = members.get(id_number=ident)
    assert dad.card_suffix == "42"
    assert dad.household_number == "341802101001001"
    assert dad.person_number == "34180210100100101"
    assert dad.household_size == 4 and dad.relation == "户主"
    child = members.get(name="李初二")
    assert child.school_status == "八年级" and child.stated_stage == "初中"
    assert child.poverty_status == "未脱贫" and child.household_type == "低保贫困户"
    assert members.get(name="赵中职").poverty_status == "已脱贫（不再享受政策）"
    mother = members.filter(relation="配偶").first()
    assert mother is not None and mother.migrant_months == 10
    # Every member has its historical row, stamped.
    assert PovertyMember.history.count() == 11


def test_importing_the_same_file_again_changes_nothing(xuanzhou_staff: Any) -> None:
    content = poverty_export(households())
    run(content, xuanzhou_staff, as_of=AS_OF)
    history = PovertyMember.history.count()
    result, counts = run(content, xuanzhou_staff, as_of=AS_OF)
    assert result.rows == [] and len(result.skipped) == 11
    assert counts == {"新增": 0, "更新": 0, "跳过（未变化）": 11}
    assert PovertyMember.history.count() == history
    assert PovertySnapshot.objects.count() == 1


def test_a_changed_member_is_updated_in_place(xuanzhou_staff: Any) -> None:
    houses = households()
    run(poverty_export(houses), xuanzhou_staff, as_of=AS_OF)
    houses[0].people[2].school_status = "七年级"
    result, counts = run(poverty_export(houses), xuanzhou_staff, as_of=AS_OF)
    assert counts is not None and counts["更新"] == 1 and counts["跳过（未变化）"] == 10
    assert PovertyMember.objects.get(name="王小一").school_status == "七年级"


def test_later_labels_and_codes_are_read(xuanzhou_staff: Any) -> None:
    house = Household(
        "341802101009001",
        people=[
            Person("甲", make_id_number("341802", dt.date(2004, 1, 1), 11)),
            Person("乙", make_id_number("341802", dt.date(2004, 1, 2), 12), relation="之子"),
            Person("丙", make_id_number("341802", dt.date(2017, 1, 3), 13), relation="之女"),
            Person("丁", make_id_number("341802", dt.date(1999, 1, 4), 14), relation="之子"),
        ],
    )
    house.people[1].school_status = "普通高中二年级"
    house.people[2].school_status = "学龄前儿童"
    house.people[3].school_status = "本科"
    house.people[0].school_status = "04"  # a code: 七年级
    result, _counts = run(poverty_export([house]), xuanzhou_staff, as_of=AS_OF)
    assert result.errors == []
    stored = dict(PovertyMember.objects.values_list("name", "school_status"))
    assert stored == {"甲": "七年级", "乙": "高中二年级", "丙": "学龄前儿童", "丁": "本科"}


def test_bad_rows_are_named_and_nothing_is_applied(xuanzhou_staff: Any) -> None:
    houses = households()
    houses[0].people[2].school_status = "初中在读"
    houses[1].people[0].id_number = houses[1].people[0].id_number[:17]
    head = houses[2].people[0].id_number
    wrong = "0" if head[17] != "0" else "1"
    houses[2].people[0].id_number = head[:17] + wrong + "12"  # a card number, bad ID part
    extra = rows(households()[:1])[0]
    extra[16] = "脱贫"
    result = validate(poverty_export(houses, extra_rows=[extra]), xuanzhou_staff, as_of=AS_OF)
    messages = [str(e) for e in result.errors]
    assert any(m.startswith("第5行 在校生状况:") and "初中在读" in m for m in messages), messages
    assert any(m.startswith("第7行 证件号码:") for m in messages), messages
    assert any(m.startswith("第11行 证件号码:") for m in messages), messages
    assert any(m.startswith("第14行 脱贫属性:") and "可填" in m for m in messages), messages
    assert PovertyMember.objects.count() == 0


def test_a_duplicate_person_is_an_error(xuanzhou_staff: Any) -> None:
    houses = households()
    houses[1].people.append(houses[0].people[2])
    result = validate(poverty_export(houses), xuanzhou_staff, as_of=AS_OF)
    assert any("与第5行是同一人" in str(e) for e in result.errors)


def test_without_a_date_the_file_is_refused(xuanzhou_staff: Any) -> None:
    result = validate(poverty_export(households()), xuanzhou_staff)
    assert len(result.errors) == 1 and "--as-of" in str(result.errors[0])
    assert str(result.errors[0]).startswith("第2行 数据日期:")


def test_a_county_imports_only_its_own_families(langxi_staff: Any) -> None:
    result = validate(poverty_export(households()), langxi_staff, as_of=AS_OF)
    assert len(result.errors) == 11
    message = str(result.errors[0])
    assert "管辖范围" in message
    # Nothing of the row: no name, ID or village.
    assert "王" not in message and "3418" not in message and "金宝圩" not in message


def test_a_school_may_not_import_poverty_data(school_staff: Any) -> None:
    result = validate(poverty_export(households()), school_staff, as_of=AS_OF)
    assert not result.ok


def test_the_city_imports_any_county(city_reviewer: Any) -> None:
    result, counts = run(poverty_export(households()), city_reviewer, as_of="2019-09-01")
    assert result.errors == [] and counts is not None and counts["新增"] == 11


def test_import_sheet_takes_the_export_with_as_of(
    xuanzhou_staff: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.management import call_command

    path = tmp_path / "宣州区贫困人口.xlsx"
    path.write_bytes(poverty_export(households()))
    call_command(
        "import_sheet", "poverty", str(path), "--unit", "xuanzhou-jtj", "--as-of", "2019-09-01"
    )
    assert PovertyMember.objects.filter(as_of=AS_OF).count() == 11
    assert PovertyMember.history.filter(history_upload_id__isnull=False).count() == 11
    # Again: nothing changes.
    call_command(
        "import_sheet", "poverty", str(path), "--unit", "xuanzhou-jtj", "--as-of", "2019-09-01"
    )
    assert PovertyMember.history.count() == 11
