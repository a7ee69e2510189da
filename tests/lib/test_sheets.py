from __future__ import annotations

import io
import os
import signal
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import xlwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xc_fupin.lib import forked, sheets
from xc_fupin.lib.dates import parse_date
from xc_fupin.lib.idnumber import IdNumberError, make_id_number, parse_id_number
from xc_fupin.lib.money import parse_amount
from xc_fupin.lib.sheets import (
    ColumnSpec,
    SheetError,
    Table,
    detect_header,
    read_table,
    table_from_grid,
)
from xc_fupin.lib.text import normalize_text

DISBURSEMENT = [
    ColumnSpec("身份证号", ("身份证号码", "公民身份号码")),
    ColumnSpec("姓名", ("学生姓名",)),
    ColumnSpec("就读学校", ("学校", "学校名称")),
    ColumnSpec("资助项目"),
    ColumnSpec("学期"),
    ColumnSpec("金额(元)", ("金额", "发放金额(元)")),
    ColumnSpec("发放日期", required=False),
]
HOUSEHOLD = [
    ColumnSpec("身份证号"),
    ColumnSpec("姓名"),
    ColumnSpec("县区"),
    ColumnSpec("监护人", required=False),
    ColumnSpec("联系电话", required=False),
]
SIMPLE = [
    ColumnSpec("身份证号", ("身份证号码", "公民身份号码")),
    ColumnSpec("姓名", ("学生姓名",)),
    ColumnSpec("金额(元)", ("金额",)),
]

ID1 = make_id_number("341802", date(2007, 10, 28), 121)
ID3 = make_id_number("341822", date(2008, 1, 2), 3)
ID4 = make_id_number("341882", date(2012, 5, 6), 40)
ID5 = make_id_number("341821", date(2013, 9, 1), 50)
ID_X = "11010519491231002X"

MACRO = "不接受含宏的文件（.xlsm），请另存为 .xlsx"
CORRUPT = "文件已损坏或格式不正确，无法打开"
UNRECOGNISED = "不是可识别的表格文件（支持 .xlsx、.xls、.csv）"
PASSWORD = "文件设有密码保护，请取消密码后再上传"


def xlsx(*builders: Callable[[Worksheet], None], hidden: tuple[int, ...] = ()) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for index, build in enumerate(builders):
        sheet = workbook.create_sheet(f"Sheet{index + 1}")
        build(sheet)
        if index in hidden:
            sheet.sheet_state = "hidden"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def reason(excinfo: pytest.ExceptionInfo[SheetError]) -> str:
    return excinfo.value.reason


def county_sheet(sheet: Worksheet) -> None:
    """A disbursement sheet as 宣州区 sends it."""
    sheet.title = "发放明细"
    sheet["A1"] = "宣城市2019年春季学期建档立卡学生资助发放明细表"
    sheet.merge_cells("A1:H1")
    sheet["A2"] = "填报单位：宣州区教体局（盖章）"
    sheet["F2"] = "填报日期：2019年6月20日"
    sheet.append(
        [
            "序号",
            "学校名称",
            "公民身份号码",
            "学生姓名",
            "资助项目",
            "学期",
            "发放金额（元）",
            "发放日期",
        ]
    )
    sheet.append(
        [1, "宣城市第二中学", ID1, "张三", "国家助学金", "2019春", "1,250.00元", "2019年6月10日"]
    )
    sheet.append(
        [2, None, 341802201309011000, "李四", "国家助学金", "2019春", 1250, date(2019, 6, 10)]
    )
    sheet.append(
        [3, None, ID_X.lower(), "王\u3000五", "国家助学金", "2019春", "￥500", "2019/6/10"]
    )
    full_width_id = "".join(chr(ord(ch) + 0xFEE0) for ch in ID4)
    sheet.append(
        [4, "宣州区实验小学", full_width_id, "赵六", "营养改善计划", "2019春", 625.5, "20190610"]
    )
    sheet.append([5, None, ID5, "钱七", "营养改善计划", "２０１９春", 400, 43626])
    sheet.merge_cells("B4:B6")
    sheet.merge_cells("B7:B8")
    sheet.append([])  # row 9
    sheet.append(["合  计", None, None, None, None, None, 4025.5, None])  # row 10
    sheet.merge_cells("A10:F10")
    sheet["A11"] = "填表人：张三"
    sheet["D11"] = "审核人：李四"
    sheet["G11"] = "联系电话：0563-2021234"
    sheet["A12"] = "单位负责人："
    sheet["B12"] = "王五"


