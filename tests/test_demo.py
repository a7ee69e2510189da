"""The demo tells one consistent story as of its clock (XC_TODAY=2019-06-16)."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.test import Client

from intake.models import Upload
from reports.models import MonthlySubmission
from subsidies.models import Disbursement
from tasks.models import User

DEMO_DAY = dt.date(2019, 6, 16)
PROJECT_APPS = {"tasks", "subsidies", "dropout", "reports", "inspections", "intake", "employment"}
# Dates that are plans, not events: deadlines, validity ranges, and the next step a case
# worker has scheduled. Everything else (when something was paid, told, uploaded,
# reviewed, generated …) must not lie after the demo day.
SCHEDULES = {
    "deadline.due_on",
    "deadline.period_start",
    "deadline.period_end",
    "semester.start",
    "semester.end",
    "subsidystandard.valid_from",
    "subsidystandard.valid_to",
    "reportingunit.valid_from",
    "reportingunit.valid_to",
    "countycode.valid_from",
    "countycode.valid_to",
    "dropoutcase.next_follow_up_due",
    "casefollowup.next_due",
    "graduate.next_guidance_on",
    "guidancerecord.next_on",
    "escalation.due_on",
    "monthlysubmission.due_on",
    "breach.due_on",
    "escalation.answer_due",
    "feedback.due_on",
    "rectificationitem.due_on",
    # Lease times of an upload's job: compared with the database's own clock across
    # machines (intake/services.py), not dates of the story.
    "upload.queued_at",
    "upload.heartbeat_at",
}


def _models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS]


def _schedule(model: type[models.Model], field: str) -> bool:
    name = model._meta.model_name or ""
    return f"{name.removeprefix('historical')}.{field}" in SCHEDULES


@pytest.fixture
def demo(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # As scripts/run does it: the plan and the demo loaded on the demo clock.
    monkeypatch.setenv("XC_TODAY", DEMO_DAY.isoformat())
    call_command("load_plan", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())


def _counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in _models()}


@pytest.mark.django_db
def test_nothing_in_the_demo_is_dated_after_its_day(demo: None) -> None:
    end = dt.datetime(2019, 6, 17, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    late: list[str] = []
    checked = 0
    for model in _models():
        for field in model._meta.concrete_fields:
            if _schedule(model, field.name):
                continue
            if isinstance(field, models.DateTimeField):
                bound: Any = end
            elif isinstance(field, models.DateField):
                bound = DEMO_DAY + dt.timedelta(days=1)
            else:
                continue
            checked += 1
            n = model._default_manager.filter(**{f"{field.name}__gte": bound}).count()
            if n:
                sample = (
                    model._default_manager.filter(**{f"{field.name}__gte": bound})
                    .values_list(field.name, flat=True)
                    .first()
                )
                late.append(f"{model._meta.label}.{field.name}: {n} rows, e.g. {sample}")
    assert checked > 50
    assert not late, "\n".join(late)


@pytest.mark.django_db
def test_the_may_reports_show_the_rows_and_amounts_uploaded(demo: None) -> None:
    xuanzhou = MonthlySubmission.objects.get(unit__code="xuanzhou-jtj", period=dt.date(2019, 5, 1))
    paid = xuanzhou.figures["disbursements"]
    uploaded = Upload.objects.filter(pk__in=paid["upload_ids"])
    assert paid["rows"] > 0 and Decimal(paid["amount"]) > 0
    assert Decimal(paid["amount"]) == sum(
        d.amount for d in Disbursement.objects.filter(upload__in=uploaded)
    )
    assert xuanzhou.figures["enrolment"]["rows"] > 0
    # The uploads are real spreadsheets, stamped on the day they were made, before the due day.
    for upload in uploaded:
        assert upload.size > 1000 and upload.file.open("rb").read(2) == b"PK"
        assert upload.created_at.date() <= xuanzhou.due_on
    client = Client()
    client.force_login(User.objects.get(username="reviewer"))
    page = client.get("/reports/submissions/2019-05/").content.decode()
    assert f"{Decimal(paid['amount']):,.2f} 元" in page  # 宣州区's May payments
    assert not re.search(r"(?<![\d,.])0(?:\.00)? 元", page)  # no "30 行 0 元"


@pytest.mark.django_db
def test_demo_users_have_addresses_for_the_reminders(demo: None) -> None:
    assert User.objects.get(username="xuanzhou").email == "xuanzhou@demo.invalid"
    assert not User.objects.filter(username__in=["reviewer", "school"], email="").exists()


@pytest.mark.django_db
def test_seeding_twice_changes_nothing(demo: None) -> None:
    before = _counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == before
