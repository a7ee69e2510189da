"""The subsidies admin: scoped, per-record history, masked lists and exports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from subsidies.models import Disbursement
from subsidies.resources import DisbursementResource
from tasks.models import User
from xc_fupin.lib.idnumber import mask_id_number

from .conftest import pay


def staff_client(user: Any, *codenames: str) -> Client:
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


def test_a_payment_has_a_history_page_and_only_a_superuser_may_delete_it(
    pupils: Any, spring: Any, xuanzhou_school: Any, xuanzhou_staff: Any, admin_user: Any
) -> None:
    paid = pay(
        pupils[0].id_number, pupils[0].name, xuanzhou_school, spring, "250", dt.date(2019, 6, 1)
    )
    client = staff_client(xuanzhou_staff, "view_disbursement", "delete_disbursement")
    history = reverse("admin:subsidies_disbursement_history", args=[paid.pk])
    assert client.get(history).status_code == 200
    delete = reverse("admin:subsidies_disbursement_delete", args=[paid.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Disbursement.objects.filter(pk=paid.pk).exists()

    superuser = Client()
    superuser.force_login(admin_user)
    assert superuser.post(delete, {"post": "yes"}).status_code == 302
    assert not Disbursement.objects.filter(pk=paid.pk).exists()
    assert Disbursement.history.filter(id=paid.pk, history_type="-").count() == 1


def test_the_payment_list_and_its_export_show_ids_masked(
    pupils: Any, spring: Any, xuanzhou_school: Any, xuanzhou_staff: Any
) -> None:
    ident = pupils[0].id_number
    pay(ident, pupils[0].name, xuanzhou_school, spring, "250", dt.date(2019, 6, 1))
    client = staff_client(xuanzhou_staff, "view_disbursement")
    page = client.get(reverse("admin:subsidies_disbursement_changelist")).content.decode()
    assert mask_id_number(ident) in page and ident not in page
    exported = DisbursementResource().export(Disbursement.objects.all())
    assert exported.dict[0]["id_number"] == mask_id_number(ident)
    assert ident not in exported.csv
