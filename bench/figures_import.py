"""Benchmark: how soon the pages show fresh figures after a county's import (issue 13, item 3).

On the province-scale data of bench/subsidies_omissions.py (same database, built by its
generator if missing: 1,000,000 roster students and 2,000,000 payments at scale 1.0), with
the figures the pages open with cached (the city and every county), it imports 5,000
payments of one county's unpaid students through the real sheet pipeline (read_table,
DisbursementsSpec.validate and apply in one transaction, as the upload job does) and
measures, from the commit:

- when that county's pages (dashboard figures, omission counts and first page) are fresh
  in the cache — the import's job recomputes them right after its commit (target ≤ 1 s);
- when the city's totals are (a sum of per-county cached parts: only the importing
  county's part is recomputed; target ≤ 5 s);
- how many county parts were recomputed (target: 1 — no whole-city recompute).

The payments are deleted again afterwards, so the run can be repeated.

    BENCH_DB_PREFIX=xc_bench .venv/bin/python bench/figures_import.py [--quick] [--scale F]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xc_fupin.settings")

from bench._common import arguments, bench_database, ensure_database, figure, load_average  # noqa: E402

ROWS = 5_000


def main() -> None:
    args = arguments(__doc__).parse_args()
    scale = 0.01 if args.quick else (args.scale or 1.0)
    rows_wanted = ROWS if not args.quick else 200
    url = bench_database(f"omissions_{round(scale * 100):03d}", override_env="BENCH_DATABASE_URL")
    ensure_database(url)

    import django

    django.setup()
    import random

    from django.core.management import call_command
    from django.db import connection, transaction
    from openpyxl import Workbook

    from bench import subsidies_omissions as data
    from intake.base import ImportContext
    from subsidies import findings, selectors
    from subsidies.imports import DisbursementsSpec
    from subsidies.models import Disbursement, Semester, SubsidyItem
    from tasks.models import County, RosterStudent, Unit
    from tasks.scoping import EVERYTHING, Scope
    from xc_fupin.lib.sheets import read_table

    call_command("migrate", verbosity=0)
    data.ROSTER_SIZE, data.PAYMENTS = int(data.FULL_ROSTER * scale), int(data.FULL_PAYMENTS * scale)
    if (
        RosterStudent.objects.count() != data.ROSTER_SIZE
        or Disbursement.objects.count() != data.PAYMENTS
    ):
        print(f"生成数据（{data.scale_label(scale)}）…", flush=True)
        data.build(random.Random(2019))
    findings.build_missing()
    findings.refresh()
    semester = Semester.objects.get(code="2019春")
    counties = list(County.objects.order_by("order"))
    county = counties[1]
    label = f"{data.scale_label(scale)}，{county.current_name()}导入 {rows_wanted:,} 行"

    def warm_all() -> None:
        selectors.semester_figures(semester=semester, scope=EVERYTHING)
        for size in (1, 50):
            selectors.omission_check(semester=semester, scope=EVERYTHING, page_size=size)
        for c in counties:
            scope = Scope(county_id=c.pk)
            selectors.semester_figures(semester=semester, scope=scope)
            for size in (1, 50):
                selectors.omission_check(semester=semester, scope=scope, page_size=size)

    t = time.perf_counter()
    warm_all()
    print(f"预热全市及各县统计：{time.perf_counter() - t:.1f} 秒", flush=True)

    # 5,000 of the county's students owed an item and not paid it: the import pays them.
    report_rows = []
    chosen: dict[str, object] = {}
    page = 1
    while len(chosen) < rows_wanted:
        report = selectors._omission_check(
            semester=semester,
            scope=EVERYTHING,
            filters=selectors.OmissionFilters(county_id=county.pk),
            kind="missing",
            page=page,
            page_size=5000,
        )
        if not report.rows:
            break
        report_rows += report.rows
        for r in report.rows:
            chosen.setdefault(r.id_number, r)  # one item per student: one row each
        page += 1
    picked = list(chosen.values())[:rows_wanted]
    tops = {r.id_number: r.top for r in picked}
    items = dict(SubsidyItem.objects.values_list("pk", "name"))
    schools = dict(
        Unit.objects.filter(pk__in={r.school_id for r in picked}).values_list("pk", "name")
    )
    names = dict(
        RosterStudent.objects.filter(id_number__in=list(tops)).values_list("id_number", "name")
    )
    path = Path(tempfile.gettempdir()) / f"xc_bench_figures_{os.getpid()}.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("发放明细")
    ws.append(["身份证号", "姓名", "就读学校", "资助项目", "学期", "金额(元)", "发放日期"])
    for r in picked:
        ws.append(
            [
                r.id_number,
                names[r.id_number],
                schools[r.school_id],
                items[r.item_id],
                "2019春",
                float(r.top or 0),
                (semester.deadline).isoformat(),
            ]
        )
    wb.save(path)

    spec = DisbursementsSpec()
    ctx = ImportContext(user=None, scope=EVERYTHING, unit=None)  # type: ignore[arg-type]
    table = read_table(path, filename=path.name, columns=spec.columns)
    result = spec.validate(table, ctx)
    path.unlink()
    assert result.ok, [str(e) for e in result.errors[:5]]
    assert len(result.rows) == len(picked), (len(result.rows), len(picked))

    computed: list[object] = []
    original_part = selectors._semester_figures

    def counting(**kwargs):  # type: ignore[no-untyped-def]
        computed.append(kwargs.get("county_id"))
        return original_part(**kwargs)

    selectors._semester_figures = counting  # type: ignore[assignment]
    followed: list[list[tuple[str, float]]] = []
    original_follow = selectors.figures_follow
    selectors.figures_follow = lambda changed: followed.append(original_follow(changed))  # type: ignore[assignment,func-returns-value]
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(max(id), 0) FROM subsidies_disbursement")
        last_id = cur.fetchone()[0]
        cur.execute("SELECT COALESCE(max(history_id), 0) FROM subsidies_historicaldisbursement")
        last_history = cur.fetchone()[0]
    print(f"导入 {len(result.rows):,} 行（负载 {load_average()}）…", flush=True)
    stamps: list[float] = []
    started = time.perf_counter()
    try:
        with transaction.atomic():
            transaction.on_commit(lambda: stamps.append(time.perf_counter()))
            spec.apply(result, ctx)
        done = time.perf_counter()
    finally:
        selectors._semester_figures = original_part  # type: ignore[assignment]
        selectors.figures_follow = original_follow  # type: ignore[assignment]
    committed = stamps[0]
    steps = dict(followed[0]) if followed else {}
    county_fresh = steps.get(f"{semester.code}:{county.pk}")
    city_fresh = steps.get(f"{semester.code}:city")
    # The follow's clock starts right after the commit (its callback runs next to ours).
    gap = 0.0
    del done

    # Fresh means: the pages now read the cache, and it holds the import.
    t = time.perf_counter()
    figures_now = selectors.semester_figures(semester=semester, scope=Scope(county_id=county.pk))
    check_now = selectors.omission_check(
        semester=semester, scope=Scope(county_id=county.pk), page_size=50
    )
    city_now = selectors.semester_figures(semester=semester, scope=EVERYTHING)
    read = time.perf_counter() - t
    fresh = selectors._semester_figures(semester=semester, scope=Scope(county_id=county.pk))
    assert vars(figures_now[-1]) == vars(fresh[-1]), "county figures not fresh"
    assert (
        check_now.totals
        == selectors._omission_check(
            semester=semester, scope=Scope(county_id=county.pk), page_size=50
        ).totals
    )
    print(
        f"导入（校验后写入+留存结果更新，至提交）{committed - started:.2f} 秒；提交后："
        + "，".join(f"{k} {v:.2f} 秒" for k, v in steps.items())
        + f"；随后读取本县与全市页面统计 {read:.3f} 秒（缓存）；重算的县级部分 {computed}",
        flush=True,
    )
    others = [c for c in computed if c != county.pk]

    # Back to where we were: the payments go, and so do their findings and figures.
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("DELETE FROM subsidies_disbursement WHERE id > %s", [last_id])
            cur.execute(
                "DELETE FROM subsidies_historicaldisbursement WHERE history_id > %s", [last_history]
            )
        findings.refresh()
        selectors.follow_import(selectors.parts_of([semester.pk], list(tops), [county.pk]))

    figure(f"导入至提交（{label}）", f"{committed - started:.2f} 秒")
    figure(
        f"提交后本县页面统计更新（{label}）",
        f"{(county_fresh or 0) + gap:.2f} 秒",
        "≤ 1 秒",
        county_fresh is not None and county_fresh + gap <= 1.0,
    )
    figure(
        f"提交后全市合计更新（{label}）",
        f"{(city_fresh or 0) + gap:.2f} 秒",
        "≤ 5 秒",
        city_fresh is not None and city_fresh + gap <= 5.0,
    )
    figure(
        f"重算的县级统计部分（{label}）",
        f"{len(computed)} 个（其他县 {len(others)} 个）",
        "仅本县",
        not others,
    )
    del city_now


if __name__ == "__main__":
    main()
