"""The upload pages: the form, each upload's preview and progress, confirm, cancel and
retry, the original file, the error list, the blank templates, and the one-time
download of an account import's initial passwords."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tasks import params
from tasks.accounts import account_passwords_issue, passwords_workbook
from tasks.clock import today
from tasks.downloads import download
from tasks.forms import MonthField
from tasks.health import broker_reachable
from tasks.queue import enqueue, send_now
from xc_fupin.lib.export import xlsx_bytes

from . import jobs
from . import services as uploads
from .base import all_specs, get_spec
from .models import HeaderMapping, Upload
from .upload_templates import template_xlsx

ERRORS_PER_PAGE = 200


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("表格类型"),
        error_messages={"required": gettext_lazy("请选择表格类型。")},
    )
    period = MonthField(
        label=gettext_lazy("所属月份"),
        help_text=gettext_lazy("这份表格算作哪个月的月报（按月报送的发放明细、学籍等）"),
        error_messages={"required": gettext_lazy("请填写所属月份，例如 2019-05。")},
    )
    as_of = forms.DateField(
        label=gettext_lazy("统计日期"),
        required=False,
        help_text=gettext_lazy(
            "学籍、扶贫等导出表没有日期列时填写：数据截至哪一天（例如 2019-06-10）；"
            "表中有“统计日期”列时可不填"
        ),
        error_messages={"invalid": gettext_lazy("统计日期格式不对，请按 2019-06-10 的格式填写。")},
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    file = forms.FileField(
        label=gettext_lazy("文件"),
        error_messages={
            "required": gettext_lazy("请选择要上传的文件（.xlsx、.xls 或 .csv）。"),
            "empty": gettext_lazy("文件是空的。"),
        },
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", "——请选择——")] + [(s.key, s.title) for s in specs_for(user)]
        # Which kinds take the date (static/intake/upload_form.js shows the field for them).
        self.fields["as_of"].widget.attrs["data-kinds"] = " ".join(
            s.key for s in specs_for(user) if s.takes_as_of
        )

    def clean_as_of(self) -> dt.date | None:
        as_of: dt.date | None = self.cleaned_data.get("as_of")
        if as_of is not None and as_of > today():
            raise forms.ValidationError(
                _("统计日期 %(d)s 晚于今天（%(t)s），请填写数据实际截至的日期。")
                % {"d": as_of.isoformat(), "t": today().isoformat()}
            )
        return as_of

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind and not get_spec(kind).takes_as_of:
            data["as_of"] = None  # a kind without a date column has no use for it
        return data


def specs_for(user: Any) -> list[Any]:
    return [s for s in all_specs() if user.has_perm(s.permission)]


def _scoped(request: HttpRequest, pk: int) -> Upload:
    return get_object_or_404(
        Upload.objects.for_user(request.user).select_related("unit", "uploaded_by"), pk=pk
    )


def _run_or_enqueue(upload: Upload, job: Any, service: Any) -> None:
    # Small files are handled in the request, so the preview appears at once; big ones
    # go to a worker and the page shows a progress bar.
    if upload.size <= settings.UPLOAD_SYNC_MAX_BYTES:
        service(upload.pk)
    else:
        enqueue(job, upload.pk, on_failure=lambda: uploads.upload_queue_failed(upload.pk))


@login_required
def upload_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    last_month = (today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    form = UploadForm(
        user=user, initial={"kind": request.GET.get("kind", ""), "period": last_month}
    )
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            f = form.cleaned_data["file"]
            try:
                upload = uploads.upload_receive(
                    user=user,
                    kind=form.cleaned_data["kind"],
                    content=f.read(),
                    filename=f.name,
                    period=form.cleaned_data["period"].replace(day=1),
                    as_of=form.cleaned_data.get("as_of"),
                )
            except ValidationError as exc:
                for msg in exc.messages:
                    form.add_error("file", msg)
            else:
                _run_or_enqueue(upload, jobs.upload_validate_job, uploads.upload_validate)
                return redirect("intake:upload", pk=upload.pk)
    # The list shows counts only: the JSON columns (a rejected file's errors run to tens of
    # kilobytes, a preview to its first rows) are read on the upload's own page.
    qs = (
        Upload.objects.for_user(user)
        .select_related("unit", "uploaded_by")
        .defer(*Upload.DETAIL_FIELDS)
    )
    page = params.page(request, Paginator(qs, 30))
    titles = {s.key: s.title for s in all_specs()}
    for u in page:
        u.kind_title = titles.get(u.kind, u.kind)  # type: ignore[attr-defined]
    return render(
        request,
        "intake/uploads.html",
        {
            "form": form,
            "page": page,
            "specs": specs_for(user),
            "max_mb": settings.UPLOAD_MAX_BYTES // 1048576,
            "mappings": _mappings(user, titles),
        },
    )


def _mappings(user: Any, titles: dict[str, str]) -> list[HeaderMapping]:
    """The remembered headers of the user's units, for the kinds the user may upload."""
    kinds = [s.key for s in specs_for(user)]
    found = list(
        HeaderMapping.objects.for_user(user)
        .filter(kind__in=kinds)
        .select_related("unit")
        .order_by("unit__name", "kind", "column", "header")
    )
    for m in found:
        m.kind_title = titles.get(m.kind, m.kind)  # type: ignore[attr-defined]
    return found


def _stall(upload: Upload) -> tuple[bool, bool]:
    """(no job is working on it, the queue cannot be reached): what a waiting page says."""
    stalled = upload.is_busy and uploads.upload_is_stalled(upload)
    queue_down = upload.is_busy and (
        upload.progress_stage == uploads.QUEUE_DOWN or (stalled and not broker_reachable())
    )
    return stalled, queue_down


