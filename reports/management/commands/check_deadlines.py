from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports import services
from tasks.clock import today as clock_today


class Command(BaseCommand):
    help = "每日截止检查：提前14/7/3/1天提醒，逾期记录并下发督办单（与 Celery 任务同一代码，可重复运行）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="按该日期检查（YYYY-MM-DD），默认今天")
        parser.add_argument("--no-mail", action="store_true", help="只写数据库，不发邮件")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = dt.date.fromisoformat(options["today"]) if options["today"] else clock_today()
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{options['today']}") from exc
        result = services.deadlines_check(today=day, send=not options["no_mail"])
        for line in result.lines():
            self.stdout.write(line)
