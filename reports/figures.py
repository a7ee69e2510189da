"""The figures of the monthly review (月点评) and the quarterly circular (季通报).

Per county and the city-run schools: payment coverage, omissions left, highest-tier rate
and informed rate (from `subsidies.selectors.semester_figures`), submission timeliness
(from the monthly submissions), open dropout cases and returns (computed here from
`dropout.models.DropoutCase`, read-only: dropout has no per-month selector for returns),
and ledger progress on each unit's tasks. Every figure is JSON-ready so a report keeps
the snapshot it was built from.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Count

from inspections.selectors import review_counts
from tasks.models import County, LedgerEntry, Responsibility, Unit
from tasks.scoping import EVERYTHING

from .models import Breach, Escalation, MonthlySubmission
from .periods import month_end, month_label
from .selectors import listed_reporting_units, reporting_units, submission_due
from .texts import task_short_name

#: The rates that make the score, with the words a comment uses for each.
RATES: list[tuple[str, str]] = [
    ("coverage", "资助覆盖率"),
    ("top_rate", "最高档发放率"),
    ("informed_rate", "结果告知率"),
    ("timeliness", "月报按时报送率"),
    ("ledger_rate", "台账完成率"),
]
LABELS = dict(RATES) | {
    "omissions": "遗漏人次",
    "open_cases": "在办辍学个案",
    "returned_cases": "本期劝返复学",
    "rect_open": "未销号整改事项",
    "rect_overdue": "逾期整改事项",
    "rect_closed": "已销号整改事项",
}


def review_units() -> list[Unit]:
    """The units ranked: the seven county bureaus and the 市直学校 unit."""
    return list(
        Unit.objects.filter(
            kind__in=[Unit.Kind.COUNTY_BUREAU, Unit.Kind.CITY_SCHOOLS], is_active=True
        )
        .select_related("county")
        .order_by("county__order", "order")
    )


def _unit_key(unit: Unit) -> int | None:
    # Subsidy and dropout figures are per county; the city-run schools are "county None".
    return unit.county_id if unit.kind == Unit.Kind.COUNTY_BUREAU else None


def _subsidy_figures(day: dt.date) -> tuple[str | None, dict[int | None, Any]]:
    try:
        from subsidies.selectors import semester_current, semester_figures
    except ImportError:  # pragma: no cover - subsidies is installed in every deployment
        return None, {}
    semester = semester_current(day)
    if semester is None:
        return None, {}
    figs = semester_figures(semester=semester, scope=EVERYTHING)[:-1]
    return semester.code, {f.county_id: f for f in figs}


def _dropout_figures(
    start: dt.date, end: dt.date
) -> tuple[Counter[int | None], Counter[int | None]]:
    from dropout.models import OPEN_STATUSES, CaseStatus, DropoutCase

    open_cases: Counter[int | None] = Counter()
    for row in (
        DropoutCase.objects.filter(status__in=OPEN_STATUSES, opened_on__lte=end)
        .values("county_id")
        .annotate(n=Count("pk"))
    ):
        open_cases[row["county_id"]] = row["n"]
    returned: Counter[int | None] = Counter()
    for row in (
        DropoutCase.objects.filter(
            status=CaseStatus.RETURNED, outcome_date__gte=start, outcome_date__lte=end
        )
        .values("county_id")
        .annotate(n=Count("pk"))
    ):
        returned[row["county_id"]] = row["n"]
    return open_cases, returned


def _timeliness(units: list[Unit], months: list[dt.date]) -> dict[int, dict[str, Any]]:
    """Per unit over `months`: reports expected, received, received by the due day."""
    subs = {
        (s.unit_id, s.period): s
        for s in MonthlySubmission.objects.filter(unit__in=units, period__in=months)
    }
    out: dict[int, dict[str, Any]] = {}
    listed = listed_reporting_units()
    expected_by_month = {m: {u.pk for u in reporting_units(m, listed)} for m in months}
    for unit in units:
        exp = rec = on = 0
        for m in months:
            if unit.pk not in expected_by_month[m]:
                continue
            exp += 1
            s = subs.get((unit.pk, m))
            if s and s.first_submitted_at:
                rec += 1
                on += bool(s.on_time)
        last = subs.get((unit.pk, months[-1]))
        out[unit.pk] = {
            "expected": exp,
            "received": rec,
            "on_time": on,
            "rate": round(on * 100 / exp, 1) if exp else None,
            "state": (
                last.get_state_display()
                if last
                else str(MonthlySubmission.State.NOT_SUBMITTED.label)
            ),
            "last_on_time": (last.on_time if last else None),
        }
    return out


def _ledger(units: list[Unit], end: dt.date) -> dict[int, dict[str, Any]]:
    """Share of each unit's tasks whose latest entry up to `end` is 已完成 and not returned."""
    tasks: dict[int, set[int]] = {u.pk: set() for u in units}
    for unit_id, task_id in Responsibility.objects.filter(unit__in=units).values_list(
        "unit_id", "task_id"
    ):
        tasks[unit_id].add(task_id)
    latest: dict[tuple[int, int], LedgerEntry] = {}
    for e in (
        LedgerEntry.objects.filter(unit__in=units, period__lte=end)
        .order_by("period", "submitted_at")
        .only("unit_id", "task_id", "status", "review")
    ):
        latest[(e.unit_id, e.task_id)] = e
    out = {}
    for unit in units:
        total = len(tasks[unit.pk])
        done = 0
        for t in tasks[unit.pk]:
            entry = latest.get((unit.pk, t))
            if (
                entry is not None
                and entry.status == LedgerEntry.Status.DONE
                and entry.review != LedgerEntry.Review.RETURNED
            ):
                done += 1
        out[unit.pk] = {
            "tasks": total,
            "done": done,
            "rate": round(done * 100 / total, 1) if total else None,
        }
    return out


