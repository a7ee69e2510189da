"""Reads of the monthly cycle: who reports, when it is due, what each unit uploaded,
completeness and timeliness (as DHIS2 computes them, from the uploads themselves)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Min, QuerySet, Sum
from django.utils import timezone

from intake.models import Upload
from tasks.models import Deadline, Plan, Unit
from tasks.scoping import Scope, unit_scope, user_scope

from .models import (
    Escalation,
    MonthLock,
    MonthlySubmission,
    Reminder,
    ReportingSettings,
    ReportingUnit,
)
from .periods import month_end, next_month

#: Titles of the upload kinds a monthly submission is made of.
KIND_TITLES = {"disbursements": "资助发放明细", "enrolment": "学籍（控辍保学）"}


def kind_title(kind: str) -> str:
    try:
        from intake.base import get_spec

        return get_spec(kind).title
    except Exception:  # an unregistered kind still gets a readable name
        return KIND_TITLES.get(kind, kind)


DEFAULT_REPORTING_KINDS = (Unit.Kind.COUNTY_BUREAU, Unit.Kind.CITY_SCHOOLS, Unit.Kind.COLLEGE)


def _default_units() -> list[Unit]:
    return list(
        Unit.objects.filter(kind__in=DEFAULT_REPORTING_KINDS, is_active=True)
        .select_related("county")
        .order_by("order", "code")
    )


def listed_reporting_units() -> list[ReportingUnit]:
    """Every ReportingUnit row (tens of them) with its unit, in report order: read once by
    a caller that asks `reporting_units` for several months."""
    return list(
        ReportingUnit.objects.select_related("unit", "unit__county").order_by(
            "order", "unit__order"
        )
    )


def reporting_units(period: dt.date, listed: list[ReportingUnit] | None = None) -> list[Unit]:
    """The units expected to report for the month starting `period`, in report order.

    Rows of ReportingUnit (with their validity dates) decide; while an administrator has
    listed none, the seven county bureaus, 市直学校 and the college report every month.
    `listed`: the rows from `listed_reporting_units`, when the caller has them."""
    rows = listed_reporting_units() if listed is None else listed
    if not rows:
        return _default_units()
    return [r.unit for r in rows if r.unit.is_active and r.valid_in(period)]


def all_reporting_units() -> list[Unit]:
    if not ReportingUnit.objects.exists():
        return _default_units()
    return [
        r.unit
        for r in ReportingUnit.objects.select_related("unit", "unit__county").order_by("order")
    ]


def submission_due(period: dt.date) -> dt.date:
    """The due day of the month's report: the task-5 monthly deadline row when there is
    one (administrators edit those), else the settings' day of the next month."""
    row = (
        Deadline.objects.filter(
            task__number=5,
            kind=Deadline.Kind.MONTHLY,
            period_start__lte=period,
            period_end__gte=period,
        )
        .order_by("period_start")
        .first()
    )
    if row is not None:
        return row.due_on
    day = ReportingSettings.current().due_day
    nxt = next_month(period)
    return min(nxt.replace(day=1) + dt.timedelta(days=day - 1), month_end(nxt))


def month_locked(period: dt.date) -> bool:
    return MonthLock.objects.filter(period=period, locked=True).exists()


def _local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


@dataclass
class KindFigure:
    """What a unit uploaded of one kind for one month. `None` in place of this object
    means nothing was uploaded (a missing figure); rows == 0 is a reported zero."""

    uploads: int = 0
    rows: int = 0
    amount: Decimal | None = None
    first_on: dt.date | None = None
    upload_ids: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "uploads": self.uploads,
            "rows": self.rows,
            "amount": str(self.amount) if self.amount is not None else None,
            "first_on": self.first_on.isoformat() if self.first_on else None,
            "upload_ids": self.upload_ids,
        }


