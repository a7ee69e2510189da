from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tasks import params
from tasks.clock import today
from tasks.downloads import CSV, DOCX, XLSX, download
from tasks.models import RosterStudent, School
from tasks.privacy import personal_data_export_allowed
from tasks.scoping import user_scope
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from . import selectors, services
from .forms import DeliveryForm, OmissionFilterForm, PersonalExportForm
from .models import Notice, Semester

VIEW = "subsidies.view_disbursement"


def _semester(request: HttpRequest) -> Semester:
    """The semester asked for; an unknown one is named in a message and the current
    semester shown instead."""
    code = request.POST.get("semester") if request.method == "POST" else None
    if code:
        semester = Semester.objects.filter(code=code).first()
        if semester is None:
            raise Http404(_("未知学期：%(code)s") % {"code": code})
        return semester
    chosen = params.choice(request, "semester", _("学期"), Semester.objects.all(), field="code")
    if chosen is not None:
        return chosen
    semester = selectors.semester_current(today())
    if semester is None:
        raise Http404(_("尚未设置学期，请管理员先运行 load_plan 或在后台添加学期。"))
    return semester


def _full_ids(request: HttpRequest, *, what: str, rows: Any) -> bool:
    """Whether this download may carry full names and ID numbers: only a POST with a
    reason from a user with `tasks.export_personal_data`; logged when it does. `rows` is
    called only then (it costs a count)."""
    if request.method != "POST" or not request.user.has_perm("tasks.export_personal_data"):
        return False
    reason = PersonalExportForm(request.POST).reason_text()
    if not reason:
        return False
    return personal_data_export_allowed(
        user=request.user, what=what, rows=rows(), reason=reason, request=request
    )


def _filter_form(request: HttpRequest, semester: Semester) -> OmissionFilterForm:
    if request.method == "GET":
        return params.filter_form(request, OmissionFilterForm, user=request.user, semester=semester)
    form = OmissionFilterForm(request.POST or None, user=request.user, semester=semester)
    form.is_valid()
    return form


