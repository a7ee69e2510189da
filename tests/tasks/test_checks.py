"""`check --deploy` refuses to go live with the demo clock or a demo password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tasks import roles
from tasks.demo import DEMO_PASSWORD

from ..factories import make_user

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def go_live_check() -> str:
    """The go-live checks through the real command; "" when they pass."""
    try:
        call_command("check", "--deploy", "--tag", "go_live")
    except SystemCheckError as exc:
        return str(exc)
    return ""


def test_an_active_account_with_the_demo_password_fails_the_deploy_check(plan: None) -> None:
    admin = make_user("admin", "city", roles.ADMINISTRATOR, is_superuser=True, is_staff=True)
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    staff = make_user("jcc-reviewer", "city-jcc", roles.CITY_REVIEWER, is_staff=True)
    staff.set_password(DEMO_PASSWORD)
    staff.save()
    make_user("xuanzhou", "xuanzhou-jtj", roles.COUNTY_STAFF)  # a demo name, a real password
    message = go_live_check()
    assert "tasks.E002" in message and "仍使用公开的演示密码" in message
    assert "admin、jcc-reviewer" in message and "xuanzhou" not in message
    admin.is_active = False
    admin.save()
    staff.set_password("Xuancheng-助学-2019")
    staff.save()
    assert go_live_check() == ""


def test_the_demo_clock_fails_the_deploy_check(plan: None, monkeypatch: Any) -> None:
    monkeypatch.setenv("XC_TODAY", "2019-06-16")
    message = go_live_check()
    assert "tasks.E001" in message and "XC_TODAY 已设置（演示日期 2019-06-16）" in message
    monkeypatch.delenv("XC_TODAY")
    assert go_live_check() == ""


def test_the_demo_password_cannot_be_chosen_anywhere(plan: None) -> None:
    with pytest.raises(ValidationError, match="演示系统公开的密码"):
        validate_password(DEMO_PASSWORD)


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_production_settings_fail_with_demo_accounts_and_pass_without(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DEBUG": "0",
        "HTTPS": "1",
        "SECRET_KEY": "k" * 20 + "-Xc7!fP9@qL2#vR5$wT8%yU1^zA4&bN6*",
        "ALLOWED_HOSTS": "fupin.xuancheng.example",
        "XC_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.pop("XC_TODAY", None)
    assert _manage(env, "migrate", "-v0").returncode == 0
    make_demo_admin = (
        "from tasks.models import User; u = User(username='admin', is_superuser=True,"
        f" is_staff=True); u.set_password('{DEMO_PASSWORD}'); u.save()"
    )
    assert _manage(env, "shell", "-c", make_demo_admin).returncode == 0
    failed = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert failed.returncode != 0
    assert "tasks.E002" in failed.stderr and "admin" in failed.stderr
    deactivate = "from tasks.models import User; User.objects.update(is_active=False)"
    assert _manage(env, "shell", "-c", deactivate).returncode == 0
    clean = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    demo_clock = _manage({**env, "XC_TODAY": "2019-06-16"}, "check", "--deploy")
    assert demo_clock.returncode != 0 and "tasks.E001" in demo_clock.stderr
