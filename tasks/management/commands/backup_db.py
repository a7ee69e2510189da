from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections


def pg_env(db: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore; the password goes in PGPASSWORD, not argv."""
    args = [
        "-h",
        db.get("HOST") or "127.0.0.1",
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        db.get("USER") or "postgres",
    ]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


class Command(BaseCommand):
    help = (
        "备份数据库到一个文件。PostgreSQL 用 pg_dump 自定义格式（-Fc，可用 restore_db 或 pg_restore 恢复）；"
        "SQLite 用在线备份接口。上传的原始文件在 MEDIA_ROOT，请一并备份。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="备份文件路径，如 backup-20190616.dump")

    def handle(self, *args: Any, out: Path, **options: Any) -> None:
        db = connections["default"].settings_dict
        vendor = connections["default"].vendor
        if vendor == "postgresql":
            if not shutil.which("pg_dump"):
                raise CommandError("找不到 pg_dump：请安装 PostgreSQL 客户端（postgresql-client）")
            conn_args, env = pg_env(db)
            cmd = ["pg_dump", *conn_args, "-Fc", "--no-owner", "-f", str(out), db["NAME"]]
            result = subprocess.run(cmd, env=env, capture_output=True, text=True)  # noqa: S603
            if result.returncode != 0:
                raise CommandError(f"pg_dump 失败：{result.stderr.strip()}")
        elif vendor == "sqlite":
            source = sqlite3.connect(db["NAME"])
            target = sqlite3.connect(out)
            with target:
                source.backup(target)
            source.close()
            target.close()
        else:
            raise CommandError(f"不支持的数据库：{vendor}")
        self.stdout.write(f"已备份到 {out}（{out.stat().st_size} 字节）")
