"""Faults: the broker down, a worker killed in the middle of an import."""

from __future__ import annotations

import datetime as dt
import io
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from tasks import uploads
from tasks.jobs import uploads_resume
from tasks.models import RosterStudent, Upload
from xc_fupin.celery_app import app
from xc_fupin.lib.idnumber import make_id_number

from .conftest import wait_for

pytestmark = pytest.mark.django_db


def roster_file(n: int, school: str = "宣州区实验小学") -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("名册")
    ws.append(["宣州区建档立卡学生名册"])
    ws.append(["身份证号", "姓名", "户籍县区", "就读学校", "学段", "年级", "是否寄宿"])
    for i in range(n):
        ws.append(
            [
                make_id_number(
                    "341802", dt.date(2011, 1, 1) + dt.timedelta(days=i % 700), i % 1000
                ),
                f"学生{i}",
                "宣州区",
                school,
                "小学",
                "三年级",
                "否",
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def post_upload(client: Client, content: bytes) -> Upload:
    response = client.post(
        "/uploads/",
        {"kind": "roster", "period": "2019-05", "file": SimpleUploadedFile("名册.xlsx", content)},
    )
    assert response.status_code == 302
    return Upload.objects.latest("pk")


@pytest.fixture
def dead_broker() -> Iterator[None]:
    """Point the producer at an address where no Redis listens."""
    celery: Any = app  # reaches into Celery's cached connection pools, untyped
    old_url, old_opts = celery.conf.broker_url, celery.conf.broker_transport_options

    def reset_pools() -> None:
        celery.pool.force_close_all()
        celery._pool = None
        celery.amqp._producer_pool = None

    celery.conf.update(
        broker_url="redis://127.0.0.1:1/0",
        broker_transport_options={"socket_connect_timeout": 1, "socket_timeout": 1},
    )
    reset_pools()
    try:
        yield
    finally:
        celery.conf.update(broker_url=old_url, broker_transport_options=old_opts)
        reset_pools()


def test_with_the_broker_down_pages_work_and_uploads_wait_without_loss(
    dead_broker: None,
    xuanzhou_staff: Any,
    xuanzhou_school: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.UPLOAD_SYNC_MAX_BYTES = 0  # every upload needs the worker
    client = Client()
    client.force_login(xuanzhou_staff)
    for url in ["/", "/tasks/3/", "/mine/", "/uploads/"]:
        assert client.get(url).status_code == 200, url
    with django_capture_on_commit_callbacks(execute=True) as sent:
        upload = post_upload(client, roster_file(5))
    assert len(sent) == 1  # the job was attempted after commit, and failed fast
    upload.refresh_from_db()
    assert upload.state == "received"
    page = client.get(f"/uploads/{upload.pk}/").content.decode()
    assert "后台任务队列暂时不可用" in page and "无需重新上传" in page
    # When the queue is back, the same upload is processed from the stored file.
    assert uploads.upload_validate(upload.pk).state == "previewed"
    assert not RosterStudent.objects.exists()


@pytest.mark.broker
def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_finishes_when_run_again(
    worker_factory: Any, xuanzhou_staff: Any, xuanzhou_school: Any, settings: Any, tmp_path: Any
) -> None:
    settings.UPLOAD_SYNC_MAX_BYTES = 0
    marker = tmp_path / "in-transaction"
    doomed = worker_factory(XC_FAULT_PAUSE_BEFORE_COMMIT="120", XC_FAULT_MARKER=str(marker))
    client = Client()
    client.force_login(xuanzhou_staff)
    upload = post_upload(client, roster_file(300))
    wait_for(lambda: Upload.objects.get(pk=upload.pk).state == "previewed")
    client.post(f"/uploads/{upload.pk}/confirm/")
    wait_for(marker.exists)  # the worker has written every row, not yet committed
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    upload.refresh_from_db()
    assert upload.state == "applying"
    assert RosterStudent.objects.count() == 0
    worker_factory()  # a healthy worker
    assert uploads_resume(stale_minutes=0) >= 1
    wait_for(lambda: Upload.objects.get(pk=upload.pk).state == "applied")
    assert RosterStudent.objects.count() == 300
    # Resending again finds nothing to do and duplicates nothing.
    uploads_resume(stale_minutes=0)
    assert RosterStudent.objects.count() == 300