@login_required
@permission_required(VIEW, raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    semester = _semester(request)
    form = _filter_form(request, semester)
    county = form.cleaned_data.get("county") if form.is_bound else None
    scope = user_scope(request.user)
    figures = selectors.semester_figures(
        semester=semester, scope=scope, county_id=county.pk if county else None
    )
    total = figures[-1]
    report = selectors.omission_check(
        semester=semester,
        scope=scope,
        filters=selectors.OmissionFilters(county_id=county.pk if county else None),
        page_size=1,
    )
    day = today()
    stage_rows = [
        (stage, counts[0], counts[1], round(counts[1] * 100 / counts[0], 1) if counts[0] else None)
        for stage in selectors.STAGES
        if (counts := total.by_stage.get(stage))
    ]
    chart = {
        "counties": [f.county_name for f in figures[:-1]],
        "coverage": [f.coverage_rate for f in figures[:-1]],
        "top": [f.top_rate for f in figures[:-1]],
        "informed": [f.informed_rate for f in figures[:-1]],
        "stages": [row[0] for row in stage_rows],
        "stage_coverage": [row[3] for row in stage_rows],
    }
    return render(
        request,
        "subsidies/dashboard.html",
        {
            "semester": semester,
            "semesters": Semester.objects.order_by("start"),
            "form": form,
            "figures": figures[:-1],
            "total": total,
            "report": report,
            "stage_rows": stage_rows,
            "days_left": (semester.deadline - day).days,
            "today": day,
            "chart": chart,
            "query": urlencode(
                {"semester": semester.code, **({"county": county.pk} if county else {})}
            ),
        },
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def omissions(request: HttpRequest) -> HttpResponse:
    semester = _semester(request)
    form = _filter_form(request, semester)
    filters, kind = form.filters(), form.chosen_kind()
    page = params.number(request, "page", _("页码"), default=1)
    report = selectors.omission_check(
        semester=semester, scope=user_scope(request.user), filters=filters, kind=kind, page=page
    )
    keep = {k: v for k, v in request.GET.items() if k != "page" and v}
    keep.setdefault("semester", semester.code)
    students = dict(
        RosterStudent.objects.for_user(request.user)
        .filter(id_number__in=[r.id_number for r in report.rows])
        .values_list("id_number", "pk")
    )
    rows = [
        (r, students.get(r.id_number), mask_name(r.name), mask_id_number(r.id_number))
        for r in report.rows
    ]
    return render(
        request,
        "subsidies/omissions.html",
        {
            "semester": semester,
            "semesters": Semester.objects.order_by("start"),
            "form": form,
            "report": report,
            "rows": rows,
            "kinds": selectors.KINDS,
            "query": urlencode(keep),
            "export_params": sorted(keep.items()),
            "prev_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if page < report.pages else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@permission_required(VIEW, raise_exception=True)
def omissions_xlsx(request: HttpRequest) -> HttpResponse:
    """The findings as .xlsx; masked unless posted with a reason by a user who may export
    personal data (see `_full_ids`)."""
    semester = _semester(request)
    form = _filter_form(request, semester)
    scope, filters, kind = user_scope(request.user), form.filters(), form.chosen_kind()
    full_ids = _full_ids(
        request,
        what=f"查遗补漏 {semester.code}",
        rows=lambda: (
            selectors.omission_check(
                semester=semester, scope=scope, filters=filters, kind=kind, page_size=1
            ).total_rows
        ),
    )
    rows = selectors.omission_rows(semester=semester, scope=scope, filters=filters, kind=kind)
    buffer = io.BytesIO()
    services.omissions_xlsx(rows=rows, target=buffer, full_ids=full_ids)
    return download(buffer.getvalue(), f"查遗补漏-{semester.code}.xlsx", XLSX)


@login_required
@permission_required(VIEW, raise_exception=True)
def student(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        found = selectors.student_get(user=request.user, pk=pk)
    except RosterStudent.DoesNotExist:
        raise Http404(_("未找到该学生，或不属于本单位。")) from None
    semesters = list(Semester.objects.order_by("start"))
    notices = {n.semester_id: n for n in Notice.objects.filter(student=found)}
    return render(
        request,
        "subsidies/student.html",
        {
            "student": found,
            "masked_id": mask_id_number(found.id_number),
            "masked_name": mask_name(found.name),
            "payments": selectors.student_payments(student=found),
            "notices": [(s, notices.get(s.pk)) for s in semesters],
            "form": DeliveryForm(
                initial={"semester": semesters[-1].code if semesters else "", "on": today()}
            ),
            "can_record": request.user.has_perm("subsidies.change_notice"),
        },
    )


@login_required
@require_POST
@permission_required("subsidies.change_notice", raise_exception=True)
def notice_record(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(RosterStudent.objects.for_user(request.user), pk=pk)
    form = DeliveryForm(request.POST)
    if form.is_valid():
        try:
            services.notice_record_delivery(
                user=request.user,
                student=found,
                semester=form.cleaned_data["semester"],
                way=form.cleaned_data["way"],
                on=form.cleaned_data["on"],
                handled_by=form.cleaned_data["handled_by"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("已登记告知情况。"))
    else:
        for field_errors in form.errors.values():
            for field_error in field_errors:
                messages.error(request, str(field_error))
    return redirect("subsidies:student", pk=pk)


NOTICES_PER_PAGE = 50


@login_required
@permission_required(VIEW, raise_exception=True)
def notices(request: HttpRequest) -> HttpResponse:
    semester = _semester(request)
    scope = user_scope(request.user)
    schools = School.objects.for_user(request.user).order_by("county__order", "order", "name")
    students = (
        RosterStudent.objects.for_user(request.user)
        .filter(is_active=True)
        .select_related("school", "county")
    )
    school = params.choice(request, "school", _("学校"), schools)
    if school is not None:
        students = students.filter(school=school)
    figures = selectors.semester_figures(semester=semester, scope=scope)
    page = params.page(
        request, Paginator(students.order_by("school__order", "id_number"), NOTICES_PER_PAGE)
    )
    page_students = list(page.object_list)
    keep = {"semester": semester.code, **({"school": school.pk} if school else {})}
    notices_by_student = {
        n.student_id: n for n in Notice.objects.filter(semester=semester, student__in=page_students)
    }
    return render(
        request,
        "subsidies/notices.html",
        {
            "semester": semester,
            "semesters": Semester.objects.order_by("start"),
            "schools": schools,
            "school": school,
            "figures": figures,
            "students": [
                (s, mask_name(s.name), mask_id_number(s.id_number), notices_by_student.get(s.pk))
                for s in page_students
            ],
            "page": page,
            "query": urlencode(keep),
        },
    )


# Generating a notice records it (Notice.generated_at, its history): a POST, so that no
# link prefetch, crawler or reload writes records.
@login_required
@require_POST
@permission_required(VIEW, raise_exception=True)
def notice_docx(request: HttpRequest, pk: int) -> HttpResponse:
    semester = _semester(request)
    found = get_object_or_404(
        RosterStudent.objects.for_user(request.user).select_related("school"), pk=pk
    )
    content = services.notices_generate(user=request.user, semester=semester, students=[found])
    return download(content, f"资助信息告知单-{semester.code}-{mask_name(found.name)}.docx", DOCX)


@login_required
@require_POST
@permission_required(VIEW, raise_exception=True)
def school_notices_docx(request: HttpRequest, pk: int) -> HttpResponse:
    semester = _semester(request)
    school = get_object_or_404(School.objects.for_user(request.user), pk=pk)
    students = list(
        RosterStudent.objects.for_user(request.user)
        .filter(school=school, is_active=True)
        .select_related("school")
        .order_by("grade", "id_number")
    )
    if not students:
        messages.error(request, _("%(school)s 没有在册的建档立卡学生。") % {"school": school.name})
        return redirect(f"{reverse('subsidies:notices')}?{urlencode({'semester': semester.code})}")
    content = services.notices_generate(user=request.user, semester=semester, students=students)
    return download(content, f"资助信息告知单-{semester.code}-{school.name}.docx", DOCX)


@login_required
@require_http_methods(["GET", "POST"])
@permission_required(VIEW, raise_exception=True)
def export(request: HttpRequest) -> HttpResponse:
    """The semester export (task 7); masked unless posted with a reason by a user who may
    export personal data (see `_full_ids`)."""
    semester = _semester(request)
    scope = user_scope(request.user)
    name = f"建档立卡学生资助信息-{semester.code}"
    full_ids = _full_ids(
        request,
        what=name,
        rows=lambda: RosterStudent.objects.for_user(request.user).filter(is_active=True).count(),
    )
    if (request.GET.get("format") or request.POST.get("format")) == "csv":
        return download(
            services.export_semester_csv(semester=semester, scope=scope, full_ids=full_ids),
            f"{name}.csv",
            CSV,
        )
    buffer = io.BytesIO()
    services.export_semester_xlsx(semester=semester, scope=scope, full_ids=full_ids, target=buffer)
    return download(buffer.getvalue(), f"{name}.xlsx", XLSX)
