from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from .backup_db import pg_env


class Command(BaseCommand):
    help = (
        "把 backup_db 生成的备份恢复到一个新的 PostgreSQL 数据库（--into 名称，须不存在或为空），"
        "核对无误后再切换 DATABASE_URL。为避免误覆盖，不恢复到当前正在使用的数据库。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dump", type=Path)
        parser.add_argument("--into", required=True, help="目标数据库名")

    def handle(self, *args: Any, dump: Path, into: str, **options: Any) -> None:
        conn = connections["default"]
        if conn.vendor != "postgresql":
            raise CommandError(
                "restore_db 只用于 PostgreSQL；SQLite 备份本身就是一个可直接使用的数据库文件。"
            )
        db = conn.settings_dict
        if into == db["NAME"]:
            raise CommandError("不能恢复到当前正在使用的数据库，请指定一个新的数据库名。")
        if not dump.exists():
            raise CommandError(f"备份文件不存在：{dump}")
        if not shutil.which("pg_restore"):
            raise CommandError("找不到 pg_restore：请安装 PostgreSQL 客户端（postgresql-client）")
        conn_args, env = pg_env(db)
        createdb = shutil.which("createdb") or "createdb"
        # Arguments are a list (no shell); `into` is a database name an administrator typed.
        cmd_create = [createdb, *conn_args, into]
        created = subprocess.run(cmd_create, env=env, capture_output=True, text=True)  # noqa: S603
        if created.returncode != 0 and "already exists" not in created.stderr:
            raise CommandError(f"创建数据库失败：{created.stderr.strip()}")
        cmd = ["pg_restore", *conn_args, "--no-owner", "--exit-on-error", "-d", into, str(dump)]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)  # noqa: S603
        if result.returncode != 0:
            raise CommandError(f"pg_restore 失败：{result.stderr.strip()}")
        self.stdout.write(f"已恢复到数据库 {into}")
