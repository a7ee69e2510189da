from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from tasks import roles

from ..factories import make_school, make_user

HEADER = [
    "身份证号",
    "姓名",
    "学校",
    "专业",
    "毕业时间",
    "去向",
    "就业单位",
    "就业地点",
    "岗位",
    "月收入",
    "联系电话",
]


def sheet(rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER) -> bytes:
    """An .xlsx as a county sends it: a title row above the header, a signature line below."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["宣州区建档立卡学生就业台账"])
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    ws.append(["填表人：汪老师", None, None, "审核人：", None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _demo_day(monkeypatch: pytest.MonkeyPatch) -> None:
    # The clock every date of these tests is written against (tasks.clock honours it).
    monkeypatch.setenv("XC_TODAY", "2019-06-16")


@pytest.fixture
def xuanzhou_vocational(plan: None) -> Any:
    return make_school("xuanzhou", "宣州区职业技术学校", "3134001005", ["中等职业教育"])


@pytest.fixture
def langxi_vocational(plan: None) -> Any:
    return make_school("langxi", "郎溪县职业技术学校", "3134002005", ["中等职业教育"])


@pytest.fixture
def vocational_staff(xuanzhou_vocational: Any) -> Any:
    return make_user("voc_staff", xuanzhou_vocational.code, roles.SCHOOL_STAFF)


@pytest.fixture
def import_sheet(tmp_path: Path) -> Callable[..., tuple[bool, str]]:
    """Run `import_sheet employment FILE --unit UNIT`; (succeeded, printed lines)."""

    def run(content: bytes, unit: str = "xuanzhou-jtj") -> tuple[bool, str]:
        path = tmp_path / "就业台账.xlsx"
        path.write_bytes(content)
        out = io.StringIO()
        try:
            call_command("import_sheet", "employment", str(path), "--unit", unit, stdout=out)
        except Exception:  # CommandError: the rows' messages are in the output
            return False, out.getvalue()
        return True, out.getvalue()

    return run
