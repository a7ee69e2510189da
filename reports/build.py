"""Building, editing, approving and issuing the monthly review and the quarterly circular.

A report row is claimed by its unique (kind, period) before any work; the figures and
files are written in one transaction with the row locked, so concurrent builds wait and
then find it done. An issued report is frozen: no build, edit or regeneration touches it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from tasks import audit, clock, indicators
from tasks.scoping import user_scope

from . import documents, figures
from .models import DocCounter, Report, ReportingSettings
from .periods import (
    month_end,
    month_label,
    next_quarter,
    previous_month,
    quarter_end,
    quarter_label,
    quarter_months,
    quarter_start,
)
from .texts import month_day_words, semester_words

log = logging.getLogger(__name__)


def _figures(kind: str, period: dt.date) -> dict[str, Any]:
    if kind == Report.Kind.MONTHLY:
        current = figures.unit_figures(period)
        prev_period = previous_month(period)
        prev = (
            Report.objects.filter(kind=Report.Kind.MONTHLY, period=prev_period)
            .exclude(figures={})
            .first()
        )
        previous = prev.figures if prev else figures.unit_figures(prev_period)
        current["indicators"] = indicators.snapshot(start=period, end=period)
        return figures.with_changes(current, previous)
    months = quarter_months(period)
    data = figures.unit_figures(months[-1], months=months)
    data["indicators"] = indicators.snapshot(start=months[0], end=months[-1])
    data["period"] = period.isoformat()
    data["events"] = figures.quarter_events(period, quarter_end(period))
    nq = next_quarter(period)
    data["next_deadlines"] = figures.next_deadlines(nq, quarter_end(nq))
    return data


def praisable(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Units that may be praised: scored, with no overdue item in the period and no
    督办单 still open (a unit named in section 四 is never praised in section 二)."""
    blocked = set(data.get("events", {}).get("not_praised", []))
    blocked |= {m.get("unit_id") for m in data.get("events", {}).get("missed", [])}
    blocked |= {
        e.get("unit_id") for e in data.get("events", {}).get("escalations", []) if e.get("open")
    }
    rows = sorted(data["rows"], key=lambda r: (r["rank"], r["unit_id"]))
    return [r for r in rows if r["score"] is not None and r["unit_id"] not in blocked]


def _default_texts(report: Report, data: dict[str, Any]) -> dict[str, str]:
    rows = sorted(data["rows"], key=lambda r: (r["rank"], r["unit_id"]))
    scored = [r for r in rows if r["score"] is not None]
    praised = praisable(data)[:2]
    lagging = [r for r in scored[-2:] if r not in praised]
    avg, totals = data["averages"], data["totals"]
    expected = sum(r["reports_expected"] for r in rows)
    on_time = sum(r["reports_on_time"] for r in rows)
    label = quarter_label(report.period)

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v:.1f}%"

    summary = (
        f"{label}，各县市区教体局、市直学校认真落实《宣城市2019年教育助学脱贫工作计划》，"
        f"教育助学脱贫各项工作有序推进。截至{month_day_words(quarter_end(report.period))}，"
        f"{semester_words(data.get('semester'))}各单位平均资助覆盖率{pct(avg.get('coverage'))}，最高档发放率{pct(avg.get('top_rate'))}，"
        f"结果告知率{pct(avg.get('informed_rate'))}；尚有{totals['unpaid_students']}名建档立卡学生资助未发放到位"
        f"（遗漏{totals['omissions']}人次）。本季度应报月报{expected}份，按时报送{on_time}份；"
        f"在办辍学个案{totals['open_cases']}件，本季度劝返复学{totals['returned_cases']}人。"
        f"{documents.rectification_words(totals)}现将有关情况通报如下。"
    )
    praised_text = (
        "\n".join(
            f"{r['unit']}综合得分{r['score']:.1f}，位列第{r['rank']}名，资助覆盖率{pct(r['coverage'])}，"
            f"月报按时报送率{pct(r['timeliness'])}，本季度无逾期事项，予以通报表扬。"
            for r in praised
        )
        or "本季度暂无。"
    )
    lag_lines = []
    for r in lagging:
        weak = sorted(
            (
                (avg[k] - r[k], w, r[k])
                for k, w in figures.RATES
                if r[k] is not None and avg.get(k) is not None
            ),
            reverse=True,
        )[:2]
        parts = "，".join(f"{w}{v:.1f}%（全市平均{v + g:.1f}%）" for g, w, v in weak)
        extra = f"，尚有遗漏{r['omissions']}人次" if r["omissions"] else ""
        lag_lines.append(
            f"{r['unit']}综合得分{r['score']:.1f}，位列第{r['rank']}名：{parts}{extra}，予以通报，限期整改。"
        )
    requirements = [
        *[f"{d}。" for d in data.get("next_deadlines", [])],
        "被通报单位要认真分析原因，于通报印发之日起10日内向市教体局计财科报送书面整改报告。",
        "各单位要坚持按月统计、审核、汇总、上报，确保数据真实准确、报送及时。",
    ]
    return {
        "summary": summary,
        "praised": praised_text,
        "lagging": "\n".join(lag_lines) or "本季度暂无。",
        "missed": "\n".join(documents.missed_lines(data.get("events", {}))) or "本季度无逾期事项。",
        "requirements": "\n".join(requirements),
        "cc": documents.default_cc(),
    }


