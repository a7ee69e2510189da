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
from intake.base import ImportContext
from subsidies.imports import DisbursementsSpec, RosterSpec
from subsidies.models import Notice, Semester
from subsidies.services import standards_load
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


# --- Probe finding 4: a bad filter value is ignored with a Chinese message, never a 500 --

BAD_QUERY = (
    "?school=abc&county=abc&unit=abc&semester=abc&page=abc&status=zzz&kind=zzz"
    "&category=zzz&source=zzz&stage=zzz&item=abc&as_of=2019-13-45&month=2019-13"
    "&period=abc&attention=abc&overdue=abc&revise=abc&format=zzz"
)


def list_routes() -> list[str]:
    """Every page of the URLconf without a path parameter (the list pages among them)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                if not route.startswith("admin/"):
                    walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and "<" not in route:
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return found


@pytest.mark.parametrize("who", ["city_reviewer", "xuanzhou_staff"])
def test_bad_filter_values_on_any_page_never_answer_500_or_english(
    who: str, request: pytest.FixtureRequest, xuanzhou_school: Any
) -> None:
    standards_load()
    client = Client(raise_request_exception=False)
    client.force_login(request.getfixturevalue(who))
    failures = []
    for route in list_routes():
        response = client.get(route + BAD_QUERY)
        text = response.content.decode("utf-8", "ignore") if not response.streaming else ""
        if response.status_code == 500:  # /healthz answers 503 when a worker is missing
            failures.append(f"{route}: {response.status_code}")
        elif re.search(r"Select a valid choice|Enter a valid|is not one of", text):
            failures.append(f"{route}: English message")
    assert failures == []


def test_a_non_numeric_school_on_the_notices_page_is_ignored_and_said(
    city_reviewer: Any, xuanzhou_school: Any
) -> None:
    standards_load()
    client = Client(raise_request_exception=False)
    client.force_login(city_reviewer)
    response = client.get("/subsidies/notices/?school=abc&page=9")
    assert response.status_code == 200
    page = response.content.decode()
    assert "筛选条件“学校”的值“abc”无效，已忽略" in page
    assert "筛选条件“页码”的值“9”无效" in page


# --- Probe finding 5: no GET writes; personal data never stored by a browser or proxy ----


def test_a_notice_is_generated_by_post_only_and_get_writes_nothing(
    xuanzhou_staff: Any, xuanzhou_school: Any
) -> None:
    standards_load()
    student = add_student(xuanzhou_school, 3, name="宣小红")
    client = Client()
    client.force_login(xuanzhou_staff)
    one = f"/subsidies/students/{student.pk}/notice.docx?semester=2019春"
    whole = f"/subsidies/notices/school/{xuanzhou_school.pk}.docx?semester=2019春"
    for url in (one, whole):
        assert client.get(url).status_code == 405
    assert not Notice.objects.exists()
    for url in (one, whole):
        response = client.post(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert "no-store" in response["Cache-Control"]
    assert Notice.objects.get(student=student).generated_at is not None


def test_every_page_and_download_for_a_signed_in_user_says_no_store(
    xuanzhou_staff: Any, xuanzhou_school: Any
) -> None:
    standards_load()
    student = add_student(xuanzhou_school, 4, name="宣小兰")
    client = Client()
    client.force_login(xuanzhou_staff)
    pages = [
        *list_routes(),
        f"/subsidies/students/{student.pk}/",
        f"/reveal/tasks.RosterStudent/{student.pk}/",
        "/subsidies/export/?semester=2019春",
    ]
    checked, missing = 0, []
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        checked += 1
        if "no-store" not in response.get("Cache-Control", ""):
            missing.append(url)
    revealed = client.post(f"/reveal/tasks.RosterStudent/{student.pk}/", {"reason": "核实发放名单"})
    if "no-store" not in revealed.get("Cache-Control", ""):
        missing.append("reveal (POST)")
    assert missing == [] and checked > 10
