"""The admin keeps children's data as the pages do: scoped, masked, revealed only with a
reason that is logged, exported without formulas.

Nothing here is a hand-kept list of admin classes: every ModelAdmin (and inline) in the
admin registry whose model has a scoped manager (`for_user`) is walked, so an admin added
tomorrow without scoping or masking fails these tests.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import models
from django.test import RequestFactory

from tasks.models import User

pytestmark = pytest.mark.django_db


def scoped(model: type[models.Model]) -> bool:
    return hasattr(model._default_manager.all(), "for_user")


def scoped_admins(request: Any) -> Iterator[tuple[str, Any]]:
    """Every registered ModelAdmin and inline whose model has a `for_user` manager."""
    for model, model_admin in admin.site._registry.items():
        if scoped(model):
            yield type(model_admin).__name__, model_admin
        for inline in model_admin.get_inline_instances(request):
            if scoped(inline.model):
                yield f"{type(model_admin).__name__}.{type(inline).__name__}", inline


def staff_request(user: User) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.fixture
def world(plan: None) -> None:
    call_command("seed_demo", stdout=io.StringIO())


def county_staff(username: str = "xuanzhou") -> User:
    user = User.objects.get(username=username)
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.all())
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions or scope


def test_every_scoped_admin_shows_nothing_to_a_staff_user_without_a_unit(plan: None) -> None:
    """Data-independent: for_user() of a user without a unit is empty, so an admin (or an
    inline) that does not go through for_user returns a query that is not."""
    nobody = User.objects.create_user("nobody", is_staff=True)
    nobody.user_permissions.add(*Permission.objects.all())
    nobody = User.objects.get(pk=nobody.pk)
    request = staff_request(nobody)
    unscoped = [
        name
        for name, model_admin in scoped_admins(request)
        if not model_admin.get_queryset(request).query.is_empty()
    ]
    assert not unscoped, "not scoped: " + ", ".join(unscoped)


def test_a_county_staff_user_sees_no_other_countys_rows_in_any_admin(world: None) -> None:
    viewer = county_staff()
    request = staff_request(viewer)
    leaks = []
    checked = 0
    for name, model_admin in scoped_admins(request):
        model = model_admin.model
        visible = set(model._default_manager.all().for_user(viewer).values_list("pk", flat=True))
        shown = set(model_admin.get_queryset(request).values_list("pk", flat=True))
        hidden = model._default_manager.exclude(pk__in=visible)
        checked += hidden.exists()
        if shown - visible:
            leaks.append(f"{name}: {len(shown - visible)} rows outside the viewer's scope")
    assert not leaks, "\n".join(leaks)
    assert checked, "the demo data must hold rows of other counties"