def uploads_by_unit(
    periods: list[dt.date], units: list[Unit], kinds: list[str]
) -> dict[tuple[int, dt.date], dict[str, KindFigure]]:
    """Applied uploads of `kinds` for `periods`, attributed to the reporting unit whose
    scope holds the uploading unit (a county bureau owns its schools' uploads, the
    市直学校 coordinator the city-run schools'). One query for the uploads, one for amounts."""
    scopes = {u.pk: unit_scope(u) for u in units}
    out: dict[tuple[int, dt.date], dict[str, KindFigure]] = defaultdict(dict)
    rows = (
        Upload.objects.filter(period__in=periods, state=Upload.State.APPLIED, kind__in=kinds)
        .values("pk", "unit_id", "unit__county_id", "kind", "period", "created_at", "rows_accepted")
        .order_by("created_at")
    )
    for row in rows:
        for unit in units:
            if not scopes[unit.pk].covers(county_id=row["unit__county_id"], unit_id=row["unit_id"]):
                continue
            key: tuple[int, dt.date] = (unit.pk, row["period"])  # type: ignore[assignment]
            fig = out[key].setdefault(row["kind"], KindFigure())
            fig.uploads += 1
            fig.rows += row["rows_accepted"]
            fig.upload_ids.append(row["pk"])
            day = _local_date(row["created_at"])
            fig.first_on = min(fig.first_on, day) if fig.first_on else day
    disb_ids = [
        i
        for figs in out.values()
        if "disbursements" in figs
        for i in figs["disbursements"].upload_ids
    ]
    if disb_ids:
        from subsidies.models import Disbursement

        amounts = dict(
            Disbursement.objects.filter(upload_id__in=disb_ids)
            .values("upload_id")
            .annotate(s=Sum("amount"))
            .values_list("upload_id", "s")
        )
        for figs in out.values():
            disb = figs.get("disbursements")
            if disb:
                disb.amount = sum(
                    (amounts.get(i) or Decimal("0") for i in disb.upload_ids), Decimal("0")
                )
    return out


def live_figures(unit: Unit, period: dt.date) -> dict[str, Any]:
    """The figures a unit's submission for `period` is made of right now (JSON-ready):
    one entry per expected kind, None where nothing was uploaded."""
    kinds = ReportingSettings.current().expected_kinds or list(KIND_TITLES)
    figs = uploads_by_unit([period], [unit], kinds).get((unit.pk, period), {})
    return {k: (figs[k].as_json() if k in figs else None) for k in kinds}


@dataclass
class UnitMonth:
    """Completeness and timeliness of one unit in one month."""

    unit: Unit
    period: dt.date
    due_on: dt.date
    expected: bool
    kinds: dict[str, KindFigure | None]
    submission: MonthlySubmission | None = None

    @property
    def figure_list(self) -> list[KindFigure | None]:
        return list(self.kinds.values())

    @property
    def expected_sets(self) -> int:
        return len(self.kinds) if self.expected else 0

    @property
    def received_sets(self) -> int:
        return sum(1 for f in self.kinds.values() if f is not None) if self.expected else 0

    @property
    def on_time_sets(self) -> int:
        if not self.expected:
            return 0
        return sum(
            1
            for f in self.kinds.values()
            if f is not None and f.first_on and f.first_on <= self.due_on
        )

    @property
    def state(self) -> str:
        return self.submission.state if self.submission else MonthlySubmission.State.NOT_SUBMITTED

    @property
    def state_label(self) -> str:
        if self.submission:
            return self.submission.get_state_display()
        return str(MonthlySubmission.State.NOT_SUBMITTED.label)

    @property
    def on_time(self) -> bool | None:
        return self.submission.on_time if self.submission else None


@dataclass
class Rates:
    expected: int = 0
    received: int = 0
    on_time: int = 0

    def add(self, um: UnitMonth) -> None:
        self.expected += um.expected_sets
        self.received += um.received_sets
        self.on_time += um.on_time_sets

    @property
    def completeness(self) -> float | None:
        return round(self.received * 100 / self.expected, 1) if self.expected else None

    @property
    def timeliness(self) -> float | None:
        return round(self.on_time * 100 / self.expected, 1) if self.expected else None


@dataclass
class MonthGrid:
    periods: list[dt.date]
    units: list[Unit]
    cells: dict[tuple[int, dt.date], UnitMonth]
    kinds: list[str]

    def row(self, unit: Unit) -> list[UnitMonth]:
        return [self.cells[(unit.pk, p)] for p in self.periods]

    def unit_rates(self, unit: Unit) -> Rates:
        r = Rates()
        for um in self.row(unit):
            r.add(um)
        return r

    def month_rates(self, period: dt.date) -> Rates:
        r = Rates()
        for unit in self.units:
            r.add(self.cells[(unit.pk, period)])
        return r

    def total(self) -> Rates:
        r = Rates()
        for um in self.cells.values():
            r.add(um)
        return r


