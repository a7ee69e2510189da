"""Settings parse strictly: a mistyped boolean stops start-up instead of meaning "off"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from xc_fupin.settings import envbool

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), (" Yes ", True), ("ON", True), ("0", False), ("off", False)],
)
def test_it_reads_the_usual_spellings(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    monkeypatch.setenv("XC_TEST_FLAG", raw)
    assert envbool("XC_TEST_FLAG", not expected) is expected


def test_it_falls_back_to_the_default_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XC_TEST_FLAG", raising=False)
    assert envbool("XC_TEST_FLAG", True) is True


def test_it_refuses_an_unknown_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XC_TEST_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="XC_TEST_FLAG"):
        envbool("XC_TEST_FLAG", False)


def test_it_stops_start_up_on_https_ture() -> None:
    env = {**os.environ, "HTTPS": "ture", "DJANGO_SETTINGS_MODULE": "xc_fupin.settings"}
    run = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "HTTPS='ture'" in run.stderr
    assert "不是布尔值" in run.stderr
