"""One scope object: the Python check, the queryset filter and the SQL condition agree
for every persona on every unit."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tasks.models import Unit
from tasks.scoping import NOTHING, user_scope

pytestmark = pytest.mark.django_db

PERSONAS = ["city_reviewer", "xuanzhou_staff", "langxi_staff", "school_staff"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_answers_the_same_in_python_querysets_and_sql(
    persona: str, request: pytest.FixtureRequest, langxi_school: Any
) -> None:
    user = request.getfixturevalue(persona)
    scope = user_scope(user)
    units = list(Unit.objects.values_list("pk", "county_id"))
    by_python = {pk for pk, county_id in units if scope.covers(county_id=county_id, unit_id=pk)}
    by_queryset = set(Unit.objects.for_user(user).values_list("pk", flat=True))
    condition, params = scope.sql("county_id", "id")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Unit._meta.db_table} WHERE {condition}", params)  # noqa: S608
        by_sql = {row[0] for row in cursor.fetchall()}
    assert by_python == by_queryset == by_sql
    assert by_python and by_python != {pk for pk, _c in units} or scope.sees_all


def test_a_county_user_covers_its_county_and_not_the_next(
    xuanzhou_staff: Any, xuanzhou_school: Any, langxi_school: Any
) -> None:
    scope = user_scope(xuanzhou_staff)
    assert scope.covers(county_id=xuanzhou_school.county_id, unit_id=xuanzhou_school.pk)
    assert not scope.covers(county_id=langxi_school.county_id, unit_id=langxi_school.pk)


def test_a_school_user_covers_only_its_school(
    school_staff: Any, xuanzhou_school: Any, langxi_school: Any
) -> None:
    scope = user_scope(school_staff)
    assert scope.covers(county_id=xuanzhou_school.county_id, unit_id=xuanzhou_school.pk)
    assert not scope.covers(county_id=xuanzhou_school.county_id, unit_id=None)
    assert not scope.covers(county_id=langxi_school.county_id, unit_id=langxi_school.pk)


def test_nobody_covers_nothing(xuanzhou_school: Any) -> None:
    assert not NOTHING.covers(county_id=xuanzhou_school.county_id, unit_id=xuanzhou_school.pk)
    assert NOTHING.sql("county_id", "id") == ("1 = 0", [])
