"""manage.py match_roster --semester 2019秋 [--county 宣州区|341802|xuanzhou]"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from tasks.audit import audit_source
from tasks.models import County
from tasks.scoping import EVERYTHING
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from ...models import FindingKind, MatchFinding
from ...services import roster_match, semester_get


def county_get(text: str) -> County:
    key = text.strip()
    found = County.objects.filter(
        Q(slug=key) | Q(name=key) | Q(codes__code=key) | Q(codes__name=key)
    ).distinct()
    if len(found) != 1:
        names = "、".join(c.current_name() for c in County.objects.order_by("order"))
        raise CommandError(f"无法识别的县市区：{text}（可填：{names}，或行政区划代码）")
    return found[0]


class Command(BaseCommand):
    help = "按学期比对扶贫建档立卡人口与学籍，生成资助名册，列出未匹配与学段不符的人员"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--semester", required=True, help="学期，如 2019秋")
        parser.add_argument("--county", help="只比对一个县市区（名称、代码或标识）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            semester = semester_get(options["semester"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        county = county_get(options["county"]) if options.get("county") else None
        with audit_source("命令 match_roster"):
            outcome = roster_match(semester=semester, scope=EVERYTHING, county=county)
        findings = (
            MatchFinding.objects.filter(
                semester=semester,
                county__in=outcome.counties,
                kind__in=[FindingKind.UNMATCHED, FindingKind.STAGE_MISMATCH],
            )
            .select_related("county", "school")
            .order_by("county__order", "-kind", "id_number")
        )
        for f in findings.iterator(chunk_size=2000):
            label = "未匹配" if f.kind == FindingKind.UNMATCHED else "学段不符"
            where = f" {f.school.name}" if f.school is not None else ""
            self.stdout.write(
                f"{label} {f.county.current_name()} {mask_id_number(f.id_number)} "
                f"{mask_name(f.name)} {f.school_status}{where}：{f.reason}"
            )
        self.stdout.write(outcome.summary())
