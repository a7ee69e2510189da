"""Pages of the employment ledger (task 14). Thin: fetch through the user's scope,
validate a form, call a service, redirect with a message."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tasks import params
from tasks.clock import today
from tasks.downloads import download
from tasks.scoping import user_scope
from xc_fupin.lib.export import xlsx_bytes
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from . import selectors, services
from .forms import GraduateFilterForm, GuidanceForm
from .models import GUIDANCE_DAYS, Destination, Graduate


def _filters(request: HttpRequest) -> tuple[GraduateFilterForm, dict[str, Any]]:
    form = params.filter_form(request, GraduateFilterForm, user=request.user)
    values: dict[str, Any] = {}
    if form.is_bound:  # always valid: bad values were dropped and named on the page
        data = form.cleaned_data
        values = {
            "county": data["county"].pk if data["county"] else None,
            "school": data["school"].pk if data["school"] else None,
            "destination": data["destination"] or None,
            "flagged_only": data["flagged"],
        }
    return form, values


def _reveal_url(graduate: Graduate, back: str) -> str:
    url = reverse("tasks:reveal", args=[Graduate._meta.label, graduate.pk])
    return f"{url}?{urlencode({'next': back})}"


def can_add_guidance(user: Any) -> bool:
    """Guidance is recorded by the county or the school that answers for the graduate,
    not by the city (which reads the ledger)."""
    return user.has_perm("employment.add_guidancerecord") and not user_scope(user).sees_all


@login_required
@permission_required("employment.view_graduate", raise_exception=True)
def ledger(request: HttpRequest) -> HttpResponse:
    day = today()
    form, values = _filters(request)
    visible = Graduate.objects.for_user(request.user)
    county_rows = selectors.counts_by_county(visible, day)
    within = visible.filter(county_id=values["county"]) if values.get("county") else visible
    school_rows = selectors.counts_by_school(within, day)
    qs = selectors.graduates(request.user, today=day, **values)
    page = params.page(request, Paginator(qs, 50))
    rows = [
        {
            "g": g,
            "id_masked": mask_id_number(g.id_number),
            "name_masked": mask_name(g.name),
            "flagged": g.needs_guidance(day),
        }
        for g in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "employment/ledger.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "destinations": list(Destination),
            "county_rows": county_rows,
            "county_total": selectors.total(county_rows),
            "school_rows": school_rows,
            "school_total": selectors.total(school_rows),
            "days": GUIDANCE_DAYS,
            "sees_all": user_scope(request.user).sees_all,
            "can_import": request.user.has_perm("employment.add_graduate"),
        },
    )


@login_required
@permission_required("employment.view_graduate", raise_exception=True)
def graduate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    graduate = get_object_or_404(
        Graduate.objects.for_user(request.user).select_related(
            "school", "county", "household_county", "upload"
        ),
        pk=pk,
    )
    day = today()
    return render(
        request,
        "employment/graduate.html",
        {
            "g": graduate,
            # Masked for everyone; the full record is on the shared, logged reveal page.
            "id_shown": mask_id_number(graduate.id_number),
            "name_shown": mask_name(graduate.name),
            "phone_shown": mask_id_number(graduate.phone) if graduate.phone else "",
            "can_reveal": request.user.has_perm("tasks.reveal_personal_data"),
            "reveal_url": _reveal_url(graduate, request.get_full_path()),
            "flagged": graduate.needs_guidance(day),
            "days": GUIDANCE_DAYS,
            "records": graduate.guidance.select_related("recorded_by"),
            "can_guide": can_add_guidance(request.user) and not graduate.is_employed,
            "form": GuidanceForm(initial={"given_on": day}),
        },
    )


@login_required
@require_POST
@permission_required("employment.add_guidancerecord", raise_exception=True)
def guidance_add(request: HttpRequest, pk: int) -> HttpResponse:
    graduate = get_object_or_404(Graduate.objects.for_user(request.user), pk=pk)
    if not can_add_guidance(request.user):
        raise PermissionDenied(_("就业指导由县市区教体局或学校记录。"))
    form = GuidanceForm(request.POST)
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}：{error}" if label else str(error))
        return redirect("employment:graduate", pk=graduate.pk)
    try:
        services.guidance_record(graduate=graduate, user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("已记录%(d)s的就业指导。") % {"d": f"{form.cleaned_data['given_on']:%Y-%m-%d}"},
        )
    return redirect("employment:graduate", pk=graduate.pk)


@login_required
@permission_required("employment.view_graduate", raise_exception=True)
def ledger_export(request: HttpRequest) -> HttpResponse:
    """The ledger of the current filters (query string), personal data masked."""
    day = today()
    _form, values = _filters(request)
    qs = selectors.graduates(request.user, today=day, **values)
    counties = selectors.counts_by_county(Graduate.objects.for_user(request.user), day)
    count_headers = ["县市区", "毕业生", *Destination.values, "30天未指导"]
    count_rows = [[r.label, r.total, *r.cells, r.flagged] for r in counties]
    t = selectors.total(counties)
    count_rows.append([t.label, t.total, *t.cells, t.flagged])
    data = xlsx_bytes(
        [
            ("就业台账", selectors.LEDGER_HEADERS, selectors.ledger_rows(qs, day)),
            ("分县区统计", count_headers, count_rows),
        ],
        column_widths={"身份证号": 22, "学校": 24, "就业单位": 24, "就业地点": 18},
    )
    return download(data, f"建档立卡学生就业台账-{day:%Y%m%d}.xlsx")