def _mean(values: list[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return round(sum(got) / len(got), 1) if got else None


def unit_figures(period: dt.date, *, months: list[dt.date] | None = None) -> dict[str, Any]:
    """The review table for the month starting `period` (or, with `months`, for a quarter:
    timeliness over those months, other figures as of the last one). JSON-ready."""
    months = months or [period]
    start, end = months[0], month_end(months[-1])
    units = review_units()
    semester, subsidy = _subsidy_figures(end)
    open_cases, returned = _dropout_figures(start, end)
    timely = _timeliness(units, months)
    ledger = _ledger(units, end)
    rect = review_counts(units, end)
    rows = []
    for unit in units:
        key = _unit_key(unit)
        sf = subsidy.get(key)
        row = {
            "unit_id": unit.pk,
            "unit": unit.county.current_name() if unit.county else unit.display_name,
            "coverage": sf.coverage_rate if sf else None,
            "omissions": sf.missing_pairs if sf else None,
            "unpaid_students": (sf.owed_students - sf.complete_students) if sf else None,
            "top_rate": sf.top_rate if sf else None,
            "informed_rate": sf.informed_rate if sf else None,
            "timeliness": timely[unit.pk]["rate"],
            "submission_state": timely[unit.pk]["state"],
            "submission_on_time": timely[unit.pk]["last_on_time"],
            "reports_expected": timely[unit.pk]["expected"],
            "reports_on_time": timely[unit.pk]["on_time"],
            "open_cases": open_cases.get(key, 0),
            "returned_cases": returned.get(key, 0),
            "ledger_rate": ledger[unit.pk]["rate"],
            "ledger_done": ledger[unit.pk]["done"],
            "ledger_tasks": ledger[unit.pk]["tasks"],
            # Rectification items (明查暗访, 巡视反馈) in the unit's scope, as at `end`.
            "rect_open": rect[unit.pk].open,
            "rect_overdue": rect[unit.pk].overdue,
            "rect_closed": rect[unit.pk].closed,
        }
        row["score"] = _mean([row[k] for k, _w in RATES])
        rows.append(row)
    _rank(rows)
    averages = {k: _mean([r[k] for r in rows]) for k, _w in RATES}
    for row in rows:
        row["comment"] = _comment(row, averages)
    return {
        "period": period.isoformat(),
        "months": [m.isoformat() for m in months],
        "semester": semester,
        "due_on": submission_due(months[-1]).isoformat(),
        "rows": rows,
        "averages": averages,
        "totals": {
            "omissions": sum(r["omissions"] or 0 for r in rows),
            "unpaid_students": sum(r["unpaid_students"] or 0 for r in rows),
            "open_cases": sum(r["open_cases"] for r in rows),
            "returned_cases": sum(r["returned_cases"] for r in rows),
            "rect_open": sum(r["rect_open"] for r in rows),
            "rect_overdue": sum(r["rect_overdue"] for r in rows),
            "rect_closed": sum(r["rect_closed"] for r in rows),
        },
    }


def _rank(rows: list[dict[str, Any]]) -> None:
    """Competition ranking by score (1, 2, 2, 4); units without any figure come last."""
    ordered = sorted(rows, key=lambda r: (r["score"] is None, -(r["score"] or 0), r["unit_id"]))
    rank, last = 0, object()
    for i, row in enumerate(ordered, start=1):
        if row["score"] != last:
            rank, last = i, row["score"]
        row["rank"] = rank


def _comment(row: dict[str, Any], averages: dict[str, float | None]) -> str:
    """One sentence naming the figure that lags most behind the city average."""
    gaps = [
        (averages[k] - row[k], k, w)
        for k, w in RATES
        if row[k] is not None and averages[k] is not None
    ]
    if not gaps:
        return "本期无可比数据。"
    gap, key, words = max(gaps)
    extra = []
    if row["omissions"]:
        extra.append(f"尚有遗漏 {row['omissions']} 人次")
    if row["open_cases"]:
        extra.append(f"在办辍学个案 {row['open_cases']} 件")
    if row.get("rect_overdue"):
        extra.append(f"整改事项逾期未销号 {row['rect_overdue']} 条")
    tail = ("；" + "，".join(extra)) if extra else ""
    if gap <= 0:
        return f"各项指标均不低于全市平均，{words}{row[key]:.1f}%{tail}。"
    return f"{words}最为滞后：{row[key]:.1f}%，低于全市平均 {gap:.1f} 个百分点{tail}。"


def with_changes(current: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Add rank and score change from the previous month's snapshot (None when unknown)."""
    before = {r["unit_id"]: r for r in (previous or {}).get("rows", [])}
    for row in current["rows"]:
        old = before.get(row["unit_id"])
        row["rank_change"] = (old["rank"] - row["rank"]) if old else None
        row["score_change"] = (
            round(row["score"] - old["score"], 1)
            if old and old.get("score") is not None and row["score"] is not None
            else None
        )
    return current


def quarter_events(start: dt.date, end: dt.date) -> dict[str, Any]:
    """Deadlines missed and escalation notices raised between start and end, and the
    units that may not be praised: any overdue item in the quarter, or a 督办单 not yet
    closed (销号) whenever it was raised."""
    missed = [
        {
            "unit": b.unit.display_name,
            "unit_id": b.unit_id,
            "task_number": b.deadline.task.number,
            "task": task_short_name(b.deadline.task),
            "deadline": b.deadline.label,
            "due_on": b.deadline.due_on.isoformat(),
            "items": b.items,
        }
        for b in Breach.objects.filter(deadline__due_on__gte=start, deadline__due_on__lte=end)
        .select_related("unit", "deadline", "deadline__task")
        .order_by("deadline__due_on", "unit__order")
    ]
    escalations = [
        {
            "number": e.number,
            "unit": e.unit.display_name,
            "unit_id": e.unit_id,
            "level": e.level,
            "task": task_short_name(e.deadline.task),
            "deadline": e.deadline.label,
            "raised_on": e.raised_on.isoformat(),
            "answer_due": e.answer_due.isoformat(),
            "state": e.get_state_display(),
            "open": e.state != Escalation.State.CLOSED,
        }
        for e in Escalation.objects.filter(raised_on__gte=start, raised_on__lte=end)
        .select_related("unit", "deadline", "deadline__task")
        .order_by("seq")
    ]
    unresolved = set(
        Escalation.objects.filter(raised_on__lte=end)
        .exclude(state=Escalation.State.CLOSED)
        .values_list("unit_id", flat=True)
    )
    not_praised = sorted(unresolved | {m["unit_id"] for m in missed})
    return {"missed": missed, "escalations": escalations, "not_praised": not_praised}


def next_deadlines(start: dt.date, end: dt.date) -> list[str]:
    from tasks.models import Deadline

    seen: set[str] = set()
    out = []
    for d in (
        Deadline.objects.filter(due_on__gte=start, due_on__lte=end)
        .select_related("task")
        .order_by("due_on")
    ):
        name = task_short_name(d.task)
        if d.kind == d.Kind.MONTHLY and d.task.number == 5:
            text = f"每月{d.due_on.day}日前报送上月月报，并填报“{name}”台账"
        elif d.kind == d.Kind.MONTHLY:
            text = f"每月{d.due_on.day}日前完成“{name}”上月工作并填报台账"
        elif d.task.number == 3:
            text = f"{d.due_on.month}月{d.due_on.day}日前完成{d.label}资助资金发放，确保无遗漏"
        else:
            text = f"{d.due_on.month}月{d.due_on.day}日前完成“{name}”{d.label}工作"
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def county_names() -> dict[int, str]:
    return {c.pk: c.current_name() for c in County.objects.prefetch_related("codes")}


def month_words(period: dt.date) -> str:
    return month_label(period)
