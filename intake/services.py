"""The spreadsheet upload pipeline: receive → validate (preview) → confirm → apply.

Every import (browser, admin, `import_sheet`, Celery) goes through these functions with
an `ImportSpec` from `intake.base`. Validation never writes domain rows. Apply re-reads
and re-validates the stored file (the database may have changed since the preview) and
writes everything in one transaction, or nothing.

States are claimed with conditional updates, so a job delivered twice, or run by two
workers at once, does the work once; a worker that dies mid-apply leaves the transaction
rolled back and the upload in APPLYING, and running the job again finishes it.

A job working on an upload holds a lease: a thread of its own refreshes `heartbeat_at`
every few seconds on its own database connection (and carries the progress, so the bar
moves even while the rows are written inside the apply transaction; on SQLite, with one
writer at a time, the job beats with its progress instead). A worker killed
with SIGKILL stops beating; once the lease is older than `settings.UPLOAD_LEASE_SECONDS`
(and no job was sent in that time) the upload is *stalled*: `uploads_resume` sends it again, and its
uploader may retry or cancel it. A second job for an upload whose lease is fresh exits
at once, so a resent job never runs next to a live one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from tasks import audit, clock
from tasks.audit import audit_source
from tasks.figures import data_changed
from tasks.models import Unit
from tasks.scoping import Scope, unit_scope, user_scope
from xc_fupin.lib.sheets import ColumnSpec, SheetError, read_table

from .base import ImportContext, ImportSpec, ValidationResult, get_spec
from .models import HeaderMapping, Upload

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20
# Progress is written at most this often: enough for a live bar, not a write per row.
PROGRESS_EVERY_SECONDS = 0.5
BUSY_STATES = ("received", "validating", "applying")


def lease_seconds() -> int:
    return int(settings.UPLOAD_LEASE_SECONDS)


def heartbeat_seconds() -> float:
    # Several beats per lease, so a busy database does not make a live job look dead.
    return min(5.0, lease_seconds() / 6)


class _Lease(threading.Thread):
    """Renews one upload's lease and writes its latest progress, from its own thread.

    Django gives each thread its own connection, in autocommit: the beats and the
    progress are visible while the job's own connection is inside the apply transaction
    (which therefore never locks the upload row itself, see `_lock_upload`). Not used
    on SQLite (see `upload_lease`). A failed beat is skipped; the next one reconnects.
    """

    def __init__(self, upload_id: int) -> None:
        super().__init__(name=f"upload-lease-{upload_id}", daemon=True)
        self.upload_id = upload_id
        self.progress: tuple[str, int, int] | None = None
        self.stopping = threading.Event()
        self.changed = threading.Event()

    def report(self, stage: str, done: int, total: int) -> None:
        self.progress = (stage, done, total)
        self.changed.set()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self._beat()
                self.changed.wait(heartbeat_seconds())
                self.changed.clear()
                if not self.stopping.is_set():
                    time.sleep(PROGRESS_EVERY_SECONDS)
        finally:
            connection.close()

    def _beat(self) -> None:
        fields: dict[str, Any] = {"heartbeat_at": Now()}
        if self.progress is not None:
            stage, done, total = self.progress
            fields.update(progress_stage=stage, progress_done=done, progress_total=total)
        try:
            # Only while the upload is busy: a late beat never rewrites a finished one.
            Upload.objects.filter(pk=self.upload_id, state__in=BUSY_STATES).update(**fields)
        except DatabaseError:
            log.warning("upload %s: lease not renewed", self.upload_id, exc_info=True)
            connection.close()


# The upload the running job holds the lease of, and its beating thread (None on SQLite).
_current_lease: ContextVar[tuple[int, _Lease | None] | None] = ContextVar(
    "upload_lease", default=None
)


def stale_q() -> Q:
    """Uploads whose job is neither running (lease renewed) nor just sent."""
    cutoff = Now() - dt.timedelta(seconds=lease_seconds())
    return (Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff)) & (
        Q(queued_at__isnull=True) | Q(queued_at__lt=cutoff)
    )


def stalled() -> Any:
    """Busy uploads that no job is working on: the worker died or the job was never sent."""
    return Upload.objects.filter(stale_q(), state__in=BUSY_STATES)


def upload_is_stalled(upload: Upload) -> bool:
    return stalled().filter(pk=upload.pk).exists()


@contextmanager
def upload_lease(upload_id: int) -> Iterator[bool]:
    """Take the upload's lease for the job running now; yields False (and does nothing)
    when another live job holds it. Released when the block ends."""
    cutoff = Now() - dt.timedelta(seconds=lease_seconds())
    taken = (
        Upload.objects.filter(pk=upload_id)
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff))
        .update(heartbeat_at=Now())
    )
    if not taken:
        yield False
        return
    # SQLite has one writer: a second connection writing while the job's transaction has
    # read would make the job's own first write fail. There the job beats with its
    # progress on its own connection (the embedded default runs on one machine anyway).
    lease = _Lease(upload_id) if connection.vendor != "sqlite" else None
    if lease is not None:
        lease.start()
    token = _current_lease.set((upload_id, lease))
    try:
        yield True
    finally:
        _current_lease.reset(token)
        if lease is not None:
            lease.stopping.set()
            lease.changed.set()
            lease.join()
        Upload.objects.filter(pk=upload_id).update(heartbeat_at=None)


def _progress_writer(upload: Upload | None) -> Callable[[str, int, int], None]:
    last: list[Any] = [0.0, ""]

    def report(stage: str, done: int, total: int) -> None:
        if upload is None:
            return
        current = _current_lease.get()
        leased = current is not None and current[0] == upload.pk
        if current is not None and leased and current[1] is not None:
            current[1].report(stage, done, total)
            return
        # In a request (small files), a command, or a job on SQLite: write directly.
        # A new stage is always written: the bar must never sit on a finished stage.
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_SECONDS and done < total and stage == last[1]:
            return
        last[0], last[1] = now, stage
        fields: dict[str, Any] = {
            "progress_stage": stage,
            "progress_done": done,
            "progress_total": total,
        }
        if leased:
            fields["heartbeat_at"] = Now()
        Upload.objects.filter(pk=upload.pk).update(**fields)

    return report


def upload_receive(
    *,
    user: Any,
    kind: str,
    content: bytes,
    filename: str,
    unit: Unit | None = None,
    period: dt.date | None = None,
    as_of: dt.date | None = None,
) -> Upload:
    """Store an uploaded spreadsheet, unvalidated (state RECEIVED).

    Raises PermissionDenied when the user may not upload this kind or for this unit, and
    ValidationError (Chinese, names the file) when the file is empty or too large.
    Nothing is stored in either case.
    """
    spec = get_spec(kind)
    if not user.has_perm(spec.permission):
        raise PermissionDenied(_("您没有上传“%(title)s”的权限。") % {"title": spec.title})
    unit = unit or user.unit
    if unit is None or not Unit.objects.for_user(user).filter(pk=unit.pk).exists():
        raise PermissionDenied(_("您不能以该单位的名义上传。"))
    return upload_store(
        user=user,
        kind=kind,
        content=content,
        filename=filename,
        unit=unit,
        period=period,
        as_of=as_of,
    )


def upload_store(
    *,
    user: Any,
    kind: str,
    content: bytes,
    filename: str,
    unit: Unit,
    period: dt.date | None = None,
    as_of: dt.date | None = None,
) -> Upload:
    """Store a file as an Upload (RECEIVED) without permission checks: for commands run by
    an administrator. Raises ValidationError when the file is empty or too large."""
    if not content:
        raise ValidationError({"file": _("文件“%(name)s”是空的。") % {"name": filename}})
    if len(content) > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("文件“%(name)s”大小为 %(size).1f MB，超过上限 %(limit).0f MB。")
                % {
                    "name": filename,
                    "size": len(content) / 1048576,
                    "limit": settings.UPLOAD_MAX_BYTES / 1048576,
                }
            }
        )
    digest = hashlib.sha256(content).hexdigest()
    upload = Upload(
        kind=kind,
        unit=unit,
        uploaded_by=user,
        original_name=Path(filename).name[:200],
        size=len(content),
        sha256=digest,
        period=period,
        as_of=as_of_checked(as_of),
    )
    upload.file.save("upload", ContentFile(content), save=False)
    upload.save()
    # The job is sent (or the file validated in the request) right after: not stalled yet.
    Upload.objects.filter(pk=upload.pk).update(queued_at=Now())
    return upload


def _context(upload: Upload, *, dry_run: bool = False) -> ImportContext:
    user = upload.uploaded_by
    return ImportContext(
        user=user,
        scope=user_scope(user) if user.is_active else unit_scope(upload.unit),
        unit=upload.unit,
        upload=upload,
        progress=_progress_writer(upload),
        options={"dry_run": dry_run, "period": upload.period, "as_of": upload.as_of},
    )


def as_of_checked(as_of: dt.date | None) -> dt.date | None:
    """The uploader's 统计日期, refused (ValidationError, Chinese) when after today."""
    if as_of is not None and as_of > clock.today():
        raise ValidationError(
            {
                "as_of": _("统计日期 %(d)s 晚于今天（%(t)s），请填写数据实际截至的日期。")
                % {"d": as_of.isoformat(), "t": clock.today().isoformat()}
            }
        )
    return as_of


