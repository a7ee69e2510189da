from __future__ import annotations

import io
import os
from typing import Any

import pytest
from django.core.management import call_command

from tasks import roles
from tasks.models import Task

from .factories import make_school, make_user

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests
# make around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _plain_static(settings: Any) -> None:
    # The manifest storage needs collectstatic; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _no_lockouts(settings: Any) -> None:
    # Client.login() authenticates without a request, which django-axes refuses; the
    # lockout itself is tested through the real login page in tests/test_security.py.
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _no_cache(settings: Any) -> None:
    # Figures are cached under a data version; tests make rows directly, without moving
    # it, so they run uncached (tests/tasks/test_figures.py turns the cache on).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # PBKDF2 costs ~0.26 s a password on this machine; the personas and every seed_demo
    # make a dozen. Hashing strength is not what these tests test (Django's advice).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_demo_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XC_TODAY", raising=False)


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Any:
    """The plan and the demo, seeded once for a whole test module and rolled back after it.

    seed_demo replays a semester through the real services (~20 s on PostgreSQL); the
    modules that walk every page over the demo (isolation, admin privacy) ask for the same
    data in every test. Each test still runs in its own savepoint inside this transaction
    (pytest-django's `db`), so what a test changes is undone before the next. Modules using
    it must not use `transactional_db` or `live_server` (another connection would not see
    uncommitted rows). Returns the MEDIA_ROOT the demo's files were written to; a module
    keeps it for its tests by overriding `_media`.
    """
    from django.db import transaction
    from django.test.utils import override_settings

    media = tmp_path_factory.mktemp("demo-media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
        ),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("load_plan", stdout=io.StringIO())
            call_command("seed_demo", stdout=io.StringIO())
            yield media
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def plan(db: Any) -> None:
    """The 2019 plan, units and roles, as `load_plan` loads them."""
    if not Task.objects.exists():
        call_command("load_plan", stdout=io.StringIO())


@pytest.fixture
def city_reviewer(plan: None) -> Any:
    return make_user("city_reviewer", "city-jcc", roles.CITY_REVIEWER, first_name="计财科审核员")


@pytest.fixture
def section_staff(plan: None) -> Any:
    return make_user("jijiao_staff", "city-jjk", roles.CITY_SECTION)


@pytest.fixture
def leader(plan: None) -> Any:
    return make_user("leader", "city", roles.LEADER)


@pytest.fixture
def xuanzhou_staff(plan: None) -> Any:
    return make_user("xuanzhou_staff", "xuanzhou-jtj", roles.COUNTY_STAFF, first_name="宣州区")


@pytest.fixture
def langxi_staff(plan: None) -> Any:
    return make_user("langxi_staff", "langxi-jtj", roles.COUNTY_STAFF, first_name="郎溪县")


@pytest.fixture
def xuanzhou_school(plan: None) -> Any:
    return make_school("xuanzhou", "宣州区实验小学", "3134001001", ["小学"])


@pytest.fixture
def langxi_school(plan: None) -> Any:
    return make_school("langxi", "郎溪县实验小学", "3134002001", ["小学"])


@pytest.fixture
def school_staff(xuanzhou_school: Any) -> Any:
    return make_user("school_staff", xuanzhou_school.code, roles.SCHOOL_STAFF)


@pytest.fixture
def admin_user(plan: None) -> Any:
    return make_user("admin", "city", roles.ADMINISTRATOR, is_staff=True, is_superuser=True)


@pytest.fixture
def worker_factory(transactional_db: Any, settings: Any, tmp_path: Any) -> Any:
    """Start real Celery worker processes on the real Redis broker and the test database.

    `start(**env)` returns the process; its log is at `proc.log_path`. Jobs sent from
    the test go to a queue only these workers consume. Skips unless CELERY_BROKER_URL is
    redis:// and the database is PostgreSQL (a worker in another process cannot see
    SQLite's in-memory test database).
    """
    import subprocess
    import sys
    import time
    import uuid

    from django.db import connection

    from xc_fupin.celery_app import app

    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://") or connection.vendor != "postgresql":
        if os.environ.get("XC_REQUIRE_BROKER"):
            pytest.fail(
                "real workers need CELERY_BROKER_URL=redis://… and DATABASE_URL=postgres://…"
            )
        pytest.skip("needs a Redis broker and PostgreSQL")
    db = connection.settings_dict
    queue = f"test-{uuid.uuid4().hex[:8]}"
    base_env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    old_queue = app.conf.task_default_queue

    def route_to(name: str) -> None:
        # Celery caches its queues and router on first use; drop them so sends follow.
        app.conf.task_default_queue = name
        for attr in ("default_queue", "queues", "router"):
            app.amqp.__dict__.pop(attr, None)

    route_to(queue)
    # Start from fresh broker connections: an earlier test in this process may have
    # closed kombu's process-wide pool (the broker-down tests do, and with pytest-xdist
    # which tests ran before this one depends on the distribution), and a send through a
    # closed pool fails with "Acquire on closed pool" or is parked for uploads_resume.
    from kombu import pools as kombu_pools

    celery: Any = app  # Celery's cached pools are untyped
    app.set_current()  # shared tasks send through the current app: ours, not a probe's
    kombu_pools.reset()
    celery._pool = None
    celery.amqp._producer_pool = None
    procs: list[Any] = []

    def start(**extra_env: str) -> Any:
        n = len(procs)
        log = tmp_path / f"worker{n}.log"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "xc_fupin",
                "worker",
                "-Q",
                queue,
                "--pool=solo",
                "-l",
                "INFO",
                "-n",
                f"{queue}-{n}@%h",
            ],
            env={**base_env, **extra_env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        proc.log_path = log  # type: ignore[attr-defined]
        procs.append(proc)
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Celery worker did not start:\n" + log.read_text())
            time.sleep(0.2)
        return proc

    try:
        yield start
    finally:
        route_to(old_queue)
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


@pytest.fixture
def live_worker(worker_factory: Any) -> Any:
    """One real Celery worker (see worker_factory)."""
    return worker_factory()


def wait_for(predicate: Any, timeout: float = 60.0) -> Any:
    """Poll until predicate() is truthy (for work done by another process)."""
    import time

    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for the worker")
        time.sleep(0.3)


@pytest.fixture(scope="session")
def browser() -> Any:
    """One headless Debian Chromium for the whole run (Playwright's sync API cannot be
    started twice in one process, so this fixture lives here and nowhere else)."""
    from .browser import ARGS, CHROMIUM

    if not os.path.exists(CHROMIUM):
        if os.environ.get("XC_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()