def _title(kind: str, period: dt.date) -> str:
    if kind == Report.Kind.MONTHLY:
        return f"{month_label(period)}教育助学脱贫工作月点评"
    return f"关于{quarter_label(period)}教育助学脱贫工作情况的通报"


def _render(report: Report, day: dt.date) -> None:
    """Write the .docx and .xlsx of a report from its snapshot (not saved)."""
    conf = ReportingSettings.current()
    if report.kind == Report.Kind.MONTHLY:
        docx = documents.review_docx(
            title=report.title, figures=report.figures, issuer=conf.issuer, day=day
        )
        xlsx = documents.review_xlsx(report.figures, report.title)
        stem = f"月点评-{report.period:%Y-%m}"
    else:
        docx = documents.circular_docx(
            doc_number=report.doc_number,
            title=report.title,
            texts=report.texts,
            figures=report.figures,
            issuer=conf.issuer,
            day=day,
        )
        xlsx = documents.circular_xlsx(report.figures, report.title)
        stem = f"季通报-{report.period_code}"
    report.docx.save(f"{stem}.docx", ContentFile(docx), save=False)
    report.xlsx.save(f"{stem}-附件.xlsx", ContentFile(xlsx), save=False)


def report_build(
    *, kind: str, period: dt.date, force: bool = False, today: dt.date | None = None
) -> Report:
    """Build (or, with `force`, rebuild) the report of `kind` for `period`.

    Claims the (kind, period) row first; a report already built is returned unchanged
    unless `force`, and an issued one is never rebuilt. Figures and files are written with
    the row locked, in one transaction: a crash leaves the previous state, and running
    again finishes. Raises ValueError for an unknown kind.
    """
    if kind not in Report.Kind.values:
        raise ValueError(kind)
    period = quarter_start(period) if kind == Report.Kind.QUARTERLY else period.replace(day=1)
    day = today or clock.today()
    report, _c = Report.objects.get_or_create(
        kind=kind, period=period, defaults={"title": _title(kind, period)}
    )
    if report.is_frozen or (report.job_state == Report.Job.DONE and report.docx and not force):
        return report
    running = Report.objects.filter(pk=report.pk).exclude(state=Report.State.ISSUED)
    if not force:
        # Conditional: a run that finished meanwhile is not turned back into "running".
        running = running.exclude(job_state=Report.Job.DONE)
    running.update(job_state=Report.Job.RUNNING, job_error="")
    try:
        with transaction.atomic():
            locked = Report.objects.select_for_update().get(pk=report.pk)
            if locked.is_frozen or (
                locked.job_state == Report.Job.DONE and locked.docx and not force
            ):
                return locked
            locked.figures = _figures(kind, period)
            locked.title = _title(kind, period)
            if kind == Report.Kind.QUARTERLY:
                if not locked.doc_number:
                    locked.doc_number = _next_number(day.year)
                if not locked.texts_edited:
                    locked.texts = _default_texts(locked, locked.figures)
            _render(locked, day)
            locked.generated_at = clock.now()
            locked.job_state = Report.Job.DONE
            locked.job_error = ""
            locked.save()
            return locked
    except Exception as exc:
        log.exception("report %s %s failed", kind, period)
        Report.objects.filter(pk=report.pk).update(
            job_state=Report.Job.FAILED, job_error=str(exc)[:500]
        )
        raise


