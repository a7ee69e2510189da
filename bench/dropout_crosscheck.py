"""Benchmark of the dropout cross-check (数据比对核查) on PostgreSQL. Not a test.

Fills its own database (`xc_bench_crosscheck`, or `BENCH_DB_PREFIX`_crosscheck, or
`BENCH_DATABASE_URL`; any other database is refused) set-based in SQL at two or more
scales of the province-sized set — 8,000,000 enrolment rows, 3,000,000 household
children, 500,000 roster students at scale 1.0 — and, per scale, runs the cross-check of
every county through the real services, cases, findings and their history included: once
as one pass over all seven counties (`crosscheck_run_many`), then as seven runs, one per
county (`crosscheck_run`, as after each import), each mode from empty case tables, so both
open the same cases. Prints the times, the peak memory of this process and of the
PostgreSQL backend, the ratio of the seven runs to the one pass and the growth between the
scales, and reports them as BENCH-FIGURE lines for `python -m bench`.

    .venv/bin/python bench/dropout_crosscheck.py --scales 0.25 1.0
    .venv/bin/python bench/dropout_crosscheck.py --quick      # 0.01 and 0.04, a smoke test

About 1% of household children are missing from enrolment, 0.3% are marked 辍学,
0.1% are enrolled twice and 0.1% have another name in the registry.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))

from bench._common import (  # noqa: E402
    arguments,
    bench_database,
    ensure_database,
    figure,
    load_average,
)

os.environ["DJANGO_SETTINGS_MODULE"] = "xc_fupin.settings"
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")

#: One pass over the province at full scale must take less than this (issue 13).
TARGET_SECONDS = 60.0
#: The seven per-county runs together, at most this many times the one pass.
TARGET_COUNTY_RATIO = 1.3
FULL_ENROLMENT = 8_000_000
FULL_HOUSEHOLD = 3_000_000
FULL_ROSTER = 500_000
SCHOOLS_PER_COUNTY = 150
AS_OF_DATA = dt.date(2019, 9, 30)
AS_OF_CHECK = dt.date(2019, 10, 15)


def setup_django() -> None:
    ensure_database(bench_database("crosscheck", "BENCH_DATABASE_URL"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tasks.models import Task

    if not Task.objects.exists():
        call_command("load_plan", stdout=io.StringIO())


def schools() -> dict[int, list[int]]:
    from tasks.models import County, Unit

    result: dict[int, list[int]] = {}
    for county in County.objects.order_by("order"):
        existing = list(
            Unit.objects.filter(code__startswith=f"bench-{county.slug}-")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if len(existing) < SCHOOLS_PER_COUNTY:
            Unit.objects.bulk_create(
                [
                    Unit(
                        code=f"bench-{county.slug}-{i}",
                        name=f"{county.name}测试学校{i}",
                        kind=Unit.Kind.SCHOOL,
                        county=county,
                        school_code=f"9{county.order:02d}{i:06d}",
                        stages=["小学"],
                    )
                    for i in range(len(existing), SCHOOLS_PER_COUNTY)
                ]
            )
            existing = list(
                Unit.objects.filter(code__startswith=f"bench-{county.slug}-")
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        result[county.pk] = existing
    return result


def drop_indexes(table: str) -> list[str]:
    """Drop secondary indexes and unique constraints, returning SQL that recreates them:
    a bulk load then builds each index once, sorted, instead of row by row."""
    from django.db import connection

    recreate = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'",
            [table],
        )
        for name, definition in cursor.fetchall():
            recreate.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE %s",
            [table, "%pkey"],
        )
        for name, definition in cursor.fetchall():
            recreate.append(definition)
            cursor.execute(f'DROP INDEX "{name}"')
    return recreate


def _residue_count(n: int, low: int, high: int) -> int:
    """How many i in [0, n) have low <= i % 1000 < high."""
    full, rest = divmod(n, 1000)
    return full * (high - low) + max(0, min(rest, high) - low)


def load(scale: float, school_ids: dict[int, list[int]]) -> dict[str, int]:
    """Fill the registries set-based, in SQL (INSERT … SELECT over generate_series): no row
    passes through Python. Child i belongs to county i % 7 and is born on day (i // 7) of a
    16-year span; its ID number (check character included) is built from three small
    tables (the counties' area codes, the days, the sequence numbers) with their weighted
    digit sums. Each county's enrolment rows are written together, as its imports write
    its snapshot."""
    from django.db import connection, transaction

    from dropout.models import (
        CaseFinding,
        CaseFollowUp,
        CaseStatusChange,
        CrosscheckRun,
        DropoutCase,
        EnrolmentRecord,
        EnrolmentSnapshot,
        EnrolmentSpread,
        HouseholdChild,
    )
    from dropout.services import enrolment_spread_rebuild
    from tasks.models import County, RosterSnapshot, RosterStudent

    n_enrol = int(FULL_ENROLMENT * scale)
    n_house = int(FULL_HOUSEHOLD * scale)
    n_roster = int(FULL_ROSTER * scale)
    models = (
        CaseFinding,
        CaseFollowUp,
        CaseStatusChange,
        DropoutCase,
        CrosscheckRun,
        EnrolmentRecord,
        EnrolmentSnapshot,
        HouseholdChild,
        RosterStudent,
    )
    tables = [m._meta.db_table for m in models] + [
        RosterSnapshot._meta.db_table,
        EnrolmentSpread._meta.db_table,
    ]
    # Their audit trail too: the cross-check records each case it opens only once, by
    # looking for the case's historical rows, and ids restart here.
    tables += [m.history.model._meta.db_table for m in models]  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    counties = list(County.objects.order_by("order").prefetch_related("codes"))
    county_ids = [c.pk for c in counties]
    snapshot_ids = [
        EnrolmentSnapshot.objects.create(county_id=c, as_of=AS_OF_DATA).pk for c in county_ids
    ]
    roster_snapshot = RosterSnapshot.objects.create(as_of=dt.date(2019, 3, 1))
    day0 = dt.date(2001, 1, 1)
    span = (dt.date(2016, 12, 31) - day0).days
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

    def digit_sum(text: str, first: int) -> int:
        return sum(int(ch) * w for ch, w in zip(text, weights[first:], strict=False))

    # Deterministic anomalies among household children, by i % 1000: 0-9 missing from
    # enrolment, 10-12 marked 辍学, 13 enrolled twice, 14 another name in the registry.
    # Enrolment rows beyond the household children are plain 在读 rows, as many as make
    # n_enrol in all.
    from_household = n_house - _residue_count(n_house, 0, 10) + _residue_count(n_house, 13, 14)
    n_children = n_house + max(0, n_enrol - from_household)
    stride = max(1, (n_house * 2) // max(n_roster, 1))

    e_table = EnrolmentRecord._meta.db_table
    h_table = HouseholdChild._meta.db_table
    r_table = RosterStudent._meta.db_table
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        # The rows are consistent by construction: skip the per-row foreign-key checks
        # (queued as deferred triggers, they cost more than the inserts themselves).
        cursor.execute("SET LOCAL session_replication_role = replica")
        rebuild = drop_indexes(e_table) + drop_indexes(h_table)
        cursor.execute(
            "CREATE TEMP TABLE b_county (k int PRIMARY KEY, area text, county_id int, "
            "snapshot_id int, asum int) ON COMMIT DROP"
        )
        cursor.executemany(
            "INSERT INTO b_county VALUES (%s, %s, %s, %s, %s)",
            [
                (k, c.current_code(), c.pk, snapshot_ids[k], digit_sum(c.current_code(), 0))
                for k, c in enumerate(counties)
            ],
        )
        cursor.execute(
            "CREATE TEMP TABLE b_day ON COMMIT DROP AS SELECT d, %s::date + d AS birth, "
            "to_char(%s::date + d, 'YYYYMMDD') AS ymd FROM generate_series(0, %s) d",
            [day0, day0, span - 1],
        )
        cursor.execute(
            "ALTER TABLE b_day ADD COLUMN dsum int; UPDATE b_day SET dsum = "
            + " + ".join(f"substr(ymd, {p + 1}, 1)::int * {weights[6 + p]}" for p in range(8))
        )
        cursor.execute(
            "CREATE TEMP TABLE b_seq ON COMMIT DROP AS SELECT s, lpad(s::text, 3, '0') AS txt, "
            f"(s / 100) * {weights[14]} + (s / 10 % 10) * {weights[15]} + (s % 10) * {weights[16]} AS ssum "
            "FROM generate_series(0, 999) s"
        )
        cursor.execute("CREATE TEMP TABLE b_school (k int, j int, school_id int) ON COMMIT DROP")
        cursor.executemany(
            "INSERT INTO b_school VALUES (%s, %s, %s)",
            [(k, j, pk) for k, c in enumerate(county_ids) for j, pk in enumerate(school_ids[c])],
        )
        cursor.execute("ANALYZE b_county; ANALYZE b_day; ANALYZE b_seq; ANALYZE b_school")
        # child i: county k = i % 7, day (i / 7) % span, sequence (i / 7) / span.
        child = (
            "JOIN b_county c ON c.k = {i} %% 7 "
            f"JOIN b_day dy ON dy.d = ({{i}} / 7) %% {span} "
            f"JOIN b_seq sq ON sq.s = ({{i}} / 7) / {span}"
        )
        id_expr = "c.area || dy.ymd || sq.txt || substr('10X98765432', (c.asum + dy.dsum + sq.ssum) %% 11 + 1, 1)"
        cursor.execute(
            f"INSERT INTO {h_table} (id_number, name, birth_date, county_id, township, village, "  # noqa: S608
            "guardian, phone, as_of) "
            f"SELECT {id_expr}, '童' || i, dy.birth, c.county_id, '某镇', '村' || (i %% 300), "
            "'家长', '13800000000', %s "
            f"FROM generate_series(0, %s) i {child.format(i='i')}",
            [AS_OF_DATA, n_house - 1],
        )
        for k in range(len(counties)):
            # r = i % 1000 (household children only), dup 1 = the second school of a
            # double enrolment.
            cursor.execute(
                f"INSERT INTO {e_table} (snapshot_id, id_number, name, school_id, county_id, "  # noqa: S608
                "grade, status, as_of) "
                f"SELECT c.snapshot_id, {id_expr}, "
                "CASE WHEN i < %(h)s AND i %% 1000 = 14 THEN '同' ELSE '童' END || i, "
                "s.school_id, c.county_id, '三年级', "
                "CASE WHEN dup = 0 AND i < %(h)s AND i %% 1000 BETWEEN 10 AND 12 THEN '辍学' ELSE '在读' END, "
                "%(day)s "
                "FROM generate_series(%(k)s, %(n)s, 7) i CROSS JOIN (VALUES (0), (1)) AS x(dup) "
                f"{child.format(i='i')} "
                f"JOIN b_school s ON s.k = c.k AND s.j = (i / 7 + dup) %% {SCHOOLS_PER_COUNTY} "
                "WHERE CASE WHEN dup = 0 THEN NOT (i < %(h)s AND i %% 1000 < 10) "
                "ELSE i < %(h)s AND i %% 1000 = 13 END",
                {"h": n_house, "day": AS_OF_DATA, "k": k, "n": n_children - 1},
            )
        cursor.execute(
            f"INSERT INTO {r_table} (id_number, name, gender, birth_date, household_county_id, "  # noqa: S608
            "county_id, stage, grade, boarding, snapshot_id, is_active, updated_at) "
            f"SELECT {id_expr}, '童' || x.i, '男', dy.birth, c.county_id, c.county_id, '小学', '', "
            "false, %s, true, '2019-03-01 00:00:00+08' "
            f"FROM generate_series(0, %s) j CROSS JOIN LATERAL (SELECT j * {stride} AS i) AS x "
            f"{child.format(i='x.i')}",
            [roster_snapshot.pk, n_roster - 1],
        )
        load_seconds = time.perf_counter() - started
        cursor.execute("SET LOCAL session_replication_role = origin")
        for statement in rebuild:
            cursor.execute(statement)
        # The triggers that keep the children enrolled in several counties did not fire
        # (replica role): one set-based rebuild, as an import's trigger would have written.
        enrolment_spread_rebuild()
    with connection.cursor() as cursor:
        for table in (e_table, h_table, r_table):
            cursor.execute(f"VACUUM ANALYZE {table}")
    counts = {
        "enrolment": EnrolmentRecord.objects.count(),
        "household": HouseholdChild.objects.count(),
        "roster": RosterStudent.objects.count(),
        "load_seconds": round(load_seconds),
        "index_seconds": round(time.perf_counter() - started - load_seconds),
    }
    return counts


def backend_peak_kb() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def run_check(mode: str) -> dict[str, Any]:
    """mode "city": one pass for all seven counties (crosscheck_run_many);
    mode "county": seven runs, one per county (crosscheck_run, as after each import)."""
    from django.db import connection

    from dropout.models import CaseFinding, DropoutCase
    from dropout.services import crosscheck_run, crosscheck_run_many
    from tasks.models import County

    connection.close()  # a fresh backend, so its peak memory is this run's
    counties = list(County.objects.order_by("order"))
    started = time.perf_counter()
    per_county = []
    findings = 0
    if mode == "city":
        findings = sum(
            len(o.findings)
            for o in crosscheck_run_many(counties=counties, as_of=AS_OF_CHECK, triggered_by="bench")
        )
    else:
        for county in counties:
            t0 = time.perf_counter()
            outcome = crosscheck_run(county=county, as_of=AS_OF_CHECK, triggered_by="bench")
            per_county.append(round(time.perf_counter() - t0, 1))
            findings += len(outcome.findings)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "per_county": per_county,
        "findings": findings,
        "cases": DropoutCase.objects.count(),
        "case_findings": CaseFinding.objects.count(),
        "self_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "backend_peak_mb": backend_peak_kb() / 1024,
    }


def check_in_subprocess(mode: str) -> dict[str, Any]:
    """Run the check in a fresh process, so its peak memory is the check's, not the loader's."""
    import json
    import subprocess

    args = [sys.executable, __file__, "--check-only", mode]
    out = subprocess.run(
        args, check=True, capture_output=True, text=True, env=os.environ.copy()
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = arguments(__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--check-only", choices=["city", "county"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--scales", type=float, nargs="+", default=None, help="默认 0.25 1.0（--quick：0.01 0.04）"
    )
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["city", "county"],
        choices=["city", "county"],
        help="city: one pass for all counties; county: one run per county. Each starts from empty case tables.",
    )
    parser.add_argument(
        "--no-load", action="store_true", help="reuse the rows already loaded (one scale only)"
    )
    args = parser.parse_args()
    setup_django()
    if args.check_only:
        import json

        print(json.dumps(run_check(args.check_only)))
        return
    if args.scales:
        scales = args.scales
    elif args.quick:
        scales = [0.01, 0.04]
    else:
        top = args.scale or 1.0
        scales = [top / 4, top]
    school_ids = schools()
    results = []
    for scale in scales:
        t0 = time.perf_counter()
        if args.no_load:
            counts = current_counts()
        else:
            counts = load(scale, school_ids)
            print(
                f"scale {scale}: loaded {counts['enrolment']:,} enrolment, {counts['household']:,} household, "
                f"{counts['roster']:,} roster rows (INSERT … SELECT {counts['load_seconds']} s, "
                f"indexes+vacuum {counts['index_seconds']} s, total {time.perf_counter() - t0:.0f} s; "
                f"load average {load_average()})",
                flush=True,
            )
            figure(f"交叉核查造数（规模 {scale:g}）", f"{time.perf_counter() - t0:.0f} s")
        by_mode = {}
        for mode in args.modes:
            # Cases written by an earlier run (the one pass, or the run before a
            # --no-load) would make this one a re-run: start each from the same empty
            # case tables, so both modes do the same work.
            clear_cases()
            load_before = load_average()
            result = check_in_subprocess(mode)
            by_mode[mode] = result
            label = (
                "one pass, all 7 counties"
                if mode == "city"
                else f"7 runs, one per county {result['per_county']}"
            )
            print(
                f"scale {scale}: cross-check ({label}) {result['seconds']:.1f} s, {result['findings']:,} findings, "
                f"{result['cases']:,} cases in the database; peak memory: this process {result['self_peak_mb']:.0f} MB, "
                f"PostgreSQL backend {result['backend_peak_mb']:.0f} MB; load average before {load_before}",
                flush=True,
            )
            if mode == "city":
                full = scale >= 1.0 and not args.quick
                figure(
                    f"交叉核查 全市一次（7县，含立案与历史；规模 {scale:g}）",
                    f"{result['seconds']:.1f} s",
                    f"< {TARGET_SECONDS:.0f} s" if full else "",
                    result["seconds"] < TARGET_SECONDS if full else None,
                )
        if "city" in by_mode and "county" in by_mode:
            ratio = by_mode["county"]["seconds"] / by_mode["city"]["seconds"]
            print(f"scale {scale}: seven per-county runs / one pass = {ratio:.2f}", flush=True)
            figure(
                f"交叉核查 逐县7次合计 / 全市一次（规模 {scale:g}）",
                f"{ratio:.2f}×（{by_mode['county']['seconds']:.1f} s）",
                f"≤ {TARGET_COUNTY_RATIO}×",
                ratio <= TARGET_COUNTY_RATIO,
            )
        results.append((scale, counts, by_mode))

    base_scale, base_counts, base = results[0]
    for scale, counts, by_mode in results[1:]:
        rows = (counts["enrolment"] + counts["household"] + counts["roster"]) / (
            base_counts["enrolment"] + base_counts["household"] + base_counts["roster"]
        )
        times = ", ".join(
            f"{mode} x{by_mode[mode]['seconds'] / base[mode]['seconds']:.2f}" for mode in args.modes
        )
        print(f"growth {base_scale} -> {scale}: rows x{rows:.2f}, time {times}")
        if "city" in by_mode:
            growth = by_mode["city"]["seconds"] / base["city"]["seconds"]
            figure(
                f"交叉核查 增长（规模 {base_scale:g} → {scale:g}，行数 ×{rows:.2f}）",
                f"×{growth:.2f}",
                f"≈ ×{rows:.2f}（线性，≤ ×{rows * 1.25:.2f}）",
                growth <= rows * 1.25,
            )


def current_counts() -> dict[str, int]:
    from dropout.models import EnrolmentRecord, HouseholdChild
    from tasks.models import RosterStudent

    return {
        "enrolment": EnrolmentRecord.objects.count(),
        "household": HouseholdChild.objects.count(),
        "roster": RosterStudent.objects.count(),
    }


def clear_cases() -> None:
    """Empty the case tables and their history (what a cross-check writes)."""
    from django.db import connection

    from dropout.models import (
        CaseFinding,
        CaseFollowUp,
        CaseStatusChange,
        CrosscheckRun,
        DropoutCase,
    )

    models = (CaseFinding, CaseFollowUp, CaseStatusChange, DropoutCase, CrosscheckRun)
    tables = [m._meta.db_table for m in models]
    tables += [m.history.model._meta.db_table for m in models]  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


if __name__ == "__main__":
    main()
