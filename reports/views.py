"""Pages of the monthly cycle. Thin: fetch through the user's scope, validate a form,
call one service, redirect with a message. Files go out only through these views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tasks.clock import today
from tasks.models import Deadline
from tasks.queue import enqueue
from tasks.scoping import user_scope
from tasks.views import board_context

from . import build, jobs, outstanding, selectors, services, todo
from .documents import REVIEW_HEADERS, indicator_display, review_row
from .forms import (
    AnswerForm,
    BuildForm,
    CommentForm,
    EditedDocxForm,
    ReasonForm,
    SubmitForm,
    TextsForm,
)
from .models import CorrectionReport, Escalation, MonthlySubmission, Report, SubmissionEvent
from .periods import month_label, month_start, parse_month, parse_quarter, previous_month
from .texts import date_words, task_short_name


def _error_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _file(field: FieldFile, name: str) -> FileResponse:
    if not field:
        raise Http404(_("文件不存在。"))
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404(_("文件不存在。")) from None
    return FileResponse(handle, as_attachment=True, filename=name)


def _month(text: str) -> dt.date:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise Http404(str(exc)) from None


def _is_city(request: HttpRequest) -> bool:
    return user_scope(request.user).sees_all


# --- landing page ----------------------------------------------------------------------


@login_required
@permission_required("tasks.view_task", raise_exception=True)
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: the user's to-do list first, then the plan board."""
    day = today()
    items = todo.todo_for(request.user, day)
    return render(
        request,
        "reports/home.html",
        {**board_context(), "todo": items, "acts": bool(items) or todo.acts(request.user)},
    )


# --- reports ---------------------------------------------------------------------------


@login_required
@permission_required("reports.view_report", raise_exception=True)
def report_list(request: HttpRequest) -> HttpResponse:
    # The snapshots (figures, texts) run to tens of kilobytes of JSON each: the list shows
    # none of them.
    reports = (
        Report.objects.for_user(request.user).order_by("-period", "kind").defer("figures", "texts")
    )
    day = today()
    form = BuildForm(initial={"kind": "monthly", "period": f"{previous_month(day):%Y-%m}"})
    return render(
        request,
        "reports/list.html",
        {
            "reports": reports,
            "form": form,
            "can_build": request.user.has_perm("reports.change_report") and _is_city(request),
        },
    )


@login_required
@require_POST
def report_build(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("reports.change_report") or not _is_city(request):
        raise PermissionDenied
    form = BuildForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写类别和期间。"))
        return redirect("reports:list")
    kind, text = form.cleaned_data["kind"], form.cleaned_data["period"].strip()
    try:
        start = parse_month(text) if kind == "monthly" else parse_quarter(text)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("reports:list")
    report, _c = Report.objects.get_or_create(kind=kind, period=start)
    if report.is_frozen:
        messages.error(request, _("该通报已印发，不能重新生成。"))
        return redirect("reports:report", pk=report.pk)
    Report.objects.filter(pk=report.pk).exclude(job_state=Report.Job.RUNNING).update(
        job_state=Report.Job.QUEUED
    )
    enqueue(jobs.report_build_job, kind, text, True)
    messages.success(request, _("已提交生成任务，完成后可在列表中下载。"))
    return redirect("reports:list")


def _report(request: HttpRequest, pk: int) -> Report:
    return get_object_or_404(Report.objects.for_user(request.user), pk=pk)


@login_required
@permission_required("reports.view_report", raise_exception=True)
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    rows = sorted(report.figures.get("rows", []), key=lambda r: (r["rank"], r["unit_id"]))
    editor = request.user.has_perm("reports.change_report") and _is_city(request)
    return render(
        request,
        "reports/report.html",
        {
            "report": report,
            "headers": REVIEW_HEADERS,
            "rows": [review_row(r) for r in rows],
            "events": report.figures.get("events", {}),
            "indicators": indicator_display(report.figures),
            "texts_form": TextsForm(initial=report.texts)
            if editor and not report.is_frozen
            else None,
            "edited_form": EditedDocxForm() if editor and not report.is_frozen else None,
            "editor": editor,
            "issuer": request.user.has_perm("reports.issue_report") and _is_city(request),
        },
    )


def _report_action(request: HttpRequest, pk: int, action: Any, ok: str) -> HttpResponse:
    report = _report(request, pk)
    try:
        action(report)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, ok)
    return redirect("reports:report", pk=report.pk)


