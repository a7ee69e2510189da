"""The blank .xlsx template of each import: headers, an example row, drop-down lists."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from .base import ImportSpec

#: Identifiers Excel would turn into numbers (rounded, leading zeros lost): text cells.
ID_COLUMNS = {"身份证号", "全国学籍号", "学籍辅号", "学校标识码"}
MAX_TEMPLATE_ROWS = 5000


def template_xlsx(spec: ImportSpec) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = spec.title[:31]
    lists = wb.create_sheet("选项")
    lists.sheet_state = "hidden"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DCE6F1")
    dropdowns = spec.dropdowns()
    for col, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(col)
        head = ws.cell(row=1, column=col, value=column.name)
        head.font = bold
        head.fill = fill
        ws.column_dimensions[letter].width = max(12, len(column.name) * 2 + 4)
        example = spec.example.get(column.name)
        cell = ws.cell(row=2, column=col, value=example)
        if column.name in ID_COLUMNS:
            # Text format, so Excel keeps all 18 digits instead of rounding to 15.
            for row in range(2, MAX_TEMPLATE_ROWS + 2):
                ws.cell(row=row, column=col).number_format = "@"
            ws.column_dimensions[letter].width = 22
            if example is not None:
                cell.value = str(example)
        values = dropdowns.get(column.name)
        if values:
            for i, value in enumerate(values, start=1):
                lists.cell(row=i, column=col, value=value)
            ref = f"{quote_sheetname('选项')}!${letter}$1:${letter}${len(values)}"
            dv = DataValidation(type="list", formula1=ref, allow_blank=not column.required)
            dv.error = f"请从下拉列表中选择{column.name}"
            dv.errorTitle = "输入值无效"
            dv.showErrorMessage = True
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{MAX_TEMPLATE_ROWS + 1}")
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
