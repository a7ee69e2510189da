"""The monthly cycle: submissions (月报), reminders, escalation notices (督办单) and the
generated reports (月点评, 季通报).

Every row a job writes is claimed by a unique constraint (Reminder per deadline, unit and
offset; Escalation per deadline, unit and level; Report per kind and period), so a job run
twice, or by two beat processes at once, writes each row once.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tasks import audit, clock
from tasks.models import Deadline, Unit
from tasks.scoping import ScopedQuerySet, user_scope

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager


def _stamp() -> str:
    return clock.now().strftime("%Y%m%d%H%M%S%f")


class ReportingSettings(models.Model):
    """One row of rules an administrator edits (the defaults of the monthly cycle)."""

    due_day = models.PositiveSmallIntegerField(
        _("月报截止日（次月几日）"),
        default=5,
        help_text=_("某月没有“任务5”月度截止时限时，月报在次月该日前报送"),
    )
    expected_kinds = models.JSONField(
        _("月报应含的上传表格"),
        default=list,
        blank=True,
        help_text=_('上传表格类型代码列表，如 ["disbursements", "enrolment"]'),
    )
    reminder_offsets = models.JSONField(
        _("提前提醒天数"), default=list, blank=True, help_text=_("如 [14, 7, 3, 1]")
    )
    correction_days = models.PositiveSmallIntegerField(
        _("整改报告期限（天）"), default=10, help_text=_("督办单下发后多少天内报送整改报告")
    )
    escalation_prefix = models.CharField(_("督办单文号前缀"), max_length=20, default="宣教督")
    circular_prefix = models.CharField(_("通报文号前缀"), max_length=20, default="宣教通")
    issuer = models.CharField(_("发文单位"), max_length=50, default="宣城市教育体育局")
    updated_at = clock.DateTimeField(_("修改时间"), auto_now=True)

    history = audit.history()

    class Meta:
        verbose_name = _("月报与督办设置")
        verbose_name_plural = _("月报与督办设置")

    def __str__(self) -> str:
        return str(_("月报与督办设置"))

    @classmethod
    def current(cls) -> ReportingSettings:
        row = cls.objects.order_by("pk").first()
        if row is None:
            row, _c = cls.objects.get_or_create(
                pk=1,
                defaults={
                    "expected_kinds": ["disbursements", "enrolment"],
                    "reminder_offsets": [14, 7, 3, 1],
                },
            )
        return row

    @property
    def offsets(self) -> list[int]:
        return sorted({int(x) for x in (self.reminder_offsets or [14, 7, 3, 1])}, reverse=True)


class ReportingUnitQuerySet(ScopedQuerySet["ReportingUnit"]):
    scope_county_lookup = "unit__county"
    scope_unit_lookup = "unit"


class ReportingUnit(models.Model):
    """A unit that sends a monthly submission, and the months it exists in.

    A unit that did not exist in a month (a county created later, a school merged away)
    is not expected to report for it: completeness counts only valid months.
    """

    unit = models.OneToOneField(
        Unit, models.CASCADE, related_name="reporting", verbose_name=_("报送单位")
    )
    valid_from = models.DateField(_("起报月份"), null=True, blank=True)
    valid_to = models.DateField(_("止报日期"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    objects = ReportingUnitQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("月报单位")
        verbose_name_plural = _("月报单位")
        ordering = ["order"]

    def __str__(self) -> str:
        return self.unit.display_name

    def valid_in(self, period: dt.date) -> bool:
        """Whether the unit reports for the month starting `period` (its dates only; the
        unit's being active is the caller's to check)."""
        end = _month_end(period)
        return (self.valid_from is None or self.valid_from <= end) and (
            self.valid_to is None or self.valid_to >= period
        )


def _month_end(period: dt.date) -> dt.date:
    nxt = (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


class SubmissionQuerySet(ScopedQuerySet["MonthlySubmission"]):
    scope_county_lookup = "unit__county"
    scope_unit_lookup = "unit"


class MonthlySubmission(models.Model):
    """One unit's monthly report (月报) for one month: its uploads, a narrative and the
    signed-and-stamped cover sheet. Each submit, return, review and reopen is kept as a
    `SubmissionEvent`, so a returned and resubmitted report loses nothing."""

    class State(models.TextChoices):
        NOT_SUBMITTED = "not_submitted", _("未报")
        SUBMITTED = "submitted", _("已报")
        RETURNED = "returned", _("退回")
        REVIEWED = "reviewed", _("已审核")

    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="monthly_submissions", verbose_name=_("报送单位")
    )
    period = models.DateField(_("月份"), help_text=_("该月第一天"))
    due_on = models.DateField(_("截止日期"))
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.NOT_SUBMITTED
    )
    version = models.PositiveSmallIntegerField(_("版本"), default=0)
    narrative = models.TextField(_("情况说明"), blank=True)
    figures = models.JSONField(_("报送数据"), default=dict, blank=True)
    first_submitted_at = models.DateTimeField(_("首次报送时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("报送人"),
    )
    review_comment = models.TextField(_("审核意见"), blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )

    objects = SubmissionQuerySet.as_manager()

    events: RelatedManager[SubmissionEvent]

    history = audit.history()

    class Meta:
        verbose_name = _("月报")
        verbose_name_plural = _("月报")
        ordering = ["-period", "unit__order"]
        permissions = [("review_monthlysubmission", _("可审核月报"))]
        constraints = [
            models.UniqueConstraint(fields=["unit", "period"], name="submission_unique_month")
        ]

    def __str__(self) -> str:
        return f"{self.unit.display_name} {self.period:%Y年%-m月}月报"

    @property
    def on_time(self) -> bool | None:
        """Judged by the first submission: a report fixed after a return stays on time."""
        if self.first_submitted_at is None:
            return None
        from django.utils import timezone

        return timezone.localtime(self.first_submitted_at).date() <= self.due_on

    @property
    def latest_cover(self) -> SubmissionEvent | None:
        return self.events.exclude(cover_sheet="").order_by("-at").first()


def cover_path(instance: SubmissionEvent, filename: str) -> str:
    # Never the uploader's name: it may carry a path or a script.
    return f"reports/covers/{instance.submission.period:%Y%m}/{instance.submission_id}-{_stamp()}"


class SubmissionEventQuerySet(ScopedQuerySet["SubmissionEvent"]):
    scope_county_lookup = "submission__unit__county"
    scope_unit_lookup = "submission__unit"


class SubmissionEvent(models.Model):
    """One step in a submission's life, with what was submitted at that step (never edited)."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("报送")
        RETURNED = "returned", _("退回")
        REVIEWED = "reviewed", _("审核通过")
        REOPENED = "reopened", _("重新打开")

    submission = models.ForeignKey(
        MonthlySubmission, models.CASCADE, related_name="events", verbose_name=_("月报")
    )
    action = models.CharField(_("操作"), max_length=12, choices=Action.choices)
    version = models.PositiveSmallIntegerField(_("版本"))
    narrative = models.TextField(_("情况说明"), blank=True)
    figures = models.JSONField(_("报送数据"), default=dict, blank=True)
    upload_ids = models.JSONField(_("所含上传"), default=list, blank=True)
    comment = models.TextField(_("意见/理由"), blank=True)
    cover_sheet = models.FileField(
        _("签字盖章封面"), upload_to=cover_path, max_length=200, blank=True
    )
    cover_name = models.CharField(_("封面原文件名"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("操作人")
    )
    at = clock.DateTimeField(_("时间"), auto_now_add=True)

    objects = SubmissionEventQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("月报记录")
        verbose_name_plural = _("月报记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.submission} v{self.version} {self.get_action_display()}"


class MonthLock(models.Model):
    """A reviewed month, locked against changes; reopening needs a reason (kept in history)."""

    period = models.DateField(_("月份"), unique=True)
    locked = models.BooleanField(_("已锁定"), default=True)
    history = models.JSONField(_("锁定记录"), default=list, blank=True)
    updated_at = clock.DateTimeField(_("修改时间"), auto_now=True)

    audit_history = audit.history()

    class Meta:
        verbose_name = _("月份锁定")
        verbose_name_plural = _("月份锁定")

    def __str__(self) -> str:
        return f"{self.period:%Y年%-m月}{'（已锁定）' if self.locked else ''}"


class ReminderQuerySet(ScopedQuerySet["Reminder"]):
    scope_county_lookup = "unit__county"
    scope_unit_lookup = "unit"


class MailState(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    NO_RECIPIENT = "none", _("无邮箱")


class Reminder(models.Model):
    """A reminder to one unit, N days before one deadline, saying what is outstanding."""

    deadline = models.ForeignKey(
        Deadline, models.CASCADE, related_name="reminders", verbose_name=_("截止时限")
    )
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="reminders", verbose_name=_("单位"))
    offset_days = models.PositiveSmallIntegerField(_("提前天数"))
    items = models.JSONField(_("未完成事项"), default=list)
    created_on = models.DateField(_("提醒日期"))
    created_at = clock.DateTimeField(_("生成时间"), auto_now_add=True)
    mail_state = models.CharField(
        _("邮件"), max_length=8, choices=MailState.choices, default=MailState.PENDING
    )
    mail_claimed_at = models.DateTimeField(_("开始发送"), null=True, blank=True)
    recipients = models.JSONField(_("收件人"), default=list, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    objects = ReminderQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("截止提醒")
        verbose_name_plural = _("截止提醒")
        ordering = ["-created_on", "unit__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["deadline", "unit", "offset_days"], name="reminder_once_per_offset"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit.display_name}：{self.deadline.label} 还有{self.offset_days}天"

    @property
    def subject(self) -> str:
        return f"【截止提醒】{self.deadline.label}（{self.deadline.due_on:%Y年%-m月%-d日}截止，还有{self.offset_days}天）"


class BreachQuerySet(ScopedQuerySet["Breach"]):
    scope_county_lookup = "unit__county"
    scope_unit_lookup = "unit"


class Breach(models.Model):
    """A passed deadline with work outstanding: the items are marked overdue (逾期)."""

    deadline = models.ForeignKey(
        Deadline, models.CASCADE, related_name="breaches", verbose_name=_("截止时限")
    )
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="breaches", verbose_name=_("单位"))
    items = models.JSONField(_("逾期事项"), default=list)
    recorded_on = models.DateField(_("记录日期"))

    objects = BreachQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("逾期记录")
        verbose_name_plural = _("逾期记录")
        ordering = ["-recorded_on"]
        constraints = [
            models.UniqueConstraint(fields=["deadline", "unit"], name="breach_once_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.unit.display_name} {self.deadline.label} 逾期"


class DocCounter(models.Model):
    """The last number used of a document series (e.g. 宣教督〔2019〕N号)."""

    prefix = models.CharField(_("文号前缀"), max_length=20)
    year = models.PositiveSmallIntegerField(_("年度"))
    last = models.PositiveIntegerField(_("已用至"), default=0)

    class Meta:
        verbose_name = _("文号计数")
        verbose_name_plural = _("文号计数")
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="doccounter_unique_series")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}〔{self.year}〕{self.last}号"


class EscalationQuerySet(ScopedQuerySet["Escalation"]):
    scope_county_lookup = "unit__county"
    scope_unit_lookup = "unit"


class Escalation(models.Model):
    """A 督办单 raised against a unit that missed a deadline. Level 2 follows when no
    correction plan (整改报告) arrived by `answer_due`."""

    class State(models.TextChoices):
        OPEN = "open", _("待整改")
        ANSWERED = "answered", _("已报整改报告")
        CLOSED = "closed", _("已销号")

    deadline = models.ForeignKey(
        Deadline, models.CASCADE, related_name="escalations", verbose_name=_("截止时限")
    )
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="escalations", verbose_name=_("被督办单位")
    )
    level = models.PositiveSmallIntegerField(_("督办级别"), default=1)
    number = models.CharField(_("文号"), max_length=40, unique=True)
    year = models.PositiveSmallIntegerField(_("年度"))
    seq = models.PositiveIntegerField(_("序号"))
    items = models.JSONField(_("逾期事项"), default=list)
    raised_on = models.DateField(_("下发日期"))
    answer_due = models.DateField(_("整改报告期限"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    previous = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("前次督办"),
    )
    mail_state = models.CharField(
        _("邮件"), max_length=8, choices=MailState.choices, default=MailState.PENDING
    )
    mail_claimed_at = models.DateTimeField(_("开始发送"), null=True, blank=True)
    recipients = models.JSONField(_("收件人"), default=list, blank=True)
    created_at = clock.DateTimeField(_("生成时间"), auto_now_add=True)

    objects = EscalationQuerySet.as_manager()

    answers: RelatedManager[CorrectionReport]

    history = audit.history()

    class Meta:
        verbose_name = _("督办单")
        verbose_name_plural = _("督办单")
        ordering = ["-raised_on", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["deadline", "unit", "level"], name="escalation_once_per_level"
            ),
            models.UniqueConstraint(fields=["year", "seq"], name="escalation_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.unit.display_name}"

    @property
    def subject(self) -> str:
        word = "督办单" if self.level == 1 else "再次督办单"
        return f"【{word}】{self.number}：{self.deadline.label}逾期未完成"


def answer_path(instance: CorrectionReport, filename: str) -> str:
    return f"reports/corrections/{instance.escalation.year}/{instance.escalation_id}-{_stamp()}"


class CorrectionReportQuerySet(ScopedQuerySet["CorrectionReport"]):
    scope_county_lookup = "escalation__unit__county"
    scope_unit_lookup = "escalation__unit"


class CorrectionReport(models.Model):
    """The unit's written answer to an escalation notice (整改报告), with its file."""

    escalation = models.ForeignKey(
        Escalation, models.CASCADE, related_name="answers", verbose_name=_("督办单")
    )
    text = models.TextField(_("整改措施"))
    file = models.FileField(_("整改报告文件"), upload_to=answer_path, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("报送人")
    )
    submitted_at = clock.DateTimeField(_("报送时间"), auto_now_add=True)

    objects = CorrectionReportQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("整改报告")
        verbose_name_plural = _("整改报告")
        ordering = ["submitted_at"]

    def __str__(self) -> str:
        return f"{self.escalation.number} 整改报告"


class ReportQuerySet(models.QuerySet["Report"]):
    def for_user(self, user: Any) -> ReportQuerySet:
        """City users see every report; others see issued ones (they are addressed to them)."""
        scope = user_scope(user)
        if scope.sees_all:
            return self
        if scope.sees_nothing:
            return self.none()
        return self.filter(state=Report.State.ISSUED)


def report_path(instance: Report, filename: str) -> str:
    return f"reports/{instance.kind}/{instance.period:%Y%m}/{_stamp()}-{filename}"


class Report(models.Model):
    """A monthly review (月点评) or quarterly circular (季通报), with its files and the
    figures it was built from. Issued reports are frozen: nothing rewrites them."""

    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("月点评")
        QUARTERLY = "quarterly", _("季通报")

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        APPROVED = "approved", _("已审定")
        ISSUED = "issued", _("已印发")

    class Job(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已生成")
        FAILED = "failed", _("生成失败")

    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    period = models.DateField(_("期间"), help_text=_("月份或季度的第一天"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.DRAFT)
    job_state = models.CharField(
        _("生成状态"), max_length=8, choices=Job.choices, default=Job.QUEUED
    )
    job_error = models.TextField(_("生成错误"), blank=True)
    doc_number = models.CharField(_("文号"), max_length=40, blank=True)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    texts = models.JSONField(
        _("正文（可编辑）"), default=dict, blank=True, help_text=_("summary、requirements 等段落")
    )
    texts_edited = models.BooleanField(_("正文已人工修改"), default=False)
    figures = models.JSONField(_("数据快照"), default=dict, blank=True)
    docx = models.FileField(_("Word 文档"), upload_to=report_path, max_length=200, blank=True)
    xlsx = models.FileField(_("Excel 附件"), upload_to=report_path, max_length=200, blank=True)
    edited_docx = models.FileField(
        _("人工修改稿"), upload_to=report_path, max_length=200, blank=True
    )
    generated_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审定人"),
    )
    approved_at = models.DateTimeField(_("审定时间"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("印发人"),
    )
    issued_at = models.DateTimeField(_("印发时间"), null=True, blank=True)
    created_at = clock.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ReportQuerySet.as_manager()

    history = audit.history()

    class Meta:
        verbose_name = _("点评与通报")
        verbose_name_plural = _("点评与通报")
        ordering = ["-period", "kind"]
        permissions = [("issue_report", _("可审定、印发通报"))]
        constraints = [
            models.UniqueConstraint(fields=["kind", "period"], name="report_once_per_period")
        ]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} {self.period_label}"

    @property
    def period_label(self) -> str:
        if self.kind == self.Kind.QUARTERLY:
            return f"{self.period.year}年第{(self.period.month - 1) // 3 + 1}季度"
        return f"{self.period.year}年{self.period.month}月"

    @property
    def period_code(self) -> str:
        if self.kind == self.Kind.QUARTERLY:
            return f"{self.period.year}Q{(self.period.month - 1) // 3 + 1}"
        return f"{self.period:%Y-%m}"

    @property
    def is_frozen(self) -> bool:
        return self.state == self.State.ISSUED


__all__ = [
    "Breach",
    "CorrectionReport",
    "DocCounter",
    "Escalation",
    "MailState",
    "MonthLock",
    "MonthlySubmission",
    "Reminder",
    "Report",
    "ReportingSettings",
    "ReportingUnit",
    "SubmissionEvent",
]
