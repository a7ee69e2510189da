"""The admin: every dropout record is there with its history, identities masked, and
what must go through the case page cannot be changed here."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from dropout.models import CaseStatus, DropoutCase, EnrolmentSpread
from dropout.services import case_transition, crosscheck_run, follow_up_record

from .builders import enrol, household, kid

CHILD = kid("2009-04-04", 2)
NAME = "欧阳辍学生"


@pytest.fixture
def case(xuanzhou: Any, xuanzhou_school: Any, xuanzhou_staff: Any) -> DropoutCase:
    enrol(CHILD, NAME, xuanzhou_school, status="辍学")
    household(CHILD, NAME)
    crosscheck_run(county=xuanzhou, as_of=dt.date(2019, 10, 15))
    case = DropoutCase.objects.get(id_number=CHILD)
    case_transition(case=case, user=xuanzhou_staff, to_status=CaseStatus.VERIFIED, cause="因贫")
    follow_up_record(
        case=case,
        user=xuanzhou_staff,
        kind="家访",
        happened_on=dt.date(2019, 10, 20),
        notes="家访",
    )
    return case


def test_every_dropout_model_is_in_the_admin_with_its_history(plan: None) -> None:
    from django.apps import apps

    for model in apps.get_app_config("dropout").get_models():
        # EnrolmentSpread is an index the database keeps (triggers), not a record anyone
        # enters or reads: no admin, no history (like subsidies' OmissionFinding).
        if model.__name__.startswith("Historical") or model is EnrolmentSpread:
            continue
        assert model in admin.site._registry, model
        assert hasattr(model, "history"), model


def test_admin_pages_mask_the_child_and_link_to_the_logged_reveal(
    case: DropoutCase, admin_user: Any
) -> None:
    client = Client()
    client.force_login(admin_user)
    pages = []
    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label != "dropout":
            continue
        pages.append(reverse(f"admin:dropout_{opts.model_name}_changelist"))
        obj = model._default_manager.first()
        assert obj is not None, model
        pages.append(reverse(f"admin:dropout_{opts.model_name}_change", args=[obj.pk]))
        history = reverse(f"admin:dropout_{opts.model_name}_history", args=[obj.pk])
        version = model.history.filter(id=obj.pk).first()  # type: ignore[attr-defined]
        pages += [history, f"{history}{version.history_id}/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert CHILD not in text and NAME not in text, url
    page = client.get(reverse("admin:dropout_dropoutcase_change", args=[case.pk])).content
    assert reverse("tasks:reveal", args=["dropout.DropoutCase", case.pk]) in page.decode()


def test_a_case_status_cannot_be_changed_or_the_case_deleted_in_the_admin(
    case: DropoutCase, admin_user: Any
) -> None:
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:dropout_dropoutcase_change", args=[case.pk])
    form = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', client.get(url).content.decode()))
    form.update(status="closed", close_reason="死亡", village="新村", grade="四年级")
    response = client.post(url, form)
    case.refresh_from_db()
    assert case.status == CaseStatus.VERIFIED
    assert (case.village, case.grade) == ("新村", "四年级")  # corrections are allowed
    assert response.status_code == 302
    delete = reverse("admin:dropout_dropoutcase_delete", args=[case.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert DropoutCase.objects.filter(pk=case.pk).exists()
    add = reverse("admin:dropout_dropoutcase_add")
    assert client.get(add).status_code == 403
