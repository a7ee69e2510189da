from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "添加演示用户和演示数据（可重复运行）。各应用的 demo.seed() 依次执行。"

    def handle(self, *args: Any, **options: Any) -> None:
        for config in apps.get_app_configs():
            if not config.path.startswith(str(settings.BASE_DIR)):
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError:
                continue
            module.seed(self.stdout)
