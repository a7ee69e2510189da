from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from intake.base import all_specs, get_spec
from intake.models import Upload
from intake.services import upload_apply, upload_store, upload_validate, validate_content
from intake.users import USERS
from tasks.accounts import account_passwords_issue, passwords_workbook
from tasks.clock import today
from tasks.models import Unit, User
from tasks.scoping import unit_scope

SYSTEM_USERNAME = "system-import"


def _system_user() -> User:
    """The account commands upload as. It cannot log in (inactive, no password); rows are
    scoped by the unit the command acts for, which the upload carries (intake/services.py
    uses the upload's unit for inactive uploaders)."""
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"first_name": "命令行导入", "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _as_of(value: str | None) -> dt.date | None:
    """--as-of as a date: YYYY-MM-DD, not after today (the one clock)."""
    if not value:
        return None
    try:
        date = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"--as-of 日期格式不对：{value}（应为 YYYY-MM-DD，例如 2019-06-10）"
        ) from None
    if date > today():
        raise CommandError(f"--as-of 日期 {date.isoformat()} 晚于今天（{today().isoformat()}）")
    return date


class Command(BaseCommand):
    help = (
        "导入表格：import_sheet 类型 文件 [--unit 单位代码] [--dry-run]。"
        "逐行校验，有任何错误则整份不导入，打印“第R行 列名: 原因”，退出码为 1。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "kind", help="表格类型：" + "、".join(sorted(s.key for s in all_specs()))
        )
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--unit",
            default="city",
            help="以哪个单位的名义导入（单位代码），决定可导入的范围；默认市教体局",
        )
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--period", help="所属月份 YYYY-MM（计入该月月报）")
        parser.add_argument(
            "--as-of",
            dest="as_of",
            help="统计日期 YYYY-MM-DD：文件中没有日期列时（学籍、扶贫导出表等）数据截至的日期",
        )
        parser.add_argument(
            "--passwords",
            type=Path,
            help="导入用户账号（users）时必填：新账号的一次性初始密码写入此 .xlsx 文件",
        )

    def handle(
        self,
        *args: Any,
        kind: str,
        file: Path,
        unit: str,
        dry_run: bool,
        passwords: Path | None = None,
        as_of: str | None = None,
        **options: Any,
    ) -> None:
        as_of_date = _as_of(as_of)
        if kind == USERS.key and not dry_run and passwords is None:
            raise CommandError(
                "导入用户账号须指定 --passwords 输出文件（一次性初始密码写入该文件）"
            )
        if passwords is not None and not passwords.parent.is_dir():
            raise CommandError(f"--passwords 所在目录不存在：{passwords.parent}")
        try:
            spec = get_spec(kind)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        try:
            acting = Unit.objects.get(code=unit)
        except Unit.DoesNotExist:
            raise CommandError(f"未知的单位代码：{unit}") from None
        if not file.exists():
            raise CommandError(f"文件不存在：{file}")
        content = file.read_bytes()
        user = _system_user()
        if dry_run:
            from xc_fupin.lib.sheets import SheetError

            try:
                result = validate_content(
                    spec=spec,
                    content=content,
                    filename=file.name,
                    unit=acting,
                    user=user,
                    scope=unit_scope(acting),
                    as_of=as_of_date,
                )
            except SheetError as exc:
                raise CommandError(str(exc), returncode=1) from None
            errors = [str(e) for e in result.errors]
            accepted, rejected = len(result.rows), result.rejected_rows
        else:
            upload = upload_store(
                user=user,
                kind=kind,
                content=content,
                filename=file.name,
                unit=acting,
                as_of=as_of_date,
            )
            upload = upload_validate(upload.pk)
            if upload.file_error:
                raise CommandError(upload.file_error, returncode=1)
            errors = [
                f"第{e['row']}行 {e['column'] or '整行'}: {e['message']}" for e in upload.errors
            ]
            accepted, rejected = upload.rows_accepted, upload.rows_rejected
            if not errors:
                Upload.objects.filter(pk=upload.pk).update(state=Upload.State.APPLYING)
                upload = upload_apply(upload.pk)
                if upload.state != Upload.State.APPLIED:
                    errors = [
                        f"第{e['row']}行 {e['column'] or '整行'}: {e['message']}"
                        for e in upload.errors
                    ]
                    rejected = upload.rows_rejected
        for line in errors:
            self.stdout.write(line)
        self.stdout.write(f"accepted {accepted}, rejected {rejected}")
        if kind == USERS.key and passwords is not None and not dry_run and not errors:
            issued = account_passwords_issue(upload_id=upload.pk)
            passwords.write_bytes(passwords_workbook(issued))
            self.stdout.write(f"{len(issued)} 个新账号的初始密码已写入 {passwords}")
        if errors:
            raise CommandError(f"有 {rejected} 行错误，未导入任何数据。", returncode=1)
