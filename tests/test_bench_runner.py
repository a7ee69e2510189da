"""`python -m bench`: one table of every figure, and no benchmark against a real database.

Runs the runner for real, in quick mode, on the one benchmark that needs no database (a
few seconds); the database benchmarks are only checked to refuse a database whose name
does not say it is a benchmark's, which they do before connecting.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_the_runner_prints_one_table_with_every_figure_a_script_reports() -> None:
    out = run("-m", "bench", "--quick", "--only", "sheets_read")
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert "开始时负载" in lines[0] and "快速" in lines[0]  # the date, mode and load average
    assert "| 脚本 | 指标 | 数值 | 目标 | 达标 | 开始时负载 |" in lines
    rows = [line for line in lines if line.startswith("| sheets_read |")]
    # Both figures sheets_read reports, each in its own row, with its value.
    assert len(rows) == 2
    assert all("read_table" in r and "秒" in r for r in rows)


def test_every_benchmark_script_is_run_and_listed() -> None:
    listed = run("-m", "bench", "--list").stdout.split()
    scripts = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))
    assert sorted(listed) == scripts
    assert {"subsidies_omissions", "subsidies_import", "figures_import"} <= set(listed)


def test_a_benchmark_refuses_a_database_that_is_not_a_benchmarks() -> None:
    env = {"BENCH_DB_PREFIX": "xc_main", "BENCH_DATABASE_URL": ""}
    for script in ("subsidies_omissions", "subsidies_import", "figures_import"):
        out = run(f"bench/{script}.py", "--quick", env=env)
        assert out.returncode != 0
        assert "不是基准测试数据库" in out.stderr, (script, out.stderr[-500:])
    # Through the runner: the table says the script failed, and the exit status too.
    out = run("-m", "bench", "--quick", "--only", "subsidies_omissions", env=env)
    assert out.returncode == 1
    assert "| subsidies_omissions | （脚本） | 运行失败" in out.stdout
