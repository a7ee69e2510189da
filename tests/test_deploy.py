"""The production path for real: Debian's nginx, configured from deploy/'s template, in
front of gunicorn, on loopback (non-root: every nginx path is in a temporary folder).

Skipped when nginx is not installed, unless XC_REQUIRE_NGINX is set (CI, .ci/run).
"""

from __future__ import annotations

import configparser
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
NGINX = "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: Any, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited:\n{log.read_text()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"port {port} never opened:\n{log.read_text()}")


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET without following redirects, trusting the test's self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect())
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def stop(proc: Any) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    if not os.path.exists(NGINX):
        if os.environ.get("XC_REQUIRE_NGINX"):
            pytest.fail(f"{NGINX} is missing (apt-get install nginx)")
        pytest.skip("Debian nginx is not installed")
    static = tmp_path / "static"
    env = {
        **os.environ,
        "DEBUG": "0",
        "HTTPS": "1",
        "SECRET_KEY": "test-deploy-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(static),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "XC_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("XC_TODAY", None)
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=localhost", "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True,
        capture_output=True,
    )  # fmt: skip
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    rendered = subprocess.run(
        [str(ROOT / "deploy" / "render-nginx")],
        env={
            **os.environ,
            "SERVER_NAME": "localhost 127.0.0.1",
            "HTTP_PORT": f"127.0.0.1:{http_port}",
            "HTTPS_PORT": f"127.0.0.1:{https_port}",
            "UPSTREAM": f"127.0.0.1:{app_port}",
            "STATIC_ROOT": str(static),
            "TLS_CERT": str(tmp_path / "cert.pem"),
            "TLS_KEY": str(tmp_path / "key.pem"),
        },
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (tmp_path / "site.conf").write_text(rendered)
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    # The site config goes in as Debian's nginx.conf includes sites-enabled/*; the rest
    # moves every path nginx writes into the test's folder.
    (tmp_path / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"""
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log {tmp_path}/nginx-access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {tmp_path}/site.conf;
}}
"""
    )
    web_log = tmp_path / "gunicorn.log"
    web = subprocess.Popen(
        [python, "-m", "gunicorn", "xc_fupin.wsgi", "--bind", f"127.0.0.1:{app_port}",
         "--workers", "1", "--forwarded-allow-ips", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=web_log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    nginx_log = tmp_path / "nginx.log"
    nginx = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-e", str(tmp_path / "nginx-error.log"),
         "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stdout=nginx_log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_port(app_port, web, web_log)
        wait_port(https_port, nginx, nginx_log)
        yield {
            "https": f"https://127.0.0.1:{https_port}",
            "http": f"http://127.0.0.1:{http_port}",
            "web": web,
            "static": static,
            "config": rendered,
        }
    finally:
        stop(nginx)
        stop(web)


def test_nginx_serves_pages_from_gunicorn_and_static_files_itself(site: dict[str, Any]) -> None:
    status, headers, body = fetch(site["https"] + "/accounts/login/")
    assert status == 200, body[:500]
    assert "登录" in body.decode()
    # Django saw https through X-Forwarded-Proto: HSTS and secure cookies, no redirect loop.
    assert "max-age=" in headers.get("Strict-Transport-Security", "")
    assert "Secure" in headers.get("Set-Cookie", "")
    status, headers, _b = fetch(site["http"] + "/accounts/login/")
    assert status == 301 and headers["Location"].startswith("https://")

    manifest = json.loads((site["static"] / "staticfiles.json").read_text())
    css = manifest["paths"]["css/app.css"]
    status, headers, body = fetch(f"{site['https']}/static/{css}")
    assert status == 200 and body == (site["static"] / css).read_bytes()
    assert "immutable" in headers.get("Cache-Control", "")

    # nginx, not the app, serves static files: they stay up while gunicorn is down.
    stop(site["web"])
    assert fetch(f"{site['https']}/static/{css}")[0] == 200
    assert fetch(site["https"] + "/accounts/login/")[0] == 502

    # nginx takes uploads as large as the app allows (and refuses bigger ones itself).
    size = re.search(r"client_max_body_size (\d+)m;", site["config"])
    assert size is not None
    assert int(size.group(1)) * 1024 * 1024 > settings.UPLOAD_MAX_BYTES


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "deploy" / name)
    return parser


def test_each_process_is_its_own_unit_restarted_alone_and_there_is_one_beat() -> None:
    services = sorted(p.name for p in (ROOT / "deploy").glob("*.service"))
    daemons = [s for s in services if s != "xc-fupin-backup.service"]
    assert daemons == ["xc-fupin-beat.service", "xc-fupin-web.service", "xc-fupin-worker.service"]
    starts = {}
    for name in daemons:
        config = unit(name)
        assert config["Service"]["Restart"] == "on-failure", name
        assert config["Service"]["EnvironmentFile"] == "/etc/xc-fupin/xc-fupin.env", name
        # No unit stops or binds another: one dying never takes the others down.
        for key in ("BindsTo", "PartOf", "Requires"):
            assert key not in config["Unit"], (name, key)
        starts[name] = config["Service"]["ExecStart"]
    beats = [n for n, cmd in starts.items() if " beat" in cmd or "--beat" in cmd or " -B" in cmd]
    assert beats == ["xc-fupin-beat.service"]
    assert "manage.py backup_db" in (ROOT / "deploy" / "xc-fupin-backup.service").read_text()
    env = (ROOT / "deploy" / "xc-fupin.env.example").read_text()
    for line in ("HTTPS=1", "DEBUG=0", "MEDIA_ROOT=/var/lib/", "DATABASE_URL=postgres://"):
        assert f"\n{line}" in env, line
