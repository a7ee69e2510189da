"""The employment ledger of task 14 (建档立卡学生就业台账): registered-poor students of
vocational schools and their graduates, where each went (去向), and the one-to-one
guidance (一对一就业指导) given to each graduate not yet employed.

- `Graduate`: one row per resident ID, written by the `employment` import (a re-import
  updates it), scoped by its county: the school's county, or the household county for a
  city-run school, so a county sees every poor graduate it answers for.
- `GuidanceRecord`: one guidance session, recorded on the graduate's page by the county
  or the school; `Graduate.last_guidance_on` follows it, so lists flag a graduate with no
  guidance in 30 days without a join.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from intake.models import Upload
from tasks import audit, clock
from tasks.models import County, Unit
from tasks.scoping import ScopedQuerySet
from xc_fupin.lib.idnumber import mask_id_number, mask_name

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager

#: A graduate not employed with no guidance for longer than this is flagged (督促).
GUIDANCE_DAYS = 30


class Destination(models.TextChoices):
    """去向, as the vocational schools' graduate ledgers list it."""

    EMPLOYED = "就业", _("就业")
    FURTHER_STUDY = "升学", _("升学")
    ARMY = "参军", _("参军")
    SELF_EMPLOYED = "自主创业", _("自主创业")
    NOT_EMPLOYED = "未就业", _("未就业")


class PovertyStatus(models.TextChoices):
    """脱贫属性 as the poverty office's database writes it (EXTERNAL_FORMATS §2b)."""

    NOT_YET = "未脱贫", _("未脱贫")
    OUT_WITH_POLICY = "已脱贫（享受政策）", _("已脱贫（享受政策）")
    OUT_NO_POLICY = "已脱贫（不再享受政策）", _("已脱贫（不再享受政策）")
    PRE = "预脱贫", _("预脱贫")
    BACK = "返贫", _("返贫")


def stale_before(today: dt.date) -> dt.date:
    """Guidance (or graduation, when there was none) before this day is too long ago."""
    return today - dt.timedelta(days=GUIDANCE_DAYS)


class GraduateQuerySet(ScopedQuerySet["Graduate"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "school"

    def not_employed(self) -> GraduateQuerySet:
        return self.filter(destination=Destination.NOT_EMPLOYED)  # type: ignore[return-value]

    def without_guidance(self, today: dt.date) -> GraduateQuerySet:
        """Graduates not employed whose last guidance (or, with none, graduation) is more
        than 30 days before `today`."""
        stale = stale_before(today)
        return self.not_employed().filter(  # type: ignore[return-value]
            Q(last_guidance_on__lt=stale)
            | Q(last_guidance_on__isnull=True, graduation_date__lt=stale)
        )


class Graduate(models.Model):
    id_number = models.CharField(_("身份证号"), max_length=18, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    school = models.ForeignKey(
        Unit,
        models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Unit.Kind.SCHOOL},
        verbose_name=_("学校"),
    )
    county = models.ForeignKey(
        County,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("管理县区"),
        help_text=_("学校所在县区；市直学校为户籍县区"),
    )
    major = models.CharField(_("专业"), max_length=50)
    graduation_date = models.DateField(_("毕业时间"))
    household_county = models.ForeignKey(
        County, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("户籍县区")
    )
    poverty_status = models.CharField(
        _("脱贫属性"), max_length=20, choices=PovertyStatus.choices, blank=True
    )
    destination = models.CharField(_("去向"), max_length=8, choices=Destination.choices)
    employer = models.CharField(_("就业单位"), max_length=100, blank=True)
    workplace = models.CharField(_("就业地点"), max_length=100, blank=True)
    job = models.CharField(_("岗位"), max_length=50, blank=True)
    monthly_income = models.DecimalField(
        _("月收入（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    # Kept up to date by guidance_record, so lists flag without a join.
    last_guidance_on = models.DateField(_("最近指导"), null=True, blank=True)
    next_guidance_on = models.DateField(_("下次指导"), null=True, blank=True)
    upload = models.ForeignKey(
        Upload, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("来自上传")
    )
    created_at = clock.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = clock.DateTimeField(_("更新时间"), auto_now=True)

    objects = GraduateQuerySet.as_manager()
    personal_fields = ("name", "id_number", "phone")  # masked everywhere; tasks/privacy.py
    history = audit.history()

    guidance: RelatedManager[GuidanceRecord]

    class Meta:
        verbose_name = _("就业台账学生")
        verbose_name_plural = _("建档立卡学生就业台账")
        ordering = ["county__order", "school__order", "-graduation_date", "id_number"]
        indexes = [models.Index(fields=["county", "destination"], name="graduate_county_dest")]

    def __str__(self) -> str:
        return f"{mask_name(self.name)}（{mask_id_number(self.id_number)}）"

    @property
    def is_employed(self) -> bool:
        return self.destination != Destination.NOT_EMPLOYED

    def needs_guidance(self, today: dt.date) -> bool:
        """Same rule as `GraduateQuerySet.without_guidance`."""
        if self.is_employed:
            return False
        return (self.last_guidance_on or self.graduation_date) < stale_before(today)


class GuidanceRecordQuerySet(ScopedQuerySet["GuidanceRecord"]):
    scope_county_lookup = "graduate__county"
    scope_unit_lookup = "graduate__school"


class GuidanceRecord(models.Model):
    """One one-to-one guidance session (一对一就业指导) with a graduate not yet employed."""

    graduate = models.ForeignKey(
        Graduate, models.CASCADE, related_name="guidance", verbose_name=_("毕业生")
    )
    given_on = models.DateField(_("指导日期"))
    adviser = models.CharField(_("指导老师"), max_length=50)
    content = models.TextField(_("指导内容"))
    next_step = models.TextField(_("下一步"), blank=True)
    next_on = models.DateField(_("下次指导日期"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("记录人")
    )
    recorded_at = clock.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = GuidanceRecordQuerySet.as_manager()
    history = audit.history()

    class Meta:
        verbose_name = _("就业指导记录")
        verbose_name_plural = _("就业指导记录")
        ordering = ["-given_on", "-recorded_at"]

    def __str__(self) -> str:
        return f"{self.given_on:%Y-%m-%d} {self.adviser}"