def test_it_reads_a_county_sheet_as_it_really_arrives() -> None:
    table = read_table(xlsx(county_sheet), filename="宣州区.xlsx", columns=DISBURSEMENT)

    assert table.filename == "宣州区.xlsx"
    assert table.sheet_name == "发放明细"
    assert table.header_row == 3
    assert table.columns == {
        "身份证号": 2,
        "姓名": 3,
        "就读学校": 1,
        "资助项目": 4,
        "学期": 5,
        "金额(元)": 6,
        "发放日期": 7,
    }
    assert table.column_letters["身份证号"] == "C"
    assert table.cell_ref(5, "身份证号") == "C5"
    assert [row.number for row in table.rows] == [4, 5, 6, 7, 8]
    assert table.skipped == [(9, "空行"), (10, "合计行"), (11, "签字行"), (12, "签字行")]

    schools = [row.values["就读学校"] for row in table.rows]
    assert schools == ["宣城市第二中学"] * 3 + ["宣州区实验小学"] * 2

    first, second, third, fourth, fifth = (row.values for row in table.rows)
    assert parse_id_number(first["身份证号"]).value == ID1
    assert parse_id_number(third["身份证号"]).value == ID_X
    assert parse_id_number(fourth["身份证号"]).value == ID4
    assert parse_id_number(fifth["身份证号"]).value == ID5
    assert normalize_text(third["姓名"]) == "王 五"
    assert normalize_text(fifth["学期"]) == "2019春"

    # The number-stored ID stays a number, so the validator can say what went wrong.
    assert isinstance(second["身份证号"], float)
    with pytest.raises(IdNumberError, match="被存成了数字"):
        parse_id_number(second["身份证号"])

    amounts = [parse_amount(row.values["金额(元)"]) for row in table.rows]
    assert [str(a) for a in amounts] == ["1250.00", "1250.00", "500.00", "625.50", "400.00"]
    assert second["金额(元)"] == 1250 and isinstance(second["金额(元)"], int)
    assert {parse_date(row.values["发放日期"]) for row in table.rows} == {date(2019, 6, 10)}


def test_it_accepts_an_open_file_and_a_path(tmp_path: Path) -> None:
    data = xlsx(county_sheet)
    path = tmp_path / "明细.xlsx"
    path.write_bytes(data)
    assert len(read_table(path, filename="明细.xlsx", columns=DISBURSEMENT).rows) == 5
    assert len(read_table(str(path), filename="明细.xlsx", columns=DISBURSEMENT).rows) == 5
    with path.open("rb") as handle:
        assert len(read_table(handle, filename="明细.xlsx", columns=DISBURSEMENT).rows) == 5


def test_it_finds_a_two_row_header_under_a_merged_group_header() -> None:
    def build(sheet: Worksheet) -> None:
        sheet["A1"] = "建档立卡学生资助发放明细"
        sheet.merge_cells("A1:D1")
        sheet["A2"] = "身份证号"
        sheet["B2"] = "姓名"
        sheet["C2"] = "资助情况"
        sheet.merge_cells("A2:A3")
        sheet.merge_cells("B2:B3")
        sheet.merge_cells("C2:D2")
        sheet["C3"] = "金额（元）"
        sheet["D3"] = "发放日期"
        sheet.append([ID1, "张三", 1250, "2019-06-10"])

    table = read_table(xlsx(build), filename="两行表头.xlsx", columns=SIMPLE)
    assert table.header_row == 3
    assert table.columns == {"身份证号": 0, "姓名": 1, "金额(元)": 2}
    assert [(row.number, row.values) for row in table.rows] == [
        (4, {"身份证号": ID1, "姓名": "张三", "金额(元)": 1250})
    ]


def test_a_phone_column_is_data_but_a_phone_line_is_a_footer() -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["户籍适龄儿童名单"])
        sheet.append(["身份证号", "姓名", "县区", "乡镇", "村", "监护人", "联系电话"])
        sheet.append([ID1, "张三", "宣州区", "水阳镇", "三里村", "张大山", "13905631234"])
        sheet.append([ID3, "李四", "广德市", "桃州镇", "新杭村", None, "0563-6021234"])
        sheet.append([None, None, None, None, None, None, "联系电话：0563-2021234"])
        sheet.append(["联系人：王五", None, None, None, None, None, None])

    table = read_table(xlsx(build), filename="户籍.xlsx", columns=HOUSEHOLD)
    assert [row.values["联系电话"] for row in table.rows] == ["13905631234", "0563-6021234"]
    assert table.rows[1].values["监护人"] is None
    assert table.skipped == [(5, "签字行"), (6, "签字行")]


def test_optional_columns_that_are_absent_read_as_none() -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["身份证号", "姓名", "县区"])
        sheet.append([ID1, "张三", "宣州区"])

    table = read_table(xlsx(build), filename="户籍.xlsx", columns=HOUSEHOLD)
    assert table.columns == {"身份证号": 0, "姓名": 1, "县区": 2}
    assert table.rows[0].values == {
        "身份证号": ID1,
        "姓名": "张三",
        "县区": "宣州区",
        "监护人": None,
        "联系电话": None,
    }


def test_it_skips_totals_subtotals_and_repeated_headers() -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["身份证号", "姓名", "金额"])
        sheet.append([ID1, "张三", 100])
        sheet.append(["第一中学小计", None, 100])
        sheet.append(["身份证号", "姓名", "金额"])
        sheet.append([ID3, "李四", 200])
        sheet.append([" ", "\u3000", None])
        sheet.append(["总 计", None, 300])

    table = read_table(xlsx(build), filename="分校.xlsx", columns=SIMPLE)
    assert [row.values["姓名"] for row in table.rows] == ["张三", "李四"]
    assert table.skipped == [(3, "合计行"), (4, "重复表头"), (6, "空行"), (7, "合计行")]


