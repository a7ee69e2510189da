"""Declarative import specs: the framework reads the columns, a spec keeps its own rules.

`DeclarativeSpec.validate` binds every column of the file (intake.base's contract:
never writes, collects every error with row and column), parses each cell with its
column's parser (each distinct value once), and hands each row to the spec:

- `check_row(row, state)` — rules across the columns of one row (a payment date before
  its semester, a stage the school does not teach); returns the clean row or None;
- `check_rows(rows, result, state)` — rules across rows and against the database
  (duplicates in the file, what is already stored, rows of another unit); it accepts or
  skips each row. By default every clean row is accepted.

`prepare(ctx)` loads what the spec's rules need once per file (its "state").
Errors are reported in row order, whatever rule found them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from xc_fupin.lib.sheets import Table

from .base import ImportContext, ImportSpec, ValidationResult
from .columns import BoundColumn, Column

PROGRESS_EVERY = 5000


class Row:
    """One spreadsheet row during validation: parsed values and an error collector."""

    __slots__ = ("failed", "number", "result", "values")

    def __init__(
        self, number: int, values: dict[str, Any], failed: set[str], result: ValidationResult
    ) -> None:
        self.number = number
        self.values = values
        self.failed = failed  # columns whose cell did not parse
        self.result = result

    def __getitem__(self, column: str) -> Any:
        return self.values.get(column)

    def error(self, column: str, message: str) -> None:
        self.failed.add(column)
        self.result.error(self.number, column, message)

    @property
    def ok(self) -> bool:
        return not self.failed


class DeclarativeSpec(ImportSpec):
    columns: ClassVar[Sequence[Column]]
    #: When set, only city-level users (and administrators) may import this sheet; the
    #: text names the sheet in the refusal.
    city_only: ClassVar[str] = ""

    def dropdowns(self) -> dict[str, list[str]]:
        return {c.name: c.parser.choices() for c in self.columns if c.parser.choices()}

    def prepare(self, ctx: ImportContext) -> Any:
        """What the rules need, loaded once per file."""
        return None

    def check_row(self, row: Row, state: Any) -> dict[str, Any] | None:
        """The clean row (or None when the row is in error)."""
        return dict(row.values) if row.ok else None

    def check_rows(
        self, rows: list[tuple[int, dict[str, Any]]], result: ValidationResult, state: Any
    ) -> None:
        for number, clean in rows:
            result.accept(number, clean)

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        result = ValidationResult(total=len(table.rows))
        if self.city_only and not ctx.scope.sees_all:
            result.error(
                table.header_row,
                "",
                _("%(what)s只能由系统管理员或市教体局导入，本单位无权上传")
                % {"what": self.city_only},
            )
            return result
        present = [c for c in self.columns if c.name in table.columns]
        bound: list[BoundColumn] = [c.bind(ctx) for c in present]
        absent = {c.name: None for c in self.columns if c.name not in table.columns}
        state = self.prepare(ctx)
        kept: list[tuple[int, dict[str, Any]]] = []
        total = len(table.rows)
        readers = [(c.name, c.read, c) for c in bound]
        error = result.error
        check_row = self.check_row
        for index, sheet_row in enumerate(table.rows):
            if index and index % PROGRESS_EVERY == 0:
                ctx.progress(_("校验"), index, total)
            cells = sheet_row.values
            number = sheet_row.number
            values = dict(absent)
            failed: set[str] = set()
            for name, read, column in readers:
                raw = cells.get(name)
                try:
                    value, message = read(raw)
                except TypeError:  # an unhashable cell value
                    value, message = column.parse_one(raw)
                if message:
                    failed.add(name)
                    error(number, name, message)
                values[name] = value
            row = Row(number, values, failed, result)
            clean = check_row(row, state)
            if clean is not None and not failed:
                kept.append((number, clean))
        ctx.progress(_("核对已有数据"), total, total)
        self.check_rows(kept, result, state)
        result.errors.sort(key=lambda e: e.row)
        return result


class FirstSeen:
    """Duplicates within a file: remembers the first row of each key."""

    def __init__(self) -> None:
        self.rows: dict[Any, int] = {}

    def check(self, key: Any, number: int) -> int | None:
        """The earlier row with this key, or None (and this row is remembered)."""
        first = self.rows.get(key)
        if first is None:
            self.rows[key] = number
        return first
