"""django-import-export resources for the admin: export as usual, import through the specs.

An admin import runs exactly the rules of the upload page and `import_sheet`: the tablib
dataset becomes a `Table` (header found under title rows, alias headers, 合计 and
signature rows dropped), the spec validates it set-based, every `RowError` becomes an
import-export row error, and only a file without errors is applied by the spec, in one
transaction. django-import-export's own per-row save path is never used for imports.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from import_export import fields, resources
from import_export.results import Error, Result, RowResult

from tasks.imports import ImportContext, get_spec
from tasks.models import RosterStudent
from tasks.scoping import user_scope
from xc_fupin.lib import sheets
from xc_fupin.lib.export import neutralize
from xc_fupin.lib.idnumber import mask_id_number, mask_name
from xc_fupin.lib.sheets import SheetError, Table

from .models import Disbursement, SubsidyStandard


def table_from_grid(grid: list[list[object]], columns: Any, *, filename: str = "") -> Table:
    """A `Table` from rows of cells, with the same header detection and row skipping as
    `read_table` (the admin hands us a tablib dataset, not the file)."""
    grid = [[sheets._normalise([c])[0] for c in row] for row in grid]  # noqa: SLF001
    header_index, mapping = sheets.detect_header(grid[: sheets.HEADER_SCAN_ROWS], columns)
    rows, skipped = sheets._build_rows(grid, None, header_index, mapping, columns)  # noqa: SLF001
    from openpyxl.utils.cell import get_column_letter

    return Table(
        filename=filename,
        sheet_name="",
        header_row=header_index + 1,
        columns=dict(mapping),
        column_letters={name: get_column_letter(i + 1) for name, i in mapping.items()},
        rows=rows,
        skipped=skipped,
    )


class SpecImportMixin:
    """Route `import_data` through the ImportSpec named by `spec_key`."""

    spec_key: str

    def import_data(
        self, dataset: Any, dry_run: bool = False, raise_errors: bool = False, **kwargs: Any
    ) -> Result:
        spec = get_spec(self.spec_key)
        user = kwargs.get("user")
        result = Result()
        result.diff_headers = [c.name for c in spec.columns]
        grid = [list(dataset.headers or []), *(list(r) for r in dataset)]
        try:
            table = table_from_grid(grid, spec.columns, filename=kwargs.get("file_name") or "")
        except SheetError as error:
            result.append_base_error(Error(error))
            return result
        ctx = ImportContext(user=user, scope=user_scope(user), unit=getattr(user, "unit", None))  # type: ignore[arg-type]
        validation = spec.validate(table, ctx)
        result.total_rows = validation.total
        if not validation.ok:
            values = {row.number: row.values for row in table.rows}
            by_row: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
            for e in validation.errors:
                by_row[e.row][e.column or "__all__"].append(f"{e}")
            for number, errs in sorted(by_row.items()):
                result.append_invalid_row(
                    number, dict(values.get(number, {})), ValidationError(dict(errs))
                )
            return result
        if not dry_run:
            with transaction.atomic():
                spec.apply(validation, ctx)
        for clean in validation.rows:
            row_result = RowResult()
            row_result.import_type = (
                RowResult.IMPORT_TYPE_NEW if not clean.get("pk") else RowResult.IMPORT_TYPE_UPDATE
            )
            row_result.diff = spec.preview_row(clean)
            result.append_row_result(row_result)
            result.increment_row_result_total(row_result)
        for _note in validation.skipped:
            row_result = RowResult()
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            result.append_row_result(row_result)
            result.increment_row_result_total(row_result)
        return result


class NeutralisedExportMixin:
    """Every exported cell goes through the export guard (xc_fupin/lib/export.py): text a
    school, a county or a pasted name starts with = + - @ is not run as a formula when
    the admin's CSV or xlsx is opened in Excel."""

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        return neutralize(super().export_field(field, instance, **kwargs))  # type: ignore[misc]


class MaskedExportMixin:
    """Admin exports carry names and ID numbers masked: full ones leave only through the
    semester export, with a permission and a logged reason (tasks.privacy)."""

    def dehydrate_id_number(self, obj: Any) -> str:
        return mask_id_number(obj.id_number)

    def dehydrate_name(self, obj: Any) -> str:
        return mask_name(obj.name)


class RosterStudentResource(
    NeutralisedExportMixin, MaskedExportMixin, SpecImportMixin, resources.ModelResource
):
    spec_key = "roster"
    county = fields.Field(attribute="county__name", column_name="县区")
    school = fields.Field(attribute="school__name", column_name="就读学校")

    class Meta:
        model = RosterStudent
        fields = (
            "id_number",
            "name",
            "gender",
            "birth_date",
            "county",
            "school",
            "stage",
            "grade",
            "boarding",
            "is_active",
        )
        export_order = fields
        import_id_fields = ("id_number",)


class SubsidyStandardResource(NeutralisedExportMixin, SpecImportMixin, resources.ModelResource):
    spec_key = "standards"
    item = fields.Field(attribute="item__name", column_name="资助项目")
    semester = fields.Field(attribute="semester__code", column_name="学期")

    class Meta:
        model = SubsidyStandard
        fields = (
            "item",
            "stage",
            "target",
            "semester",
            "tier",
            "amount",
            "valid_from",
            "valid_to",
            "source",
        )
        export_order = fields


class DisbursementResource(
    NeutralisedExportMixin, MaskedExportMixin, SpecImportMixin, resources.ModelResource
):
    spec_key = "disbursements"
    school = fields.Field(attribute="school__name", column_name="就读学校")
    item = fields.Field(attribute="item__name", column_name="资助项目")
    semester = fields.Field(attribute="semester__code", column_name="学期")

    class Meta:
        model = Disbursement
        fields = ("id_number", "name", "school", "item", "semester", "amount", "paid_on")
        export_order = fields
        import_id_fields = ("semester", "item", "id_number")


class PlainDisbursementResource(resources.ModelResource):
    """django-import-export's default per-row import, kept only as the benchmark baseline."""

    class Meta:
        model = Disbursement
        fields = (
            "id",
            "id_number",
            "name",
            "school",
            "county",
            "item",
            "semester",
            "amount",
            "paid_on",
        )
