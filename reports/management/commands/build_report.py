from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports import build
from reports.models import Report
from reports.periods import parse_month, parse_quarter


class Command(BaseCommand):
    help = "生成月点评（monthly 2019-05）或季通报（quarterly 2019Q2），打印写出的文件路径。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["monthly", "quarterly"])
        parser.add_argument("period", help="2019-05 或 2019Q2")
        parser.add_argument(
            "--regenerate", action="store_true", help="重新生成草稿（已印发的不会改变）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        try:
            start = (
                parse_month(options["period"])
                if kind == "monthly"
                else parse_quarter(options["period"])
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        before = (
            Report.objects.filter(kind=kind, period=start)
            .values_list("generated_at", flat=True)
            .first()
        )
        report = build.report_build(kind=kind, period=start, force=options["regenerate"])
        changed = report.generated_at != before
        self.stdout.write(
            f"{report.title}（{report.get_state_display()}）{'已生成' if changed else '未变化（已生成过）'}"
        )
        for path in build.report_paths(report):
            self.stdout.write(path)
