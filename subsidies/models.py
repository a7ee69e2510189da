"""Student aid: items and their standards, semesters, payments and notices to families.

Who is owed what is data, not code: an item is owed at a stage to the students its
standard's 适用对象 covers (boarding, non-boarding or all), in the semesters the standard
applies to. The roster itself (`tasks.RosterStudent`) is shared master data in `tasks`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from intake.models import Upload
from tasks import audit, clock
from tasks.models import County, Deadline, RosterStudent, Stage, Unit
from tasks.scoping import ScopedQuerySet
from xc_fupin.lib.idnumber import mask_id_number


class SubsidyItem(models.Model):
    """A kind of aid (资助项目), e.g. 普通高中国家助学金."""

    name = models.CharField(_("资助项目"), max_length=60, unique=True)
    aliases = models.CharField(
        _("其他写法"),
        max_length=300,
        blank=True,
        help_text=_("表格中可能出现的其他名称，用顿号或逗号分隔，如“寄宿生生活补助、生活补助”"),
    )
    checks_tier = models.BooleanField(
        _("按最高档核对"),
        default=True,
        help_text=_(
            "免学费、免学杂费等按学校实际收费减免的项目不按档次核对，只核对是否遗漏和是否超过上限"
        ),
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    note = models.TextField(_("说明"), blank=True)
    is_active = models.BooleanField(_("在用"), default=True)

    history = audit.history()

    class Meta:
        verbose_name = _("资助项目")
        verbose_name_plural = _("资助项目")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def alias_list(self) -> list[str]:
        text = self.aliases.replace("，", "、").replace(",", "、")
        return [a.strip() for a in text.split("、") if a.strip()]


class SemesterManager(models.Manager["Semester"]):
    # The deadline lives on the plan's row; nearly every read of a semester needs it.
    def get_queryset(self) -> models.QuerySet[Semester]:
        return super().get_queryset().select_related("plan_deadline")


class Semester(models.Model):
    """A semester and its disbursement deadline (春季学期6月15日前、秋季学期9月25日前).

    The deadline is not stored here: it is the task-3 `Deadline` row of the plan
    (`plan_deadline`), the one the deadline checks, reminders and the 截止时限 admin use,
    so the semester and the plan can never give two different dates. `load_plan` creates
    the plan's semesters from the plan data.
    """

    class Term(models.TextChoices):
        SPRING = "春", _("春季学期")
        FALL = "秋", _("秋季学期")

    code = models.CharField(_("学期"), max_length=10, unique=True, help_text=_("如 2019春、2019秋"))
    year = models.PositiveSmallIntegerField(_("年度"))
    term = models.CharField(_("季节"), max_length=1, choices=Term.choices)
    start = models.DateField(_("学期开始"))
    end = models.DateField(_("学期结束"))
    plan_deadline = models.OneToOneField(
        Deadline,
        models.PROTECT,
        related_name="semester",
        limit_choices_to={"kind": Deadline.Kind.SEMESTER},
        verbose_name=_("发放截止时限"),
        help_text=_("工作计划中该学期的资助发放截止时限；日期在“截止时限”中修改"),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    history = audit.history()
    objects = SemesterManager()

    class Meta:
        verbose_name = _("学期")
        verbose_name_plural = _("学期")
        ordering = ["-start"]
        constraints = [
            models.UniqueConstraint(fields=["year", "term"], name="semester_unique_year_term"),
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="semester_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def deadline(self) -> dt.date:
        """发放截止日期: the plan's date, as edited in the 截止时限 admin."""
        return self.plan_deadline.due_on


