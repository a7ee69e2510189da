"""Benchmark: the omission check at province scale on PostgreSQL.

Builds (or reuses) a separate database with 1,000,000 roster students and 2,000,000
payments over two semesters, loaded with COPY, then times in one run:

- the baseline: a bare NOT EXISTS count of roster students with no payment in the semester;
- the omission check as the page runs it: all three findings plus the two lists kept
  apart, counts per county and the first page of 50 (`selectors.omission_check`).

Prints both times (best of three, warm cache) and their ratio; the target is within 3x.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/xc_bench \\
        .venv/bin/python bench/subsidies_omissions.py [--rebuild]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xc_bench")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xc_fupin.settings")

ROSTER_SIZE = 1_000_000
PAYMENTS = 2_000_000


def ensure_database() -> None:
    import psycopg2

    name = URL.rsplit("/", 1)[1]
    admin = psycopg2.connect(URL.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def build(rng: random.Random) -> None:
    from django.core.management import call_command
    from django.db import connection

    from subsidies.lookups import semester_rules
    from subsidies.models import Disbursement, Semester
    from subsidies.services import standards_load
    from tasks.models import County, RosterSnapshot, RosterStudent, School, Unit
    from tasks.services import plan_load
    from xc_fupin.lib.idnumber import make_id_number

    started = time.perf_counter()
    call_command("migrate", "tasks", verbosity=0)
    call_command("migrate", "subsidies", verbosity=0)
    plan_load()
    standards_load()
    with connection.cursor() as cur:
        cur.execute(
            f"TRUNCATE {Disbursement._meta.db_table}, {RosterStudent._meta.db_table} CASCADE"
        )
    counties = list(County.objects.prefetch_related("codes").order_by("order"))
    stage_sets = [
        ["学前教育"],
        ["小学"],
        ["初中"],
        ["普通高中"],
        ["中等职业教育"],
        ["初中", "普通高中"],
    ]
    schools: list[School] = []
    for county in counties:
        parent = Unit.objects.get(code=f"{county.slug}-jtj")
        for i in range(100):
            school, _ = School.objects.get_or_create(
                code=f"bench-{county.slug}-{i}",
                defaults={
                    "name": f"{county.current_name()}基准学校{i}",
                    "school_code": f"9{county.order:02d}{i:05d}",
                    "county": county,
                    "stages": stage_sets[i % len(stage_sets)],
                    "parent": parent,
                },
            )
            schools.append(school)
    snapshot = RosterSnapshot.objects.create(as_of=dt.date(2019, 3, 1), source="bench")
    codes = {c.pk: [x.code for x in c.codes.all()] for c in counties}

    # Roster: unique (area code, birth date, sequence) per student.
    base = dt.date(2001, 1, 1)
    roster: list[tuple[str, str, bool, int, int]] = []  # id, stage, boarding, county, school
    buffer = io.StringIO()
    for n in range(ROSTER_SIZE):
        # County = n % 7, so within a county k = n // 7 is unique: (area, birth date, sequence) never repeats.
        k = n // 7
        school = schools[(n % 7) * 100 + k % 100]
        stage = school.stages[(k // 100) % len(school.stages)]
        county_id = school.county_id
        assert county_id is not None  # every benchmark school has a county
        area = codes[county_id][k % len(codes[county_id])]
        ident = make_id_number(area, base + dt.timedelta(days=k // 1000), k % 1000)
        boarding = stage in ("小学", "初中") and n % 3 == 0
        roster.append((ident, stage, boarding, county_id, school.pk))
        buffer.write(
            f"{ident}\t学生{n}\t{'男' if int(ident[16]) % 2 else '女'}\t{base}\t{school.county_id}\t"
            f"{school.county_id}\t{school.pk}\t{stage}\t\t{'t' if boarding else 'f'}\t{snapshot.pk}\tt\t2019-03-01 00:00:00+08\n"
        )
    buffer.seek(0)
    with connection.cursor() as cur:
        cur.cursor.copy_expert(
            f"COPY {RosterStudent._meta.db_table} (id_number, name, gender, birth_date, household_county_id, "
            "county_id, school_id, stage, grade, boarding, snapshot_id, is_active, updated_at) FROM STDIN",
            buffer,
        )
    print(f"  名册 {ROSTER_SIZE:,} 行已载入（{time.perf_counter() - started:.0f} 秒）", flush=True)

    semesters = list(Semester.objects.order_by("start"))
    per_semester = PAYMENTS // len(semesters)
    for semester in semesters:
        rules = semester_rules(semester)
        owed: dict[tuple[str, bool], list] = {}
        for rule in rules:
            owed.setdefault((rule.stage, rule.boarding), []).append(rule)
        pairs = sum(len(owed.get((s, b), [])) for _i, s, b, _c, _k in roster)
        off_roster = per_semester // 100
        share = (per_semester - off_roster) / pairs
        buffer = io.StringIO()
        written = 0
        for ident, stage, boarding, county_id, school_id in roster:
            for rule in owed.get((stage, boarding), []):
                if written >= per_semester - off_roster or rng.random() > share:
                    continue
                amount = rule.top if rng.random() > 0.04 else rule.top / 2
                day = semester.deadline - dt.timedelta(days=rng.randrange(30))
                if rng.random() < 0.03:
                    day = semester.deadline + dt.timedelta(days=rng.randint(1, 20))
                buffer.write(
                    f"{ident}\t学生\t{school_id}\t{county_id}\t{rule.item_id}\t{semester.pk}\t{amount:.2f}\t{day}\t{semester.start}\n"
                )
                written += 1
        for n in range(per_semester - written):
            school = schools[n % len(schools)]
            rule = next(r for r in rules if r.stage in school.stages)
            ident = make_id_number(
                "340100", dt.date(2005, 1, 1) + dt.timedelta(days=n // 1000), n % 1000
            )
            buffer.write(
                f"{ident}\t非名册\t{school.pk}\t{school.county_id}\t{rule.item_id}\t{semester.pk}\t{rule.top:.2f}\t{semester.deadline}\t{semester.start}\n"
            )
        buffer.seek(0)
        with connection.cursor() as cur:
            cur.cursor.copy_expert(
                f"COPY {Disbursement._meta.db_table} (id_number, name, school_id, county_id, item_id, "
                "semester_id, amount, paid_on, created_at) FROM STDIN",
                buffer,
            )
        print(
            f"  {semester.code} 发放 {per_semester:,} 行已载入（{time.perf_counter() - started:.0f} 秒）",
            flush=True,
        )
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")


def best_of(n: int, fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, value = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild", action="store_true", help="重新生成数据")
    args = parser.parse_args()
    ensure_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from subsidies import selectors
    from subsidies.models import Disbursement, Semester
    from tasks.models import RosterStudent
    from tasks.scoping import EVERYTHING

    # The pages read a cached result (tasks/figures.py); the benchmark times the check
    # itself, never a cache hit.
    omission_check = getattr(selectors, "_omission_check", selectors.omission_check)

    call_command("migrate", "tasks", verbosity=0)
    call_command("migrate", "subsidies", verbosity=0)
    if (
        args.rebuild
        or RosterStudent.objects.count() != ROSTER_SIZE
        or Disbursement.objects.count() != PAYMENTS
    ):
        print("生成数据 …", flush=True)
        build(random.Random(2019))
    semester = Semester.objects.get(code="2019春")
    with connection.cursor() as cur:
        cur.execute("SHOW work_mem")
        work_mem = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM tasks_rosterstudent")
        roster = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE semester_id = %s) FROM subsidies_disbursement",
            [semester.pk],
        )
        payments, in_semester = cur.fetchone()

    def baseline() -> int:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM tasks_rosterstudent r WHERE r.is_active AND NOT EXISTS "
                "(SELECT 1 FROM subsidies_disbursement d WHERE d.semester_id = %s AND d.id_number = r.id_number)",
                [semester.pk],
            )
            return cur.fetchone()[0]

    def check() -> object:
        return omission_check(semester=semester, scope=EVERYTHING, page=1, page_size=50)

    print(
        f"数据：名册 {roster:,} 名，发放 {payments:,} 笔（{semester.code} {in_semester:,} 笔）；work_mem={work_mem}"
    )
    base_time, unpaid = best_of(3, baseline)
    check_time, report = best_of(3, check)
    print(f"基线 NOT EXISTS 计数：{base_time:.3f} 秒（{unpaid:,} 名学生本学期无任何发放）")
    totals = report.totals  # type: ignore[attr-defined]
    print(
        f"查遗补漏（三类问题+另列两类，按县计数+第一页50条）：{check_time:.3f} 秒 — "
        + "，".join(f"{k} {v:,}" for k, v in totals.items())
        + f"；第一页 {len(report.rows)} 条"  # type: ignore[attr-defined]
    )
    print(f"比值 查遗补漏/基线 = {check_time / base_time:.2f}×（目标 ≤ 3×）")


if __name__ == "__main__":
    main()
