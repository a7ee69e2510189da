"""What a user must do next (待办), most urgent first, each with the page where it is done.

The landing page starts with this list. It reads the plan's ledger (tasks), the monthly
cycle (this app), subsidies and dropout control, which is why it lives in `reports`, the
top layer: `tasks` never imports it (xc_fupin/urls.py routes "/" here).

Two lists, chosen by permission, never by role name:
- a unit's own work (returned 月报 and ledger entries with the reviewer's comment, open
  督办单, unread reminders, rejected uploads, payments still owed this semester, dropout
  cases whose follow-up is overdue, graduates with no employment guidance in 30 days,
  rectification items awaiting the unit's answer, this month's 月报 still to send);
- a city reviewer's queue (月报 已报 awaiting review, ledger entries awaiting review,
  整改报告 awaiting 销号, rectification items answered awaiting 销号).
A read-only user (the leader) may do none of these and gets an empty list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from dropout.models import DropoutCase
from employment.models import Graduate
from inspections import selectors as inspection_selectors
from inspections.models import AWAITING_UNIT, ItemEvent, RectificationItem
from inspections.models import Status as ItemStatus
from intake.base import get_spec
from intake.models import Upload
from subsidies import selectors as subsidy_selectors
from tasks import selectors as task_selectors
from tasks.scoping import user_scope

from .models import CorrectionReport, Escalation, MonthlySubmission, Reminder
from .periods import month_label, month_start, previous_month
from .selectors import is_own_unit, submission_due, submission_units_for
from .texts import date_words, deadline_words, semester_words, task_short_name

#: How far back a rejected upload still asks for a corrected file.
REJECTED_UPLOAD_DAYS = 60


@dataclass(frozen=True)
class TodoItem:
    """One thing to do. `due_on` None means "now" (a returned item waits on the user)."""

    title: str
    url: str
    action: str
    detail: str = ""
    due_on: dt.date | None = None
    overdue: bool = False
    #: Tie-break among items due the same day: returned work first, information last.
    weight: int = 5
    #: A POST that takes the item off the list (reminders: "已阅").
    dismiss_url: str = ""

    def sort_key(self, today: dt.date) -> tuple[int, dt.date, int, str]:
        due = self.due_on or today
        return (0 if self.overdue else 1, due, self.weight, self.title)

    @property
    def due_words(self) -> str:
        return date_words(self.due_on) if self.due_on else ""


def _acts_for_unit(user: Any) -> bool:
    return any(
        user.has_perm(p)
        for p in (
            "reports.change_monthlysubmission",
            "reports.add_correctionreport",
            "tasks.add_ledgerentry",
            "subsidies.add_disbursement",
            "dropout.add_casefollowup",
            "employment.add_guidancerecord",
            "inspections.answer_rectificationitem",
        )
    )


def _own(qs: Any, user: Any, lookup: str) -> Any:
    """Rows of the user's own work: their scope, narrowed to their own unit for a city
    user (who may read every unit's rows but answers only for their own)."""
    qs = qs.for_user(user)
    if user_scope(user).sees_all:
        qs = qs.filter(**{lookup: user.unit_id}) if user.unit_id else qs.none()
    return qs


def todo_for(user: Any, today: dt.date) -> list[TodoItem]:
    """The user's to-do list, most urgent first: overdue items, then by due date."""
    if not user.is_authenticated or user_scope(user).sees_nothing:
        return []
    items: list[TodoItem] = []
    if _acts_for_unit(user):
        items += unit_items(user, today)
    items += review_items(user, today)
    return sorted(items, key=lambda i: i.sort_key(today))


# --- a unit's own work ------------------------------------------------------------------


def unit_items(user: Any, today: dt.date) -> list[TodoItem]:
    items: list[TodoItem] = []
    if user.has_perm("reports.change_monthlysubmission"):
        items += _submission_items(user, today)
    if user.has_perm("tasks.add_ledgerentry"):
        items += _returned_ledger_items(user, today)
    if user.has_perm("reports.add_correctionreport"):
        items += _escalation_items(user, today)
        items += _reminder_items(user, today)
    items += _upload_items(user, today)
    if user.has_perm("subsidies.add_disbursement") and not user_scope(user).sees_all:
        items += _payment_items(user, today)
    if user.has_perm("dropout.add_casefollowup") and not user_scope(user).sees_all:
        items += _case_items(user, today)
    if user.has_perm("employment.add_guidancerecord") and not user_scope(user).sees_all:
        items += _graduate_items(user, today)
    if user.has_perm("inspections.answer_rectificationitem"):
        items += _rectification_items(user, today)
    return items


def _submission_items(user: Any, today: dt.date) -> list[TodoItem]:
    items = []
    returned = [
        s
        for s in MonthlySubmission.objects.for_user(user)
        .filter(state=MonthlySubmission.State.RETURNED)
        .select_related("unit", "unit__county")
        .order_by("period")
        if is_own_unit(user, s.unit)
    ]
    for sub in returned:
        items.append(
            TodoItem(
                title=_("%(m)s月报被退回，请更正后重新报送") % {"m": month_label(sub.period)},
                detail=_("审核意见：%(c)s") % {"c": sub.review_comment or _("（未填写）")},
                url=reverse("reports:submissions_month", args=[f"{sub.period:%Y-%m}"]),
                action=_("去更正"),
                due_on=sub.due_on,
                overdue=True,  # a returned report is late until it is sent again
                weight=0,
            )
        )
    # The month being gathered now: still to send?
    period = previous_month(month_start(today))
    sent = set(
        MonthlySubmission.objects.for_user(user)
        .filter(period=period)
        .exclude(state=MonthlySubmission.State.NOT_SUBMITTED)
        .values_list("unit_id", flat=True)
    )
    due = submission_due(period)
    for unit in submission_units_for(user, period):
        if unit.pk in sent:
            continue
        items.append(
            TodoItem(
                title=_("报送%(m)s月报") % {"m": month_label(period)},
                detail=_("%(u)s尚未报送") % {"u": unit.display_name},
                url=reverse("reports:submissions_month", args=[f"{period:%Y-%m}"]),
                action=_("去报送"),
                due_on=due,
                overdue=due < today,
                weight=3,
            )
        )
    return items


def _returned_ledger_items(user: Any, today: dt.date) -> list[TodoItem]:
    items = []
    for e in task_selectors.entries_returned(user)[:50]:
        items.append(
            TodoItem(
                title=_("“%(t)s”%(m)s台账被退回，请更正后重新提交")
                % {"t": task_short_name(e.task), "m": month_label(e.period)},
                detail=_("%(u)s · 审核意见：%(c)s")
                % {"u": e.unit.display_name, "c": e.review_comment or _("（未填写）")},
                url=reverse("tasks:ledger_new", args=[e.task.number]) + f"?revise={e.pk}",
                action=_("去更正"),
                overdue=True,
                weight=1,
            )
        )
    return items


def _escalation_items(user: Any, today: dt.date) -> list[TodoItem]:
    items = []
    for esc in (
        _own(Escalation.objects, user, "unit")
        .filter(state=Escalation.State.OPEN)
        .select_related("deadline", "deadline__task", "unit")
        .order_by("answer_due", "seq")
    ):
        items.append(
            TodoItem(
                title=_("督办单%(n)s：报送整改报告") % {"n": esc.number},
                detail=_("%(w)s逾期未完成") % {"w": deadline_words(esc.deadline)},
                url=reverse("reports:escalation", args=[esc.pk]),
                action=_("报送整改报告"),
                due_on=esc.answer_due,
                overdue=esc.answer_due < today,
                weight=2,
            )
        )
    return items


def _reminder_items(user: Any, today: dt.date) -> list[TodoItem]:
    """Unread reminders of deadlines still ahead: one line per deadline (the latest)."""
    latest: dict[tuple[int, int], Reminder] = {}
    for r in (
        _own(Reminder.objects, user, "unit")
        .filter(read_at__isnull=True, deadline__due_on__gte=today)
        .select_related("deadline", "deadline__task", "unit")
        .order_by("created_on", "pk")
    ):
        latest[(r.deadline_id, r.unit_id)] = r
    items = []
    for r in latest.values():
        items.append(
            TodoItem(
                title=_("%(l)s将于%(d)s截止")
                % {"l": r.deadline.label, "d": date_words(r.deadline.due_on)},
                detail="；".join(str(x) for x in r.items) or r.unit.display_name,
                url=reverse("reports:inbox"),
                action=_("查看提醒"),
                due_on=r.deadline.due_on,
                weight=6,
                dismiss_url=reverse("reports:reminders_read", args=[r.deadline_id]),
            )
        )
    return items


def _upload_items(user: Any, today: dt.date) -> list[TodoItem]:
    """Rejected uploads not yet followed by an accepted file of the same kind and month."""
    since = today - dt.timedelta(days=REJECTED_UPLOAD_DAYS)
    # The unit's own files (a county's list does not fill with its schools' attempts).
    own = _own(Upload.objects, user, "unit").filter(Q(unit_id=user.unit_id) | Q(uploaded_by=user))
    rejected = list(
        own.filter(
            state__in=[Upload.State.REJECTED, Upload.State.FAILED], created_at__date__gte=since
        )
        .select_related("unit")
        .defer(*Upload.DETAIL_FIELDS)  # DISTINCT over tens of kB of error JSON per row
        .order_by("created_at")
        .distinct()
    )
    if not rejected:
        return []
    fixed = {
        (u.kind, u.period, u.unit_id, u.created_at)
        for u in Upload.objects.for_user(user)
        .filter(
            state__in=[Upload.State.APPLIED, Upload.State.PREVIEWED, Upload.State.APPLYING],
            kind__in={u.kind for u in rejected},
        )
        .only("kind", "period", "unit_id", "created_at")
    }
    items = []
    for up in rejected:
        if any(
            k == up.kind and p == up.period and unit == up.unit_id and at > up.created_at
            for k, p, unit, at in fixed
        ):
            continue
        try:
            kind = str(get_spec(up.kind).title)
        except Exception:  # a kind no longer registered still gets a line
            kind = _("上传表格")
        items.append(
            TodoItem(
                title=_("%(k)s未通过校验，请改正后重新上传") % {"k": kind},
                detail=_("%(f)s：%(n)s行有误") % {"f": up.original_name, "n": up.rows_rejected}
                if up.rows_rejected
                else up.original_name,
                url=reverse("intake:upload", args=[up.pk]),
                action=_("查看错误"),
                overdue=False,
                weight=4,
            )
        )
    return items


def _payment_items(user: Any, today: dt.date) -> list[TodoItem]:
    """Students still owed this semester's aid, from the omission check's cached figures."""
    semester = subsidy_selectors.semester_current(today)
    if semester is None or today > semester.end:
        return []
    rows = subsidy_selectors.semester_figures(semester=semester, scope=user_scope(user))
    total = rows[-1] if rows else None
    unpaid = (total.owed_students - total.complete_students) if total else 0
    if unpaid <= 0:
        return []
    return [
        TodoItem(
            title=_("%(s)s资助：尚有%(n)s名建档立卡学生未发放到位")
            % {"s": semester_words(semester.code), "n": unpaid},
            detail=_("发放截止日期%(d)s") % {"d": date_words(semester.deadline)},
            url=reverse("subsidies:omissions") + "?" + urlencode({"semester": semester.code}),
            action=_("查遗补漏"),
            due_on=semester.deadline,
            overdue=semester.deadline < today,
            weight=3,
        )
    ]


def _case_items(user: Any, today: dt.date) -> list[TodoItem]:
    cases = DropoutCase.objects.for_user(user).needs_attention(today)  # type: ignore[attr-defined]
    n = cases.count()
    if not n:
        return []
    return [
        TodoItem(
            title=_("%(n)s件控辍保学个案跟进逾期或30天未跟进") % {"n": n},
            url=reverse("dropout:cases") + "?attention=on",
            action=_("去跟进"),
            overdue=True,
            weight=3,
        )
    ]


def _graduate_items(user: Any, today: dt.date) -> list[TodoItem]:
    """Graduates not employed with no one-to-one guidance in 30 days (task 14)."""
    n = Graduate.objects.for_user(user).without_guidance(today).count()  # type: ignore[attr-defined]
    if not n:
        return []
    return [
        TodoItem(
            title=_("%(n)s名建档立卡毕业生未就业且30天未做就业指导") % {"n": n},
            url=reverse("employment:ledger") + "?flagged=on",
            action=_("去指导"),
            overdue=True,
            weight=3,
        )
    ]


def _rectification_items(user: Any, today: dt.date) -> list[TodoItem]:
    """Rectification items (明查暗访, 巡视反馈) awaiting the user's own unit's answer, by
    due date; a returned one carries the city's reason."""
    qs = (
        RectificationItem.objects.for_user(user)
        .filter(status__in=AWAITING_UNIT, unit_id__in=inspection_selectors.own_unit_ids(user))
        .select_related("unit", "inspection", "feedback")
        .order_by("due_on", "pk")
    )
    items = list(qs[:50])
    reasons = {
        e.item_id: e.comment
        for e in ItemEvent.objects.filter(
            item__in=[i for i in items if i.status == ItemStatus.RETURNED],
            action=ItemEvent.Action.RETURNED,
        ).order_by("at", "pk")
    }
    out = []
    for item in items:
        returned = item.status == ItemStatus.RETURNED
        out.append(
            TodoItem(
                title=(
                    _("整改事项被退回，请补充后重新报告：%(p)s")
                    if returned
                    else _("报告整改情况：%(p)s")
                )
                % {"p": item.short_problem},
                detail=_("%(s)s · %(u)s · 退回意见：%(c)s")
                % {
                    "s": item.source_label,
                    "u": item.unit.display_name,
                    "c": reasons.get(item.pk) or _("（未填写）"),
                }
                if returned
                else _("%(s)s · %(u)s · 整改要求：%(r)s")
                % {"s": item.source_label, "u": item.unit.display_name, "r": item.requirement[:60]},
                url=reverse("inspections:item", args=[item.pk]),
                action=_("去报告"),
                due_on=item.due_on,
                overdue=item.due_on < today,
                weight=1 if returned else 2,
            )
        )
    return out


# --- the city reviewer's queue ----------------------------------------------------------


def review_items(user: Any, today: dt.date) -> list[TodoItem]:
    items: list[TodoItem] = []
    scope = user_scope(user)
    if user.has_perm("reports.review_monthlysubmission") and scope.sees_all:
        for sub in (
            MonthlySubmission.objects.for_user(user)
            .filter(state=MonthlySubmission.State.SUBMITTED)
            .select_related("unit")
            .order_by("period", "unit__order")
        ):
            items.append(
                TodoItem(
                    title=_("审核%(u)s%(m)s月报")
                    % {"u": sub.unit.display_name, "m": month_label(sub.period)},
                    detail=_("已报，待审核"),
                    url=reverse("reports:submission", args=[sub.pk]),
                    action=_("去审核"),
                    weight=2,
                )
            )
    pending = task_selectors.entries_to_review(user)
    n = pending.count()
    if n:
        items.append(
            TodoItem(
                title=_("%(n)s条台账待审核") % {"n": n},
                detail="、".join(sorted({e.unit.display_name for e in pending[:20]}, key=str)),
                url=reverse("tasks:mine"),
                action=_("去审核"),
                weight=2,
            )
        )
    if user.has_perm("reports.change_escalation") and scope.sees_all:
        answered = (
            Escalation.objects.for_user(user)
            .filter(state=Escalation.State.ANSWERED)
            .select_related("unit")
            .order_by("answer_due", "seq")
        )
        latest = {
            a.escalation_id: a
            for a in CorrectionReport.objects.filter(escalation__in=answered).order_by(
                "submitted_at"
            )
        }
        for esc in answered:
            items.append(
                TodoItem(
                    title=_("%(u)s已报整改报告（%(n)s），待销号")
                    % {"u": esc.unit.display_name, "n": esc.number},
                    detail=latest[esc.pk].text[:60] if esc.pk in latest else "",
                    url=reverse("reports:escalation", args=[esc.pk]),
                    action=_("去审阅"),
                    weight=3,
                )
            )
    if inspection_selectors.user_may_review(user):
        for item in (
            RectificationItem.objects.for_user(user)
            .filter(status=ItemStatus.ANSWERED)
            .select_related("unit", "inspection", "feedback")
            .order_by("answered_at", "pk")[:50]
        ):
            items.append(
                TodoItem(
                    title=_("%(u)s已报告整改情况，待销号：%(p)s")
                    % {"u": item.unit.display_name, "p": item.short_problem},
                    detail=item.source_label,
                    url=reverse("inspections:item", args=[item.pk]),
                    action=_("去销号"),
                    weight=3,
                )
            )
    return items


def acts(user: Any) -> bool:
    """Whether the user has any to-do list at all (a read-only user has none)."""
    return _acts_for_unit(user) or any(
        user.has_perm(p)
        for p in (
            "reports.review_monthlysubmission",
            "tasks.review_ledgerentry",
            "reports.change_escalation",
            "inspections.review_rectificationitem",
        )
    )
