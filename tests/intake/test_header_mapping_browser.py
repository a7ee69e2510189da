"""A file with an odd header, in Chromium: map it on the preview, apply, the next upload
uses the mapping, remove it on the upload page (issue 11 item 6)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from intake import base
from intake.models import HeaderMapping, Upload

from ..browser import login, shot
from .test_upload_options import NoDateSpec, ProbeSpec, sheet

pytestmark = pytest.mark.browser


@pytest.fixture
def probe_specs() -> Iterator[None]:
    for spec in (ProbeSpec(), NoDateSpec()):
        base.register(spec)
    yield
    for key in ("probe", "probe_nodate"):
        base._REGISTRY.pop(key, None)


def send(page: Any, live_server: Any, path: Path) -> None:
    page.goto(f"{live_server.url}/uploads/")
    page.select_option("#id_kind", "probe")
    page.fill("#id_period", "2019-05")
    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_url("**/uploads/*/")


def test_an_odd_header_is_mapped_on_the_preview_and_remembered(
    page: Any,
    live_server: Any,
    transactional_db: Any,
    xuanzhou_staff: Any,
    probe_specs: None,
    tmp_path: Path,
) -> None:
    path = tmp_path / "名册.xlsx"
    path.write_bytes(sheet(["学生证件号码", "学生姓名"]))
    login(page, live_server, xuanzhou_staff)
    page.goto(f"{live_server.url}/uploads/")
    # The 统计日期 field appears for a kind with a date column only.
    page.select_option("#id_kind", "probe_nodate")
    assert not page.is_visible("#id_as_of")
    page.select_option("#id_kind", "probe")
    assert page.is_visible("#id_as_of")
    send(page, live_server, path)
    assert "缺少列 身份证号" in page.content()
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"upload-map-headers-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.select_option("#map-0", "学生证件号码")
    page.get_by_role("button", name="保存对应并重新校验").click()
    page.get_by_text("已记住列名对应").wait_for()
    assert "校验通过" in page.content()
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("导入完成：2 行已写入").wait_for()
    assert Upload.objects.latest("pk").state == "applied"

    # The next file with the same header is read at once.
    send(page, live_server, path)
    assert "校验通过" in page.content()

    # Shown on the upload page, and removable there.
    page.goto(f"{live_server.url}/uploads/")
    table = page.locator("#header-mappings")
    assert "学生证件号码" in table.inner_text() and "身份证号" in table.inner_text()
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"upload-header-mappings-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    table.get_by_role("button", name="删除").click()
    page.get_by_text("已删除列名对应").wait_for()
    assert not HeaderMapping.objects.exists()
    assert page.locator("#header-mappings").count() == 0
    send(page, live_server, path)
    assert "对应列名" in page.content()