def _next_number(year: int) -> str:
    """The next 文号 of the circular series for `year` (e.g. 宣教通〔2019〕3号); the
    counter row is locked, so two builds never take the same number."""
    conf = ReportingSettings.current()
    DocCounter.objects.get_or_create(prefix=conf.circular_prefix, year=year)
    counter = DocCounter.objects.select_for_update().get(prefix=conf.circular_prefix, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{conf.circular_prefix}〔{year}〕{counter.last}号"


def _editor_guard(user: Any) -> None:
    if not user.has_perm("reports.change_report") or not user_scope(user).sees_all:
        raise PermissionDenied(_("只有市级审核人员可以修改通报。"))


def _not_frozen(report: Report) -> None:
    if report.is_frozen:
        raise ValidationError(_("该通报已印发，不能再修改。"))


def report_texts_update(*, user: Any, report: Report, texts: dict[str, str]) -> Report:
    """Staff edit the circular's paragraphs before issuing; the .docx is rendered again
    from the stored figures (figures are not recomputed). Raises on an issued report."""
    _editor_guard(user)
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        _not_frozen(locked)
        locked.texts = {**locked.texts, **{k: v.strip() for k, v in texts.items()}}
        locked.texts_edited = True
        if locked.state == Report.State.APPROVED:
            locked.state = Report.State.DRAFT  # an edit after approval needs approving again
        _render(locked, clock.today())
        locked.save()
    return locked


def report_upload_edited(*, user: Any, report: Report, file: UploadedFile) -> Report:
    """Keep a hand-edited .docx (e.g. after the leader's corrections in Word) as the version
    to issue. Raises on an issued report or a file that is not .docx."""
    _editor_guard(user)
    if not (file.name or "").lower().endswith(".docx"):
        raise ValidationError(_("请上传 .docx 格式的修改稿。"))
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        _not_frozen(locked)
        locked.edited_docx.save(f"修改稿-{locked.period_code}.docx", file, save=False)
        locked.save()
    return locked


def report_approve(*, user: Any, report: Report) -> Report:
    """草稿 → 已审定."""
    if not user.has_perm("reports.issue_report") or not user_scope(user).sees_all:
        raise PermissionDenied(_("您没有审定通报的权限。"))
    done = Report.objects.filter(
        pk=report.pk, state=Report.State.DRAFT, job_state=Report.Job.DONE
    ).update(state=Report.State.APPROVED, approved_by=user, approved_at=clock.now())
    if not done:
        raise ValidationError(_("只有已生成的草稿可以审定。"))
    audit.record(report, user=user)
    return report


def report_issue(*, user: Any, report: Report) -> Report:
    """已审定 → 已印发; from then on the report is frozen.

    The files are rendered once more, dated the day of issue (the demo clock in the
    demo), and a circular built in another year takes its 文号 from the issue year's
    series. The state is claimed with a conditional update, so issuing twice does
    nothing the second time (ValidationError)."""
    if not user.has_perm("reports.issue_report") or not user_scope(user).sees_all:
        raise PermissionDenied(_("您没有印发通报的权限。"))
    day = clock.today()
    with transaction.atomic():
        done = Report.objects.filter(pk=report.pk, state=Report.State.APPROVED).update(
            state=Report.State.ISSUED, issued_by=user, issued_at=clock.now()
        )
        if not done:
            raise ValidationError(_("只有已审定的通报可以印发。"))
        issued = Report.objects.get(pk=report.pk)
        if issued.kind == Report.Kind.QUARTERLY and f"〔{day.year}〕" not in issued.doc_number:
            issued.doc_number = _next_number(day.year)
        _render(issued, day)
        Report.objects.filter(pk=issued.pk).update(
            doc_number=issued.doc_number, docx=issued.docx.name, xlsx=issued.xlsx.name
        )
        audit.record(issued, user=user)
    return issued


def month_to_build(today: dt.date) -> dt.date:
    """The monthly review built on a day is the previous month's."""
    return previous_month(today.replace(day=1))


def quarter_to_build(today: dt.date) -> dt.date:
    """The circular built in the first days of a quarter is the previous quarter's."""
    return quarter_start(quarter_start(today) - dt.timedelta(days=1))


def report_paths(report: Report) -> list[str]:
    return [f.path for f in (report.docx, report.xlsx) if f]


__all__ = ["month_end", "report_build"]
