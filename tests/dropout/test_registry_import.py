"""The national registry's 学籍 export imported as it comes (issue 11 item 2)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from dropout.imports import ENROLMENT
from dropout.models import EnrolmentRecord, EnrolmentSnapshot
from intake.base import ImportContext
from tasks.scoping import user_scope
from xc_fupin.lib.sheets import read_table

from ..factories import make_school
from .builders import kid
from .registry_export import Pupil, registry_xlsx

AS_OF = dt.date(2019, 9, 30)
A = kid("2010-05-01", 1)  # 三年级
B = kid("2006-03-02", 2)  # 七年级, boards
C = kid("2002-11-03", 3)  # 高中2018级, boards
D = kid("2011-01-04", 4)


@pytest.fixture
def schools(plan: None) -> dict[str, Any]:
    return {
        "primary": make_school("xuanzhou", "宣州区水阳镇中心小学", "2134001101", ["小学"]),
        "junior": make_school("xuanzhou", "宣州区水阳镇初级中学", "3134001102", ["初中"]),
        "high": make_school("xuanzhou", "宣州区第二中学", "3434001103", ["初中", "普通高中"]),
        "langxi": make_school("langxi", "郎溪县飞鲤中心小学", "2134002101", ["小学"]),
    }


def pupils() -> list[Pupil]:
    # The registry's school names are the full legal names, not the school list's.
    return [
        Pupil("2134001101", "宣城市宣州区水阳镇中心小学", "张三", A, "三年级"),
        Pupil(
            "3134001102",
            "宣城市宣州区水阳镇初级中学",
            "李四",
            B,
            "七年级",
            attendance="住校",
            left_behind="双亲留守儿童",
            disability="听力残疾",
            entry_month="201909",
        ),
        Pupil(
            "3434001103",
            "安徽省宣城市第二中学",
            "王五",
            C,
            "高中2018级",
            attendance="住校",
            class_name="10班",
        ),
    ]


def ctx_for(user: Any, **options: Any) -> ImportContext:
    return ImportContext(user=user, scope=user_scope(user), unit=user.unit, options=options)


def validate(content: bytes, user: Any, **options: Any) -> Any:
    table = read_table(content, filename="学生基本信息.xlsx", columns=ENROLMENT.columns)
    return ENROLMENT.validate(table, ctx_for(user, **options))


def apply(result: Any, user: Any, **options: Any) -> dict[str, int]:
    with transaction.atomic():
        return ENROLMENT.apply(result, ctx_for(user, crosscheck=False, **options))


def messages(result: Any) -> list[str]:
    return [str(e) for e in result.errors]


def test_it_imports_the_registrys_export_with_no_editing(
    xuanzhou_staff: Any, schools: dict[str, Any]
) -> None:
    result = validate(registry_xlsx(pupils()), xuanzhou_staff, as_of=AS_OF)
    assert messages(result) == []
    assert apply(result, xuanzhou_staff, as_of=AS_OF) == {
        "新增": 3,
        "更新": 0,
        "跳过（未变化）": 0,
    }
    records = {r.id_number: r for r in EnrolmentRecord.objects.select_related("school")}
    assert {i: (r.school.name, r.stage, r.boarding) for i, r in records.items()} == {
        A: ("宣州区水阳镇中心小学", "小学", False),
        B: ("宣州区水阳镇初级中学", "初中", True),
        C: ("宣州区第二中学", "普通高中", True),
    }
    second = records[B]
    assert second.student_number == "G" + B
    assert (second.gender, second.birth_date) == (
        "男" if int(B[16]) % 2 else "女",
        dt.date(2006, 3, 2),
    )
    assert (second.left_behind, second.disability) == (True, "听力残疾")
    assert (second.entry_month, second.class_name, second.status) == (
        dt.date(2019, 9, 1),
        "1班",
        "在读",
    )
    assert (records[A].left_behind, records[A].disability) == (False, "")
    assert records[C].class_name == "10班"
    snapshot = EnrolmentSnapshot.objects.get()
    assert snapshot.as_of == AS_OF and snapshot.county is not None
    assert snapshot.county.slug == "xuanzhou"


def test_a_second_import_of_the_same_export_changes_nothing(
    xuanzhou_staff: Any, schools: dict[str, Any]
) -> None:
    content = registry_xlsx(pupils())
    apply(validate(content, xuanzhou_staff, as_of=AS_OF), xuanzhou_staff)
    history = EnrolmentRecord.history.count()  # type: ignore[attr-defined]
    again = validate(content, xuanzhou_staff, as_of=AS_OF)
    assert again.rows == [] and len(again.skipped) == 3 and again.errors == []
    assert apply(again, xuanzhou_staff)["跳过（未变化）"] == 3
    assert EnrolmentRecord.objects.count() == 3
    assert EnrolmentRecord.history.count() == history  # type: ignore[attr-defined]


def test_a_blank_id_is_taken_from_a_g_number_and_children_without_an_id_are_skipped(
    xuanzhou_staff: Any, schools: dict[str, Any]
) -> None:
    temporary = "L" + kid("2011-02-05", 5)[:6] + "20110205" + "0042"
    rows = [
        Pupil("2134001101", "水阳镇中心小学", "赵六", "", "二年级", student_number="G" + D),
        Pupil(
            "2134001101",
            "水阳镇中心小学",
            "Tom",
            "E12345678",
            "二年级",
            id_type="护照",
            student_number="G" + A,
        ),
        Pupil("2134001101", "水阳镇中心小学", "钱七", "", "二年级", student_number=temporary),
        Pupil("2134001101", "水阳镇中心小学", "Ann", "K9988776", "二年级", id_type="护照"),
    ]
    rows[3].student_number = "J" + "3418022011020500" + "07"
    result = validate(registry_xlsx(rows), xuanzhou_staff, as_of=AS_OF)
    assert messages(result) == []
    assert sorted(r["id_number"] for r in result.rows) == sorted([D, A])
    assert [(n.row, n.message) for n in result.skipped] == [
        (4, "无居民身份证号（L字头临时学籍号），不参与比对，跳过"),
        (5, "无居民身份证号（J字头临时学籍号），不参与比对，跳过"),
    ]
    apply(result, xuanzhou_staff)
    record = EnrolmentRecord.objects.get(id_number=D)
    assert (record.name, record.student_number) == ("赵六", "G" + D)


def test_boarding_is_read_from_the_attendance_column_in_codes_too(
    xuanzhou_staff: Any, schools: dict[str, Any]
) -> None:
    rows = pupils()
    rows[0].attendance = "2"
    rows[1].attendance = "1"
    rows[2].attendance = ""
    result = validate(registry_xlsx(rows), xuanzhou_staff, as_of=AS_OF)
    assert messages(result) == []
    assert {r["id_number"]: r["boarding"] for r in result.rows} == {A: True, B: False, C: None}


def test_status_codes_and_labels_of_the_national_standard(
    xuanzhou_staff: Any, schools: dict[str, Any]
) -> None:
    written: list[object] = ["01", "06", 15, "其他离校", "转学（转出）", "99", "02 休学", "复学"]
    rows = [
        Pupil(
            "2134001101", "水阳镇中心小学", f"童{i}", kid("2010-01-01", 20 + i), "四年级", status=s
        )
        for i, s in enumerate(written)
    ]
    result = validate(registry_xlsx(rows), xuanzhou_staff, as_of=AS_OF)
    assert messages(result) == []
    apply(result, xuanzhou_staff)
    stored = dict(EnrolmentRecord.objects.values_list("name", "status"))
    assert [stored[f"童{i}"] for i in range(len(written))] == [
        "在读",
        "流失",
        "下落不明",
        "其他离校",
        "转学",
        "其他",
        "休学",
        "复学",
    ]


def test_each_bad_value_is_named_with_what_is_accepted_and_nothing_is_applied(
    tmp_path: Path, xuanzhou_staff: Any, schools: dict[str, Any]
) -> None:
    wrong_check = B[:-1] + ("0" if B[-1] != "0" else "1")
    rows = [
        *pupils(),
        Pupil(
            "2134001101", "水阳镇中心小学", "甲", kid("2010-02-01", 31), "三年级", status="在读中"
        ),
        Pupil("2134001101", "水阳镇中心小学", "乙", A[:17], "三年级", student_number=""),
        Pupil("2134001101", "水阳镇中心小学", "丙", "", "三年级", student_number="G" + wrong_check),
        Pupil("3134009999", "宣州区不存在学校", "丁", kid("2010-02-01", 32), "三年级"),
        Pupil("2134002101", "郎溪县飞鲤中心小学", "戊", kid("2010-02-01", 33), "三年级"),
    ]
    result = validate(registry_xlsx(rows), xuanzhou_staff, as_of=AS_OF)
    found = messages(result)
    assert found[0].startswith("第5行 学籍状态: 无法识别的学籍状态“在读中”（可填：在读、休学、退学")
    assert "其他离校" in found[0] and "01 在读" in found[0] and "15 下落不明" in found[0]
    assert found[1] == "第6行 身份证号: 身份证号应为18位，实为17位"
    assert found[2].startswith(f"第7行 全国学籍号: 全国学籍号 G{wrong_check} 中的身份证号有误")
    assert "校验位错误" in found[2]
    assert found[3].startswith("第8行 学校标识码: 学校标识码“3134009999”不在学校名单中")
    assert "10位学校标识码" in found[3]
    assert found[4] == "第9行 学校标识码: 该校不属于本单位管辖范围，不能导入其学籍"
    assert len(found) == 5 and not result.ok
    # The same file through the command, as a county would run it: refused, nothing written.
    path = tmp_path / "学生基本信息.xlsx"
    path.write_bytes(registry_xlsx(rows, dated="2019-09-30"))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_sheet", "enrolment", str(path), "--unit", "xuanzhou-jtj", stdout=out, stderr=out
        )
    assert "第5行 学籍状态: 无法识别的学籍状态“在读中”" in out.getvalue()
    assert EnrolmentRecord.objects.count() == 0 and EnrolmentSnapshot.objects.count() == 0


def test_an_export_without_a_date_needs_the_date_of_the_upload(
    xuanzhou_staff: Any, schools: dict[str, Any]
) -> None:
    result = validate(registry_xlsx(pupils()), xuanzhou_staff)
    assert messages(result) == [
        "第1行 整行: 文件中没有统计日期列：请在上传页填写统计日期"
        "（命令行导入加 --as-of YYYY-MM-DD），或在表中加“统计日期”列"
    ]
    later = validate(registry_xlsx(pupils()), xuanzhou_staff, as_of="2090-01-01")
    assert messages(later) == ["第1行 整行: 统计日期晚于今天：2090-01-01"]
    given = validate(registry_xlsx(pupils()), xuanzhou_staff, as_of="2019-09-30")
    assert {r["as_of"] for r in given.rows} == {AS_OF}


def test_the_preview_masks_the_childs_personal_data(
    xuanzhou_staff: Any, schools: dict[str, Any]
) -> None:
    result = validate(registry_xlsx(pupils()), xuanzhou_staff, as_of=AS_OF)
    previews = [ENROLMENT.preview_row(clean) for clean in result.rows]
    assert all(len(p) == len(ENROLMENT.columns) for p in previews)
    shown = " ".join(" ".join(p) for p in previews)
    for secret in (A, B, C, "张三", "李四", "王五", "20100501", "2010-05-01"):
        assert secret not in shown
    second = dict(zip([c.name for c in ENROLMENT.columns], previews[1], strict=True))
    assert second["姓名"] == "李*"
    assert second["身份证号"] == B[:4] + "*" * 10 + B[-4:]
    assert (second["学校"], second["年级"], second["就读方式"], second["学籍状态"]) == (
        "宣州区水阳镇初级中学",
        "七年级",
        "住校",
        "在读",
    )


def test_the_blank_template_has_the_registrys_columns_and_drop_downs(
    client: Any, xuanzhou_staff: Any
) -> None:
    client.force_login(xuanzhou_staff)
    response = client.get(reverse("intake:upload_template", args=["enrolment"]))
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    for header in ("学校标识码", "全国学籍号", "就读方式", "学籍状态", "统计日期"):
        assert header in headers
    number = headers.index("全国学籍号") + 1
    assert sheet.cell(row=2, column=number).number_format == "@"
    options = book["选项"]
    statuses = [
        c.value for c in options[get_column_letter(headers.index("学籍状态") + 1)] if c.value
    ]
    assert statuses[:3] == ["在读", "休学", "退学"]
    assert {"流失", "下落不明", "其他离校", "转学（转出）"} <= set(statuses)
    attendance = [c.value for c in options[get_column_letter(headers.index("就读方式") + 1)]]
    assert [v for v in attendance if v] == ["走读", "住校"]


def test_a_large_export_is_written_with_copy_and_its_history(
    monkeypatch: pytest.MonkeyPatch, xuanzhou_staff: Any, schools: dict[str, Any]
) -> None:
    # The COPY path (PostgreSQL) is taken from COPY_THRESHOLD rows; 0 takes it for three.
    monkeypatch.setattr("dropout.imports.COPY_THRESHOLD", 0)
    apply(validate(registry_xlsx(pupils()), xuanzhou_staff, as_of=AS_OF), xuanzhou_staff)
    assert dict(EnrolmentRecord.objects.values_list("id_number", "boarding")) == {
        A: False,
        B: True,
        C: True,
    }
    history = EnrolmentRecord.history.filter(id_number=B).get()  # type: ignore[attr-defined]
    assert (history.history_type, history.student_number, history.stage) == ("+", "G" + B, "初中")
    changed = pupils()
    changed[1].attendance = "走读"
    apply(validate(registry_xlsx(changed), xuanzhou_staff, as_of=AS_OF), xuanzhou_staff)
    assert EnrolmentRecord.objects.get(id_number=B).boarding is False
    assert EnrolmentRecord.history.filter(id_number=B).count() == 2  # type: ignore[attr-defined]
