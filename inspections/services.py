"""Writes of inspections and rectification: raising findings and feedback items, the
unit's answer, the city's 销号 or return. Views, admin, the demo and tests call these.

Each state change is claimed with a conditional update on the state it leaves (two
clicks, two reviewers or two tabs cannot both move an item), recorded as an `ItemEvent`
(who, when by the one clock, comment) and in the audit history with the user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from tasks import audit, clock
from tasks.evidence import evidence_check
from tasks.models import Deadline, Task, Unit

from .models import (
    AWAITING_UNIT,
    FEEDBACK_TASK,
    INSPECTION_TASK,
    Feedback,
    Inspection,
    ItemEvent,
    ItemEvidence,
    RectificationItem,
    Source,
    Status,
)
from .selectors import user_may_answer, user_may_raise, user_may_review


@dataclass(frozen=True)
class FindingData:
    unit: Unit
    category: str
    problem: str
    requirement: str
    due_on: dt.date


def _deadline_for(source: str, due_on: dt.date) -> Deadline | None:
    """The 整改时限 deadline of the source's task on `due_on` (one per task and day, made
    on first use), so the deadline check reminds and escalates these items too. None when
    the plan is not loaded."""
    number = INSPECTION_TASK if source == Source.INSPECTION else FEEDBACK_TASK
    task = Task.objects.filter(number=number).order_by("-group__plan__year").first()
    if task is None:
        return None
    what = "明查暗访发现问题整改" if source == Source.INSPECTION else "巡视反馈意见整改"
    deadline, _c = Deadline.objects.get_or_create(
        task=task,
        kind=Deadline.Kind.RECTIFICATION,
        period_start=due_on,
        defaults={
            "label": what,
            "period_end": due_on,
            "due_on": due_on,
            "note": _("由整改事项生成，随整改时限变化"),
        },
    )
    return deadline


def _require_raise(user: Any) -> None:
    if not user_may_raise(user):
        raise PermissionDenied(_("只有市级审核人员可以登记明查暗访和巡视反馈事项。"))


def _check_finding(f: FindingData, *, after: dt.date | None, where: str) -> None:
    if not f.unit.is_active:
        raise ValidationError(_("%(w)s：责任单位已停用。") % {"w": where})
    for value, label in [
        (f.category, "问题类别"),
        (f.problem, "发现问题"),
        (f.requirement, "整改要求"),
    ]:
        if not value.strip():
            raise ValidationError(_("%(w)s：请填写%(f)s。") % {"w": where, "f": label})
    if after is not None and f.due_on < after:
        raise ValidationError(_("%(w)s：整改时限不能早于检查日期。") % {"w": where})


def _raise_item(
    *,
    user: Any,
    source: str,
    unit: Unit,
    category: str,
    problem: str,
    requirement: str,
    due_on: dt.date,
    inspection: Inspection | None = None,
    feedback: Feedback | None = None,
    lead: bool = True,
    order: int = 1,
) -> RectificationItem:
    item = RectificationItem.objects.create(
        source=source,
        inspection=inspection,
        feedback=feedback,
        unit=unit,
        lead=lead,
        order=order,
        category=category.strip(),
        problem=problem.strip(),
        requirement=requirement.strip(),
        due_on=due_on,
        deadline=_deadline_for(source, due_on),
        created_by=user,
    )
    ItemEvent.objects.create(
        item=item,
        action=ItemEvent.Action.RAISED,
        status_after=Status.OPEN,
        actor=user,
        comment=_("整改时限：%(d)s") % {"d": f"{due_on:%Y年%-m月%-d日}"},
    )
    return item


def inspection_create(
    *,
    user: Any,
    kind: str,
    visited_on: dt.date,
    team: str,
    places: str,
    units: Sequence[Unit],
    note: str = "",
    findings: Sequence[FindingData] = (),
) -> Inspection:
    """Record an inspection (明查/暗访) and raise one item per finding, in one transaction.

    The units of the findings are added to the units visited. Raises PermissionDenied
    unless the user is a city reviewer, ValidationError (nothing saved) for a date after
    today, no unit visited, an empty field or a due date before the visit."""
    _require_raise(user)
    if kind not in Inspection.Kind.values:
        raise ValidationError(_("请选择检查方式（明查或暗访）。"))
    if visited_on > clock.today():
        raise ValidationError(_("检查日期不能晚于今天。"))
    if not team.strip():
        raise ValidationError(_("请填写检查组。"))
    if not places.strip():
        raise ValidationError(_("请填写检查地点。"))
    visited = {u.pk: u for u in [*units, *(f.unit for f in findings)]}
    if not visited:
        raise ValidationError(_("请选择被检查单位。"))
    for n, f in enumerate(findings, start=1):
        _check_finding(f, after=visited_on, where=_("第%(n)s条问题") % {"n": n})
    with transaction.atomic(), audit.audit_source("", user=user):
        inspection = Inspection.objects.create(
            kind=kind,
            visited_on=visited_on,
            team=team.strip(),
            places=places.strip(),
            note=note.strip(),
            created_by=user,
        )
        inspection.units.set(list(visited.values()))
        for f in findings:
            _raise_item(
                user=user,
                source=Source.INSPECTION,
                inspection=inspection,
                unit=f.unit,
                category=f.category,
                problem=f.problem,
                requirement=f.requirement,
                due_on=f.due_on,
            )
    return inspection


def finding_add(*, user: Any, inspection: Inspection, finding: FindingData) -> RectificationItem:
    """Raise one more finding of a recorded inspection. Raises like inspection_create."""
    _require_raise(user)
    _check_finding(finding, after=inspection.visited_on, where=_("新增问题"))
    with transaction.atomic(), audit.audit_source("", user=user):
        inspection.units.add(finding.unit)
        return _raise_item(
            user=user,
            source=Source.INSPECTION,
            inspection=inspection,
            unit=finding.unit,
            category=finding.category,
            problem=finding.problem,
            requirement=finding.requirement,
            due_on=finding.due_on,
        )


def feedback_create(
    *,
    user: Any,
    number: int,
    text: str,
    measures: str,
    units: Sequence[Unit],
    due_on: dt.date,
    category: str = "巡视反馈",
) -> Feedback:
    """Record a feedback item of the task-1 整改方案 and raise one item per responsible
    unit (the first is the lead). Raises PermissionDenied / ValidationError (nothing
    saved) for a number already used, empty text or measures, or no unit."""
    _require_raise(user)
    if Feedback.objects.filter(number=number).exists():
        raise ValidationError({"number": _("反馈意见第%(n)s项已登记。") % {"n": number}})
    if not text.strip():
        raise ValidationError({"text": _("请填写反馈问题。")})
    if not measures.strip():
        raise ValidationError({"measures": _("请填写整改措施。")})
    ordered = list({u.pk: u for u in units}.values())
    if not ordered:
        raise ValidationError({"units": _("请选择责任单位（第一个为牵头单位）。")})
    if any(not u.is_active for u in ordered):
        raise ValidationError({"units": _("所选责任单位中有已停用的单位。")})
    with transaction.atomic(), audit.audit_source("", user=user):
        feedback = Feedback.objects.create(
            number=number,
            text=text.strip(),
            measures=measures.strip(),
            due_on=due_on,
            created_by=user,
        )
        for order, unit in enumerate(ordered, start=1):
            _raise_item(
                user=user,
                source=Source.FEEDBACK,
                feedback=feedback,
                unit=unit,
                lead=order == 1,
                order=order,
                category=category,
                problem=text,
                requirement=measures,
                due_on=due_on,
            )
    return feedback


def _step(
    *,
    user: Any,
    item: RectificationItem,
    leaving: Sequence[str],
    action: str,
    to: str,
    comment: str,
    changes: dict[str, Any],
    refused: str,
) -> ItemEvent:
    """Move `item` from one of `leaving` to `to`: the conditional update is the claim."""
    before = (
        RectificationItem.objects.filter(pk=item.pk).values_list("status", flat=True).first() or ""
    )
    claimed = 0
    if before in leaving:
        claimed = RectificationItem.objects.filter(pk=item.pk, status=before).update(
            status=to, **changes
        )
    if not claimed:
        label = Status(before).label if before in Status.values else ""
        raise ValidationError(refused % {"s": label})
    event = ItemEvent.objects.create(
        item_id=item.pk,
        action=action,
        status_before=before,
        status_after=to,
        actor=user,
        comment=comment,
    )
    audit.record(item, user=user)
    return event


def item_answer(
    *,
    user: Any,
    item: RectificationItem,
    answer: str,
    files: Sequence[UploadedFile] = (),
) -> RectificationItem:
    """The unit reports what it did, with evidence: 待整改/退回 → 已报告.

    Raises PermissionDenied when the item is not the user's unit's to answer,
    ValidationError (nothing saved) for an empty answer, a refused file (type or size,
    the ledger's evidence rule) or an item not awaiting an answer. Safe to call twice:
    the second call is refused."""
    if not user_may_answer(user, item):
        raise PermissionDenied(_("整改情况由责任单位报告。"))
    answer = answer.strip()
    if not answer:
        raise ValidationError({"answer": _("请填写整改情况。")})
    evidence_check(files)
    with transaction.atomic(), audit.audit_source("", user=user):
        event = _step(
            user=user,
            item=item,
            leaving=AWAITING_UNIT,
            action=ItemEvent.Action.ANSWERED,
            to=Status.ANSWERED,
            comment=answer,
            changes={"answer": answer, "answered_by": user, "answered_at": clock.now()},
            refused=_("该事项当前状态为“%(s)s”，不能报告整改情况。"),
        )
        for f in files:
            ItemEvidence.store(f, item_id=item.pk, event=event)
    item.refresh_from_db()
    return item


def _require_review(user: Any) -> None:
    if not user_may_review(user):
        raise PermissionDenied(_("只有市级审核人员可以销号或退回整改事项。"))


def item_close(*, user: Any, item: RectificationItem, comment: str = "") -> RectificationItem:
    """The city accepts the answer: 已报告 → 已销号 (dated today by the one clock).
    Raises PermissionDenied / ValidationError (not answered, or already decided)."""
    _require_review(user)
    with transaction.atomic(), audit.audit_source("", user=user):
        _step(
            user=user,
            item=item,
            leaving=[Status.ANSWERED],
            action=ItemEvent.Action.CLOSED,
            to=Status.CLOSED,
            comment=comment.strip(),
            changes={"closed_on": clock.today(), "closed_by": user},
            refused=_("该事项当前状态为“%(s)s”，只有已报告的事项可以销号。"),
        )
    item.refresh_from_db()
    return item


def item_return(*, user: Any, item: RectificationItem, comment: str) -> RectificationItem:
    """The city sends the answer back with a comment (required): 已报告 → 退回; the unit
    answers again. Raises PermissionDenied / ValidationError."""
    _require_review(user)
    comment = comment.strip()
    if not comment:
        raise ValidationError({"comment": _("退回时请写明意见，说明还需整改的内容。")})
    with transaction.atomic(), audit.audit_source("", user=user):
        _step(
            user=user,
            item=item,
            leaving=[Status.ANSWERED],
            action=ItemEvent.Action.RETURNED,
            to=Status.RETURNED,
            comment=comment,
            changes={},
            refused=_("该事项当前状态为“%(s)s”，只有已报告的事项可以退回。"),
        )
    item.refresh_from_db()
    return item
