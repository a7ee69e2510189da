"""The contract every spreadsheet import follows, and the registry of imports.

One pipeline serves every sheet (schools, roster, standards, disbursements, enrolment,
household) in the browser, the admin and `manage.py import_sheet`:

1. `xc_fupin.lib.sheets.read_table` finds the header under any title rows, maps alias
   headers to canonical names and drops 合计 and signature rows.
2. `ImportSpec.validate` checks every row (set-based: a few queries for the whole file,
   never one per row) and returns the clean rows, every error with row and column, and
   the rows skipped because they are already in the database (a re-upload is a no-op).
3. Only when there is no error does `ImportSpec.apply` write the clean rows, inside one
   transaction the pipeline opens. Any error: nothing is written.

Apps register their specs in `AppConfig.ready()` with `register(spec)`; `intake` never
imports the apps built on it.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from tasks.scoping import Scope
from xc_fupin.lib.sheets import ColumnSpec, SheetRow, Table

if TYPE_CHECKING:
    from tasks.models import Unit

    from .models import Upload


@dataclass(frozen=True)
class RowError:
    row: int  # the row number the user sees in Excel
    column: str  # canonical column name; "" when the error is about the whole row
    message: str  # Chinese, says why

    def __str__(self) -> str:
        return f"第{self.row}行 {self.column or '整行'}: {self.message}"


@dataclass(frozen=True)
class RowNote:
    """A row not applied but not an error either, e.g. a payment already recorded."""

    row: int
    message: str


@dataclass
class ValidationResult:
    total: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)  # clean rows ready to apply
    row_numbers: list[int] = field(default_factory=list)  # parallel to `rows`
    errors: list[RowError] = field(default_factory=list)
    skipped: list[RowNote] = field(default_factory=list)

    def error(self, row: SheetRow | int, column: str, message: str) -> None:
        number = row if isinstance(row, int) else row.number
        self.errors.append(RowError(number, column, message))

    def accept(self, row: SheetRow | int, clean: dict[str, Any]) -> None:
        self.rows.append(clean)
        self.row_numbers.append(row if isinstance(row, int) else row.number)

    def skip(self, row: SheetRow | int, message: str) -> None:
        self.skipped.append(RowNote(row if isinstance(row, int) else row.number, message))

    @property
    def rejected_rows(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportContext:
    """Who imports, for which unit, and how to report progress.

    `options` carries what the uploader gave beside the file:

    - "dry_run": True while only validating (`import_sheet --dry-run`, the admin preview);
    - "period": the 所属月份 of the upload page / `import_sheet --period` (first day of the
      month, a datetime.date) or None;
    - "as_of": the 统计日期 of the upload page / `import_sheet --as-of YYYY-MM-DD`: a
      datetime.date, never after `tasks.clock.today()` (the page and the command refuse a
      later or malformed date with a Chinese message), or None when none was given. A spec
      whose file has no date column takes it with `ctx.options.get("as_of")`. The page
      offers the field for specs with a date column (see `ImportSpec.takes_as_of`).
    """

    user: Any
    scope: Scope
    unit: Unit
    upload: Upload | None = None
    progress: Callable[[str, int, int], None] = lambda stage, done, total: None
    options: dict[str, Any] = field(default_factory=dict)


#: The date columns whose value the uploader may give for the whole file instead.
AS_OF_COLUMNS = frozenset({"统计日期", "数据日期"})


class ImportSpec(abc.ABC):
    key: ClassVar[str]  # "schools", "roster", … — the `import_sheet` argument
    title: ClassVar[str]  # Chinese name of the sheet, e.g. "建档立卡学生名册"
    columns: ClassVar[Sequence[ColumnSpec]]
    permission: ClassVar[str]  # needed to upload this kind, e.g. "subsidies.add_disbursement"
    example: ClassVar[dict[str, object]] = {}  # one example row for the template, by column
    #: The data area whose cached figures an applied upload makes stale (tasks/figures.py);
    #: by default the app the spec lives in ("subsidies", "dropout").
    area: ClassVar[str] = ""

    @property
    def takes_as_of(self) -> bool:
        """Whether the file may leave its date to the uploader (统计日期 on the page,
        `--as-of`): the spec has a date column a file may lack."""
        return any(c.name in AS_OF_COLUMNS for c in self.columns)

    @property
    def data_area(self) -> str:
        return self.area or type(self).__module__.split(".")[0]

    @abc.abstractmethod
    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        """Check every row. Must not write. Rows outside `ctx.scope` are errors."""

    @abc.abstractmethod
    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        """Write `result.rows` (called inside a transaction; only when there is no error).

        Returns counts to show the user, e.g. {"新增": 120, "更新": 3}.
        """

    def dropdowns(self) -> dict[str, list[str]]:
        """Allowed values by column, offered as drop-down lists in the template."""
        return {}

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        """One accepted row as the preview shows it (personal data masked)."""
        return [str(clean.get(c.name, "")) for c in self.columns]


_REGISTRY: dict[str, ImportSpec] = {}


def register(spec: ImportSpec) -> ImportSpec:
    _REGISTRY[spec.key] = spec
    return spec


def get_spec(key: str) -> ImportSpec:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise LookupError(
            f"未知的表格类型：{key}（可选：{'、'.join(sorted(_REGISTRY))}）"
        ) from None


def all_specs() -> list[ImportSpec]:
    return list(_REGISTRY.values())
