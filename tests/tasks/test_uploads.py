"""The generic upload pipeline: preview, confirm, reject whole, re-upload is a no-op."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import Workbook, load_workbook

from intake import base as imports
from intake.base import ImportContext, ImportSpec, ValidationResult
from intake.models import Upload
from tasks import audit
from tasks.models import RosterSnapshot, RosterStudent
from xc_fupin.lib.idnumber import (
    IdNumberError,
    make_id_number,
    mask_id_number,
    mask_name,
    parse_id_number,
)
from xc_fupin.lib.sheets import ColumnSpec, Table

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db


class MiniRosterSpec(ImportSpec):
    """A two-column roster, enough to exercise the pipeline on its own."""

    key = "mini_roster"
    title = "测试名册"
    columns: ClassVar = [
        ColumnSpec("身份证号", ("身份证号码", "公民身份号码")),
        ColumnSpec("姓名", ("学生姓名",)),
    ]
    permission = "tasks.add_ledgerentry"
    example: ClassVar = {"身份证号": "341802201309010011", "姓名": "张三"}

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        result = ValidationResult(total=len(table.rows))
        seen: dict[str, int] = {}
        parsed = []
        for row in table.rows:
            try:
                idn = parse_id_number(row.values["身份证号"])
            except IdNumberError as exc:
                result.error(row, "身份证号", str(exc))
                continue
            if not row.values.get("姓名"):
                result.error(row, "姓名", "姓名不能为空")
                continue
            if idn.value in seen:
                result.error(row, "身份证号", f"与第{seen[idn.value]}行重复")
                continue
            seen[idn.value] = row.number
            parsed.append((row, idn))
        existing = set(
            RosterStudent.objects.filter(id_number__in=seen).values_list("id_number", flat=True)
        )
        for row, idn in parsed:
            if idn.value in existing:
                result.skip(row, "名册中已有该学生")
            else:
                result.accept(row, {"id": idn, "name": str(row.values["姓名"]).strip()})
        return result

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        snap = RosterSnapshot.objects.create(as_of=dt.date(2019, 3, 1), upload=ctx.upload)
        created = RosterStudent.objects.bulk_create(
            RosterStudent(
                id_number=r["id"].value,
                name=r["name"],
                gender=r["id"].gender,
                birth_date=r["id"].birth_date,
                county=ctx.unit.county,
                stage="小学",
                snapshot=snap,
            )
            for r in result.rows
        )
        audit.bulk_created(RosterStudent, created)
        return {"新增": len(result.rows)}

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        return [mask_id_number(clean["id"].value), mask_name(clean["name"])]


@pytest.fixture(autouse=True)
def mini_spec() -> Iterator[MiniRosterSpec]:
    spec = MiniRosterSpec()
    imports.register(spec)
    yield spec
    imports._REGISTRY.pop(spec.key, None)


def ids(n: int) -> list[str]:
    return [make_id_number("341802", dt.date(2012, 5, 1), i) for i in range(1, n + 1)]


def workbook(rows: list[list[Any]], *, title: bool = True) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    if title:
        ws.append(["宣州区2019年建档立卡学生名册"])
        ws.append(["填报单位：宣州区教体局"])
    ws.append(["序号", "公民身份号码", "学生姓名"])
    for i, r in enumerate(rows, start=1):
        ws.append([i, *r])
    ws.append(["合计", f"{len(rows)}人", None])
    ws.append(["填表人：王某", None, "审核人：李某"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def upload(client: Client, content: bytes, name: str = "名册.xlsx") -> Upload:
    response = client.post(
        "/uploads/",
        {"kind": "mini_roster", "period": "2019-05", "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Upload.objects.latest("pk")


def test_a_clean_file_is_previewed_then_applied_on_confirm(xuanzhou_staff: Any) -> None:
    client = login(xuanzhou_staff)
    up = upload(client, workbook([[i, f"学生{n}"] for n, i in enumerate(ids(3))]))
    assert (up.state, up.rows_total, up.rows_accepted, up.rows_rejected) == ("previewed", 3, 3, 0)
    assert up.period == dt.date(2019, 5, 1)
    page = client.get(f"/uploads/{up.pk}/").content.decode()
    assert "校验通过" in page and "3418**********" in page and "学*" in page
    assert not RosterStudent.objects.exists()
    client.post(f"/uploads/{up.pk}/confirm/")
    up.refresh_from_db()
    assert up.state == "applied" and up.result == {"新增": 3}
    assert RosterStudent.objects.count() == 3
    assert "导入完成：3 行已写入" in client.get(f"/uploads/{up.pk}/").content.decode()


def test_one_bad_row_rejects_the_whole_file_naming_row_and_column(xuanzhou_staff: Any) -> None:
    good = ids(3)
    bad = good[1][:-1] + ("0" if good[1][-1] != "0" else "1")
    client = login(xuanzhou_staff)
    up = upload(client, workbook([[good[0], "甲"], [bad, "乙"], [good[2], "丙"]]))
    assert up.state == "rejected" and up.rows_rejected == 1
    page = client.get(f"/uploads/{up.pk}/").content.decode()
    assert (
        "第5行" in page and "身份证号" in page and "校验位错误" in page and "未导入任何数据" in page
    )
    client.post(f"/uploads/{up.pk}/confirm/")
    up.refresh_from_db()
    assert up.state == "rejected"
    assert not RosterStudent.objects.exists()
    errors = load_workbook(io.BytesIO(client.get(f"/uploads/{up.pk}/errors.xlsx").content)).active
    assert [c.value for c in errors[2]] == [5, "身份证号", up.errors[0]["message"]]


def test_uploading_the_same_file_twice_changes_nothing_the_second_time(xuanzhou_staff: Any) -> None:
    client = login(xuanzhou_staff)
    content = workbook([[i, "同名"] for i in ids(4)])
    first = upload(client, content)
    client.post(f"/uploads/{first.pk}/confirm/")
    second = upload(client, content)
    assert (second.state, second.rows_accepted, second.rows_skipped) == ("previewed", 0, 4)
    client.post(f"/uploads/{second.pk}/confirm/")
    assert RosterStudent.objects.count() == 4
    assert RosterSnapshot.objects.count() == 2


def test_a_cancelled_upload_writes_nothing(xuanzhou_staff: Any) -> None:
    client = login(xuanzhou_staff)
    up = upload(client, workbook([[i, "某"] for i in ids(2)]))
    client.post(f"/uploads/{up.pk}/cancel/")
    up.refresh_from_db()
    assert up.state == "cancelled"
    client.post(f"/uploads/{up.pk}/confirm/")
    assert not RosterStudent.objects.exists()


def test_a_file_that_is_not_a_spreadsheet_is_refused_by_name(xuanzhou_staff: Any) -> None:
    client = login(xuanzhou_staff)
    up = upload(client, b"%PDF-1.4 not a sheet", name="扫描件.pdf")
    assert up.state == "rejected"
    assert "扫描件.pdf" in client.get(f"/uploads/{up.pk}/").content.decode()


def test_another_county_cannot_see_the_upload_or_its_file(
    xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    up = upload(login(xuanzhou_staff), workbook([[i, "某"] for i in ids(1)]))
    other = login(langxi_staff)
    for url in [
        f"/uploads/{up.pk}/",
        f"/uploads/{up.pk}/file/",
        f"/uploads/{up.pk}/errors.xlsx",
        f"/uploads/{up.pk}/status.json",
    ]:
        assert other.get(url).status_code == 404, url
    assert other.post(f"/uploads/{up.pk}/confirm/").status_code == 404
    assert "名册.xlsx" not in other.get("/uploads/").content.decode()
    up.refresh_from_db()
    assert up.state == "previewed"


def test_the_template_has_headers_an_example_and_text_ids(xuanzhou_staff: Any) -> None:
    ws = load_workbook(
        io.BytesIO(login(xuanzhou_staff).get("/uploads/template/mini_roster.xlsx").content)
    ).active
    assert [c.value for c in ws[1]] == ["身份证号", "姓名"]
    assert ws["A2"].value == "341802201309010011" and ws["A2"].number_format == "@"


def test_import_sheet_prints_each_bad_row_and_exits_1(plan: None, tmp_path: Any) -> None:
    good = ids(2)
    path = tmp_path / "名册.xlsx"
    path.write_bytes(workbook([[good[0], "甲"], [float(good[1]), "乙"]]))
    out = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_sheet", "mini_roster", str(path), "--unit", "xuanzhou-jtj", stdout=out)
    assert exc.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("第5行 身份证号: ") and "数字" in lines[0]
    assert lines[-1] == "accepted 1, rejected 1"
    assert not RosterStudent.objects.exists()


def test_import_sheet_dry_run_writes_nothing_and_a_real_run_applies(
    plan: None, tmp_path: Any
) -> None:
    path = tmp_path / "名册.xlsx"
    path.write_bytes(workbook([[i, "某"] for i in ids(3)]))
    out = io.StringIO()
    call_command(
        "import_sheet", "mini_roster", str(path), "--unit", "xuanzhou-jtj", "--dry-run", stdout=out
    )
    assert out.getvalue().splitlines()[-1] == "accepted 3, rejected 0"
    assert not RosterStudent.objects.exists() and not Upload.objects.exists()
    call_command(
        "import_sheet", "mini_roster", str(path), "--unit", "xuanzhou-jtj", stdout=io.StringIO()
    )
    assert RosterStudent.objects.filter(county__slug="xuanzhou").count() == 3
    assert Upload.objects.get().state == "applied"
