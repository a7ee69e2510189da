from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xc_fupin.lib.export import xlsx_bytes

from . import indicators, params, privacy, selectors, services
from .board import board_key
from .clock import today
from .downloads import download
from .forms import IndicatorPeriodForm, LedgerEntryForm, ReviewForm
from .models import LedgerEntry, LedgerEvidence, Task
from .scoping import user_scope


def _task_or_404(number: int) -> Task:
    try:
        return selectors.task_get(number)
    except Task.DoesNotExist:
        raise Http404(_("未找到任务 %(n)s：本计划只有第 1–22 项任务。") % {"n": number}) from None


def safe_next(request: HttpRequest, value: str | None, default: str) -> str:
    """A `next` URL only if it stays on this site (no open redirect, no javascript:)."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default


def _form_errors_from(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def board_context() -> dict[str, Any]:
    """What the plan board shows (also below the to-do list on the landing page).

    The board is read only when its cached fragment is missing (`tasks.board`): `groups`
    is computed on first use."""
    day = today()
    groups = SimpleLazyObject(lambda: selectors.plan_board(day))
    return {
        "plan": selectors.plan_current(),
        "groups": groups,
        "overdue_total": SimpleLazyObject(
            lambda: sum(r.overdue_count for g in groups for r in g.rows)
        ),
        "board_key": board_key(day),
    }


@login_required
@permission_required("tasks.view_task", raise_exception=True)
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "tasks/board.html", board_context())


@login_required
@permission_required("tasks.view_task", raise_exception=True)
def task_detail(request: HttpRequest, number: int) -> HttpResponse:
    task = _task_or_404(number)
    day = today()
    (row,) = selectors.task_rows([task], day)
    ledger = selectors.task_ledger(task, request.user)
    units = [(state, ledger.get(state.unit.pk, [])) for state in row.units]
    # Only entries of a unit the user reports for can be corrected by the user.
    report_unit_ids = {u.pk for u in selectors.ledger_units_for(request.user, task)}
    default_start, default_end = indicators.plan_months(day)
    period_form = params.filter_form(
        request, IndicatorPeriodForm, initial={"start": default_start, "end": default_end}
    )
    chosen = period_form.cleaned_data if period_form.is_bound else {}
    end = chosen.get("end") or default_end
    start = chosen.get("start") or (
        default_start if end == default_end else indicators.year_start(end)
    )
    # Values of the units the user may see, like the ledger entries below them.
    scope = user_scope(request.user)
    seen = [
        state.unit
        for state in row.units
        if scope.covers(county_id=state.unit.county_id, unit_id=state.unit.pk)
    ]
    indicator_table = indicators.task_table(task, units=seen, start=start, end=end)
    return render(
        request,
        "tasks/task_detail.html",
        {
            "task": task,
            "row": row,
            "units": units,
            "indicator_table": indicator_table if indicator_table.indicators else None,
            "period_form": period_form,
            "can_report": bool(report_unit_ids),
            "report_unit_ids": report_unit_ids,
            "can_review": selectors.user_may_review(request.user, task),
            "review_form": ReviewForm(),
        },
    )


@login_required
def ledger_new(request: HttpRequest, number: int) -> HttpResponse:
    task = _task_or_404(number)
    units = selectors.ledger_units_for(request.user, task)
    if not units:
        messages.error(
            request, _("您所在单位不是任务%(n)s的责任单位，或您没有填报权限。") % {"n": number}
        )
        return redirect("tasks:task", number=number)
    revision_of = None
    if "revise" in request.GET:
        # Not a number: ignored with a message; a number outside the user's scope: 404.
        revise = params.number(request, "revise", _("更正的记录"), default=0)
        if revise:
            revision_of = get_object_or_404(
                LedgerEntry.objects.for_user(request.user), pk=revise, task=task
            )
    task_indicators = indicators.indicators_of(task)
    if request.method == "POST":
        form = LedgerEntryForm(request.POST, request.FILES, units=units, indicators=task_indicators)
        if form.is_valid():
            try:
                entry = indicators.ledger_entry_submit_with_values(
                    user=request.user,
                    task=task,
                    unit=form.cleaned_data["unit"],
                    period=form.cleaned_data["period"],
                    status=form.cleaned_data["status"],
                    narrative=form.cleaned_data["narrative"],
                    values=form.indicator_values(),
                    files=form.cleaned_data["evidence"],
                    revision_of=revision_of,
                )
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                messages.success(
                    request,
                    _("已保存：%(unit)s %(month)s 任务%(n)s台账，等待审核。")
                    % {"unit": entry.unit, "month": f"{entry.period:%Y年%m月}", "n": number},
                )
                return redirect("tasks:task", number=number)
    else:
        initial: dict[str, Any] = {"period": today().replace(day=1)}
        if revision_of is not None:
            initial.update(
                unit=revision_of.unit_id,
                period=revision_of.period,
                status=revision_of.status,
                narrative=revision_of.narrative,
            )
        # The month's values already reported (a correction, or a sheet sent earlier).
        unit_id = initial.get("unit", units[0].pk if len(units) == 1 else None)
        if unit_id is not None and task_indicators:
            stored = indicators.stored_values(task=task, unit_id=unit_id, period=initial["period"])
            initial.update({f"indicator_{pk}": indicators.cell(v) for pk, v in stored.items()})
        form = LedgerEntryForm(initial=initial, units=units, indicators=task_indicators)
    return render(
        request,
        "tasks/ledger_form.html",
        {
            "task": task,
            "form": form,
            "revision_of": revision_of,
            "max_mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024),
        },
    )


@login_required
@require_POST
def ledger_review(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(
        LedgerEntry.objects.for_user(request.user).select_related("task"), pk=pk
    )
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择采纳或退回。"))
        return redirect("tasks:task", number=entry.task.number)
    try:
        services.ledger_entry_review(
            user=request.user,
            entry=entry,
            accept=form.cleaned_data["decision"] == "accept",
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as exc:
        for msg in exc.messages:
            messages.error(request, msg)
    else:
        messages.success(
            request,
            _("已采纳该记录。")
            if form.cleaned_data["decision"] == "accept"
            else _("已退回该记录，填报单位将看到审核意见。"),
        )
    return redirect(
        safe_next(
            request, request.POST.get("next"), f"/tasks/{entry.task.number}/#unit-{entry.unit_id}"
        )
    )


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    return get_object_or_404(LedgerEvidence.objects.for_user(request.user), pk=pk).response()


@login_required
def my_unit(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    return render(
        request,
        "tasks/my_unit.html",
        {
            "rows": selectors.my_tasks(user, today()),
            "to_review": selectors.entries_to_review(user)[:50],
            "returned": selectors.entries_returned(user),
            "review_form": ReviewForm(),
        },
    )


@login_required
@permission_required("tasks.view_task", raise_exception=True)
def plan_breakdown_xlsx(request: HttpRequest) -> HttpResponse:
    data = xlsx_bytes(
        [("任务分解表", selectors.BREAKDOWN_HEADERS, selectors.plan_breakdown_rows())]
    )
    return download(data, "任务分解表.xlsx")


@login_required
def personal_data_reveal(request: HttpRequest, label: str, pk: int) -> HttpResponse:
    """Ask for a reason, then show one record's personal data in full (logged)."""
    try:
        model = privacy.revealable_model(label)
    except LookupError:
        raise Http404(_("没有可查看的个人信息。")) from None
    values: dict[str, str] | None = None
    error = ""
    reason = request.POST.get("reason", "")
    if request.method == "POST":
        try:
            values = privacy.personal_data_reveal(
                user=request.user, model=model, pk=pk, reason=reason, request=request
            )
        except PermissionDenied as exc:
            error = str(exc)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except LookupError:
            raise Http404(_("记录不存在或不在您的管辖范围内。")) from None
    elif not model._default_manager.all().for_user(request.user).filter(pk=pk).exists():  # type: ignore[attr-defined]
        raise Http404(_("记录不存在或不在您的管辖范围内。"))
    return render(
        request,
        "tasks/reveal.html",
        {
            "values": values,
            "error": error,
            "reason": reason,
            "back": safe_next(request, request.GET.get("next"), "/"),
        },
    )
