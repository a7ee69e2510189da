"""Recording, reviewing and correcting ledger entries, as a user does in the browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tasks.models import LedgerEntry, LedgerEvidence

from ..factories import PASSWORD, make_entry

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def post_entry(client: Client, number: int = 5, **data: Any) -> Any:
    payload = {
        "unit": "",
        "period": "2019-05",
        "status": "in_progress",
        "narrative": "已完成摸底统计。",
    }
    payload.update(data)
    return client.post(f"/tasks/{number}/ledger/new/", payload)


def test_a_county_records_an_entry_with_evidence(xuanzhou_staff: Any) -> None:
    client = login(xuanzhou_staff)
    unit = xuanzhou_staff.unit
    evidence = SimpleUploadedFile(
        "5月资助进展.pdf", b"%PDF-1.4 test", content_type="application/pdf"
    )
    response = post_entry(client, unit=unit.pk, evidence=evidence, status="done")
    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    assert (entry.unit, entry.status, entry.review) == (unit, "done", "pending")
    assert entry.evidence.get().original_name == "5月资助进展.pdf"
    page = client.get("/tasks/5/").content.decode()
    assert "已完成摸底统计" in page and "5月资助进展.pdf" in page and "待审核" in page
    download = client.get(f"/evidence/{entry.evidence.get().pk}/")
    assert download.status_code == 200
    body = b"".join(getattr(download, "streaming_content", []))
    assert body == b"%PDF-1.4 test"


def test_a_missing_status_is_refused_by_name_and_saves_nothing(xuanzhou_staff: Any) -> None:
    client = login(xuanzhou_staff)
    response = post_entry(client, unit=xuanzhou_staff.unit.pk, status="")
    assert response.status_code == 200
    assert "进展状态：请选择进展状态。" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_an_unknown_task_gets_a_chinese_404(xuanzhou_staff: Any) -> None:
    client = login(xuanzhou_staff)
    response = post_entry(client, number=23, unit=xuanzhou_staff.unit.pk)
    assert response.status_code == 404
    assert "未找到任务 23" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_evidence_over_the_limit_is_refused_and_saves_nothing(
    xuanzhou_staff: Any, settings: Any
) -> None:
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    client = login(xuanzhou_staff)
    big = SimpleUploadedFile("扫描件.pdf", b"x" * (2 * 1024 * 1024))
    response = post_entry(client, unit=xuanzhou_staff.unit.pk, evidence=big)
    assert response.status_code == 200
    assert "佐证材料“扫描件.pdf”大小为 2.0 MB，超过上限 1 MB" in response.content.decode()
    assert not LedgerEntry.objects.exists()
    assert not LedgerEvidence.objects.exists()


def test_returned_entry_is_kept_and_corrected_by_a_new_one(
    xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    entry = make_entry(5, "xuanzhou-jtj", xuanzhou_staff, narrative="初稿")
    reviewer = login(city_reviewer)
    no_comment = reviewer.post(
        f"/ledger/{entry.pk}/review/", {"decision": "return", "comment": ""}, follow=True
    )
    assert "退回时请填写审核意见" in no_comment.content.decode()
    entry.refresh_from_db()
    assert entry.review == "pending"
    reviewer.post(f"/ledger/{entry.pk}/review/", {"decision": "return", "comment": "请补充发放表"})
    entry.refresh_from_db()
    assert (entry.review, entry.review_comment, entry.reviewed_by) == (
        "returned",
        "请补充发放表",
        city_reviewer,
    )

    county = login(xuanzhou_staff)
    assert "请补充发放表" in county.get("/mine/").content.decode()
    form = county.get(f"/tasks/5/ledger/new/?revise={entry.pk}").content.decode()
    assert "初稿" in form
    county.post(
        f"/tasks/5/ledger/new/?revise={entry.pk}",
        {"unit": entry.unit_id, "period": "2019-05", "status": "done", "narrative": "已补充发放表"},
    )
    entry.refresh_from_db()
    assert entry.narrative == "初稿" and entry.review == "returned"
    correction = LedgerEntry.objects.get(revision_of=entry)
    assert (correction.narrative, correction.review) == ("已补充发放表", "pending")
    again = county.post(
        f"/tasks/5/ledger/new/?revise={entry.pk}",
        {"unit": entry.unit_id, "period": "2019-05", "status": "done", "narrative": "再次提交"},
    )
    assert "该记录已经更正过" in again.content.decode()
    assert LedgerEntry.objects.count() == 2


def test_an_entry_is_decided_once(xuanzhou_staff: Any, city_reviewer: Any) -> None:
    entry = make_entry(5, "xuanzhou-jtj", xuanzhou_staff)
    reviewer = login(city_reviewer)
    reviewer.post(f"/ledger/{entry.pk}/review/", {"decision": "accept"})
    second = reviewer.post(
        f"/ledger/{entry.pk}/review/", {"decision": "return", "comment": "改"}, follow=True
    )
    assert "该记录已被审核" in second.content.decode()
    entry.refresh_from_db()
    assert entry.review == "accepted"


def test_the_lead_unit_reviews_its_task_but_a_county_does_not(
    xuanzhou_staff: Any, langxi_staff: Any, section_staff: Any
) -> None:
    entry = make_entry(9, "xuanzhou-jtj", xuanzhou_staff)
    login(langxi_staff).post(f"/ledger/{entry.pk}/review/", {"decision": "accept"})
    entry.refresh_from_db()
    assert entry.review == "pending"
    # 基教科 leads task 9.
    login(section_staff).post(f"/ledger/{entry.pk}/review/", {"decision": "accept"})
    entry.refresh_from_db()
    assert entry.review == "accepted"


def test_a_section_reports_only_for_itself(section_staff: Any) -> None:
    client = login(section_staff)
    page = client.get("/tasks/9/ledger/new/").content.decode()
    assert "市教体局基教科" in page and "宣州区教体局" not in page
    assert "不是任务5的责任单位" in client.get("/tasks/5/ledger/new/", follow=True).content.decode()
