"""The indicator sheet: `import_sheet indicators FILE` (columns 单位, 月份, 任务序号, 指标, 数值)."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command

from tasks.demo import sheet
from tasks.models import Indicator, IndicatorValue, Unit

HEADERS = ["单位", "月份", "任务序号", "指标", "数值"]

pytestmark = pytest.mark.django_db

# The demo's day: June 2019, so May is past and July is "after today".
JUNE = time_machine.travel("2019-06-16 10:00 +0800", tick=False)


def run(tmp_path: Path, rows: list[list[Any]], unit: str = "city") -> tuple[str, bool]:
    path = tmp_path / "指标.xlsx"
    path.write_bytes(sheet(HEADERS, rows))
    out = io.StringIO()
    try:
        with JUNE:
            call_command("import_sheet", "indicators", str(path), "--unit", unit, stdout=out)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def stored() -> dict[tuple[str, str, str], Decimal]:
    return {
        (v.unit.name, f"{v.period:%Y-%m}", v.indicator.name): v.value
        for v in IndicatorValue.objects.select_related("unit", "indicator")
    }


def test_a_sheet_of_several_units_and_months_imports(plan: None, tmp_path: Path) -> None:
    out, ok = run(
        tmp_path,
        [
            ["宣州区教体局", "2019-04", 4, "培训场次", 2],
            ["宣州区教体局", "2019年5月", 4, "培训人次", 120],
            ["郎溪县", "2019-05", "任务4", "培训人次", "85人次"],
            ["市教体局计财科", "2019-05", 20, "中央资金", 35.5],
            ["宣州区语委办", "2019-03", 16, "推普培训人次", "1,250"],
        ],
    )
    assert ok, out
    assert "accepted 5, rejected 0" in out
    assert stored() == {
        ("宣州区教体局", "2019-04", "培训场次"): Decimal(2),
        ("宣州区教体局", "2019-05", "培训人次"): Decimal(120),
        ("郎溪县教体局", "2019-05", "培训人次"): Decimal(85),
        ("市教体局计财科", "2019-05", "中央资金"): Decimal("35.5"),
        ("宣州区语委办", "2019-03", "推普培训人次"): Decimal(1250),
    }
    # The history says where each value came from.
    value = IndicatorValue.objects.get(unit__code="langxi-jtj")
    assert value.history.get().history_source.startswith("上传#")


def test_the_same_sheet_again_changes_nothing_and_a_new_value_replaces_the_old(
    plan: None, tmp_path: Path
) -> None:
    rows = [["宣州区教体局", "2019-05", 4, "培训人次", 120]]
    run(tmp_path, rows)
    out, ok = run(tmp_path, rows)
    assert ok and "accepted 0" in out
    assert IndicatorValue.objects.get().history.count() == 1
    out, ok = run(tmp_path, [["宣州区教体局", "2019-05", 4, "培训人次", 130]])
    assert ok
    value = IndicatorValue.objects.get()
    assert value.value == 130
    assert [h.value for h in value.history.order_by("history_date", "history_id")] == [120, 130]


@pytest.mark.parametrize(
    ("row", "column", "why"),
    [
        (["某某单位", "2019-05", 4, "培训人次", 1], "单位", "不在单位名单中"),
        (["宣州区教体局", "2019-05", 99, "培训人次", 1], "任务序号", "任务序号应为1–22"),
        (["宣州区教体局", "2019-05", 4, "参训人数", 1], "指标", "任务4没有指标“参训人数”"),
        (["宣州区教体局", "2019-05", 4, "培训人次", "很多"], "数值", "应为数字"),
        (["宣州区教体局", "2019-05", 4, "培训人次", -3], "数值", "不能为负数"),
        (["宣州区教体局", "2019-07", 4, "培训人次", 3], "月份", "晚于当前月份"),
        (["宣州区教体局", "五月", 4, "培训人次", 3], "月份", "无法识别的月份"),
        (["宣州区教体局", "2019-05", 16, "推普培训人次", 3], "任务序号", "不是任务16的责任单位"),
        (["宣州区教体局", "2019-05", 1, "培训人次", 3], "指标", "任务1没有需要填报的指标"),
    ],
)
def test_one_bad_row_imports_nothing(
    plan: None, tmp_path: Path, row: list[Any], column: str, why: str
) -> None:
    good = ["郎溪县教体局", "2019-05", 4, "培训人次", 85]
    out, ok = run(tmp_path, [good, row, good[:3] + ["培训场次", 1]])
    assert not ok
    line = next(x for x in out.splitlines() if x.startswith("第3行"))
    assert line.startswith(f"第3行 {column}: ")
    assert why in line
    assert not IndicatorValue.objects.exists()


def test_a_duplicate_row_is_named_with_its_first_row(plan: None, tmp_path: Path) -> None:
    row = ["宣州区教体局", "2019-05", 4, "培训人次", 120]
    out, ok = run(tmp_path, [row, ["宣州区", "2019年5月", "4", "培训人次", 121]])
    assert not ok
    assert "第3行 指标: 与第2行重复" in out
    assert not IndicatorValue.objects.exists()


def test_a_county_uploads_for_its_own_units_only_and_the_refusal_names_nothing(
    plan: None, tmp_path: Path
) -> None:
    out, ok = run(
        tmp_path,
        [
            ["宣州区教体局", "2019-05", 4, "培训人次", 120],
            ["宣州区语委办", "2019-05", 16, "推普培训人次", 300],
            ["郎溪县教体局", "2019-05", 4, "培训人次", 987654],
        ],
        unit="xuanzhou-jtj",
    )
    assert not ok
    (line,) = [x for x in out.splitlines() if x.startswith("第4行")]
    assert line == "第4行 单位: 不属于本单位的管辖范围，不能上传"
    assert "郎溪" not in out and "987654" not in out
    assert not IndicatorValue.objects.exists()
    out, ok = run(tmp_path, [["宣州区语委办", "2019-05", 16, "推普培训人次", 300]], "xuanzhou-jtj")
    assert ok, out
    assert stored() == {("宣州区语委办", "2019-05", "推普培训人次"): Decimal(300)}


def test_an_indicator_switched_off_in_the_admin_is_unknown(plan: None, tmp_path: Path) -> None:
    Indicator.objects.filter(name="培训场次").update(is_active=False)
    out, ok = run(tmp_path, [["宣州区教体局", "2019-05", 4, "培训场次", 2]])
    assert not ok
    assert "第2行 指标: 任务4没有指标“培训场次”（可填：培训人次）" in out


def test_the_upload_page_offers_a_template_with_the_columns(
    plan: None, client: Any, xuanzhou_staff: Any
) -> None:
    from openpyxl import load_workbook

    client.force_login(xuanzhou_staff)
    response = client.get("/uploads/template/indicators.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in next(ws.iter_rows(max_row=1))][:5] == HEADERS
    assert Unit.objects.filter(code="xuanzhou-jtj").exists()
