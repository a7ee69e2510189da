# ruff: noqa: F811 - `roster` is a fixture imported from test_omissions
"""The omission check's stored findings (subsidies/findings.py): what a page reads must be
what the single pass over the roster and the payments finds, after imports, corrections,
deletes in the admin, roster changes and bulk writes that bypass the application."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from subsidies import findings, selectors
from subsidies.imports import DisbursementsSpec
from subsidies.models import (
    Disbursement,
    FindingsBuilt,
    FindingsDirty,
    FindingsSummary,
    OmissionFinding,
    SubsidyItem,
    SubsidyStandard,
)
from subsidies.selectors import OmissionFilters
from tasks.models import RosterStudent
from tasks.scoping import EVERYTHING, Scope

from .conftest import LIVING, add_student, context, ident, pay, read
from .test_imports import HEAD, xlsx
from .test_omissions import roster  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="stored on PostgreSQL only"),
]

KINDS = ["all", "missing", "below", "late", "unowed", "offroster"]


def shape(report: Any) -> tuple[Any, ...]:
    """What a user sees of a report: the counts per county and the page, row by row."""
    return (
        report.totals,
        [(c.county_name, c.counts) for c in report.by_county],
        [
            (r.id_number, r.name, r.county_name, r.school_name, r.stage, r.item_name)
            + (r.top, r.amount, r.paid_on, r.paid_school_name, r.flags)
            for r in report.rows
        ],
    )


def live(**kwargs: Any) -> Any:
    """The check by its single pass, as before anything was stored."""
    built = list(FindingsBuilt.objects.all())
    FindingsBuilt.objects.all().delete()
    try:
        return selectors._omission_check(**kwargs)
    finally:
        FindingsBuilt.objects.bulk_create(built)


def same_as_single_pass(semester: Any, scopes: list[Scope], filters: list[Any]) -> None:
    assert findings.is_built(semester)
    for scope in scopes:
        for f in filters:
            for kind in KINDS:
                for page, size in ((1, 50), (2, 1)):
                    kwargs = dict(
                        semester=semester,
                        scope=scope,
                        filters=f,
                        kind=kind,
                        page=page,
                        page_size=size,
                    )
                    stored = selectors._omission_check(**kwargs)
                    assert shape(stored) == shape(live(**kwargs)), (scope, f, kind, page)


def stored_rows(semester: Any) -> list[tuple[Any, ...]]:
    """The semester's stored findings, then their counts per county and stage (which the
    county figures read): a refresh must leave both as a rebuild makes them."""
    counts = FindingsSummary.objects.filter(semester_id=semester.pk).values_list(
        "county_id", "stage", *findings.SUMMARY_COUNTS
    )
    return [*stored_findings(semester), *sorted(counts, key=repr)]


def stored_findings(semester: Any) -> list[tuple[Any, ...]]:
    return sorted(
        OmissionFinding.objects.filter(semester_id=semester.pk).values_list(
            "id_number",
            "county_id",
            "school_id",
            "stage",
            "owed",
            "item_id",
            "top",
            "amount",
            "paid_on",
            "paid_school_id",
            "missing",
            "below",
            "late",
            "unowed",
            "offroster",
        ),
        key=repr,
    )


def recomputed(semester: Any) -> list[tuple[Any, ...]]:
    """The stored rows as a whole rebuild would make them (rolled back afterwards)."""
    sid = transaction.savepoint()
    findings.build([semester])
    rows = stored_rows(semester)
    transaction.savepoint_rollback(sid)
    return rows


@pytest.fixture
def world(
    roster: Any, spring: Any, xuanzhou_school: Any, xuanzhou_junior: Any, city_high: Any
) -> Any:
    """test_omissions' roster, plus a junior-school boarder paid an item of another stage,
    a city-run high-school student, and payments of the autumn semester."""
    junior = add_student(xuanzhou_junior, 20, name="甲甲", stage="初中", boarding=True)
    pay(junior.id_number, junior.name, xuanzhou_junior, spring, "500", dt.date(2019, 6, 1))
    high = add_student(city_high, 21, name="高高", stage="普通高中")
    item = SubsidyItem.objects.filter(standards__stage="普通高中").first()
    assert item is not None
    pay(high.id_number, high.name, city_high, spring, "1000", dt.date(2019, 6, 1), item=item.name)
    findings.build()
    return roster


def test_the_stored_findings_answer_as_the_single_pass(
    world: Any, spring: Any, fall: Any, xuanzhou_school: Any, langxi_school: Any
) -> None:
    county = xuanzhou_school.county_id
    scopes = [
        EVERYTHING,
        Scope(county_id=county),
        Scope(county_id=langxi_school.county_id),
        Scope(unit_ids=frozenset({xuanzhou_school.pk})),
    ]
    filters = [
        None,
        OmissionFilters(county_id=county),
        OmissionFilters(school_id=xuanzhou_school.pk),
        OmissionFilters(stage="小学"),
        OmissionFilters(stage="初中"),
        OmissionFilters(item_id=SubsidyItem.objects.get(name=LIVING).pk),
    ]
    report = selectors._omission_check(semester=spring, scope=EVERYTHING)
    assert report.totals["missing"] and report.totals["offroster"]  # the fixture has findings
    same_as_single_pass(spring, scopes, filters)
    same_as_single_pass(fall, [EVERYTHING, Scope(county_id=county)], [None])


def test_an_import_keeps_the_stored_findings_equal_to_a_rebuild(
    world: Any, spring: Any, xuanzhou_staff: Any
) -> None:
    b = world["b"]
    rows = [HEAD, [b.id_number, b.name, "宣州区实验小学", LIVING, "2019春", 250, "2019.6.10"]]
    spec = DisbursementsSpec()
    ctx = context(xuanzhou_staff)
    result = spec.validate(read(spec, xlsx(rows)), ctx)
    assert result.ok, [str(e) for e in result.errors]
    before = selectors._omission_check(semester=spring, scope=EVERYTHING, kind="missing")
    assert "贝贝" in {r.name for r in before.rows}
    with transaction.atomic():
        spec.apply(result, ctx)
    # Folded in within the import's own transaction: nothing is left to compute live.
    assert not FindingsDirty.objects.exists()
    assert stored_rows(spring) == recomputed(spring)
    after = selectors._omission_check(semester=spring, scope=EVERYTHING, kind="missing")
    assert "贝贝" not in {r.name for r in after.rows}
    same_as_single_pass(spring, [EVERYTHING], [None])


def test_corrections_deletes_in_the_admin_and_roster_changes_follow(
    world: Any, spring: Any, admin_user: Any, langxi_school: Any
) -> None:
    # A correction (the admin saves the model): the payment now at the highest tier.
    c = Disbursement.objects.get(id_number=world["c"].id_number)
    c.amount = 500
    c.save()
    assert stored_rows(spring) == recomputed(spring)
    assert "春春" not in {
        r.name
        for r in selectors._omission_check(semester=spring, scope=EVERYTHING, kind="below").rows
    }

    # A delete in the admin: the payment is missing again.
    client = Client()
    client.force_login(admin_user)
    a = Disbursement.objects.get(id_number=world["a"].id_number)
    url = reverse("admin:subsidies_disbursement_delete", args=[a.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert stored_rows(spring) == recomputed(spring)
    assert "安安" in {
        r.name
        for r in selectors._omission_check(semester=spring, scope=EVERYTHING, kind="missing").rows
    }

    # The roster: a student moves county, another leaves the roster.
    e = RosterStudent.objects.get(pk=world["e"].pk)
    d = RosterStudent.objects.get(pk=world["d"].pk)
    e.school, e.county = world["a"].school, world["a"].county
    e.save()
    d.is_active = False
    d.save()
    assert stored_rows(spring) == recomputed(spring)
    same_as_single_pass(spring, [EVERYTHING, Scope(county_id=langxi_school.county_id)], [None])


def test_a_bulk_write_behind_the_applications_back_is_still_seen(world: Any, spring: Any) -> None:
    """A write that bypasses the application (a raw UPDATE, another app's bulk import): the
    database marks the IDs, the check computes them live until a refresh folds them in."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Disbursement._meta.db_table} SET paid_on = %s WHERE id_number = %s",  # noqa: S608
            [dt.date(2019, 7, 30), world["a"].id_number],
        )
    assert FindingsDirty.objects.filter(id_number=world["a"].id_number).exists()
    late = selectors._omission_check(semester=spring, scope=EVERYTHING, kind="late")
    assert "安安" in {r.name for r in late.rows}
    same_as_single_pass(spring, [EVERYTHING], [None, OmissionFilters(stage="小学")])
    assert findings.refresh() == 1
    assert not FindingsDirty.objects.exists()
    assert stored_rows(spring) == recomputed(spring)