def mapped_columns(spec: ImportSpec, unit: Unit | None) -> list[ColumnSpec]:
    """The spec's columns, each also accepting the headers the unit mapped to it."""
    extra: dict[str, list[str]] = {}
    if unit is not None:
        for header, column in HeaderMapping.objects.filter(unit=unit, kind=spec.key).values_list(
            "header", "column"
        ):
            extra.setdefault(column, []).append(header)
    if not extra:
        return list(spec.columns)
    return [
        ColumnSpec(c.name, (*c.aliases, *extra.get(c.name, ())), c.required) for c in spec.columns
    ]


def _read_and_validate(
    spec: ImportSpec, content: bytes, filename: str, ctx: ImportContext
) -> ValidationResult:
    ctx.progress(_("读取文件"), 0, 1)
    table = read_table(content, filename=filename, columns=mapped_columns(spec, ctx.unit))
    ctx.progress(_("逐行校验"), 0, len(table.rows))
    result = spec.validate(table, ctx)
    result.total = result.total or len(table.rows)
    ctx.progress(_("逐行校验"), len(table.rows), len(table.rows))
    return result


def _store_validation(
    upload: Upload, spec: ImportSpec, result: ValidationResult, state: str
) -> None:
    upload.rows_total = result.total
    upload.rows_accepted = len(result.rows)
    upload.rows_rejected = result.rejected_rows
    upload.rows_skipped = len(result.skipped)
    upload.errors = [
        {"row": e.row, "column": e.column, "message": e.message} for e in result.errors
    ]
    upload.skipped = [{"row": n.row, "message": n.message} for n in result.skipped]
    upload.preview = {
        "headers": [c.name for c in spec.columns],
        "rows": [
            [n, *spec.preview_row(r)]
            for n, r in zip(
                result.row_numbers[:PREVIEW_ROWS], result.rows[:PREVIEW_ROWS], strict=True
            )
        ],
    }
    upload.state = state
    upload.validated_at = clock.now()
    _save_outcome(upload, _VALIDATION_FIELDS)


