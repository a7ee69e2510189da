from __future__ import annotations

import io
import os
from typing import Any

import pytest
from django.core.management import call_command

from tasks import roles
from tasks.models import Task

from .factories import make_school, make_user

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests
# make around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _plain_static(settings: Any) -> None:
    # The manifest storage needs collectstatic; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_demo_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XC_TODAY", raising=False)


@pytest.fixture
def plan(db: Any) -> None:
    """The 2019 plan, units and roles, as `load_plan` loads them."""
    if not Task.objects.exists():
        call_command("load_plan", stdout=io.StringIO())


@pytest.fixture
def city_reviewer(plan: None) -> Any:
    return make_user("city_reviewer", "city-jcc", roles.CITY_REVIEWER, first_name="计财科审核员")


@pytest.fixture
def section_staff(plan: None) -> Any:
    return make_user("jijiao_staff", "city-jjk", roles.CITY_SECTION)


@pytest.fixture
def leader(plan: None) -> Any:
    return make_user("leader", "city", roles.LEADER)


@pytest.fixture
def xuanzhou_staff(plan: None) -> Any:
    return make_user("xuanzhou_staff", "xuanzhou-jtj", roles.COUNTY_STAFF, first_name="宣州区")


@pytest.fixture
def langxi_staff(plan: None) -> Any:
    return make_user("langxi_staff", "langxi-jtj", roles.COUNTY_STAFF, first_name="郎溪县")


@pytest.fixture
def xuanzhou_school(plan: None) -> Any:
    return make_school("xuanzhou", "宣州区实验小学", "3134001001", ["小学"])


@pytest.fixture
def langxi_school(plan: None) -> Any:
    return make_school("langxi", "郎溪县实验小学", "3134002001", ["小学"])


@pytest.fixture
def school_staff(xuanzhou_school: Any) -> Any:
    return make_user("school_staff", xuanzhou_school.code, roles.SCHOOL_STAFF)


@pytest.fixture
def admin_user(plan: None) -> Any:
    return make_user("admin", "city", roles.ADMINISTRATOR, is_staff=True, is_superuser=True)
