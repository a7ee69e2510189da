"""The inspection archive (task 22): the page, the .zip and its table of contents."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from inspections import services as inspection_services
from inspections.models import Inspection
from tasks import services
from tasks.models import LedgerEntry, Task, Unit

pytestmark = pytest.mark.django_db


def at(day: str) -> Any:
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T10:00:00+08:00"), tick=False)


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def entry(
    user: Any, unit_code: str, month: str, text: str, *files: tuple[str, bytes]
) -> LedgerEntry:
    with at(f"{month}-28"):
        return services.ledger_entry_submit(
            user=user,
            task=Task.objects.get(number=5),
            unit=Unit.objects.get(code=unit_code),
            period=dt.date.fromisoformat(f"{month}-01"),
            status=LedgerEntry.Status.IN_PROGRESS,
            narrative=text,
            files=[SimpleUploadedFile(n, b, "application/pdf") for n, b in files],
        )


@pytest.fixture
def ledger(xuanzhou_staff: Any, langxi_staff: Any) -> None:
    entry(
        xuanzhou_staff,
        "xuanzhou-jtj",
        "2019-04",
        "四月统计已上报",
        ("四月统计表.pdf", b"%PDF april"),
    )
    entry(
        xuanzhou_staff,
        "xuanzhou-jtj",
        "2019-05",
        "五月统计已上报",
        ("五月统计表.pdf", b"%PDF may"),
        ("签字页.pdf", b"%PDF sign"),
    )
    entry(langxi_staff, "langxi-jtj", "2019-05", "郎溪五月统计", ("郎溪统计.pdf", b"%PDF langxi"))


def download(client: Client, **query: str) -> tuple[zipfile.ZipFile, list[tuple[Any, ...]]]:
    with at("2019-06-16"):
        response = client.get("/archive/download.zip", query)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    data = response.getvalue()  # the streamed zip, read whole (StreamingHttpResponse)
    zf = zipfile.ZipFile(io.BytesIO(data))
    toc = load_workbook(io.BytesIO(zf.read("目录.xlsx")), read_only=True)
    rows = list(toc.worksheets[0].iter_rows(values_only=True))
    return zf, rows


def test_the_zip_for_a_task_and_unit_holds_its_files_and_a_chinese_toc(
    ledger: None, xuanzhou_staff: Any
) -> None:
    unit = Unit.objects.get(code="xuanzhou-jtj")
    task = Task.objects.get(number=5)
    zf, rows = download(
        login(xuanzhou_staff), task=str(task.pk), unit=str(unit.pk), start="2019-03", end="2019-05"
    )
    assert rows[0][:7] == ("序号", "类别", "任务", "单位", "月份", "文件名/说明", "状态")
    ledger_rows = [r for r in rows if r[1] == "台账记录"]
    assert [r[4] for r in ledger_rows] == ["2019年4月", "2019年5月"]
    assert all(r[3] == unit.display_name for r in ledger_rows)
    # Every file row names its place in the zip, and the file is there with its bytes.
    files = {r[5]: r[7] for r in rows if r[1] == "附件"}
    assert set(files) == {"四月统计表.pdf", "五月统计表.pdf", "签字页.pdf"}
    assert zf.read(files["签字页.pdf"]) == b"%PDF sign"
    assert files["五月统计表.pdf"].startswith("台账记录/任务05 ")
    assert f"/{unit.display_name}/" in files["五月统计表.pdf"]
    # March was due and has no entry: marked missing in the table of contents.
    missing = [r for r in rows if r[1] == "缺报"]
    assert [(r[4], r[6]) for r in missing] == [("2019年3月", "未填报")]
    # Another county's entry is not in it.
    assert not any("郎溪" in n for n in zf.namelist())


def test_a_county_never_gets_another_countys_files(ledger: None, xuanzhou_staff: Any) -> None:
    langxi = Unit.objects.get(code="langxi-jtj")
    client = login(xuanzhou_staff)
    zf, rows = download(client, unit=str(langxi.pk), start="2019-04", end="2019-05")
    names = " ".join(zf.namelist()) + " ".join(str(c) for r in rows for c in r)
    assert "郎溪" not in names
    with at("2019-06-16"):
        page = client.get("/archive/", {"unit": str(langxi.pk)})
    text = page.content.decode()
    assert "无效，已忽略" in text and "郎溪统计" not in text


def test_the_city_sees_every_unit_and_the_page_marks_missing_months(
    ledger: None, city_reviewer: Any
) -> None:
    task = Task.objects.get(number=5)
    with at("2019-06-16"):
        page = login(city_reviewer).get(
            "/archive/", {"task": str(task.pk), "start": "2019-04", "end": "2019-05"}
        )
    text = page.content.decode()
    assert "五月统计已上报" in text and "郎溪五月统计" in text
    assert "缺报月份" in text
    # 郎溪 sent May only: its April is missing.
    gaps = page.context["archive"].gaps
    langxi = next(g for g in gaps if g.unit.code == "langxi-jtj")
    assert langxi.months == [dt.date(2019, 4, 1)]


def test_a_bad_month_is_named_on_the_page(city_reviewer: Any) -> None:
    with at("2019-06-16"):
        page = login(city_reviewer).get("/archive/", {"start": "2019-13", "end": "五月"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "起始月份" in text and "无效，已忽略" in text


def test_rectification_items_and_their_evidence_are_in_the_archive(
    city_reviewer: Any, xuanzhou_staff: Any
) -> None:
    xuanzhou = Unit.objects.get(code="xuanzhou-jtj")
    with at("2019-05-21"):
        inspection = inspection_services.inspection_create(
            user=city_reviewer,
            kind=Inspection.Kind.UNANNOUNCED,
            visited_on=dt.date(2019, 5, 20),
            team="市教体局暗访组",
            places="宣州区水东镇",
            units=[xuanzhou],
            findings=[
                inspection_services.FindingData(
                    xuanzhou, "结果告知", "三户家庭未收到告知单", "补发告知单", dt.date(2019, 6, 10)
                )
            ],
        )
    item = inspection.items.get()
    with at("2019-06-01"):
        inspection_services.item_answer(
            user=xuanzhou_staff,
            item=item,
            answer="已补发并签收",
            files=[SimpleUploadedFile("签收单.jpg", b"\xff\xd8jpeg", "image/jpeg")],
        )
    task = Task.objects.get(number=21)
    zf, rows = download(login(xuanzhou_staff), task=str(task.pk), start="2019-05", end="2019-05")
    items = [r for r in rows if r[1] == "整改事项"]
    assert len(items) == 1 and items[0][6] == "已报告"
    path = next(r[7] for r in rows if r[5] == "签收单.jpg")
    assert path.startswith("整改事项/任务21 ") and zf.read(path) == b"\xff\xd8jpeg"
