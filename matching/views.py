"""The matching page (名册比对): run it for the city or a county, watch it, read what it
found. Thin: the scope decides what is shown, the service does the work (in a job)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from subsidies.models import Semester
from subsidies.selectors import semester_current
from tasks.clock import today
from tasks.scoping import user_scope
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from . import selectors, services
from .forms import RunForm, counties_for_user
from .jobs import roster_match_job
from .models import FindingKind, MatchRun


def _semester(request: HttpRequest) -> Semester | None:
    code = request.GET.get("semester", "")
    found = Semester.objects.filter(code=code).first() if code else None
    return found or semester_current(today())


@login_required
@permission_required("matching.view_matchfinding", raise_exception=True)
def page(request: HttpRequest) -> HttpResponse:
    scope = user_scope(request.user)
    counties = list(counties_for_user(request.user))
    if not counties:
        raise PermissionDenied(_("名册比对按县市区进行，本单位不适用"))
    semester = _semester(request)
    if semester is None:
        return render(request, "matching/roster_match.html", {"semester": None})
    kind = request.GET.get("kind", "")
    kinds = dict(FindingKind.choices)
    if kind not in kinds:
        kind = ""
    rows = selectors.county_rows(semester=semester, counties=counties)
    found = selectors.findings(semester=semester, scope=scope, kind=kind or None)
    pager = Paginator(found, 50)
    page_obj = pager.get_page(request.GET.get("page"))
    shown = [
        {
            "county": f.county.current_name(),
            "id_number": mask_id_number(f.id_number),
            "name": mask_name(f.name),
            "place": f"{f.township}{f.village}",
            "household": f.household_number,
            "kind": f.get_kind_display(),
            "school_status": f.school_status,
            "poverty_status": f.poverty_status,
            "school": f.school.name if f.school else "",
            "grade": f.grade,
            "reason": f.reason,
        }
        for f in page_obj.object_list
    ]
    runs = list(selectors.runs(scope=scope, semester=semester)[:10])
    busy = next((r for r in runs if r.is_busy), None)
    form = RunForm(
        user=request.user,
        initial={"semester": semester, "county": counties[0] if not scope.sees_all else None},
    )
    totals = {
        "roster": sum(r.roster for r in rows),
        "unmatched": sum(r.unmatched for r in rows),
        "mismatches": sum(r.mismatches for r in rows),
        "apart": sum(r.apart for r in rows),
    }
    return render(
        request,
        "matching/roster_match.html",
        {
            "semester": semester,
            "semesters": Semester.objects.order_by("start"),
            "rows": rows,
            "totals": totals,
            "findings": shown,
            "page_obj": page_obj,
            "kind": kind,
            "kinds": list(FindingKind.choices),
            "runs": runs,
            "busy": busy,
            "form": form,
            "can_run": request.user.has_perm("matching.add_matchrun"),
            "query": urlencode({"semester": semester.code, "kind": kind}),
        },
    )


@login_required
@require_POST
@permission_required("matching.add_matchrun", raise_exception=True)
def run_start(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("matching:page")
    semester, county = form.cleaned_data["semester"], form.cleaned_data["county"]
    run = services.run_start(
        user=request.user, scope=user_scope(request.user), semester=semester, county=county
    )
    roster_match_job.delay_on_commit(run.pk)  # type: ignore[attr-defined]
    messages.success(
        request,
        _("已提交 %(semester)s（%(where)s）的名册比对，完成后结果显示在本页。")
        % {"semester": semester.code, "where": county.current_name() if county else _("全市")},
    )
    return redirect(f"{reverse('matching:page')}?{urlencode({'semester': semester.code})}")


@login_required
@permission_required("matching.view_matchfinding", raise_exception=True)
def run_status(request: HttpRequest, pk: int) -> JsonResponse:
    run: Any = get_object_or_404(_visible_runs(request), pk=pk)
    return JsonResponse(
        {
            "state": run.state,
            "state_label": run.get_state_display(),
            "stage": run.progress_stage,
            "done": run.progress_done,
            "total": run.progress_total,
            "percent": run.percent,
            "busy": run.is_busy,
            "stalled": False,
        }
    )


def _visible_runs(request: HttpRequest) -> Any:
    scope = user_scope(request.user)
    if scope.sees_all:
        return MatchRun.objects.all()
    if scope.county_id is not None:
        return MatchRun.objects.filter(county_id=scope.county_id) | MatchRun.objects.filter(
            county__isnull=True
        )
    return MatchRun.objects.none()
