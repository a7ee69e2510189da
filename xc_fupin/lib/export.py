"""Streaming exports to .xlsx and .csv that are safe to open in Excel."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

__all__ = [
    "SheetData",
    "csv_bytes",
    "neutralize",
    "write_csv",
    "write_xlsx",
    "xlsx_bytes",
]

# (sheet title, header row, data rows)
SheetData = tuple[str, Sequence[str], Iterable[Sequence[object]]]

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_BAD_TITLE_CHARS = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))
_BOM = b"\xef\xbb\xbf"


def neutralize(value: object) -> object:
    """Stop a spreadsheet from running text as a formula (OWASP "CSV injection").

    Text starting with = + - @ tab or carriage return gets a leading apostrophe; every
    other value, numbers included, is returned unchanged.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _sheet_title(title: str, used: set[str]) -> str:
    base = (title.translate(_BAD_TITLE_CHARS).strip("'") or "Sheet")[:31]
    candidate, n = base, 1
    while candidate.casefold() in used:
        n += 1
        suffix = f"({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    used.add(candidate.casefold())
    return candidate


def _xlsx_value(value: object) -> object:
    value = neutralize(value)
    if isinstance(value, str):
        # openpyxl refuses control characters that pasted text sometimes carries.
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def write_xlsx(
    target: str | Path | BinaryIO,
    sheets: Iterable[SheetData],
    *,
    column_widths: Mapping[str, float] | None = None,
) -> None:
    """Write one or more sheets to an .xlsx, streaming rows (memory stays flat).

    Each sheet gets a bold, frozen header row that repeats on every printed page.
    `column_widths` maps a header name to a width in Excel units; other columns are sized
    to their header. Every cell goes through `neutralize`.
    """
    widths = column_widths or {}
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    used_titles: set[str] = set()
    wrote_any = False
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(_sheet_title(title, used_titles))
        sheet.freeze_panes = "A2"
        sheet.print_title_rows = "1:1"  # the header row repeats on every printed page
        for index, header in enumerate(headers, start=1):
            width = widths.get(header, max(8, _display_width(str(header)) + 4))
            sheet.column_dimensions[get_column_letter(index)].width = width
        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=_xlsx_value(header))
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            sheet.append([_xlsx_value(v) for v in row])
        wrote_any = True
    if not wrote_any:
        workbook.create_sheet("Sheet")
    workbook.save(target)


def xlsx_bytes(
    sheets: Iterable[SheetData], *, column_widths: Mapping[str, float] | None = None
) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, sheets, column_widths=column_widths)
    return buffer.getvalue()


def write_csv(target: TextIO, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a header and rows as CSV with every cell neutralised.

    The caller opens `target` with newline="" (the csv module writes its own CRLF).
    """
    writer = csv.writer(target)
    writer.writerow([neutralize(h) for h in headers])
    for row in rows:
        writer.writerow([neutralize(v) for v in row])


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Return UTF-8 CSV with a BOM: without it Excel on Chinese Windows reads it as GBK."""
    buffer = io.StringIO(newline="")
    write_csv(buffer, headers, rows)
    return _BOM + buffer.getvalue().encode("utf-8")
