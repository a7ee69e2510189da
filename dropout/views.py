"""Pages of dropout control. Thin: fetch through the user's scope, validate, call a service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tasks import params
from tasks.clock import today
from tasks.downloads import download
from tasks.privacy import personal_data_export_allowed
from xc_fupin.lib.export import xlsx_bytes
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from . import selectors, services
from .forms import (
    CaseFilterForm,
    FollowUpForm,
    FullExportForm,
    PlanForm,
    RunCheckForm,
    TransitionForm,
)
from .models import CaseStatus, CrosscheckRun, DropoutCase


def _error_messages(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _form_messages(request: HttpRequest, form: Any) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else error)


def _filters(request: HttpRequest) -> tuple[CaseFilterForm, dict[str, Any]]:
    form = params.filter_form(request, CaseFilterForm, user=request.user)
    values: dict[str, Any] = {}
    if form.is_bound:  # always valid: bad values were dropped and named on the page
        data = form.cleaned_data
        values = {
            "county": data["county"].pk if data["county"] else None,
            "school": data["school"].pk if data["school"] else None,
            "status": data["status"] or None,
            "category": data["category"] or None,
            "attention_only": data["attention"],
        }
    return form, values


@login_required
@permission_required("dropout.view_dropoutcase", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    day = today()
    rows = selectors.dashboard(request.user, day)
    totals = {s.value: sum(r.counts[s.value] for r in rows) for s in CaseStatus}
    chart = {
        "counties": [r.county.current_name() if r.county else "市直" for r in rows],
        "series": [
            {"name": str(s.label), "data": [r.counts[s.value] for r in rows]} for s in CaseStatus
        ],
        "poor": [r.poor for r in rows],
        "attention": [r.attention for r in rows],
    }
    return render(
        request,
        "dropout/dashboard.html",
        {
            "rows": rows,
            "totals": totals,
            "poor_total": sum(r.poor for r in rows),
            "attention_total": sum(r.attention for r in rows),
            "chart": chart,
            "statuses": list(CaseStatus),
            "run_form": RunCheckForm(user=request.user, initial={"as_of": day}),
            "can_run": request.user.has_perm("dropout.change_dropoutcase"),
            "runs": CrosscheckRun.objects.for_user(request.user).select_related("county")[:10],
        },
    )


@login_required
@permission_required("dropout.view_dropoutcase", raise_exception=True)
def case_list(request: HttpRequest) -> HttpResponse:
    day = today()
    form, values = _filters(request)
    cases = selectors.case_list(request.user, today=day, **values)
    page = params.page(request, Paginator(cases, 50))
    here = request.get_full_path()
    rows = [
        {
            "case": case,
            "id_masked": mask_id_number(case.id_number),
            "name_masked": mask_name(case.name),
            "attention": case.attention_reason(day),
            "reveal_url": _reveal_url(case, here),
        }
        for case in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dropout/case_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "can_reveal": request.user.has_perm("tasks.reveal_personal_data"),
            "can_export_full": request.user.has_perm("tasks.export_personal_data"),
            "export_form": FullExportForm(),
        },
    )


def _reveal_url(case: DropoutCase, back: str) -> str:
    """The shared reveal page for one case (asks a reason, logs it), returning to `back`."""
    url = reverse("tasks:reveal", args=[DropoutCase._meta.label, case.pk])
    return f"{url}?{urlencode({'next': back})}"


@login_required
@permission_required("dropout.view_dropoutcase", raise_exception=True)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(
        DropoutCase.objects.for_user(request.user).select_related(
            "county", "school", "responsible_unit", "outcome_school"
        ),
        pk=pk,
    )
    day = today()
    return render(
        request,
        "dropout/case_detail.html",
        {
            "case": case,
            # Masked here for everyone; the full record is on the shared reveal page,
            # which asks for a reason and logs the look (tasks.privacy).
            "id_shown": mask_id_number(case.id_number),
            "name_shown": mask_name(case.name),
            "guardian_shown": mask_name(case.guardian) if case.guardian else "",
            "phone_shown": mask_id_number(case.phone) if case.phone else "",
            "can_reveal": request.user.has_perm("tasks.reveal_personal_data"),
            "reveal_url": _reveal_url(case, request.get_full_path()),
            "attention": case.attention_reason(day),
            "timeline": selectors.case_timeline(case),
            "findings": case.findings.all(),
            "allowed": [CaseStatus(s) for s in case.allowed_next()],
            "follow_up_form": FollowUpForm(initial={"happened_on": day}),
            "transition_form": TransitionForm(
                allowed=case.allowed_next(), initial={"outcome_date": day}
            ),
            "plan_form": PlanForm(
                user=request.user,
                initial={
                    "cause": case.cause,
                    "cause_note": case.cause_note,
                    "measures": case.measures,
                    "responsible_person": case.responsible_person,
                    "responsible_unit": case.responsible_unit_id,
                    "is_left_behind": case.is_left_behind,
                    "is_disabled": case.is_disabled,
                    "is_other_difficulty": case.is_other_difficulty,
                },
            ),
            "can_change": request.user.has_perm("dropout.change_dropoutcase"),
            "can_follow_up": request.user.has_perm("dropout.add_casefollowup"),
        },
    )


def _case_for_update(request: HttpRequest, pk: int) -> DropoutCase:
    return get_object_or_404(DropoutCase.objects.for_user(request.user), pk=pk)


@login_required
@require_POST
@permission_required("dropout.add_casefollowup", raise_exception=True)
def follow_up_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for_update(request, pk)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        _form_messages(request, form)
        return redirect("dropout:case", pk=case.pk)
    try:
        services.follow_up_record(case=case, user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("已记录%(kind)s。") % {"kind": form.cleaned_data["kind"]})
    return redirect("dropout:case", pk=case.pk)


@login_required
@require_POST
@permission_required("dropout.change_dropoutcase", raise_exception=True)
def case_move(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for_update(request, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        _form_messages(request, form)
        return redirect("dropout:case", pk=case.pk)
    data = form.cleaned_data
    try:
        services.case_transition(
            case=case,
            user=request.user,
            to_status=data["to_status"],
            note=data["note"],
            cause=data["cause"],
            outcome_date=data["outcome_date"],
            outcome_school=data["outcome_school"],
            close_reason=data["close_reason"],
        )
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(
            request, _("个案状态已改为“%(s)s”。") % {"s": CaseStatus(data["to_status"]).label}
        )
    return redirect("dropout:case", pk=case.pk)


@login_required
@require_POST
@permission_required("dropout.change_dropoutcase", raise_exception=True)
def case_plan(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for_update(request, pk)
    form = PlanForm(request.POST, user=request.user)
    if not form.is_valid():
        _form_messages(request, form)
        return redirect("dropout:case", pk=case.pk)
    try:
        services.case_update_plan(case=case, user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("已保存帮扶方案。"))
    return redirect("dropout:case", pk=case.pk)


@login_required
@require_http_methods(["GET", "POST"])
@permission_required("dropout.view_dropoutcase", raise_exception=True)
def ledger_export(request: HttpRequest) -> HttpResponse:
    """The case ledger of the current filters (in the query string). Masked; full ID
    numbers and names only on a POST with a reason by a user allowed to export personal
    data, and that export is logged (tasks.privacy)."""
    _form, values = _filters(request)
    cases = selectors.case_list(request.user, today=today(), **values)
    reveal = False
    if request.method == "POST":
        form = FullExportForm(request.POST)
        if not form.is_valid():
            _form_messages(request, form)
            return redirect(f"{reverse('dropout:cases')}?{request.GET.urlencode()}")
        reveal = personal_data_export_allowed(
            user=request.user,
            what=f"控辍保学台账 {request.GET.urlencode()}",
            rows=cases.count(),
            reason=form.cleaned_data["reason"],
            request=request,
        )
    data = xlsx_bytes(
        [("控辍保学台账", selectors.LEDGER_HEADERS, selectors.ledger_rows(cases, reveal=reveal))],
        column_widths={"身份证号": 22, "帮扶措施": 40, "核查发现": 28, "结果说明": 30},
    )
    return download(data, f"控辍保学台账{'-完整' if reveal else ''}-{today():%Y%m%d}.xlsx")


@login_required
@require_POST
@permission_required("dropout.change_dropoutcase", raise_exception=True)
def crosscheck_start(request: HttpRequest) -> HttpResponse:
    from .jobs import crosscheck_county

    form = RunCheckForm(request.POST, user=request.user)
    if not form.is_valid():
        _form_messages(request, form)
        return redirect("dropout:dashboard")
    county = form.cleaned_data["county"]
    as_of = form.cleaned_data["as_of"]
    crosscheck_county.delay_on_commit(  # type: ignore[attr-defined]
        county.pk, as_of.isoformat(), f"web:{request.user.get_username()}"
    )
    messages.success(
        request,
        _("已提交 %(county)s %(date)s 的数据比对核查，完成后新发现的个案将出现在个案列表中。")
        % {"county": county.current_name(), "date": f"{as_of:%Y-%m-%d}"},
    )
    return redirect("dropout:dashboard")
