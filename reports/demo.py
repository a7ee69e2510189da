"""Demo data of the monthly cycle, replayed through the real services on the clock of
each day (`clock.replay`): the reporting units; each month's 资助发放明细 and 学籍 sheets
uploaded as real .xlsx files (so the 月报 shows their rows and amounts); the monthly
submissions for March to May 2019 (some late, one missing, returned ones with their
history); the deadline check run every morning up to the demo day; the May review and the
Q2 circular draft. Nothing is dated after the demo day. Safe to re-run: uploads and
submissions are matched, jobs are idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from dropout.demo import ENROLMENT_HEADERS, enrolment_rows
from intake.models import Upload
from intake.replay import demo_upload
from subsidies.demo import HEADERS as PAYMENT_HEADERS
from subsidies.demo import payment_rows
from tasks import clock
from tasks.demo import sheet
from tasks.models import Unit, User

from . import build, services
from .models import MonthlySubmission, Report, ReportingUnit
from .periods import month_end, month_label
from .selectors import all_reporting_units, kind_title, reporting_units, submission_due

TZ = dt.timezone(dt.timedelta(hours=8))
DEMO_DAY = dt.date(2019, 6, 16)
MONTHS = [dt.date(2019, 3, 1), dt.date(2019, 4, 1), dt.date(2019, 5, 1)]
JUNE = dt.date(2019, 6, 1)
KINDS = ["disbursements", "enrolment"]
SCHOOL_CODE = "school-xuanzhou-1"  # the demo school user's school
#: 宣城职业技术学院 reports monthly from the autumn term (it pays no spring aid here).
COLLEGE_FROM = dt.date(2019, 9, 1)

# (unit code, month) -> what happened. Default: on time, reviewed (March, April) or
# submitted (May).
STORY: dict[tuple[str, int], str] = {
    ("langxi-jtj", 4): "returned-fixed",  # returned, corrected, then reviewed
    ("jingxian-jtj", 5): "returned",  # returned, not yet corrected
    ("jingde-jtj", 5): "missing",  # nothing sent
    ("guangde-jtj", 5): "late",
    ("guangde-jtj", 4): "late",
    ("city-schools", 5): "zero",  # reported a zero enrolment change file
}


def _at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _author(unit: Unit) -> User | None:
    return User.objects.filter(unit=unit, is_active=True).order_by("pk").first()


def _sheets(unit: Unit, period: dt.date, story: str, until: dt.date) -> dict[str, bytes]:
    """The sheets `unit` uploads for `period`: its payments of the month, its registry
    at the month's end (a zero change file in the "zero" story). A kind with no payments
    that month is not uploaded."""
    out = {}
    payments = payment_rows(unit.code, period, until=until)
    if payments:
        out["disbursements"] = sheet(PAYMENT_HEADERS, payments)
    pupils = [] if story == "zero" else enrolment_rows(unit, month_end(period))
    if pupils or story == "zero":
        out["enrolment"] = sheet(ENROLMENT_HEADERS, pupils)
    return out


def _uploads(unit: Unit, author: User, period: dt.date, story: str, day: dt.date) -> None:
    until = min(clock.today(), DEMO_DAY)
    for n, (kind, content) in enumerate(_sheets(unit, period, story, until).items()):
        if Upload.objects.filter(
            unit=unit, kind=kind, period=period, state=Upload.State.APPLIED
        ).exists():
            continue  # the May registries came in with the dropout demo
        demo_upload(
            user=author,
            unit=unit,
            kind=kind,
            period=period,
            name=f"{unit.display_name}{period.month}月{kind_title(kind)}.xlsx",
            content=content,
            at=_at(day, 15, n),
        )


def _cover() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "月报封面（签字盖章）.pdf", b"%PDF-1.4 demo cover", content_type="application/pdf"
    )


def _submission(unit: Unit, period: dt.date, story: str, reviewer: User | None) -> bool:
    done = MonthlySubmission.objects.filter(unit=unit, period=period).exclude(
        state=MonthlySubmission.State.NOT_SUBMITTED
    )
    if story == "missing" or done.exists():
        return False
    author = _author(unit)
    if author is None:
        return False
    due = submission_due(period)
    day = due + dt.timedelta(days=4) if story == "late" else due - dt.timedelta(days=2)
    _uploads(unit, author, period, story, day - dt.timedelta(days=1))
    text = (
        f"{unit.display_name}{month_label(period)}资助发放及控辍保学情况已按要求统计汇总，"
        "数据经分管领导审核。"
    )
    with clock.replay(_at(day)):
        sub = services.submission_submit(
            user=author, unit=unit, period=period, narrative=text, cover_sheet=_cover()
        )
    if reviewer is None:
        return True
    review_day = day + dt.timedelta(days=2)
    if story in {"returned", "returned-fixed"}:
        with clock.replay(_at(review_day)):
            sub = services.submission_return(
                user=reviewer,
                submission=sub,
                comment="资助发放明细与学籍人数不一致，请核对后重新报送。",
            )
        if story == "returned":
            return True
        fixed_day = review_day + dt.timedelta(days=1)
        with clock.replay(_at(fixed_day)):
            sub = services.submission_submit(
                user=author,
                unit=unit,
                period=period,
                narrative=text + "已核对更正：补录2名转入学生。",
            )
        review_day = fixed_day + dt.timedelta(days=1)
    if period.month < 5 or story == "returned-fixed":
        with clock.replay(_at(review_day, 16)):
            services.submission_accept(user=reviewer, submission=sub)
    return True


def _june_uploads(until: dt.date) -> None:
    """This morning some units already uploaded June's payments (the report is due in
    July): the payments made since the last sheet, the late ones among them."""
    if until < DEMO_DAY:
        return
    school = Unit.objects.filter(code=SCHOOL_CODE).first()
    for unit in all_reporting_units():
        author = _author(unit)
        rows = payment_rows(unit.code, JUNE, until=until)
        if author is None or not rows or unit.code in {"jingde-jtj", "jingxian-jtj"}:
            continue
        sheets = [(unit, author, rows)]
        if school is not None and unit.county_id and unit.county_id == school.county_id:
            # One school sends its own sheet (the county's 月报 counts it all the same).
            own = [r for r in rows if r[2] == school.name]
            school_user = _author(school)
            if own and school_user is not None:
                sheets = [(unit, author, [r for r in rows if r[2] != school.name])]
                sheets.append((school, school_user, own))
        for n, (who, user, part) in enumerate(sheets):
            if not part:
                continue
            demo_upload(
                user=user,
                unit=who,
                kind="disbursements",
                period=JUNE,
                name=f"{who.display_name}6月{kind_title('disbursements')}.xlsx",
                content=sheet(PAYMENT_HEADERS, part),
                at=_at(until, 9 + n, unit.order % 60),
            )


@transaction.atomic
def _submissions() -> int:
    made = 0
    for order, unit in enumerate(all_reporting_units(), start=1):
        ReportingUnit.objects.get_or_create(
            unit=unit,
            defaults={
                "valid_from": COLLEGE_FROM if unit.kind == Unit.Kind.COLLEGE else MONTHS[0],
                "order": order,
            },
        )
    reviewer = User.objects.filter(username="reviewer").first()
    for period in MONTHS:
        for unit in reporting_units(period):
            made += _submission(
                unit, period, STORY.get((unit.code, period.month), "on-time"), reviewer
            )
    if reviewer is not None:
        try:
            with clock.replay(_at(dt.date(2019, 4, 12), 17)):
                services.month_lock(user=reviewer, period=MONTHS[0])
        except ValidationError:
            pass  # a March report is not reviewed (a changed story): March stays open
    _june_uploads(min(clock.today(), DEMO_DAY))
    return made


def seed(stdout: Any) -> None:
    made = _submissions()
    # The deadline check as beat would have run it every morning up to the demo day.
    end = min(clock.today(), DEMO_DAY)
    day, counts = dt.date(2019, 5, 20), [0, 0, 0]
    while day <= end:
        with clock.replay(_at(day, 7)):
            result = services.deadlines_check(today=day)
        counts[0] += len(result.reminders)
        counts[1] += len(result.breaches)
        counts[2] += len(result.escalations)
        day += dt.timedelta(days=1)
    with clock.replay(_at(min(end, dt.date(2019, 6, 12)), 16)):
        may = build.report_build(kind=Report.Kind.MONTHLY, period=MONTHS[-1])
    with clock.replay(_at(end, 8, 30)):
        q2 = build.report_build(kind=Report.Kind.QUARTERLY, period=dt.date(2019, 4, 1))
    stdout.write(
        f"月报演示：新增月报 {made} 份；截止检查新增提醒 {counts[0]} 条、逾期 {counts[1]} 条、督办单 {counts[2]} 份；"
        f"{may.title}、{q2.title}（{q2.get_state_display()}）已生成。"
    )
