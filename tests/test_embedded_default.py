"""The first README command runs on embedded defaults: SQLite in ./var. The suite itself
runs on PostgreSQL in CI, so this test installs the demo on a fresh SQLite file the way
`scripts/run` does — `migrate`, `load_plan`, `seed_demo` — in a child process: raw SQL
that only PostgreSQL takes (a collation, an OFFSET without LIMIT) stops it here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_installs_on_a_fresh_sqlite_database(tmp_path: Any) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "XC_TODAY": "2019-06-16",
        "XC_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "CELERY_BROKER_URL": "filesystem://",  # the embedded broker, under XC_VAR_DIR
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    outputs = []
    for command in (["migrate", "-v0"], ["load_plan"], ["seed_demo"]):
        done = subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"{command}: {done.stderr[-2000:]}"
        outputs.append(done.stdout)
    # Every app's demo ran to its end, the roster matching and cross-check included.
    for line in ("名册比对演示", "控辍保学演示数据", "就业台账", "月报演示"):
        assert line in outputs[-1]
