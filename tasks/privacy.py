"""Revealing one record's personal data, and logging exports that carry it in full."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from xc_fupin.lib.idnumber import mask_id_number, mask_name

from . import clock
from .models import PersonalDataAccess
from .scoping import ScopedQuerySet

#: Fields a model lists as personal, in order, e.g. ("name", "id_number").
PERSONAL_FIELDS_ATTR = "personal_fields"
#: Personal fields that are keys, never edited by hand (a wrong ID is re-imported).
KEY_FIELDS = frozenset({"id_number"})
#: How long after a logged reveal a superuser may correct that record's name in the admin.
REVEAL_WINDOW = dt.timedelta(minutes=15)


def personal_fields(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(getattr(model, PERSONAL_FIELDS_ATTR, ()))


def mask_value(field: str, value: object) -> str:
    """A personal value as every page shows it: `3418**********123X`, `张*`."""
    text = "" if value is None else str(value)
    if not text:
        return ""
    return mask_id_number(text) if field in {"id_number", "phone"} else mask_name(text)


def recently_revealed(user: Any, obj: models.Model) -> bool:
    """Whether `user` revealed this record through the logged reveal in the last minutes."""
    return PersonalDataAccess.objects.filter(
        user=user,
        kind=PersonalDataAccess.Kind.REVEAL,
        target=f"{obj._meta.label}#{obj.pk}"[:100],
        at__gte=clock.now() - REVEAL_WINDOW,
    ).exists()


def editable_personal_fields(user: Any, obj: models.Model) -> frozenset[str]:
    """The personal fields of an existing record the admin may show in full, as inputs.

    None, as a rule: they are shown masked and read-only. A superuser who has just
    revealed the record (logged, with a reason) may correct its name, guardian or phone;
    the ID number is never edited by hand (a wrong one is corrected by re-importing).
    """
    if not getattr(user, "is_superuser", False) or not recently_revealed(user, obj):
        return frozenset()
    return frozenset(personal_fields(type(obj))) - KEY_FIELDS


def _address(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def revealable_model(label: str) -> type[models.Model]:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise LookupError(label) from None
    if not getattr(model, PERSONAL_FIELDS_ATTR, None) or not isinstance(
        model._default_manager.all(), ScopedQuerySet
    ):
        raise LookupError(label)
    return model


def personal_data_reveal(
    *,
    user: Any,
    model: type[models.Model],
    pk: Any,
    reason: str,
    request: HttpRequest | None = None,
) -> dict[str, str]:
    """Return one record's personal fields unmasked, and log who, when and why.

    Raises PermissionDenied without the permission, LookupError when the record is not
    in the user's scope, ValidationError when the reason is missing.
    """
    if not user.has_perm("tasks.reveal_personal_data"):
        raise PermissionDenied(_("您没有查看完整个人信息的权限。"))
    reason = reason.strip()
    if len(reason) < 4:
        raise ValidationError({"reason": _("请填写查看事由（至少4个字），例如“核实发放名单”。")})
    obj = model._default_manager.all().for_user(user).filter(pk=pk).first()  # type: ignore[attr-defined]
    if obj is None:
        raise LookupError(pk)
    PersonalDataAccess.objects.create(
        user=user,
        kind=PersonalDataAccess.Kind.REVEAL,
        target=f"{model._meta.label}#{pk}"[:100],
        reason=reason[:200],
        address=_address(request),
    )
    fields = getattr(model, PERSONAL_FIELDS_ATTR)
    return {
        str(getattr(model._meta.get_field(f), "verbose_name", f)): str(getattr(obj, f) or "")
        for f in fields
    }


def personal_data_export_allowed(
    *, user: Any, what: str, rows: int, reason: str, request: HttpRequest | None = None
) -> bool:
    """Whether an export may carry full ID numbers; logs it when it does.

    Without the permission or a reason, the export goes out masked (returns False).
    """
    if not user.has_perm("tasks.export_personal_data") or len(reason.strip()) < 4:
        return False
    PersonalDataAccess.objects.create(
        user=user,
        kind=PersonalDataAccess.Kind.EXPORT,
        target=what[:100],
        rows=rows,
        reason=reason.strip()[:200],
        address=_address(request),
    )
    return True


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response to a signed-in user.

    Every page and download behind the login may carry children's data (masked lists,
    revealed records, exports, notices), so no browser cache, shared computer's history
    or proxy may keep a copy. Keyed on the user rather than a list of views, so a page
    added tomorrow is covered too; static files (served before this runs) and the login
    page stay cacheable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
