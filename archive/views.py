"""The archive page and its .zip (task 22). Thin: read the filters through the user's
scope, ask the selectors, render or stream."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from tasks import params
from tasks.clock import today
from tasks.models import Task
from tasks.scoping import user_scope
from tasks.selectors import plan_current

from . import bundle, selectors
from .forms import ArchiveForm


def _archive(request: HttpRequest) -> tuple[ArchiveForm, selectors.Archive]:
    user: Any = request.user
    if user_scope(user).sees_nothing:
        raise PermissionDenied
    plan = plan_current()
    tasks = Task.objects.filter(group__plan=plan).order_by("number")
    form = params.filter_form(request, ArchiveForm, tasks=tasks, units=selectors.units_for(user))
    day = today()
    start, end = selectors.default_range(day)
    data = form.cleaned_data if form.is_bound else {}
    archive = selectors.archive_for(
        user,
        task=data.get("task"),
        unit=data.get("unit"),
        start=data.get("start") or start,
        end=data.get("end") or end,
        today=day,
    )
    return form, archive


@login_required
def archive_page(request: HttpRequest) -> HttpResponse:
    form, archive = _archive(request)
    if not form.is_bound:
        form = ArchiveForm(
            initial={"start": f"{archive.start:%Y-%m}", "end": f"{archive.end:%Y-%m}"},
            tasks=form.fields["task"].queryset,  # type: ignore[attr-defined]
            units=form.fields["unit"].queryset,  # type: ignore[attr-defined]
        )
    return render(
        request,
        "archive/index.html",
        {
            "form": form,
            "archive": archive,
            "groups": selectors.categories(archive.records),
            "query": request.GET.urlencode(),
        },
    )


@login_required
def archive_zip(request: HttpRequest) -> StreamingHttpResponse:
    _form, archive = _archive(request)
    bundle.place_files(archive)
    parts = ["检查档案"]
    if archive.task:
        parts.append(f"任务{archive.task.number}")
    parts.append(archive.unit.display_name if archive.unit else "全部单位")
    parts.append(f"{archive.start:%Y%m}-{archive.end:%Y%m}")
    response = StreamingHttpResponse(bundle.zip_chunks(archive), content_type="application/zip")
    response["Content-Disposition"] = (
        content_disposition_header(True, "_".join(parts) + ".zip") or ""
    )
    return response