def test_a_change_of_the_rules_falls_back_to_the_single_pass_until_rebuilt(
    world: Any, spring: Any
) -> None:
    standard = SubsidyStandard.objects.filter(item__name=LIVING).first()
    assert standard is not None
    standard.amount += 100
    standard.save()
    assert not findings.is_built(spring)  # nothing stale is read
    below = selectors._omission_check(semester=spring, scope=EVERYTHING, kind="below")
    assert below.totals["below"] >= 1
    assert findings.build_missing()
    same_as_single_pass(spring, [EVERYTHING], [None])


def test_payments_off_the_roster_stay_apart_after_their_student_joins_the_roster(
    world: Any, spring: Any, xuanzhou_school: Any
) -> None:
    outsider = world["outsider"]
    report = selectors._omission_check(semester=spring, scope=EVERYTHING, kind="offroster")
    assert [r.id_number for r in report.rows] == [outsider]
    add_student(xuanzhou_school, 99, name="方方")
    assert RosterStudent.objects.filter(id_number=outsider).exists()
    assert ident("xuanzhou", 99) == outsider
    report = selectors._omission_check(semester=spring, scope=EVERYTHING, kind="offroster")
    assert report.rows == []
    assert stored_rows(spring) == recomputed(spring)


def figures_same(semester: Any, scopes: list[Scope]) -> None:
    """The semester's four promises from the stored findings equal the single pass."""
    assert findings.is_built(semester) and not findings.dirty()
    for scope in scopes:
        for kwargs in ({}, {"city_schools": True}):
            stored = selectors._semester_figures(semester=semester, scope=scope, **kwargs)
            built = list(FindingsBuilt.objects.all())
            FindingsBuilt.objects.all().delete()
            try:
                single = selectors._semester_figures(semester=semester, scope=scope, **kwargs)
            finally:
                FindingsBuilt.objects.bulk_create(built)
            assert [vars(f) for f in stored] == [vars(f) for f in single], (scope, kwargs)


def test_the_semester_figures_from_stored_findings_equal_the_single_pass(
    world: Any, spring: Any, fall: Any, xuanzhou_school: Any, langxi_school: Any
) -> None:
    scopes = [
        EVERYTHING,
        Scope(county_id=xuanzhou_school.county_id),
        Scope(county_id=langxi_school.county_id),
        Scope(unit_ids=frozenset({xuanzhou_school.pk})),
    ]
    total = selectors._semester_figures(semester=spring, scope=EVERYTHING)[-1]
    assert total.owed_students > total.complete_students > 0  # the fixture has both
    assert total.paid_pairs > total.top_pairs and total.late_payments
    figures_same(spring, scopes)
    figures_same(fall, scopes[:2])
    # After a correction and a roster change, still the same.
    c = Disbursement.objects.get(id_number=world["c"].id_number)
    c.amount = 500
    c.save()
    d = RosterStudent.objects.get(pk=world["d"].pk)
    d.is_active = False
    d.save()
    figures_same(spring, scopes)
