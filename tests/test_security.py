"""Login protection, CSP, CSRF and deployment settings."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from openpyxl import Workbook

from dropout.imports import ENROLMENT, HOUSEHOLD
from subsidies.imports import DisbursementsSpec, RosterSpec
from subsidies.models import Semester
from subsidies.services import standards_load
from tasks.imports import ImportContext
from tasks.models import LedgerEntry
from tasks.scoping import user_scope
from xc_fupin.lib.idnumber import mask_name
from xc_fupin.lib.sheets import read_table

from .factories import PASSWORD
from .subsidies.conftest import add_student, pay

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def attempt(username: str, password: str, address: str) -> Any:
    return Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def test_guessing_a_password_locks_that_user_at_that_address_only(
    settings: Any, xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    settings.AXES_ENABLED = True
    office = "10.0.0.7"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(xuanzhou_staff.username, "wrong", office).status_code == 200
    assert attempt(xuanzhou_staff.username, "wrong", office).status_code == 429
    # Now even the right password is refused for this user at this address.
    locked = attempt(xuanzhou_staff.username, PASSWORD, office)
    assert locked.status_code == 429
    assert "登录已暂时锁定" in locked.content.decode()
    # A colleague in the same office, behind the same address, still gets in.
    assert attempt(langxi_staff.username, PASSWORD, office).status_code == 302
    # And the same person from another address.
    assert attempt(xuanzhou_staff.username, PASSWORD, "10.0.0.8").status_code == 302


def test_pages_carry_a_csp_without_inline_scripts(leader: Any) -> None:
    client = Client()
    client.force_login(leader)
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in policy


def test_no_template_has_an_inline_script() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(?!\s*</script>)", re.I)
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "templates").rglob("*.html")
        if inline.search(p.read_text(encoding="utf-8"))
        and "json_script" not in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_csrf_is_enforced_on_forms(xuanzhou_staff: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(xuanzhou_staff)
    data = {
        "unit": xuanzhou_staff.unit_id,
        "period": "2019-05",
        "status": "done",
        "narrative": "无令牌",
    }
    assert client.post("/tasks/5/ledger/new/", data).status_code == 403
    assert not LedgerEntry.objects.exists()
    client.get("/tasks/5/ledger/new/")
    data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    assert client.post("/tasks/5/ledger/new/", data).status_code == 302
    assert LedgerEntry.objects.count() == 1


def test_sessions_last_a_working_day(settings: Any) -> None:
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600


def test_check_deploy_reports_nothing_with_production_settings(tmp_path: Any) -> None:
    env = {
        **os.environ,
        "DEBUG": "0",
        "HTTPS": "1",
        "SECRET_KEY": "k" * 20 + "-Xc7!fP9@qL2#vR5$wT8%yU1^zA4&bN6*",
        "ALLOWED_HOSTS": "fupin.xuancheng.example",
        "XC_VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in tests only
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues" in out.stdout


# --- Probe finding 1: upload validation says nothing about another county's child -------
#
# A county that types another county's child's ID number into a sheet must learn only
# that the child is not its own: not the school, not the (masked) name, not an amount.
# Every message a user can read (errors, skip notes — the preview and the errors .xlsx
# are built from them) is checked.


LANGXI_CHILD_NAME = "郎一鸣"


@pytest.fixture
def langxi_child(plan: None, langxi_school: Any, xuanzhou_school: Any) -> Any:
    standards_load()
    child = add_student(langxi_school, 8, name=LANGXI_CHILD_NAME)
    pay(
        child.id_number,
        LANGXI_CHILD_NAME,
        langxi_school,
        Semester.objects.get(code="2019春"),
        "500.00",
        dt.date(2019, 6, 1),
    )
    return child


def told(result: Any) -> str:
    return "\n".join([str(e) for e in result.errors] + [n.message for n in result.skipped])


def assert_names_nothing_of(text: str, child: Any) -> None:
    assert "不属于本单位" in text, text
    for secret in (
        child.school.name,
        "郎溪",
        child.name,
        mask_name(child.name),
        child.name[0] + "*",
        "500",
        "2019-06-01",
    ):
        assert secret not in text, (secret, text)


def sheet(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def check(spec: Any, rows: list[list[Any]], user: Any) -> Any:
    table = read_table(io.BytesIO(sheet(rows)), filename="表.xlsx", columns=spec.columns)
    return spec.validate(table, ImportContext(user=user, scope=user_scope(user), unit=user.unit))


PAYMENT_HEAD: list[Any] = [
    "身份证号",
    "姓名",
    "就读学校",
    "资助项目",
    "学期",
    "金额(元)",
    "发放日期",
]
LIVING = "义务教育家庭经济困难学生生活补助"


def test_a_roster_row_with_another_countys_child_says_only_not_ours(
    langxi_child: Any, xuanzhou_staff: Any
) -> None:
    rows = [
        ["身份证号", "姓名", "户籍县区", "就读学校", "学段", "年级", "是否寄宿"],
        [langxi_child.id_number, "张三", "宣州区", "宣州区实验小学", "小学", "一年级", "否"],
    ]
    result = check(RosterSpec(), rows, xuanzhou_staff)
    assert not result.ok
    assert_names_nothing_of(told(result), langxi_child)


@pytest.mark.parametrize(
    ("name", "amount"),
    [("张三", 250), (LANGXI_CHILD_NAME, 250), (LANGXI_CHILD_NAME, 500)],
    ids=["other-name", "other-amount", "same-payment"],
)
def test_a_payment_row_with_another_countys_child_says_only_not_ours(
    langxi_child: Any, xuanzhou_staff: Any, name: str, amount: int
) -> None:
    rows = [
        PAYMENT_HEAD,
        [langxi_child.id_number, name, "宣州区实验小学", LIVING, "2019春", amount, "2019-06-10"],
    ]
    result = check(DisbursementsSpec(), rows, xuanzhou_staff)
    assert not result.ok and not result.rows
    assert_names_nothing_of(told(result), langxi_child)


def test_a_payment_or_roster_row_naming_another_countys_school_names_nothing(
    langxi_child: Any, xuanzhou_staff: Any
) -> None:
    payment = check(
        DisbursementsSpec(),
        [
            PAYMENT_HEAD,
            [langxi_child.id_number, "张三", "3134002001", LIVING, "2019春", 250, "2019-06-10"],
        ],
        xuanzhou_staff,
    )
    roster = check(
        RosterSpec(),
        [
            ["身份证号", "姓名", "就读学校", "学段", "是否寄宿"],
            [langxi_child.id_number, "张三", "3134002001", "小学", "否"],
        ],
        xuanzhou_staff,
    )
    for result in (payment, roster):
        assert not result.ok
        assert_names_nothing_of(told(result), langxi_child)


def test_a_name_mismatch_on_our_own_roster_still_helps(
    langxi_child: Any, xuanzhou_school: Any, xuanzhou_staff: Any
) -> None:
    ours = add_student(xuanzhou_school, 9, name="宣小明")
    rows: list[list[Any]] = [
        PAYMENT_HEAD,
        [ours.id_number, "张三", "宣州区实验小学", LIVING, "2019春", 250, "2019-06-10"],
    ]
    result = check(DisbursementsSpec(), rows, xuanzhou_staff)
    assert "该身份证号在名册中的姓名为 宣**" in told(result)


def test_enrolment_and_household_rows_of_another_county_name_nothing(
    langxi_child: Any, xuanzhou_staff: Any
) -> None:
    enrolment = check(
        ENROLMENT,
        [
            ["身份证号", "姓名", "学校", "年级", "学籍状态", "统计日期"],
            [langxi_child.id_number, "张三", "郎溪县实验小学", "一年级", "在读", "2019-09-30"],
        ],
        xuanzhou_staff,
    )
    household = check(
        HOUSEHOLD,
        [
            ["身份证号", "姓名", "县区", "乡镇", "村", "统计日期"],
            [langxi_child.id_number, "张三", "郎溪县", "飞鲤镇", "新发村", "2019-09-30"],
        ],
        xuanzhou_staff,
    )
    for result in (enrolment, household):
        assert not result.ok
        assert_names_nothing_of(told(result), langxi_child)
