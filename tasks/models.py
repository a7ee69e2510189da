"""The plan as data: the notice, its goals, groups and tasks, the units responsible,
their deadlines, and the ledger (台账) of work done.

Organisations are one table, `Unit`: the city bureau and its sections, county bureaus,
language offices, the college, the collective "市直学校" and every school. A school is a
`Unit` of kind SCHOOL (see the `School` proxy) so that a user belongs to exactly one unit
and scoping needs one rule, whatever kind of unit the user sits in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xc_fupin.lib.idnumber import mask_id_number, mask_name

from . import audit, clock, evidence
from .scoping import EVERYTHING, NOTHING, Scope, ScopedQuerySet

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager


class Stage(models.TextChoices):
    """学段. Fixed by the national system, so an enum rather than a table."""

    PRESCHOOL = "学前教育", _("学前教育")
    PRIMARY = "小学", _("小学")
    JUNIOR = "初中", _("初中")
    SENIOR = "普通高中", _("普通高中")
    VOCATIONAL = "中等职业教育", _("中等职业教育")
    HIGHER = "高等教育", _("高等教育")


class County(models.Model):
    """A county-level division of 宣城. Codes change (广德县 341822 became 广德市 341882
    in 2019), so the code history lives in `CountyCode` and `slug` is the stable key."""

    slug = models.SlugField(_("标识"), unique=True)
    name = models.CharField(
        _("简称"), max_length=20, help_text=_("不含县/区/市后缀的变化，如“广德”")
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    codes: RelatedManager[CountyCode]

    class Meta:
        verbose_name = _("县市区")
        verbose_name_plural = _("县市区")
        ordering = ["order"]

    def __str__(self) -> str:
        return self.current_name()

    def _current(self) -> CountyCode | None:
        codes = list(self.codes.all())
        current = [c for c in codes if c.is_current]
        return (current or codes)[-1] if codes else None

    def current_name(self) -> str:
        code = self._current()
        return code.name if code else self.name

    def current_code(self) -> str:
        code = self._current()
        return code.code if code else ""


class CountyCode(models.Model):
    """One GB/T 2260 code of a county. Every code a county ever had stays valid for matching
    (ID numbers keep the code they were issued under); dates are recorded when known and
    left empty rather than guessed."""

    county = models.ForeignKey(
        County, models.CASCADE, related_name="codes", verbose_name=_("县市区")
    )
    code = models.CharField(_("行政区划代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=20)
    is_current = models.BooleanField(_("现行代码"), default=True)
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("停用日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("行政区划代码")
        verbose_name_plural = _("行政区划代码")
        ordering = ["county__order", "-is_current", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class UnitQuerySet(ScopedQuerySet["Unit"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "pk"


class Unit(models.Model):
    class Kind(models.TextChoices):
        CITY_BUREAU = "city_bureau", _("市教体局")
        CITY_SECTION = "city_section", _("市局科室/直属单位")
        CITY_OFFICE = "city_office", _("市级其他机构")
        COUNTY_BUREAU = "county_bureau", _("县市区教体局")
        COUNTY_OFFICE = "county_office", _("县市区语委办")
        CITY_SCHOOLS = "city_schools", _("市直学校（集体）")
        COLLEGE = "college", _("高等院校")
        SCHOOL = "school", _("学校")

    code = models.CharField(_("单位代码"), max_length=32, unique=True)
    name = models.CharField(
        _("单位名称"), max_length=100, help_text=_("按文件写法，如“市教体局计财科”")
    )
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    county = models.ForeignKey(
        County,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        verbose_name=_("所属县市区"),
        help_text=_("市级单位和市直学校为空"),
    )
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级单位"),
    )
    order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("在用"), default=True)
    # Only for schools.
    school_code = models.CharField(
        _("学校标识码"), max_length=20, unique=True, null=True, blank=True
    )
    stages = models.JSONField(_("学段"), default=list, blank=True)
    is_city_run = models.BooleanField(_("市直"), default=False)

    objects = UnitQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="school") | Q(school_code__isnull=True),
                name="unit_school_code_only_for_schools",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def is_city_level(self) -> bool:
        return self.kind in {self.Kind.CITY_BUREAU, self.Kind.CITY_SECTION, self.Kind.CITY_OFFICE}

    def scope(self) -> Scope:
        """What a member of this unit may see (the rules are in tasks/scoping.py)."""
        if not self.is_active:
            return NOTHING
        if self.is_city_level:
            return EVERYTHING
        if self.kind in {self.Kind.COUNTY_BUREAU, self.Kind.COUNTY_OFFICE} and self.county_id:
            return Scope(county_id=self.county_id)
        if self.kind == self.Kind.CITY_SCHOOLS:
            ids = set(
                Unit.objects.filter(kind=self.Kind.SCHOOL, is_city_run=True).values_list(
                    "pk", flat=True
                )
            )
            return Scope(unit_ids=frozenset(ids | {self.pk}))
        return Scope(unit_ids=frozenset({self.pk}))


class SchoolManager(models.Manager["School"]):
    def get_queryset(self) -> Any:
        return UnitQuerySet(self.model, using=self._db).filter(kind=Unit.Kind.SCHOOL)

    def for_user(self, user: Any) -> Any:
        return self.get_queryset().for_user(user)


class School(Unit):
    """Schools are units of kind SCHOOL; this proxy gives them their own admin and manager."""

    objects: ClassVar[SchoolManager] = SchoolManager()  # type: ignore[assignment]

    class Meta:
        proxy = True
        verbose_name = _("学校")
        verbose_name_plural = _("学校")

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.kind = Unit.Kind.SCHOOL
        super().save(*args, **kwargs)


class User(AbstractUser):
    """Every user belongs to one unit; what they may see follows from it."""

    unit = models.ForeignKey(
        Unit,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("所在单位"),
    )
    # AbstractUser's default is timezone.now; accounts made in the demo are made "today".
    date_joined = models.DateTimeField(_("加入日期"), default=clock.now)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    must_change_password = models.BooleanField(
        _("须修改密码"),
        default=False,
        help_text=_("导入的账号带一次性初始密码：首次登录须先修改密码，之后才能使用其他页面"),
    )

    history = audit.history(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")


class Plan(models.Model):
    """The notice and the plan it issues."""

    doc_number = models.CharField(_("文号"), max_length=50, unique=True)
    notice_title = models.CharField(_("通知标题"), max_length=200)
    title = models.CharField(_("计划名称"), max_length=200)
    issued_on = models.DateField(_("印发日期"))
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    issuer = models.CharField(_("发文单位"), max_length=100)
    addressees = models.CharField(_("主送"), max_length=200)
    year = models.PositiveSmallIntegerField(_("年度"))
    guiding_principle = models.TextField(_("指导思想"))

    goals: RelatedManager[Goal]
    groups: RelatedManager[TaskGroup]

    class Meta:
        verbose_name = _("工作计划")
        verbose_name_plural = _("工作计划")

    def __str__(self) -> str:
        return f"{self.doc_number} {self.title}"


class Goal(models.Model):
    plan = models.ForeignKey(Plan, models.CASCADE, related_name="goals", verbose_name=_("计划"))
    number = models.PositiveSmallIntegerField(_("序号"))
    text = models.TextField(_("目标内容"))

    class Meta:
        verbose_name = _("主要工作目标")
        verbose_name_plural = _("主要工作目标")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="goal_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.number}、{self.text}"


class TaskGroup(models.Model):
    plan = models.ForeignKey(Plan, models.CASCADE, related_name="groups", verbose_name=_("计划"))
    number = models.PositiveSmallIntegerField(_("序号"))
    numeral = models.CharField(_("编号"), max_length=4, help_text=_("一 … 六"))
    title = models.CharField(_("任务组名称"), max_length=200)
    units_text = models.CharField(_("责任单位（原文）"), max_length=200, blank=True)

    tasks: RelatedManager[Task]

    class Meta:
        verbose_name = _("任务组")
        verbose_name_plural = _("任务组")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="taskgroup_unique_number")
        ]

    def __str__(self) -> str:
        return f"（{self.numeral}）{self.title}"


class Task(models.Model):
    group = models.ForeignKey(
        TaskGroup, models.CASCADE, related_name="tasks", verbose_name=_("任务组")
    )
    number = models.PositiveSmallIntegerField(_("序号"))
    text = models.TextField(_("任务内容"), help_text=_("文件原文，不含责任单位括注"))
    units_text = models.CharField(
        _("责任单位（原文）"),
        max_length=200,
        blank=True,
        help_text=_("文件括注原文；任务2–8为空，沿用任务组的责任单位"),
    )
    cadence_text = models.CharField(_("完成时限"), max_length=100)
    units: models.ManyToManyField[Unit, Responsibility] = models.ManyToManyField(
        Unit, through="Responsibility", related_name="tasks", verbose_name=_("责任单位")
    )

    responsibilities: RelatedManager[Responsibility]
    deadlines: RelatedManager[Deadline]

    history = audit.history()

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["group", "number"], name="task_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.number}、{self.short_text}"

    @property
    def short_text(self) -> str:
        first = self.text.split("。")[0]
        return first if len(first) <= 40 else first[:40] + "…"


class ResponsibilityQuerySet(ScopedQuerySet["Responsibility"]):
    # Scoped so the admin shows a county its own units' rows only (the pages show tasks).
    scope_county_lookup = "unit__county"
    scope_unit_lookup = "unit"


class Responsibility(models.Model):
    """A unit responsible for a task, in the document's order; `lead` marks the 牵头单位."""

    task = models.ForeignKey(
        Task, models.CASCADE, related_name="responsibilities", verbose_name=_("任务")
    )
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="responsibilities", verbose_name=_("单位")
    )
    lead = models.BooleanField(_("牵头"), default=False)
    order = models.PositiveSmallIntegerField(_("顺序"))
    source_text = models.CharField(
        _("原文写法"), max_length=50, help_text=_("文件中的写法，如“各县市区教体局”")
    )

    objects = ResponsibilityQuerySet.as_manager()
    history = audit.history()

    class Meta:
        verbose_name = _("责任分工")
        verbose_name_plural = _("责任分工")
        ordering = ["task__number", "order"]
        constraints = [
            models.UniqueConstraint(fields=["task", "unit"], name="responsibility_unique_unit")
        ]

    def __str__(self) -> str:
        return f"{self.task.number} {self.unit}{'（牵头）' if self.lead else ''}"


