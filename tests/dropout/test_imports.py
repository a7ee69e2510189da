"""The enrolment and household imports on real files built here, as counties send them."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from openpyxl import Workbook

from dropout.imports import ENROLMENT, HOUSEHOLD
from dropout.models import EnrolmentRecord, EnrolmentSnapshot, HouseholdChild
from intake.base import ImportContext
from tasks.scoping import user_scope
from xc_fupin.lib.sheets import read_table

from .builders import LANGXI, kid

A = kid("2010-05-01", 1)
B = kid("2011-06-02", 2)
C = kid("2008-03-03", 3)


def xlsx(rows: Sequence[Sequence[object]], title: str = "宣州区2019年秋季学期学籍统计表") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


ENROLMENT_HEADER = ["身份证号码", "学生姓名", "学校名称", "年级", "学籍状态", "统计日期"]


def good_enrolment() -> bytes:
    return xlsx(
        [
            ENROLMENT_HEADER,
            [
                A.lower() if A.endswith("X") else A,
                "张三",
                "宣州区实验小学",
                "三年级",
                "在读",
                "2019-09-30",
            ],
            [B, "李 四", "3134001001", "二年级", "疑似辍学", "2019年9月30日"],
            [C, "王五", "宣州区实验小学", "五年级", "正常", "2019/9/30"],
            ["合计", "3人", None, None, None, None],
            ["填表人：张老师", None, None, "审核人：", None, None],
        ]
    )


def ctx_for(user: Any, **options: Any) -> ImportContext:
    return ImportContext(user=user, scope=user_scope(user), unit=user.unit, options=options)


def validate(
    spec: Any, content: bytes, user: Any, filename: str = "学籍.xlsx", **options: Any
) -> Any:
    table = read_table(content, filename=filename, columns=spec.columns)
    return spec.validate(table, ctx_for(user, **options))


def apply(spec: Any, result: Any, user: Any, **options: Any) -> dict[str, int]:
    with transaction.atomic():
        return spec.apply(result, ctx_for(user, **options))


def test_a_county_enrolment_sheet_is_imported_and_queues_the_crosscheck(
    xuanzhou_staff: Any, xuanzhou_school: Any, django_capture_on_commit_callbacks: Any
) -> None:
    result = validate(ENROLMENT, good_enrolment(), xuanzhou_staff)
    assert [str(e) for e in result.errors] == []
    assert len(result.rows) == 3
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counts = apply(ENROLMENT, result, xuanzhou_staff)
    assert counts == {"新增": 3, "更新": 0, "跳过（未变化）": 0}
    assert len(callbacks) == 1  # one cross-check job for 宣州区
    assert dict(EnrolmentRecord.objects.values_list("id_number", "status")) == {
        A: "在读",
        B: "疑似辍学",
        C: "在读",
    }
    assert EnrolmentRecord.objects.get(id_number=B).name == "李 四"
    snapshot = EnrolmentSnapshot.objects.get()
    assert snapshot.county is not None
    assert (snapshot.county.slug, snapshot.as_of) == ("xuanzhou", dt.date(2019, 9, 30))


def test_uploading_the_same_sheet_again_changes_nothing(
    xuanzhou_staff: Any, xuanzhou_school: Any
) -> None:
    apply(
        ENROLMENT,
        validate(ENROLMENT, good_enrolment(), xuanzhou_staff),
        xuanzhou_staff,
        crosscheck=False,
    )
    again = validate(ENROLMENT, good_enrolment(), xuanzhou_staff)
    assert again.rows == [] and len(again.skipped) == 3 and again.errors == []
    assert apply(ENROLMENT, again, xuanzhou_staff, crosscheck=False) == {
        "新增": 0,
        "更新": 0,
        "跳过（未变化）": 3,
    }
    assert EnrolmentRecord.objects.count() == 3


def test_a_changed_row_updates_the_stored_record(xuanzhou_staff: Any, xuanzhou_school: Any) -> None:
    apply(
        ENROLMENT,
        validate(ENROLMENT, good_enrolment(), xuanzhou_staff),
        xuanzhou_staff,
        crosscheck=False,
    )
    changed = xlsx(
        [ENROLMENT_HEADER, [B, "李 四", "宣州区实验小学", "二年级", "在读", "2019-09-30"]]
    )
    result = validate(ENROLMENT, changed, xuanzhou_staff)
    assert apply(ENROLMENT, result, xuanzhou_staff, crosscheck=False)["更新"] == 1
    assert EnrolmentRecord.objects.get(id_number=B).status == "在读"
    assert EnrolmentRecord.objects.count() == 3


def test_every_bad_row_is_named_and_a_rejected_file_writes_nothing(
    xuanzhou_staff: Any, xuanzhou_school: Any, langxi_school: Any
) -> None:
    bad = xlsx(
        [
            ENROLMENT_HEADER,
            [A, "张三", "宣州区实验小学", "三年级", "在读", "2019-09-30"],
            [int(B[:15]) * 1000, "李四", "宣州区实验小学", "二年级", "在读", "2019-09-30"],
            [C, "王五", "宣州区不存在小学", "五年级", "在读", "2019-09-30"],
            [kid("2009-01-01", 4), "赵六", "郎溪县实验小学", "四年级", "在读", "2019-09-30"],
            [kid("2009-01-02", 5), "钱七", "宣州区实验小学", "四年级", "失踪", "2019-09-30"],
            [A, "张三", "宣州区实验小学", "三年级", "在读", "2019-09-30"],
            [kid("2009-01-03", 6), "", "宣州区实验小学", "四年级", "在读", "2019-13-01"],
            [
                A[:-1] + ("0" if A[-1] != "0" else "1"),
                "孙八",
                "宣州区实验小学",
                "三年级",
                "在读",
                "2019-09-30",
            ],
        ]
    )
    result = validate(ENROLMENT, bad, xuanzhou_staff)
    messages = [str(e) for e in result.errors]
    assert messages[0].startswith("第4行 身份证号: 身份证号被存成了数字")
    assert "第5行 学校: 学校“宣州区不存在小学”不在学校名单中" in messages[1]
    assert messages[2] == "第6行 学校: 该校不属于本单位管辖范围，不能导入其学籍"
    assert "第7行 学籍状态: 无法识别的学籍状态“失踪”" in messages[3]
    assert "第8行 身份证号: 与第3行重复" in messages[4]
    assert any(m.startswith("第9行 姓名: 姓名为空") for m in messages)
    assert any(m.startswith("第9行 统计日期: 日期不存在") for m in messages)
    assert any(m.startswith("第10行 身份证号: 身份证号校验位错误") for m in messages)
    assert result.rejected_rows == 7
    assert not result.ok
    assert EnrolmentRecord.objects.count() == 0 and EnrolmentSnapshot.objects.count() == 0


def test_the_import_command_refuses_a_bad_file_and_applies_nothing(
    tmp_path: Path, plan: None, xuanzhou_school: Any
) -> None:
    path = tmp_path / "学籍.xlsx"
    path.write_bytes(
        xlsx([ENROLMENT_HEADER, [A, "张三", "宣州区无此校", "三年级", "在读", "2019-09-30"]])
    )
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_sheet", "enrolment", str(path), "--unit", "xuanzhou-jtj", stdout=out, stderr=out
        )
    assert refused.value.returncode == 1
    assert out.getvalue().strip().splitlines()[-1] == "accepted 0, rejected 1"
    assert "第3行 学校: 学校“宣州区无此校”不在学校名单中" in out.getvalue()
    assert EnrolmentRecord.objects.count() == 0


def household_csv(rows: list[list[str]]) -> bytes:
    lines = [
        "郎溪县/宣州区 适龄儿童户籍名单",
        "身份证号,姓名,所属县区,乡镇（街道）,村（社区）,监护人姓名,联系方式,统计日期",
    ]
    lines += [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def test_a_household_list_in_gbk_csv_is_imported(xuanzhou_staff: Any) -> None:
    content = household_csv(
        [
            [A, "张三", "宣州", "水阳镇", "金宝圩村", "张大山", "13800000000", "2019-09-30"],
            [B, "李四", "341802", "水阳镇", "三埠村", "李大河", "13900000000", "2019-09-30"],
        ]
    )
    result = validate(HOUSEHOLD, content, xuanzhou_staff, filename="户籍.csv")
    assert result.errors == []
    apply(HOUSEHOLD, result, xuanzhou_staff, crosscheck=False)
    child = HouseholdChild.objects.get(id_number=A)
    assert (child.county.slug, child.village, child.birth_date, child.as_of) == (
        "xuanzhou",
        "金宝圩村",
        dt.date(2010, 5, 1),
        dt.date(2019, 9, 30),
    )
    again = validate(HOUSEHOLD, content, xuanzhou_staff, filename="户籍.csv")
    assert len(again.skipped) == 2 and again.rows == []


def test_a_household_list_for_another_county_is_refused(xuanzhou_staff: Any) -> None:
    content = household_csv(
        [
            [
                kid("2010-01-01", 7, area=LANGXI),
                "郎溪童",
                "郎溪县",
                "飞鲤镇",
                "新发村",
                "某某",
                "",
                "2019-09-30",
            ],
            [kid("2010-01-01", 8), "某童", "火星县", "某镇", "某村", "", "", "2019-09-30"],
            [A, "张三", "宣州区", "水阳镇", "金宝圩村", "", "", "2019-09-30"],
            [A, "张三", "宣州区", "水阳镇", "金宝圩村", "", "", "2019-09-30"],
        ]
    )
    result = validate(HOUSEHOLD, content, xuanzhou_staff, filename="户籍.csv")
    messages = [str(e) for e in result.errors]
    assert messages == [
        "第3行 县区: 该县区不属于本单位管辖范围，不能导入其户籍名单",
        messages[1],
        "第6行 身份证号: 与第5行重复（同一身份证号）",
    ]
    assert messages[1].startswith("第4行 县区: 无法识别的县区“火星县”")
    assert HouseholdChild.objects.count() == 0
