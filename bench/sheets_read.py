"""Benchmark: read_table on a 100,000-row, 7-column disbursement .xlsx (not a test).

    .venv/bin/python bench/sheets_read.py [--runs 9] [--before REV]

Writes the workbook once to $TMPDIR/xc_bench_sheets_100k.xlsx (openpyxl write-only: a
title row, alias headers, amounts as numbers and as text, dates as text, a 合计 row and a
signature line), then times `read_table` on it. With --before REV, the sheets.py of that
git revision is loaded too and the two are run alternately, so that load from other
processes on the machine falls on both alike. Prints every run, the best and the median
wall-clock time, and the median CPU time (this process plus the forked reader).
Needs no database.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xc_fupin.settings")

ROWS = 100_000
PATH = Path(tempfile.gettempdir()) / "xc_bench_sheets_100k.xlsx"


def generate() -> None:
    from openpyxl import Workbook

    from xc_fupin.lib.idnumber import make_id_number

    areas = ["341802", "341821", "341822", "341823", "341824", "341825", "341881"]
    schools = [f"宣城市第{n}中学" for n in range(35)]
    items = ["义务教育家庭经济困难学生生活补助", "普通高中国家助学金", "中职国家助学金"]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("发放明细")
    sheet.append(["宣城市2019年春季学期学生资助发放明细表"])
    sheet.append(
        ["公民身份号码", "学生姓名", "学校名称", "资助项目", "学期", "发放金额(元)", "发放时间"]
    )
    for n in range(ROWS):
        ident = make_id_number(areas[n % 7], date(2005, 1, 1).replace(day=1 + n % 28), n % 1000)
        amount: object = 625.0 if n % 3 else "625元"
        paid = f"2019.6.{1 + n % 14}" if n % 2 else f"2019年6月{1 + n % 14}日"
        sheet.append([ident, f"学生{n}", schools[n % 35], items[n % 3], "2019春", amount, paid])
    sheet.append(["合计", None, None, None, None, 62_500_000, None])
    sheet.append(["填表人：张三", None, None, "审核人：李四", None, None, None])
    workbook.save(PATH)


def load_revision(revision: str) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{revision}:xc_fupin/lib/sheets.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    path = Path(tempfile.gettempdir()) / f"xc_sheets_{revision.replace('/', '_')}.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location(f"sheets_{revision}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def cpu_seconds() -> float:
    """User and system time of this process and of its reaped children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def main() -> None:
    global ROWS, PATH
    from bench._common import arguments

    parser = arguments(__doc__)  # --quick / --scale, as every benchmark (python -m bench)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--before", help="a git revision to compare with, e.g. HEAD")
    options = parser.parse_args()
    scale = 0.02 if options.quick else (options.scale or 1.0)
    if scale != 1.0:
        ROWS = max(100, int(ROWS * scale))
        PATH = PATH.with_name(f"xc_bench_sheets_{ROWS}.xlsx")
        options.runs = min(options.runs, 3)

    import django

    django.setup()
    from xc_fupin.lib import sheets

    if not PATH.exists():
        generate()
    candidates: dict[str, ModuleType] = {}
    if options.before:
        candidates[f"before ({options.before})"] = load_revision(options.before)
    candidates["now"] = sheets
    times: dict[str, list[float]] = {name: [] for name in candidates}
    cpu: dict[str, list[float]] = {name: [] for name in candidates}
    for _run in range(options.runs):
        for name, module in candidates.items():
            columns = [
                module.ColumnSpec("身份证号", ("身份证号码", "公民身份号码")),
                module.ColumnSpec("姓名", ("学生姓名",)),
                module.ColumnSpec("就读学校", ("学校", "学校名称")),
                module.ColumnSpec("资助项目"),
                module.ColumnSpec("学期"),
                module.ColumnSpec("金额(元)", ("金额", "发放金额(元)")),
                module.ColumnSpec("发放日期", ("发放时间",), required=False),
            ]
            start, start_cpu = time.perf_counter(), cpu_seconds()
            table = module.read_table(PATH, filename=PATH.name, columns=columns)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(cpu_seconds() - start_cpu)
            assert len(table.rows) == ROWS, len(table.rows)
            del table
    print(f"{PATH.name}: {PATH.stat().st_size / 1048576:.1f} MB, {ROWS:,} rows x 7 columns")
    for name, spent in times.items():
        print(
            f"{name:>14}: best {min(spent):.3f} s, median {statistics.median(spent):.3f} s  ["
            + " ".join(f"{t:.3f}" for t in spent)
            + f"]; CPU (this process and the reader) median {statistics.median(cpu[name]):.3f} s"
        )
    from bench._common import figure

    spent = times["now"]
    figure(
        f"read_table 读取 {ROWS:,} 行×7列 .xlsx（{options.runs} 次最佳）", f"{min(spent):.3f} 秒"
    )
    figure(f"read_table 读取 {ROWS:,} 行×7列 .xlsx（中位）", f"{statistics.median(spent):.3f} 秒")


if __name__ == "__main__":
    main()