def completeness(periods: list[dt.date], *, scope: Scope | None = None) -> MonthGrid:
    """Expected vs received vs received on time, per unit and month (DHIS2's reporting
    rate and timeliness), counted per data set (upload kind) from applied uploads.

    A unit is expected only in months it is a valid reporting unit, from the month the
    plan was issued; `scope` limits the units listed (a county sees its own row)."""
    kinds = list(ReportingSettings.current().expected_kinds or KIND_TITLES)
    all_units: dict[int, Unit] = {}
    valid: set[tuple[int, dt.date]] = set()
    start = first_reporting_month()
    listed = listed_reporting_units()
    for period in periods:
        if start is not None and period < start:
            continue
        for unit in reporting_units(period, listed):
            all_units.setdefault(unit.pk, unit)
            valid.add((unit.pk, period))
    # Units listed but not valid in some period still get a row (not expected there).
    units = [all_units.get(u.pk, u) for u in all_reporting_units()]
    if scope is not None and not scope.sees_all:
        units = [u for u in units if scope.covers(county_id=u.county_id, unit_id=u.pk)]
    figs = uploads_by_unit(periods, units, kinds)
    subs = {
        (s.unit_id, s.period): s
        for s in MonthlySubmission.objects.filter(period__in=periods, unit__in=units)
    }
    cells = {}
    for period in periods:
        due = submission_due(period)
        for unit in units:
            got = figs.get((unit.pk, period), {})
            cells[(unit.pk, period)] = UnitMonth(
                unit=unit,
                period=period,
                due_on=due,
                expected=(unit.pk, period) in valid,
                kinds={k: got.get(k) for k in kinds},
                submission=subs.get((unit.pk, period)),
            )
    return MonthGrid(periods=periods, units=units, cells=cells, kinds=kinds)


def first_reporting_month() -> dt.date | None:
    """The month the plan was issued in (教秘计〔2019〕5号 of 2019-03-19: March 2019).

    Nobody reports on a plan before it exists, so earlier months are expected of no one;
    None while no plan is loaded."""
    issued = Plan.objects.aggregate(first=Min("issued_on"))["first"]
    return issued.replace(day=1) if issued else None


def year_periods(year: int, today: dt.date) -> list[dt.date]:
    """The months of `year` whose report is already due (the year so far), from the
    month the plan was issued."""
    start = first_reporting_month()
    return [
        dt.date(year, m, 1)
        for m in range(1, 13)
        if dt.date(year, m, 1) <= today
        and submission_due(dt.date(year, m, 1)) < today
        and (start is None or dt.date(year, m, 1) >= start)
    ]


def submissions_for(user: Any) -> QuerySet[MonthlySubmission]:
    return MonthlySubmission.objects.for_user(user).select_related(
        "unit", "submitted_by", "reviewed_by"
    )


def submission_units_for(user: Any, period: dt.date) -> list[Unit]:
    """The reporting units this user may submit for (their own unit's scope)."""
    scope = user_scope(user)
    if scope.sees_all:
        return []
    return [
        u
        for u in reporting_units(period)
        if scope.covers(county_id=u.county_id, unit_id=u.pk) and is_own_unit(user, u)
    ]


def is_own_unit(user: Any, unit: Unit) -> bool:
    # A county's users report for the county bureau; the 市直学校 coordinator for 市直学校.
    return user.unit_id == unit.pk or (
        unit.kind == Unit.Kind.COUNTY_BUREAU and user.unit and user.unit.county_id == unit.county_id
    )


# --- inbox and calendar ----------------------------------------------------------------


def inbox(user: Any) -> tuple[QuerySet[Reminder], QuerySet[Escalation]]:
    reminders = (
        Reminder.objects.for_user(user)
        .select_related("deadline", "deadline__task", "unit")
        .order_by("-created_on", "pk")
    )
    escalations = (
        Escalation.objects.for_user(user)
        .select_related("deadline", "deadline__task", "unit")
        .prefetch_related("answers")
        .order_by("-raised_on", "-seq")
    )
    return reminders, escalations
