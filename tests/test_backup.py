"""A backup made with backup_db restores into a fresh database with the same rows."""

from __future__ import annotations

import io
from typing import Any

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection

from tasks.models import LedgerEntry, Task

from .factories import make_entry


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_a_new_database(xuanzhou_staff: Any, tmp_path: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump/pg_restore need PostgreSQL")
    make_entry(5, "xuanzhou-jtj", xuanzhou_staff, narrative="备份前的台账")
    dump = tmp_path / "backup.dump"
    call_command("backup_db", str(dump), stdout=io.StringIO())
    assert dump.stat().st_size > 10_000
    db = connection.settings_dict
    target = f"{db['NAME']}_restored"
    params = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "dbname": "postgres",
    }
    admin = psycopg2.connect(**params)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{target}"')
    try:
        call_command("restore_db", str(dump), "--into", target, stdout=io.StringIO())
        restored = psycopg2.connect(**{**params, "dbname": target})
        with restored.cursor() as cur:
            cur.execute("SELECT count(*) FROM tasks_task")
            assert cur.fetchone() == (Task.objects.count(),)
            cur.execute("SELECT narrative FROM tasks_ledgerentry")
            assert cur.fetchall() == [("备份前的台账",)]
            cur.execute("SELECT count(*) FROM tasks_historicalledgerentry")
            assert cur.fetchone() == (LedgerEntry.history.count(),)
        restored.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{target}"')
        admin.close()


@pytest.mark.django_db
def test_restore_refuses_the_live_database(plan: None, tmp_path: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不能恢复到当前正在使用的数据库"):
        call_command(
            "restore_db", str(tmp_path / "x.dump"), "--into", connection.settings_dict["NAME"]
        )
