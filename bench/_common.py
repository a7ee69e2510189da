"""What every benchmark shares: the database guard and the way figures are reported.

A benchmark script (bench/<name>.py) stays a plain script — `python bench/<name>.py`
prints its own lines as before — and in addition reports each figure it measures with
`figure(...)`, which writes ONE machine-readable line to stdout:

    BENCH-FIGURE {"name": "...", "value": "...", "target": "...", "met": true}

`python -m bench` (bench/__main__.py) runs every script in bench/ in order, collects
those lines and prints one table. See /tmp/iss/BENCH.md or README「性能」.

Every script accepts `--quick` (small scales, a smoke test of seconds to a minute) and
`--scale F` (a multiplier on its full size, where that makes sense), and calls
`bench_database(...)` before touching a database: a benchmark truncates and bulk-loads
tables, so it refuses any database whose name does not say it is a benchmark's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

MARK = "BENCH-FIGURE "
# A database whose name starts with one of these is a benchmark's; nothing else is touched.
PREFIXES = ("xc_bench", "bench")


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[-1].split("?", 1)[0]


def check_database(url: str) -> None:
    """Exit with a clear message unless `url` names a benchmark database (PostgreSQL)."""
    name = database_name(url)
    if not url.startswith("postgres"):
        raise SystemExit(
            f"基准测试只在 PostgreSQL 上运行（DATABASE_URL=postgres://…），收到：{url}"
        )
    if not name.startswith(PREFIXES):
        raise SystemExit(
            f"拒绝运行：数据库「{name}」不是基准测试数据库。基准测试会清空并批量写入数据表，"
            f"数据库名须以 {' 或 '.join(PREFIXES)} 开头（例如 xc_bench_omissions）；"
            "可设 BENCH_DB_PREFIX=xc_bench_<你的名字> 或该脚本的数据库环境变量。"
        )


def bench_database(suffix: str, override_env: str | None = None) -> str:
    """The URL of this script's benchmark database, checked; also set as DATABASE_URL.

    `override_env` (e.g. "BENCH_DATABASE_URL") lets a direct run name a database; otherwise
    the name is `{BENCH_DB_PREFIX or "xc_bench"}_{suffix}`, so that each script has its own
    database (they truncate the same tables) and each person their own prefix.
    """
    url = os.environ.get(override_env, "") if override_env else ""
    if not url:
        prefix = os.environ.get("BENCH_DB_PREFIX", "xc_bench")
        host = os.environ.get("BENCH_DB_HOST", "postgres://postgres@127.0.0.1:5432")
        url = f"{host}/{prefix}_{suffix}"
    check_database(url)
    os.environ["DATABASE_URL"] = url
    return url


def ensure_database(url: str) -> None:
    """Create the (checked) benchmark database if it does not exist yet."""
    import psycopg2

    check_database(url)
    name = database_name(url)
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def arguments(description: str | None = None) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark accepts."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="小规模冒烟运行")
    parser.add_argument("--scale", type=float, default=None, help="相对完整规模的倍数")
    return parser


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "?"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def figure(name: str, value: Any, target: str = "", met: bool | None = None) -> None:
    """Report one figure: `name` says what and at which scale (Chinese, as in the README),
    `value` is the formatted measurement with its unit, `target` the goal as text ("≤ 3.0×"),
    `met` whether the goal is met (None: a figure with no target, for information)."""
    line = json.dumps(
        {"name": name, "value": str(value), "target": target, "met": met}, ensure_ascii=False
    )
    sys.stdout.write(MARK + line + "\n")
    sys.stdout.flush()
