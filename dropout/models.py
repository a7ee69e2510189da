"""Dropout control (控辍保学): the registries we compare and the cases we work.

- `EnrolmentSnapshot` / `EnrolmentRecord`: the student registry (学籍) as a county (or the
  city-run schools) exported it on a date. A child at two schools has two records.
- `HouseholdChild`: the household registration (户籍) list of children, by county and date.
- `DropoutCase`: one case per child (一生一案), opened by the cross-check, worked by the
  county through `CaseFollowUp` visits and forward-only status changes (`CaseStatusChange`).
- `CaseFinding`: what the cross-check found about that child, kept when the case closes.
- `CrosscheckRun`: one run of the cross-check and its counts.

The poverty roster is `tasks.RosterStudent`, shared with subsidies: never copied here.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from intake.models import Upload
from tasks import audit, clock
from tasks.models import County, Stage, Unit
from tasks.scoping import ScopedQuerySet
from xc_fupin.lib.idnumber import mask_id_number

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager


class EnrolmentStatus(models.TextChoices):
    """学籍状态: the national standard's 学生当前状态 (JY/T 1001, two-digit codes in
    `STATUS_CODES`), the registry's own 其他离校, and the county marks 辍学 / 疑似辍学.

    The stored value is the label (records imported before the national list keep
    theirs); 转学 is shown as the standard's 转学（转出）.
    """

    ENROLLED = "在读", _("在读")
    SUSPENDED = "休学", _("休学")
    WITHDRAWN = "退学", _("退学")
    STOPPED = "停学", _("停学")
    RESUMED = "复学", _("复学")
    LOST = "流失", _("流失")
    GRADUATED = "毕业", _("毕业")
    COMPLETED = "结业", _("结业")
    INCOMPLETE = "肄业", _("肄业")
    TRANSFERRED = "转学", _("转学（转出）")
    DECEASED = "死亡", _("死亡")
    RESERVED = "保留入学资格", _("保留入学资格")
    ABROAD = "公派出国", _("公派出国")
    EXPELLED = "开除", _("开除")
    MISSING = "下落不明", _("下落不明")
    OTHER = "其他", _("其他")
    OTHER_LEFT = "其他离校", _("其他离校")
    DROPPED_OUT = "辍学", _("辍学")
    SUSPECTED = "疑似辍学", _("疑似辍学")


#: JY/T 1001 学生当前状态代码 (EXTERNAL_FORMATS §1c). 其他离校, 辍学 and 疑似辍学 have
#: no code in the standard: they are accepted by label only.
STATUS_CODES: dict[str, EnrolmentStatus] = {
    "01": EnrolmentStatus.ENROLLED,
    "02": EnrolmentStatus.SUSPENDED,
    "03": EnrolmentStatus.WITHDRAWN,
    "04": EnrolmentStatus.STOPPED,
    "05": EnrolmentStatus.RESUMED,
    "06": EnrolmentStatus.LOST,
    "07": EnrolmentStatus.GRADUATED,
    "08": EnrolmentStatus.COMPLETED,
    "09": EnrolmentStatus.INCOMPLETE,
    "10": EnrolmentStatus.TRANSFERRED,
    "11": EnrolmentStatus.DECEASED,
    "12": EnrolmentStatus.RESERVED,
    "13": EnrolmentStatus.ABROAD,
    "14": EnrolmentStatus.EXPELLED,
    "15": EnrolmentStatus.MISSING,
    "99": EnrolmentStatus.OTHER,
}

#: Attending school: what the aid roster's matching calls 在读. 复学 is a child back
#: from 休学, in class again.
IN_SCHOOL_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.RESUMED)
#: Holds a place at the school (the 学籍 is kept): attending, or away for a time the
#: school approved (休学, 停学, 保留入学资格, 公派出国). A child with such a record is not
#: "enrolled nowhere".
HOLDS_PLACE_STATUSES = (
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.RESUMED,
    EnrolmentStatus.SUSPENDED,
    EnrolmentStatus.STOPPED,
    EnrolmentStatus.RESERVED,
    EnrolmentStatus.ABROAD,
)
#: Out of school without a lawful exit: each is a cross-check finding, like 辍学 (issue
#: 11 item 5). 退学, 肄业 and 开除 are not: they are lawful at a senior high school, and
#: a child of compulsory age whose only record says so holds no place, so the
#: "enrolled nowhere" rule finds them.
OUT_OF_SCHOOL_STATUSES = (
    EnrolmentStatus.DROPPED_OUT,
    EnrolmentStatus.SUSPECTED,
    EnrolmentStatus.LOST,
    EnrolmentStatus.MISSING,
    EnrolmentStatus.OTHER_LEFT,
)


class EnrolmentSnapshotQuerySet(ScopedQuerySet["EnrolmentSnapshot"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "records__school"


class EnrolmentSnapshot(models.Model):
    """The registry of one county (or, with county empty, of the city-run schools) on a date.

    Several uploads for the same county and date (one per school, say) add to the same
    snapshot; the cross-check reads, per county, the latest snapshot on or before its date.
    """

    county = models.ForeignKey(
        County, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("县市区")
    )
    as_of = models.DateField(_("统计日期"))
    created_at = clock.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = EnrolmentSnapshotQuerySet.as_manager()
    history = audit.history()

    records: RelatedManager[EnrolmentRecord]

    class Meta:
        verbose_name = _("学籍快照")
        verbose_name_plural = _("学籍快照")
        ordering = ["-as_of", "county__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "as_of"],
                condition=Q(county__isnull=False),
                name="enrolmentsnapshot_unique_county_date",
            ),
            models.UniqueConstraint(
                fields=["as_of"],
                condition=Q(county__isnull=True),
                name="enrolmentsnapshot_unique_city_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county or _('市直学校')} {self.as_of:%Y-%m-%d}"


class EnrolmentRecordQuerySet(ScopedQuerySet["EnrolmentRecord"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "school"


class EnrolmentRecord(models.Model):
    """One child at one school in one snapshot. `county` and `as_of` repeat the snapshot's
    so the cross-check and scoping filter one table without a join."""

    # Indexed by `enrolment_snapshot_id_cover` below (its first column), not on its own.
    snapshot = models.ForeignKey(
        EnrolmentSnapshot,
        models.CASCADE,
        related_name="records",
        verbose_name=_("学籍快照"),
        db_index=False,
    )
    id_number = models.CharField(_("身份证号"), max_length=18)
    name = models.CharField(_("姓名"), max_length=50)
    school = models.ForeignKey(
        Unit,
        models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Unit.Kind.SCHOOL},
        verbose_name=_("学校"),
    )
    county = models.ForeignKey(
        County, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("县市区")
    )
    grade = models.CharField(_("年级"), max_length=20, blank=True)
    status = models.CharField(_("学籍状态"), max_length=8, choices=EnrolmentStatus.choices)
    as_of = models.DateField(_("统计日期"))
    upload = models.ForeignKey(
        Upload, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("来自上传")
    )
    # What the national registry's export adds (blank/None when a file did not say).
    # Database defaults too, so rows loaded by COPY or raw SQL may leave them out.
    student_number = models.CharField(
        _("全国学籍号"), max_length=19, blank=True, default="", db_default=""
    )
    aux_number = models.CharField(
        _("学籍辅号"), max_length=30, blank=True, default="", db_default=""
    )
    gender = models.CharField(_("性别"), max_length=1, blank=True, default="", db_default="")
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    #: From the grade and the school (dropout/stages.py), at import.
    stage = models.CharField(
        _("学段"), max_length=10, choices=Stage.choices, blank=True, default="", db_default=""
    )
    class_name = models.CharField(_("班级"), max_length=20, blank=True, default="", db_default="")
    entry_month = models.DateField(_("入学年月"), null=True, blank=True)
    #: 就读方式: 住校 True, 走读 False.
    boarding = models.BooleanField(_("住校"), null=True, blank=True)
    left_behind = models.BooleanField(_("留守儿童"), null=True, blank=True)
    #: 残疾人类型 as the registry writes it; "" for 无残疾.
    disability = models.CharField(
        _("残疾人类型"), max_length=20, blank=True, default="", db_default=""
    )

    objects = EnrolmentRecordQuerySet.as_manager()
    personal_fields = ("name", "id_number", "student_number")  # masked; see tasks/privacy.py
    # Imports write millions of these: `dropout.imports` writes their historical rows
    # set-based in the same statement as the rows. Only the id is indexed in the
    # history table (to show one record's history); the other indexes would double
    # the cost of every import for lookups nobody makes.
    history = audit.history(no_db_index=["snapshot", "school", "county", "upload"])

    class Meta:
        verbose_name = _("学籍记录")
        verbose_name_plural = _("学籍记录")
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "id_number", "school"],
                name="enrolmentrecord_unique_child_school",
            ),
        ]
        indexes = [
            # The cross-check groups the snapshots' rows by child: with the columns it
            # reads included, PostgreSQL walks this index alone (an index-only scan, in
            # index order) instead of fetching every row from the table in ID order,
            # which is random I/O and grew faster than the table. Ignored on SQLite.
            models.Index(
                fields=["id_number", "snapshot"],
                include=["school", "status", "name"],
                name="enrolment_id_snapshot_cover",
            ),
            # One county's registry in ID order, read alone (index-only) by a per-county
            # cross-check; it also serves the snapshot foreign key (cascades, joins).
            models.Index(
                fields=["snapshot", "id_number"],
                include=["school", "status", "name"],
                name="enrolment_snapshot_id_cover",
            ),
            models.Index(fields=["county", "as_of"], name="enrolment_county_date"),
        ]

    def __str__(self) -> str:
        return f"{mask_id_number(self.id_number)} {self.status}"


class EnrolmentSpread(models.Model):
    """A child with enrolment records in more than one county (the city-run schools count
    as one, key 0): one row per such county, over every snapshot kept.

    A per-county cross-check reads its own county's registry and, from the other
    counties' registries, only the records of these children (and of its household and
    poverty children not enrolled at home), instead of scanning the whole enrolment table
    for every county. Kept by database triggers on the records and snapshots (migration
    0009), whatever writes them: imports (COPY and upsert), the demo, the admin, a shell.
    May hold more than the truth (a deleted record leaves its row: one more lookup),
    never less.
    """

    id_number = models.CharField(_("身份证号"), max_length=18)
    #: The county's id; 0 for the city-run schools (snapshots without a county).
    county_key = models.IntegerField(_("县市区"))

    class Meta:
        verbose_name = _("跨县学籍儿童")
        verbose_name_plural = _("跨县学籍儿童")
        constraints = [
            models.UniqueConstraint(
                fields=["county_key", "id_number"], name="enrolmentspread_unique_county_child"
            ),
        ]

    def __str__(self) -> str:
        return f"{mask_id_number(self.id_number)} {self.county_key}"


class HouseholdChildQuerySet(ScopedQuerySet["HouseholdChild"]):
    scope_county_lookup = "county"
    # A school user sees only lists their own unit uploaded (in practice none).
    scope_unit_lookup = "upload__unit"


class HouseholdChild(models.Model):
    """A child on a county's household registration list (户籍) as of a date."""

    id_number = models.CharField(_("身份证号"), max_length=18)
    name = models.CharField(_("姓名"), max_length=50)
    birth_date = models.DateField(_("出生日期"))
    county = models.ForeignKey(County, models.PROTECT, related_name="+", verbose_name=_("县市区"))
    township = models.CharField(_("乡镇"), max_length=50, blank=True)
    village = models.CharField(_("村"), max_length=50, blank=True)
    guardian = models.CharField(_("监护人"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    as_of = models.DateField(_("统计日期"))
    upload = models.ForeignKey(
        Upload, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("来自上传")
    )

    objects = HouseholdChildQuerySet.as_manager()
    personal_fields = ("name", "id_number", "guardian", "phone")
    history = audit.history(no_db_index=["county", "upload"])  # see EnrolmentRecord

    class Meta:
        verbose_name = _("户籍儿童")
        verbose_name_plural = _("户籍儿童名单")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number", "as_of"], name="householdchild_unique_date"
            ),
        ]
        indexes = [
            models.Index(fields=["county", "as_of", "birth_date"], name="household_county_date"),
        ]

    def __str__(self) -> str:
        return f"{mask_id_number(self.id_number)} {self.as_of:%Y-%m-%d}"


