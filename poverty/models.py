"""The poverty office's 建档立卡 population (全国扶贫开发信息系统), county by county.

- `PovertySnapshot`: one county's member export as of a date. Several uploads for the
  same county and date add to the same snapshot; matching reads, per county, the latest
  snapshot on or before the semester.
- `PovertyMember`: one person of a registered household in a snapshot: adults and
  children alike, as the system lists them. Household and person numbers stay text
  (10 to 14 digits, leading zeros matter).

Values are stored as the system exports them, normalised only where the export varies:
在校生状况 (2016–2019 labels and the later 防返贫 labels) and 脱贫属性 (full- or half-width
parentheses) each become one choice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

from intake.models import Upload
from tasks import audit, clock
from tasks.models import County, Stage
from tasks.scoping import Scope, ScopedQuerySet
from xc_fupin.lib.idnumber import mask_id_number

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager


class SchoolStatus(models.TextChoices):
    """在校生状况, normalised (see `poverty.imports.SCHOOL_STATUS_ALIASES` for the labels
    and codes each value is read from)."""

    NOT_IN_SCHOOL = "非在校生", _("非在校生")
    PRESCHOOL_AGE = "学龄前儿童", _("学龄前儿童")
    PRESCHOOL = "学前教育", _("学前教育")
    PRIMARY = "小学", _("小学")
    GRADE_7 = "七年级", _("七年级")
    GRADE_8 = "八年级", _("八年级")
    GRADE_9 = "九年级", _("九年级")
    SENIOR_1 = "高中一年级", _("高中一年级")
    SENIOR_2 = "高中二年级", _("高中二年级")
    SENIOR_3 = "高中三年级", _("高中三年级")
    VOCATIONAL_1 = "中职一年级", _("中职一年级")
    VOCATIONAL_2 = "中职二年级", _("中职二年级")
    VOCATIONAL_3 = "中职三年级", _("中职三年级")
    HIGHER_VOCATIONAL_1 = "高职一年级", _("高职一年级")
    HIGHER_VOCATIONAL_2 = "高职二年级", _("高职二年级")
    HIGHER_VOCATIONAL_3 = "高职三年级", _("高职三年级")
    COLLEGE = "大专及以上", _("大专及以上")
    UNDERGRADUATE = "本科", _("本科")
    POSTGRADUATE = "硕士研究生及以上", _("硕士研究生及以上")


#: The stage each 在校生状况 says the member is at (none: not in school).
SCHOOL_STATUS_STAGE: dict[str, str | None] = {
    SchoolStatus.NOT_IN_SCHOOL: None,
    SchoolStatus.PRESCHOOL_AGE: None,
    SchoolStatus.PRESCHOOL: Stage.PRESCHOOL,
    SchoolStatus.PRIMARY: Stage.PRIMARY,
    SchoolStatus.GRADE_7: Stage.JUNIOR,
    SchoolStatus.GRADE_8: Stage.JUNIOR,
    SchoolStatus.GRADE_9: Stage.JUNIOR,
    SchoolStatus.SENIOR_1: Stage.SENIOR,
    SchoolStatus.SENIOR_2: Stage.SENIOR,
    SchoolStatus.SENIOR_3: Stage.SENIOR,
    SchoolStatus.VOCATIONAL_1: Stage.VOCATIONAL,
    SchoolStatus.VOCATIONAL_2: Stage.VOCATIONAL,
    SchoolStatus.VOCATIONAL_3: Stage.VOCATIONAL,
    SchoolStatus.HIGHER_VOCATIONAL_1: Stage.HIGHER,
    SchoolStatus.HIGHER_VOCATIONAL_2: Stage.HIGHER,
    SchoolStatus.HIGHER_VOCATIONAL_3: Stage.HIGHER,
    SchoolStatus.COLLEGE: Stage.HIGHER,
    SchoolStatus.UNDERGRADUATE: Stage.HIGHER,
    SchoolStatus.POSTGRADUATE: Stage.HIGHER,
}

#: Stages the K-12 student registry (学籍) holds; the others come from separate rosters.
REGISTRY_STAGES = (Stage.PRIMARY, Stage.JUNIOR, Stage.SENIOR)


class PovertyStatus(models.TextChoices):
    """脱贫属性 (a.k.a. 脱贫状态/脱贫标志), with the system's full-width parentheses."""

    NOT_LIFTED = "未脱贫", _("未脱贫")
    LIFTED_WITH_POLICY = "已脱贫（享受政策）", _("已脱贫（享受政策）")
    LIFTED_NO_POLICY = "已脱贫（不再享受政策）", _("已脱贫（不再享受政策）")
    ABOUT_TO_LIFT = "预脱贫", _("预脱贫")
    RELAPSED = "返贫", _("返贫")


