"""Cached dashboard figures go stale the moment their data changes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from intake import base as imports
from intake.models import Upload
from tasks import figures
from tasks.models import DataVersion

from .test_uploads import MiniRosterSpec, ids, workbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_cache(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    from django.core.cache import cache

    cache.clear()


def test_a_figure_is_computed_once_until_its_data_changes(real_cache: None) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert figures.cached("subsidies", ("city", "2019春"), compute) == 1
    assert figures.cached("subsidies", ("city", "2019春"), compute) == 1
    assert figures.cached("subsidies", ("county", 3, "2019春"), compute) == 2  # another scope
    figures.data_changed("dropout")  # another area: still warm
    assert figures.cached("subsidies", ("city", "2019春"), compute) == 1
    figures.data_changed("subsidies")
    assert figures.cached("subsidies", ("city", "2019春"), compute) == 3


def test_several_parts_read_at_once_share_the_keys_and_go_stale_one_by_one(
    real_cache: None,
) -> None:
    calls: list[str] = []

    def compute(name: str) -> Any:
        def run() -> str:
            calls.append(name)
            return f"{name}{calls.count(name)}"

        return run

    parts = {c: figures.part("subsidies", 7, c) for c in ("a", "b", "c")}

    def many() -> list[str]:
        return figures.cached_many(
            "subsidies", [(("part", c), compute(c), [parts[c]]) for c in ("a", "b", "c")]
        )

    # One part stored by the one-by-one reading is found by the reading of several.
    assert figures.cached("subsidies", ("part", "b"), compute("b"), depends=[parts["b"]]) == "b1"
    assert many() == ["a1", "b1", "c1"]
    assert many() == ["a1", "b1", "c1"] and calls == ["b", "a", "c"]
    # A change of part c recomputes c only; the others stay cached.
    figures.parts_changed("subsidies", [parts["c"]])
    assert many() == ["a1", "b1", "c2"]
    assert figures.cached("subsidies", ("part", "c"), compute("c"), depends=[parts["c"]]) == "c2"
    # A change of the whole area makes every part stale.
    figures.data_changed("subsidies")
    assert many() == ["a2", "b2", "c3"]


def test_an_applied_upload_moves_its_areas_version(real_cache: None, xuanzhou_staff: Any) -> None:
    imports.register(MiniRosterSpec())
    try:
        client = Client()
        client.force_login(xuanzhou_staff)
        content = workbook([[i, "某"] for i in ids(2)])
        client.post(
            "/uploads/",
            {
                "kind": "mini_roster",
                "period": "2019-05",
                "file": SimpleUploadedFile("a.xlsx", content),
            },
        )
        assert figures.data_version("tests") == 0  # validating changes nothing
        client.post(f"/uploads/{Upload.objects.get().pk}/confirm/")
    finally:
        imports._REGISTRY.pop("mini_roster", None)
    # MiniRosterSpec lives in the tests package: its area is "tests".
    assert DataVersion.objects.get(name="tests").number == 1


def test_the_warm_job_recomputes_changed_areas_once(real_cache: None) -> None:
    warmed: list[str] = []
    figures.register_warmer("demo-area", lambda: warmed.append("city"))
    try:
        figures.data_changed("demo-area")
        assert "demo-area" in figures.figures_warm_changed()
        assert "demo-area" not in figures.figures_warm_changed()  # nothing changed since
        figures.data_changed("demo-area")
        figures.data_changed("demo-area")
        assert "demo-area" in figures.figures_warm_changed()
        assert warmed == ["city", "city"]
    finally:
        figures._WARMERS.pop("demo-area", None)


def test_the_cache_table_is_created_by_the_command(db: Any, settings: Any) -> None:
    from django.core.management import call_command

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "xc_cache_test",
        }
    }
    call_command("createcachetable", stdout=io.StringIO())
    from django.core.cache import caches

    caches["default"].set("k", {"v": 1})
    assert caches["default"].get("k") == {"v": 1}