_VALIDATION_FIELDS = [
    "rows_total",
    "rows_accepted",
    "rows_rejected",
    "rows_skipped",
    "errors",
    "skipped",
    "preview",
    "state",
    "validated_at",
    "file_error",
]


def _save_outcome(upload: Upload, fields: list[str]) -> None:
    """Store a job's outcome only while the upload is still busy: an upload cancelled
    meanwhile stays cancelled. The lease and the progress stay the lease thread's."""
    Upload.objects.filter(pk=upload.pk, state__in=BUSY_STATES).update(
        **{f: getattr(upload, f) for f in fields}
    )
    audit.record(upload)


def upload_validate(upload_id: int) -> Upload:
    """Validate a RECEIVED upload in full and store the preview (PREVIEWED or REJECTED).

    Writes no domain rows. Safe to re-run: only a RECEIVED (or an interrupted
    VALIDATING) upload is validated; any other state is returned as it is.
    """
    claimed = Upload.objects.filter(
        pk=upload_id, state__in=[Upload.State.RECEIVED, Upload.State.VALIDATING]
    ).update(state=Upload.State.VALIDATING, progress_stage=_("排队中"), progress_done=0)
    upload = Upload.objects.select_related("unit", "uploaded_by").get(pk=upload_id)
    if not claimed:
        return upload
    spec = get_spec(upload.kind)
    ctx = _context(upload)
    try:
        with upload.file.open("rb") as fh:
            content = fh.read()
        result = _read_and_validate(spec, content, upload.original_name, ctx)
    except SheetError as exc:
        upload.file_error = str(exc)
        upload.state = Upload.State.REJECTED
        upload.validated_at = clock.now()
        # Required columns the header lacks, and its headers no column took: the page
        # offers to map one to the other (upload_map_headers).
        upload.preview = (
            {"missing": list(exc.missing), "unmatched": list(exc.unmatched)}
            if exc.missing and exc.unmatched
            else {}
        )
        _save_outcome(upload, _VALIDATION_FIELDS)
        return upload
    except Exception:
        _fail(upload)
        raise
    _store_validation(
        upload, spec, result, Upload.State.PREVIEWED if result.ok else Upload.State.REJECTED
    )
    return upload