class SubsidyStandard(models.Model):
    """The amount of an item per semester at one stage, for one group of students, one tier.

    A standard names one semester, or none: then it applies to every semester that starts
    between valid_from and valid_to. Of the standards that apply to a student, the one with
    the largest amount is the highest tier (标准最高档).
    """

    class Target(models.TextChoices):
        BOARDING = "寄宿生", _("寄宿生")
        NON_BOARDING = "非寄宿生", _("非寄宿生")
        ALL = "全体", _("全体")

    item = models.ForeignKey(
        SubsidyItem, models.PROTECT, related_name="standards", verbose_name=_("资助项目")
    )
    stage = models.CharField(_("学段"), max_length=12, choices=Stage.choices)
    target = models.CharField(
        _("适用对象"), max_length=6, choices=Target.choices, default=Target.ALL
    )
    semester = models.ForeignKey(
        Semester,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="standards",
        verbose_name=_("学期"),
        help_text=_("为空表示有效期内的每个学期"),
    )
    tier = models.CharField(
        _("档次"), max_length=20, help_text=_("如 一档、二档；金额最大的一档为最高档")
    )
    amount = models.DecimalField(_("金额（元/学期）"), max_digits=12, decimal_places=2)
    valid_from = models.DateField(_("有效期起"), default=dt.date(2019, 1, 1))
    valid_to = models.DateField(_("有效期止"), null=True, blank=True)
    source = models.TextField(
        _("依据/来源"), blank=True, help_text=_("文件依据；没有可靠来源时写明“待核实”")
    )

    history = audit.history()

    class Meta:
        verbose_name = _("资助标准")
        verbose_name_plural = _("资助标准")
        ordering = ["item__order", "stage", "target", "-amount"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "stage", "target", "semester", "tier"],
                condition=Q(semester__isnull=False),
                name="standard_unique_per_semester",
            ),
            models.UniqueConstraint(
                fields=["item", "stage", "target", "tier", "valid_from"],
                condition=Q(semester__isnull=True),
                name="standard_unique_generic",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="standard_amount_not_negative"),
        ]

    def __str__(self) -> str:
        when = self.semester.code if self.semester_id and self.semester else _("每学期")
        return f"{self.item} {self.stage} {self.target} {when} {self.tier} {self.amount}元"

    def applies_to(self, semester: Semester) -> bool:
        if self.semester_id is not None:
            return self.semester_id == semester.pk
        return self.valid_from <= semester.start and (
            self.valid_to is None or self.valid_to >= semester.start
        )

    def covers(self, boarding: bool) -> bool:
        if self.target == self.Target.ALL:
            return True
        return boarding == (self.target == self.Target.BOARDING)