def test_it_uses_the_first_visible_sheet_with_a_header() -> None:
    def instructions(sheet: Worksheet) -> None:
        sheet.title = "填表说明"
        sheet.append(["1. 身份证号请设为文本格式。"])

    def hidden(sheet: Worksheet) -> None:
        sheet.title = "隐藏"
        sheet.append(["身份证号", "姓名", "金额"])
        sheet.append([ID3, "隐藏的人", 1])

    def data(sheet: Worksheet) -> None:
        sheet.title = "明细"
        sheet.append(["身份证号", "姓名", "金额"])
        sheet.append([ID1, "张三", 100])

    table = read_table(
        xlsx(instructions, hidden, data, hidden=(1,)), filename="多表.xlsx", columns=SIMPLE
    )
    assert table.sheet_name == "明细"
    assert [row.values["姓名"] for row in table.rows] == ["张三"]


def test_a_missing_header_lists_the_missing_columns() -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["宣城市2019年春季学期建档立卡学生资助发放明细表"])
        sheet.append(["序号", "身份证号", "姓名", "备注"])
        sheet.append([1, ID1, "张三", None])

    with pytest.raises(SheetError) as excinfo:
        read_table(xlsx(build), filename="缺列.xlsx", columns=DISBURSEMENT)
    message = str(excinfo.value)
    assert "缺列.xlsx" in message
    assert "未找到表头：缺少列 就读学校、资助项目、学期、金额(元)" in message
    assert "第2行" in message
    assert "发放日期" not in message  # optional


def test_detect_header_is_a_pure_function() -> None:
    rows: list[list[object]] = [
        ["资助发放明细表", None, None],
        [None, None, None],
        ["金 额（元）", "学生姓名", "身份证号码"],
        [1250, "张三", ID1],
    ]
    assert detect_header(rows, SIMPLE) == (2, {"金额(元)": 0, "姓名": 1, "身份证号": 2})


def test_detect_header_prefers_a_canonical_name_over_an_alias() -> None:
    columns = [ColumnSpec("学校", ("学校名称",)), ColumnSpec("学校名称", required=False)]
    assert detect_header([["学校名称", "学校"]], columns) == (0, {"学校": 1, "学校名称": 0})


def test_detect_header_looks_only_at_the_first_twenty_rows() -> None:
    title: list[object] = ["标题"]
    rows: list[list[object]] = [title] * 20 + [["身份证号", "姓名", "金额"]]
    with pytest.raises(SheetError, match="前20行"):
        detect_header(rows, SIMPLE)


def test_it_reads_a_real_xls() -> None:
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("明细")
    sheet.write_merge(0, 0, 0, 3, "郎溪县资助发放明细")
    for column, title in enumerate(["学校", "身份证号", "学生姓名", "金额（元）"]):
        sheet.write(1, column, title)
    sheet.write_merge(2, 3, 0, 0, "郎溪中学")
    sheet.write(2, 1, ID1)
    sheet.write(2, 2, "张三")
    sheet.write(2, 3, 1250)
    sheet.write(3, 1, 341802201309011000.0)
    sheet.write(3, 2, "李四")
    sheet.write(3, 3, "625.5元")
    sheet.write(4, 0, "合计")
    sheet.write(4, 3, 1875.5)
    buffer = io.BytesIO()
    workbook.save(buffer)

    columns = [*SIMPLE, ColumnSpec("就读学校", ("学校",))]
    table = read_table(buffer.getvalue(), filename="郎溪.xls", columns=columns)
    assert table.header_row == 2
    assert [(row.number, row.values["就读学校"], row.values["姓名"]) for row in table.rows] == [
        (3, "郎溪中学", "张三"),
        (4, "郎溪中学", "李四"),
    ]
    assert table.rows[0].values["金额(元)"] == 1250
    assert not isinstance(table.rows[1].values["身份证号"], str)
    assert table.skipped == [(5, "合计行")]


CSV_TEXT = (
    "泾县2019年春季资助发放明细\r\n"
    "身份证号,学生姓名,金额（元）\r\n"
    f'{ID1},张三,"1,250.00"\r\n'
    f"{ID_X.lower()},李四,500元\r\n"
    "3.41802E+17,王五,300\r\n"
    "\r\n"
    '合计,,"2,050.00"\r\n'
    "填表人：赵六,,\r\n"
)


def test_it_reads_a_csv_saved_in_gbk() -> None:
    table = read_table(CSV_TEXT.encode("gbk"), filename="泾县.csv", columns=SIMPLE)
    assert table.sheet_name == "泾县"
    assert table.header_row == 2
    assert [(row.number, row.values["姓名"]) for row in table.rows] == [
        (3, "张三"),
        (4, "李四"),
        (5, "王五"),
    ]
    assert table.rows[0].values["金额(元)"] == "1,250.00"
    with pytest.raises(IdNumberError, match="被存成了数字"):
        parse_id_number(table.rows[2].values["身份证号"])
    assert table.skipped == [(6, "空行"), (7, "合计行"), (8, "签字行")]


def test_it_reads_a_csv_saved_as_utf8_with_bom() -> None:
    data = b"\xef\xbb\xbf" + CSV_TEXT.encode("utf-8")
    table = read_table(data, filename="泾县.csv", columns=SIMPLE)
    assert [row.values["姓名"] for row in table.rows] == ["张三", "李四", "王五"]
    assert table.columns == {"身份证号": 0, "姓名": 1, "金额(元)": 2}


def test_it_reads_tab_separated_unicode_text_as_excel_saves_it() -> None:
    data = "身份证号\t姓名\t金额\r\n" + f'="{ID1}"\t张三\t100\r\n'
    table = read_table(data.encode("utf-16"), filename="导出.txt", columns=SIMPLE)
    assert table.rows[0].values == {"身份证号": ID1, "姓名": "张三", "金额(元)": "100"}


