"""The admin import (django-import-export, subsidies/resources.py) is an upload like any
other: it keeps an Upload with its result, stamps the history with the upload, and moves
the cached figures' versions of the parts it changed so the dashboards show the new
payments."""

from __future__ import annotations

from typing import Any

from tablib import Dataset

from intake.models import Upload
from subsidies.models import Disbursement
from subsidies.resources import DisbursementResource
from tasks import figures
from tests.subsidies.conftest import pupils, spring, standards  # noqa: F401 - fixtures

HEAD = ["身份证号码", "学生姓名", "学校", "资助项目", "学期", "金额", "发放日期"]


def dataset(students: list[Any]) -> Dataset:
    data = Dataset(headers=HEAD)
    for p in students:
        amount = 500 if p.boarding else 250
        data.append(
            [p.id_number, p.name, "宣州区实验小学", "寄宿生生活补助", "2019春", amount, "2019.6.10"]
        )
    return data


def test_the_preview_writes_nothing_and_keeps_no_upload(
    pupils: list[Any],  # noqa: F811
    admin_user: Any,
) -> None:
    result = DisbursementResource().import_data(
        dataset(pupils), dry_run=True, user=admin_user, file_name="明细.xlsx"
    )
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == len(pupils)
    assert not Upload.objects.exists() and not Disbursement.objects.exists()


def test_a_confirmed_admin_import_is_an_upload_with_its_source_and_stale_figures(
    pupils: list[Any],  # noqa: F811
    admin_user: Any,
) -> None:
    # Payments make their own semester's and county's figures stale (and the "any part"
    # version every dashboard of the area depends on), as an upload from the page does.
    version = figures.data_version(figures.part("subsidies", figures.ANY))
    result = DisbursementResource().import_data(
        dataset(pupils), dry_run=False, user=admin_user, file_name="明细.xlsx"
    )
    assert not result.has_errors() and not result.has_validation_errors()
    upload = Upload.objects.get()
    assert (upload.kind, upload.state, upload.uploaded_by, upload.rows_accepted) == (
        "disbursements",
        "applied",
        admin_user,
        len(pupils),
    )
    assert upload.result == {"新增发放记录": len(pupils)}
    history = list(Disbursement.history.all())  # type: ignore[attr-defined]
    assert len(history) == len(pupils)
    assert {h.history_upload_id for h in history} == {upload.pk}
    assert all(h.history_source.startswith(f"上传#{upload.pk}") for h in history)
    assert figures.data_version(figures.part("subsidies", figures.ANY)) > version


def test_a_bad_admin_import_keeps_the_rejected_upload_and_writes_nothing(
    pupils: list[Any],  # noqa: F811
    admin_user: Any,
) -> None:
    data = dataset(pupils)
    data.append(data[0])  # the first payment twice
    result = DisbursementResource().import_data(
        data, dry_run=False, user=admin_user, file_name="明细.xlsx"
    )
    assert result.has_validation_errors()
    messages = [str(e) for row in result.invalid_rows for e in row.error.messages]
    assert any("第6行 身份证号: 与第2行重复" in m for m in messages)
    assert Upload.objects.get().state == "rejected"
    assert not Disbursement.objects.exists()