class DisbursementQuerySet(ScopedQuerySet["Disbursement"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "school"


class Disbursement(models.Model):
    """One payment to one student for one item in one semester (发放明细).

    Keyed by ID number, not by a roster row: other needy students are paid too, and the
    omission check lists them apart. `county` is the paying school's county (empty for
    city-run schools): it is what scoping filters on.
    """

    id_number = models.CharField(_("身份证号"), max_length=18)
    name = models.CharField(_("姓名"), max_length=50)
    # No single-column indexes for school, county and item: each extra index slows a
    # 100,000-row COPY, and deleting a school or an item is rare (PROTECT then scans once).
    school = models.ForeignKey(
        Unit,
        models.PROTECT,
        related_name="disbursements",
        verbose_name=_("就读学校"),
        db_index=False,
    )
    county = models.ForeignKey(
        County,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="disbursements",
        verbose_name=_("县区"),
        db_index=False,
    )
    item = models.ForeignKey(
        SubsidyItem,
        models.PROTECT,
        related_name="disbursements",
        verbose_name=_("资助项目"),
        db_index=False,
    )
    # Kept: the omission check reads one semester's payments through it.
    semester = models.ForeignKey(
        Semester, models.PROTECT, related_name="disbursements", verbose_name=_("学期")
    )
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    paid_on = models.DateField(_("发放日期"))
    # Not indexed either: nothing reads payments by upload (the history does, through
    # history_upload_id), and deleting an upload is an administrator's rare act.
    upload = models.ForeignKey(
        Upload,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("来自上传"),
        db_index=False,
    )
    created_at = clock.DateTimeField(_("导入时间"), auto_now_add=True)

    objects = DisbursementQuerySet.as_manager()
    personal_fields = ("name", "id_number")  # shown masked; see tasks/privacy.py

    # The historical table takes 100,000 rows per import: index only what the per-record
    # history page and the audit queries look up (id, history_date, history_user), not
    # every foreign key simple-history would index by default.
    history = audit.history(no_db_index=["school", "county", "item", "semester", "upload"])

    class Meta:
        verbose_name = _("资助发放明细")
        verbose_name_plural = _("资助发放明细")
        ordering = ["-semester__start", "school__order", "id_number"]
        constraints = [
            # Column order matters: this index also serves the omission check's join,
            # which looks payments up by semester, item and ID number.
            models.UniqueConstraint(
                fields=["semester", "item", "id_number"], name="disbursement_once_per_item_semester"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["id_number"], name="disb_id_number"),
            models.Index(fields=["semester", "county"], name="disb_semester_county"),
            models.Index(fields=["semester", "school"], name="disb_semester_school"),
        ]

    def __str__(self) -> str:
        return f"{mask_id_number(self.id_number)} {self.amount}"


class NoticeQuerySet(ScopedQuerySet["Notice"]):
    scope_county_lookup = "student__county"
    scope_unit_lookup = "student__school"


class Notice(models.Model):
    """The notice to a family of the aid its child received in a semester (资助信息告知单),
    and whether it reached them. A family counts as informed once any of delivered, signed
    or visited is recorded."""

    class Way(models.TextChoices):
        DELIVERED = "delivered", _("已送达")
        SIGNED = "signed", _("家长已签收")
        VISITED = "visited", _("入户走访告知")

    student = models.ForeignKey(
        RosterStudent, models.CASCADE, related_name="subsidy_notices", verbose_name=_("学生")
    )
    semester = models.ForeignKey(
        Semester, models.PROTECT, related_name="notices", verbose_name=_("学期")
    )
    generated_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    generated_total = models.DecimalField(
        _("告知金额合计"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("最近一次生成告知单时列出的金额合计"),
    )
    delivered_on = models.DateField(_("送达日期"), null=True, blank=True)
    signed_on = models.DateField(_("签收日期"), null=True, blank=True)
    visited_on = models.DateField(_("走访日期"), null=True, blank=True)
    handled_by = models.CharField(
        _("经办人"), max_length=50, blank=True, help_text=_("送达、签收或走访的老师/干部")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    recorded_at = models.DateTimeField(_("登记时间"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    objects = NoticeQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("资助信息告知单")
        verbose_name_plural = _("资助信息告知单")
        ordering = ["semester", "student__school__order", "student__id_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["semester", "student"], name="notice_once_per_semester"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.semester} {self.student}"

    @property
    def informed(self) -> bool:
        return bool(self.delivered_on or self.signed_on or self.visited_on)

    @property
    def informed_on(self) -> dt.date | None:
        dates = [d for d in (self.delivered_on, self.signed_on, self.visited_on) if d]
        return min(dates) if dates else None


# --- the omission check's maintained findings (subsidies/findings.py) ------------------


class OmissionFinding(models.Model):
    """One finding of the omission check of one semester, for the whole city: what the
    check's single pass over the roster and the payments produces, kept so that a page
    reads one narrow table instead of joining a million students to two million payments.

    Maintained set-based by subsidies/findings.py; plain integer columns (no foreign keys):
    a refresh deletes and re-inserts thousands of rows and nothing joins through them.
    Internal: no admin, never shown except through the omission check's scoping.
    """

    semester_id = models.IntegerField()
    id_number = models.CharField(max_length=18)
    county_id = models.IntegerField(null=True)
    school_id = models.IntegerField(null=True)
    stage = models.CharField(max_length=20, null=True)  # noqa: DJ001 - NULL: off the roster
    owed = models.SmallIntegerField()
    item_id = models.IntegerField()
    top = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    paid_on = models.DateField(null=True)
    paid_school_id = models.IntegerField(null=True)
    missing = models.SmallIntegerField()
    below = models.SmallIntegerField()
    late = models.SmallIntegerField()
    unowed = models.SmallIntegerField()
    offroster = models.SmallIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["semester_id", "id_number"], name="finding_semester_id"),
            # The page's order has its own index, finding_page_order, on PostgreSQL only
            # (ID in COLLATE "C", which SQLite lacks): see migration 0008.
        ]

    def __str__(self) -> str:
        return f"{mask_id_number(self.id_number)} {self.item_id}"


class FindingsSummary(models.Model):
    """The stored findings of one semester counted per county and stage, kept with them
    (subsidies/findings.py adds what a refresh inserts and takes off what it deletes), so
    that a county's figures and its omission counts read a few rows, not its ~70,000
    findings (at province scale) grouped per student.

    No NULLs in the key, so that one unique constraint covers every row on any database:
    county 0 is no county (the city-run schools; off the roster, a school with no county),
    stage "" is off the roster.
    """

    semester_id = models.IntegerField()
    county_id = models.IntegerField()
    stage = models.CharField(max_length=20)
    findings = models.BigIntegerField()
    missing = models.BigIntegerField()
    below = models.BigIntegerField()
    late = models.BigIntegerField()
    unowed = models.BigIntegerField()
    offroster = models.BigIntegerField()
    owed_late = models.BigIntegerField()  # late payments of items the student is owed
    incomplete = models.BigIntegerField()  # students missing at least one item owed

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["semester_id", "county_id", "stage"], name="findings_summary_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.semester_id} {self.county_id} {self.stage}"


class FindingsBuilt(models.Model):
    """A semester whose findings are built: the check reads them (plus the dirty IDs)."""

    semester_id = models.IntegerField(primary_key=True)
    built_at = clock.DateTimeField()

    def __str__(self) -> str:
        return str(self.semester_id)


class FindingsDirty(models.Model):
    """An ID number whose roster row or payments changed since its findings were computed
    (filled by database triggers on PostgreSQL, so every writer is covered); the check
    computes these live until a refresh folds them in."""

    id_number = models.CharField(max_length=18, primary_key=True)

    def __str__(self) -> str:
        return mask_id_number(self.id_number)
