"""The rectification workflow: raised → 已报告 → 已销号 or 退回 → 已报告, with a frozen clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inspections import selectors, services
from inspections.models import ItemEvent, ItemEvidence, RectificationItem, Status
from tasks import roles
from tasks.models import Deadline

from ..factories import make_user
from .conftest import at

pytestmark = pytest.mark.django_db


def test_it_raises_one_item_per_finding_with_its_deadline(
    inspection: Any, xz_item: RectificationItem
) -> None:
    assert inspection.items.count() == 2
    # The finding's unit joins the units visited.
    assert {u.code for u in inspection.units.all()} == {"xuanzhou-jtj", "langxi-jtj"}
    assert xz_item.status == Status.OPEN
    assert xz_item.deadline is not None
    assert xz_item.deadline.kind == Deadline.Kind.RECTIFICATION
    assert xz_item.deadline.task.number == 21
    assert xz_item.deadline.due_on == dt.date(2019, 6, 10)
    (event,) = xz_item.events.all()
    assert event.action == ItemEvent.Action.RAISED
    assert event.at.date() == dt.date(2019, 5, 21)


def test_a_feedback_item_is_one_item_per_responsible_unit_lead_first(feedback: Any) -> None:
    items = list(feedback.items.order_by("order").select_related("unit"))
    assert [(i.unit.code, i.lead) for i in items] == [
        ("city-jcc", True),
        ("xuanzhou-jtj", False),
        ("langxi-jtj", False),
    ]
    assert all(i.source == "feedback" and i.deadline.task.number == 1 for i in items)


def test_the_unit_answers_and_the_city_closes_it(
    xz_item: RectificationItem, xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    with at("2019-06-08"):
        services.item_answer(
            user=xuanzhou_staff,
            item=xz_item,
            answer="已补发告知单",
            files=[SimpleUploadedFile("签收记录.pdf", b"%PDF-1.4 x")],
        )
    xz_item.refresh_from_db()
    assert xz_item.status == Status.ANSWERED
    assert xz_item.answered_by == xuanzhou_staff
    assert ItemEvidence.objects.get(item=xz_item).original_name == "签收记录.pdf"
    with at("2019-06-09"):
        services.item_close(user=city_reviewer, item=xz_item, comment="同意销号")
    xz_item.refresh_from_db()
    assert xz_item.status == Status.CLOSED
    assert xz_item.closed_on == dt.date(2019, 6, 9)
    timeline = [(e.action, e.actor.username, e.at.date()) for e in selectors.timeline(xz_item)]
    assert timeline == [
        ("raised", "city_reviewer", dt.date(2019, 5, 21)),
        ("answered", "xuanzhou_staff", dt.date(2019, 6, 8)),
        ("closed", "city_reviewer", dt.date(2019, 6, 9)),
    ]
    # Every change is in the audit history with its user.
    last = xz_item.history.order_by("-history_id").first()
    assert last.status == Status.CLOSED and last.history_user == city_reviewer


def test_a_returned_item_is_answered_again(
    xz_item: RectificationItem, xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    with at("2019-06-05"):
        services.item_answer(user=xuanzhou_staff, item=xz_item, answer="已部分补发")
    with at("2019-06-06"):
        with pytest.raises(ValidationError) as exc:
            services.item_return(user=city_reviewer, item=xz_item, comment="  ")
        assert "退回时请写明意见" in str(exc.value)
        services.item_return(user=city_reviewer, item=xz_item, comment="签收记录不全")
    xz_item.refresh_from_db()
    assert xz_item.status == Status.RETURNED
    with at("2019-06-07"):
        services.item_answer(user=xuanzhou_staff, item=xz_item, answer="已全部补发并签收")
    xz_item.refresh_from_db()
    assert xz_item.status == Status.ANSWERED
    assert xz_item.answer == "已全部补发并签收"
    assert [e.action for e in xz_item.events.all()] == [
        "raised",
        "answered",
        "returned",
        "answered",
    ]
    assert xz_item.events.get(action="returned").comment == "签收记录不全"


def test_refused_transitions_change_nothing(
    xz_item: RectificationItem, xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    with pytest.raises(ValidationError, match="只有已报告的事项可以销号"):
        services.item_close(user=city_reviewer, item=xz_item)
    with pytest.raises(ValidationError, match="只有已报告的事项可以退回"):
        services.item_return(user=city_reviewer, item=xz_item, comment="x")
    services.item_answer(user=xuanzhou_staff, item=xz_item, answer="已整改")
    # A second answer (a double click, another tab) is refused.
    with pytest.raises(ValidationError, match="不能报告整改情况"):
        services.item_answer(user=xuanzhou_staff, item=xz_item, answer="再次报告")
    # A county may not close its own item.
    with pytest.raises(PermissionDenied):
        services.item_close(user=xuanzhou_staff, item=xz_item)
    services.item_close(user=city_reviewer, item=xz_item)
    with pytest.raises(ValidationError, match="已销号"):
        services.item_answer(user=xuanzhou_staff, item=xz_item, answer="销号后再报告")
    xz_item.refresh_from_db()
    assert xz_item.answer == "已整改"
    assert xz_item.events.filter(action="answered").count() == 1


def test_another_county_may_not_answer(lx_item: RectificationItem, xuanzhou_staff: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.item_answer(user=xuanzhou_staff, item=lx_item, answer="越权报告")
    lx_item.refresh_from_db()
    assert lx_item.status == Status.OPEN


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("整改报告.exe", 10, "文件类型不允许上传"),
        ("page.html", 10, "文件类型不允许上传"),
        ("扫描件.pdf", 2 * 1024 * 1024, "超过上限 1 MB"),
    ],
)
def test_a_refused_file_saves_nothing(
    xz_item: RectificationItem,
    xuanzhou_staff: Any,
    settings: Any,
    name: str,
    size: int,
    message: str,
) -> None:
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    client = Client()
    client.force_login(xuanzhou_staff)
    response = client.post(
        f"/inspections/items/{xz_item.pk}/",
        {
            "do": "answer",
            "answer": "已补发告知单",
            "evidence": [
                SimpleUploadedFile("签收记录.pdf", b"%PDF ok"),
                SimpleUploadedFile(name, b"x" * size),
            ],
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert name in response.content.decode()
    xz_item.refresh_from_db()
    assert xz_item.status == Status.OPEN
    assert not ItemEvidence.objects.exists()
    assert xz_item.events.count() == 1


def test_overdue_means_past_due_and_not_closed(
    xz_item: RectificationItem, lx_item: RectificationItem, xuanzhou_staff: Any
) -> None:
    day = dt.date(2019, 6, 16)
    assert [i.pk for i in selectors.overdue_rectifications(day)] == [xz_item.pk]
    # Answered but not yet 销号: still overdue on the lists.
    services.item_answer(user=xuanzhou_staff, item=xz_item, answer="已整改")
    assert [i.pk for i in selectors.overdue_rectifications(day)] == [xz_item.pk]
    assert selectors.overdue_rectifications(dt.date(2019, 6, 10)).count() == 0


def test_only_the_city_raises_items(xuanzhou_staff: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.feedback_create(
            user=xuanzhou_staff,
            number=9,
            text="x",
            measures="y",
            units=[xuanzhou_staff.unit],
            due_on=dt.date(2019, 6, 30),
        )
    assert not RectificationItem.objects.exists()


def test_a_city_section_answers_its_own_feedback_item_only(feedback: Any, plan: None) -> None:
    jcc_staff = make_user("jcc_staff", "city-jcc", roles.CITY_SECTION)
    mine = feedback.items.get(unit__code="city-jcc")
    theirs = feedback.items.get(unit__code="langxi-jtj")
    services.item_answer(user=jcc_staff, item=mine, answer="已完成全市比对")
    with pytest.raises(PermissionDenied):
        services.item_answer(user=jcc_staff, item=theirs, answer="代郎溪报告")
