"""Benchmark: importing a 100,000-row disbursement .xlsx.

Generates the file with openpyxl (write_only; a title row, alias headers, dates typed as
text, amounts as numbers and as text with 元, a 合计 row and signature lines), then in one
run measures:

  (c) the validated pipeline: lib.sheets.read_table + DisbursementsSpec.validate +
      DisbursementsSpec.apply inside one transaction (COPY on PostgreSQL), including the
      audit trail's historical row for every payment;
  (a) openpyxl's bare read of the same file in read-only mode (iterating every value);
  (b) django-import-export's default ModelResource import of the same rows into the same
      table, measured on a 5,000-row subset and extrapolated linearly (said so in the output),
      with history recording off (the baseline as defined before the audit trail existed;
      with it on, each save also writes a historical row and (b) is slower still).

Prints the ratios (c)/(a) and (b)/(c) and the peak memory after (c) (ru_maxrss). Targets:
(c) faster than (a); (b)/(c) >= 30; peak < 500 MB.

    BENCH_DB_PREFIX=xc_bench .venv/bin/python bench/subsidies_import.py [--quick] [--scale F]

Database: {BENCH_DB_PREFIX}_import (or BENCH_DATABASE_URL), refused unless its name says it
is a benchmark's (bench/_common.py).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xc_fupin.settings")

from bench._common import arguments, bench_database, ensure_database, figure  # noqa: E402

ROWS = 100_000
SUBSET = 5_000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    global ROWS, SUBSET
    args = arguments(__doc__).parse_args()
    scale = 0.02 if args.quick else (args.scale or 1.0)
    ROWS, SUBSET = max(100, int(ROWS * scale)), max(50, int(SUBSET * scale))
    url = bench_database("import", override_env="BENCH_DATABASE_URL")
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import override_settings
    from openpyxl import Workbook, load_workbook
    from tablib import Dataset

    from intake.base import ImportContext
    from subsidies.imports import DisbursementsSpec
    from subsidies.lookups import semester_rules
    from subsidies.models import Disbursement, Semester, SubsidyItem
    from subsidies.resources import PlainDisbursementResource
    from subsidies.services import standards_load
    from tasks.models import County, RosterSnapshot, RosterStudent, School, Unit
    from tasks.scoping import EVERYTHING
    from tasks.services import plan_load
    from xc_fupin.lib.idnumber import make_id_number
    from xc_fupin.lib.sheets import read_table

    call_command("migrate", "tasks", verbosity=0)
    call_command("migrate", "subsidies", verbosity=0)
    plan_load()
    standards_load()

    def clear_payments() -> None:
        # Raw deletes: the ORM's would collect rows and record a '-' history row each.
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {Disbursement._meta.db_table}")
            cur.execute(f"DELETE FROM {Disbursement.history.model._meta.db_table}")

    def clear_roster() -> None:
        with connection.cursor() as cur:
            cur.execute(
                f"DELETE FROM {RosterStudent._meta.db_table} WHERE snapshot_id IN "
                f"(SELECT id FROM {RosterSnapshot._meta.db_table} WHERE source = 'bench-import')"
            )

    clear_payments()
    clear_roster()
    counties = list(County.objects.prefetch_related("codes").order_by("order"))
    schools = []
    for county in counties:
        parent = Unit.objects.get(code=f"{county.slug}-jtj")
        for i, stages in enumerate(
            [["小学"], ["初中"], ["普通高中"], ["中等职业教育"], ["学前教育"]]
        ):
            school, _ = School.objects.get_or_create(
                code=f"bench-import-{county.slug}-{i}",
                defaults={
                    "name": f"{county.current_name()}导入测试学校{i}",
                    "school_code": f"8{county.order:02d}{i:05d}",
                    "county": county,
                    "stages": stages,
                    "parent": parent,
                },
            )
            schools.append(school)
    semester = Semester.objects.get(code="2019春")
    rules = semester_rules(semester)
    items = {i.pk: i.name for i in SubsidyItem.objects.all()}
    by_stage: dict[str, Any] = {}
    for rule in rules:
        if not rule.boarding:
            by_stage.setdefault(rule.stage, rule)

    def row(n: int) -> tuple:  # type: ignore[type-arg]
        school = schools[n % len(schools)]
        rule = by_stage[school.stages[0]]
        area = counties[n % 7].codes.all()[0].code
        ident = make_id_number(
            area, dt.date(2005, 1, 1) + dt.timedelta(days=(n // 7) // 1000), (n // 7) % 1000
        )
        amount: object = float(rule.top) if n % 3 else f"{rule.top}元"
        paid = f"2019.6.{1 + n % 14}" if n % 2 else f"2019年6月{1 + n % 14}日"
        return (
            ident,
            f"学生{n}",
            school.name,
            items[rule.item_id],
            "2019春",
            amount,
            paid,
            school,
            rule,
        )

    path = Path(tempfile.gettempdir()) / "xc_bench_disbursements.xlsx"

    def generate() -> None:
        """Runs in a child process so that its memory does not count in our peak."""
        snapshot = RosterSnapshot.objects.create(as_of=dt.date(2019, 3, 1), source="bench-import")
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("发放明细")
        ws.append(["宣城市2019年春季学期学生资助发放明细表"])
        ws.append(
            ["公民身份号码", "学生姓名", "学校名称", "资助项目", "学期", "发放金额(元)", "发放时间"]
        )
        roster = []
        for n in range(ROWS):
            r = row(n)
            ws.append(list(r[:7]))
            if n % 10:  # 90% of the payees are on the roster; the validator looks their names up
                roster.append(
                    RosterStudent(
                        id_number=r[0],
                        name=r[1],
                        gender="男",
                        birth_date=dt.date(2005, 1, 1),
                        county_id=r[7].county_id,
                        school=r[7],
                        stage=r[8].stage,
                        snapshot=snapshot,
                    )
                )
        ws.append(["合计", None, None, None, None, None, None])
        ws.append(["填表人：张三", None, None, "审核人：李四", None, None, None])
        wb.save(path)
        RosterStudent.objects.bulk_create(roster, batch_size=5000)
        connection.close()

    connection.close()
    child = multiprocessing.get_context("fork").Process(target=generate)
    child.start()
    child.join()
    assert child.exitcode == 0
    size = path.stat().st_size
    print(
        f"文件：{path}（{ROWS:,} 行，{size / 1048576:.1f} MB）；数据库：{connection.vendor}；生成后本进程内存 {peak_mb():.0f} MB",
        flush=True,
    )

    # (c) the validated pipeline
    spec = DisbursementsSpec()
    ctx = ImportContext(user=None, scope=EVERYTHING, unit=None)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    table = read_table(path, filename=path.name, columns=spec.columns)
    t1 = time.perf_counter()
    result = spec.validate(table, ctx)
    t2 = time.perf_counter()
    assert result.ok, [str(e) for e in result.errors[:5]]
    committed: list[float] = []
    with transaction.atomic():
        # Registered first, so it runs first once the import commits: the figures the
        # import then recomputes (selectors.follow_import) come after, as in the upload
        # job, where the user already sees the upload applied.
        transaction.on_commit(lambda: committed.append(time.perf_counter()))
        counts = spec.apply(result, ctx)
    t3 = committed[0]
    pipeline = t3 - t0
    peak = peak_mb()
    print(
        f"(c) 校验导入全流程（含每行一条历史记录）：{pipeline:.2f} 秒（读取 {t1 - t0:.2f}，逐行校验 {t2 - t1:.2f}，写入 {t3 - t2:.2f}）；{counts}；峰值内存 {peak:.0f} MB",
        flush=True,
    )
    assert Disbursement.objects.count() == ROWS
    assert Disbursement.history.count() == ROWS  # one '+' historical row per payment
    clear_payments()

    # (a) openpyxl read-only, bare iteration
    t0 = time.perf_counter()
    wb2 = load_workbook(path, read_only=True)
    cells = 0
    for values in wb2.worksheets[0].iter_rows(values_only=True):
        cells += len(values)
    wb2.close()
    bare = time.perf_counter() - t0
    print(f"(a) openpyxl 只读模式逐行读取：{bare:.2f} 秒（{cells:,} 个单元格）", flush=True)

    # (b) django-import-export's default ModelResource, per-row, on a subset
    dataset = Dataset(
        headers=["id_number", "name", "school", "county", "item", "semester", "amount", "paid_on"]
    )
    for n in range(SUBSET):
        r = row(n)
        school, rule = r[7], r[8]
        dataset.append(
            [
                r[0],
                r[1],
                school.pk,
                school.county_id,
                rule.item_id,
                semester.pk,
                str(rule.top),
                "2019-06-10",
            ]
        )
    # History off: the baseline as the issue defines it (and as measured before the
    # audit trail existed); (c) above wrote a historical row for every payment as well.
    t0 = time.perf_counter()
    with override_settings(SIMPLE_HISTORY_ENABLED=False):
        outcome = PlainDisbursementResource().import_data(dataset, dry_run=False, raise_errors=True)
    subset_time = time.perf_counter() - t0
    assert not outcome.has_errors() and Disbursement.objects.count() == SUBSET
    clear_payments()
    plain = subset_time * ROWS / SUBSET
    print(
        f"(b) django-import-export 默认 ModelResource（不记历史）：{SUBSET:,} 行实测 {subset_time:.2f} 秒，"
        f"按行数线性外推到 {ROWS:,} 行约 {plain:.0f} 秒（外推值，非实测）",
        flush=True,
    )
    clear_roster()

    print(
        f"比值 (c)/(a) = {pipeline / bare:.2f}（目标 < 1）；(b)/(c) = {plain / pipeline:.0f}×（目标 ≥ 30×）；峰值内存 {peak:.0f} MB（目标 < 500 MB）"
    )
    label = f"{ROWS:,} 行发放明细"
    figure(f"校验导入全流程 (c)（{label}）", f"{pipeline:.2f} 秒")
    figure(
        f"(c)/(a) openpyxl 只读逐行读取（{label}）",
        f"{pipeline / bare:.2f}",
        "< 1",
        pipeline < bare,
    )
    figure(
        f"(b)/(c) django-import-export 逐行导入，外推（{label}）",
        f"{plain / pipeline:.0f}×",
        "≥ 30×",
        plain / pipeline >= 30,
    )
    figure(f"导入峰值内存（{label}）", f"{peak:.0f} MB", "< 500 MB", peak < 500)


if __name__ == "__main__":
    main()
