from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tasks.audit import audit_source
from tasks.clock import today
from tasks.models import County, CountyCode

from ...models import FindingKind
from ...selectors import finding_place
from ...services import crosscheck_run, registries_vacuum


def county_from(value: str) -> County:
    """A county by its code (any it ever had), slug or name."""
    code = CountyCode.objects.select_related("county").filter(code=value).first()
    if code is not None:
        return code.county
    county = County.objects.filter(slug=value).first() or County.objects.filter(name=value).first()
    if county is None:
        code = CountyCode.objects.select_related("county").filter(name=value).first()
        county = code.county if code else None
    if county is None:
        raise CommandError(f"未知的县市区：{value}（可用行政区划代码，如 341802）")
    return county


class Command(BaseCommand):
    help = "数据比对核查：比对学籍、户籍和建档立卡名册，逐条列出发现并立案（可重复运行）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--county", required=True, help="县市区行政区划代码（如 341802）、标识或名称"
        )
        parser.add_argument("--as-of", dest="as_of", help="核查日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args: Any, **options: Any) -> None:
        county = county_from(options["county"])
        try:
            as_of = dt.date.fromisoformat(options["as_of"]) if options["as_of"] else today()
        except ValueError:
            raise CommandError(f"核查日期格式应为 YYYY-MM-DD：{options['as_of']}") from None
        registries_vacuum()
        with audit_source("命令 crosscheck"):
            outcome = crosscheck_run(county=county, as_of=as_of, triggered_by="command")
        for warning in outcome.warnings:
            self.stderr.write(warning)
        for finding in outcome.findings:
            line = f"{FindingKind(finding.kind).label}\t{finding.id_number}\t{finding.name}\t{finding_place(finding)}"
            self.stdout.write(line + ("\t建档立卡" if finding.registered_poor else ""))
        self.stdout.write(
            f"{county.current_name()} {as_of:%Y-%m-%d}：发现 {len(outcome.findings)} 条，新立案 {outcome.cases_opened} 件"
        )
