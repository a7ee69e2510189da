"""The admin keeps children's data as the pages do: scoped, masked, revealed only with a
reason that is logged, exported without formulas.

Nothing here is a hand-kept list of admin classes: every ModelAdmin (and inline) in the
admin registry whose model has a scoped manager (`for_user`) is walked, so an admin added
tomorrow without scoping or masking fails these tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models
from django.test import Client, RequestFactory
from django.urls import reverse

from subsidies.models import Disbursement
from subsidies.resources import DisbursementResource, NeutralisedExportMixin
from tasks.models import PersonalDataAccess, RosterStudent, School, User
from tasks.privacy import PERSONAL_FIELDS_ATTR
from xc_fupin.lib.idnumber import mask_id_number, mask_name

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


@pytest.fixture(autouse=True)
def _media(settings: Any, seeded_demo: Any) -> None:
    settings.MEDIA_ROOT = seeded_demo  # where the module's one demo keeps its files


@pytest.fixture
def world(db: None, seeded_demo: Any) -> None:
    pass  # the module's demo (seeded_demo), one savepoint per test


@pytest.fixture
def superuser(world: None) -> User:
    user = User.objects.get(username="admin")  # the demo's 系统管理员
    user.is_superuser = user.is_staff = True
    user.save()
    return user


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


# --- Probe finding 2: list, change and history pages show names and IDs masked ----------


def personal_values() -> dict[str, str]:
    """Every full personal value (ID number, name, guardian, phone) of every row of every
    model that declares `personal_fields`, with the model it came from."""
    found: dict[str, str] = {}
    for model in apps.get_models():
        fields = getattr(model, PERSONAL_FIELDS_ATTR, ())
        if not fields or model._meta.proxy:
            continue
        for row in model._default_manager.values_list(*fields):
            for value in row:
                text = str(value or "")
                if len(text) >= 2:
                    found[text] = model._meta.label
    return found


def admin_pages(model: type[models.Model], limit: int = 2) -> list[tuple[str, bool]]:
    """(url, whether it must answer 200/302): list, change, history and version pages."""
    opts = model._meta
    base = f"admin:{opts.app_label}_{opts.model_name}"
    pages = [(reverse(f"{base}_changelist"), True)]
    manager = getattr(opts, "simple_history_manager_attribute", None)
    for obj in model._default_manager.order_by("pk")[:limit]:
        pages.append((reverse(f"{base}_change", args=[obj.pk]), True))
        if manager is None:  # no history kept (or a proxy of an audited model)
            continue
        history = reverse(f"{base}_history", args=[obj.pk])
        pages.append((history, True))
        # the last version and the one before, so the "changes" column has a change
        for version in getattr(model, manager).filter(pk=obj.pk).order_by("-history_id")[:2]:
            # simple-history may not find a version of some models (404): looked at only
            pages.append((f"{history}{version.history_id}/", False))
    return pages


def test_no_admin_page_shows_a_full_name_or_id_number_even_to_a_superuser(superuser: User) -> None:
    secrets = personal_values()
    assert secrets, "the demo data must hold personal data"
    client = Client()
    client.force_login(superuser)
    leaks = []
    for model in admin.site._registry:
        for url, must_answer in admin_pages(model):
            response = client.get(url)
            assert response.status_code in {200, 302} or not must_answer, url
            text = response.content.decode("utf-8", "ignore")
            hits = [f"{s}（{secrets[s]}）" for s in secrets if s in text]
            if hits:
                leaks.append(f"{url}: {hits[:3]}")
    assert not leaks, "\n".join(leaks)


def test_a_superuser_corrects_a_name_only_after_the_logged_reveal(superuser: User) -> None:
    student = RosterStudent.objects.order_by("pk").first()
    assert student is not None
    client = Client()
    client.force_login(superuser)
    change = reverse("admin:tasks_rosterstudent_change", args=[student.pk])
    page = client.get(change).content.decode()
    assert mask_id_number(student.id_number) in page and mask_name(student.name) in page
    assert 'name="name"' not in page and student.name not in page
    assert "查看完整信息" in page  # the way to the logged reveal

    reveal = reverse("tasks:reveal", args=["tasks.RosterStudent", student.pk])
    client.post(reveal, {"reason": "更正姓名错字"})
    assert PersonalDataAccess.objects.filter(
        user=superuser, target=f"tasks.RosterStudent#{student.pk}"
    ).exists()
    page = client.get(change).content.decode()
    assert 'name="name"' in page and student.name in page
    assert student.id_number not in page  # the ID number is never edited here
    form = client.get(change).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update({k: getattr(v, "pk", v) for k, v in data.items()})
    data["name"] = student.name + "改"
    response = client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    student.refresh_from_db()
    assert student.name.endswith("改")


def test_staff_without_superuser_never_edit_a_name_even_after_a_reveal(world: None) -> None:
    viewer = county_staff()
    student = RosterStudent.objects.for_user(viewer).order_by("pk").first()
    assert student is not None
    client = Client()
    client.force_login(viewer)
    client.post(
        reverse("tasks:reveal", args=["tasks.RosterStudent", student.pk]), {"reason": "核实"}
    )
    page = client.get(reverse("admin:tasks_rosterstudent_change", args=[student.pk]))
    text = page.content.decode()
    assert 'name="name"' not in text and student.name not in text


# --- Probe finding 5 (admin part): exports cannot carry a formula ------------------------


def test_the_admin_exports_neutralise_formula_cells(superuser: User) -> None:
    row = Disbursement.objects.order_by("pk").first()
    assert row is not None
    School.objects.filter(pk=row.school_id).update(name='=HYPERLINK("http://x","点我")')
    Disbursement.objects.filter(pk=row.pk).update(name="@SUM(1+1)")
    exported = DisbursementResource().export(Disbursement.objects.filter(pk=row.pk))
    cells = [str(c) for c in exported[0]]
    assert not [c for c in cells if c[:1] in "=+-@"], cells
    assert '\'=HYPERLINK("http://x","点我")' in cells
    # Every resource the admin exports through carries the guard.
    request = staff_request(superuser)
    for model_admin in admin.site._registry.values():
        if hasattr(model_admin, "get_export_resource_classes"):
            for resource in model_admin.get_export_resource_classes(request):
                assert issubclass(resource, NeutralisedExportMixin), resource


def test_a_schools_history_page_answers(superuser: User) -> None:
    school = School.objects.order_by("pk").first()
    assert school is not None
    client = Client()
    client.force_login(superuser)
    url = reverse("admin:tasks_school_history", args=[school.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert school.name in response.content.decode()
