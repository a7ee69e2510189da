from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from tasks.figures import figures_warm_changed


class Command(BaseCommand):
    help = "重算数据已变化的看板统计并写入缓存（与定时任务 figures_warm_job 相同）。"

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        warmed = figures_warm_changed()
        took = time.perf_counter() - started
        self.stdout.write(f"已预热：{'、'.join(warmed) or '无（数据未变化）'}（{took:.1f} 秒）")