class Deadline(models.Model):
    """A dated deadline of a task. Rows, not code: an administrator edits them."""

    class Kind(models.TextChoices):
        SEMESTER = "semester", _("学期")
        MONTHLY = "monthly", _("月度")
        QUARTERLY = "quarterly", _("季度")
        ANNUAL = "annual", _("年度")
        # Due dates of rectification items (inspections app): not plan data, not ledger
        # deadlines; load_plan never makes them and the board leaves them out.
        RECTIFICATION = "rectify", _("整改时限")

    task = models.ForeignKey(Task, models.CASCADE, related_name="deadlines", verbose_name=_("任务"))
    kind = models.CharField(_("周期"), max_length=12, choices=Kind.choices)
    label = models.CharField(_("名称"), max_length=100)
    period_start = models.DateField(_("期间开始"))
    period_end = models.DateField(_("期间结束"))
    due_on = models.DateField(_("截止日期"))
    stated_in_plan = models.BooleanField(
        _("文件明确规定"),
        default=False,
        help_text=_("否：文件未写明日期，此为默认值，可修改"),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    history = audit.history()

    class Meta:
        verbose_name = _("截止时限")
        verbose_name_plural = _("截止时限")
        ordering = ["due_on", "task__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "kind", "period_start"], name="deadline_unique_period"
            )
        ]

    def __str__(self) -> str:
        return f"任务{self.task.number} {self.label}（{self.due_on:%Y-%m-%d}前）"