@login_required
@require_POST
def report_texts(request: HttpRequest, pk: int) -> HttpResponse:
    form = TextsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("各段正文都不能为空。"))
        return redirect("reports:report", pk=pk)
    return _report_action(
        request,
        pk,
        lambda r: build.report_texts_update(user=request.user, report=r, texts=form.cleaned_data),
        _("正文已保存，Word 文档已按修改后的正文重新生成。"),
    )


@login_required
@require_POST
def report_edited(request: HttpRequest, pk: int) -> HttpResponse:
    form = EditedDocxForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择修改稿文件。"))
        return redirect("reports:report", pk=pk)
    return _report_action(
        request,
        pk,
        lambda r: build.report_upload_edited(
            user=request.user, report=r, file=form.cleaned_data["file"]
        ),
        _("修改稿已保存。"),
    )


@login_required
@require_POST
def report_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_action(
        request, pk, lambda r: build.report_approve(user=request.user, report=r), _("已审定。")
    )


@login_required
def report_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """印发 asks first: GET shows what will be frozen and the date it will carry; only the
    confirming POST issues (no inline script: the CSP forbids it)."""
    if request.method != "POST":
        report = _report(request, pk)
        if not (request.user.has_perm("reports.issue_report") and _is_city(request)):
            raise PermissionDenied
        if report.state != Report.State.APPROVED:
            messages.error(request, _("只有已审定的通报可以印发。"))
            return redirect("reports:report", pk=pk)
        return render(
            request,
            "reports/issue_confirm.html",
            {"report": report, "issue_day": date_words(today())},
        )
    return _report_action(
        request,
        pk,
        lambda r: build.report_issue(user=request.user, report=r),
        _("已印发，文件已冻结。"),
    )


@login_required
@require_POST
def report_regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    if not request.user.has_perm("reports.change_report") or not _is_city(request):
        raise PermissionDenied
    if report.is_frozen:
        messages.error(request, _("该通报已印发，不能重新生成。"))
        return redirect("reports:report", pk=pk)
    Report.objects.filter(pk=report.pk).exclude(job_state=Report.Job.RUNNING).update(
        job_state=Report.Job.QUEUED
    )
    enqueue(jobs.report_build_job, report.kind, report.period_code, True)
    messages.success(request, _("已提交重新生成任务。"))
    return redirect("reports:report", pk=pk)


@login_required
@permission_required("reports.view_report", raise_exception=True)
def report_file(request: HttpRequest, pk: int, which: str) -> FileResponse:
    report = _report(request, pk)
    stem = f"{report.title or report.period_code}"
    if which == "docx":
        field, name = (report.edited_docx or report.docx), f"{stem}.docx"
    elif which == "generated-docx":
        field, name = report.docx, f"{stem}（系统生成）.docx"
    elif which == "xlsx":
        field, name = report.xlsx, f"{stem}-附件.xlsx"
    else:
        raise Http404
    return _file(field, name)


# --- calendar and inbox ----------------------------------------------------------------


@login_required
@permission_required("reports.view_reminder", raise_exception=True)
def calendar(request: HttpRequest) -> HttpResponse:
    day = today()
    rows = outstanding.calendar(
        request.user, day, start=day - dt.timedelta(days=31), end=day + dt.timedelta(days=62)
    )
    return render(request, "reports/calendar.html", {"rows": rows, "today": day})


