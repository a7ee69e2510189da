"""Uploads: each spreadsheet sent for import, kept with its original file and result.

The model moved here from tasks (migration intake 0001, state only): its tables keep
their names, `tasks_upload` and `tasks_historicalupload`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tasks import audit, clock
from tasks.models import Unit
from tasks.scoping import ScopedQuerySet
from xc_fupin.lib.text import header_key


def upload_path(instance: Upload, filename: str) -> str:
    stamp = clock.now()
    return f"uploads/{stamp:%Y/%m}/{instance.sha256[:16]}-{stamp:%H%M%S%f}"


class UploadQuerySet(ScopedQuerySet["Upload"]):
    scope_county_lookup = "unit__county"
    scope_unit_lookup = "unit"


class Upload(models.Model):
    """One spreadsheet uploaded for import, kept with its original file and its result.

    An upload is validated in full first (state PREVIEWED, or REJECTED with every row
    error); only a confirmed upload without errors is applied, in one transaction.
    """

    class State(models.TextChoices):
        RECEIVED = "received", _("已接收")
        VALIDATING = "validating", _("校验中")
        PREVIEWED = "previewed", _("待确认")
        REJECTED = "rejected", _("已拒收")
        APPLYING = "applying", _("导入中")
        APPLIED = "applied", _("已导入")
        CANCELLED = "cancelled", _("已取消")
        FAILED = "failed", _("处理失败")

    kind = models.CharField(_("表格类型"), max_length=30)
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="uploads", verbose_name=_("上传单位")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="uploads", verbose_name=_("上传人")
    )
    file = models.FileField(_("原始文件"), upload_to=upload_path, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("文件摘要"), max_length=64, db_index=True)
    period = models.DateField(_("所属月份"), null=True, blank=True)
    # The date the uploader gave for a file without a date column (统计日期 on the page,
    # `import_sheet --as-of`); reaches the spec as ctx.options["as_of"].
    as_of = models.DateField(_("统计日期"), null=True, blank=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=State.choices, default=State.RECEIVED
    )
    progress_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    progress_total = models.PositiveIntegerField(_("总行数"), default=0)
    progress_stage = models.CharField(_("处理阶段"), max_length=50, blank=True)
    rows_total = models.PositiveIntegerField(_("数据行数"), default=0)
    rows_accepted = models.PositiveIntegerField(_("可导入行数"), default=0)
    rows_rejected = models.PositiveIntegerField(_("有误行数"), default=0)
    rows_skipped = models.PositiveIntegerField(_("重复跳过行数"), default=0)
    file_error = models.TextField(_("文件错误"), blank=True)
    errors = models.JSONField(_("行错误"), default=list, blank=True)
    skipped = models.JSONField(_("跳过的行"), default=list, blank=True)
    preview = models.JSONField(_("预览"), default=dict, blank=True)
    result = models.JSONField(_("导入结果"), default=dict, blank=True)
    created_at = clock.DateTimeField(_("上传时间"), auto_now_add=True)
    validated_at = models.DateTimeField(_("校验时间"), null=True, blank=True)
    applied_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    # The lease of the job working on this upload (intake/services.py): `queued_at` is when a
    # job was last sent, `heartbeat_at` when the running job last said it is alive. Both
    # are the database's clock, so every worker machine compares against the same one.
    queued_at = models.DateTimeField(_("最近派发时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("处理心跳"), null=True, blank=True)

    objects = UploadQuerySet.as_manager()
    # Who cancelled or retried an upload, and each state it went through. The row
    # contents stay on the upload itself; progress and the lease change every second.
    history = audit.history(
        # The tables kept their names when the model moved here from tasks: no data moved.
        table_name="tasks_historicalupload",
        excluded_fields=[
            "progress_done",
            "progress_total",
            "progress_stage",
            "errors",
            "skipped",
            "preview",
            "queued_at",
            "heartbeat_at",
        ],
    )

    class Meta:
        db_table = "tasks_upload"
        verbose_name = _("上传文件")
        verbose_name_plural = _("上传文件")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "state"])]

    #: What only the upload's own page reads; lists defer them (a rejected file's errors run
    #: to tens of kilobytes).
    DETAIL_FIELDS = ("errors", "skipped", "preview", "result")

    def __str__(self) -> str:
        return f"{self.original_name}（{self.get_state_display()}）"

    @property
    def percent(self) -> int:
        """How far the current stage is; 0 while a job is still queued (no stage total)."""
        if self.state == self.State.APPLIED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))

    @property
    def is_busy(self) -> bool:
        return self.state in {self.State.RECEIVED, self.State.VALIDATING, self.State.APPLYING}


class HeaderMappingQuerySet(ScopedQuerySet["HeaderMapping"]):
    scope_county_lookup = "unit__county"
    scope_unit_lookup = "unit"


class HeaderMapping(models.Model):
    """A header of a unit's files that means one of a sheet's columns (e.g. 学生身份证
    for 身份证号), chosen by the unit's user on an upload that lacked the column. Used for
    the unit's later uploads of that kind, from the page and from `import_sheet`."""

    unit = models.ForeignKey(Unit, models.CASCADE, related_name="+", verbose_name=_("单位"))
    kind = models.CharField(_("表格类型"), max_length=30)
    header = models.CharField(_("文件中的列名"), max_length=100)
    column = models.CharField(_("对应的列"), max_length=50)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("设置人"),
    )
    created_at = clock.DateTimeField(_("设置时间"), auto_now_add=True)

    objects = HeaderMappingQuerySet.as_manager()
    history = audit.history()

    class Meta:
        verbose_name = _("列名对应")
        verbose_name_plural = _("列名对应")
        ordering = ["kind", "column"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "kind", "header"], name="headermapping_one_per_header"
            )
        ]

    def __str__(self) -> str:
        return f"{self.header} → {self.column}"

    @staticmethod
    def key(header: str) -> str:
        """The form a header is compared in (the sheet reader's own normalisation)."""
        return header_key(header)