class CaseStatus(models.TextChoices):
    SUSPECTED = "suspected", _("疑似")
    VERIFIED = "verified", _("核实")
    PERSUADING = "persuading", _("劝返中")
    RETURNED = "returned", _("已复学")
    HOME_TEACHING = "home_teaching", _("送教上门")
    CLOSED = "closed", _("已核销")


#: The only moves a case may make. Forward only: no state can be reached again.
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    CaseStatus.SUSPECTED: (CaseStatus.VERIFIED, CaseStatus.CLOSED),
    CaseStatus.VERIFIED: (CaseStatus.PERSUADING, CaseStatus.HOME_TEACHING, CaseStatus.CLOSED),
    CaseStatus.PERSUADING: (CaseStatus.RETURNED, CaseStatus.HOME_TEACHING, CaseStatus.CLOSED),
    CaseStatus.HOME_TEACHING: (),
    CaseStatus.RETURNED: (),
    CaseStatus.CLOSED: (),
}
#: Cases still being worked; 送教上门 keeps needing visits, so it is open too.
OPEN_STATUSES = (
    CaseStatus.SUSPECTED,
    CaseStatus.VERIFIED,
    CaseStatus.PERSUADING,
    CaseStatus.HOME_TEACHING,
)


class Cause(models.TextChoices):
    POVERTY = "因贫", _("因贫")
    LEARNING = "因学习困难", _("因学习困难")
    ILLNESS = "因病", _("因病")
    DISABILITY = "因残", _("因残")
    MIGRANT_WORK = "外出务工", _("外出务工")
    EARLY_MARRIAGE = "早婚", _("早婚")
    OTHER = "其他", _("其他")


