from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from intake.columns import CountyParser
from subsidies import selectors, services
from subsidies.models import Semester
from tasks.scoping import EVERYTHING


class Command(BaseCommand):
    help = "查遗补漏：列出某学期的遗漏、未按最高档和超时限发放，每行一条，最后一行为条数。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--semester", required=True, help="学期，如 2019春")
        parser.add_argument("--county", help="县区名称或行政区划代码，如 341802 或 宣州区")
        parser.add_argument(
            "--kind",
            default="all",
            choices=["all", *selectors.KINDS],
            help="all=三类问题（默认）；unowed、offroster 为另列的项目不符和非名册发放",
        )
        parser.add_argument("--xlsx", type=Path, help="同时写出 .xlsx 文件")
        parser.add_argument("--full-ids", action="store_true", help="显示完整身份证号（默认脱敏）")

    def handle(
        self,
        *args: Any,
        semester: str,
        county: str | None,
        kind: str,
        xlsx: Path | None,
        full_ids: bool,
        **options: Any,
    ) -> None:
        found = Semester.objects.filter(code=semester).first()
        if found is None:
            known = "、".join(Semester.objects.values_list("code", flat=True))
            raise CommandError(f"未知学期：{semester}（已有：{known}）")
        county_id = None
        if county:
            try:
                county_id = CountyParser().bind(None)(county).pk
            except ValueError as e:
                raise CommandError(str(e)) from None
        filters = selectors.OmissionFilters(county_id=county_id)
        rows = list(
            selectors.omission_rows(semester=found, scope=EVERYTHING, filters=filters, kind=kind)
        )
        for r in rows:
            ident = r.id_number if full_ids else services.mask_id_number(r.id_number)
            name = r.name if full_ids else services.mask_name(r.name)
            paid = f"已发{r.amount:.2f}元 {r.paid_on}" if r.amount is not None else "未发放"
            top = f"最高档{r.top:.2f}元" if r.top is not None else ""
            self.stdout.write(
                f"{'、'.join(r.labels)}\t{r.county_name}\t{r.school_name}\t{name}\t{ident}\t{r.stage or ''}\t{r.item_name}\t{top}\t{paid}"
            )
        if xlsx is not None:
            services.omissions_xlsx(rows=rows, target=xlsx, full_ids=full_ids)
        self.stdout.write(f"共 {len(rows)} 条")
