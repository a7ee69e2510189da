"""Writes of the employment ledger. The graduates themselves come in through the import
(employment/imports.py); here: the one-to-one guidance records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tasks.clock import today

from .models import Destination, Graduate, GuidanceRecord


@transaction.atomic
def guidance_record(
    *,
    graduate: Graduate,
    user: Any,
    given_on: dt.date,
    adviser: str,
    content: str,
    next_step: str = "",
    next_on: dt.date | None = None,
) -> GuidanceRecord:
    """Record one guidance session with a graduate not yet employed, and move the
    graduate's last/next guidance dates (both audited). Not idempotent: each call is a
    session.

    Raises PermissionDenied when the graduate is outside the user's scope or the user may
    not record guidance; ValidationError (Chinese) for an employed graduate, a date after
    today, or a next date before the session.
    """
    if not user.has_perm("employment.add_guidancerecord"):
        raise PermissionDenied(_("您没有记录就业指导的权限。"))
    # No ordering: the default one joins the nullable county, which FOR UPDATE refuses.
    locked = (
        Graduate.objects.for_user(user)
        .select_for_update(of=("self",))
        .filter(pk=graduate.pk)
        .order_by()
        .first()
    )
    if locked is None:
        raise PermissionDenied(_("该学生不在本单位管辖范围内。"))
    errors: dict[str, str] = {}
    if locked.destination != Destination.NOT_EMPLOYED:
        raise ValidationError(
            _("该学生去向为“%(d)s”，一对一就业指导只记录未就业的毕业生。")
            % {"d": locked.get_destination_display()}
        )
    day = today()
    if given_on > day:
        errors["given_on"] = _("指导日期不能晚于今天（%(d)s）。") % {"d": f"{day:%Y-%m-%d}"}
    if next_on is not None and next_on < given_on:
        errors["next_on"] = _("下次指导日期不能早于本次指导日期。")
    adviser, content = adviser.strip(), content.strip()
    if not adviser:
        errors["adviser"] = _("请填写指导老师。")
    if not content:
        errors["content"] = _("请填写指导内容。")
    if errors:
        raise ValidationError(errors)
    record = GuidanceRecord.objects.create(
        graduate=locked,
        given_on=given_on,
        adviser=adviser,
        content=content,
        next_step=next_step.strip(),
        next_on=next_on,
        recorded_by=user,
    )
    if locked.last_guidance_on is None or given_on >= locked.last_guidance_on:
        locked.last_guidance_on = given_on
        locked.next_guidance_on = next_on
        locked.save(update_fields=["last_guidance_on", "next_guidance_on", "updated_at"])
    return record
