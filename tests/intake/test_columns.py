"""The shared column parsers: each reads what the national systems and counties write,
and refuses the rest with a message naming the value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from intake.columns import (
    Amount,
    BoundColumn,
    Coded,
    Column,
    CountyParser,
    DateParser,
    IdNumberParser,
    Month,
    Phone,
    SchoolParser,
    StageParser,
    StudentNumber,
    YesNo,
)
from tests.factories import make_school
from xc_fupin.lib.idnumber import make_id_number

ID = make_id_number("341802", dt.date(2010, 3, 4), 7)


def bound(parser: Any, name: str = "列") -> BoundColumn:
    return Column(name, parser=parser).bind(None)


def test_it_reads_an_id_number_and_refuses_a_wrong_check_character() -> None:
    col = bound(IdNumberParser(), "身份证号")
    assert col.clean(ID) == (ID, "")
    assert col.clean(" " + ID.lower() + " ")[0] == ID
    wrong = ID[:-1] + ("0" if ID[-1] != "0" else "1")
    assert col.clean(wrong) == (None, f"身份证号校验位错误，应为{ID[-1]}")
    assert col.clean(None) == (None, "身份证号为空")
    assert col.clean(float(ID[:15]))[1].startswith("身份证号被存成了数字")


def test_it_takes_the_id_from_a_disability_card_number_only_when_asked() -> None:
    card = ID + "42"
    assert bound(IdNumberParser(card=True)).clean(card) == (ID, "")
    assert bound(IdNumberParser(card=True)).clean(ID + "4201") == (ID, "")
    assert bound(IdNumberParser()).clean(card)[1] == "身份证号应为18位，实为20位"


def test_it_reads_a_g_number_as_an_id_and_l_numbers_as_none() -> None:
    col = bound(StudentNumber(), "全国学籍号")
    assert col.clean("G" + ID) == (ID, "")
    assert col.clean("L" + ID) == (None, "")
    value, message = col.clean("G" + ID[:-1] + ("0" if ID[-1] != "0" else "1"))
    assert value is None and message.startswith(f"全国学籍号 G{ID[:-1]}")
    assert "校验位错误" in message


def test_the_registrys_number_is_kept_as_written_beside_its_id() -> None:
    col = bound(StudentNumber(details=True), "全国学籍号")
    assert col.clean("g" + ID) == (("G" + ID, ID), "")
    assert col.clean("L" + ID) == (("L" + ID, None), "")
    assert (
        col.clean("G" + ID[:10])[1] == f"全国学籍号应为G、L或J加18位（G后为身份证号）：G{ID[:10]}"
    )


def test_yes_no_takes_codes_and_the_registrys_words() -> None:
    col = bound(YesNo("是否寄宿"), "是否寄宿")
    assert [col.clean(v)[0] for v in ("是", "1", 1, "住校", "走读", "0", "否")] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert col.clean(None) == (None, "是否寄宿为空，请填“是”或“否”")
    assert col.clean("也许") == (None, "是否寄宿应填“是”或“否”，实为：也许")


def test_it_reads_stages_one_or_several() -> None:
    assert bound(StageParser()).clean("普高") == ("普通高中", "")
    assert bound(StageParser(multiple=True)).clean("初中、小学") == (["小学", "初中"], "")
    assert bound(StageParser()).clean("大班")[1].startswith("未知学段：大班")


def test_it_reads_dates_and_months_in_the_systems_formats() -> None:
    day = bound(DateParser())
    days: list[object] = ["2019-06-10", "2019/6/10", "2019年6月10日", "20190610", 20190610]
    for raw in days:
        assert day.clean(raw) == (dt.date(2019, 6, 10), ""), raw
    month = bound(Month())
    months: list[object] = ["201409", "2014-09", "2014年9月", "2014.9", dt.date(2014, 9, 17)]
    for month_raw in months:
        assert month.clean(month_raw) == (dt.date(2014, 9, 1), ""), month_raw
    assert month.clean("201413")[1].startswith("无法识别的月份：201413")


def test_a_coded_list_takes_labels_codes_and_both_together() -> None:
    col = bound(
        Coded(
            {"走读": False, "住校": True, "寄宿": True},
            {"1": "走读", "2": "住校"},
            unknown="无法识别的就读方式“%(value)s”（可填：%(allowed)s）",
        ),
        "就读方式",
    )
    assert [col.clean(v)[0] for v in ("住校", "寄宿", "走读", "2", 2, 2.0, "1-走读", "2 住校")] == [
        True,
        True,
        False,
        True,
        True,
        True,
        False,
        True,
    ]
    assert (
        col.clean("3")[1]
        == "无法识别的就读方式“3”（可填：走读、住校、寄宿；或代码：1 走读、2 住校）"
    )
    assert col.clean(None)[1].startswith("无法识别的就读方式“”")


def test_a_date_after_today_can_be_refused() -> None:
    col = bound(DateParser(not_after_today="晚于今天：%(d)s"))
    assert col.clean("2090-01-01") == (None, "晚于今天：2090-01-01")


def test_amounts_and_phones() -> None:
    assert bound(Amount()).clean("1,250元") == (Decimal("1250"), "")
    assert bound(Amount(positive="金额应大于0")).clean(0) == (None, "金额应大于0")
    assert bound(Amount()).clean("五百")[1] == "金额不是数字：五百"
    assert bound(Phone()).clean("0563-2022 123") == ("0563-2022123", "")
    assert bound(Phone()).clean("打电话")[1] == "联系电话格式不正确：打电话"


def test_each_distinct_value_is_parsed_once() -> None:
    calls: list[object] = []

    def parse(raw: object) -> object:
        calls.append(raw)
        return raw

    col = BoundColumn("列", parse, None)
    for raw in ["a", "b", "a", "a", "b"]:
        col.clean(raw)
    assert calls == ["a", "b"]


@pytest.mark.django_db
def test_a_school_by_code_or_name_and_an_ambiguous_name_reported(xuanzhou_school: Any) -> None:
    other = make_school("langxi", "郎溪县实验小学", "3134002001")
    other.short_name = "实验小学"
    other.save()
    xuanzhou_school.short_name = "实验小学"
    xuanzhou_school.save()
    col = bound(SchoolParser(), "学校")
    assert col.clean("3134001001")[0].pk == xuanzhou_school.pk
    assert col.clean(3134001001)[0].pk == xuanzhou_school.pk
    assert col.clean("宣州区 实验小学")[0].pk == xuanzhou_school.pk
    assert col.clean("实验小学") == (None, "学校名称“实验小学”不唯一，请填写学校标识码")
    assert col.clean("无此小学")[1].startswith("学校“无此小学”不在学校名单中")
    by_code = bound(SchoolParser(code_only=True), "学校标识码")
    found = by_code.clean(3134001001)[0]
    assert (found.pk, found.code) == (xuanzhou_school.pk, "3134001001")
    assert by_code.clean("3134009999")[1].startswith("学校标识码“3134009999”不在学校名单中")
    assert by_code.clean("宣州区实验小学")[1].startswith("学校标识码“宣州区实验小学”不在")


@pytest.mark.django_db
def test_a_county_by_name_short_name_prefix_or_code(plan: None) -> None:
    col = bound(CountyParser(), "县区")
    xuanzhou = col.clean("宣州区")[0]
    assert xuanzhou is not None and xuanzhou.name == "宣州区"
    assert col.clean("宣州")[0] == xuanzhou
    assert col.clean("宣城市宣州区")[0] == xuanzhou
    assert col.clean("341802")[0] == xuanzhou
    assert col.clean("火星县")[1].startswith("无法识别的县区“火星县”")
