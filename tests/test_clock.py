"""One clock: with the demo date set, everything the app writes is stamped on that date."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import models
from django.test import Client
from openpyxl import Workbook

from dropout.models import CaseStatus, DropoutCase
from dropout.services import case_transition, crosscheck_run
from intake.models import Upload
from intake.services import upload_apply, upload_confirm, upload_store, upload_validate
from reports.build import report_build
from reports.models import MonthlySubmission, Report, SubmissionEvent
from reports.services import submission_submit
from subsidies.models import Disbursement
from subsidies.services import standards_load
from tasks import audit, clock
from tasks.models import County, Unit, User
from xc_fupin.lib.idnumber import make_id_number

from .dropout.builders import enrol, household, kid

DEMO_DAY = dt.date(2019, 6, 16)


@pytest.fixture
def demo_clock(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    monkeypatch.setenv("XC_TODAY", DEMO_DAY.isoformat())
    return DEMO_DAY


def local_day(value: dt.datetime) -> dt.date:
    return value.astimezone(clock.now().tzinfo).date()


def history_days(obj: models.Model) -> set[dt.date]:
    # `pk` of a historical row is its history_id; the object's own key is `id`.
    rows = audit.history_manager(type(obj)).filter(id=obj.pk)
    days = {local_day(h.history_date) for h in rows}
    assert days, f"{type(obj).__name__} #{obj.pk} has no history rows"
    return days


def test_it_stamps_now_with_the_demo_date_and_the_real_time_of_day(demo_clock: dt.date) -> None:
    now = clock.now()
    assert now.date() == DEMO_DAY
    assert clock.today() == DEMO_DAY
    assert now.utcoffset() == dt.timedelta(hours=8)  # Asia/Shanghai
    real = dt.datetime.now(dt.UTC).astimezone(now.tzinfo)
    assert abs((real.replace(year=2019, month=6, day=16) - now).total_seconds()) < 60


def test_it_uses_the_real_date_without_a_demo_date() -> None:
    assert clock.now().date() == dt.datetime.now(dt.UTC).astimezone(clock.now().tzinfo).date()


def _payment_sheet(id_number: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["身份证号", "姓名", "就读学校", "资助项目", "学期", "金额(元)", "发放日期"])
    ws.append(
        [
            id_number,
            "张小明",
            "宣州区实验小学",
            "义务教育家庭经济困难学生生活补助",
            "2019春",
            250,
            "2019-06-10",
        ]
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_stamps_an_upload_a_submission_a_case_move_and_a_report_on_the_demo_date(
    demo_clock: dt.date, xuanzhou_staff: User, xuanzhou_school: Any
) -> None:
    standards_load()
    bureau = Unit.objects.get(code="xuanzhou-jtj")

    # An upload, validated and applied: every stamp and the rows it wrote.
    payee = make_id_number("341802", dt.date(2010, 1, 1), 123)
    upload = upload_store(
        user=xuanzhou_staff,
        kind="disbursements",
        content=_payment_sheet(payee),
        filename="发放.xlsx",
        unit=bureau,
        period=dt.date(2019, 6, 1),
    )
    upload_validate(upload.pk)
    upload_confirm(user=xuanzhou_staff, upload=Upload.objects.get(pk=upload.pk))
    upload = upload_apply(upload.pk)
    assert upload.state == Upload.State.APPLIED, upload.errors
    assert upload.created_at and upload.validated_at and upload.applied_at
    assert {local_day(upload.created_at), local_day(upload.validated_at)} == {DEMO_DAY}
    assert local_day(upload.applied_at) == DEMO_DAY
    assert "/2019/06/" in upload.file.name
    payment = Disbursement.objects.get(upload=upload)
    assert local_day(payment.created_at) == DEMO_DAY
    assert history_days(upload) == history_days(payment) == {DEMO_DAY}

    # The May report, submitted today.
    submission = submission_submit(
        user=xuanzhou_staff, unit=bureau, period=dt.date(2019, 5, 1), narrative="已按要求汇总。"
    )
    assert submission.submitted_at and submission.first_submitted_at
    assert local_day(submission.submitted_at) == DEMO_DAY
    event = SubmissionEvent.objects.get(submission=submission)
    assert local_day(event.at) == DEMO_DAY
    assert history_days(MonthlySubmission.objects.get(pk=submission.pk)) == {DEMO_DAY}
    assert history_days(event) == {DEMO_DAY}

    # A dropout case opened by the cross-check and moved one step.
    enrol(kid("2010-01-01", 50), "在读生", xuanzhou_school, as_of="2019-05-31")
    household(kid("2009-05-01", 77), "李小红", as_of="2019-05-31")
    crosscheck_run(county=County.objects.get(slug="xuanzhou"), as_of=dt.date(2019, 5, 31))
    case = DropoutCase.objects.get()
    assert case.opened_on == DEMO_DAY
    change = case_transition(
        case=case, user=xuanzhou_staff, to_status=CaseStatus.VERIFIED, cause="因贫"
    )
    case.refresh_from_db()
    assert local_day(change.changed_at) == local_day(case.updated_at) == DEMO_DAY
    assert history_days(case) == history_days(change) == {DEMO_DAY}

    # A login.
    Client().force_login(xuanzhou_staff)
    xuanzhou_staff.refresh_from_db()
    assert xuanzhou_staff.last_login and local_day(xuanzhou_staff.last_login) == DEMO_DAY

    # The May review built today.
    report = report_build(kind=Report.Kind.MONTHLY, period=dt.date(2019, 5, 1))
    assert report.generated_at and local_day(report.generated_at) == DEMO_DAY
    assert local_day(report.created_at) == DEMO_DAY
    assert history_days(report) == {DEMO_DAY}


# Files that may read the real clock: the clock itself, and pure helpers that take
# "today" as an argument from their callers.
ALLOWED = {Path("tasks/clock.py")}
DIRECT_CLOCK = re.compile(
    r"timezone\.now\b|localdate\(|date\.today\(|datetime\.now\(|datetime\.today\("
    r"|models\.DateTimeField\([^)]*auto_now"
)


def test_it_finds_no_direct_clock_reads_in_app_code() -> None:
    root = Path(settings.BASE_DIR)
    apps = [
        root / name
        for name in settings.INSTALLED_APPS
        if "." not in name and (root / name).is_dir()
    ]
    assert Path(root / "tasks") in apps
    offenders = []
    for app in apps:
        for path in app.rglob("*.py"):
            rel = path.relative_to(root)
            if rel in ALLOWED or "migrations" in rel.parts:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if DIRECT_CLOCK.search(line) and not line.lstrip().startswith("#"):
                    offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "use tasks.clock.now()/today():\n" + "\n".join(offenders)