def test_csv_row_numbers_are_line_numbers() -> None:
    data = '身份证号,姓名,金额\n"' + ID1 + '","张\n三",1\n' + ID3 + ",李四,2\n"
    table = read_table(data.encode(), filename="多行.csv", columns=SIMPLE)
    assert [row.number for row in table.rows] == [2, 4]


# --- refusals --------------------------------------------------------------------------


def with_members(
    data: bytes, extra: dict[str, bytes], replace: dict[str, bytes] | None = None
) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = (replace or {}).get(info.filename, source.read(info))
            target.writestr(info.filename, body)
        for name, body in extra.items():
            target.writestr(name, body)
    return buffer.getvalue()


def simple_xlsx() -> bytes:
    def build(sheet: Worksheet) -> None:
        sheet.append(["身份证号", "姓名", "金额"])
        sheet.append([ID1, "张三", 100])

    return xlsx(build)


@pytest.fixture
def calamine_calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[], int]:
    """Count how many times the workbook reader was handed a file, in any process.

    calamine runs in a forked child, whose memory the test cannot see: each call is
    recorded as a line in a file instead.
    """
    log = tmp_path / "calamine-calls"
    log.touch()
    real = sheets.CalamineWorkbook

    class Spy:
        @staticmethod
        def from_filelike(*args: Any, **kwargs: Any) -> Any:
            with log.open("a") as handle:
                handle.write(f"{os.getpid()}\n")
            return real.from_filelike(*args, **kwargs)

    monkeypatch.setattr(sheets, "CalamineWorkbook", Spy)
    return lambda: len(log.read_text().splitlines())


def test_the_reader_spy_sees_the_forked_reader(calamine_calls: Callable[[], int]) -> None:
    read_table(simple_xlsx(), filename="a.xlsx", columns=SIMPLE)
    assert calamine_calls() == 1


def test_it_refuses_a_workbook_with_macros(calamine_calls: Callable[[], int]) -> None:
    data = with_members(simple_xlsx(), {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 fake vba"})
    with pytest.raises(SheetError) as excinfo:
        read_table(data, filename="宏.xlsx", columns=SIMPLE)
    assert reason(excinfo) == MACRO
    assert calamine_calls() == 0


def test_it_refuses_macro_enabled_content_types_and_extensions() -> None:
    data = simple_xlsx()
    types = zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml")
    patched = types.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    assert patched != types
    with pytest.raises(SheetError) as excinfo:
        read_table(
            with_members(data, {}, {"[Content_Types].xml": patched}),
            filename="a.xlsx",
            columns=SIMPLE,
        )
    assert reason(excinfo) == MACRO
    with pytest.raises(SheetError) as excinfo:
        read_table(data, filename="模板.XLSM", columns=SIMPLE)
    assert reason(excinfo) == MACRO


def test_it_refuses_a_zip_bomb_before_any_reader_opens_it(
    calamine_calls: Callable[[], int],
) -> None:
    buffer = io.BytesIO()
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(500):  # 500 MB of zeros, about 2 MB packed
                member.write(zeros)
    data = buffer.getvalue()
    assert len(data) < 5 * 1024 * 1024

    with pytest.raises(SheetError) as excinfo:
        read_table(data, filename="炸弹.xlsx", columns=SIMPLE)
    assert "解压后体积异常" in str(excinfo.value)
    assert calamine_calls() == 0


def deflated_zeros(megabytes: int) -> tuple[bytes, int]:
    """A raw deflate stream of `megabytes` MiB of zeros, built without compressing them all."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    # After a full flush the compressor starts afresh, so every megabyte packs the same way.
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    return block * megabytes + b"\x03\x00", crc


def raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP whose central directory says whatever we like: (name, deflated, crc, declared size)."""
    out = io.BytesIO()
    central = io.BytesIO()
    for name, body, crc, declared in members:
        encoded = name.encode()
        offset = out.tell()
        out.write(
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                0,
                8,
                0,
                0,
                crc,
                len(body),
                declared,
                len(encoded),
                0,
            )
        )
        out.write(encoded + body)
        central.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(body),
                declared,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    out.write(
        struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), start, 0
        )
    )
    return out.getvalue()


def test_it_refuses_a_member_that_compresses_too_well(calamine_calls: Callable[[], int]) -> None:
    body, crc = deflated_zeros(100)  # under the total cap, but about 1000:1
    data = raw_zip([("xl/worksheets/sheet1.xml", body, crc, 100 << 20)])
    with pytest.raises(SheetError) as excinfo:
        read_table(data, filename="比例.xlsx", columns=SIMPLE)
    assert "解压后体积异常" in reason(excinfo)
    assert calamine_calls() == 0


def test_it_refuses_a_member_that_lies_about_its_size(calamine_calls: Callable[[], int]) -> None:
    body, crc = deflated_zeros(64)
    data = raw_zip([("xl/worksheets/sheet1.xml", body, crc, 4096)])
    with pytest.raises(SheetError) as excinfo:
        read_table(data, filename="谎报.xlsx", columns=SIMPLE)
    assert reason(excinfo) == CORRUPT
    assert calamine_calls() == 0