@login_required
def upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _scoped(request, pk)
    errors = params.page(request, Paginator(upload.errors, ERRORS_PER_PAGE))
    stalled, queue_down = _stall(upload)
    return render(
        request,
        "intake/upload_detail.html",
        {
            "upload": upload,
            "spec": get_spec(upload.kind),
            "errors": errors,
            "skipped": upload.skipped[:ERRORS_PER_PAGE],
            "stalled": stalled,
            "queue_down": queue_down,
            "may_map": bool(upload.preview.get("missing"))
            and upload.state == Upload.State.REJECTED
            and request.user.has_perm(get_spec(upload.kind).permission),
        },
    )


@login_required
def upload_status(request: HttpRequest, pk: int) -> JsonResponse:
    upload = _scoped(request, pk)
    stalled, queue_down = _stall(upload)
    return JsonResponse(
        {
            "state": upload.state,
            "state_label": upload.get_state_display(),
            "stage": upload.progress_stage,
            "done": upload.progress_done,
            "total": upload.progress_total,
            "percent": upload.percent,
            "busy": upload.is_busy,
            "stalled": stalled,
            "queue_down": queue_down,
        }
    )


@login_required
@require_POST
def upload_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _scoped(request, pk)
    try:
        uploads.upload_confirm(user=request.user, upload=upload)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("intake:upload", pk=pk)
    _run_or_enqueue(upload, jobs.upload_apply_job, uploads.upload_apply)
    upload.refresh_from_db()
    if upload.state == Upload.State.APPLIED:
        messages.success(request, _("导入完成：%(n)s 行已写入。") % {"n": upload.rows_accepted})
    elif upload.state == Upload.State.REJECTED:
        messages.error(request, _("数据已发生变化，重新校验发现错误，未导入任何数据。"))
    return redirect("intake:upload", pk=pk)


@login_required
@require_POST
def upload_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _scoped(request, pk)
    try:
        uploads.upload_cancel(user=request.user, upload=upload)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("已取消，未导入任何数据。"))
    return redirect("intake:upload", pk=pk)


@login_required
@require_POST
def upload_retry(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _scoped(request, pk)
    try:
        uploads.upload_retry(user=request.user, upload=upload)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        if send_now(jobs.job_for(upload), upload.pk):
            messages.success(request, _("已重新提交后台处理。"))
        else:
            uploads.upload_queue_failed(upload.pk)
            messages.error(request, uploads.QUEUE_DOWN)
    return redirect("intake:upload", pk=pk)


@login_required
def upload_file(request: HttpRequest, pk: int) -> FileResponse:
    upload = _scoped(request, pk)
    return FileResponse(upload.file.open("rb"), as_attachment=True, filename=upload.original_name)


@login_required
def upload_errors_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _scoped(request, pk)
    rows = [[e["row"], e["column"], e["message"]] for e in upload.errors]
    data = xlsx_bytes([("错误清单", ["行号", "列", "原因"], rows)])
    # "表.xlsx" gives "错误清单-表.xlsx", not "错误清单-表.xlsx.xlsx".
    stem = PurePath(upload.original_name).stem
    return download(data, f"错误清单-{stem}.xlsx")


@login_required
def upload_template(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        spec = get_spec(kind)
    except LookupError:
        raise Http404(_("没有这种表格模板：%(kind)s") % {"kind": kind}) from None
    return download(template_xlsx(spec), f"{spec.title}模板.xlsx")


@login_required
@permission_required("tasks.add_user", raise_exception=True)
@require_POST
def upload_passwords(request: HttpRequest, pk: int) -> HttpResponse:
    """Once, right after an account import: the new accounts' one-time passwords."""
    upload = get_object_or_404(
        Upload.objects.for_user(request.user),
        pk=pk,
        kind="users",
        state=Upload.State.APPLIED,
    )
    issued = account_passwords_issue(upload_id=upload.pk)
    if not issued:
        messages.error(
            request,
            _(
                "该次导入的初始密码已经下载过，不能再次下载（系统不保存明文密码）。"
                "如有遗失，请在后台为该用户设置新密码。"
            ),
        )
        return redirect("intake:upload", pk=pk)
    response = download(passwords_workbook(issued), f"初始密码-上传{upload.pk}.xlsx")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def upload_map(request: HttpRequest, pk: int) -> HttpResponse:
    """Map the file's headers to the missing columns, remember them, validate again."""
    upload = _scoped(request, pk)
    missing = upload.preview.get("missing") or []
    choices = {column: request.POST.get(f"map-{i}", "") for i, column in enumerate(missing)}
    try:
        uploads.upload_map_headers(user=request.user, upload=upload, choices=choices)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("intake:upload", pk=pk)
    messages.success(request, _("已记住列名对应，本单位以后上传同类表格时自动使用。已重新校验。"))
    _run_or_enqueue(upload, jobs.upload_validate_job, uploads.upload_validate)
    return redirect("intake:upload", pk=pk)


@login_required
@require_POST
def header_mapping_delete(request: HttpRequest, pk: int) -> HttpResponse:
    mapping = get_object_or_404(HeaderMapping.objects.for_user(request.user), pk=pk)
    try:
        uploads.header_mapping_remove(user=request.user, mapping=mapping)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("已删除列名对应：%(h)s → %(c)s。") % {"h": mapping.header, "c": mapping.column},
        )
    return redirect("intake:uploads")
