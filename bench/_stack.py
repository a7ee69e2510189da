"""The real stack on loopback for the load benchmarks (bench/load.py, bench/month_end.py).

gunicorn (gthread) and a Celery worker run as child processes on a benchmark database
(PostgreSQL) and Redis; `Session` is a small logged-in HTTP client. It is deliberately
plain `http.client` in threads: the load generator shares the two cores with the server,
and a heavier client (a browser, or a framework with its own event loop per user) would
take more of them than the pages it measures.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# The demo's password (tasks/demo.py); benchmark users get the same. Not a secret.
PASSWORD = "demo-2019"  # noqa: S105


def stack_env(db_url: str, *, var: Path, today: str, broker_db: int) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": os.environ.get(
            "LOAD_BROKER_URL", f"redis://127.0.0.1:6379/{broker_db}"
        ),
        "SECRET_KEY": "load-test-key-not-secret-" + "x" * 30,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "XC_TODAY": today,
        "XC_VAR_DIR": str(var),
        "MEDIA_ROOT": str(var / "media"),
        "STATIC_ROOT": str(var / "static"),
        "DJANGO_SETTINGS_MODULE": "xc_fupin.settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def recreate_database(url: str, template: str | None = None) -> None:
    """Drop and create the (already guarded) database, optionally as a copy of `template`."""
    import psycopg2

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    admin.close()


def database_exists(url: str) -> bool:
    import psycopg2

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cur.fetchone() is not None
    admin.close()
    return found


@contextlib.contextmanager
def running(
    env: dict[str, str], port: int, *, workers: int, threads: int, concurrency: int = 1
) -> Iterator[None]:
    """gunicorn and one Celery worker, up until the block ends."""
    try:
        http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
    except OSError:
        pass  # free, as it should be
    else:
        # Something else answers there: measuring it would measure the wrong server.
        raise SystemExit(f"端口 {port} 已被其他程序占用；请换一个端口（见脚本说明的环境变量）")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "createcachetable")
    # What the beat job does after data changes: dashboards open on warm figures.
    manage(env, "warm_figures")
    manage(env, "collectstatic", "--noinput", "-v0")
    server = subprocess.Popen(  # noqa: S603
        [
            PY,
            "-m",
            "gunicorn",
            "xc_fupin.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    worker = subprocess.Popen(  # noqa: S603
        [
            PY,
            "-m",
            "celery",
            "-A",
            "xc_fupin",
            "worker",
            "--concurrency",
            str(concurrency),
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(200):
            if server.poll() is not None:
                raise SystemExit(f"gunicorn 未能启动（退出码 {server.returncode}）")
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                    "GET", "/accounts/login/"
                )
                break
            except OSError:
                time.sleep(0.3)
        yield
    finally:
        server.terminate()
        worker.terminate()
        server.wait(timeout=30)
        worker.wait(timeout=60)


class Session:
    """One logged-in user: cookies, CSRF token and a kept-alive connection."""

    def __init__(self, username: str, port: int) -> None:
        self.username = username
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def _cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        h = {"Cookie": self._cookie_header(), "Host": "127.0.0.1"}
        h.update(headers or {})
        try:
            self.conn.request(method, path, body=body, headers=h)
            resp = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.conn.request(method, path, body=body, headers=h)
            resp = self.conn.getresponse()
        data = resp.read()
        found: dict[str, str] = {}
        for header, value in resp.getheaders():
            found[header.lower()] = value
            if header.lower() == "set-cookie":
                k, _, rest = value.partition("=")
                self.cookies[k] = rest.split(";", 1)[0]
        return resp.status, data, found

    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")

    def referer(self, path: str = "/") -> dict[str, str]:
        return {"Referer": f"http://127.0.0.1:{self.port}{path}"}

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": self.csrf()}).encode()
        return self.request(
            "POST",
            path,
            body,
            {"Content-Type": "application/x-www-form-urlencoded", **self.referer(path)},
        )

    def login(self) -> None:
        self.request("GET", "/accounts/login/")
        status, body, _ = self.post_form(
            "/accounts/login/", {"username": self.username, "password": PASSWORD}
        )
        if status != 302:
            text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body.decode(errors="replace")))
            raise RuntimeError(f"login failed for {self.username}: HTTP {status} {text[:300]}")


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


def pct(values: list[float], p: float) -> float:
    """The p-th percentile in milliseconds (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000
