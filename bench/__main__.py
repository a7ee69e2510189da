"""One command for every figure: `python -m bench [--quick] [--only a,b] [--skip c]`.

Before each script (full runs) it waits, up to --settle seconds, until the cores are
less than 25 % busy over 5 s, so one script's aftermath is not counted in the next.

Runs each benchmark script in bench/ in its own process, in ORDER and then any other
script alphabetically (a file whose name starts with "_" is a helper, not a benchmark),
passes --quick / --scale on, echoes the scripts' own output to stderr, and prints to
stdout one Markdown table — script, figure, value, target, met, the load average when the
script started — headed by the date and the load average at the start. A script that
fails, or reports no figure, gets a row saying so. Exit status 1 if any script failed.

Heavy full runs on a shared machine: wrap the whole command, e.g.
`flock /tmp/iss/bench.lock .venv/bin/python -m bench`; scripts never take the lock
themselves (a nested flock on the same file would wait for ever).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench._common import MARK, load_average  # noqa: E402

# Cheap ones first; the load test last (it starts servers and takes the machine).
ORDER = [
    "sheets_read",
    "subsidies_import",
    "subsidies_omissions",
    "figures_import",
    "dropout_crosscheck",
    "match_roster",
    "month_end",
    "load",
]


@dataclass
class Row:
    script: str
    name: str
    value: str
    target: str
    met: bool | None
    load: str


def scripts() -> list[str]:
    found = sorted(
        p.stem for p in HERE.glob("*.py") if not p.name.startswith("_") and p.stem != "__main__"
    )
    return [s for s in ORDER if s in found] + [s for s in found if s not in ORDER]


def run_one(name: str, extra: list[str], timeout: float | None) -> tuple[list[Row], str, float]:
    """Run bench/<name>.py; returns its figures, an error text ("" if it ran) and seconds."""
    load = load_average()
    started = time.perf_counter()
    command = [sys.executable, str(HERE / f"{name}.py"), *extra]
    print(
        f"\n=== {name}: {' '.join(command[1:])}（开始时负载 {load}）", file=sys.stderr, flush=True
    )
    rows: list[Row] = []
    proc = subprocess.Popen(
        command,
        cwd=HERE.parent,
        stdout=subprocess.PIPE,
        stderr=None,  # the script's own stderr goes straight through
        text=True,
        bufsize=1,
    )
    assert proc.stdout is not None
    error = ""
    deadline = time.monotonic() + timeout if timeout else None
    for line in proc.stdout:
        if line.startswith(MARK):
            try:
                data = json.loads(line[len(MARK) :])
                rows.append(
                    Row(name, data["name"], data["value"], data["target"], data["met"], load)
                )
            except (ValueError, KeyError):
                print(f"无法解析的指标行：{line.rstrip()}", file=sys.stderr)
        else:
            sys.stderr.write(line)
        if deadline and time.monotonic() > deadline:
            proc.kill()
            error = f"超时（{timeout:.0f} 秒）"
            break
    code = proc.wait()
    if code and not error:
        error = f"运行失败（退出码 {code}）"
    return rows, error, time.perf_counter() - started


def cpu_busy(seconds: float = 5.0) -> float | None:
    """Share of all cores busy over `seconds` (from /proc/stat), None where there is none."""

    def sample() -> tuple[int, int] | None:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    first = sample()
    time.sleep(seconds)
    second = sample()
    if first is None or second is None or second[0] == first[0]:
        return None
    return 1 - (second[1] - first[1]) / (second[0] - first[0])


def settle(max_seconds: float, busy_below: float = 0.25) -> str:
    """Wait until the machine is quiet before a script starts: what one script leaves
    running (PostgreSQL's autovacuum after the month-end imports, a server shutting down)
    would otherwise be counted in the next one's figures. Returns what it waited, for the
    log; gives up after `max_seconds` and says so (the table keeps the load at start)."""
    waited = 0.0
    while waited < max_seconds:
        busy = cpu_busy()
        waited += 5
        if busy is None or busy < busy_below:
            return f"等待机器空闲 {waited:.0f} 秒"
    return f"等待 {max_seconds:.0f} 秒后机器仍忙，照常开始"


def met_text(met: bool | None) -> str:
    if met is None:
        return "—"
    return "是" if met else "否（未达标）"


def table(rows: list[Row]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "| 脚本 | 指标 | 数值 | 目标 | 达标 | 开始时负载 |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                cell(x) for x in (r.script, r.name, r.value, r.target, met_text(r.met), r.load)
            )
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="运行全部基准测试，输出一张表"
    )
    parser.add_argument("--quick", action="store_true", help="小规模冒烟运行")
    parser.add_argument("--scale", type=float, default=None, help="传给每个脚本的规模倍数")
    parser.add_argument("--only", default="", help="只运行这些脚本（逗号分隔）")
    parser.add_argument("--skip", default="", help="跳过这些脚本（逗号分隔）")
    parser.add_argument("--timeout", type=float, default=None, help="每个脚本的时限（秒）")
    parser.add_argument("--list", action="store_true", help="只列出脚本")
    parser.add_argument(
        "--settle",
        type=float,
        default=300,
        help="每个脚本开始前最多等待多少秒，直到 CPU 忙碌低于 25%%（0：不等）",
    )
    args = parser.parse_args(argv)

    names = scripts()
    if args.list:
        print("\n".join(names))
        return 0
    only = {s for s in args.only.split(",") if s}
    skip = {s for s in args.skip.split(",") if s}
    unknown = (only | skip) - set(names)
    if unknown:
        parser.error(f"没有这些基准脚本：{', '.join(sorted(unknown))}（现有：{', '.join(names)}）")
    names = [n for n in names if (not only or n in only) and n not in skip]
    extra = (["--quick"] if args.quick else []) + (
        ["--scale", str(args.scale)] if args.scale is not None else []
    )

    # The wall clock on purpose: the date the figures were measured, not the app's clock.
    started_at = dt.datetime.now(dt.UTC).astimezone()
    load = load_average()
    rows: list[Row] = []
    failed = False
    for name in names:
        if args.settle > 0 and not args.quick:
            print(f"\n=== {name}: {settle(args.settle)}", file=sys.stderr, flush=True)
        found, error, seconds = run_one(name, extra, args.timeout)
        rows += found
        if error:
            failed = True
            rows.append(
                Row(
                    name,
                    "（脚本）",
                    error,
                    "正常运行",
                    False,
                    found[0].load if found else load_average(),
                )
            )
        elif not found:
            rows.append(Row(name, "（脚本）", "未报告任何指标", "报告指标", False, load_average()))
        print(f"=== {name} 用时 {seconds:.0f} 秒", file=sys.stderr, flush=True)

    mode = "快速（小规模，仅冒烟）" if args.quick else "完整规模"
    if args.scale is not None:
        mode += f"，规模倍数 {args.scale}"
    print(
        f"基准测试 {started_at:%Y-%m-%d %H:%M %Z}，{mode}；开始时负载（1/5/15 分钟）{load}；"
        f"{os.cpu_count()} 核；PostgreSQL {postgres_version()}"
    )
    print()
    print(table(rows))
    return 1 if failed else 0


def postgres_version() -> str:
    try:
        out = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-Atc",
                "SHOW server_version",
                "postgres",
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return out.stdout.strip().split(" ")[0] or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
