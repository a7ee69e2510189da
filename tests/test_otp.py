"""With ADMIN_REQUIRE_OTP, the admin wants a TOTP code as well as the password."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django_otp.admin import OTPAdminSite
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from .factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def otp_admin() -> Iterator[None]:
    # What xc_fupin/urls.py does when ADMIN_REQUIRE_OTP is on.
    previous = admin.site.__class__
    admin.site.__class__ = OTPAdminSite
    try:
        yield
    finally:
        admin.site.__class__ = previous


def test_a_password_alone_does_not_open_the_admin(otp_admin: None, admin_user: Any) -> None:
    device = TOTPDevice.objects.create(user=admin_user, name="手机", confirmed=True)
    client = Client()
    response = client.post("/admin/login/", {"username": admin_user.username, "password": PASSWORD})
    assert response.status_code == 200  # the form asks again
    assert client.get("/admin/").status_code == 302
    token = totp(
        device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
    )
    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": admin_user.username,
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": f"{token:06d}",
        },
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_without_the_setting_the_admin_takes_the_password(admin_user: Any) -> None:
    client = Client()
    client.post("/admin/login/", {"username": admin_user.username, "password": PASSWORD})
    assert client.get("/admin/").status_code == 200
