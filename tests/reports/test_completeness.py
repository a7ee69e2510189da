"""Completeness counts only months from the plan's issue date (2019-03-19)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from reports import selectors

from .conftest import unit, upload

pytestmark = pytest.mark.django_db

FEB, MARCH = dt.date(2019, 2, 1), dt.date(2019, 3, 1)


def test_months_before_the_plan_was_issued_are_expected_of_no_one(plan: None) -> None:
    assert selectors.first_reporting_month() == MARCH
    xz = unit("xuanzhou-jtj")
    upload(xz, "disbursements", FEB, on="2019-03-01")
    upload(xz, "disbursements", MARCH, on="2019-04-01")
    upload(xz, "enrolment", MARCH, on="2019-04-01")

    assert selectors.year_periods(2019, dt.date(2019, 6, 16)) == [
        MARCH,
        dt.date(2019, 4, 1),
        dt.date(2019, 5, 1),
    ]
    grid = selectors.completeness([FEB, MARCH])
    assert not any(grid.cells[(u.pk, FEB)].expected for u in grid.units)
    assert grid.month_rates(FEB).completeness is None  # "—", not 0.0%
    rates = grid.unit_rates(xz)
    assert (rates.expected, rates.received) == (2, 2)
    assert rates.completeness == 100.0
    assert grid.total().expected == 9 * 2  # March only


def test_the_completeness_page_starts_in_march(plan: None, city_reviewer: Any) -> None:
    c = Client()
    c.force_login(city_reviewer)
    page = c.get("/reports/completeness/2019/").content.decode()
    head = page.split("<thead>")[1].split("</thead>")[0]
    assert "<th>3月</th>" in head
    assert "<th>1月</th>" not in head and "<th>2月</th>" not in head


@pytest.mark.parametrize("year", ["2018", "11796", "2999"])
def test_a_year_outside_the_plan_is_a_chinese_not_found(
    plan: None, city_reviewer: Any, year: str
) -> None:
    c = Client()
    c.force_login(city_reviewer)
    response = c.get(f"/reports/completeness/{year}/")
    assert response.status_code == 404
    assert f"{year}年不在本计划的报送期内" in response.content.decode()