@login_required
@permission_required("reports.view_reminder", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    reminders, escalations = selectors.inbox(request.user)
    return render(
        request,
        "reports/inbox.html",
        {"reminders": reminders[:200], "escalations": escalations, "today": today()},
    )


@login_required
@require_POST
@permission_required("reports.view_reminder", raise_exception=True)
def reminders_read(request: HttpRequest, deadline: int) -> HttpResponse:
    """ "已阅" on a reminder in the to-do list: it leaves the list (nothing else changes)."""
    row = get_object_or_404(Deadline, pk=deadline)
    services.reminders_mark_read(user=request.user, deadline=row)
    return redirect("home")


def _escalation(request: HttpRequest, pk: int) -> Escalation:
    return get_object_or_404(
        Escalation.objects.for_user(request.user).select_related(
            "deadline", "deadline__task", "unit"
        ),
        pk=pk,
    )


@login_required
@permission_required("reports.view_escalation", raise_exception=True)
def escalation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    esc = _escalation(request, pk)
    may_answer = (
        request.user.has_perm("reports.add_correctionreport")
        and esc.state != Escalation.State.CLOSED
        and not (_is_city(request) and not request.user.is_superuser)
    )
    form = AnswerForm(request.POST or None, request.FILES or None) if may_answer else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.escalation_answer(
                    user=request.user,
                    escalation=esc,
                    text=form.cleaned_data["text"],
                    file=form.cleaned_data["file"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("整改报告已报送。"))
                return redirect("reports:escalation", pk=esc.pk)
    return render(
        request,
        "reports/escalation.html",
        {
            "esc": esc,
            # The task's short name in full: its first sentence cut at 40 characters
            # stopped mid-word ("…资助政策宣…").
            "task_name": task_short_name(esc.deadline.task),
            "answers": esc.answers.select_related("submitted_by"),
            "form": form,
            "may_close": request.user.has_perm("reports.change_escalation") and _is_city(request),
        },
    )


@login_required
@require_POST
def escalation_close(request: HttpRequest, pk: int) -> HttpResponse:
    esc = _escalation(request, pk)
    try:
        services.escalation_close(user=request.user, escalation=esc)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("已销号。"))
    return redirect("reports:escalation", pk=pk)


@login_required
@permission_required("reports.view_correctionreport", raise_exception=True)
def correction_file(request: HttpRequest, pk: int) -> FileResponse:
    answer = get_object_or_404(CorrectionReport.objects.for_user(request.user), pk=pk)
    return _file(answer.file, answer.original_name or "整改报告")


# --- submissions -----------------------------------------------------------------------


@login_required
@permission_required("reports.view_monthlysubmission", raise_exception=True)
def submissions_home(request: HttpRequest) -> HttpResponse:
    """The month whose report is being gathered now (the previous month)."""
    return redirect(
        "reports:submissions_month", month=f"{previous_month(month_start(today())):%Y-%m}"
    )


@login_required
@permission_required("reports.view_monthlysubmission", raise_exception=True)
def submissions_month(request: HttpRequest, month: str) -> HttpResponse:
    period = _month(month)
    grid = selectors.completeness([period], scope=user_scope(request.user))
    own_units = selectors.submission_units_for(request.user, period)
    may_submit = request.user.has_perm("reports.change_monthlysubmission") and bool(own_units)
    form = SubmitForm(request.POST or None, request.FILES or None) if may_submit else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.submission_submit(
                    user=request.user,
                    unit=own_units[0],
                    period=period,
                    narrative=form.cleaned_data["narrative"],
                    cover_sheet=form.cleaned_data["cover_sheet"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("%(m)s月报已报送。") % {"m": month_label(period)})
                return redirect("reports:submissions_month", month=month)
    cells = [grid.cells[(u.pk, period)] for u in grid.units]
    own_sub = None
    if own_units:
        own_sub = next((c.submission for c in cells if c.unit.pk == own_units[0].pk), None)
    return render(
        request,
        "reports/submissions.html",
        {
            "period": period,
            "label": month_label(period),
            "cells": cells,
            "kinds": [(k, selectors.kind_title(k)) for k in grid.kinds],
            "rates": grid.month_rates(period),
            "form": form
            if (own_sub is None or own_sub.state in ("not_submitted", "returned"))
            else None,
            "own_sub": own_sub,
            "reviewer": request.user.has_perm("reports.review_monthlysubmission")
            and _is_city(request),
            "locked": selectors.month_locked(period),
            "prev": f"{previous_month(period):%Y-%m}",
            "next": f"{(period + dt.timedelta(days=32)).replace(day=1):%Y-%m}",
            "due_on": selectors.submission_due(period),
        },
    )


@login_required
@require_POST
def month_lock(request: HttpRequest, month: str) -> HttpResponse:
    period = _month(month)
    try:
        services.month_lock(user=request.user, period=period)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(m)s已锁定。") % {"m": month_label(period)})
    return redirect("reports:submissions_month", month=month)


@login_required
@require_POST
def month_reopen(request: HttpRequest, month: str) -> HttpResponse:
    period = _month(month)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("重新打开须写明理由。"))
        services.month_reopen(user=request.user, period=period, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(m)s已重新打开。") % {"m": month_label(period)})
    return redirect("reports:submissions_month", month=month)


def _submission(request: HttpRequest, pk: int) -> MonthlySubmission:
    return get_object_or_404(selectors.submissions_for(request.user), pk=pk)


@login_required
@permission_required("reports.view_monthlysubmission", raise_exception=True)
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sub = _submission(request, pk)
    return render(
        request,
        "reports/submission.html",
        {
            "sub": sub,
            "events": sub.events.select_related("actor"),
            "kinds": [(k, selectors.kind_title(k)) for k in sub.figures],
            "reviewer": request.user.has_perm("reports.review_monthlysubmission")
            and _is_city(request),
        },
    )


@login_required
@require_POST
def submission_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    sub = _submission(request, pk)
    text = (request.POST.get("comment") or request.POST.get("reason") or "").strip()
    form = CommentForm(request.POST)
    form.is_valid()
    try:
        if action == "return":
            services.submission_return(user=request.user, submission=sub, comment=text)
            done = _("已退回。")
        elif action == "accept":
            services.submission_accept(user=request.user, submission=sub, comment=text)
            done = _("已审核通过。")
        elif action == "reopen":
            services.submission_reopen(user=request.user, submission=sub, reason=text)
            done = _("已重新打开，单位可修改后重新报送。")
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, done)
    back = request.POST.get("next", "")
    if back.startswith("/reports/") and "//" not in back:  # only our own pages, never elsewhere
        return redirect(back)
    return redirect("reports:submission", pk=sub.pk)


@login_required
@permission_required("reports.view_monthlysubmission", raise_exception=True)
def cover_file(request: HttpRequest, pk: int) -> FileResponse:
    event = get_object_or_404(SubmissionEvent.objects.for_user(request.user), pk=pk)
    return _file(event.cover_sheet, event.cover_name or "封面")


@login_required
@permission_required("reports.view_monthlysubmission", raise_exception=True)
def completeness(request: HttpRequest, year: int) -> HttpResponse:
    # The year comes from the URL: anything outside the plan's reporting years (a typed
    # 11796 included, which no date can hold) is a Chinese 404, not a 500.
    first = selectors.first_reporting_month()
    if year > today().year or (first is not None and year < first.year):
        raise Http404(_("%(year)s年不在本计划的报送期内。") % {"year": year})
    periods = selectors.year_periods(year, today())
    grid = selectors.completeness(periods, scope=user_scope(request.user)) if periods else None
    rows = []
    if grid:
        for unit in grid.units:
            rows.append((unit, grid.row(unit), grid.unit_rates(unit)))
    return render(
        request,
        "reports/completeness.html",
        {
            "year": year,
            "periods": periods,
            "rows": rows,
            "months": [(p, grid.month_rates(p)) for p in periods] if grid else [],
            "total": grid.total() if grid else None,
        },
    )