def _fail(upload: Upload) -> None:
    """A bug, not bad input: say so plainly; the traceback goes to the log."""
    log.exception("upload %s failed", upload.pk)
    Upload.objects.filter(pk=upload.pk).update(
        state=Upload.State.FAILED,
        file_error=_("处理时发生系统错误，未导入任何数据。已记录错误，请联系系统管理员。"),
    )


def upload_confirm(*, user: Any, upload: Upload) -> Upload:
    """Mark a PREVIEWED upload for applying (APPLYING). The caller then runs or enqueues
    `upload_apply`. Raises ValidationError when it is not waiting for confirmation."""
    if not Upload.objects.for_user(user).filter(pk=upload.pk).exists() or not user.has_perm(
        get_spec(upload.kind).permission
    ):
        raise PermissionDenied(_("您不能确认该文件的导入。"))
    claimed = Upload.objects.filter(pk=upload.pk, state=Upload.State.PREVIEWED).update(
        state=Upload.State.APPLYING,
        progress_stage=_("排队中"),
        progress_done=0,
        progress_total=0,
        queued_at=Now(),
    )
    upload.refresh_from_db()
    if not claimed:
        raise ValidationError(
            _("该文件当前状态为“%(state)s”，不能确认导入。") % {"state": upload.get_state_display()}
        )
    audit.record(upload, user=user)
    return upload


def upload_apply(upload_id: int) -> Upload:
    """Re-validate an APPLYING upload and write its rows in one transaction.

    If any row is now in error (the database changed since the preview), nothing is
    written and the upload becomes REJECTED with the errors. Safe to re-run: the state
    change to APPLIED commits with the rows, so a crash leaves APPLYING and no rows.
    """
    upload = Upload.objects.select_related("unit", "uploaded_by").get(pk=upload_id)
    if upload.state != Upload.State.APPLYING:
        return upload
    spec = get_spec(upload.kind)
    ctx = _context(upload)
    with upload.file.open("rb") as fh:
        content = fh.read()
    try:
        result = _read_and_validate(spec, content, upload.original_name, ctx)
    except Exception as exc:
        if not isinstance(exc, SheetError):
            _fail(upload)
            raise
        Upload.objects.filter(pk=upload.pk, state=Upload.State.APPLYING).update(
            state=Upload.State.REJECTED, file_error=str(exc)
        )
        upload.refresh_from_db()
        return upload
    if not result.ok:
        _store_validation(upload, spec, result, Upload.State.REJECTED)
        return upload
    ctx.progress(_("写入"), 0, len(result.rows))
    try:
        return _apply_in_transaction(upload, spec, result, ctx)
    except OperationalError:
        raise  # the database went away: the job retries and finds the upload still APPLYING
    except Exception:
        _fail(upload)
        raise


