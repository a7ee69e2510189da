"""What the uploader gives beside the file: the 统计日期 (`--as-of`) a file without a date
column takes, and the remembered header mappings of a unit (issue 11 items 2 and 6)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import Workbook

from intake import base
from intake.base import ImportContext, ImportSpec, ValidationResult
from intake.models import HeaderMapping, Upload
from tasks.clock import today
from tasks.models import Unit
from xc_fupin.lib.sheets import ColumnSpec, Table

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db

#: What the probe spec's last validation saw: (as_of option, rows).
SEEN: list[tuple[Any, int]] = []


class ProbeSpec(ImportSpec):
    """Two columns and an optional date column; remembers what it was given."""

    key = "probe"
    title = "测试表"
    columns: ClassVar = [
        ColumnSpec("身份证号", ("身份证号码",)),
        ColumnSpec("姓名", ("学生姓名",)),
        ColumnSpec("统计日期", required=False),
    ]
    permission = "tasks.add_ledgerentry"

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        result = ValidationResult(total=len(table.rows))
        SEEN.append((ctx.options.get("as_of"), len(table.rows)))
        for row in table.rows:
            result.accept(row, {"name": str(row.values.get("姓名") or "")})
        return result

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        return {"新增": len(result.rows)}


class NoDateSpec(ProbeSpec):
    key = "probe_nodate"
    title = "无日期测试表"
    columns: ClassVar = ProbeSpec.columns[:2]


@pytest.fixture(autouse=True)
def probe() -> Iterator[None]:
    for spec in (ProbeSpec(), NoDateSpec()):
        base.register(spec)
    SEEN.clear()
    yield
    for key in ("probe", "probe_nodate"):
        base._REGISTRY.pop(key, None)


def sheet(headers: list[str], rows: int = 2) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(headers)
    for i in range(rows):
        ws.append(["34180220120501001" + str(i), f"学生{i}"][: len(headers)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def post(client: Client, content: bytes, **fields: str) -> Any:
    data = {"kind": "probe", "period": "2019-05", "file": SimpleUploadedFile("表.xlsx", content)}
    return client.post("/uploads/", {**data, **fields})


# --- 统计日期 / --as-of ------------------------------------------------------------------


def test_the_date_given_on_the_page_reaches_the_spec_as_a_date(xuanzhou_staff: Any) -> None:
    client = login(xuanzhou_staff)
    day = today() - dt.timedelta(days=5)
    response = post(client, sheet(["身份证号", "姓名"]), as_of=day.isoformat())
    assert response.status_code == 302
    upload = Upload.objects.latest("pk")
    assert upload.as_of == day and upload.state == "previewed"
    assert SEEN[-1] == (day, 2)
    client.post(f"/uploads/{upload.pk}/confirm/")
    assert SEEN[-1] == (day, 2)  # the apply re-validates with the same date
    # Without a date the option is None, not a guess.
    post(client, sheet(["身份证号", "姓名"]))
    assert SEEN[-1] == (None, 2)


def test_a_date_after_today_or_malformed_is_refused_in_chinese(xuanzhou_staff: Any) -> None:
    client = login(xuanzhou_staff)
    before = Upload.objects.count()
    tomorrow = today() + dt.timedelta(days=1)
    page = post(client, sheet(["身份证号", "姓名"]), as_of=tomorrow.isoformat())
    assert page.status_code == 200
    assert f"统计日期 {tomorrow.isoformat()} 晚于今天" in page.content.decode()
    page = post(client, sheet(["身份证号", "姓名"]), as_of="2019-13-45")
    assert "统计日期格式不对" in page.content.decode()
    assert Upload.objects.count() == before


def test_the_page_offers_the_date_only_for_kinds_with_a_date_column(xuanzhou_staff: Any) -> None:
    page = login(xuanzhou_staff).get("/uploads/").content.decode()
    assert 'data-kinds="' in page
    kinds = page.split('data-kinds="', 1)[1].split('"', 1)[0].split()
    assert "probe" in kinds and "probe_nodate" not in kinds
    # A kind without one ignores a date sent anyway.
    client = login(xuanzhou_staff)
    post(client, sheet(["身份证号", "姓名"]), kind="probe_nodate", as_of="2019-06-01")
    assert Upload.objects.latest("pk").as_of is None


def test_import_sheet_takes_as_of(tmp_path: Path, plan: None) -> None:
    path = tmp_path / "表.xlsx"
    path.write_bytes(sheet(["身份证号", "姓名"]))
    day = today() - dt.timedelta(days=1)
    call_command(
        "import_sheet", "probe", str(path), "--as-of", day.isoformat(), stdout=io.StringIO()
    )
    assert SEEN[-1] == (day, 2)
    call_command(
        "import_sheet",
        "probe",
        str(path),
        "--dry-run",
        "--as-of",
        day.isoformat(),
        stdout=io.StringIO(),
    )
    assert SEEN[-1] == (day, 2)
    with pytest.raises(CommandError, match="晚于今天"):
        call_command(
            "import_sheet",
            "probe",
            str(path),
            "--as-of",
            (today() + dt.timedelta(days=1)).isoformat(),
        )
    with pytest.raises(CommandError, match="日期格式不对"):
        call_command("import_sheet", "probe", str(path), "--as-of", "2019/06/01")


# --- header mappings ---------------------------------------------------------------------


def test_an_odd_header_is_mapped_remembered_and_used_for_the_units_next_upload(
    xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    client = login(xuanzhou_staff)
    post(client, sheet(["学生证件号码", "学生姓名"]))
    upload = Upload.objects.latest("pk")
    assert upload.state == "rejected" and "缺少列 身份证号" in upload.file_error
    page = client.get(f"/uploads/{upload.pk}/").content.decode()
    assert "对应列名" in page and "学生证件号码" in page
    client.post(f"/uploads/{upload.pk}/map/", {"map-0": "学生证件号码"})
    upload.refresh_from_db()
    assert upload.state == "previewed" and upload.rows_accepted == 2
    mapping = HeaderMapping.objects.get()
    assert (mapping.unit, mapping.kind, mapping.header, mapping.column) == (
        xuanzhou_staff.unit,
        "probe",
        "学生证件号码",
        "身份证号",
    )
    assert mapping.history.filter(history_type="+", history_user=xuanzhou_staff).exists()
    # The unit's next file with that header is read at once; another unit's is not.
    post(client, sheet(["学生证件号码", "学生姓名"]))
    assert Upload.objects.latest("pk").state == "previewed"
    post(login(langxi_staff), sheet(["学生证件号码", "学生姓名"]))
    assert Upload.objects.latest("pk").state == "rejected"
    # Shown on the upload page of the unit, not of the other one.
    assert "学生证件号码" in client.get("/uploads/").content.decode()
    assert "学生证件号码" not in login(langxi_staff).get("/uploads/").content.decode()


def test_a_mapping_must_pick_an_offered_header_and_can_be_removed(
    xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    client = login(xuanzhou_staff)
    post(client, sheet(["学生证件号码", "学生姓名"]))
    upload = Upload.objects.latest("pk")
    response = client.post(f"/uploads/{upload.pk}/map/", {"map-0": "随便写的列"}, follow=True)
    assert "请从页面列出的列名中选择" in response.content.decode()
    assert not HeaderMapping.objects.exists()
    # Another county may not map this county's upload.
    assert (
        login(langxi_staff)
        .post(f"/uploads/{upload.pk}/map/", {"map-0": "学生证件号码"})
        .status_code
        == 404
    )
    client.post(f"/uploads/{upload.pk}/map/", {"map-0": "学生证件号码"})
    mapping = HeaderMapping.objects.get()
    assert login(langxi_staff).post(f"/uploads/mappings/{mapping.pk}/delete/").status_code == 404
    response = client.post(f"/uploads/mappings/{mapping.pk}/delete/", follow=True)
    assert "已删除列名对应" in response.content.decode()
    assert not HeaderMapping.objects.exists()
    assert mapping.history.filter(history_type="-").exists()
    post(client, sheet(["学生证件号码", "学生姓名"]))
    assert Upload.objects.latest("pk").state == "rejected"


def test_import_sheet_uses_the_mappings_of_the_unit_it_acts_for(tmp_path: Path, plan: None) -> None:
    unit = Unit.objects.get(code="xuanzhou-jtj")
    HeaderMapping.objects.create(unit=unit, kind="probe", header="学生证件号码", column="身份证号")
    path = tmp_path / "表.xlsx"
    path.write_bytes(sheet(["学生证件号码", "学生姓名"]))
    out = io.StringIO()
    call_command("import_sheet", "probe", str(path), "--unit", "xuanzhou-jtj", stdout=out)
    assert "accepted 2, rejected 0" in out.getvalue()
    with pytest.raises(CommandError):
        call_command(
            "import_sheet", "probe", str(path), "--unit", "langxi-jtj", stdout=io.StringIO()
        )
