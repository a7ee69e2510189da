"""Inspections (明查暗访, task 21), the central inspection's feedback items (task 1), and
the one rectification item both produce.

A finding of an inspection and a feedback item of the 整改方案 are the same kind of thing
to the unit that must act on it: a problem, what must be done, by when. So both become
`RectificationItem` rows (one per responsible unit) and one workflow serves them:
待整改 → 已报告 → 已销号, or 已报告 → 退回 → 已报告 again. Each item's due date is a
`tasks.Deadline` of kind 整改时限 (shared by the items of one task due that day), so an
overdue item goes through the reports app's reminders, 逾期 and 督办 like any deadline.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks import audit, clock
from tasks.evidence import EvidenceBase, stamp
from tasks.models import Deadline, Unit
from tasks.scoping import Scope, ScopedQuerySet

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager

#: The plan's tasks the two sources belong to.
INSPECTION_TASK = 21
FEEDBACK_TASK = 1
#: The document task 1 implements.
FEEDBACK_PLAN_TITLE = "《中央脱贫攻坚专项巡视反馈意见宣城市教育扶贫工作整改方案》"


class _DistinctScoped(ScopedQuerySet[Any]):
    """Scoped through a to-many relation: one row per record, however many units match."""

    def for_scope(self, scope: Scope) -> Any:
        qs = super().for_scope(scope)
        return qs if scope.sees_all else qs.distinct()


class InspectionQuerySet(_DistinctScoped):
    # A county sees the inspections that visited one of its units.
    scope_county_lookup = "units__county"
    scope_unit_lookup = "units"


class Inspection(models.Model):
    """One visit: 明查 (announced) or 暗访 (unannounced), by a team, to places and units."""

    class Kind(models.TextChoices):
        OPEN = "open", _("明查")
        UNANNOUNCED = "unannounced", _("暗访")

    kind = models.CharField(_("方式"), max_length=12, choices=Kind.choices)
    visited_on = models.DateField(_("检查日期"))
    team = models.CharField(_("检查组"), max_length=200, help_text=_("带队领导及成员"))
    places = models.TextField(_("检查地点"), help_text=_("走访的学校、村组、农户等"))
    units = models.ManyToManyField(Unit, related_name="inspections", verbose_name=_("被检查单位"))
    note = models.TextField(_("情况说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    created_at = clock.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = InspectionQuerySet.as_manager()

    items: RelatedManager[RectificationItem]

    history = audit.history(m2m_fields=[units])

    class Meta:
        verbose_name = _("明查暗访")
        verbose_name_plural = _("明查暗访")
        ordering = ["-visited_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.visited_on:%Y-%m-%d} {self.get_kind_display()}"


class FeedbackQuerySet(_DistinctScoped):
    scope_county_lookup = "items__unit__county"
    scope_unit_lookup = "items__unit"


class Feedback(models.Model):
    """One feedback item of the 整改方案 (task 1): the inspection's finding as the plan
    quotes it, the measures, and the deadline. Its responsible units (lead first) are its
    rectification items."""

    number = models.PositiveSmallIntegerField(_("序号"), unique=True)
    text = models.TextField(_("反馈问题"))
    measures = models.TextField(_("整改措施"))
    due_on = models.DateField(_("整改时限"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    created_at = clock.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = FeedbackQuerySet.as_manager()

    items: RelatedManager[RectificationItem]

    history = audit.history()

    class Meta:
        verbose_name = _("巡视反馈事项")
        verbose_name_plural = _("巡视反馈事项")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"反馈意见第{self.number}项"


class Source(models.TextChoices):
    INSPECTION = "inspection", _("明查暗访")
    FEEDBACK = "feedback", _("巡视反馈")


class Status(models.TextChoices):
    OPEN = "open", _("待整改")
    ANSWERED = "answered", _("已报告")
    CLOSED = "closed", _("已销号")
    RETURNED = "returned", _("退回")


#: States in which the unit owes an answer.
AWAITING_UNIT = (Status.OPEN, Status.RETURNED)


class RectificationItemQuerySet(ScopedQuerySet["RectificationItem"]):
    scope_county_lookup = "unit__county"
    scope_unit_lookup = "unit"

    def overdue(self, day: dt.date) -> RectificationItemQuerySet:
        return self.filter(due_on__lt=day).exclude(status=Status.CLOSED)


class RectificationItem(models.Model):
    """What one unit must rectify, from an inspection finding or a feedback item."""

    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    inspection = models.ForeignKey(
        Inspection,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("明查暗访"),
    )
    feedback = models.ForeignKey(
        Feedback,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("巡视反馈事项"),
    )
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="rectification_items", verbose_name=_("责任单位")
    )
    lead = models.BooleanField(_("牵头"), default=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=1)
    category = models.CharField(_("问题类别"), max_length=50)
    problem = models.TextField(_("发现问题"))
    requirement = models.TextField(_("整改要求"))
    due_on = models.DateField(_("整改时限"))
    deadline = models.ForeignKey(
        Deadline,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="rectification_items",
        verbose_name=_("截止时限"),
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(_("整改情况"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("报告人"),
    )
    answered_at = models.DateTimeField(_("报告时间"), null=True, blank=True)
    closed_on = models.DateField(_("销号日期"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("销号人"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    created_at = clock.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = RectificationItemQuerySet.as_manager()

    events: RelatedManager[ItemEvent]
    evidence: RelatedManager[ItemEvidence]

    history = audit.history()

    class Meta:
        verbose_name = _("整改事项")
        verbose_name_plural = _("整改事项")
        ordering = ["due_on", "pk"]
        permissions = [
            ("answer_rectificationitem", _("可报告整改情况")),
            ("review_rectificationitem", _("可销号或退回整改事项")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(source="inspection", inspection__isnull=False, feedback__isnull=True)
                    | Q(source="feedback", feedback__isnull=False, inspection__isnull=True)
                ),
                name="rectificationitem_one_source",
            ),
            models.UniqueConstraint(
                fields=["feedback", "unit"], name="rectificationitem_feedback_unit_once"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return f"{self.source_label} {self.unit.display_name}：{self.short_problem}"

    @property
    def short_problem(self) -> str:
        return self.problem if len(self.problem) <= 30 else self.problem[:30] + "…"

    @property
    def source_label(self) -> str:
        if self.feedback_id:
            return f"巡视反馈第{self.feedback.number}项" if self.feedback else ""
        return f"{self.inspection}" if self.inspection else ""

    def is_overdue(self, day: dt.date) -> bool:
        return self.status != Status.CLOSED and self.due_on < day


class ItemEventQuerySet(ScopedQuerySet["ItemEvent"]):
    scope_county_lookup = "item__unit__county"
    scope_unit_lookup = "item__unit"


class ItemEvent(models.Model):
    """One step of an item's timeline: who did what, when, with which comment."""

    class Action(models.TextChoices):
        RAISED = "raised", _("下发整改")
        ANSWERED = "answered", _("报告整改情况")
        CLOSED = "closed", _("销号")
        RETURNED = "returned", _("退回")

    item = models.ForeignKey(
        RectificationItem, models.CASCADE, related_name="events", verbose_name=_("整改事项")
    )
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
    status_before = models.CharField(_("原状态"), max_length=10, blank=True)
    status_after = models.CharField(_("新状态"), max_length=10, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("操作人")
    )
    at = clock.DateTimeField(_("时间"), auto_now_add=True)
    comment = models.TextField(_("说明"), blank=True)

    objects = ItemEventQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("整改记录")
        verbose_name_plural = _("整改记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


def item_evidence_path(instance: ItemEvidence, filename: str) -> str:
    return f"rectification/{instance.item_id}/{stamp()}"


class ItemEvidenceQuerySet(ScopedQuerySet["ItemEvidence"]):
    scope_county_lookup = "item__unit__county"
    scope_unit_lookup = "item__unit"


class ItemEvidence(EvidenceBase):
    """An evidence file of a unit's answer (columns, checks and download: tasks/evidence.py)."""

    item = models.ForeignKey(
        RectificationItem, models.CASCADE, related_name="evidence", verbose_name=_("整改事项")
    )
    event = models.ForeignKey(
        ItemEvent, models.CASCADE, related_name="evidence", verbose_name=_("整改记录")
    )
    file = models.FileField(_("文件"), upload_to=item_evidence_path, max_length=200)

    objects = ItemEvidenceQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("整改佐证材料")
        verbose_name_plural = _("整改佐证材料")
        ordering = ["pk"]
