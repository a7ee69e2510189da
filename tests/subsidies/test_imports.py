"""Each spreadsheet, as counties really make them, through read_table → validate → apply."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import xlwt
from django.db import transaction
from openpyxl import Workbook

from intake.base import get_spec
from subsidies.imports import DisbursementsSpec, RosterSpec, SchoolsSpec, StandardsSpec
from subsidies.models import Disbursement, SubsidyStandard
from tasks.models import RosterStudent, School

from .conftest import LIVING, add_student, context, ident, read

HEAD = ["身份证号码", "学生姓名", "学校名称", "资助项目", "学期", "发放金额(元)", "发放时间"]


def xlsx(
    rows: list[list[Any]],
    *,
    title: str | None = "宣州区2019年春季学期学生资助发放明细表",
    merge_title: bool = True,
    footer: bool = True,
    number_formats: dict[int, str] | None = None,
) -> bytes:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
        if merge_title:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
        ws.append(["填报单位：宣州区教体局", None, None, None, None, None, "单位：元"])
    for row in rows:
        ws.append(row)
    if footer:
        ws.append(
            [
                "合计",
                None,
                None,
                None,
                None,
                sum(r[5] for r in rows[1:] if isinstance(r[5], (int, float))),
                None,
            ]
        )
        ws.append([])
        ws.append(
            ["填表人：张三", None, None, "审核人：李四", None, None, "填报日期：2019年6月20日"]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def run(spec: Any, data: bytes, user: Any, filename: str = "明细.xlsx") -> tuple[Any, Any]:
    table = read(spec, data, filename)
    ctx = context(user)
    result = spec.validate(table, ctx)
    if result.ok:
        with transaction.atomic():
            spec.apply(result, ctx)
    return table, result


def messages(result: Any) -> list[str]:
    return [str(e) for e in result.errors]


def payment_rows(pupils: list[Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [HEAD]
    for p in pupils:
        rows.append(
            [
                p.id_number,
                p.name,
                "宣州区实验小学",
                "寄宿生生活补助",
                "2019年春季学期",
                f"{500 if p.boarding else 250}元",
                "2019.6.10",
            ]
        )
    return rows


def test_a_messy_county_file_imports_and_a_second_upload_changes_nothing(
    pupils: Any, xuanzhou_staff: Any
) -> None:
    data = xlsx(payment_rows(pupils))
    table, result = run(DisbursementsSpec(), data, xuanzhou_staff)
    assert result.ok, messages(result)
    assert table.header_row == 3
    assert [reason for _n, reason in table.skipped][:1] == ["合计行"]
    assert Disbursement.objects.count() == 4
    paid = Disbursement.objects.get(id_number=pupils[1].id_number)
    assert (paid.amount, paid.paid_on, paid.item.name) == (500, dt.date(2019, 6, 10), LIVING)

    _table, again = run(DisbursementsSpec(), data, xuanzhou_staff)
    assert again.ok and not again.rows
    assert len(again.skipped) == 4 and "已有发放记录" in again.skipped[0].message
    assert Disbursement.objects.count() == 4


def test_one_bad_row_rejects_the_file_and_writes_nothing(pupils: Any, xuanzhou_staff: Any) -> None:
    rows = payment_rows(pupils)
    rows[2][0] = rows[2][0][:-1] + ("0" if rows[2][0][-1] != "0" else "1")
    _table, result = run(DisbursementsSpec(), xlsx(rows), xuanzhou_staff)
    assert not result.ok
    assert messages(result) == [
        f"第5行 身份证号: 身份证号校验位错误，应为{pupils[1].id_number[-1]}"
    ]
    assert Disbursement.objects.count() == 0


def test_row_checks_name_row_column_and_reason(
    pupils: Any, xuanzhou_staff: Any, langxi_school: Any
) -> None:
    p = pupils
    rows = [
        HEAD,
        [p[0].id_number, p[0].name, "郎溪县实验小学", LIVING, "2019春", 250, "2019-06-01"],
        [p[1].id_number, p[1].name, "不存在小学", LIVING, "2019春", 500, "2019-06-01"],
        [p[2].id_number, p[2].name, "宣州区实验小学", "营养餐", "2019春", 250, "2019-06-01"],
        [p[3].id_number, p[3].name, "宣州区实验小学", LIVING, "2018秋", 500, "2019-06-01"],
        [p[0].id_number, p[0].name, "宣州区实验小学", LIVING, "2019春", "800元", "2019-06-01"],
        [p[1].id_number, p[1].name, "宣州区实验小学", LIVING, "2019春", "五百", "2019/13/01"],
        [p[2].id_number, "王五", "宣州区实验小学", LIVING, "2019春", 250, "2019-06-01"],
        [p[3].id_number, p[3].name, "宣州区实验小学", LIVING, "2019春", 500, "2019-06-01"],
        [p[3].id_number, p[3].name, "宣州区实验小学", LIVING, "2019春", 500, "2019-06-02"],
        [float(p[0].id_number), p[0].name, "宣州区实验小学", LIVING, "2019秋", 250, "2019-06-01"],
    ]
    _table, result = run(DisbursementsSpec(), xlsx(rows, footer=False), xuanzhou_staff)
    got = messages(result)
    assert "第4行 就读学校: 该校不属于本单位（宣州区），不能上传" in got
    assert any(m.startswith("第5行 就读学校: 学校“不存在小学”不在学校名单中") for m in got)
    assert any(m.startswith("第6行 资助项目: 未知资助项目：营养餐") for m in got)
    assert any(m.startswith("第7行 学期: 未知学期：2018秋") for m in got)
    assert any(
        m.startswith("第8行 金额(元): 金额 800.00 元 高于") and "最高标准 500.00 元" in m
        for m in got
    )
    assert "第9行 金额(元): 金额不是数字：五百" in got
    assert any(m.startswith("第9行 发放日期: 日期不存在") for m in got)
    assert any(m.startswith("第10行 姓名: 与建档立卡名册不一致") for m in got)
    assert "第12行 身份证号: 与第11行重复：同一学生同一学期同一资助项目只能发放一次" in got
    assert any(m.startswith("第13行 身份证号: 身份证号被存成了数字") for m in got)
    assert any(
        m.startswith("第13行 发放日期: 发放日期 2019-06-01 早于 2019秋 学期开始") for m in got
    )
    assert Disbursement.objects.count() == 0


def test_a_payment_already_recorded_with_another_amount_is_an_error_not_a_skip(
    pupils: Any, xuanzhou_staff: Any
) -> None:
    run(DisbursementsSpec(), xlsx(payment_rows(pupils)), xuanzhou_staff)
    rows = payment_rows(pupils)
    rows[1][5] = 100
    _table, result = run(DisbursementsSpec(), xlsx(rows), xuanzhou_staff)
    assert any("已有发放记录 250.00 元，与本行 100.00 元不符" in m for m in messages(result))


def test_payments_to_students_off_the_roster_are_accepted(
    spring: Any, xuanzhou_school: Any, xuanzhou_staff: Any
) -> None:
    rows = [
        HEAD,
        [
            ident("xuanzhou", 77),
            "路人甲",
            "3134001001",
            LIVING,
            "2019春",
            "250.00",
            "2019年6月10日",
        ],
    ]
    _table, result = run(DisbursementsSpec(), xlsx(rows, title=None, footer=False), xuanzhou_staff)
    assert result.ok, messages(result)
    assert result.rows[0]["on_roster"] is False
    assert Disbursement.objects.get().school == xuanzhou_school


def test_full_width_digits_lowercase_x_and_a_gbk_csv(
    spring: Any, xuanzhou_school: Any, xuanzhou_staff: Any
) -> None:
    number = next(ident("xuanzhou", n) for n in range(1, 200) if ident("xuanzhou", n).endswith("X"))
    student = add_student(xuanzhou_school, 0, name="许可")
    RosterStudent.objects.filter(pk=student.pk).update(id_number=number)
    full_width = number[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "x"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["2019年春季学期资助发放明细"])
    writer.writerow(["公民身份号码", "姓名", "学校", "项目", "学期", "资助金额", "发放日期"])
    writer.writerow(
        [full_width, "许 可", "宣州区 实验小学", LIVING, "2019春", "250.00元", "20190610"]
    )
    _table, result = run(
        DisbursementsSpec(), buffer.getvalue().encode("gbk"), xuanzhou_staff, "明细.csv"
    )
    assert result.ok, messages(result)
    assert Disbursement.objects.get().id_number == number


def test_an_old_xls_file_is_read(pupils: Any, xuanzhou_staff: Any) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("明细")
    sheet.write_merge(0, 0, 0, 6, "2019年春季学期资助发放明细表")
    for r, row in enumerate(payment_rows(pupils), start=1):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    _table, result = run(DisbursementsSpec(), buffer.getvalue(), xuanzhou_staff, "明细.xls")
    assert result.ok, messages(result)
    assert Disbursement.objects.count() == 4


def test_a_school_user_may_upload_only_their_own_school(
    pupils: Any, school_staff: Any, xuanzhou_junior: Any
) -> None:
    rows = payment_rows(pupils[:1]) + [
        [ident("xuanzhou", 60), "某某", "宣州区第一初级中学", LIVING, "2019春", 312.5, "2019-06-01"]
    ]
    _table, result = run(DisbursementsSpec(), xlsx(rows, footer=False), school_staff)
    assert messages(result) == ["第5行 就读学校: 该校不属于本单位（宣州区实验小学），不能上传"]


# --- roster ---------------------------------------------------------------------------


ROSTER_HEAD = ["身份证号", "姓名", "户籍县区", "就读学校", "学段", "年级", "是否寄宿"]


def test_the_roster_imports_with_derived_gender_and_birth_date_and_reimport_is_a_no_op(
    standards: Any, xuanzhou_school: Any, xuanzhou_staff: Any
) -> None:
    number = ident("guangde", 3)
    rows = [
        ROSTER_HEAD,
        [number, "黄小", "广德", "宣州区实验小学", "小学", "三年级", "是"],
        [ident("xuanzhou", 4), "周小", "341802", "3134001001", "小学", "", "否"],
    ]
    data = xlsx(rows, title="建档立卡学生名册", footer=False)
    _table, result = run(RosterSpec(), data, xuanzhou_staff)
    assert result.ok, messages(result)
    student = RosterStudent.objects.get(id_number=number)
    assert student.household_county and student.county
    assert (student.household_county.slug, student.county.slug, student.boarding) == (
        "guangde",
        "xuanzhou",
        True,
    )
    assert student.birth_date == dt.date.fromisoformat(
        f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    )
    _table, again = run(RosterSpec(), data, xuanzhou_staff)
    assert again.ok and not again.rows and len(again.skipped) == 2


def test_an_unknown_school_in_the_roster_is_an_error_and_creates_no_school(
    standards: Any, xuanzhou_staff: Any, xuanzhou_school: Any
) -> None:
    rows = [
        ROSTER_HEAD,
        [ident("xuanzhou", 5), "吴小", "宣州区", "新建小学", "小学", "一年级", "否"],
        [ident("xuanzhou", 6), "郑小", "宣州区", "宣州区实验小学", "初中", "七年级", "否"],
    ]
    before = School.objects.count()
    _table, result = run(RosterSpec(), xlsx(rows, footer=False), xuanzhou_staff)
    got = messages(result)
    assert any(m.startswith("第4行 就读学校: 学校“新建小学”不在学校名单中") for m in got)
    assert "第5行 学段: 宣州区实验小学 的学段为 小学，没有 初中" in got
    assert School.objects.count() == before and not RosterStudent.objects.exists()


def test_a_county_cannot_take_over_another_countys_student(
    standards: Any, xuanzhou_staff: Any, xuanzhou_school: Any, langxi_school: Any
) -> None:
    theirs = add_student(langxi_school, 8, name="郎小")
    rows = [
        ROSTER_HEAD,
        [theirs.id_number, "郎小", "郎溪县", "宣州区实验小学", "小学", "一年级", "否"],
    ]
    _table, result = run(RosterSpec(), xlsx(rows, footer=False), xuanzhou_staff)
    assert messages(result) == [
        "第4行 身份证号: 该生不属于本单位，不能上传；如系转学，请由原单位或市局调整"
    ]


# --- schools and standards ------------------------------------------------------------


SCHOOL_HEAD = ["学校标识码", "学校名称", "所属县区", "学段", "是否市直"]


def test_the_city_imports_schools_with_county_names_or_either_guangde_code(admin_user: Any) -> None:
    rows = [
        SCHOOL_HEAD,
        ["3134003101", "广德市桃州中学", "341822", "初中、普通高中", "否"],
        ["3134003102", "广德市誓节小学", "341882", "小学", "否"],
        ["3134004101", "泾县城关小学", "泾", "小学,初中", "否"],
        ["3134000101", "宣城市第三中学", "", "初中", "是"],
    ]
    _table, result = run(SchoolsSpec(), xlsx(rows, title="学校名单", footer=False), admin_user)
    assert result.ok, messages(result)
    taozhou = School.objects.get(school_code="3134003101")
    assert taozhou.county is not None
    assert (taozhou.county.slug, taozhou.stages) == ("guangde", ["初中", "普通高中"])
    assert School.objects.get(school_code="3134004101").stages == ["小学", "初中"]
    city = School.objects.get(school_code="3134000101")
    assert city.county is None and city.is_city_run and city.parent is not None
    assert city.parent.code == "city-schools"
    _table, again = run(SchoolsSpec(), xlsx(rows, title="学校名单", footer=False), admin_user)
    assert again.ok and not again.rows


def test_a_city_run_school_may_name_the_city_or_leave_its_county_blank(admin_user: Any) -> None:
    rows: list[list[Any]] = [
        SCHOOL_HEAD,
        ["3134000201", "宣城中学", "宣城市", "普通高中", "是"],
        ["3134000202", "宣城市第二中学", "市直", "初中", "是"],
        ["3134000203", "宣城市实验学校", None, "小学", "是"],
    ]
    _table, result = run(SchoolsSpec(), xlsx(rows, title="学校名单", footer=False), admin_user)
    assert result.ok, messages(result)
    for code in ("3134000201", "3134000202", "3134000203"):
        school = School.objects.get(school_code=code)
        assert school.is_city_run and school.county is None
        assert school.parent is not None and school.parent.code == "city-schools"


def test_a_county_school_still_needs_a_real_county(admin_user: Any) -> None:
    rows: list[list[Any]] = [
        SCHOOL_HEAD,
        ["3134001201", "宣州区新田小学", "宣城市", "小学", "否"],
        ["3134001202", "宣州区水东小学", None, "小学", "否"],
        ["3134001203", "宣州区狸桥小学", "市直", "小学", None],
    ]
    _table, result = run(SchoolsSpec(), xlsx(rows, title="学校名单", footer=False), admin_user)
    assert not result.ok
    assert messages(result) == [
        "第4行 所属县区: 所属县区填“宣城市”的只能是市直学校：市直学校请在“是否市直”填“是”，"
        "县区学校请填所属县市区",
        "第5行 所属县区: 所属县区为空（市直学校请在“是否市直”填“是”）",
        "第6行 所属县区: 所属县区填“市直”的只能是市直学校：市直学校请在“是否市直”填“是”，"
        "县区学校请填所属县市区",
    ]
    assert not School.objects.filter(school_code__startswith="31340012").exists()


def test_a_county_user_cannot_import_schools(xuanzhou_staff: Any) -> None:
    rows = [SCHOOL_HEAD, ["3134001999", "宣州区新小学", "宣州区", "小学", "否"]]
    _table, result = run(SchoolsSpec(), xlsx(rows, title=None, footer=False), xuanzhou_staff)
    assert not result.ok and "只能由系统管理员或市教体局导入" in messages(result)[0]


def test_standards_import_updates_an_amount_and_marks_the_highest_tier(
    spring: Any, admin_user: Any
) -> None:
    rows = [
        ["资助项目", "学段", "适用对象", "学期", "档次", "金额(元)"],
        ["普通高中国家助学金", "高中", "全体", "2019春", "一档", "1,500元"],
    ]
    _table, result = run(StandardsSpec(), xlsx(rows, title=None, footer=False), admin_user)
    assert result.ok, messages(result)
    specific = SubsidyStandard.objects.get(semester=spring, item__name="普通高中国家助学金")
    assert specific.amount == 1500
    _table, again = run(StandardsSpec(), xlsx(rows, title=None, footer=False), admin_user)
    assert not again.rows and len(again.skipped) == 1


def test_specs_are_registered_for_the_pipeline() -> None:
    assert {get_spec(k).title for k in ("schools", "roster", "standards", "disbursements")} == {
        "学校名单",
        "建档立卡学生名册",
        "资助标准",
        "资助发放明细",
    }


def test_the_fast_id_check_agrees_with_the_library() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from subsidies.imports import id_value
    from xc_fupin.lib.idnumber import IdNumberError, parse_id_number

    day = dt.date(2019, 6, 1)

    def outcome(fn: Any, raw: str) -> str:
        try:
            return fn(raw)
        except IdNumberError as e:
            return f"error: {e}"

    @settings(max_examples=500, deadline=None)
    @given(
        st.text(alphabet="0123456789xX", min_size=18, max_size=18)
        | st.sampled_from(
            [ident("xuanzhou", 5), ident("guangde", 7), "34180220100101123x", "341802201902301234"]
        )
    )
    def check(raw: str) -> None:
        assert outcome(lambda r: id_value(r, day), raw) == outcome(
            lambda r: parse_id_number(r, today=day).value, raw
        )

    check()