def test_it_refuses_a_truncated_workbook() -> None:
    data = simple_xlsx()
    with pytest.raises(SheetError) as excinfo:
        read_table(data[: len(data) // 2], filename="半截.xlsx", columns=SIMPLE)
    assert reason(excinfo) == CORRUPT


def test_it_refuses_a_corrupt_sheet_inside_a_sound_zip() -> None:
    data = with_members(
        simple_xlsx(), {}, {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row"}
    )
    with pytest.raises(SheetError) as excinfo:
        read_table(data, filename="坏表.xlsx", columns=SIMPLE)
    assert reason(excinfo) == CORRUPT


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "名单.pdf"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "截图.xlsx"),
        (b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, "照片.xls"),
        (bytes(range(256)) * 16, "乱码.csv"),
        (b"\x01\x02\x03\x04\x05\x06\x07\x08 binary \x0e\x0f\x10\x11" * 50, "杂项.csv"),
    ],
)
def test_it_refuses_files_that_are_not_tables(data: bytes, filename: str) -> None:
    with pytest.raises(SheetError) as excinfo:
        read_table(data, filename=filename, columns=SIMPLE)
    assert reason(excinfo) == UNRECOGNISED
    assert str(excinfo.value) == f"文件“{filename}”：{UNRECOGNISED}"


def test_it_refuses_a_word_document_in_a_zip() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types><Override ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(SheetError) as excinfo:
        read_table(buffer.getvalue(), filename="通知.docx", columns=SIMPLE)
    assert reason(excinfo) == UNRECOGNISED


def test_it_explains_an_html_page_saved_as_xls() -> None:
    page = "<html><body><table><tr><td>身份证号</td></tr></table></body></html>"
    with pytest.raises(SheetError, match="网页"):
        read_table(page.encode("gbk"), filename="系统导出.xls", columns=SIMPLE)


def test_it_refuses_empty_and_oversized_files() -> None:
    with pytest.raises(SheetError, match="文件是空的"):
        read_table(b"", filename="空.csv", columns=SIMPLE)
    with pytest.raises(SheetError, match="文件过大"):
        read_table(simple_xlsx(), filename="大.xlsx", columns=SIMPLE, max_bytes=1024)


def compound_file(entries: list[tuple[str, int]]) -> bytes:
    """A minimal OLE2 compound file holding the named entries (streams are empty)."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = struct.pack(
        "<8s16s8H9L",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        bytes(16),
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        0,
        0,
        0,
        0,
        1,
        1,
        0,
        4096,
        end,
        0,
        end,
        0,
    )
    header = header[:76] + struct.pack("<109L", 0, *([free] * 108))
    fat = struct.pack("<128L", fat_sector, end, *([free] * 126))

    def entry(name: str, kind: int, child: int, right: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB3L", len(encoded), kind, 1, free, right, child)
            + bytes(16 + 4 + 16)
            + struct.pack("<LQ", end, 0)
        )

    directory = entry("Root Entry", 5, 1, free)
    for index, (name, kind) in enumerate(entries, start=1):
        directory += entry(name, kind, free, index + 1 if index < len(entries) else free)
    directory = directory.ljust(512, b"\0")
    return header + fat + directory


def test_it_refuses_a_password_protected_xlsx() -> None:
    # Excel saves an encrypted .xlsx as an OLE2 file with these two streams.
    data = compound_file([("EncryptionInfo", 2), ("EncryptedPackage", 2)])
    with pytest.raises(SheetError) as excinfo:
        read_table(data, filename="加密.xlsx", columns=SIMPLE)
    assert reason(excinfo) == PASSWORD


def test_it_refuses_an_xls_with_macros_and_other_ole_files() -> None:
    with pytest.raises(SheetError) as excinfo:
        read_table(
            compound_file([("Workbook", 2), ("_VBA_PROJECT_CUR", 1)]),
            filename="宏.xls",
            columns=SIMPLE,
        )
    assert reason(excinfo) == MACRO
    with pytest.raises(SheetError) as excinfo:
        read_table(compound_file([("WordDocument", 2)]), filename="通知.doc", columns=SIMPLE)
    assert reason(excinfo) == UNRECOGNISED


def test_it_refuses_a_truncated_xls() -> None:
    workbook = xlwt.Workbook()
    workbook.add_sheet("s").write(0, 0, "身份证号")
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    with pytest.raises(SheetError) as excinfo:
        read_table(data[:600], filename="半截.xls", columns=SIMPLE)
    assert reason(excinfo) == CORRUPT


# --- properties ------------------------------------------------------------------------

cell = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.dates()
    | st.datetimes()
)
header_words = st.sampled_from(
    ["身份证号", "姓名", "金额（元）", "金额", "合计", "填表人：", "", " "]
)
junk_cell = st.recursive(
    cell | header_words, lambda inner: st.lists(inner, max_size=3), max_leaves=4
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(junk_cell, max_size=8), max_size=25))
def test_detect_header_raises_only_sheet_errors(rows: list[list[object]]) -> None:
    try:
        index, mapping = detect_header(rows, SIMPLE)
    except SheetError as error:
        assert str(error).startswith("未找到表头")
    else:
        assert set(mapping) == {"身份证号", "姓名", "金额(元)"}
        assert len(set(mapping.values())) == 3
        assert all(0 <= column < len(rows[index]) for column in mapping.values())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096), st.sampled_from(["a.xlsx", "a.xls", "a.csv", "a"]))
def test_reading_arbitrary_bytes_raises_only_sheet_errors(data: bytes, filename: str) -> None:
    try:
        table = read_table(data, filename=filename, columns=SIMPLE)
    except SheetError as error:
        assert error.filename == filename
    else:
        assert isinstance(table, Table)


SOUND_XLSX = xlsx(county_sheet)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(SOUND_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=8
    )
)
def test_reading_a_damaged_workbook_raises_only_sheet_errors(damage: list[tuple[int, int]]) -> None:
    data = bytearray(SOUND_XLSX)
    for position, value in damage:
        data[position] = value
    try:
        read_table(bytes(data), filename="损坏.xlsx", columns=DISBURSEMENT)
    except SheetError:
        pass


def test_datetimes_from_cells_are_handed_over_unchanged() -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["身份证号", "姓名", "金额", "发放日期"])
        sheet.append([ID1, "张三", 1.5, datetime(2019, 6, 10, 8, 30)])

    columns = [*SIMPLE, ColumnSpec("发放日期")]
    values = read_table(xlsx(build), filename="a.xlsx", columns=columns).rows[0].values
    assert values["发放日期"] == datetime(2019, 6, 10, 8, 30)
    assert values["金额(元)"] == 1.5


# --- files that would make the native reader abort the whole process ----------------


def handmade_xlsx(sheet_data: str, shared_strings: str) -> bytes:
    """A minimal .xlsx written by hand, with a shared-string table as Excel and WPS write."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{content_type}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{content_type}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{content_type}.sharedStrings+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{relationships}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{relationships}"><sheets>'
            '<sheet name="明细" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{package}">'
            f'<Relationship Id="rId1" Type="{relationships}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{relationships}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/sharedStrings.xml": shared_strings,
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{sheet_data}</sheetData></worksheet>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + text)
    return buffer.getvalue()


