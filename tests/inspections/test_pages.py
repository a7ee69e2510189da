"""The pages as a county, another county and the city: scoping, forms, the 整改台账."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from inspections import services
from inspections.models import Feedback, Inspection, RectificationItem, Status
from inspections.selectors import LEDGER_HEADERS
from tasks.models import Unit

from .conftest import at

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_county_sees_only_its_own_items(
    xz_item: RectificationItem, lx_item: RectificationItem, xuanzhou_staff: Any
) -> None:
    client = client_for(xuanzhou_staff)
    page = client.get("/inspections/").content.decode()
    assert "宣州区三户家庭未收到资助告知单" in page
    assert "郎溪县建平镇中心学校缺少发放签字表" not in page
    assert client.get(f"/inspections/items/{lx_item.pk}/").status_code == 404
    # A forged filter for another county's unit shows nothing of it either.
    page = client.get(f"/inspections/?unit={lx_item.unit_id}").content.decode()
    assert "郎溪县建平镇中心学校缺少发放签字表" not in page
    assert "所选单位不在可选范围内" in page
    mine = client.get("/inspections/mine/").content.decode()
    assert "宣州区三户家庭未收到资助告知单" in mine and "建平镇" not in mine


def test_the_city_sees_every_item_and_filters_them(
    xz_item: RectificationItem, lx_item: RectificationItem, feedback: Feedback, city_reviewer: Any
) -> None:
    client = client_for(city_reviewer)
    with at("2019-06-16"):
        page = client.get("/inspections/").content.decode()
        assert "宣州区三户家庭未收到资助告知单" in page and "缺少发放签字表" in page
        overdue = client.get("/inspections/?overdue=on").content.decode()
    # Due 6-10 (finding) and 6-12 (feedback, three units) are overdue on 6-16; 6-30 is not.
    assert "宣州区三户家庭未收到资助告知单" in overdue
    assert "缺少发放签字表" not in overdue
    assert overdue.count("反馈意见第1项</td>") == 3
    only_feedback = client.get("/inspections/?source=feedback").content.decode()
    assert "宣州区三户家庭未收到资助告知单" not in only_feedback
    by_unit = client.get(f"/inspections/?unit={lx_item.unit_id}&status=open").content.decode()
    assert "缺少发放签字表" in by_unit and "宣州区三户家庭" not in by_unit


def test_an_item_page_answers_and_the_reviewer_closes_it(
    xz_item: RectificationItem, xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    county = client_for(xuanzhou_staff)
    page = county.get(f"/inspections/items/{xz_item.pk}/").content.decode()
    assert 'id="answer-form"' in page and 'id="review-form"' not in page
    with at("2019-06-09"):
        response = county.post(
            f"/inspections/items/{xz_item.pk}/", {"do": "answer", "answer": "已补发告知单"}
        )
    assert response.status_code == 302
    city = client_for(city_reviewer)
    page = city.get(f"/inspections/items/{xz_item.pk}/").content.decode()
    assert 'id="review-form"' in page and 'id="answer-form"' not in page
    # A return needs a comment; the page says so and nothing changes.
    page = city.post(
        f"/inspections/items/{xz_item.pk}/", {"do": "review", "decision": "return"}
    ).content.decode()
    assert "退回时请写明意见" in page
    xz_item.refresh_from_db()
    assert xz_item.status == Status.ANSWERED
    with at("2019-06-10"):
        city.post(f"/inspections/items/{xz_item.pk}/", {"do": "review", "decision": "close"})
    xz_item.refresh_from_db()
    assert xz_item.status == Status.CLOSED and xz_item.closed_on == dt.date(2019, 6, 10)
    # A county cannot review, even by posting the form.
    county.post(f"/inspections/items/{xz_item.pk}/", {"do": "review", "decision": "return"})
    xz_item.refresh_from_db()
    assert xz_item.status == Status.CLOSED


def test_the_city_records_an_inspection_with_findings(city_reviewer: Any) -> None:
    xz = Unit.objects.get(code="xuanzhou-jtj")
    data = {
        "kind": "open",
        "visited_on": "2019-06-03",
        "team": "市教体局明查组",
        "places": "宣州区敬亭山中学",
        "units": [xz.pk],
        "note": "",
        "f-TOTAL_FORMS": "3",
        "f-INITIAL_FORMS": "0",
        "f-0-unit": xz.pk,
        "f-0-category": "资金发放",
        "f-0-problem": "春季学期资助资金未在6月15日前发放",
        "f-0-requirement": "立即发放到位",
        "f-0-due_on": "2019-06-15",
        "f-1-unit": xz.pk,
        "f-1-category": "",  # half a row: named, nothing saved
        "f-1-problem": "缺类别的问题",
    }
    client = client_for(city_reviewer)
    with at("2019-06-04"):
        page = client.post("/inspections/new/", data).content.decode()
        assert "请填写：问题类别、整改要求、整改时限。" in page
        assert not Inspection.objects.exists()
        data.pop("f-1-unit")
        data.pop("f-1-problem")
        response = client.post("/inspections/new/", data)
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert inspection.get_kind_display() == "明查"
    assert [i.problem for i in inspection.items.all()] == ["春季学期资助资金未在6月15日前发放"]


def test_a_date_after_today_is_refused(city_reviewer: Any) -> None:
    client = client_for(city_reviewer)
    with at("2019-06-04"):
        page = client.post(
            "/inspections/new/",
            {
                "kind": "unannounced",
                "visited_on": "2019-06-20",
                "team": "暗访组",
                "places": "某地",
                "units": [city_reviewer.unit_id],
                "f-TOTAL_FORMS": "0",
                "f-INITIAL_FORMS": "0",
            },
        ).content.decode()
    assert "检查日期不能晚于今天" in page
    assert not Inspection.objects.exists()


def test_the_city_records_a_feedback_item_lead_first(city_reviewer: Any) -> None:
    lead = Unit.objects.get(code="city-jjk")
    other = Unit.objects.get(code="ningguo-jtj")
    client = client_for(city_reviewer)
    data = {
        "number": "3",
        "text": "送教上门覆盖不全",
        "measures": "逐一摸排，全覆盖",
        "lead": lead.pk,
        "others": [other.pk, lead.pk],
        "due_on": "2019-07-31",
    }
    assert client.post("/inspections/feedback/new/", data).status_code == 302
    items = Feedback.objects.get(number=3).items.order_by("order")
    assert [(i.unit.code, i.lead) for i in items] == [("city-jjk", True), ("ningguo-jtj", False)]
    page = client.post("/inspections/feedback/new/", data).content.decode()
    assert "反馈意见第3项已登记" in page


def test_counties_cannot_open_the_city_forms(xuanzhou_staff: Any, inspection: Any) -> None:
    client = client_for(xuanzhou_staff)
    assert client.get("/inspections/new/").status_code == 403
    assert client.get("/inspections/feedback/new/").status_code == 403
    assert 'id="finding-form"' not in client.get(f"/inspections/{inspection.pk}/").content.decode()


def test_the_ledger_xlsx_reads_back_in_its_fixed_order(
    xz_item: RectificationItem,
    lx_item: RectificationItem,
    feedback: Feedback,
    xuanzhou_staff: Any,
    city_reviewer: Any,
) -> None:
    xz_item.problem = '=HYPERLINK("http://x")'
    xz_item.save()
    with at("2019-06-08"):
        services.item_answer(user=xuanzhou_staff, item=xz_item, answer="已补发")
    with at("2019-06-09"):
        services.item_close(user=city_reviewer, item=xz_item)
    with at("2019-06-16"):
        response = client_for(city_reviewer).get("/inspections/ledger.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert (
        "filename*=utf-8''%E6%95%B4%E6%94%B9%E5%8F%B0%E8%B4%A6" in response["Content-Disposition"]
    )
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == LEDGER_HEADERS
    by_unit = {(r[3], r[2]): r for r in rows[1:]}
    closed = by_unit[("宣州区教体局", "2019-05-20 暗访")]
    assert closed[1] == "明查暗访"
    assert closed[5] == '\'=HYPERLINK("http://x")'  # formula neutralised
    assert closed[8] == "已补发" and closed[9] == "已销号"
    assert closed[10].date() == dt.date(2019, 6, 9)
    assert by_unit[("郎溪县教体局", "2019-05-20 暗访")][9] == "待整改"
    late = by_unit[("宣州区教体局（配合）", "反馈意见第1项")]
    assert late[1] == "巡视反馈" and late[9] == "待整改（逾期）"
    assert late[7].date() == dt.date(2019, 6, 12)
    # A county's export holds its own rows only.
    with at("2019-06-16"):
        mine = client_for(xuanzhou_staff).get("/inspections/ledger.xlsx")
    units = {r[3] for r in list(load_workbook(io.BytesIO(mine.content)).active.values)[1:]}
    assert units == {"宣州区教体局", "宣州区教体局（配合）"}
