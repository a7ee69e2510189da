from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tasks.services import PLAN_FILE, plan_load, roles_sync, schedules_sync


class Command(BaseCommand):
    help = "载入（或重新载入）2019年工作计划、单位、截止时限和角色。重复运行不做任何改动。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=PLAN_FILE, help="计划数据文件（JSON）")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        result = plan_load(path=file)
        roles = roles_sync()
        schedules = schedules_sync()
        if result.changed_anything:
            for model, n in sorted(result.created.items()):
                self.stdout.write(f"新增 {model}: {n}")
            for model, n in sorted(result.updated.items()):
                self.stdout.write(f"更新 {model}: {n}")
        else:
            self.stdout.write("计划已是最新，未做改动。")
        if schedules:
            self.stdout.write(f"新增定时任务：{schedules}")
        self.stdout.write(f"角色：{'、'.join(f'{k}({v}项权限)' for k, v in roles.items())}")
