"""Real accounts from a sheet: `import_sheet users`, the upload page, the forced change."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import Workbook, load_workbook

from intake.models import Upload
from intake.users import clean_email, clean_phone
from tasks import roles
from tasks.models import User
from tasks.scoping import user_scope

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db

HEAD = ["用户名", "姓名", "单位", "角色", "手机", "邮箱"]
GOOD: list[list[Any]] = [
    ["xz-wang", "王芳", "宣州区教体局", "县市区人员", "13905630001", "wangfang@xz.example.cn"],
    ["jcc-li", "李强", "city-jcc", "市级审核员", "0563-2022123", "liqiang@xc.example.cn"],
    ["lx-zhao", "赵敏", "langxi-jtj", "县市区人员", 13905630002, ""],
    ["city-admin", "陈刚", "市教体局", "系统管理员", "", "chengang@xc.example.cn"],
]


def sheet(rows: list[list[Any]], path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["宣城市教育助学脱贫工作管理系统用户名单"])
    for row in [HEAD, *rows]:
        ws.append(row)
    wb.save(path)
    return path


def import_users(path: Path, out: Path) -> list[str]:
    stdout = io.StringIO()
    call_command("import_sheet", "users", str(path), "--passwords", str(out), stdout=stdout)
    return stdout.getvalue().splitlines()


def passwords(path: Path) -> dict[str, str]:
    ws = load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == ["用户名", "初始密码"]
    return {str(u): str(p) for u, p in rows[1:]}


def test_it_creates_the_accounts_with_one_time_passwords_written_to_the_file(
    plan: None, tmp_path: Path
) -> None:
    lines = import_users(sheet(GOOD, tmp_path / "用户.xlsx"), tmp_path / "密码.xlsx")
    assert "accepted 4, rejected 0" in lines
    issued = passwords(tmp_path / "密码.xlsx")
    assert sorted(issued) == ["city-admin", "jcc-li", "lx-zhao", "xz-wang"]
    assert len(set(issued.values())) == 4 and all(len(p) >= 12 for p in issued.values())
    wang = User.objects.get(username="xz-wang")
    assert wang.unit is not None
    assert (wang.first_name, wang.unit.code, wang.phone, wang.email) == (
        "王芳",
        "xuanzhou-jtj",
        "13905630001",
        "wangfang@xz.example.cn",
    )
    assert wang.must_change_password and wang.check_password(issued["xz-wang"])
    # Unit and role decide scope and permissions, as for every account.
    assert user_scope(wang).county_id == wang.unit.county_id
    assert wang.has_perm("tasks.reveal_personal_data") and not wang.is_staff
    li = User.objects.get(username="jcc-li")
    assert li.phone == "0563-2022123" and li.is_staff and not li.is_superuser
    assert li.has_perm("tasks.review_ledgerentry")
    assert User.objects.get(username="lx-zhao").phone == "13905630002"
    admin = User.objects.get(username="city-admin")
    assert admin.is_superuser and [g.name for g in admin.groups.all()] == [roles.ADMINISTRATOR]


def test_reimporting_the_same_sheet_changes_nothing_and_keeps_the_passwords(
    plan: None, tmp_path: Path
) -> None:
    path = sheet(GOOD, tmp_path / "用户.xlsx")
    import_users(path, tmp_path / "密码1.xlsx")
    hashes = dict(User.objects.values_list("username", "password"))
    lines = import_users(path, tmp_path / "密码2.xlsx")
    assert "accepted 0, rejected 0" in lines
    assert passwords(tmp_path / "密码2.xlsx") == {}
    assert dict(User.objects.values_list("username", "password")) == hashes


def test_bad_rows_are_refused_row_by_row_and_create_no_account(plan: None, tmp_path: Path) -> None:
    rows = [
        GOOD[0],
        ["zhou", "周", "火星县教体局", "县市区人员", "", ""],
        ["wu", "吴", "宣州区教体局", "科长", "", ""],
        ["XZ-WANG", "王芳二", "宣州区教体局", "县市区人员", "", ""],
        ["zheng", "郑", "宣州区教体局", "县市区人员", "1390563", ""],
        ["feng", "冯", "宣州区教体局", "县市区人员", "", "feng@"],
        ["chu", "褚", "宣州区教体局", "市级审核员", "", ""],
        ["wei", "卫", "市教体局计财科", "学校人员", "", ""],
    ]
    stdout = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(
            "import_sheet",
            "users",
            str(sheet(rows, tmp_path / "用户.xlsx")),
            "--passwords",
            str(tmp_path / "密码.xlsx"),
            stdout=stdout,
        )
    assert exc.value.returncode == 1
    lines = stdout.getvalue().splitlines()
    assert lines[0].startswith("第4行 单位: 未知单位：火星县教体局")
    assert lines[1].startswith("第5行 角色: 未知角色：科长")
    assert lines[2] == "第6行 用户名: 与第3行的用户名重复"
    assert lines[3].startswith("第7行 手机: 电话号码格式不对：1390563")
    assert lines[4] == "第8行 邮箱: 邮箱格式不对：feng@"
    assert lines[5] == "第9行 角色: 角色“市级审核员”不适用于县市区教体局“宣州区教体局”"
    assert lines[6] == "第10行 角色: 角色“学校人员”不适用于市局科室/直属单位“市教体局计财科”"
    assert lines[-1] == "accepted 1, rejected 7"
    assert not User.objects.filter(username__in=["xz-wang", "zhou", "wei"]).exists()
    assert not (tmp_path / "密码.xlsx").exists()


def test_it_needs_a_passwords_file_before_touching_anything(plan: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--passwords"):
        call_command("import_sheet", "users", str(sheet(GOOD, tmp_path / "u.xlsx")))
    assert not User.objects.filter(username="xz-wang").exists()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("139 0563 0001", "13905630001"),
        ("+8613905630001", "13905630001"),
        ("0563 2022123", "0563-2022123"),
        ("05632022123", "0563-2022123"),
        ("0563-2022123-801", "0563-2022123-801"),
    ],
)
def test_phones_are_mobiles_or_landlines_with_an_area_code(raw: str, clean: str) -> None:
    assert clean_phone(raw) == clean


@pytest.mark.parametrize("raw", ["2022123", "12905630001", "139056300011", "电话"])
def test_a_phone_without_area_code_or_with_wrong_digits_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="电话号码格式不对"):
        clean_phone(raw)


def test_an_email_domain_is_folded_to_lower_case() -> None:
    assert clean_email(" Li.Qiang@XC.Example.CN ") == "Li.Qiang@xc.example.cn"


def test_an_imported_user_must_change_the_password_before_any_other_page(
    plan: None, tmp_path: Path
) -> None:
    import_users(sheet(GOOD, tmp_path / "用户.xlsx"), tmp_path / "密码.xlsx")
    issued = passwords(tmp_path / "密码.xlsx")
    for username in ("xz-wang", "city-admin"):
        client = Client()
        response = client.post(
            "/accounts/login/", {"username": username, "password": issued[username]}
        )
        assert response.status_code == 302
        for path in ("/", "/plan/", "/uploads/", "/admin/", "/subsidies/"):
            answer = client.get(path)
            assert answer.status_code == 302 and answer["Location"] == "/accounts/password/", path
        page = client.get("/accounts/password/").content.decode()
        assert "一次性初始密码" in page
        refused = client.post(
            "/accounts/password/",
            {
                "old_password": issued[username],
                "new_password1": "12345678",
                "new_password2": "12345678",
            },
        )
        assert refused.status_code == 200 and client.get("/plan/").status_code == 302
        changed = client.post(
            "/accounts/password/",
            {
                "old_password": issued[username],
                "new_password1": "Xuancheng-助学-2019",
                "new_password2": "Xuancheng-助学-2019",
            },
        )
        assert changed.status_code == 302
        assert client.get("/plan/").status_code == 200
        user = User.objects.get(username=username)
        assert not user.must_change_password and user.check_password("Xuancheng-助学-2019")


def _upload_users(client: Client, rows: list[list[Any]], tmp_path: Path) -> Upload:
    content = sheet(rows, tmp_path / "用户.xlsx").read_bytes()
    response = client.post(
        "/uploads/",
        {"kind": "users", "period": "2019-05", "file": SimpleUploadedFile("用户.xlsx", content)},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Upload.objects.latest("pk")


def test_an_administrator_imports_accounts_on_the_upload_page_and_downloads_passwords_once(
    admin_user: Any, tmp_path: Path
) -> None:
    client = Client()
    assert client.login(username=admin_user.username, password=PASSWORD)
    up = _upload_users(client, GOOD[:2], tmp_path)
    assert up.state == "previewed"
    client.post(f"/uploads/{up.pk}/confirm/")
    up.refresh_from_db()
    assert up.state == "applied"
    page = client.get(f"/uploads/{up.pk}/").content.decode()
    assert "下载初始密码" in page
    assert client.get(f"/uploads/{up.pk}/passwords.xlsx").status_code == 405  # no GET writes
    response = client.post(f"/uploads/{up.pk}/passwords.xlsx")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    ws = load_workbook(io.BytesIO(response.content)).active
    issued = {u: p for u, p in ws.iter_rows(min_row=2, values_only=True)}
    assert sorted(issued) == ["jcc-li", "xz-wang"]
    assert User.objects.get(username="xz-wang").check_password(issued["xz-wang"])
    again = client.post(f"/uploads/{up.pk}/passwords.xlsx", follow=True)
    assert "已经下载过" in again.content.decode()
    assert User.objects.get(username="xz-wang").check_password(issued["xz-wang"])


def test_a_county_user_can_neither_import_accounts_nor_fetch_their_passwords(
    admin_user: Any, xuanzhou_staff: Any, tmp_path: Path
) -> None:
    admin = Client()
    assert admin.login(username=admin_user.username, password=PASSWORD)
    up = _upload_users(admin, GOOD[:1], tmp_path)
    admin.post(f"/uploads/{up.pk}/confirm/")
    county = Client()
    assert county.login(username=xuanzhou_staff.username, password=PASSWORD)
    assert "用户账号" not in county.get("/uploads/").content.decode()
    assert county.post(f"/uploads/{up.pk}/passwords.xlsx").status_code == 403
    response = county.post(
        "/uploads/",
        {"kind": "users", "file": SimpleUploadedFile("用户.xlsx", b"x")},
    )
    assert response.status_code in (200, 403)
    assert Upload.objects.count() == 1


def test_the_blank_template_has_the_six_columns_and_the_roles_to_choose_from(
    admin_user: Any,
) -> None:
    client = Client()
    assert client.login(username=admin_user.username, password=PASSWORD)
    response = client.get("/uploads/template/users.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]][:6] == HEAD
    options = [v for row in wb["选项"].iter_rows(values_only=True) for v in row if v]
    assert set(roles.ALL_ROLES) <= set(options)
    assert any(v.formula1 for v in ws.data_validations.dataValidation)
