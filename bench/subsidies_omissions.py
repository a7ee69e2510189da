"""Benchmark: the omission check at province scale on PostgreSQL.

Builds (or reuses) a separate database per scale — at 1.0, 1,000,000 roster students and
2,000,000 payments over two semesters, loaded with COPY; the findings are then built as
the figures job builds them (subsidies/findings.py) — and times, in three rounds of the
same run, each round both:

- the baseline: a bare NOT EXISTS count of roster students with no payment in the semester;
- the omission check as the page runs it: all three findings plus the two lists kept
  apart, counts per county and the first page of 50 (`selectors._omission_check`, never
  the page cache).

Reports both times (best of three), the ratio of each round and the largest; the target
is ≤ 3.0 in every round. Also times folding a 5,000-payment change into the stored
findings (what an import adds to its transaction) and the single pass the check used to
run (the stored findings' rebuild).

    BENCH_DB_PREFIX=xc_bench .venv/bin/python bench/subsidies_omissions.py [--scales 0.25 1.0] [--rebuild]

One database per scale: {BENCH_DB_PREFIX}_omissions_{scale x 100}, e.g. xc_bench_omissions_100.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xc_fupin.settings")

from bench._common import arguments, bench_database, ensure_database, figure, load_average  # noqa: E402

FULL_ROSTER = 1_000_000
FULL_PAYMENTS = 2_000_000
ROSTER_SIZE = FULL_ROSTER
PAYMENTS = FULL_PAYMENTS


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
    # As after an import: the findings the page reads are built afresh.
    from subsidies import findings

    findings.build()


def best_of(n: int, fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, value = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t)
    return best, value


def scale_label(scale: float) -> str:
    return f"名册 {int(FULL_ROSTER * scale):,} × 发放 {int(FULL_PAYMENTS * scale):,}"


def run_scale(scale: float, rebuild: bool) -> None:
    global ROSTER_SIZE, PAYMENTS
    ROSTER_SIZE, PAYMENTS = int(FULL_ROSTER * scale), int(FULL_PAYMENTS * scale)
    url = bench_database(f"omissions_{round(scale * 100):03d}", override_env="BENCH_DATABASE_URL")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from subsidies import findings, selectors
    from subsidies.models import Disbursement, Semester
    from tasks.models import RosterStudent
    from tasks.scoping import EVERYTHING

    call_command("migrate", verbosity=0)
    if (
        rebuild
        or RosterStudent.objects.count() != ROSTER_SIZE
        or Disbursement.objects.count() != PAYMENTS
    ):
        print(f"生成数据（{scale_label(scale)}）…", flush=True)
        build(random.Random(2019))
    semester = Semester.objects.get(code="2019春")
    label = scale_label(scale)
    if not findings.is_built(semester):
        t = time.perf_counter()
        counts = findings.build()
        print(f"建立留存的核查结果：{time.perf_counter() - t:.1f} 秒 {counts}", flush=True)
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
        return selectors._omission_check(semester=semester, scope=EVERYTHING, page=1, page_size=50)

    print(
        f"数据：名册 {roster:,} 名，发放 {payments:,} 笔（{semester.code} {in_semester:,} 笔）；"
        f"work_mem={work_mem}；负载 {load_average()}",
        flush=True,
    )
    base_times, check_times, ratios = [], [], []
    report = unpaid = None
    for _round in range(3):
        bt, unpaid = best_of(3, baseline)
        ct, report = best_of(3, check)
        base_times.append(bt)
        check_times.append(ct)
        ratios.append(ct / bt)
    totals = report.totals  # type: ignore[attr-defined]
    print(f"基线 NOT EXISTS 计数：{min(base_times):.3f} 秒（{unpaid:,} 名学生本学期无任何发放）")
    print(
        f"查遗补漏（三类问题+另列两类，按县计数+第一页50条）：{min(check_times):.3f} 秒 — "
        + "，".join(f"{k} {v:,}" for k, v in totals.items())
        + f"；第一页 {len(report.rows)} 条"  # type: ignore[attr-defined]
    )
    print("比值 查遗补漏/基线（三轮）= " + "、".join(f"{r:.2f}×" for r in ratios) + "（目标 ≤ 3×）")
    figure(f"基线 NOT EXISTS 计数（{label}）", f"{min(base_times):.3f} 秒")
    figure(f"查遗补漏 三类问题+另列两类+按县计数+首页（{label}）", f"{min(check_times):.3f} 秒")
    figure(
        f"查遗补漏/基线 比值，三轮（{label}）",
        "、".join(f"{r:.2f}×" for r in ratios),
        "每轮 ≤ 3.0×",
        max(ratios) <= 3.0,
    )

    # What an import adds to its transaction: 5,000 payments changed, folded in set-based.
    changed = min(5000, max(1, in_semester // 10))
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE subsidies_disbursement SET paid_on = paid_on + 1 WHERE id IN "
                "(SELECT id FROM subsidies_disbursement WHERE semester_id = %s ORDER BY id LIMIT %s)",
                [semester.pk, changed],
            )
        t = time.perf_counter()
        findings.refresh()
        refresh_time = time.perf_counter() - t
        transaction.set_rollback(True)
    figure(f"导入后更新留存结果（{changed:,} 笔发放变动，{label}）", f"{refresh_time:.3f} 秒")
    with transaction.atomic():
        t = time.perf_counter()
        findings.build([semester])
        build_time = time.perf_counter() - t
        transaction.set_rollback(True)
    figure(f"整学期重算留存结果（原单遍核查，{label}）", f"{build_time:.2f} 秒")


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--rebuild", action="store_true", help="重新生成数据")
    parser.add_argument(
        "--scales", type=float, nargs="+", default=None, help="规模（1.0 = 100万×200万）"
    )
    args = parser.parse_args()
    if args.scales:
        scales = args.scales
    elif args.quick:
        scales = [0.01]
    elif args.scale is not None:
        scales = [args.scale]
    else:
        scales = [0.25, 1.0]
    if len(scales) == 1:
        run_scale(scales[0], args.rebuild)
        return
    # One process per scale: each has its own database and Django connects to one.
    for scale in scales:
        command = [sys.executable, __file__, "--scales", str(scale)]
        if args.rebuild:
            command.append("--rebuild")
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
