"""Every change is recorded: who, when, and from where (page, admin, upload)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from intake.models import Upload
from tasks.models import LedgerEntry, RosterStudent

from ..factories import make_entry
from .test_uploads import ids, workbook

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_entry_and_its_review_are_recorded_with_their_users(
    xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    client_for(xuanzhou_staff).post(
        "/tasks/5/ledger/new/",
        {
            "unit": xuanzhou_staff.unit_id,
            "period": "2019-05",
            "status": "done",
            "narrative": "已上报",
        },
    )
    entry = LedgerEntry.objects.get()
    client_for(city_reviewer).post(
        f"/ledger/{entry.pk}/review/", {"decision": "return", "comment": "缺附件"}
    )
    history = list(entry.history.order_by("history_date"))
    assert [(h.history_type, h.history_user, h.review, h.history_source) for h in history] == [
        ("+", xuanzhou_staff, "pending", "网页"),
        ("~", city_reviewer, "returned", "网页"),
    ]


def test_the_admin_shows_a_records_history_only_within_scope(
    admin_user: Any, xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    mine = make_entry(5, "xuanzhou-jtj", xuanzhou_staff, narrative="宣州区五月")
    theirs = make_entry(5, "langxi-jtj", langxi_staff, narrative="郎溪县五月")
    page = (
        client_for(admin_user)
        .get(f"/admin/tasks/ledgerentry/{theirs.pk}/history/")
        .content.decode()
    )
    assert "langxi_staff" in page or "郎溪县" in page
    xuanzhou_staff.is_staff = True
    xuanzhou_staff.save()
    xuanzhou_staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_ledgerentry", "change_ledgerentry"])
    )
    county = client_for(xuanzhou_staff)
    assert county.get(f"/admin/tasks/ledgerentry/{mine.pk}/history/").status_code == 200
    assert county.get(f"/admin/tasks/ledgerentry/{theirs.pk}/history/").status_code == 404
    version = theirs.history.first()
    assert version is not None
    assert (
        county.get(
            f"/admin/tasks/ledgerentry/{theirs.pk}/history/{version.history_id}/"
        ).status_code
        == 404
    )


def test_rows_written_by_an_import_name_their_upload(xuanzhou_staff: Any) -> None:
    from intake import base as imports

    from .test_uploads import MiniRosterSpec  # registered by the autouse fixture there

    imports.register(MiniRosterSpec())
    try:
        client = client_for(xuanzhou_staff)
        content = workbook([[i, "某"] for i in ids(2)])
        client.post(
            "/uploads/",
            {
                "kind": "mini_roster",
                "period": "2019-05",
                "file": SimpleUploadedFile("名册.xlsx", content),
            },
        )
        upload = Upload.objects.get()
        client.post(f"/uploads/{upload.pk}/confirm/")
    finally:
        imports._REGISTRY.pop("mini_roster", None)
    student = RosterStudent.objects.first()
    assert student is not None
    (record,) = student.history.all()
    assert record.history_type == "+"
    assert record.history_upload_id == upload.pk
    assert record.history_source.startswith(f"上传#{upload.pk} 名册.xlsx")
    assert record.history_user == xuanzhou_staff