def _apply_in_transaction(
    upload: Upload, spec: ImportSpec, result: ValidationResult, ctx: ImportContext
) -> Upload:
    with transaction.atomic():
        # A second worker running the same job waits here, then sees APPLIED and writes
        # nothing.
        _lock_upload(upload.pk)
        if not Upload.objects.filter(pk=upload.pk, state=Upload.State.APPLYING).exists():
            return Upload.objects.get(pk=upload.pk)
        source = _("上传#%(pk)s %(name)s") % {"pk": upload.pk, "name": upload.original_name}
        with audit_source(source[:100], upload_id=upload.pk, user=upload.uploaded_by):
            counts = spec.apply(result, ctx)
            _fault_pause()
            # Conditional: an upload cancelled meanwhile (its lease had gone stale) is
            # not applied after all; the rows written above roll back with this.
            done = Upload.objects.filter(pk=upload.pk, state=Upload.State.APPLYING).update(
                rows_total=result.total,
                rows_accepted=len(result.rows),
                rows_skipped=len(result.skipped),
                skipped=[{"row": n.row, "message": n.message} for n in result.skipped],
                result=counts,
                state=Upload.State.APPLIED,
                applied_at=clock.now(),
                progress_stage=_("完成"),
                progress_done=len(result.rows),
                progress_total=len(result.rows),
            )
            if not done:
                transaction.set_rollback(True)
                return Upload.objects.get(pk=upload.pk)
            locked = Upload.objects.get(pk=upload.pk)
            audit.record(locked)
        # Cached dashboard figures of the app that owns this sheet are now stale.
        data_changed(spec.data_area)
    return locked


# Any constant: the first key of the advisory lock, so it names "upload apply" locks.
_APPLY_LOCK_CLASS = 72019


def _lock_upload(upload_id: int) -> None:
    """Serialise applies of one upload until the transaction ends.

    Not a row lock on the upload: the lease thread keeps writing the upload's heartbeat
    and progress while the rows are written. PostgreSQL: a transaction-scoped advisory
    lock. SQLite has one writer at a time, so a second apply waits for the first anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_APPLY_LOCK_CLASS, upload_id])


def _fault_pause() -> None:
    """Fault injection for the kill-the-worker test: with XC_FAULT_PAUSE_BEFORE_COMMIT
    set, the worker signals (XC_FAULT_MARKER file) and waits inside the transaction, so
    the test can kill it there. Off unless both are set; never set in production."""
    pause = float(os.environ.get("XC_FAULT_PAUSE_BEFORE_COMMIT", "0") or 0)
    marker = os.environ.get("XC_FAULT_MARKER", "")
    if pause and marker:
        Path(marker).write_text("in transaction")
        time.sleep(pause)


QUEUE_DOWN = _("后台任务队列暂时不可用：文件已保存，队列恢复后将自动处理，无需重新上传。")


def upload_queue_failed(upload_id: int) -> None:
    """Say on the upload's page that its job could not be queued (nothing is lost)."""
    Upload.objects.filter(pk=upload_id).update(progress_stage=QUEUE_DOWN)


def _check_may_handle(user: Any, upload: Upload, message: str) -> None:
    # Scoped, and only by someone who may upload this kind of sheet (the uploader may).
    if not Upload.objects.for_user(user).filter(pk=upload.pk).exists() or not user.has_perm(
        get_spec(upload.kind).permission
    ):
        raise PermissionDenied(message)


def upload_cancel(*, user: Any, upload: Upload) -> Upload:
    """Cancel an upload that has not been applied: waiting for confirmation, rejected, or
    stalled (no live job). Nothing was written, nothing is."""
    _check_may_handle(user, upload, _("您不能取消该文件。"))
    done = (
        Upload.objects.filter(pk=upload.pk)
        .filter(
            Q(state__in=[Upload.State.RECEIVED, Upload.State.PREVIEWED, Upload.State.REJECTED])
            | (Q(state__in=BUSY_STATES) & stale_q())
        )
        .update(state=Upload.State.CANCELLED)
    )
    upload.refresh_from_db()
    if not done:
        if upload.is_busy:
            raise ValidationError(_("该文件正在后台处理，不能取消；请稍候查看结果。"))
        raise ValidationError(
            _("该文件当前状态为“%(state)s”，不能取消。") % {"state": upload.get_state_display()}
        )
    audit.record(upload, user=user)
    return upload