class LedgerEntryQuerySet(ScopedQuerySet["LedgerEntry"]):
    scope_county_lookup = "unit__county"
    scope_unit_lookup = "unit"


class LedgerEntry(models.Model):
    """One report of progress by one unit on one task for one month.

    Entries are never edited after submission: a returned entry stays as it was and the
    correction is a new entry pointing at it through `revision_of`.
    """

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("未开始")
        IN_PROGRESS = "in_progress", _("进行中")
        DONE = "done", _("已完成")
        OVERDUE = "overdue", _("逾期")

    class Review(models.TextChoices):
        PENDING = "pending", _("待审核")
        ACCEPTED = "accepted", _("已采纳")
        RETURNED = "returned", _("已退回")

    task = models.ForeignKey(
        Task, models.PROTECT, related_name="ledger_entries", verbose_name=_("任务")
    )
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="ledger_entries", verbose_name=_("单位")
    )
    period = models.DateField(_("月份"), help_text=_("该月第一天"))
    status = models.CharField(_("进展状态"), max_length=12, choices=Status.choices)
    narrative = models.TextField(_("工作情况"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("填报人")
    )
    submitted_at = clock.DateTimeField(_("填报时间"), auto_now_add=True)
    review = models.CharField(
        _("审核状态"), max_length=10, choices=Review.choices, default=Review.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_comment = models.TextField(_("审核意见"), blank=True)
    revision_of = models.OneToOneField(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="revision",
        verbose_name=_("更正自"),
    )

    objects = LedgerEntryQuerySet.as_manager()

    evidence: RelatedManager[LedgerEvidence]

    history = audit.history()

    class Meta:
        verbose_name = _("台账记录")
        verbose_name_plural = _("台账记录")
        ordering = ["-period", "-submitted_at"]
        permissions = [("review_ledgerentry", _("可审核台账记录"))]
        indexes = [models.Index(fields=["task", "unit", "period"])]

    def __str__(self) -> str:
        return f"{self.task.number} {self.unit} {self.period:%Y-%m}"


def evidence_path(instance: LedgerEvidence, filename: str) -> str:
    return f"evidence/{instance.entry.period:%Y}/{instance.entry_id}/{evidence.stamp()}"


class LedgerEvidenceQuerySet(ScopedQuerySet["LedgerEvidence"]):
    scope_county_lookup = "entry__unit__county"
    scope_unit_lookup = "entry__unit"


class LedgerEvidence(evidence.EvidenceBase):
    entry = models.ForeignKey(
        LedgerEntry, models.CASCADE, related_name="evidence", verbose_name=_("台账记录")
    )
    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=200)

    objects = LedgerEvidenceQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")


class Indicator(models.Model):
    """A quantity a task reports (培训人次, 投稿篇数, 中央资金 …): plan data, loaded by
    load_plan from the plan file and edited in the admin afterwards.

    `code` is the stable key load_plan matches on, so an administrator may rename an
    indicator or change its unit without the next load_plan putting the old one back;
    an indicator no longer wanted is switched off (`is_active`), not deleted."""

    task = models.ForeignKey(
        Task, models.CASCADE, related_name="indicators", verbose_name=_("任务")
    )
    code = models.SlugField(_("标识"), max_length=40, unique=True)
    name = models.CharField(_("指标名称"), max_length=50)
    measure = models.CharField(_("计量单位"), max_length=10, help_text=_("如“人次”“篇”“万元”"))
    sums_over_months = models.BooleanField(
        _("按月累加"),
        default=True,
        help_text=_(
            "是：各月数值相加得到期间合计（如培训人次）；否：取期间内最近一个月的数值（如毕业生人数）"
        ),
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("在用"), default=True)

    history = audit.history()

    class Meta:
        verbose_name = _("任务指标")
        verbose_name_plural = _("任务指标")
        ordering = ["task__number", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["task", "name"], name="indicator_unique_name")
        ]

    def __str__(self) -> str:
        return f"任务{self.task.number} {self.name}（{self.measure}）"


