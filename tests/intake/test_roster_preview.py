"""The roster preview shows the 户籍县区 the file gives (it was always blank)."""

from __future__ import annotations

from typing import Any

from intake.base import ImportContext
from subsidies.imports import RosterSpec
from tasks.scoping import user_scope
from tests.subsidies.conftest import ident, standards  # noqa: F401 - fixture
from xc_fupin.lib.sheets import SheetRow, Table

COLUMNS = ["身份证号", "姓名", "户籍县区", "就读学校", "学段", "年级", "是否寄宿"]


def test_the_preview_shows_the_household_county(
    standards: None,  # noqa: F811
    xuanzhou_staff: Any,
    xuanzhou_school: Any,
) -> None:
    rows: list[list[object]] = [
        [ident("xuanzhou", 1), "张小", "宣州区", "宣州区实验小学", "小学", "三年级", "否"],
        [ident("xuanzhou", 2), "李小", None, "宣州区实验小学", "小学", "三年级", "否"],
    ]
    table = Table(
        filename="名册.xlsx",
        sheet_name="",
        header_row=1,
        columns={c: i for i, c in enumerate(COLUMNS)},
        column_letters={c: chr(65 + i) for i, c in enumerate(COLUMNS)},
        rows=[SheetRow(n, dict(zip(COLUMNS, r, strict=True))) for n, r in enumerate(rows, start=2)],
    )
    ctx = ImportContext(
        user=xuanzhou_staff, scope=user_scope(xuanzhou_staff), unit=xuanzhou_staff.unit
    )
    spec = RosterSpec()
    result = spec.validate(table, ctx)
    assert result.ok, [str(e) for e in result.errors]
    previews = [spec.preview_row(clean) for clean in result.rows]
    assert [p[2] for p in previews] == ["宣州区", ""]
    assert previews[0][0].startswith("3418") and "*" in previews[0][0]  # still masked
