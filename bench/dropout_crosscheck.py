"""Benchmark of the dropout cross-check (数据比对核查) on PostgreSQL. Not a test.

Builds a separate database (default `xc_bench_dropout`), fills it with COPY at two or more
scales of the province-sized set — 8,000,000 enrolment rows, 3,000,000 household
children, 500,000 roster students at scale 1.0 — and, per scale, runs the cross-check of
every county through the real service (`crosscheck_run`, cases and findings included),
printing the time, the peak memory of this process and of the PostgreSQL backend, and the
time ratio between the scales (linear growth: ratio ≈ ratio of row counts).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xc_bench_dropout \
        .venv/bin/python bench/dropout_crosscheck.py --scales 0.25 1.0

About 1% of household children are missing from enrolment, 0.3% are marked 辍学/疑似辍学,
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
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xc_bench_dropout")
os.environ["DJANGO_SETTINGS_MODULE"] = "xc_fupin.settings"
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")

FULL_ENROLMENT = 8_000_000
FULL_HOUSEHOLD = 3_000_000
FULL_ROSTER = 500_000
SCHOOLS_PER_COUNTY = 150
AS_OF_DATA = dt.date(2019, 9, 30)
AS_OF_CHECK = dt.date(2019, 10, 15)
CHUNK_ROWS = 500_000


def ensure_database(url: str) -> None:
    import psycopg2

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def setup_django() -> None:
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        raise SystemExit("this benchmark needs PostgreSQL (DATABASE_URL=postgres://…)")
    ensure_database(url)
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


def copy_rows(table: str, columns: list[str], rows: object) -> int:
    """COPY an iterator of tuples into `table`, CHUNK_ROWS at a time (memory stays flat)."""
    from django.db import connection

    count = 0
    buffer = io.StringIO()
    in_buffer = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for row in rows:  # type: ignore[attr-defined]
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
            buffer.write("\n")
            in_buffer += 1
            if in_buffer == CHUNK_ROWS:
                buffer.seek(0)
                raw.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
                count += in_buffer
                buffer, in_buffer = io.StringIO(), 0
        if in_buffer:
            buffer.seek(0)
            raw.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
            count += in_buffer
    return count


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


def load(scale: float, school_ids: dict[int, list[int]]) -> dict[str, int]:
    from django.db import connection, transaction

    from dropout.models import (
        CaseFinding,
        CaseFollowUp,
        CaseStatusChange,
        CrosscheckRun,
        DropoutCase,
        EnrolmentRecord,
        EnrolmentSnapshot,
        HouseholdChild,
    )
    from tasks.models import County, RosterSnapshot, RosterStudent
    from xc_fupin.lib.idnumber import make_id_number

    n_enrol = int(FULL_ENROLMENT * scale)
    n_house = int(FULL_HOUSEHOLD * scale)
    n_roster = int(FULL_ROSTER * scale)
    tables = [
        m._meta.db_table
        for m in (
            CaseFinding,
            CaseFollowUp,
            CaseStatusChange,
            DropoutCase,
            CrosscheckRun,
            EnrolmentRecord,
            EnrolmentSnapshot,
            HouseholdChild,
            RosterStudent,
            RosterSnapshot,
        )
    ]
    # Their audit trail too: the cross-check records each case it opens only once, by
    # looking for the case's historical rows, and ids restart here.
    tables += [
        m.history.model._meta.db_table  # type: ignore[attr-defined]
        for m in (
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
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    counties = list(County.objects.order_by("order").prefetch_related("codes"))
    areas = [c.current_code() for c in counties]
    county_ids = [c.pk for c in counties]
    snapshot_ids = [
        EnrolmentSnapshot.objects.create(county_id=c, as_of=AS_OF_DATA).pk for c in county_ids
    ]
    roster_snapshot = RosterSnapshot.objects.create(as_of=dt.date(2019, 3, 1))
    day0 = dt.date(2001, 1, 1)
    span = (dt.date(2016, 12, 31) - day0).days

    def child(i: int) -> tuple[str, int, dt.date]:
        k = i % 7
        rest = i // 7
        birth = day0 + dt.timedelta(days=rest % span)
        return make_id_number(areas[k], birth, rest // span), k, birth

    def kind(i: int) -> str:
        # Deterministic anomalies among household children, by residue.
        r = i % 1000
        if r < 10:
            return "missing"
        if r < 13:
            return "marked"
        if r < 14:
            return "double"
        if r < 15:
            return "rename"
        return "ok"

    e_table = EnrolmentRecord._meta.db_table
    h_table = HouseholdChild._meta.db_table
    r_table = RosterStudent._meta.db_table
    started = time.perf_counter()
    with transaction.atomic():
        rebuild = drop_indexes(e_table) + drop_indexes(h_table)

        def household_rows():  # type: ignore[no-untyped-def]
            for i in range(n_house):
                id_number, k, birth = child(i)
                yield (
                    id_number,
                    f"童{i}",
                    birth,
                    county_ids[k],
                    "某镇",
                    f"村{i % 300}",
                    "家长",
                    "13800000000",
                    AS_OF_DATA,
                )

        copy_rows(
            h_table,
            [
                "id_number",
                "name",
                "birth_date",
                "county_id",
                "township",
                "village",
                "guardian",
                "phone",
                "as_of",
            ],
            household_rows(),
        )

        def enrolment_rows():  # type: ignore[no-untyped-def]
            made = 0
            i = 0
            while made < n_enrol:
                id_number, k, _birth = child(i)
                schools_here = school_ids[county_ids[k]]
                school = schools_here[(i // 7) % len(schools_here)]
                what = kind(i) if i < n_house else "ok"
                i += 1
                if what == "missing":
                    continue
                status = "辍学" if what == "marked" else "在读"
                name = f"童{i - 1}" if what != "rename" else f"同{i - 1}"
                yield (
                    snapshot_ids[k],
                    id_number,
                    name,
                    school,
                    county_ids[k],
                    "三年级",
                    status,
                    AS_OF_DATA,
                )
                made += 1
                if what == "double" and made < n_enrol:
                    other = schools_here[((i // 7) + 1) % len(schools_here)]
                    yield (
                        snapshot_ids[k],
                        id_number,
                        name,
                        other,
                        county_ids[k],
                        "三年级",
                        "在读",
                        AS_OF_DATA,
                    )
                    made += 1

        copy_rows(
            e_table,
            [
                "snapshot_id",
                "id_number",
                "name",
                "school_id",
                "county_id",
                "grade",
                "status",
                "as_of",
            ],
            enrolment_rows(),
        )
        stride = max(1, (n_house * 2) // max(n_roster, 1))

        def roster_rows():  # type: ignore[no-untyped-def]
            for j in range(n_roster):
                i = j * stride
                id_number, k, birth = child(i)
                yield (
                    id_number,
                    f"童{i}",
                    "男",
                    birth,
                    county_ids[k],
                    county_ids[k],
                    "小学",
                    "",
                    False,
                    roster_snapshot.pk,
                    True,
                    "2019-03-01 00:00:00+08",
                )

        copy_rows(
            r_table,
            [
                "id_number",
                "name",
                "gender",
                "birth_date",
                "household_county_id",
                "county_id",
                "stage",
                "grade",
                "boarding",
                "snapshot_id",
                "is_active",
                "updated_at",
            ],
            roster_rows(),
        )
        load_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            # Check the deferred foreign keys now, so the tables can be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for statement in rebuild:
                cursor.execute(statement)
    with connection.cursor() as cursor:
        for table in (e_table, h_table, r_table):
            cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.execute(f"SELECT count(*) FROM {table}")
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
    parser = argparse.ArgumentParser()
    parser.add_argument("--check-only", choices=["city", "county"], help=argparse.SUPPRESS)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.25, 1.0])
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["city", "county"],
        choices=["city", "county"],
        help="city: one pass for all counties; county: one run per county. Each mode after the first is a re-run on the same data (0 new cases).",
    )
    args = parser.parse_args()
    setup_django()
    if args.check_only:
        import json

        print(json.dumps(run_check(args.check_only)))
        return
    school_ids = schools()
    results = []
    for scale in args.scales:
        t0 = time.perf_counter()
        counts = load(scale, school_ids)
        print(
            f"scale {scale}: loaded {counts['enrolment']:,} enrolment, {counts['household']:,} household, "
            f"{counts['roster']:,} roster rows (COPY {counts['load_seconds']} s, indexes+analyze {counts['index_seconds']} s, "
            f"total {time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        by_mode = {}
        for mode in args.modes:
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
                f"PostgreSQL backend {result['backend_peak_mb']:.0f} MB",
                flush=True,
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


if __name__ == "__main__":
    main()
