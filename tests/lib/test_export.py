from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from xc_fupin.lib.export import csv_bytes, neutralize, write_csv, write_xlsx, xlsx_bytes
from xc_fupin.lib.idnumber import make_id_number

ID1 = make_id_number("341802", date(2013, 9, 1), 123)


def test_neutralize_defuses_text_that_a_spreadsheet_would_run() -> None:
    for dangerous in ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"):
        assert neutralize(dangerous) == "'" + dangerous


def test_neutralize_leaves_everything_else_alone() -> None:
    for value in ("张三", ID1, "", "1250", -5, Decimal("-1.50"), 0, None, date(2019, 6, 10), True):
        assert neutralize(value) == value


def read_back(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    workbook = load_workbook(io.BytesIO(data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets}


def test_it_writes_sheets_with_a_bold_frozen_header() -> None:
    data = xlsx_bytes(
        [
            (
                "资助发放明细",
                ["身份证号", "姓名", "金额(元)", "发放日期"],
                [[ID1, "张三", Decimal("1250.00"), date(2019, 6, 10)], [ID1, "=1+2", -5, None]],
            ),
            ("说明", ["说明"], [["导出于2019年6月"]]),
        ],
        column_widths={"身份证号": 22},
    )
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook["资助发放明细"]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b is True
    assert sheet["A2"].font.b is not True
    assert sheet.column_dimensions["A"].width == 22
    assert sheet.column_dimensions["B"].width >= 8
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == ID1  # identity numbers stay text, all 18 characters
    assert rows[1][2] == 1250
    assert rows[1][3].date() == date(2019, 6, 10)  # type: ignore[union-attr]
    assert rows[2][1] == "'=1+2"
    assert rows[2][2] == -5
    assert workbook.sheetnames == ["资助发放明细", "说明"]


def test_it_makes_sheet_titles_excel_accepts() -> None:
    data = xlsx_bytes(
        [("a/b:c*?[d]" + "长" * 40, ["x"], []), ("a/b:c*?[d]" + "长" * 40, ["x"], [])]
    )
    titles = list(read_back(data))
    assert len(titles) == 2
    assert all(len(title) <= 31 for title in titles)
    assert titles[0].startswith("a_b_c___d_")
    assert titles[0] != titles[1]


def test_it_drops_control_characters_excel_would_reject() -> None:
    data = xlsx_bytes([("s", ["备注"], [["第一行\x0b第二行"]])])
    assert read_back(data)["s"][1] == ("第一行第二行",)


def test_it_writes_to_a_path(tmp_path: Path) -> None:
    target = tmp_path / "导出.xlsx"
    write_xlsx(target, [("s", ["姓名"], [["张三"]])])
    assert read_back(target.read_bytes())["s"] == [("姓名",), ("张三",)]


def test_it_streams_rows_without_holding_them(tmp_path: Path) -> None:
    def rows() -> Iterator[list[object]]:
        for number in range(8_000):
            yield [
                make_id_number("341802", date(2013, 9, 1), number % 1000),
                f"学生{number}",
                number,
            ]

    tracemalloc.start()
    try:
        write_xlsx(tmp_path / "大.xlsx", [("s", ["身份证号", "姓名", "序号"], rows())])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Held as ordinary openpyxl cells the same rows peak at about 7 MB.
    assert peak < 2 * 1024 * 1024


def test_csv_starts_with_a_bom_so_excel_reads_utf8() -> None:
    data = csv_bytes(["身份证号", "姓名"], [[ID1, "张三"]])
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    assert text == f"身份证号,姓名\r\n{ID1},张三\r\n"


def test_csv_cells_are_neutralised() -> None:
    buffer = io.StringIO(newline="")
    write_csv(buffer, ["姓名", "金额"], [["=cmd|'/c calc'!A0", -5], ["@张三", Decimal("1.50")]])
    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [
        ["姓名", "金额"],
        ["'=cmd|'/c calc'!A0", "-5"],
        ["'@张三", "1.50"],
    ]
