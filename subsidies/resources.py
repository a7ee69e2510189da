"""django-import-export resources for the admin: export as usual, import through the
upload pipeline.

An admin import is an upload like any other (STYLE rule 14): the tablib dataset is stored
as a file, validated by the spec with the rules of the upload page and `import_sheet`,
every `RowError` becomes an import-export row error, and only a file without errors is
applied — by the pipeline's service, which stamps the audit source, keeps the Upload and
its result, and marks the cached figures stale. django-import-export's own per-row save
path is never used for imports.
"""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources
from import_export.results import Error, Result, RowResult
from openpyxl import Workbook

from tasks.imports import get_spec
from tasks.models import RosterStudent, Unit, Upload
from tasks.scoping import user_scope
from tasks.uploads import (
    upload_apply,
    upload_confirm,
    upload_receive,
    upload_validate,
    validate_content,
)
from xc_fupin.lib.export import neutralize
from xc_fupin.lib.idnumber import mask_id_number, mask_name
from xc_fupin.lib.sheets import SheetError

from .models import Disbursement, SubsidyStandard


def _workbook(dataset: Any) -> bytes:
    """The file the admin read, as .xlsx: the admin hands us a tablib dataset, and it is
    stored and read like any uploaded file (same header detection and row numbers)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(list(dataset.headers or []))
    for row in dataset:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _acting_unit(user: Any) -> Unit | None:
    # An administrator without a unit imports as the city bureau.
    return getattr(user, "unit", None) or Unit.objects.filter(kind=Unit.Kind.CITY_BUREAU).first()


class SpecImportMixin:
    """Route `import_data` through the upload pipeline (tasks/uploads.py) with the
    ImportSpec named by `spec_key`: the preview validates like the upload page, and the
    confirmed import is stored as an Upload, validated, confirmed and applied by the same
    services — so it records its audit source (上传#id), keeps the file and its result,
    and makes the cached figures stale. django-import-export's per-row save is never used.
    """

    spec_key: str

    def import_data(
        self, dataset: Any, dry_run: bool = False, raise_errors: bool = False, **kwargs: Any
    ) -> Result:
        spec = get_spec(self.spec_key)
        user = kwargs.get("user")
        filename = Path(kwargs.get("file_name") or spec.title).stem + ".xlsx"
        content = _workbook(dataset)
        grid = [list(dataset.headers or []), *(list(r) for r in dataset)]
        result = Result()
        result.diff_headers = [c.name for c in spec.columns]
        unit = _acting_unit(user)
        if unit is None:
            result.append_base_error(Error(PermissionDenied(_("您不能以该单位的名义上传。"))))
            return result
        if dry_run:
            try:
                validation = validate_content(
                    spec=spec,
                    content=content,
                    filename=filename,
                    unit=unit,
                    user=user,
                    scope=user_scope(user),
                )
            except SheetError as error:
                result.append_base_error(Error(error))
                return result
            result.total_rows = validation.total
            if not validation.ok:
                errors = [
                    {"row": e.row, "column": e.column, "message": e.message}
                    for e in validation.errors
                ]
                _invalid_rows(result, errors, grid)
                return result
            for clean in validation.rows:
                _row_result(result, RowResult.IMPORT_TYPE_NEW, spec.preview_row(clean))
            for _note in validation.skipped:
                _row_result(result, RowResult.IMPORT_TYPE_SKIP)
            return result
        upload = upload_receive(
            user=user, kind=spec.key, content=content, filename=filename, unit=unit
        )
        upload = upload_validate(upload.pk)
        if upload.state == Upload.State.PREVIEWED:
            upload_confirm(user=user, upload=upload)
            upload = upload_apply(upload.pk)
        result.total_rows = upload.rows_total
        if upload.file_error:
            result.append_base_error(Error(upload.file_error))
        elif upload.state != Upload.State.APPLIED:
            _invalid_rows(result, upload.errors, grid)
        else:
            for _n in range(upload.rows_accepted):
                _row_result(result, RowResult.IMPORT_TYPE_NEW)
            for _n in range(upload.rows_skipped):
                _row_result(result, RowResult.IMPORT_TYPE_SKIP)
        return result


def _row_result(result: Result, kind: str, diff: list[str] | None = None) -> None:
    row_result = RowResult()
    row_result.import_type = kind
    if diff is not None:
        row_result.diff = diff
    result.append_row_result(row_result)
    result.increment_row_result_total(row_result)


def _invalid_rows(result: Result, errors: list[dict[str, Any]], grid: list[list[Any]]) -> None:
    """Each RowError as an import-export row error, with the row's cells as the admin
    shows them (row numbers are the file's)."""
    by_row: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for e in errors:
        text = f"第{e['row']}行 {e['column'] or '整行'}: {e['message']}"
        by_row[e["row"]][e["column"] or "__all__"].append(text)
    for number, errs in sorted(by_row.items()):
        cells = grid[number - 1] if 0 < number <= len(grid) else []
        values = {str(i + 1): "" if v is None else str(v) for i, v in enumerate(cells)}
        result.append_invalid_row(number, values, ValidationError(dict(errs)))


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
