"""Demo data of the monthly cycle: the reporting units, uploads and monthly submissions
for March to May 2019 (some late, one missing, returned ones with their history), then
the deadline check run day by day up to the demo clock, the May review and the Q2
circular draft. Safe to re-run: rows are matched, jobs are idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from tasks.clock import today as clock_today
from tasks.models import Unit, Upload, User

from . import build, services
from .models import MonthLock, MonthlySubmission, Report, ReportingUnit, SubmissionEvent
from .periods import month_label
from .selectors import all_reporting_units, submission_due

TZ = dt.timezone(dt.timedelta(hours=8))
DEMO_DAY = dt.date(2019, 6, 16)
MONTHS = [dt.date(2019, 3, 1), dt.date(2019, 4, 1), dt.date(2019, 5, 1)]
KINDS = ["disbursements", "enrolment"]

# (unit code, month) -> what happened. Default: on time, reviewed (March, April) or
# submitted (May).
STORY: dict[tuple[str, int], str] = {
    ("langxi-jtj", 4): "returned-fixed",  # returned, corrected, then reviewed
    ("jingxian-jtj", 5): "returned",  # returned, not yet corrected
    ("jingde-jtj", 5): "missing",  # nothing sent
    ("guangde-jtj", 5): "late",
    ("guangde-jtj", 4): "late",
    ("city-schools", 5): "zero",  # reported a zero enrolment change file
    ("xcvtc", 3): "late",
}


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def _author(unit: Unit) -> User | None:
    return User.objects.filter(unit=unit, is_active=True).order_by("pk").first()


def _upload(unit: Unit, author: User, kind: str, period: dt.date, day: dt.date, rows: int) -> None:
    name = f"演示-{unit.code}-{kind}-{period:%Y%m}.xlsx"
    if Upload.objects.filter(unit=unit, kind=kind, period=period, original_name=name).exists():
        return
    up = Upload(
        kind=kind,
        unit=unit,
        uploaded_by=author,
        original_name=name,
        size=4,
        sha256="d" * 64,
        period=period,
        state=Upload.State.APPLIED,
        rows_total=rows,
        rows_accepted=rows,
        result={"demo": True},
    )
    up.file.save("upload", ContentFile(b"demo"), save=False)
    up.save()
    Upload.objects.filter(pk=up.pk).update(created_at=_at(day), applied_at=_at(day, 11))


def _event(
    sub: MonthlySubmission, action: str, actor: User, when: dt.datetime, **extra: Any
) -> None:
    ev = SubmissionEvent.objects.create(
        submission=sub, action=action, version=sub.version, actor=actor, **extra
    )
    SubmissionEvent.objects.filter(pk=ev.pk).update(at=when)


def _submission(unit: Unit, period: dt.date, story: str, reviewer: User | None) -> bool:
    if MonthlySubmission.objects.filter(unit=unit, period=period).exists() or story == "missing":
        return False
    author = _author(unit)
    if author is None:
        return False
    due = submission_due(period)
    day = due + dt.timedelta(days=4) if story == "late" else due - dt.timedelta(days=2)
    for i, kind in enumerate(KINDS):
        rows = 0 if (story == "zero" and kind == "enrolment") else 20 + 7 * unit.order % 30 + i * 5
        _upload(unit, author, kind, period, day - dt.timedelta(days=1), rows)
    from .selectors import live_figures

    figures = live_figures(unit, period)
    text = f"{unit.display_name}{month_label(period)}资助发放及控辍保学情况已按要求统计汇总，数据经分管领导审核。"
    sub = MonthlySubmission.objects.create(
        unit=unit,
        period=period,
        due_on=due,
        state=MonthlySubmission.State.SUBMITTED,
        version=1,
        narrative=text,
        figures=figures,
        first_submitted_at=_at(day),
        submitted_at=_at(day),
        submitted_by=author,
    )
    _event(
        sub,
        SubmissionEvent.Action.SUBMITTED,
        author,
        _at(day),
        narrative=text,
        figures=figures,
        cover_name="月报封面（签字盖章）.pdf",
        cover_sheet=ContentFile(b"%PDF-1.4 demo", name="cover"),
    )
    if reviewer is None:
        return True
    review_day = day + dt.timedelta(days=2)
    if story in {"returned", "returned-fixed"}:
        comment = "资助发放明细与学籍人数不一致，请核对后重新报送。"
        sub.state, sub.review_comment = MonthlySubmission.State.RETURNED, comment
        sub.reviewed_by, sub.reviewed_at = reviewer, _at(review_day)
        sub.save()
        _event(sub, SubmissionEvent.Action.RETURNED, reviewer, _at(review_day), comment=comment)
        if story == "returned":
            return True
        fixed_day = review_day + dt.timedelta(days=1)
        sub.version = 2
        sub.state = MonthlySubmission.State.SUBMITTED
        sub.narrative = text + "已核对更正：补录2名转入学生。"
        sub.submitted_at = _at(fixed_day)
        sub.save()
        _event(
            sub,
            SubmissionEvent.Action.SUBMITTED,
            author,
            _at(fixed_day),
            narrative=sub.narrative,
            figures=figures,
        )
        review_day = fixed_day + dt.timedelta(days=1)
    if period.month < 5 or story == "returned-fixed":
        sub.state = MonthlySubmission.State.REVIEWED
        sub.reviewed_by, sub.reviewed_at, sub.review_comment = reviewer, _at(review_day), ""
        sub.save()
        _event(sub, SubmissionEvent.Action.REVIEWED, reviewer, _at(review_day))
    return True


@transaction.atomic
def _submissions() -> int:
    made = 0
    for order, unit in enumerate(all_reporting_units(), start=1):
        ReportingUnit.objects.get_or_create(
            unit=unit, defaults={"valid_from": dt.date(2019, 1, 1), "order": order}
        )
    reviewer = User.objects.filter(username="reviewer").first()
    for period in MONTHS:
        for unit in all_reporting_units():
            made += _submission(
                unit, period, STORY.get((unit.code, period.month), "on-time"), reviewer
            )
    if reviewer and not MonthLock.objects.filter(period=MONTHS[0]).exists():
        MonthLock.objects.create(
            period=MONTHS[0],
            locked=True,
            history=[
                {
                    "action": "locked",
                    "user": reviewer.username,
                    "at": _at(dt.date(2019, 4, 12)).isoformat(),
                    "reason": "",
                }
            ],
        )
    return made


def seed(stdout: Any) -> None:
    made = _submissions()
    # The deadline check as beat would have run it every morning up to the demo day.
    end = min(clock_today(), DEMO_DAY) if clock_today() >= dt.date(2019, 5, 1) else DEMO_DAY
    day, counts = dt.date(2019, 5, 20), [0, 0, 0]
    while day <= end:
        result = services.deadlines_check(today=day)
        counts[0] += len(result.reminders)
        counts[1] += len(result.breaches)
        counts[2] += len(result.escalations)
        day += dt.timedelta(days=1)
    may = build.report_build(
        kind=Report.Kind.MONTHLY, period=dt.date(2019, 5, 1), today=dt.date(2019, 6, 1)
    )
    q2 = build.report_build(kind=Report.Kind.QUARTERLY, period=dt.date(2019, 4, 1), today=end)
    stdout.write(
        f"月报演示：新增月报 {made} 份；截止检查新增提醒 {counts[0]} 条、逾期 {counts[1]} 条、督办单 {counts[2]} 份；"
        f"{may.title}、{q2.title}（{q2.get_state_display()}）已生成。"
    )