SHARED = (
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="5" uniqueCount="{n}">'
    "<si><t>身份证号</t></si><si><t>姓名</t></si><si><t>金额</t></si><si><t>{id}</t></si><si><t>张三</t></si>"
    "</sst>"
)
ROWS = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
    '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="s"><v>4</v></c><c r="C2"><v>1250</v></c></row>'
)


def test_it_reads_shared_strings_as_excel_writes_them() -> None:
    table = read_table(
        handmade_xlsx(ROWS, SHARED.format(n=5, id=ID1)), filename="a.xlsx", columns=SIMPLE
    )
    assert table.sheet_name == "明细"
    assert table.rows[0].values == {"身份证号": ID1, "姓名": "张三", "金额(元)": 1250}


def test_it_refuses_an_impossible_shared_string_count(calamine_calls: Callable[[], int]) -> None:
    # calamine reserves memory for uniqueCount strings up front: 4e9 of them is 96 GB,
    # and a failed allocation in Rust kills the process instead of raising.
    data = handmade_xlsx(ROWS, SHARED.format(n=4_000_000_000, id=ID1))
    with pytest.raises(SheetError) as excinfo:
        read_table(data, filename="a.xlsx", columns=SIMPLE)
    assert reason(excinfo) == CORRUPT
    assert calamine_calls() == 0


@pytest.mark.parametrize(
    "far", ['r="XFD1048576"', "r = 'XFD1048576'", 's="0"\tr="xfd1048576"', 'x=">" r="XFD1048576"']
)
def test_it_refuses_a_sheet_whose_farthest_cell_is_absurdly_far(
    far: str, calamine_calls: Callable[[], int]
) -> None:
    # calamine allocates the whole rectangle from A1 to the farthest cell: 17 billion cells.
    rows = ROWS + f'<row r="1048576"><c {far} t="s"><v>4</v></c></row>'
    with pytest.raises(SheetError) as excinfo:
        read_table(
            handmade_xlsx(rows, SHARED.format(n=5, id=ID1)), filename="远.xlsx", columns=SIMPLE
        )
    assert (
        reason(excinfo)
        == "表格有内容的区域过大（最远到 XFD1048576 单元格），请删除表格右侧和下方多余的行列后重新上传"
    )
    assert calamine_calls() == 0


def test_a_stray_cell_far_to_the_right_of_a_short_sheet_is_fine() -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["身份证号", "姓名", "金额"])
        sheet.append([ID1, "张三", 100])
        sheet["XFD2"] = "备注写到了最右边"

    table = read_table(xlsx(build), filename="宽.xlsx", columns=SIMPLE)
    assert [row.values["姓名"] for row in table.rows] == ["张三"]


def test_xls_is_read_without_the_native_reader(calamine_calls: Callable[[], int]) -> None:
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("a")
    for row in range(30):
        for column in range(4):
            sheet.write(row, column, "身份证号" if row == 0 else row * column)
    buffer = io.BytesIO()
    workbook.save(buffer)
    damaged = bytearray(buffer.getvalue())
    # One flipped byte that made calamine 0.37 request 512 GB and abort the process.
    damaged[1558] = 0xBF
    with pytest.raises(SheetError):
        read_table(bytes(damaged), filename="损坏.xls", columns=SIMPLE)
    assert calamine_calls() == 0


