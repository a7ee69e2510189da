"""Uploads of the registries, run by a real Celery worker on the real Redis broker and
PostgreSQL, end in cases opened by the cross-check job the import queued."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dropout.models import CaseFinding, CrosscheckRun, DropoutCase, FindingKind, HouseholdChild
from intake.models import Upload
from tasks.clock import today

from ..conftest import wait_for
from .builders import kid
from .test_imports import ENROLMENT_HEADER, xlsx

AS_OF = today() - dt.timedelta(days=1)
ENROLLED = kid(f"{AS_OF.year - 10}-05-01", 1)
DROPPED = kid(f"{AS_OF.year - 12}-03-03", 2)
MISSING = kid(f"{AS_OF.year - 9}-07-07", 3)


def upload_and_apply(client: Client, kind: str, content: bytes) -> Upload:
    """Through the pages, as a county does: the worker validates, then applies."""
    response = client.post(
        "/uploads/",
        {
            "kind": kind,
            "period": f"{AS_OF:%Y-%m}",
            "file": SimpleUploadedFile(f"{kind}.xlsx", content),
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    upload = Upload.objects.latest("pk")
    wait_for(lambda: Upload.objects.get(pk=upload.pk).state == "previewed")
    client.post(f"/uploads/{upload.pk}/confirm/")
    wait_for(lambda: Upload.objects.get(pk=upload.pk).state == "applied")
    return upload


@pytest.mark.broker
def test_registry_uploads_make_the_worker_open_the_cases(
    live_worker: Any, xuanzhou_staff: Any, xuanzhou_school: Any, settings: Any
) -> None:
    settings.UPLOAD_SYNC_MAX_BYTES = 0  # every upload goes to the worker
    client = Client()
    client.force_login(xuanzhou_staff)
    day = f"{AS_OF:%Y-%m-%d}"
    upload_and_apply(
        client,
        "enrolment",
        xlsx(
            [
                ENROLMENT_HEADER,
                [ENROLLED, "在读生", "宣州区实验小学", "四年级", "在读", day],
                [DROPPED, "辍学生", "宣州区实验小学", "六年级", "辍学", day],
            ]
        ),
    )
    # The enrolment import alone: the 辍学 mark is a case; without a household list
    # nobody can be "not enrolled" yet.
    wait_for(lambda: DropoutCase.objects.filter(id_number=DROPPED).exists())
    assert not DropoutCase.objects.filter(id_number=MISSING).exists()

    household = upload_and_apply(
        client,
        "household",
        xlsx(
            [
                ["身份证号", "姓名", "县区", "乡镇", "村", "监护人", "统计日期"],
                [ENROLLED, "在读生", "宣州区", "水阳镇", "金宝圩村", "", day],
                [DROPPED, "辍学生", "宣州区", "水阳镇", "金宝圩村", "家长", day],
                [MISSING, "未入学", "宣州区", "水阳镇", "金宝圩村", "", day],
            ],
            title="宣州区户籍适龄儿童名单",
        ),
    )
    case = wait_for(lambda: DropoutCase.objects.filter(id_number=MISSING).first())
    assert case.county.slug == "xuanzhou" and case.village == "金宝圩村"
    assert set(DropoutCase.objects.values_list("id_number", flat=True)) == {DROPPED, MISSING}
    assert CaseFinding.objects.get(case=case).kind == FindingKind.NOT_ENROLLED
    runs = CrosscheckRun.objects.filter(triggered_by="import", finished_at__isnull=False)
    assert runs.count() == 2
    # The worker's writes carry their source in the audit trail, the upload's too.
    assert case.history.get().history_source == "定时任务 dropout.crosscheck_county（import）"
    uploads = set(HouseholdChild.history.values_list("history_upload_id", flat=True))
    assert uploads == {household.pk}
