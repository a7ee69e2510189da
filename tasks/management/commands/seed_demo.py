from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tasks.services import app_modules


class Command(BaseCommand):
    help = "添加演示用户和演示数据（可重复运行）。各应用的 demo.seed() 依次执行。"

    def handle(self, *args: Any, **options: Any) -> None:
        for module in app_modules("demo"):
            module.seed(self.stdout)