def test_hidden_xls_sheets_are_skipped() -> None:
    workbook = xlwt.Workbook(encoding="utf-8")
    hidden = workbook.add_sheet("隐藏")
    hidden.visibility = 1
    visible = workbook.add_sheet("明细")
    for sheet, name in ((hidden, "隐藏的人"), (visible, "张三")):
        for column, title in enumerate(["身份证号", "姓名", "金额"]):
            sheet.write(0, column, title)
        sheet.write(1, 0, ID1)
        sheet.write(1, 1, name)
        sheet.write(1, 2, date(2019, 6, 10).toordinal() - date(1899, 12, 30).toordinal())
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), filename="a.xls", columns=SIMPLE)
    assert table.sheet_name == "明细"
    assert [row.values["姓名"] for row in table.rows] == ["张三"]
    assert table.rows[0].values["金额(元)"] == 43626


def test_rows_already_in_memory_get_the_same_treatment() -> None:
    grid = [
        ("资助发放明细", "", ""),
        ("身份证号码", "学生姓名", "金额"),
        (ID1, "张三", 1250.0),
        ("合计", "", 1250.0),
        ("填表人：李四", "", ""),
    ]
    table = table_from_grid(grid, filename="后台导入.xlsx", columns=SIMPLE)
    assert table.header_row == 2
    assert [(row.number, row.values) for row in table.rows] == [
        (3, {"身份证号": ID1, "姓名": "张三", "金额(元)": 1250})
    ]
    assert table.skipped == [(4, "合计行"), (5, "签字行")]
    with pytest.raises(SheetError, match="后台导入.xlsx"):
        table_from_grid([("姓名",)], filename="后台导入.xlsx", columns=SIMPLE)


# --- the reader runs in a forked child: what kills it does not kill us ----------------

needs_fork = pytest.mark.skipif(not forked.FORK_AVAILABLE, reason="needs fork (Linux)")
BROKEN = "文件已损坏或格式异常，无法读取，请用 Excel 或 WPS 打开后另存为 .xlsx 再上传"


def cells_without_references(row: int, cells: int) -> bytes:
    """A sheet whose last row holds `cells` cells written without an r attribute.

    calamine then counts positions and sizes the grid as row x cells: at 600,000 x 5,000
    it requests 96 GB, and the failed allocation aborts the process. The pre-scan sees
    only the row number, which alone is harmless.
    """
    return handmade_xlsx(
        ROWS + f'<row r="{row}">' + "<c><v>1</v></c>" * cells + "</row>",
        SHARED.format(n=5, id=ID1),
    )


@needs_fork
def test_the_crafted_workbook_really_aborts_the_reader() -> None:
    # Without the fork this is what would happen to the worker reading the upload.
    data = cells_without_references(600_000, 5_000)
    sheets._check_xlsx(data)  # the pre-scan lets it through
    with pytest.raises(forked.ChildCrashed, match="SIGABRT"):
        forked.run_forked(sheets._calamine_sheets, (data, SIMPLE), time_limit=60, memory_limit=None)


@needs_fork
def test_a_workbook_that_kills_the_reader_is_refused_and_we_live_on() -> None:
    data = cells_without_references(600_000, 5_000)
    with pytest.raises(SheetError) as excinfo:
        read_table(data, filename="坏.xlsx", columns=SIMPLE)
    assert reason(excinfo) == BROKEN
    assert str(excinfo.value) == f"文件“坏.xlsx”：{BROKEN}"
    table = read_table(simple_xlsx(), filename="好.xlsx", columns=SIMPLE)
    assert [row.values["姓名"] for row in table.rows] == ["张三"]


@needs_fork
def test_a_reader_past_its_memory_limit_fails_in_the_child(settings: Any) -> None:
    # 100,000 rows x 300 cells: calamine would fill a 960 MB grid; allow it 64 MB more.
    settings.SHEETS_READER_MEMORY_LIMIT = 64 * 1024 * 1024
    with pytest.raises(SheetError) as excinfo:
        read_table(cells_without_references(100_000, 300), filename="大.xlsx", columns=SIMPLE)
    assert reason(excinfo) == BROKEN


def slow_reader(payload: bytes, columns: object) -> object:
    time.sleep(30)
    return "", []


@needs_fork
def test_a_reader_past_its_time_limit_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "READER_TIME_LIMIT", 0.5)
    monkeypatch.setattr(sheets, "_calamine_sheets", slow_reader)
    start = time.monotonic()
    with pytest.raises(SheetError) as excinfo:
        read_table(simple_xlsx(), filename="慢.xlsx", columns=SIMPLE)
    assert time.monotonic() - start < 10
    assert str(excinfo.value) == (
        "文件“慢.xlsx”：读取时间过长（超过 0.5 秒），文件可能已损坏或内容过多，"
        "请删除多余的行列或拆分后重新上传"
    )


