from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from tasks import params
from tasks.clock import today
from tasks.downloads import download
from xc_fupin.lib.export import xlsx_bytes

from . import selectors, services
from .forms import (
    CATEGORIES,
    AnswerForm,
    FeedbackForm,
    FindingForm,
    FindingFormSet,
    InspectionForm,
    ItemFilterForm,
    ReviewForm,
)
from .models import FEEDBACK_PLAN_TITLE, ItemEvidence, Status

VIEW = "inspections.view_rectificationitem"


def _form_errors_from(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _filtered(request: HttpRequest) -> tuple[ItemFilterForm, Any]:
    """The user's items narrowed by the filter form; an invalid filter value is named
    on the page and ignored (the other filters still apply, never another scope)."""
    form = params.filter_form(request, ItemFilterForm, units=selectors.item_units_for(request.user))
    qs = selectors.items_for(request.user)
    if form.is_bound:
        d = form.cleaned_data
        qs = selectors.items_filtered(
            qs,
            day=today(),
            unit=d["unit"],
            source=d["source"],
            status=d["status"],
            overdue=d["overdue"],
        )
    return form, qs


@login_required
@permission_required(VIEW, raise_exception=True)
def item_list(request: HttpRequest) -> HttpResponse:
    day = today()
    form, qs = _filtered(request)
    return render(
        request,
        "inspections/list.html",
        {
            "form": form,
            "items": list(qs[:500]),
            "totals": selectors.totals(selectors.items_for(request.user), day),
            "inspections": list(selectors.inspections_for(request.user)[:50]),
            "feedback": list(selectors.feedback_for(request.user)),
            "may_raise": selectors.user_may_raise(request.user),
            "query": request.GET.urlencode(),
            "today": day,
        },
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def my_items(request: HttpRequest) -> HttpResponse:
    day = today()
    qs = selectors.items_for(request.user).filter(unit_id__in=selectors.own_unit_ids(request.user))
    return render(
        request,
        "inspections/mine.html",
        {"items": list(qs), "totals": selectors.totals(qs, day), "today": day},
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = get_object_or_404(selectors.inspections_for(request.user), pk=pk)
    may_raise = selectors.user_may_raise(request.user)
    finding_form = FindingForm(prefix="f") if may_raise else None
    if request.method == "POST":
        if not may_raise:
            raise PermissionDenied
        finding_form = FindingForm(request.POST, prefix="f")
        if finding_form.is_valid() and not finding_form.cleaned_data["empty"]:
            d = finding_form.cleaned_data
            try:
                services.finding_add(
                    user=request.user,
                    inspection=inspection,
                    finding=services.FindingData(
                        d["unit"], d["category"], d["problem"], d["requirement"], d["due_on"]
                    ),
                )
            except ValidationError as exc:
                _form_errors_from(finding_form, exc)
            else:
                messages.success(request, _("已新增发现问题，责任单位将看到整改要求。"))
                return redirect("inspections:inspection", pk=inspection.pk)
        elif finding_form.is_valid():
            finding_form.add_error(None, _("请填写发现问题的各项内容。"))
    return render(
        request,
        "inspections/inspection.html",
        {
            "inspection": inspection,
            "items": list(selectors.items_for(request.user).filter(inspection=inspection)),
            "finding_form": finding_form,
            "categories": CATEGORIES,
            "today": today(),
        },
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(selectors.items_for(request.user), pk=pk)
    may_answer = selectors.user_may_answer(request.user, item) and item.status in {
        Status.OPEN,
        Status.RETURNED,
    }
    may_review = selectors.user_may_review(request.user) and item.status == Status.ANSWERED
    answer_form = AnswerForm() if may_answer else None
    review_form = ReviewForm() if may_review else None
    if request.method == "POST":
        try:
            if request.POST.get("do") == "answer" and may_answer:
                answer_form = AnswerForm(request.POST, request.FILES)
                if answer_form.is_valid():
                    services.item_answer(
                        user=request.user,
                        item=item,
                        answer=answer_form.cleaned_data["answer"],
                        files=answer_form.cleaned_data["evidence"],
                    )
                    messages.success(request, _("已报告整改情况，等待市局审核销号。"))
                    return redirect("inspections:item", pk=item.pk)
            elif request.POST.get("do") == "review" and may_review:
                review_form = ReviewForm(request.POST)
                if review_form.is_valid():
                    d = review_form.cleaned_data
                    if d["decision"] == "close":
                        services.item_close(user=request.user, item=item, comment=d["comment"])
                        messages.success(request, _("已销号。"))
                    else:
                        services.item_return(user=request.user, item=item, comment=d["comment"])
                        messages.success(request, _("已退回，责任单位将看到退回意见。"))
                    return redirect("inspections:item", pk=item.pk)
            else:
                messages.error(request, _("该事项当前不能进行此操作。"))
                return redirect("inspections:item", pk=item.pk)
        except ValidationError as exc:
            target = answer_form if request.POST.get("do") == "answer" else review_form
            if target is not None:
                _form_errors_from(target, exc)
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("您不能进行此操作。"))
            return redirect("inspections:item", pk=item.pk)
    return render(
        request,
        "inspections/item.html",
        {
            "item": item,
            "events": selectors.timeline(item),
            "answer_form": answer_form,
            "review_form": review_form,
            "overdue": item.is_overdue(today()),
            "feedback_plan_title": FEEDBACK_PLAN_TITLE,
            "max_mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024),
        },
    )


@login_required
def inspection_new(request: HttpRequest) -> HttpResponse:
    if not selectors.user_may_raise(request.user):
        raise PermissionDenied
    form = InspectionForm(request.POST or None)
    findings = FindingFormSet(request.POST or None, prefix="f")
    if request.method == "POST" and form.is_valid() and findings.is_valid():
        d = form.cleaned_data
        rows = [
            services.FindingData(
                f["unit"], f["category"], f["problem"], f["requirement"], f["due_on"]
            )
            for f in findings.cleaned_data
            if f and not f.get("empty")
        ]
        try:
            inspection = services.inspection_create(
                user=request.user,
                kind=d["kind"],
                visited_on=d["visited_on"],
                team=d["team"],
                places=d["places"],
                units=list(d["units"]),
                note=d["note"],
                findings=rows,
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(
                request,
                _("已登记%(k)s，下发整改事项 %(n)s 条。")
                % {"k": inspection.get_kind_display(), "n": len(rows)},
            )
            return redirect("inspections:inspection", pk=inspection.pk)
    return render(
        request,
        "inspections/inspection_form.html",
        {"form": form, "findings": findings, "categories": CATEGORIES},
    )


@login_required
def feedback_new(request: HttpRequest) -> HttpResponse:
    if not selectors.user_may_raise(request.user):
        raise PermissionDenied
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            feedback = services.feedback_create(
                user=request.user,
                number=d["number"],
                text=d["text"],
                measures=d["measures"],
                units=form.units(),
                due_on=d["due_on"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(
                request,
                _("已登记反馈意见第%(n)s项，下发责任单位 %(u)s 个。")
                % {"n": feedback.number, "u": feedback.items.count()},
            )
            return redirect(f"{reverse('inspections:list')}?source=feedback")
    return render(request, "inspections/feedback_form.html", {"form": form})


@login_required
@permission_required(VIEW, raise_exception=True)
def ledger_xlsx(request: HttpRequest) -> HttpResponse:
    """The 整改台账 of the items the user sees, narrowed by the list's filters."""
    _form, qs = _filtered(request)
    data = xlsx_bytes([("整改台账", selectors.LEDGER_HEADERS, selectors.ledger_rows(qs, today()))])
    return download(data, f"整改台账{today():%Y%m%d}.xlsx")


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    return get_object_or_404(ItemEvidence.objects.for_user(request.user), pk=pk).response()
