"""Login protection, CSP, CSRF and deployment settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tasks.models import LedgerEntry

from .factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def attempt(username: str, password: str, address: str) -> Any:
    return Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def test_guessing_a_password_locks_that_user_at_that_address_only(
    settings: Any, xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    settings.AXES_ENABLED = True
    office = "10.0.0.7"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(xuanzhou_staff.username, "wrong", office).status_code == 200
    assert attempt(xuanzhou_staff.username, "wrong", office).status_code == 429
    # Now even the right password is refused for this user at this address.
    locked = attempt(xuanzhou_staff.username, PASSWORD, office)
    assert locked.status_code == 429
    assert "登录已暂时锁定" in locked.content.decode()
    # A colleague in the same office, behind the same address, still gets in.
    assert attempt(langxi_staff.username, PASSWORD, office).status_code == 302
    # And the same person from another address.
    assert attempt(xuanzhou_staff.username, PASSWORD, "10.0.0.8").status_code == 302


def test_pages_carry_a_csp_without_inline_scripts(leader: Any) -> None:
    client = Client()
    client.force_login(leader)
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in policy


def test_no_template_has_an_inline_script() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(?!\s*</script>)", re.I)
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "templates").rglob("*.html")
        if inline.search(p.read_text(encoding="utf-8"))
        and "json_script" not in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_csrf_is_enforced_on_forms(xuanzhou_staff: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(xuanzhou_staff)
    data = {
        "unit": xuanzhou_staff.unit_id,
        "period": "2019-05",
        "status": "done",
        "narrative": "无令牌",
    }
    assert client.post("/tasks/5/ledger/new/", data).status_code == 403
    assert not LedgerEntry.objects.exists()
    client.get("/tasks/5/ledger/new/")
    data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    assert client.post("/tasks/5/ledger/new/", data).status_code == 302
    assert LedgerEntry.objects.count() == 1


def test_sessions_last_a_working_day(settings: Any) -> None:
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600


def test_check_deploy_reports_nothing_with_production_settings(tmp_path: Any) -> None:
    env = {
        **os.environ,
        "DEBUG": "0",
        "HTTPS": "1",
        "SECRET_KEY": "k" * 20 + "-Xc7!fP9@qL2#vR5$wT8%yU1^zA4&bN6*",
        "ALLOWED_HOSTS": "fupin.xuancheng.example",
        "XC_VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in tests only
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues" in out.stdout