@needs_fork
def test_the_limits_come_from_settings_when_set(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SHEETS_READER_TIME_LIMIT = 0.25
    monkeypatch.setattr(sheets, "_calamine_sheets", slow_reader)
    with pytest.raises(SheetError, match="超过 0.25 秒"):
        read_table(simple_xlsx(), filename="慢.xlsx", columns=SIMPLE)


def many_sheets() -> bytes:
    def instructions(sheet: Worksheet) -> None:
        sheet.title = "填表说明"
        for line in range(30):
            sheet.append([f"{line + 1}. 身份证号请设为文本格式。"])

    def hidden(sheet: Worksheet) -> None:
        sheet.append(["身份证号", "姓名", "金额"])
        sheet.append([ID3, "隐藏的人", 1])

    def after(sheet: Worksheet) -> None:
        sheet.append(["身份证号", "姓名", "金额"])
        sheet.append([ID4, "后面的表", 1])

    return xlsx(instructions, hidden, county_sheet, after, hidden=(1,))


def headerless() -> bytes:
    def build(sheet: Worksheet) -> None:
        for row in range(40):
            sheet.append(["序号", "身份证号", "备注", row])

    return xlsx(build, build)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(lambda: xlsx(county_sheet), id="county"),
        pytest.param(many_sheets, id="many-sheets"),
        pytest.param(headerless, id="no-header"),
        pytest.param(lambda: handmade_xlsx(ROWS, SHARED.format(n=5, id=ID1)), id="handmade"),
    ],
)
def test_forked_and_in_process_reads_are_identical(
    data: Callable[[], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def outcome() -> object:
        try:
            return read_table(data(), filename="a.xlsx", columns=DISBURSEMENT)
        except SheetError as error:
            return str(error)

    forked_outcome = outcome()
    monkeypatch.setattr(forked, "FORK_AVAILABLE", False)
    monkeypatch.setattr(sheets, "FORK_AVAILABLE", False)
    assert outcome() == forked_outcome


@needs_fork
@pytest.mark.django_db
def test_the_callers_database_connection_survives_the_reader(settings: Any) -> None:
    from django.db import connection

    from tasks.models import County

    count = County.objects.count()
    raw = connection.connection
    with pytest.raises(SheetError):
        read_table(cells_without_references(600_000, 5_000), filename="坏.xlsx", columns=SIMPLE)
    settings.SHEETS_READER_MEMORY_LIMIT = 64 * 1024 * 1024
    with pytest.raises(SheetError):
        read_table(cells_without_references(100_000, 300), filename="大.xlsx", columns=SIMPLE)
    read_table(simple_xlsx(), filename="好.xlsx", columns=SIMPLE)
    assert connection.connection is raw
    assert County.objects.count() == count
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


PROBE_APP = """
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xc_fupin.settings")
import django

django.setup()
from celery import Celery
from django.db import connection

from xc_fupin.lib.sheets import ColumnSpec, SheetError, read_table

app = Celery("sheets_probe")
app.conf.update(
    broker_url="filesystem://",
    broker_transport_options={
        "data_folder_in": os.environ["PROBE_QUEUE"],
        "data_folder_out": os.environ["PROBE_QUEUE"],
        # kombu keeps its exchange table in ./control unless told otherwise.
        "control_folder": os.environ["PROBE_QUEUE"],
        "polling_interval": 0.05,
    },
    result_backend="file://" + os.environ["PROBE_RESULTS"],
    worker_hijack_root_logger=False,
)


@app.task(name="probe.read")
def read(path):
    # The worker holds a database connection while it reads, as an import job does.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    raw = connection.connection
    try:
        table = read_table(
            path, filename=os.path.basename(path), columns=[ColumnSpec("身份证号"), ColumnSpec("姓名")]
        )
        outcome = f"{len(table.rows)} rows"
    except SheetError as error:
        outcome = str(error)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
        answer = cursor.fetchone()[0]
    return {"pid": os.getpid(), "outcome": outcome, "db": answer, "same": connection.connection is raw}
"""


@needs_fork
@pytest.mark.parametrize("pool", ["prefork", "solo"])
def test_a_celery_worker_survives_the_workbook_that_kills_the_reader(
    pool: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from celery import Celery

    queue, results = tmp_path / "queue", tmp_path / "results"
    queue.mkdir()
    results.mkdir()
    (tmp_path / "sheets_probe.py").write_text(PROBE_APP)
    bad, good = tmp_path / "坏.xlsx", tmp_path / "好.xlsx"
    bad.write_bytes(cells_without_references(600_000, 5_000))
    good.write_bytes(simple_xlsx())
    root = Path(sheets.__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root)]),
        "PROBE_QUEUE": str(queue),
        "PROBE_RESULTS": str(results),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
    }
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "sheets_probe", "worker", f"--pool={pool}"]
        + ["--concurrency=1", "--without-heartbeat", "--without-gossip", "--without-mingle"]
        + ["--loglevel=INFO"],
        cwd=tmp_path,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # Not the current app: shared tasks (every job of ours) send through the current app,
    # and later tests in this process must keep sending to the project's broker.
    client = Celery("sheets_probe", set_as_current=False)
    client.conf.update(
        broker_url="filesystem://",
        broker_transport_options={
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(queue),
        },
        result_backend=f"file://{results}",
    )
    try:
        first = client.send_task("probe.read", args=[str(bad)]).get(timeout=60, interval=0.05)
        second = client.send_task("probe.read", args=[str(good)]).get(timeout=60, interval=0.05)
    finally:
        # The results are in; Celery's own shutdown would take seconds. The worker leads
        # its own process group: its pool processes go with it.
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    assert first["outcome"] == f"文件“坏.xlsx”：{BROKEN}", log.read_text()
    assert second["outcome"] == "1 rows"
    assert first["pid"] == second["pid"]  # the same worker process read both
    assert first["db"] == second["db"] == 2
    assert first["same"] and second["same"]
    assert "WorkerLostError" not in log.read_text()
