from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from subsidies.services import STANDARDS_FILE, standards_load


class Command(BaseCommand):
    help = "载入资助项目和资助标准（默认 fixtures/subsidies_standards_2019.json；学期由 load_plan 载入）。可重复运行。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=STANDARDS_FILE)

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        result = standards_load(path=file)
        self.stdout.write("新增：资助项目 {items}，资助标准 {standards}".format(**result.created))
        self.stdout.write("更新：资助项目 {items}，资助标准 {standards}".format(**result.updated))
