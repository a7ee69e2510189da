# ruff: noqa: F811 - `roster` is a fixture imported from test_omissions
"""Figures that follow the data: an import makes stale only the figures of the counties
and semester it wrote, and they are fresh once it commits; the city's totals are the sum
of the counties', so only the importing county's part is recomputed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from subsidies import selectors
from subsidies.imports import DisbursementsSpec, RosterSpec
from subsidies.selectors import omission_check, semester_figures
from tasks.scoping import EVERYTHING, Scope

from .conftest import LIVING, context, ident, read
from .test_imports import HEAD, ROSTER_HEAD, xlsx
from .test_omissions import roster  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_cache(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "f"}
    }
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    """Every figure computed from the tables (not read from the cache): (what, county)."""
    calls: list[tuple[str, Any]] = []
    figures_of, check_of = selectors._semester_figures, selectors._omission_check

    def semester(**kwargs: Any) -> Any:
        scope = kwargs["scope"]
        calls.append(("figures", kwargs.get("county_id") or scope.county_id))
        return figures_of(**kwargs)

    def check(**kwargs: Any) -> Any:
        scope, filters = kwargs["scope"], kwargs.get("filters")
        calls.append(("check", scope.county_id or (filters.county_id if filters else None)))
        return check_of(**kwargs)

    monkeypatch.setattr(selectors, "_semester_figures", semester)
    monkeypatch.setattr(selectors, "_omission_check", check)
    yield calls


def pages(spring: Any, county_id: int) -> tuple[Any, ...]:
    """What a county user's and the city's pages show (cached or not)."""
    county = Scope(county_id=county_id)
    return (
        [vars(f) for f in semester_figures(semester=spring, scope=county)],
        omission_check(semester=spring, scope=county).totals,
        [vars(f) for f in semester_figures(semester=spring, scope=EVERYTHING)],
        omission_check(semester=spring, scope=EVERYTHING).totals,
    )


def import_payment(student: Any, user: Any, capture: Any) -> None:
    rows = [
        HEAD,
        [student.id_number, student.name, "宣州区实验小学", LIVING, "2019春", 250, "2019.6.10"],
    ]
    spec = DisbursementsSpec()
    ctx = context(user)
    result = spec.validate(read(spec, xlsx(rows)), ctx)
    assert result.ok, [str(e) for e in result.errors]
    with capture(execute=True), transaction.atomic():
        spec.apply(result, ctx)


def test_an_import_recomputes_only_its_county_and_the_city_sums_the_parts(
    real_cache: None,
    roster: Any,
    spring: Any,
    xuanzhou_school: Any,
    langxi_school: Any,
    xuanzhou_staff: Any,
    computed: list[tuple[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    xuanzhou, langxi = xuanzhou_school.county_id, langxi_school.county_id
    before_langxi = pages(spring, langxi)
    before_xuanzhou = pages(spring, xuanzhou)
    assert before_xuanzhou[1]["missing"] == 1  # 贝贝 is not paid yet
    computed.clear()

    import_payment(roster["b"], xuanzhou_staff, django_capture_on_commit_callbacks)

    # Right after the commit, the import's job recomputed its county's part and the city's
    # figures from the parts — never another county's.
    assert computed and all(county in (xuanzhou, None) for _what, county in computed)
    assert ("figures", langxi) not in computed
    computed.clear()

    # Every page now reads the cache, and shows the payment.
    after_xuanzhou = pages(spring, xuanzhou)
    after_langxi = pages(spring, langxi)
    dashboards = [
        omission_check(semester=spring, scope=scope, page_size=1)
        for scope in (Scope(county_id=xuanzhou), EVERYTHING)
    ]
    assert computed == []
    # The dashboards' counts (a page of 1, taken from the list's first page) are what a
    # check of their own shows.
    for dashboard, scope in zip(dashboards, (Scope(county_id=xuanzhou), EVERYTHING), strict=True):
        own = selectors._omission_check(semester=spring, scope=scope, page_size=1)
        assert (dashboard.totals, dashboard.rows, dashboard.pages) == (
            own.totals,
            own.rows,
            own.pages,
        )
    assert after_langxi[:2] == before_langxi[:2]  # the other county's figures untouched
    assert after_xuanzhou[1]["missing"] == 0
    county_total = after_xuanzhou[0][-1]
    assert county_total["complete_students"] == before_xuanzhou[0][-1]["complete_students"] + 1
    city_total = after_xuanzhou[2][-1]
    assert city_total["complete_students"] == before_xuanzhou[2][-1]["complete_students"] + 1
    assert after_xuanzhou[3]["missing"] == before_xuanzhou[3]["missing"] - 1


def test_the_city_totals_from_parts_equal_one_pass_over_the_city(
    real_cache: None, roster: Any, spring: Any
) -> None:
    parts = semester_figures(semester=spring, scope=EVERYTHING)
    whole = selectors._semester_figures(semester=spring, scope=EVERYTHING)
    assert [vars(f) for f in parts] == [vars(f) for f in whole]


def test_a_change_outside_an_import_still_makes_every_figure_stale(
    real_cache: None, roster: Any, spring: Any, langxi_school: Any, computed: Any
) -> None:
    """A save in the admin (or anything else not saying which county it changed) moves
    the whole area, as before."""
    pages(spring, langxi_school.county_id)
    computed.clear()
    student = roster["e"]
    student.boarding = not student.boarding
    student.save()
    pages(spring, langxi_school.county_id)
    assert ("figures", langxi_school.county_id) in computed


def test_a_roster_import_refreshes_its_county_counts_and_leaves_the_others(
    real_cache: None,
    roster: Any,
    spring: Any,
    fall: Any,
    xuanzhou_school: Any,
    langxi_school: Any,
    xuanzhou_staff: Any,
    computed: list[tuple[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    xuanzhou, langxi = xuanzhou_school.county_id, langxi_school.county_id
    before_langxi = pages(spring, langxi)
    before = pages(spring, xuanzhou)
    pages(fall, langxi)  # a roster import touches every semester: all of them cached
    pages(fall, xuanzhou)
    computed.clear()
    rows = [
        ROSTER_HEAD,
        [ident("xuanzhou", 40), "新生", "宣州区", "宣州区实验小学", "小学", "三年级", "否"],
    ]
    spec = RosterSpec()
    ctx = context(xuanzhou_staff)
    result = spec.validate(read(spec, xlsx(rows, title="建档立卡学生名册", footer=False)), ctx)
    assert result.ok, [str(e) for e in result.errors]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        spec.apply(result, ctx)
    assert ("figures", langxi) not in computed
    after = pages(spring, xuanzhou)
    assert after[0][-1]["students"] == before[0][-1]["students"] + 1  # the county's roster
    assert after[2][-1]["students"] == before[2][-1]["students"] + 1  # and the city's
    assert after[1]["missing"] == before[1]["missing"] + 1  # the new student is owed, unpaid
    assert pages(spring, langxi)[:2] == before_langxi[:2]