class IndicatorValueQuerySet(ScopedQuerySet["IndicatorValue"]):
    scope_county_lookup = "unit__county"
    scope_unit_lookup = "unit"


class IndicatorValue(models.Model):
    """One unit's value of one indicator for one month: reported with the month's ledger
    entry or by an indicator sheet; the latest report of a month replaces the earlier one
    (the history keeps both)."""

    indicator = models.ForeignKey(
        Indicator, models.PROTECT, related_name="values", verbose_name=_("指标")
    )
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="indicator_values", verbose_name=_("单位")
    )
    period = models.DateField(_("月份"), help_text=_("该月第一天"))
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=2)
    entry = models.ForeignKey(
        LedgerEntry,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="indicator_values",
        verbose_name=_("随台账填报"),
    )
    updated_at = clock.DateTimeField(_("填报时间"), auto_now=True)

    objects = IndicatorValueQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("指标数值")
        verbose_name_plural = _("指标数值")
        ordering = ["indicator__task__number", "indicator__order", "unit__order", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "unit", "period"], name="indicatorvalue_unique_month"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="indicatorvalue_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.name} {self.unit} {self.period:%Y-%m}"


class RosterSnapshotQuerySet(ScopedQuerySet["RosterSnapshot"]):
    # A batch belongs to the unit that uploaded it; batches loaded by the city (no upload)
    # are seen by the city only.
    scope_county_lookup = "upload__unit__county"
    scope_unit_lookup = "upload__unit"