class CloseReason(models.TextChoices):
    """Lawful, explained exits: the finding was true of the data but the child is not a dropout."""

    OUT_OF_PROVINCE = "外省就读", _("外省就读")
    DECEASED = "死亡", _("死亡")
    MOVED_AWAY = "迁出", _("户籍迁出")
    GRADUATED = "已毕业", _("已毕业")
    OVER_AGE = "超龄", _("已超出义务教育年龄")
    ABROAD = "出国出境", _("出国（境）")
    DATA_ERROR = "数据错误", _("数据错误（实际在读）")
    OTHER = "其他", _("其他")


class DropoutCaseQuerySet(ScopedQuerySet["DropoutCase"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "school"

    def open(self) -> DropoutCaseQuerySet:
        return self.filter(status__in=OPEN_STATUSES)  # type: ignore[return-value]

    def needs_attention(self, today: dt.date) -> DropoutCaseQuerySet:
        """Open cases whose next follow-up is overdue or that had no follow-up in 30 days."""
        stale = today - dt.timedelta(days=30)
        return self.open().filter(  # type: ignore[return-value]
            Q(next_follow_up_due__lt=today)
            | Q(last_follow_up_on__lt=stale)
            | Q(last_follow_up_on__isnull=True, opened_on__lt=stale)
        )


class DropoutCase(models.Model):
    """One child, one case (一生一案). Never deleted: explained cases are closed (已核销)."""

    id_number = models.CharField(_("身份证号"), max_length=18, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, blank=True)
    birth_date = models.DateField(_("出生日期"))
    county = models.ForeignKey(
        County, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("县市区")
    )
    school = models.ForeignKey(
        Unit,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": Unit.Kind.SCHOOL},
        verbose_name=_("学籍学校"),
    )
    grade = models.CharField(_("年级"), max_length=20, blank=True)
    township = models.CharField(_("乡镇"), max_length=50, blank=True)
    village = models.CharField(_("村"), max_length=50, blank=True)
    guardian = models.CharField(_("监护人"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)

    # Categories (a child may be several at once).
    is_registered_poor = models.BooleanField(_("建档立卡"), default=False)
    is_left_behind = models.BooleanField(_("留守儿童"), default=False)
    is_disabled = models.BooleanField(_("残疾儿童"), default=False)
    is_other_difficulty = models.BooleanField(_("其他特殊困难"), default=False)

    cause = models.CharField(_("辍学原因"), max_length=10, choices=Cause.choices, blank=True)
    cause_note = models.CharField(_("原因说明"), max_length=200, blank=True)
    measures = models.TextField(_("帮扶措施"), blank=True)
    responsible_person = models.CharField(_("责任人"), max_length=50, blank=True)
    responsible_unit = models.ForeignKey(
        Unit,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("责任单位"),
    )

    status = models.CharField(
        _("状态"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.SUSPECTED
    )
    opened_on = models.DateField(_("立案日期"))
    outcome_date = models.DateField(_("结果日期"), null=True, blank=True)
    outcome_school = models.ForeignKey(
        Unit,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": Unit.Kind.SCHOOL},
        verbose_name=_("复学学校"),
    )
    close_reason = models.CharField(
        _("核销原因"), max_length=10, choices=CloseReason.choices, blank=True
    )
    outcome_note = models.TextField(_("结果说明/佐证"), blank=True)

    # Kept up to date by the follow-up service, so lists flag overdue cases without a join.
    last_follow_up_on = models.DateField(_("最近跟进"), null=True, blank=True)
    next_follow_up_due = models.DateField(_("下次跟进期限"), null=True, blank=True)

    created_at = clock.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = clock.DateTimeField(_("更新时间"), auto_now=True)

    objects = DropoutCaseQuerySet.as_manager()
    personal_fields = ("name", "id_number", "guardian", "phone")
    history = audit.history()

    findings: RelatedManager[CaseFinding]
    follow_ups: RelatedManager[CaseFollowUp]
    status_changes: RelatedManager[CaseStatusChange]

    class Meta:
        verbose_name = _("控辍保学个案")
        verbose_name_plural = _("控辍保学个案")
        ordering = ["-is_registered_poor", "county__order", "id_number"]
        indexes = [models.Index(fields=["county", "status"], name="case_county_status")]

    def __str__(self) -> str:
        return f"{self.id_number[:4]}…{self.id_number[-4:]}（{self.get_status_display()}）"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def allowed_next(self) -> tuple[str, ...]:
        return ALLOWED_TRANSITIONS.get(self.status, ())

    def categories(self) -> list[str]:
        flags = [
            (self.is_registered_poor, _("建档立卡")),
            (self.is_left_behind, _("留守儿童")),
            (self.is_disabled, _("残疾儿童")),
            (self.is_other_difficulty, _("其他特殊困难")),
        ]
        return [str(label) for on, label in flags if on]

    def attention_reason(self, today: dt.date) -> str:
        """Why an open case is flagged (same rule as `needs_attention`), or ""."""
        if not self.is_open:
            return ""
        if self.next_follow_up_due and self.next_follow_up_due < today:
            return str(_("下次跟进已逾期"))
        if (self.last_follow_up_on or self.opened_on) < today - dt.timedelta(days=30):
            return str(_("30天未跟进"))
        return ""


class FindingKind(models.TextChoices):
    NOT_ENROLLED = "not_enrolled", _("户籍有、学籍无")
    # A registered poor child (poverty office's list) of compulsory age with no record
    # that holds a place: found even where no household list was uploaded.
    POOR_NOT_ENROLLED = "poor_not_enrolled", _("建档立卡、学籍无")
    DOUBLE_ENROLLED = "double_enrolled", _("重复学籍")
    MARKED_DROPOUT = "marked_dropout", _("学籍标记辍学/疑似辍学")
    NAME_MISMATCH = "name_mismatch", _("姓名不一致")


class CaseFindingQuerySet(ScopedQuerySet["CaseFinding"]):
    scope_county_lookup = "case__county"
    scope_unit_lookup = "case__school"


class CaseFinding(models.Model):
    """One kind of discrepancy found about a child. A re-run on later data updates
    `last_seen_as_of`; it never adds a second row of the same kind."""

    case = models.ForeignKey(
        DropoutCase, models.CASCADE, related_name="findings", verbose_name=_("个案")
    )
    kind = models.CharField(_("核查发现"), max_length=20, choices=FindingKind.choices)
    first_seen_as_of = models.DateField(_("首次发现（核查日期）"))
    last_seen_as_of = models.DateField(_("最近发现（核查日期）"))
    details = models.JSONField(_("详情"), default=dict, blank=True)
    after_close = models.BooleanField(
        _("结案后再次发现"), default=False, help_text=_("个案已结案，核查再次发现，不重新立案")
    )
    created_at = clock.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = CaseFindingQuerySet.as_manager()
    history = audit.history()

    class Meta:
        verbose_name = _("核查发现")
        verbose_name_plural = _("核查发现")
        ordering = ["first_seen_as_of", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="casefinding_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.first_seen_as_of:%Y-%m-%d}"


class FollowUpKind(models.TextChoices):
    HOME_VISIT = "家访", _("家访")
    PERSUASION = "劝返", _("劝返")
    AID = "资助落实", _("资助落实")
    HOME_TEACHING = "送教上门", _("送教上门")


class CaseFollowUpQuerySet(ScopedQuerySet["CaseFollowUp"]):
    scope_county_lookup = "case__county"
    scope_unit_lookup = "case__school"


class CaseFollowUp(models.Model):
    case = models.ForeignKey(
        DropoutCase, models.CASCADE, related_name="follow_ups", verbose_name=_("个案")
    )
    kind = models.CharField(_("跟进方式"), max_length=8, choices=FollowUpKind.choices)
    happened_on = models.DateField(_("日期"))
    hours = models.DecimalField(
        _("送教课时（小时）"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    visitors = models.CharField(_("参与人员"), max_length=100, blank=True)
    notes = models.TextField(_("情况记录"))
    next_due = models.DateField(_("下次跟进期限"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("记录人")
    )
    recorded_at = clock.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = CaseFollowUpQuerySet.as_manager()
    history = audit.history()

    class Meta:
        verbose_name = _("跟进记录")
        verbose_name_plural = _("跟进记录")
        ordering = ["-happened_on", "-recorded_at"]

    def __str__(self) -> str:
        return f"{self.happened_on:%Y-%m-%d} {self.kind}"


class CaseStatusChangeQuerySet(ScopedQuerySet["CaseStatusChange"]):
    scope_county_lookup = "case__county"
    scope_unit_lookup = "case__school"


class CaseStatusChange(models.Model):
    """Every status a case took, with who and when. The opening is recorded too
    (from_status empty, by the cross-check: changed_by empty)."""

    case = models.ForeignKey(
        DropoutCase, models.CASCADE, related_name="status_changes", verbose_name=_("个案")
    )
    from_status = models.CharField(
        _("原状态"), max_length=16, choices=CaseStatus.choices, blank=True
    )
    to_status = models.CharField(_("新状态"), max_length=16, choices=CaseStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    changed_at = clock.DateTimeField(_("时间"), auto_now_add=True)
    note = models.TextField(_("说明"), blank=True)

    objects = CaseStatusChangeQuerySet.as_manager()
    history = audit.history()

    class Meta:
        verbose_name = _("状态变更")
        verbose_name_plural = _("状态变更")
        ordering = ["changed_at", "pk"]
        constraints = [
            # A case is opened once, even when two cross-checks run at the same moment.
            models.UniqueConstraint(
                fields=["case"], condition=Q(from_status=""), name="casestatuschange_one_opening"
            ),
        ]

    def __str__(self) -> str:
        # The statuses' Chinese names: the admin titles the record with this.
        return f"{self.get_from_status_display() or '—'} → {self.get_to_status_display()}"


class CrosscheckRunQuerySet(ScopedQuerySet["CrosscheckRun"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "county__units"


class CrosscheckRun(models.Model):
    """One run of the cross-check (数据比对核查) for one county and date, and what it found."""

    county = models.ForeignKey(County, models.PROTECT, related_name="+", verbose_name=_("县市区"))
    as_of = models.DateField(_("核查日期"))
    started_at = clock.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    findings = models.PositiveIntegerField(_("发现数"), default=0)
    cases_opened = models.PositiveIntegerField(_("新立案"), default=0)
    counts: Any = models.JSONField(_("分类计数"), default=dict, blank=True)
    triggered_by = models.CharField(_("触发方式"), max_length=50, blank=True)

    objects = CrosscheckRunQuerySet.as_manager()
    history = audit.history()

    class Meta:
        verbose_name = _("比对核查记录")
        verbose_name_plural = _("比对核查记录")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.county} {self.as_of:%Y-%m-%d}"
