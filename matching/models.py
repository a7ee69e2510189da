"""The matching (比对) of the poverty office's members against the student registry.

- `MatchRun`: one run for a semester and a county (or every county), with its progress
  while the job works and its counts when done.
- `MatchFinding`: what a run found that someone must correct, per semester: members the
  poverty office lists in school at 小学/初中/高中 with no 在读 registry record
  (unmatched, with the reason), matched members whose 在校生状况 disagrees with the
  registry's stage, and members at stages the K-12 registry does not hold (listed apart).
  The roster itself is `tasks.RosterStudent`, shared with the uploaded rosters.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dropout.models import IN_SCHOOL_STATUSES
from subsidies.models import Semester
from tasks import audit, clock
from tasks.models import County, Stage, Unit
from tasks.scoping import Scope, ScopedQuerySet
from xc_fupin.lib.idnumber import mask_id_number


class MatchRunQuerySet(ScopedQuerySet["MatchRun"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "county__units"

    def for_scope(self, scope: Scope) -> ScopedQuerySet[MatchRun]:
        # A run belongs to a county (or, county empty, to the city); schools run none.
        if scope.sees_all or scope.county_id is not None:
            return super().for_scope(scope)
        return self.none()


class MatchRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("比对中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    semester = models.ForeignKey(Semester, models.PROTECT, related_name="+", verbose_name=_("学期"))
    county = models.ForeignKey(
        County,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("县市区"),
        help_text=_("空：全市各县市区"),
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default="queued")
    progress_stage = models.CharField(_("处理阶段"), max_length=50, blank=True)
    progress_done = models.PositiveSmallIntegerField(_("已完成步骤"), default=0)
    progress_total = models.PositiveSmallIntegerField(_("总步骤"), default=0)
    counts: Any = models.JSONField(_("结果计数"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发起人"),
    )
    triggered_by = models.CharField(_("触发方式"), max_length=50, blank=True)
    created_at = clock.DateTimeField(_("提交时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = MatchRunQuerySet.as_manager()
    history = audit.history(excluded_fields=["progress_stage", "progress_done", "progress_total"])

    class Meta:
        verbose_name = _("名册比对记录")
        verbose_name_plural = _("名册比对记录")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.semester} {self.county or _('全市')}"

    @property
    def is_busy(self) -> bool:
        return self.state in {self.State.QUEUED, self.State.RUNNING}

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))


class FindingKind(models.TextChoices):
    UNMATCHED = "unmatched", _("学籍无在读记录")
    STAGE_MISMATCH = "stage_mismatch", _("在校生状况与学籍学段不符")
    APART = "apart", _("非义务教育及高中阶段（另册核对）")


class MatchFindingQuerySet(ScopedQuerySet["MatchFinding"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "school"


class MatchFinding(models.Model):
    """One member the semester's matching could not put on the roster as the poverty office
    has them, or put there with a stage the poverty office states differently."""

    semester = models.ForeignKey(Semester, models.PROTECT, related_name="+", verbose_name=_("学期"))
    county = models.ForeignKey(
        County, models.PROTECT, related_name="+", verbose_name=_("户籍县市区")
    )
    kind = models.CharField(_("类别"), max_length=16, choices=FindingKind.choices)
    id_number = models.CharField(_("身份证号"), max_length=18)
    name = models.CharField(_("姓名"), max_length=50)
    township = models.CharField(_("乡（镇）"), max_length=50, blank=True)
    village = models.CharField(_("行政村"), max_length=50, blank=True)
    household_number = models.CharField(_("户编号"), max_length=30, blank=True)
    school_status = models.CharField(_("在校生状况"), max_length=10)
    poverty_status = models.CharField(_("脱贫属性"), max_length=12)
    school = models.ForeignKey(
        Unit,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("学籍学校"),
    )
    grade = models.CharField(_("学籍年级"), max_length=20, blank=True)
    registry_stage = models.CharField(
        _("学籍学段"), max_length=12, choices=Stage.choices, blank=True
    )
    registry_status = models.CharField(_("学籍状态"), max_length=8, blank=True)

    objects = MatchFindingQuerySet.as_manager()
    personal_fields = ("name", "id_number")
    # Written set-based with their historical rows, like the registry's records.
    history = audit.history(no_db_index=["semester", "county", "school"])

    class Meta:
        verbose_name = _("名册比对发现")
        verbose_name_plural = _("名册比对发现")
        ordering = ["county__order", "kind", "id_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["semester", "county", "id_number", "kind"],
                name="matchfinding_unique_member_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["semester", "county", "kind"], name="matchfinding_semester_kind"),
        ]

    def __str__(self) -> str:
        return f"{mask_id_number(self.id_number)} {self.get_kind_display()}"

    @property
    def reason(self) -> str:
        """Why a member is unmatched, in the words the page and the command print."""
        if self.kind == FindingKind.UNMATCHED:
            if not self.registry_status:
                return "学籍中无记录"
            if self.registry_status in IN_SCHOOL_STATUSES:
                return "学籍记录未注明学段"
            return f"学籍状态为{self.registry_status}"
        if self.kind == FindingKind.STAGE_MISMATCH:
            return f"扶贫系统为{self.school_status}，学籍为{self.registry_stage}"
        return f"{self.school_status}，不在中小学学籍系统"
