"""Reads of the employment ledger: the scoped list, counts per county and school, the
summary the command prints, and the rows of the .xlsx download."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from tasks.models import County
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from .models import Destination, Graduate, GraduateQuerySet, stale_before


def graduates(
    user: Any,
    *,
    county: int | None = None,
    school: int | None = None,
    destination: str | None = None,
    flagged_only: bool = False,
    today: dt.date,
) -> GraduateQuerySet:
    """The graduates the user may see, filtered."""
    qs: GraduateQuerySet = Graduate.objects.for_user(user)  # type: ignore[assignment]
    if county is not None:
        qs = qs.filter(county_id=county)  # type: ignore[assignment]
    if school is not None:
        qs = qs.filter(school_id=school)  # type: ignore[assignment]
    if destination:
        qs = qs.filter(destination=destination)  # type: ignore[assignment]
    if flagged_only:
        qs = qs.without_guidance(today)
    # County names come from their code history (广德县 → 广德市): prefetched, not per row.
    return qs.select_related("school", "county", "household_county").prefetch_related(  # type: ignore[return-value]
        "county__codes", "household_county__codes"
    )


@dataclass
class Counts:
    """One line of the counts table: a county, a school, or the total."""

    label: str
    key: int | None = None
    by_destination: dict[str, int] = field(default_factory=dict)
    flagged: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_destination.values())

    @property
    def not_employed(self) -> int:
        return self.by_destination.get(Destination.NOT_EMPLOYED, 0)

    @property
    def employed(self) -> int:
        """Every destination but 未就业 (就业、升学、参军、自主创业 are all placed)."""
        return self.total - self.not_employed

    @property
    def cells(self) -> list[int]:
        return [self.by_destination.get(d, 0) for d in Destination.values]


def _flag_filter(today: dt.date) -> Q:
    stale = stale_before(today)
    return Q(destination=Destination.NOT_EMPLOYED) & (
        Q(last_guidance_on__lt=stale) | Q(last_guidance_on__isnull=True, graduation_date__lt=stale)
    )


def _counts(qs: QuerySet[Graduate], key: str, label: str, today: dt.date) -> list[Counts]:
    rows: dict[Any, Counts] = {}
    for r in (
        qs.values(key, label, "destination")
        .annotate(n=Count("pk"), flagged=Count("pk", filter=_flag_filter(today)))
        .order_by()
    ):
        line = rows.setdefault(r[key], Counts(label=r[label] or _("市直学校"), key=r[key]))
        line.by_destination[r["destination"]] = r["n"]
        line.flagged += r["flagged"]
    return list(rows.values())


def counts_by_county(qs: QuerySet[Graduate], today: dt.date) -> list[Counts]:
    rows = _counts(qs, "county_id", "county__name", today)
    counties = {c.pk: c for c in County.objects.prefetch_related("codes")}
    for r in rows:
        if r.key in counties:
            r.label = counties[r.key].current_name()  # 广德市, not the stored short name
    return sorted(rows, key=lambda r: (r.key is None, counties[r.key].order if r.key else 0))


def counts_by_school(qs: QuerySet[Graduate], today: dt.date) -> list[Counts]:
    rows = _counts(qs, "school_id", "school__name", today)
    return sorted(rows, key=lambda r: r.label)


def total(rows: list[Counts]) -> Counts:
    out = Counts(label=_("合计"))
    for r in rows:
        for d, n in r.by_destination.items():
            out.by_destination[d] = out.by_destination.get(d, 0) + n
        out.flagged += r.flagged
    return out


def summary(qs: QuerySet[Graduate], today: dt.date) -> Counts:
    """Graduates, placed, not employed and without guidance in 30 days, for `qs`."""
    return total(_counts(qs, "county_id", "county__name", today))


LEDGER_HEADERS = [
    "身份证号",
    "姓名",
    "县市区",
    "学校",
    "专业",
    "毕业时间",
    "户籍县区",
    "脱贫属性",
    "去向",
    "就业单位",
    "就业地点",
    "岗位",
    "月收入（元）",
    "联系电话",
    "最近指导",
    "下次指导",
    "指导次数",
    "30天未指导",
]


def ledger_rows(qs: QuerySet[Graduate], today: dt.date) -> Iterator[list[Any]]:
    """The download's rows, personal data masked; numbers and dates as such."""
    for g in qs.annotate(sessions=Count("guidance")).order_by(
        "county__order", "school__order", "id_number"
    ):
        yield [
            mask_id_number(g.id_number),
            mask_name(g.name),
            g.county.current_name() if g.county else _("市直"),
            g.school.name,
            g.major,
            g.graduation_date,
            g.household_county.current_name() if g.household_county else "",
            g.poverty_status,
            g.destination,
            g.employer,
            g.workplace,
            g.job,
            g.monthly_income,
            mask_id_number(g.phone) if g.phone else "",
            g.last_guidance_on,
            g.next_guidance_on,
            g.sessions,  # type: ignore[attr-defined]
            _("是") if g.needs_guidance(today) else "",
        ]
