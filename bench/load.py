"""Load: concurrent logged-in users browse dashboards and lists while uploads are validated.

Runs the real stack on loopback: gunicorn (gthread) and a Celery worker on PostgreSQL and
Redis, over a province-scale database (1,000,000 roster students and 2,000,000 payments,
built by bench/subsidies_omissions.py's generator, plus the demo data for everything else).
Each virtual user logs in through the login page, then loops over the pages of their role
with a think time (uniform 0.5–1.5 s, like a person reading a page); one uploader posts a
5,000-row disbursement sheet every 15 s, which the worker validates meanwhile.

Prints requests per second, p50/p95/p99 latency per page group and overall, and errors.
Target: p95 under 300 ms for dashboard and list pages at 50 users, zero errors.

    .venv/bin/python bench/load.py [--users 50] [--seconds 60] [--rebuild]

Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DB_URL = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xc_load")
PORT = int(os.environ.get("LOAD_PORT", "8765"))
VAR = ROOT / "var" / "load"
ENV = {
    **os.environ,
    "DATABASE_URL": DB_URL,
    "CELERY_BROKER_URL": os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/11"),
    "SECRET_KEY": "load-test-key-not-secret-" + "x" * 30,
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1",
    "XC_TODAY": "2019-06-16",
    "XC_VAR_DIR": str(VAR),
    "MEDIA_ROOT": str(VAR / "media"),
    "STATIC_ROOT": str(VAR / "static"),
    "DJANGO_SETTINGS_MODULE": "xc_fupin.settings",
    "PYTHONPATH": str(ROOT),
}
ENV.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

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


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=ENV, check=True)  # noqa: S603


def database_exists() -> bool:
    import psycopg2

    name = DB_URL.rsplit("/", 1)[1]
    admin = psycopg2.connect(DB_URL.rsplit("/", 1)[0] + "/postgres")
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cur.fetchone() is not None
    admin.close()
    return found


def build() -> None:
    import psycopg2

    name = DB_URL.rsplit("/", 1)[1]
    admin = psycopg2.connect(DB_URL.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    started = time.perf_counter()
    manage("migrate", "--noinput", "-v0")
    manage("load_plan")
    manage("seed_demo")
    # Province scale for the subsidy tables, with the subsidies benchmark's generator.
    code = (
        "import random, django; django.setup(); import sys; sys.path.insert(0, 'bench');"
        "import subsidies_omissions as b; b.build(random.Random(2019))"
    )
    subprocess.run(
        [PY, "-c", code], cwd=ROOT, env={**ENV, "BENCH_DATABASE_URL": DB_URL}, check=True
    )  # noqa: S603
    manage("check_deadlines")
    print(f"built {name} in {time.perf_counter() - started:.0f} s", flush=True)


class Session:
    def __init__(self, username: str) -> None:
        self.username = username
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)

    def _cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        h = {"Cookie": self._cookie_header(), "Host": "127.0.0.1"}
        h.update(headers or {})
        try:
            self.conn.request(method, path, body=body, headers=h)
            resp = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
            self.conn.request(method, path, body=body, headers=h)
            resp = self.conn.getresponse()
        data = resp.read()
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie":
                k, _, rest = value.partition("=")
                self.cookies[k] = rest.split(";", 1)[0]
        return resp.status, data

    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")

    def login(self) -> None:
        self.request("GET", "/accounts/login/")
        body = urllib.parse.urlencode(
            {"username": self.username, "password": "demo-2019", "csrfmiddlewaretoken": self.csrf()}
        ).encode()
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{PORT}/",
            },
        )
        if status != 302:
            raise RuntimeError(f"login failed for {self.username}: {status}")


def disbursement_sheet(rows: int) -> bytes:
    import psycopg2
    from openpyxl import Workbook

    conn = psycopg2.connect(DB_URL)
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
    ws.append(["宣州区2019年秋季学期资助发放明细"])
    ws.append(["身份证号", "姓名", "就读学校", "资助项目", "学期", "金额(元)", "发放日期"])
    for ident, name, school in students:
        ws.append(
            [ident, name, school, "义务教育家庭经济困难学生生活补助", "2019秋", "250", "2019-09-20"]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = "----xcload" + str(random.randrange(10**9))
    parts = []
    for k, v in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    VAR.mkdir(parents=True, exist_ok=True)
    if args.rebuild or not database_exists():
        build()
    manage("migrate", "--noinput", "-v0")
    manage("createcachetable")
    # What the beat job does after data changes: dashboards open on warm figures.
    manage("warm_figures")
    manage("collectstatic", "--noinput", "-v0")
    server = subprocess.Popen(  # noqa: S603
        [
            PY,
            "-m",
            "gunicorn",
            "xc_fupin.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--worker-class",
            "gthread",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=ENV,
    )
    worker = subprocess.Popen(  # noqa: S603
        [PY, "-m", "celery", "-A", "xc_fupin", "worker", "--concurrency", "1", "-l", "WARNING"],
        cwd=ROOT,
        env=ENV,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request(
                    "GET", "/accounts/login/"
                )
                break
            except OSError:
                time.sleep(0.3)
        run(args)
    finally:
        server.terminate()
        worker.terminate()
        server.wait(timeout=30)
        worker.wait(timeout=30)


def run(args: argparse.Namespace) -> None:
    names = [(CITY_USERS + COUNTY_USERS)[i % 10] for i in range(args.users)]
    sessions = [Session(n) for n in names]
    for s in sessions:
        s.login()
    # Warm each page once (first-hit costs are not what users see all day).
    for _kind, path in CITY_PAGES:
        sessions[0].request("GET", path)
    samples: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds
    rng = random.Random(7)

    def browse(session: Session, seed: int) -> None:
        local = random.Random(seed)
        pages = CITY_PAGES if session.username in CITY_USERS else COUNTY_PAGES
        while time.monotonic() < stop:
            kind, path = local.choice(pages)
            t0 = time.perf_counter()
            try:
                status, _ = session.request("GET", path)
            except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                status = 0
                err = f"{path}: {exc!r}"
            else:
                err = f"{path}: HTTP {status}" if status != 200 else ""
            elapsed = time.perf_counter() - t0
            with lock:
                samples[kind].append(elapsed)
                if err:
                    errors.append(err)
            time.sleep(local.uniform(0.5, 1.5))

    uploads: list[float] = []

    def upload() -> None:
        session = Session("xuanzhou")
        session.login()
        content = disbursement_sheet(5000)
        while time.monotonic() < stop:
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
            t0 = time.perf_counter()
            status, _ = session.request(
                "POST",
                "/uploads/",
                body,
                {"Content-Type": ctype, "Referer": f"http://127.0.0.1:{PORT}/uploads/"},
            )
            uploads.append(time.perf_counter() - t0)
            if status != 302:
                with lock:
                    errors.append(f"upload: HTTP {status}")
            time.sleep(15)

    threads = [threading.Thread(target=browse, args=(s, rng.randrange(10**9))) for s in sessions]
    threads.append(threading.Thread(target=upload))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started

    def pct(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    everything = [v for vs in samples.values() for v in vs]
    print(
        f"users {args.users}, {args.seconds} s, gunicorn {args.workers}x{args.threads} gthread, think time 0.5–1.5 s"
    )
    print(f"requests {len(everything)}, {len(everything) / wall:.1f} req/s, errors {len(errors)}")
    for kind in sorted(samples):
        v = samples[kind]
        print(
            f"  {kind:9s} n={len(v):5d}  p50 {pct(v, 50):6.0f} ms  p95 {pct(v, 95):6.0f} ms  p99 {pct(v, 99):6.0f} ms  mean {statistics.mean(v) * 1000:6.0f} ms"
        )
    print(
        f"  {'all':9s} n={len(everything):5d}  p50 {pct(everything, 50):6.0f} ms  p95 {pct(everything, 95):6.0f} ms  p99 {pct(everything, 99):6.0f} ms"
    )
    print(f"uploads posted {len(uploads)} (5,000 rows each, validated by the worker meanwhile)")
    for e in sorted(set(errors))[:10]:
        print("  error:", re.sub(r"\s+", " ", e)[:200])


if __name__ == "__main__":
    main()
