"""The matching page: run from the page as a job, watch its progress, read the results,
each user within their scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from matching.jobs import roster_match_job
from matching.models import MatchRun

from .test_match_roster import match, world  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.django_db

URL = "/matching/?semester=2019秋"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_city_runs_it_from_the_page_and_reads_the_results(
    world: dict[str, Any],  # noqa: F811
    city_reviewer: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(roster_match_job, "delay_on_commit", sent.append)
    client = client_for(city_reviewer)
    response = client.post(reverse("matching:run"), {"semester": _fall(), "county": ""})
    assert response.status_code == 302
    run = MatchRun.objects.get()
    assert sent == [run.pk] and run.state == "queued" and run.county is None
    # While queued, the page shows the progress box that polls the run's status.
    page = client.get(URL).content.decode()
    assert reverse("matching:status", args=[run.pk]) in page
    roster_match_job(run.pk)
    run.refresh_from_db()
    assert run.state == "done" and run.counts["roster"] == 4
    status = client.get(reverse("matching:status", args=[run.pk])).json()
    assert status["busy"] is False and status["percent"] == 100
    page = client.get(URL).content.decode()
    assert 'id="progress"' not in page
    assert "学籍中无记录" in page and "学籍状态为休学" in page and "学段不符" in page
    # Masked: no full ID number and no full name on the page.
    people = world["people"]
    assert people["李高一"] not in page and "李高一" not in page
    # A second delivery of the same job does nothing.
    roster_match_job(run.pk)
    assert MatchRun.objects.get().counts == run.counts


def _fall() -> int:
    from subsidies.models import Semester

    return Semester.objects.get(code="2019秋").pk


def test_a_county_runs_its_own_county_only(
    world: dict[str, Any],  # noqa: F811
    langxi_staff: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(roster_match_job, "delay_on_commit", lambda pk: None)
    client = client_for(langxi_staff)
    page = client.get(URL).content.decode()
    assert "郎溪县" in page and "宣州区" not in page
    xuanzhou = world["primary"].county
    client.post(reverse("matching:run"), {"semester": _fall(), "county": xuanzhou.pk})
    assert not MatchRun.objects.exists()
    client.post(reverse("matching:run"), {"semester": _fall(), "county": ""})
    assert not MatchRun.objects.exists()
    client.post(reverse("matching:run"), {"semester": _fall(), "county": langxi_county(world)})
    assert MatchRun.objects.get().county_id == langxi_county(world)


def langxi_county(data: dict[str, Any]) -> int:
    return int(data["lx"].county_id)


def test_a_county_sees_only_its_own_findings(
    world: dict[str, Any],  # noqa: F811
    langxi_staff: Any,
    xuanzhou_staff: Any,
) -> None:
    match()
    assert "学籍中无记录" not in client_for(langxi_staff).get(URL).content.decode()
    assert "学籍中无记录" in client_for(xuanzhou_staff).get(URL).content.decode()


def test_a_school_has_no_matching_page(world: dict[str, Any], school_staff: Any) -> None:  # noqa: F811
    assert client_for(school_staff).get(URL).status_code == 403
