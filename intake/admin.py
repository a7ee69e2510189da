"""The admin of uploads, and the admin import of any spec through the upload pipeline.

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

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from import_export.results import Error, Result, RowResult
from openpyxl import Workbook

from tasks.admin import ScopedAdminMixin
from tasks.models import Unit
from tasks.scoping import user_scope
from xc_fupin.lib.sheets import SheetError

from .base import get_spec
from .models import Upload
from .services import (
    upload_apply,
    upload_confirm,
    upload_receive,
    upload_validate,
    validate_content,
)


@admin.register(Upload)
class UploadAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "original_name",
        "kind",
        "unit",
        "uploaded_by",
        "state",
        "rows_total",
        "rows_rejected",
        "created_at",
    ]
    list_filter = ["kind", "state", "unit__county"]
    search_fields = ["original_name", "sha256", "unit__name"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Upload._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Uploads enter through the validated pipeline (/uploads/ or import_sheet), never here.
        return False


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
    """Route `import_data` through the upload pipeline (intake/services.py) with the
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
