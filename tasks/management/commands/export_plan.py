from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tasks.clock import today
from tasks.indicators import SUMMARY_HEADERS, summary_rows
from tasks.selectors import BREAKDOWN_HEADERS, plan_breakdown_rows
from xc_fupin.lib.export import write_xlsx


class Command(BaseCommand):
    help = (
        "导出任务分解表（.xlsx）：序号、任务组、任务内容、牵头单位、配合单位、完成时限；"
        "另一张表“指标汇总”为各任务指标本年截至当月的全市合计。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="输出文件，如 任务分解表.xlsx")

    def handle(self, *args: Any, out: Path, **options: Any) -> None:
        rows = list(plan_breakdown_rows())
        totals = summary_rows(today())
        write_xlsx(
            out,
            [("任务分解表", BREAKDOWN_HEADERS, rows), ("指标汇总", SUMMARY_HEADERS, totals)],
            column_widths={"指标": 24},
        )
        self.stdout.write(f"已写入 {out}（{len(rows)} 项任务，{len(totals)} 项指标）")