class RosterSnapshot(models.Model):
    """One delivery of the poverty office's roster (建档立卡人口数据库), as of a date."""

    as_of = models.DateField(_("名册日期"))
    source = models.CharField(_("来源"), max_length=100, default="扶贫部门建档立卡人口数据库")
    # By name: tasks never imports intake (intake builds on tasks).
    upload = models.ForeignKey(
        "intake.Upload",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("来自上传"),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = clock.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = RosterSnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("建档立卡名册批次")
        verbose_name_plural = _("建档立卡名册批次")
        ordering = ["-as_of"]

    def __str__(self) -> str:
        return f"{self.as_of:%Y-%m-%d} {self.source}"


class RosterStudentQuerySet(ScopedQuerySet["RosterStudent"]):
    scope_county_lookup = "county"
    scope_unit_lookup = "school"


class RosterStudent(models.Model):
    """A registered poor-family student (建档立卡贫困家庭学生), one row per resident ID.

    The roster is master data shared by subsidies (who is owed aid) and dropout control
    (who is flagged first), and those two apps never import each other, so it lives here
    beside units and schools. `county` is the school's county, or the household county
    when the school is unknown: it is what scoping filters on.
    """

    id_number = models.CharField(_("身份证号"), max_length=18, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=[("男", "男"), ("女", "女")])
    birth_date = models.DateField(_("出生日期"))
    household_county = models.ForeignKey(
        County, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("户籍县区")
    )
    county = models.ForeignKey(
        County,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="roster_students",
        verbose_name=_("管理县区"),
    )
    school = models.ForeignKey(
        Unit,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="roster_students",
        limit_choices_to={"kind": Unit.Kind.SCHOOL},
        verbose_name=_("就读学校"),
    )
    stage = models.CharField(_("学段"), max_length=12, choices=Stage.choices)
    grade = models.CharField(_("年级"), max_length=20, blank=True)
    boarding = models.BooleanField(_("寄宿"), default=False)
    snapshot = models.ForeignKey(
        RosterSnapshot, models.PROTECT, related_name="students", verbose_name=_("名册批次")
    )
    is_active = models.BooleanField(_("在册"), default=True)
    updated_at = clock.DateTimeField(_("更新时间"), auto_now=True)

    objects = RosterStudentQuerySet.as_manager()
    personal_fields = ("name", "id_number")  # shown masked; see tasks/privacy.py

    # Rows are written set-based by the hundred thousand (match_roster, roster imports):
    # the history keeps its look-ups by record (id), ID number, date and user, not an
    # index per foreign key (4 of its 10 indexes; cf. EnrolmentRecord, PovertyMember).
    history = audit.history(no_db_index=["household_county", "county", "school", "snapshot"])

    class Meta:
        verbose_name = _("建档立卡学生")
        verbose_name_plural = _("建档立卡学生名册")
        ordering = ["county__order", "school__order", "id_number"]
        indexes = [
            models.Index(fields=["county", "stage"]),
        ]

    def __str__(self) -> str:
        # Masked: __str__ reaches admin lists of related rows (告知), titles, history and
        # the admin log, none of which may show a child's full name.
        return f"{mask_name(self.name)}（{mask_id_number(self.id_number)}）"


class PersonalDataAccess(models.Model):
    """A logged look at a child's unmasked personal data: one reveal, or one export.

    Names and ID numbers are masked everywhere by default (GB/T 35273 §7.2; under the
    PIPL, data of children under 14 is sensitive). Seeing them in full needs a
    permission and a reason, and leaves this row behind.
    """

    class Kind(models.TextChoices):
        REVEAL = "reveal", _("查看完整信息")
        EXPORT = "export", _("导出完整信息")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("用户")
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    target = models.CharField(_("对象"), max_length=100, help_text=_("模型与编号，或导出的名称"))
    rows = models.PositiveIntegerField(_("涉及条数"), default=1)
    reason = models.CharField(_("事由"), max_length=200)
    address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    at = clock.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-at"]
        permissions = [
            ("reveal_personal_data", _("可查看单条完整个人信息（需填写事由）")),
            ("export_personal_data", _("可导出含完整身份证号的数据（需填写事由）")),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display()} {self.target}"


class DataVersion(models.Model):
    """A counter per data area ("subsidies", "dropout" …), bumped by every change that can
    alter its figures. Cached figures are keyed by it, so a change makes them stale at once."""

    name = models.CharField(_("数据范围"), max_length=30, unique=True)
    number = models.PositiveBigIntegerField(_("版本"), default=0)
    changed_at = clock.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("数据版本")
        verbose_name_plural = _("数据版本")

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class JobRun(models.Model):
    """The last run of each periodic job (one row per django-celery-beat schedule), shown
    next to the schedule in the admin (tasks/jobruns.py). One row per job, not one per
    run: the admin answers "did it run, and how did it end", and the table never grows."""

    class State(models.TextChoices):
        RUNNING = "running", _("运行中")
        SUCCESS = "success", _("成功")
        FAILURE = "failure", _("失败")

    name = models.CharField(_("周期性任务"), max_length=200, unique=True)
    task = models.CharField(_("任务"), max_length=200)
    state = models.CharField(_("结果"), max_length=10, choices=State.choices)
    result = models.CharField(_("返回值或错误"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("周期性任务运行记录")
        verbose_name_plural = _("周期性任务运行记录")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_state_display()}）"
