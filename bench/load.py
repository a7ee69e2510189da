"""Load: concurrent logged-in users browse dashboards and lists while uploads are validated.

Runs the real stack on loopback: gunicorn (gthread) and a Celery worker on PostgreSQL and
Redis, over a province-scale database (1,000,000 roster students and 2,000,000 payments,
built by bench/subsidies_omissions.py's generator, plus the demo data for everything else).
Each virtual user logs in through the login page, then loops over the pages of their role
with a think time (uniform 0.5–1.5 s, like a person reading a page); one uploader posts a
5,000-row disbursement sheet every 15 s, which the worker validates meanwhile.

Prints requests per second, p50/p95/p99 latency per page group and overall, and errors.
Target: p95 under 300 ms for dashboard and list pages at 50 users, zero errors.

    .venv/bin/python bench/load.py [--users 50] [--seconds 60] [--rebuild] [--quick]

Database: {BENCH_DB_PREFIX or xc_bench}_load (built on first use; --quick builds a 2 %
one, …_load_002), or LOAD_DATABASE_URL (which must name a benchmark database).
Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import arguments, bench_database, figure, load_average  # noqa: E402
from bench._stack import (  # noqa: E402
    PY,
    Session,
    database_exists,
    manage,
    multipart,
    pct,
    recreate_database,
    running,
    stack_env,
)

PORT = int(os.environ.get("LOAD_PORT", "18765"))
VAR = ROOT / "var" / "load"
TARGET_MS = 300

CITY_PAGES = [
    ("dashboard", "/subsidies/"),
    ("dashboard", "/dropout/"),
    ("dashboard", "/"),
    ("list", "/subsidies/omissions/"),
    ("list", "/dropout/cases/"),
    ("list", "/reports/"),
    ("list", "/reports/calendar/"),
    ("list", "/uploads/"),
    ("detail", "/tasks/3/"),
]
COUNTY_PAGES = [
    ("dashboard", "/subsidies/"),
    ("dashboard", "/dropout/"),
    ("dashboard", "/"),
    ("list", "/mine/"),
    ("list", "/subsidies/omissions/"),
    ("list", "/dropout/cases/"),
    ("list", "/reports/inbox/"),
    ("list", "/uploads/"),
]
CITY_USERS = ["reviewer", "leader", "jijiao"]
COUNTY_USERS = ["xuanzhou", "langxi", "guangde", "jingxian", "jixi", "jingde", "ningguo"]


def build(db_url: str, env: dict[str, str], roster: int, payments: int) -> None:
    recreate_database(db_url)
    started = time.perf_counter()
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_plan")
    manage(env, "seed_demo")
    # Province scale for the subsidy tables, with the subsidies benchmark's generator.
    code = (
        "import random, django; django.setup(); import sys; sys.path.insert(0, 'bench');"
        f"import subsidies_omissions as b; b.ROSTER_SIZE = {roster}; b.PAYMENTS = {payments};"
        "b.build(random.Random(2019))"
    )
    subprocess.run([PY, "-c", code], cwd=ROOT, env=env, check=True)  # noqa: S603
    manage(env, "check_deadlines")
    print(f"built {db_url.rsplit('/', 1)[1]} in {time.perf_counter() - started:.0f} s", flush=True)


def disbursement_sheet(db_url: str, rows: int) -> bytes:
    import psycopg2
    from openpyxl import Workbook

    conn = psycopg2.connect(db_url)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT r.id_number, r.name, u.name FROM tasks_rosterstudent r JOIN tasks_unit u ON u.id = r.school_id "
            "JOIN tasks_county c ON c.id = r.county_id WHERE c.slug = 'xuanzhou' ORDER BY r.id DESC LIMIT %s",
            [rows],
        )
        students = cur.fetchall()
    conn.close()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("发放明细")
    ws.append(["宣州区2019年春季学期资助发放明细"])
    ws.append(["身份证号", "姓名", "就读学校", "资助项目", "学期", "金额(元)", "发放日期"])
    for ident, name, school in students:
        ws.append(
            [ident, name, school, "义务教育家庭经济困难学生生活补助", "2019春", "250", "2019-06-10"]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--seconds", type=int, default=None)
    # As deploy/xc-fupin-web.service: on two cores, 3 x 8 threads gave 29 req/s and p95
    # 1.05 s at 50 users (threads queue for the GIL after every database round trip);
    # 4 x 2 gave 36 req/s and p95 0.6 s (2026-11-30, load 2).
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="只建库，不测（提前准备）")
    args = parser.parse_args()
    scale = args.scale or (0.02 if args.quick else 1.0)
    users = args.users or (6 if args.quick else 50)
    seconds = args.seconds or (15 if args.quick else 60)
    roster, payments = int(1_000_000 * scale), int(2_000_000 * scale)
    suffix = "load" if scale == 1.0 else f"load_{round(scale * 100):03d}"
    db_url = bench_database(suffix, override_env="LOAD_DATABASE_URL")
    VAR.mkdir(parents=True, exist_ok=True)
    env = stack_env(db_url, var=VAR, today="2019-06-16", broker_db=11)
    if args.rebuild or not database_exists(db_url):
        build(db_url, env, roster, payments)
    if args.build_only:
        return
    with running(env, PORT, workers=args.workers, threads=args.threads):
        run(db_url, users, seconds, args, f"名册 {roster:,} × 发放 {payments:,}")


def run(db_url: str, users: int, seconds: int, args: argparse.Namespace, label: str) -> None:
    names = [(CITY_USERS + COUNTY_USERS)[i % 10] for i in range(users)]
    sessions = [Session(n, PORT) for n in names]
    for s in sessions:
        s.login()
    # Warm each page once (first-hit costs are not what users see all day).
    for _kind, path in CITY_PAGES:
        sessions[0].request("GET", path)
    samples: dict[str, list[float]] = defaultdict(list)
    by_path: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    load_at_start = load_average()
    stop = time.monotonic() + seconds
    rng = random.Random(7)

    def browse(session: Session, seed: int) -> None:
        local = random.Random(seed)
        pages = CITY_PAGES if session.username in CITY_USERS else COUNTY_PAGES
        while time.monotonic() < stop:
            kind, path = local.choice(pages)
            t0 = time.perf_counter()
            try:
                status, _, _ = session.request("GET", path)
            except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                status = 0
                err = f"{path}: {exc!r}"
            else:
                err = f"{path}: HTTP {status}" if status != 200 else ""
            elapsed = time.perf_counter() - t0
            with lock:
                samples[kind].append(elapsed)
                by_path[path].append(elapsed)
                if err:
                    errors.append(err)
            time.sleep(local.uniform(0.5, 1.5))

    uploads: list[float] = []

    def upload() -> None:
        session = Session("xuanzhou", PORT)
        session.login()
        content = disbursement_sheet(db_url, 5000)
        while time.monotonic() < stop:
            session.request("GET", "/uploads/")
            body, ctype = multipart(
                {
                    "kind": "disbursements",
                    "period": "2019-06",
                    "csrfmiddlewaretoken": session.csrf(),
                },
                "发放明细.xlsx",
                content,
            )
            t0 = time.perf_counter()
            status, _, _ = session.request(
                "POST", "/uploads/", body, {"Content-Type": ctype, **session.referer("/uploads/")}
            )
            uploads.append(time.perf_counter() - t0)
            if status != 302:
                with lock:
                    errors.append(f"upload: HTTP {status}")
            time.sleep(15)

    threads = [threading.Thread(target=browse, args=(s, rng.randrange(10**9))) for s in sessions]
    threads.append(threading.Thread(target=upload))
    started = time.monotonic()
    cpu_before = os.times()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    cpu_after = os.times()
    # The generator shares the two cores with the server: how much of them it took.
    generator_cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)

    everything = [v for vs in samples.values() for v in vs]
    print(
        f"users {users}, {seconds} s, gunicorn {args.workers}x{args.threads} gthread, "
        f"think time 0.5–1.5 s, load at start {load_at_start}",
        file=sys.stderr,
    )
    print(
        f"requests {len(everything)}, {len(everything) / wall:.1f} req/s, errors {len(errors)}",
        file=sys.stderr,
    )
    for kind in sorted(samples):
        v = samples[kind]
        print(
            f"  {kind:9s} n={len(v):5d}  p50 {pct(v, 50):6.0f} ms  p95 {pct(v, 95):6.0f} ms  "
            f"p99 {pct(v, 99):6.0f} ms  mean {statistics.mean(v) * 1000:6.0f} ms",
            file=sys.stderr,
        )
    # Per page, slowest first: which page a p95 over target comes from.
    for path, v in sorted(by_path.items(), key=lambda kv: -pct(kv[1], 95)):
        print(
            f"    {path:28s} n={len(v):4d}  p50 {pct(v, 50):6.0f} ms  p95 {pct(v, 95):6.0f} ms",
            file=sys.stderr,
        )
    print(
        f"load generator CPU {generator_cpu:.1f} s in {wall:.0f} s "
        f"({generator_cpu / wall * 100:.0f}% of one core)",
        file=sys.stderr,
    )
    print(f"uploads posted {len(uploads)} (5,000 rows each)", file=sys.stderr)
    for e in sorted(set(errors))[:10]:
        print("  error:", re.sub(r"\s+", " ", e)[:200], file=sys.stderr)
    where = f"{users} 用户，{label}"
    for kind, title in (("dashboard", "首页与看板"), ("list", "列表页"), ("detail", "详情页")):
        if samples.get(kind):
            p95 = pct(samples[kind], 95)
            figure(
                f"负载：{title} p95（{where}）",
                f"{p95:.0f} 毫秒",
                f"< {TARGET_MS} 毫秒",
                p95 < TARGET_MS,
            )
    figure(f"负载：吞吐（{where}）", f"{len(everything) / wall:.1f} 请求/秒")
    figure(f"负载：错误（{where}）", f"{len(errors)}", "0", not errors)


if __name__ == "__main__":
    main()
