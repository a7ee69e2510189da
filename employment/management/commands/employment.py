from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tasks.clock import today
from tasks.models import County, CountyCode
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from ...models import GUIDANCE_DAYS, Graduate
from ...selectors import summary


def county_from(value: str) -> County:
    """A county by any code it ever had, its slug or its name."""
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
    help = (
        "建档立卡学生就业台账：逐行列出未就业的毕业生（身份证号脱敏），"
        "最后一行为人数统计。只读，可重复运行。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--county", help="县市区行政区划代码（如 341802）、标识或名称")

    def handle(self, *args: Any, **options: Any) -> None:
        day = today()
        qs = Graduate.objects.select_related("school", "county")
        if options["county"]:
            qs = qs.filter(county=county_from(options["county"]))
        for g in qs.not_employed().order_by("county__order", "school__order", "id_number"):
            flag = f"\t{GUIDANCE_DAYS}天未指导" if g.needs_guidance(day) else ""
            last = f"{g.last_guidance_on:%Y-%m-%d}" if g.last_guidance_on else "无"
            self.stdout.write(
                f"{mask_id_number(g.id_number)}\t{mask_name(g.name)}\t{g.school.name}\t"
                f"{g.major}\t毕业 {g.graduation_date:%Y-%m-%d}\t最近指导 {last}{flag}"
            )
        counts = summary(qs, day)
        self.stdout.write(
            f"graduates {counts.total}, employed {counts.employed}, "
            f"not employed {counts.not_employed}, "
            f"without guidance in {GUIDANCE_DAYS} days {counts.flagged}"
        )
