"""Reads of the matching page: the runs, the counts per county and the findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from dropout.models import EnrolmentSnapshot
from poverty.models import PovertySnapshot
from subsidies.models import Semester
from tasks.models import County, RosterStudent
from tasks.scoping import Scope

from .models import FindingKind, MatchFinding, MatchRun
from .services import MATCH_SOURCE


@dataclass
class CountyRow:
    county: County
    poverty_as_of: Any
    registry_as_of: Any
    roster: int
    unmatched: int
    mismatches: int
    apart: int


def county_rows(*, semester: Semester, counties: list[County]) -> list[CountyRow]:
    """Per county: the data the matching reads for the semester, and what it gave."""
    ids = [c.pk for c in counties]
    poverty: dict[int, Any] = {}
    for county_id, as_of in PovertySnapshot.objects.filter(
        county_id__in=ids, as_of__lte=semester.end
    ).values_list("county_id", "as_of"):
        poverty[county_id] = max(as_of, poverty.get(county_id, as_of))
    registry: dict[int, Any] = {}
    for county_id, as_of in EnrolmentSnapshot.objects.filter(
        county_id__in=ids, as_of__lte=semester.end
    ).values_list("county_id", "as_of"):
        registry[county_id] = max(as_of, registry.get(county_id, as_of))
    roster = dict(
        RosterStudent.objects.filter(
            is_active=True, household_county_id__in=ids, snapshot__source=MATCH_SOURCE
        )
        .values_list("household_county_id")
        .annotate(n=Count("id"))
        .values_list("household_county_id", "n")
    )
    counts: dict[int, dict[str, int]] = {}
    for county_id, kind, n in (
        MatchFinding.objects.filter(semester=semester, county_id__in=ids)
        .values_list("county_id", "kind")
        .annotate(n=Count("id"))
        .values_list("county_id", "kind", "n")
    ):
        counts.setdefault(county_id, {})[kind] = n
    return [
        CountyRow(
            county=c,
            poverty_as_of=poverty.get(c.pk),
            registry_as_of=registry.get(c.pk),
            roster=roster.get(c.pk, 0),
            unmatched=counts.get(c.pk, {}).get(FindingKind.UNMATCHED, 0),
            mismatches=counts.get(c.pk, {}).get(FindingKind.STAGE_MISMATCH, 0),
            apart=counts.get(c.pk, {}).get(FindingKind.APART, 0),
        )
        for c in counties
    ]


def findings(
    *, semester: Semester, scope: Scope, kind: str | None, county_id: int | None = None
) -> QuerySet[MatchFinding]:
    qs = MatchFinding.objects.for_scope(scope).filter(semester=semester)
    if kind:
        qs = qs.filter(kind=kind)
    if county_id is not None:
        qs = qs.filter(county_id=county_id)
    return qs.select_related("county", "school").order_by("county__order", "kind", "id_number")


def runs(*, scope: Scope, semester: Semester) -> QuerySet[MatchRun]:
    qs = MatchRun.objects.for_scope(scope).filter(semester=semester)
    if not scope.sees_all and scope.county_id is not None:
        # A county also sees the city's runs for every county, which covered it.
        qs = MatchRun.objects.filter(semester=semester).filter(
            Q(county_id=scope.county_id) | Q(county__isnull=True)
        )
    return qs.select_related("county", "started_by").order_by("-created_at")