def upload_retry(*, user: Any, upload: Upload) -> Upload:
    """Claim a stalled upload for sending its job again (the caller sends it).

    Raises ValidationError when a job is working on it or was just sent."""
    _check_may_handle(user, upload, _("您不能重试该文件的处理。"))
    claimed = (
        Upload.objects.filter(pk=upload.pk, state__in=BUSY_STATES)
        .filter(stale_q())
        .update(queued_at=Now(), progress_stage=_("排队中"))
    )
    upload.refresh_from_db()
    if not claimed:
        if upload.is_busy:
            raise ValidationError(_("该文件正在后台处理或刚刚重新排队，请稍候。"))
        raise ValidationError(
            _("该文件当前状态为“%(state)s”，无需重试。") % {"state": upload.get_state_display()}
        )
    audit.record(upload, user=user)
    return upload


def upload_requeued(upload_id: int) -> None:
    """Note that a job for this upload was sent now (by the resume job)."""
    Upload.objects.filter(pk=upload_id).update(queued_at=Now())


def validate_content(
    *,
    spec: ImportSpec,
    content: bytes,
    filename: str,
    unit: Unit,
    user: Any,
    scope: Scope | None = None,
    period: dt.date | None = None,
    as_of: dt.date | None = None,
) -> ValidationResult:
    """Validate without storing anything (for `import_sheet --dry-run`)."""
    ctx = ImportContext(
        user=user,
        scope=scope or unit_scope(unit),
        unit=unit,
        options={"dry_run": True, "period": period, "as_of": as_of_checked(as_of)},
    )
    return _read_and_validate(spec, content, filename, ctx)


def upload_map_headers(*, user: Any, upload: Upload, choices: dict[str, str]) -> Upload:
    """Remember, for the upload's unit and kind, which header of the file means each
    missing column (`choices`: column -> header, both from the upload's own lists), and
    validate the upload again (RECEIVED; the caller runs or sends the validation).

    Raises PermissionDenied outside the user's scope, ValidationError (Chinese) when the
    upload is not waiting for a mapping or a choice is not one offered."""
    _check_may_handle(user, upload, _("您不能为该文件设置列名对应。"))
    offered = upload.preview if upload.state == Upload.State.REJECTED else {}
    missing = set(offered.get("missing") or ())
    unmatched = set(offered.get("unmatched") or ())
    if not missing:
        raise ValidationError(_("该文件没有待对应的列。"))
    picked = {c: h for c, h in choices.items() if h}
    if not picked:
        raise ValidationError(_("请至少为一个缺少的列选择文件中的列名。"))
    for column, header in picked.items():
        if column not in missing or header not in unmatched:
            raise ValidationError(
                _("“%(h)s”不能对应“%(c)s”：请从页面列出的列名中选择。") % {"h": header, "c": column}
            )
    if len(set(picked.values())) < len(picked):
        raise ValidationError(_("同一个列名只能对应一个列。"))
    with transaction.atomic():
        for column, header in picked.items():
            mapping, _created = HeaderMapping.objects.update_or_create(
                unit=upload.unit,
                kind=upload.kind,
                header=header,
                defaults={"column": column, "created_by": user},
            )
        claimed = Upload.objects.filter(pk=upload.pk, state=Upload.State.REJECTED).update(
            state=Upload.State.RECEIVED,
            file_error="",
            preview={},
            errors=[],
            progress_stage=_("排队中"),
            queued_at=Now(),
        )
        if not claimed:
            raise ValidationError(_("该文件的状态已改变，请刷新页面。"))
    upload.refresh_from_db()
    audit.record(upload, user=user)
    return upload


def header_mapping_remove(*, user: Any, mapping: HeaderMapping) -> None:
    """Forget a remembered header (the unit's later files need the column's own name)."""
    mine = HeaderMapping.objects.for_user(user).filter(pk=mapping.pk).exists()
    if not mine or not user.has_perm(get_spec(mapping.kind).permission):
        raise PermissionDenied(_("您不能删除该列名对应。"))
    mapping.delete()
