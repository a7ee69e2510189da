"""Writes of the monthly cycle: submissions and their review, the daily deadline check,
escalation notices and their answers. Views, commands and Celery jobs call these.

Each unit of work in the deadline check is one transaction, claimed by a unique
constraint before any e-mail goes out; mails are sent after commit from rows in state
PENDING, claimed by a conditional update. A run that dies half-way leaves whole rows and
the next run finishes.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from tasks import audit, clock
from tasks.models import Deadline, Unit, User
from tasks.scoping import user_scope

from .models import (
    Breach,
    CorrectionReport,
    DocCounter,
    Escalation,
    MailState,
    MonthLock,
    MonthlySubmission,
    Reminder,
    ReportingSettings,
    SubmissionEvent,
)
from .outstanding import Memo, outstanding_by_unit
from .periods import month_label
from .selectors import live_figures, month_locked, reporting_units, submission_due
from .texts import deadline_words

log = logging.getLogger(__name__)

COVER_MAX_BYTES = 10 * 1024 * 1024
COVER_TYPES = (".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx")


# --- submissions -----------------------------------------------------------------------


def _check_file(upload: UploadedFile | None, what: str) -> None:
    if upload is None:
        return
    name = (upload.name or "").lower()
    if not name.endswith(COVER_TYPES):
        raise ValidationError(_("%(what)s只接受 PDF、图片或 Word 文件。") % {"what": what})
    if upload.size and upload.size > getattr(settings, "EVIDENCE_MAX_BYTES", COVER_MAX_BYTES):
        raise ValidationError(_("%(what)s超过大小上限。") % {"what": what})


def submission_get_or_create(*, unit: Unit, period: dt.date) -> MonthlySubmission:
    """The submission row of a unit and month (state 未报 when new). Safe to re-run."""
    sub, _c = MonthlySubmission.objects.get_or_create(
        unit=unit, period=period, defaults={"due_on": submission_due(period)}
    )
    return sub


def _locked_guard(period: dt.date) -> None:
    if month_locked(period):
        raise ValidationError(
            _("%(m)s已审核锁定，如需修改请审核人先重新打开。") % {"m": month_label(period)}
        )


def submission_submit(
    *,
    user: Any,
    unit: Unit,
    period: dt.date,
    narrative: str,
    cover_sheet: UploadedFile | None = None,
) -> MonthlySubmission:
    """Submit (or resubmit after a return) a unit's monthly report: 未报/退回 → 已报.

    The figures are taken from the unit's applied uploads for the month at this moment and
    kept with the narrative and cover sheet in a new SubmissionEvent; earlier versions stay.
    Raises PermissionDenied when the user may not report for the unit, ValidationError when
    the month is locked or the report is already submitted or reviewed.
    """
    from .selectors import submission_units_for

    if not user.has_perm("reports.change_monthlysubmission") or unit not in submission_units_for(
        user, period
    ):
        raise PermissionDenied(_("您不能为该单位报送月报。"))
    if unit.pk not in {u.pk for u in reporting_units(period)}:
        raise ValidationError(_("该单位在%(m)s不需报送月报。") % {"m": month_label(period)})
    _check_file(cover_sheet, _("签字盖章封面"))
    if not narrative.strip():
        raise ValidationError(_("请填写情况说明。"))
    _locked_guard(period)
    with transaction.atomic():
        sub = submission_get_or_create(unit=unit, period=period)
        sub = MonthlySubmission.objects.select_for_update().get(pk=sub.pk)
        if sub.state not in {
            MonthlySubmission.State.NOT_SUBMITTED,
            MonthlySubmission.State.RETURNED,
        }:
            raise ValidationError(
                _("该月报当前状态为“%(s)s”，不能再次报送。") % {"s": sub.get_state_display()}
            )
        figures = live_figures(unit, period)
        now = clock.now()
        sub.version += 1
        sub.state = MonthlySubmission.State.SUBMITTED
        sub.narrative = narrative.strip()
        sub.figures = figures
        sub.submitted_at = now
        sub.submitted_by = user
        sub.first_submitted_at = sub.first_submitted_at or now
        sub.save()
        event = SubmissionEvent(
            submission=sub,
            action=SubmissionEvent.Action.SUBMITTED,
            version=sub.version,
            narrative=sub.narrative,
            figures=figures,
            upload_ids=sorted({i for f in figures.values() if f for i in f["upload_ids"]}),
            actor=user,
        )
        if cover_sheet is not None:
            event.cover_name = (cover_sheet.name or "")[:200]
            event.cover_sheet.save("cover", cover_sheet, save=False)
        event.save()
    return sub


def _reviewer_guard(user: Any) -> None:
    if not user.has_perm("reports.review_monthlysubmission") or not user_scope(user).sees_all:
        raise PermissionDenied(_("只有市级审核人员可以审核月报。"))


def submission_return(
    *, user: Any, submission: MonthlySubmission, comment: str
) -> MonthlySubmission:
    """已报 → 退回 with the reviewer's comment (required). The submitted version stays in
    the history. Raises PermissionDenied / ValidationError."""
    _reviewer_guard(user)
    if not comment.strip():
        raise ValidationError(_("退回时请写明审核意见。"))
    _locked_guard(submission.period)
    return _review_step(
        user, submission, MonthlySubmission.State.RETURNED, SubmissionEvent.Action.RETURNED, comment
    )


def submission_accept(
    *, user: Any, submission: MonthlySubmission, comment: str = ""
) -> MonthlySubmission:
    """已报 → 已审核. Raises PermissionDenied / ValidationError."""
    _reviewer_guard(user)
    _locked_guard(submission.period)
    return _review_step(
        user, submission, MonthlySubmission.State.REVIEWED, SubmissionEvent.Action.REVIEWED, comment
    )


def _review_step(
    user: Any, submission: MonthlySubmission, state: str, action: str, comment: str
) -> MonthlySubmission:
    with transaction.atomic():
        sub = MonthlySubmission.objects.select_for_update().get(pk=submission.pk)
        if sub.state != MonthlySubmission.State.SUBMITTED:
            raise ValidationError(
                _("该月报当前状态为“%(s)s”，只能审核已报送的月报。")
                % {"s": sub.get_state_display()}
            )
        sub.state = state
        sub.review_comment = comment.strip()
        sub.reviewed_by = user
        sub.reviewed_at = clock.now()
        sub.save()
        SubmissionEvent.objects.create(
            submission=sub, action=action, version=sub.version, comment=comment.strip(), actor=user
        )
    return sub


def month_lock(*, user: Any, period: dt.date) -> MonthLock:
    """Lock a month whose expected reports are all reviewed. Raises ValidationError naming
    the units still outstanding. Safe to re-run."""
    _reviewer_guard(user)
    expected = {u.pk: u for u in reporting_units(period)}
    reviewed = set(
        MonthlySubmission.objects.filter(
            period=period, unit_id__in=expected, state=MonthlySubmission.State.REVIEWED
        ).values_list("unit_id", flat=True)
    )
    missing = [u.display_name for pk, u in expected.items() if pk not in reviewed]
    if missing:
        raise ValidationError(
            _("以下单位的月报尚未审核通过，不能锁定：%(u)s") % {"u": "、".join(missing)}
        )
    with transaction.atomic():
        lock, _c = MonthLock.objects.select_for_update().get_or_create(period=period)
        if _c or not lock.locked:
            lock.locked = True
            lock.history = [*lock.history, _history("locked", user, "")]
            lock.save()
    return lock


def month_reopen(*, user: Any, period: dt.date, reason: str) -> MonthLock:
    """Reopen a locked month (reason required, kept in the lock's history); its reviewed
    reports may then be reopened one by one."""
    _reviewer_guard(user)
    if not reason.strip():
        raise ValidationError(_("重新打开须写明理由。"))
    with transaction.atomic():
        lock = MonthLock.objects.select_for_update().filter(period=period, locked=True).first()
        if lock is None:
            raise ValidationError(_("该月未锁定。"))
        lock.locked = False
        lock.history = [*lock.history, _history("reopened", user, reason.strip())]
        lock.save()
    return lock


def submission_reopen(
    *, user: Any, submission: MonthlySubmission, reason: str
) -> MonthlySubmission:
    """已审核 → 退回, so the unit can correct a reviewed report (reason required)."""
    _reviewer_guard(user)
    if not reason.strip():
        raise ValidationError(_("重新打开须写明理由。"))
    _locked_guard(submission.period)
    with transaction.atomic():
        sub = MonthlySubmission.objects.select_for_update().get(pk=submission.pk)
        if sub.state != MonthlySubmission.State.REVIEWED:
            raise ValidationError(_("只有已审核的月报可以重新打开。"))
        sub.state = MonthlySubmission.State.RETURNED
        sub.review_comment = reason.strip()
        sub.save()
        SubmissionEvent.objects.create(
            submission=sub,
            action=SubmissionEvent.Action.REOPENED,
            version=sub.version,
            comment=reason.strip(),
            actor=user,
        )
    return sub


def _history(action: str, user: Any, reason: str) -> dict[str, Any]:
    return {
        "action": action,
        "user": user.get_username(),
        "at": clock.now().isoformat(),
        "reason": reason,
    }


# --- the daily deadline check ----------------------------------------------------------


@dataclass
class CheckResult:
    today: dt.date
    reminders: list[Reminder] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    mails: int = 0

    def lines(self) -> list[str]:
        out = [f"{self.today:%Y-%m-%d} 截止检查："]
        out += [
            f"  提醒 {r.unit.display_name}：{r.deadline} 提前{r.offset_days}天 — {'；'.join(r.items)}"
            for r in self.reminders
        ]
        out += [
            f"  逾期 {b.unit.display_name}：{b.deadline} — {'；'.join(b.items)}"
            for b in self.breaches
        ]
        out += [
            f"  督办 {e.number} {e.unit.display_name}（第{e.level}次）" for e in self.escalations
        ]
        out.append(
            f"  新提醒 {len(self.reminders)} 条，逾期 {len(self.breaches)} 条，督办单 {len(self.escalations)} 份，发送邮件 {self.mails} 封。"
        )
        return out


def _offset_for(days_left: int, offsets: list[int]) -> int | None:
    """The reminder due `days_left` days before a deadline: exactly 14/7/3/1 days before,
    or, when a run was missed, the latest one that should have gone (sent once)."""
    if days_left < 0:
        return None
    fitting = [o for o in offsets if o >= days_left]
    return min(fitting) if fitting else None


def _claim(model: Any, **fields: Any) -> Any | None:
    """Insert a row whose unique constraint names the work; None when it already exists
    (another run, or another process right now, did it)."""
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        return None


def _next_number(prefix: str, year: int) -> int:
    """The next number of a document series; the counter row is locked until commit, so
    concurrent runs get distinct numbers and a rolled-back claim leaves no gap."""
    DocCounter.objects.get_or_create(prefix=prefix, year=year)
    counter = DocCounter.objects.select_for_update().get(prefix=prefix, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def _raise_escalation(
    *,
    deadline: Deadline,
    unit: Unit,
    level: int,
    items: list[str],
    today: dt.date,
    previous: Escalation | None,
) -> Escalation | None:
    conf = ReportingSettings.current()
    try:
        with transaction.atomic():
            if Escalation.objects.filter(deadline=deadline, unit=unit, level=level).exists():
                return None
            seq = _next_number(conf.escalation_prefix, today.year)
            return Escalation.objects.create(
                deadline=deadline,
                unit=unit,
                level=level,
                year=today.year,
                seq=seq,
                number=f"{conf.escalation_prefix}〔{today.year}〕{seq}号",
                items=items,
                raised_on=today,
                answer_due=today + dt.timedelta(days=conf.correction_days),
                previous=previous,
            )
    except IntegrityError:
        return None  # a concurrent run raised it first (and its number is the one kept)


def deadlines_check(*, today: dt.date, send: bool = True) -> CheckResult:
    """The daily check: reminders 14/7/3/1 days before each open deadline to each unit with
    work outstanding; after a deadline (within `catch_up` days) the items are marked overdue
    (Breach) and a 督办单 raised; a 督办单 unanswered past its due date gets a second one.

    Safe to re-run and to run concurrently: each Reminder, Breach and Escalation is claimed
    by its unique constraint; e-mails go after commit, once per row.
    """
    conf = ReportingSettings.current()
    offsets = conf.offsets
    result = CheckResult(today=today)
    horizon = today + dt.timedelta(days=max(offsets))
    catch_up = today - dt.timedelta(days=14)
    deadlines = list(
        Deadline.objects.filter(due_on__gte=catch_up, due_on__lte=horizon)
        .select_related("task")
        .order_by("due_on")
    )
    # What the deadlines share (units, figures) is read once: the check writes none of it.
    memo = Memo(deadlines)
    for deadline in deadlines:
        days_left = (deadline.due_on - today).days
        owed = [(u, items) for u, items in outstanding_by_unit(deadline, today, memo) if items]
        if days_left >= 0:
            offset = _offset_for(days_left, offsets)
            if offset is None:
                continue
            for unit, items in owed:
                row = _claim(
                    Reminder,
                    deadline=deadline,
                    unit=unit,
                    offset_days=offset,
                    items=items,
                    created_on=today,
                )
                if row is not None:
                    result.reminders.append(row)
        else:
            for unit, items in owed:
                with transaction.atomic():
                    breach = _claim(
                        Breach, deadline=deadline, unit=unit, items=items, recorded_on=today
                    )
                    if breach is not None:
                        result.breaches.append(breach)
                    if unit.is_city_level:
                        continue  # the bureau's own sections are named in the circular, not sent 督办单
                    esc = _raise_escalation(
                        deadline=deadline,
                        unit=unit,
                        level=1,
                        items=items,
                        today=today,
                        previous=None,
                    )
                    if esc is not None:
                        result.escalations.append(esc)
    for first in Escalation.objects.filter(
        level=1, state=Escalation.State.OPEN, answer_due__lt=today
    ).select_related("deadline", "unit"):
        esc = _raise_escalation(
            deadline=first.deadline,
            unit=first.unit,
            level=2,
            items=first.items,
            today=today,
            previous=first,
        )
        if esc is not None:
            result.escalations.append(esc)
    if send:
        result.mails = mails_flush()
    return result


# --- e-mail ----------------------------------------------------------------------------


def _recipients(unit: Unit) -> list[str]:
    return sorted(
        set(
            User.objects.filter(unit=unit, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def _reminder_body(r: Reminder) -> str:
    lines = [
        f"{r.unit.name}：",
        "",
        f"{deadline_words(r.deadline)}将于{r.deadline.due_on:%Y年%-m月%-d日}截止，目前尚未完成：",
        *[f"  · {item}" for item in r.items],
        "",
        "请在截止日期前完成并在系统中报送。",
    ]
    return "\n".join(lines)


def _escalation_body(e: Escalation) -> str:
    lines = [
        f"{e.number}",
        f"{e.unit.name}：",
        "",
        f"{deadline_words(e.deadline)}已于{e.deadline.due_on:%Y年%-m月%-d日}截止，贵单位以下事项逾期未完成：",
        *[f"  · {item}" for item in e.items],
        "",
        f"请于{e.answer_due:%Y年%-m月%-d日}前在系统中报送书面整改报告。",
    ]
    if e.level > 1:
        lines.insert(3, "此前督办单未按期报送整改报告，现再次督办。")
    return "\n".join(lines)


STALE_SENDING = dt.timedelta(minutes=10)


def mails_flush() -> int:
    """Send the e-mail of every reminder and escalation not mailed yet. Each row is
    claimed (PENDING → SENDING) by a conditional update before sending, so two runners
    never send the same mail; a row left SENDING by a dead worker is retried after 10
    minutes. Returns the number of messages sent."""
    sent = 0
    stale = clock.now() - STALE_SENDING
    kinds: list[tuple[Any, Any]] = [(Reminder, _reminder_body), (Escalation, _escalation_body)]
    for model, body_of in kinds:
        waiting = model.objects.filter(
            Q(mail_state=MailState.PENDING)
            | Q(mail_state=MailState.SENDING, mail_claimed_at__lt=stale)
        ).values_list("pk", flat=True)
        for pk in list(waiting):
            claimed = (
                model.objects.filter(pk=pk)
                .filter(
                    Q(mail_state=MailState.PENDING)
                    | Q(mail_state=MailState.SENDING, mail_claimed_at__lt=stale)
                )
                .update(mail_state=MailState.SENDING, mail_claimed_at=clock.now())
            )
            if not claimed:
                continue
            row = model.objects.select_related("deadline", "deadline__task", "unit").get(pk=pk)
            to = _recipients(row.unit)
            if to:
                send_mail(
                    row.subject,
                    body_of(row),
                    settings.DEFAULT_FROM_EMAIL,
                    to,
                    fail_silently=False,
                )
                sent += 1
            model.objects.filter(pk=pk).update(
                mail_state=MailState.SENT if to else MailState.NO_RECIPIENT, recipients=to
            )
    return sent


# --- answering an escalation -----------------------------------------------------------


def escalation_answer(
    *, user: Any, escalation: Escalation, text: str, file: UploadedFile
) -> CorrectionReport:
    """The unit's 整改报告 (text and file): the escalation becomes 已报整改报告, which stops
    the second escalation. Raises PermissionDenied (not the unit's own, or no right) and
    ValidationError (empty text, wrong file, already closed)."""
    if (
        not user.has_perm("reports.add_correctionreport")
        or not Escalation.objects.for_user(user).filter(pk=escalation.pk).exists()
    ):
        raise PermissionDenied(_("您不能答复该督办单。"))
    if user_scope(user).sees_all and not user.is_superuser and user.unit_id != escalation.unit_id:
        raise PermissionDenied(_("整改报告由被督办单位报送。"))
    if not text.strip():
        raise ValidationError(_("请填写整改措施。"))
    if file is None:
        raise ValidationError(_("请上传整改报告文件。"))
    _check_file(file, _("整改报告"))
    with transaction.atomic():
        esc = Escalation.objects.select_for_update().get(pk=escalation.pk)
        if esc.state == Escalation.State.CLOSED:
            raise ValidationError(_("该督办单已销号。"))
        answer = CorrectionReport(
            escalation=esc,
            text=text.strip(),
            original_name=(file.name or "")[:200],
            submitted_by=user,
        )
        answer.file.save("answer", file, save=False)
        answer.save()
        esc.state = Escalation.State.ANSWERED
        esc.save(update_fields=["state"])
        if esc.previous_id:
            answered = Escalation.objects.filter(
                pk=esc.previous_id, state=Escalation.State.OPEN
            ).update(state=Escalation.State.ANSWERED)
            if answered:
                audit.record(Escalation(pk=esc.previous_id), user=user)
    return answer


def escalation_close(*, user: Any, escalation: Escalation) -> Escalation:
    """The city accepts the correction plan: 已报整改报告 → 已销号."""
    if not user.has_perm("reports.change_escalation") or not user_scope(user).sees_all:
        raise PermissionDenied(_("只有市级审核人员可以销号。"))
    done = Escalation.objects.filter(pk=escalation.pk, state=Escalation.State.ANSWERED).update(
        state=Escalation.State.CLOSED
    )
    if not done:
        raise ValidationError(_("只有已报整改报告的督办单可以销号。"))
    audit.record(escalation, user=user)
    return escalation


def reminders_mark_read(*, user: Any, deadline: Deadline) -> int:
    """The user has read the reminders of `deadline` addressed to their unit(s): they
    leave the to-do list. Scoped like every read; safe to repeat (only unread rows are
    claimed). Returns how many were marked."""
    qs = Reminder.objects.for_user(user).filter(deadline=deadline, read_at__isnull=True)
    if user_scope(user).sees_all:
        qs = qs.filter(unit_id=user.unit_id)
    rows = list(qs)
    done = Reminder.objects.filter(pk__in=[r.pk for r in rows], read_at__isnull=True).update(
        read_at=clock.now()
    )
    for r in rows:
        audit.record(r, user=user)
    return done
