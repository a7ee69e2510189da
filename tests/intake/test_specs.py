"""The framework collects every cell error with its row and column, in row order, and
leaves a spec only its own rules."""

from __future__ import annotations

from typing import Any, ClassVar

from intake.base import ImportContext
from intake.columns import Amount, Column, Name
from intake.specs import DeclarativeSpec, FirstSeen, Row
from tasks.scoping import EVERYTHING, NOTHING
from xc_fupin.lib.sheets import SheetRow, Table


class Payments(DeclarativeSpec):
    key = "test-payments"
    title = "测试"
    permission = ""
    columns: ClassVar[list[Column]] = [
        Column("姓名", ("学生姓名",), parser=Name()),
        Column("金额", (), parser=Amount(positive="金额应大于0")),
        Column("备注", (), required=False),
    ]

    def check_row(self, row: Row, state: Any) -> dict[str, Any] | None:
        if row["金额"] is not None and row["金额"] > 1000:
            row.error("金额", "超过1000元")
        return dict(row.values) if row.ok else None

    def check_rows(self, rows: list[tuple[int, dict[str, Any]]], result: Any, state: Any) -> None:
        seen = FirstSeen()
        for number, clean in rows:
            first = seen.check(clean["姓名"], number)
            if first is not None:
                result.error(number, "姓名", f"与第{first}行重复")
            else:
                result.accept(number, clean)

    def apply(self, result: Any, ctx: Any) -> dict[str, int]:
        return {}


def table(*rows: tuple[object, object]) -> Table:
    return Table(
        filename="t.xlsx",
        sheet_name="",
        header_row=1,
        columns={"姓名": 0, "金额": 1},
        column_letters={"姓名": "A", "金额": "B"},
        rows=[
            SheetRow(n, {"姓名": name, "金额": amount})
            for n, (name, amount) in enumerate(rows, start=2)
        ],
    )


def ctx(scope: Any = EVERYTHING) -> ImportContext:
    return ImportContext(user=None, scope=scope, unit=None)  # type: ignore[arg-type]


def test_it_collects_cell_row_and_cross_row_errors_in_row_order() -> None:
    result = Payments().validate(
        table(("张三", 100), ("李四", "两百"), ("张三", 50), (None, 0), ("王五", 5000)), ctx()
    )
    assert [str(e) for e in result.errors] == [
        "第3行 金额: 金额不是数字：两百",
        "第4行 姓名: 与第2行重复",
        "第5行 姓名: 姓名为空",
        "第5行 金额: 金额应大于0",
        "第6行 金额: 超过1000元",
    ]
    assert result.row_numbers == [2]
    assert result.rows[0]["备注"] is None  # an optional column the file lacks


def test_a_city_only_sheet_is_refused_to_a_county() -> None:
    class CityOnly(Payments):
        city_only = "学校名单"

    result = CityOnly().validate(table(("张三", 100)), ctx(NOTHING))
    assert [str(e) for e in result.errors] == [
        "第1行 整行: 学校名单只能由系统管理员或市教体局导入，本单位无权上传"
    ]
