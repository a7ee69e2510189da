"""Month end: 7 county bureaus and 200 schools each upload a payment sheet within a few
minutes while 50 users browse.

The real stack on loopback (bench/_stack.py: gunicorn and a Celery worker on PostgreSQL
and Redis) over a province-scale database — the load benchmark's: the demo plus 1,000,000
roster students and 2,000,000 payments from bench/subsidies_omissions.py's generator. The
fall payments of the uploading units' students are taken out of the base, so what they
upload is new and really written, as on the day the September sheets arrive.

Each uploading unit (its own account) logs in, posts its sheet (up to 5,000 rows of
2019秋 payments of its own students) at a random moment of the surge window, waits for the
validation (status.json, as the page's progress bar does), confirms the preview and waits
for the import. Meanwhile 50 users browse the dashboards and lists of their roles.

Prints the time from the first upload until the last one is applied, the validation
latency (posted → preview ready) p50/p95, the import latency, and the pages' p95 during
the surge.

    .venv/bin/python bench/month_end.py [--spread 180] [--users 50] [--rebuild] [--quick]

Database: a base {BENCH_DB_PREFIX or xc_bench}_monthend_base built once (minutes), copied
to …_monthend for each run (CREATE DATABASE … TEMPLATE), so every run starts from the same
state. --quick: 2 % scale, 3 counties and 10 schools of 500 rows, 6 users.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    arguments,
    bench_database,
    check_database,
    database_name,
    figure,
    load_average,
)
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
from bench.load import CITY_PAGES, CITY_USERS, COUNTY_PAGES, COUNTY_USERS  # noqa: E402

PORT = int(os.environ.get("MONTH_END_PORT", "18766"))
VAR = ROOT / "var" / "month_end"
SHEETS = VAR / "sheets"
TODAY = "2019-09-28"  # the surge: the week after the fall deadline (September 25)
PAID_ON = "2019-09-20"
SEMESTER = "2019秋"


def build_base(
    base_url: str, env: dict[str, str], scale: float, counties: int, schools: int, rows: int
) -> None:
    """The base database and one sheet per uploading unit (written into SHEETS)."""
    recreate_database(base_url)
    started = time.perf_counter()
    demo_env = {**env, "XC_TODAY": "2019-06-16"}  # the demo tells its story as of its own day
    manage(demo_env, "migrate", "--noinput", "-v0")
    manage(demo_env, "load_plan")
    manage(demo_env, "seed_demo")
    code = (
        "import random, django; django.setup(); import sys; sys.path.insert(0, 'bench');"
        f"import subsidies_omissions as b; b.ROSTER_SIZE = {int(1_000_000 * scale)};"
        f" b.PAYMENTS = {int(2_000_000 * scale)}; b.build(random.Random(2019))"
    )
    subprocess.run([PY, "-c", code], cwd=ROOT, env=env, check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [PY, __file__, "--prepare", json.dumps([counties, schools, rows])],
        cwd=ROOT,
        env=env,
        check=True,
    )
    print(f"基础库建成：{time.perf_counter() - started:.0f} 秒", file=sys.stderr, flush=True)


def prepare(counties: int, schools: int, rows: int) -> None:
    """Inside the base database (django set up): the uploaders' accounts, their students'
    fall payments taken out, and their sheets written."""
    import django

    check_database(os.environ["DATABASE_URL"])  # the parent named it; checked again all the same

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connection
    from openpyxl import Workbook

    from subsidies import findings
    from subsidies.lookups import semester_rules
    from subsidies.models import Semester, SubsidyItem
    from tasks import roles
    from tasks.models import County, RosterStudent, School, User

    semester = Semester.objects.get(code=SEMESTER)
    rules = semester_rules(semester)
    items = dict(SubsidyItem.objects.values_list("pk", "name"))
    owed: dict[tuple[str, bool], list] = defaultdict(list)
    for rule in rules:
        owed[(rule.stage, rule.boarding)].append(rule)

    # Who uploads: the demo's county accounts (sheets of their schools 50…), and one new
    # account for each of the first schools of every county (the benchmark's schools).
    all_counties = list(County.objects.order_by("order"))
    county_users = COUNTY_USERS[:counties]
    per_county = -(-schools // len(all_counties))
    school_units: list[School] = []
    for county in all_counties:
        school_units += list(
            School.objects.filter(county=county, code__startswith="bench-").order_by("pk")[
                :per_county
            ]
        )
    school_units = school_units[:schools]
    group = Group.objects.get(name=roles.SCHOOL_STAFF)
    password = make_password("demo-2019")
    users = []
    for school in school_units:
        user, _ = User.objects.get_or_create(
            username=f"bench-{school.code}", defaults={"unit": school, "password": password}
        )
        user.groups.add(group)
        users.append((user.username, [school.pk]))
    for username in county_users:
        user = User.objects.get(username=username)
        assert user.unit is not None and user.unit.county_id is not None  # a county bureau
        county_schools = list(
            School.objects.filter(county_id=user.unit.county_id, code__startswith="bench-")
            .order_by("pk")
            .values_list("pk", flat=True)[50:100]
        )
        users.append((username, county_schools))

    SHEETS.mkdir(parents=True, exist_ok=True)
    for old in SHEETS.glob("*.xlsx"):
        old.unlink()
    manifest = []
    chosen_students: list[str] = []
    for username, school_ids in users:
        students = (
            RosterStudent.objects.filter(school_id__in=school_ids, is_active=True)
            .select_related("school")
            .order_by("school_id", "pk")
        )
        out: list[tuple[str, str, str, str, str, str, str]] = []
        for student in students.iterator(chunk_size=5000):
            for rule in owed.get((student.stage, student.boarding), []):
                out.append(
                    (
                        student.id_number,
                        student.name,
                        student.school.name,  # type: ignore[union-attr]
                        items[rule.item_id],
                        SEMESTER,
                        f"{rule.top:.2f}",
                        PAID_ON,
                    )
                )
            chosen_students.append(student.id_number)
            if len(out) >= rows:
                break
        out = out[:rows]
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("发放明细")
        ws.append([f"{SEMESTER}学期资助发放明细"])
        ws.append(["身份证号", "姓名", "就读学校", "资助项目", "学期", "金额(元)", "发放日期"])
        for line in out:
            ws.append(list(line))
        path = SHEETS / f"{username}.xlsx"
        wb.save(path)
        manifest.append({"user": username, "file": path.name, "rows": len(out)})
    # What they are about to send is not in the database yet.
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE chosen (id_number varchar(18) PRIMARY KEY)")
        cur.executemany(
            "INSERT INTO chosen VALUES (%s) ON CONFLICT DO NOTHING",
            [(i,) for i in chosen_students],
        )
        cur.execute(
            "DELETE FROM subsidies_disbursement d USING chosen c "
            "WHERE d.id_number = c.id_number AND d.semester_id = %s",
            [semester.pk],
        )
        print(f"  取出 {cur.rowcount:,} 笔秋季发放", file=sys.stderr, flush=True)
        cur.execute("ANALYZE")
    findings.build()
    (SHEETS / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--prepare", help=argparse.SUPPRESS)  # build_base's second step
    parser.add_argument("--spread", type=int, default=None, help="上传集中到达的时间窗（秒）")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="只建基础库，不测（提前准备）")
    # As deploy/xc-fupin-web.service: on two cores, 3 x 8 threads gave 29 req/s and p95
    # 1.05 s at 50 users (threads queue for the GIL after every database round trip);
    # 4 x 2 gave 36 req/s and p95 0.6 s (2026-11-30, load 2).
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="Celery 工作进程数")
    args = parser.parse_args()
    if args.prepare:  # build_base's child: DATABASE_URL names the (guarded) base already
        prepare(*json.loads(args.prepare))
        return
    quick = args.quick
    scale = args.scale or (0.02 if quick else 1.0)
    counties, schools, rows = (3, 10, 500) if quick else (7, 200, 5000)
    users = args.users or (6 if quick else 50)
    spread = args.spread or (15 if quick else 180)
    tag = "" if scale == 1.0 else f"_{round(scale * 100):03d}"
    base_url = bench_database(f"monthend{tag}_base")
    run_url = bench_database(f"monthend{tag}")
    VAR.mkdir(parents=True, exist_ok=True)
    base_env = stack_env(base_url, var=VAR, today=TODAY, broker_db=12)
    manifest_path = SHEETS / "manifest.json"
    if args.rebuild or not database_exists(base_url) or not manifest_path.exists():
        build_base(base_url, base_env, scale, counties, schools, rows)
    if args.build_only:
        return
    recreate_database(run_url, template=database_name(base_url))
    env = stack_env(run_url, var=VAR, today=TODAY, broker_db=12)
    manifest = json.loads(manifest_path.read_text())
    label = f"{len(manifest)} 个单位，名册 {int(1_000_000 * scale):,}"
    with running(
        env, PORT, workers=args.workers, threads=args.threads, concurrency=args.concurrency
    ):
        surge(manifest, users, spread, label)


def surge(manifest: list[dict], users: int, spread: int, label: str) -> None:
    lock = threading.Lock()
    errors: list[str] = []
    samples: dict[str, list[float]] = defaultdict(list)
    validated: list[float] = []  # posted → preview ready
    imported: list[float] = []  # confirmed → applied
    applied_at: list[float] = []
    rows_done: list[int] = []
    done = threading.Event()
    t_start = time.monotonic()
    load_at_start = load_average()

    def wait_state(session: Session, pk: int, states: set[str], limit: float = 3600) -> str:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            status, body, _ = session.request("GET", f"/uploads/{pk}/status.json")
            if status == 200:
                state = json.loads(body)["state"]
                if state in states:
                    return state
            time.sleep(1.0)
        return "timeout"

    def uploader(entry: dict, delay: float) -> None:
        session = Session(entry["user"], PORT)
        try:
            session.login()
            content = (SHEETS / entry["file"]).read_bytes()
            time.sleep(delay)
            session.request("GET", "/uploads/")
            body, ctype = multipart(
                {
                    "kind": "disbursements",
                    "period": "2019-09",
                    "csrfmiddlewaretoken": session.csrf(),
                },
                "发放明细.xlsx",
                content,
            )
            t0 = time.monotonic()
            status, page, headers = session.request(
                "POST", "/uploads/", body, {"Content-Type": ctype, **session.referer("/uploads/")}
            )
            match = re.search(r"/uploads/(\d+)/", headers.get("location", ""))
            if status != 302 or not match:
                said = re.findall(r'class="errorlist[^"]*">\s*<li>([^<]+)', page.decode())
                raise RuntimeError(f"upload HTTP {status} {said[:2]}")
            pk = int(match.group(1))
            state = wait_state(session, pk, {"previewed", "rejected", "failed", "applied"})
            t1 = time.monotonic()
            if state != "previewed":
                raise RuntimeError(f"upload #{pk} {state}")
            session.request("GET", f"/uploads/{pk}/")
            status, _, _ = session.post_form(f"/uploads/{pk}/confirm/", {})
            if status not in (200, 302):
                raise RuntimeError(f"confirm HTTP {status}")
            state = wait_state(session, pk, {"applied", "failed", "rejected"})
            t2 = time.monotonic()
            if state != "applied":
                raise RuntimeError(f"upload #{pk} {state}")
            with lock:
                validated.append(t1 - t0)
                imported.append(t2 - t1)
                applied_at.append(t2)
                rows_done.append(entry["rows"])
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            with lock:
                errors.append(f"{entry['user']}: {exc}")

    def browse(session: Session, seed: int) -> None:
        local = random.Random(seed)
        pages = CITY_PAGES if session.username in CITY_USERS else COUNTY_PAGES
        while not done.is_set():
            kind, path = local.choice(pages)
            t0 = time.perf_counter()
            try:
                status, _, _ = session.request("GET", path)
                err = f"{path}: HTTP {status}" if status != 200 else ""
            except Exception as exc:  # noqa: BLE001
                err = f"{path}: {exc!r}"
            with lock:
                samples[kind].append(time.perf_counter() - t0)
                if err:
                    errors.append(err)
            time.sleep(local.uniform(0.5, 1.5))

    rng = random.Random(2019)
    browsers = [Session((CITY_USERS + COUNTY_USERS)[i % 10], PORT) for i in range(users)]
    for s in browsers:
        s.login()
    up_threads = [
        threading.Thread(target=uploader, args=(e, rng.uniform(0, spread))) for e in manifest
    ]
    br_threads = [
        threading.Thread(target=browse, args=(s, rng.randrange(10**9)), daemon=True)
        for s in browsers
    ]
    t_start = time.monotonic()
    for t in br_threads + up_threads:
        t.start()
    for t in up_threads:
        t.join()
    done.set()
    for t in br_threads:
        t.join(timeout=30)
    total = (max(applied_at) - t_start) if applied_at else float("nan")
    pages = [v for vs in samples.values() for v in vs]
    print(
        f"{label}：上传 {len(manifest)} 份，成功导入 {len(applied_at)} 份（{sum(rows_done):,} 行），"
        f"开始时负载 {load_at_start}，结束时负载 {load_average()}",
        file=sys.stderr,
    )
    for e in errors[:10]:
        print("  错误：", e[:200], file=sys.stderr)
    where = f"{label}，{users} 人浏览，{spread} 秒内到达"
    figure(f"月末高峰：最后一份导入完成用时（{where}）", f"{total:.0f} 秒")
    figure(
        f"月末高峰：校验延迟 p50 / p95（上传→可预览）（{where}）",
        f"{pct(validated, 50) / 1000:.1f} 秒 / {pct(validated, 95) / 1000:.1f} 秒",
    )
    figure(
        f"月末高峰：导入延迟 p95（确认→已导入）（{where}）",
        f"{pct(imported, 95) / 1000:.1f} 秒",
    )
    figure(f"月末高峰：页面 p95（{where}）", f"{pct(pages, 95):.0f} 毫秒（{len(pages)} 次请求）")
    figure(
        f"月末高峰：失败（{where}）",
        f"{len(errors)}",
        "0",
        not errors and len(applied_at) == len(manifest),
    )


if __name__ == "__main__":
    main()
