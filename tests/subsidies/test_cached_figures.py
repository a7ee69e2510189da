# ruff: noqa: F811 - `roster` is a fixture imported from test_omissions
"""Dashboard figures are cached, and a payment recorded afterwards shows at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from subsidies.selectors import figures_warm, omission_check, semester_figures
from tasks import figures
from tasks.scoping import EVERYTHING

from .conftest import pay
from .test_omissions import names, roster  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_cache(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "s"}
    }
    from django.core.cache import cache

    cache.clear()


def test_a_new_payment_makes_the_cached_figures_stale(
    real_cache: None, roster: Any, spring: Any, xuanzhou_school: Any
) -> None:
    before = semester_figures(semester=spring, scope=EVERYTHING)[-1].complete_students
    assert names(omission_check(semester=spring, scope=EVERYTHING, kind="missing")) == {
        "贝贝",
        "鹅鹅",
    }
    version = figures.data_version("subsidies")
    pay(roster["b"].id_number, "贝贝", xuanzhou_school, spring, "250", dt.date(2019, 6, 12))
    assert figures.data_version("subsidies") == version + 1
    assert semester_figures(semester=spring, scope=EVERYTHING)[-1].complete_students == before + 1
    assert names(omission_check(semester=spring, scope=EVERYTHING, kind="missing")) == {"鹅鹅"}


def test_the_warmer_fills_the_cache_for_the_city_and_each_county(
    real_cache: None, roster: Any, spring: Any
) -> None:
    figures_warm()
    calls: list[int] = []
    original = figures.cached

    def counting(area: str, parts: tuple[Any, ...], compute: Any, **kwargs: Any) -> Any:
        def computed() -> Any:
            calls.append(1)
            return compute()

        return original(area, parts, computed, **kwargs)

    figures.cached = counting  # type: ignore[assignment]
    try:
        semester_figures(semester=spring, scope=EVERYTHING)
        omission_check(semester=spring, scope=EVERYTHING)
    finally:
        figures.cached = original  # type: ignore[assignment]
    assert calls == []  # both came from the cache