#: Every status but 已脱贫（不再享受政策） still carries the aid policy.
POLICY_STATUSES = (
    PovertyStatus.NOT_LIFTED,
    PovertyStatus.LIFTED_WITH_POLICY,
    PovertyStatus.ABOUT_TO_LIFT,
    PovertyStatus.RELAPSED,
)


class PovertySnapshotQuerySet(ScopedQuerySet["PovertySnapshot"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "members__upload__unit"

    def for_scope(self, scope: Scope) -> ScopedQuerySet[PovertySnapshot]:
        # The export is a county's: a school user sees no batch (their own members, if
        # they ever uploaded any, are reached through PovertyMember's scope).
        if scope.sees_all or scope.county_id is not None:
            return super().for_scope(scope)
        return self.none()


class PovertySnapshot(models.Model):
    """One county's 建档立卡 member export as of a date."""

    county = models.ForeignKey(County, models.PROTECT, related_name="+", verbose_name=_("县市区"))
    as_of = models.DateField(_("数据日期"))
    created_at = clock.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = PovertySnapshotQuerySet.as_manager()
    history = audit.history()

    members: RelatedManager[PovertyMember]

    class Meta:
        verbose_name = _("建档立卡数据批次")
        verbose_name_plural = _("建档立卡数据批次")
        ordering = ["-as_of", "county__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "as_of"], name="povertysnapshot_unique_county_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.as_of:%Y-%m-%d}"


class PovertyMemberQuerySet(ScopedQuerySet["PovertyMember"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "upload__unit"


class PovertyMember(models.Model):
    """One member of a registered poor household in one county's snapshot."""

    snapshot = models.ForeignKey(
        PovertySnapshot, models.CASCADE, related_name="members", verbose_name=_("数据批次")
    )
    county = models.ForeignKey(County, models.PROTECT, related_name="+", verbose_name=_("县市区"))
    township = models.CharField(_("乡（镇）"), max_length=50, blank=True)
    village = models.CharField(_("行政村"), max_length=50, blank=True)
    natural_village = models.CharField(_("自然村"), max_length=50, blank=True)
    household_number = models.CharField(_("户编号"), max_length=30)
    person_number = models.CharField(_("人编号"), max_length=30, blank=True)
    name = models.CharField(_("姓名"), max_length=50)
    id_number = models.CharField(_("身份证号"), max_length=18)
    # A 残疾人证 number is the ID plus 2 (or 4) digits of category and grade.
    card_suffix = models.CharField(_("残疾人证号后缀"), max_length=4, blank=True)
    household_size = models.PositiveSmallIntegerField(_("人数"), null=True, blank=True)
    relation = models.CharField(_("与户主关系"), max_length=20, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    education = models.CharField(_("文化程度"), max_length=30, blank=True)
    school_status = models.CharField(_("在校生状况"), max_length=10, choices=SchoolStatus.choices)
    health = models.CharField(_("健康状况"), max_length=20, blank=True)
    labour_skill = models.CharField(_("劳动技能"), max_length=20, blank=True)
    migrant_months = models.PositiveSmallIntegerField(_("务工时间（月）"), null=True, blank=True)
    poverty_status = models.CharField(_("脱贫属性"), max_length=12, choices=PovertyStatus.choices)
    household_type = models.CharField(_("贫困户属性"), max_length=20, blank=True)
    poverty_cause = models.CharField(_("主要致贫原因"), max_length=30, blank=True)
    as_of = models.DateField(_("数据日期"))
    upload = models.ForeignKey(
        Upload, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("来自上传")
    )

    objects = PovertyMemberQuerySet.as_manager()
    personal_fields = ("name", "id_number")  # masked everywhere; see tasks/privacy.py
    # Millions of rows, written set-based with their historical rows (intake/writer.py);
    # only the id is indexed in the history table, as for dropout's EnrolmentRecord.
    history = audit.history(no_db_index=["snapshot", "county", "upload"])

    class Meta:
        verbose_name = _("建档立卡人口")
        verbose_name_plural = _("建档立卡人口")
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "id_number"], name="povertymember_unique_person"
            ),
        ]
        indexes = [
            models.Index(fields=["county", "as_of"], name="povertymember_county_date"),
        ]

    def __str__(self) -> str:
        return f"{mask_id_number(self.id_number)} {self.poverty_status}"

    @property
    def stated_stage(self) -> str | None:
        """The stage the poverty office says the member is at (None: not in school)."""
        return SCHOOL_STATUS_STAGE.get(self.school_status)
