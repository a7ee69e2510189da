"""Walk every URL in the URLconf as a user of another county, as a school and as nobody.

Nothing here is a hand-kept list: URL patterns come from the resolver, objects from every
model whose manager is scoped (`ScopedQuerySet`), admin pages from the admin registry.
A page leaks when it shows something that identifies a row the user may not see: a full
resident ID number or a distinctive text (narrative, file name, comment) of that row.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tasks.models import County, Responsibility, RosterSnapshot, School, Unit, User
from tasks.scoping import ScopedQuerySet

pytestmark = pytest.mark.django_db

PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
# Organisations are public master data: every user sees unit and school names. The
# plan's division of labour (Responsibility) is the published plan, shown on every task
# page; a roster batch (RosterSnapshot) is a date and a source, nothing about a child.
# Both are scoped in the admin (tests/test_admin_privacy.py), not hidden on the pages.
PUBLIC_MODELS = {Unit, School, Responsibility, RosterSnapshot}
# /healthz: monitoring, no login and no personal data (tests/test_health.py).
PUBLIC_URLS = {"accounts/login/", "accounts/logout/", "healthz"}
MIN_TEXT = 8


def scoped_models() -> list[type[models.Model]]:
    found = []
    for model in apps.get_models():
        if model in PUBLIC_MODELS or model._meta.proxy:
            continue
        if isinstance(model._default_manager.all(), ScopedQuerySet):
            found.append(model)
    return found


def text_fields(model: type[models.Model]) -> list[str]:
    return [
        f.name
        for f in model._meta.get_fields()
        if isinstance(f, models.CharField | models.TextField)
        and not f.choices
        and f.name not in {"sha256"}
    ]


def fingerprints(model: type[models.Model], user: Any, limit: int) -> tuple[list[Any], set[str]]:
    """Rows the user may not see, and strings that identify them (and no visible row)."""
    qs = model._default_manager.all()
    visible_ids = set(qs.for_user(user).values_list("pk", flat=True))  # type: ignore[attr-defined]
    fields = text_fields(model)
    seen: set[str] = set()
    for values in qs.filter(pk__in=visible_ids).values_list(*fields) if fields else []:
        seen.update(str(v) for v in values if v)
    hidden = list(qs.exclude(pk__in=visible_ids).order_by("pk")[:limit])
    prints: set[str] = set()
    for obj in hidden:
        for name in fields:
            value = str(getattr(obj, name) or "")
            if value in seen:
                continue
            # A full ID number, or free text long enough to identify the row. ASCII values
            # are codes (a sheet kind, a state), not data about anyone.
            if ("id_number" in name and len(value) == 18) or (
                len(value) >= MIN_TEXT and not value.isascii()
            ):
                prints.add(value)
    return hidden, prints


def url_patterns() -> Iterator[str]:
    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith("admin/"):
                    continue
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    yield from walk(get_resolver().url_patterns, "")


def body_text(response: Any) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":  # .xlsx / .docx: read the XML parts
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as zf:
                return "".join(
                    zf.read(n).decode("utf-8", "ignore")
                    for n in zf.namelist()
                    if n.endswith(".xml")
                )
        except zipfile.BadZipFile:
            pass
    return content.decode("utf-8", "ignore")


@functools.cache
def str_values() -> dict[str, list[str]]:
    """Real values for string URL parameters, so routes like r/<pk>/file/<which>/ are
    walked too. A parameter missing here makes its route fail the walk (see below)."""
    from intake.base import all_specs
    from tasks.privacy import PERSONAL_FIELDS_ATTR

    labels = [m._meta.label for m in apps.get_models() if getattr(m, PERSONAL_FIELDS_ATTR, None)]
    return {
        "which": ["docx", "xlsx", "pdf", "annex"],
        "month": ["2019-03", "2019-04", "2019-05", "2019-06"],
        "kind": [s.key for s in all_specs()],
        "label": labels,
        "action": ["submit", "return", "review", "approve"],
    }


def urls_for(route: str, ids: list[int]) -> list[str]:
    params = list(PARAM.finditer(route))
    if not params:
        return ["/" + route]
    vocab = str_values()
    choices: list[list[str]] = []
    for m in params:
        conv, name = m.group("conv"), m.group("name")
        if conv == "int" or name in {"pk", "number", "id", "year"}:
            choices.append([str(i) for i in ids] + ["2019"])
        elif name in vocab:
            choices.append(vocab[name])
        else:
            raise AssertionError(f"add real values for <{name}> of {route} to str_values()")
    # Rebuild each URL from the route with the chosen values, in order.
    out = []
    pieces = PARAM.split(route)[:: len(PARAM.groupindex) + 1]  # the text between parameters
    for combo in itertools.product(*choices):
        out.append("/" + "".join(p + v for p, v in zip(pieces, [*combo, ""], strict=True)))
    return out


@pytest.fixture(autouse=True)
def _media(settings: Any, seeded_demo: Any) -> None:
    settings.MEDIA_ROOT = seeded_demo  # where the module's one demo keeps its files


@pytest.fixture
def world(db: None, seeded_demo: Any) -> dict[str, Any]:
    return {
        "xuanzhou": User.objects.get(username="xuanzhou"),
        "school": User.objects.get(username="school"),
    }


def leaks_for(viewer: Any) -> list[str]:
    client = Client()
    client.force_login(viewer)
    langxi = County.objects.get(slug="langxi")
    langxi_unit = Unit.objects.get(code="langxi-jtj")
    found: list[str] = []
    hidden_ids: list[int] = []
    prints: set[str] = set()
    for model in scoped_models():
        hidden, p = fingerprints(model, viewer, limit=2)
        hidden_ids += [o.pk for o in hidden]
        prints |= p
    assert prints, "the demo data must give the walk something to find"
    ids = sorted(set(hidden_ids))
    query = f"?county={langxi.pk}&county_id={langxi.pk}&county=langxi&unit={langxi_unit.pk}"
    for route in url_patterns():
        for url in urls_for(route, ids):
            for full in (url, url + query):
                response = client.get(full)
                if response.status_code != 200:
                    continue
                text = body_text(response)
                hits = [s for s in prints if s in text]
                if hits:
                    found.append(f"{full}: {hits[:3]}")
    return found


def test_no_page_or_export_shows_another_countys_rows(world: dict[str, Any]) -> None:
    assert leaks_for(world["xuanzhou"]) == []


def test_no_page_or_export_shows_a_school_other_schools_rows(world: dict[str, Any]) -> None:
    assert leaks_for(world["school"]) == []


def test_anonymous_users_reach_nothing_but_the_login_page(world: dict[str, Any]) -> None:
    client = Client()
    ids = [1, 2]
    for route in url_patterns():
        if route in PUBLIC_URLS:
            continue
        for url in urls_for(route, ids):
            response = client.get(url)
            assert response.status_code in {302, 403, 404, 405}, url
            if response.status_code == 302:
                assert response["Location"].startswith("/accounts/login/"), url


def test_the_admin_is_scoped_for_a_county_user_with_every_permission(world: dict[str, Any]) -> None:
    viewer = world["xuanzhou"]
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    viewer.user_permissions.add(*Permission.objects.filter(codename__startswith="change_"))
    viewer = User.objects.get(pk=viewer.pk)
    client = Client()
    client.force_login(viewer)
    leaks = []
    for model in admin.site._registry:
        if model not in scoped_models():
            continue
        hidden, prints = fingerprints(model, viewer, limit=3)
        opts = model._meta
        pages = [reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")]
        manager = getattr(opts, "simple_history_manager_attribute", None)
        for o in hidden:
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[o.pk]))
            history_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[o.pk])
            pages.append(history_url)
            version = getattr(model, manager).filter(pk=o.pk).first() if manager else None
            if version is not None:
                pages.append(f"{history_url}{version.history_id}/")
        for url in pages:
            response = client.get(url, follow=True)
            text = response.content.decode("utf-8", "ignore")
            hits = [s for s in prints if s in text]
            if hits:
                leaks.append(f"{url}: {hits[:3]}")
    assert leaks == []


def test_uploaded_files_have_no_public_url(settings: Any, world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["xuanzhou"])
    assert client.get(settings.MEDIA_URL + "uploads/").status_code == 404


def test_no_get_request_writes_anything(world: dict[str, Any]) -> None:
    """Every URL fetched by GET as a superuser (who may do everything) leaves every table
    as it was, history tables included, so an update shows too (probe finding 5: a GET
    that wrote notice records)."""
    viewer = User.objects.get(username="admin")
    viewer.is_superuser = viewer.is_staff = True
    viewer.save()
    client = Client()
    client.force_login(viewer)
    # Who is signed in, and login throttling, are not the application's data.
    ignored = {"sessions", "axes", "admin"}
    tables = [m for m in apps.get_models() if m._meta.app_label not in ignored]

    def counts() -> dict[str, int]:
        return {m._meta.label: m._default_manager.count() for m in tables}

    ids = sorted(
        {
            pk
            for model in scoped_models()
            for pk in model._default_manager.values_list("pk", flat=True)[:2]
        }
    )
    before = counts()
    for route in url_patterns():
        for url in urls_for(route, ids):
            client.get(url)
    after = counts()
    assert {k: (before[k], after[k]) for k in before if before[k] != after[k]} == {}
