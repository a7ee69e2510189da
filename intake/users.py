"""用户账号 (accounts): the real users of the bureau, imported from a sheet.

`import_sheet users FILE --passwords OUT.xlsx` and the upload page (administrators only)
go through this spec like every other sheet: every row is checked first, any error and
nothing is written. A declarative spec: each column's parser wraps its small `clean_*`
function (raises ValueError with the Chinese reason; the framework reads each distinct
value once and names row and column); the spec keeps the rules across columns and rows
(a role must fit the unit's kind, duplicate user names) and what is already stored.

New accounts get no password here: `tasks.accounts.account_passwords_issue` gives each a
random one-time password exactly once, after the apply (the command writes them to its
--passwords file, the upload page offers them as a one-time download), so no password is
ever stored in clear. Existing accounts keep their password: re-importing the same sheet
changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.contrib.auth.models import Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from tasks import roles
from tasks.models import Unit, User
from xc_fupin.lib.sheets import Table
from xc_fupin.lib.text import normalize_text

from .base import ImportContext, ValidationResult
from .columns import CellError, Column, Parser
from .specs import DeclarativeSpec, FirstSeen, Row

SYSTEM_USERNAMES = frozenset({"system-import"})  # the account import_sheet acts as

# Which kinds of unit each role may belong to. Scope follows the unit (tasks/scoping.py),
# permissions follow the role (tasks/roles.py): a county role in a city section, or a
# city role in a school, would give a user the wrong one of the two.
_CITY = frozenset({Unit.Kind.CITY_BUREAU, Unit.Kind.CITY_SECTION, Unit.Kind.CITY_OFFICE})
ROLE_UNIT_KINDS: dict[str, frozenset[str]] = {
    roles.ADMINISTRATOR: _CITY,
    roles.CITY_REVIEWER: _CITY,
    roles.CITY_SECTION: _CITY,
    roles.LEADER: _CITY,
    roles.COUNTY_STAFF: frozenset({Unit.Kind.COUNTY_BUREAU, Unit.Kind.COUNTY_OFFICE}),
    roles.SCHOOL_STAFF: frozenset({Unit.Kind.SCHOOL, Unit.Kind.CITY_SCHOOLS, Unit.Kind.COLLEGE}),
}
# As the demo accounts have them: administrators run the admin, reviewers use it.
SUPERUSER_ROLES = frozenset({roles.ADMINISTRATOR})
STAFF_ROLES = frozenset({roles.ADMINISTRATOR, roles.CITY_REVIEWER})

_MOBILE = re.compile(r"1[3-9]\d{9}")
# Area code (3–4 digits from 0) and a 7–8 digit number, optionally an extension.
_LANDLINE = re.compile(r"(0\d{2,3})-?(\d{7,8})(?:-(\d{1,6}))?")


def _text(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a number typed into a number cell
    return normalize_text(raw)


def clean_username(raw: object) -> str:
    """用户名: Django's rules (letters, digits, @.+-_), at most 150 characters."""
    value = _text(raw)
    if not value:
        raise ValueError(_("用户名为空"))
    if len(value) > 150:
        raise ValueError(_("用户名超过150个字符"))
    try:
        UnicodeUsernameValidator()(value)
    except ValidationError:
        raise ValueError(
            _("用户名只能包含字母、数字和 @ . + - _ ，不能有空格：%(v)s") % {"v": value}
        ) from None
    if value in SYSTEM_USERNAMES:
        raise ValueError(_("用户名 %(v)s 为系统保留，请换一个") % {"v": value})
    return value


def clean_full_name(raw: object) -> str:
    """姓名: required, at most 150 characters."""
    value = _text(raw)
    if not value:
        raise ValueError(_("姓名为空"))
    if len(value) > 150:
        raise ValueError(_("姓名超过150个字符"))
    return value


def clean_role(raw: object) -> str:
    """角色: one of the six roles, written as tasks/roles.py names them (（）or ())."""
    value = _text(raw)
    if not value:
        raise ValueError(_("角色为空"))
    by_key = {normalize_text(r): r for r in roles.ALL_ROLES}
    role = by_key.get(value)
    if role is None:
        raise ValueError(
            _("未知角色：%(v)s（可填：%(known)s）")
            % {"v": value, "known": "、".join(roles.ALL_ROLES)}
        )
    return role


def clean_phone(raw: object) -> str:
    """手机: empty, an 11-digit mainland mobile number, or a landline with its area code
    (0563-2022123). Returned without spaces; a landline as 区号-号码."""
    value = "".join(_text(raw).split())
    if not value:
        return ""
    mobile = value.removeprefix("+86").replace("-", "")
    if _MOBILE.fullmatch(mobile):
        return mobile
    landline = _LANDLINE.fullmatch(value)
    if landline:
        area, number, ext = landline.groups()
        return f"{area}-{number}" + (f"-{ext}" if ext else "")
    raise ValueError(
        _("电话号码格式不对：%(v)s（应为11位手机号，或带区号的固定电话，如 0563-2022123）")
        % {"v": value}
    )


def clean_email(raw: object) -> str:
    """邮箱: empty or one valid address (the domain in lower case)."""
    value = _text(raw)
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError(_("邮箱格式不对：%(v)s") % {"v": value}) from None
    local, _at, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


class Units:
    """Units by code, school code, full name or short name (spaces and width ignored)."""

    def __init__(self) -> None:
        self.by_key: dict[str, Unit | None] = {}
        units = list(Unit.objects.all())
        for unit in units:
            self.by_key[unit.code] = unit
            if unit.school_code:
                self.by_key[unit.school_code] = unit
        # A name two units share (e.g. a short name) matches neither: it is ambiguous.
        names: dict[str, set[int]] = {}
        by_pk = {u.pk: u for u in units}
        for unit in units:
            for name in {unit.name, unit.short_name}:
                key = _key(name)
                if key:
                    names.setdefault(key, set()).add(unit.pk)
        for key, pks in names.items():
            if key not in self.by_key:
                self.by_key[key] = by_pk[next(iter(pks))] if len(pks) == 1 else None

    def get(self, raw: object) -> Unit:
        value = _text(raw)
        if not value:
            raise ValueError(_("单位为空"))
        key = value if value in self.by_key else _key(value)
        if key not in self.by_key:
            raise ValueError(
                _("未知单位：%(v)s（可填单位全称、简称或单位代码，学校可填学校标识码）")
                % {"v": value}
            )
        unit = self.by_key[key]
        if unit is None:
            raise ValueError(_("单位“%(v)s”有多个同名单位，请填单位全称或单位代码") % {"v": value})
        if not unit.is_active:
            raise ValueError(_("单位“%(v)s”已停用") % {"v": unit.name})
        return unit


def _key(value: object) -> str:
    return "".join(normalize_text(value).split())


def check_role_fits_unit(role: str, unit: Unit) -> None:
    """Raise ValueError when `role` cannot belong to a unit of `unit`'s kind."""
    if unit.kind not in ROLE_UNIT_KINDS[role]:
        raise ValueError(
            _("角色“%(role)s”不适用于%(kind)s“%(unit)s”")
            % {"role": role, "kind": unit.get_kind_display(), "unit": unit.name}
        )


class _Cleaned(Parser):
    """A column parser from one of the `clean_*` functions above (ValueError -> the
    cell's error); blanks go to the function too, which knows whether they are allowed."""

    parse_blank = True

    def __init__(self, clean: Callable[[object], Any], *, cached: bool = True) -> None:
        self.clean = clean
        self.cached = cached

    def parse(self, raw: object) -> Any:
        try:
            return self.clean(raw)
        except ValueError as error:
            raise CellError(str(error)) from None


class _UnitCell(Parser):
    """单位: by code, school code, full or short name (`Units`), loaded once per file."""

    parse_blank = True

    def bind(self, ctx: Any) -> Callable[[object], Any]:
        return _Cleaned(Units().get).parse


class _Roles(_Cleaned):
    def choices(self) -> list[str]:
        return list(roles.ALL_ROLES)


class UsersSpec(DeclarativeSpec):
    key = "users"
    title = "用户账号"
    permission = "tasks.add_user"
    columns: ClassVar[Sequence[Column]] = [
        Column(
            "用户名",
            ("登录名", "账号", "帐号", "用户账号"),
            parser=_Cleaned(clean_username, cached=False),
        ),
        Column("姓名", ("真实姓名", "用户姓名"), parser=_Cleaned(clean_full_name, cached=False)),
        Column("单位", ("所在单位", "单位名称", "单位代码", "工作单位"), parser=_UnitCell()),
        Column("角色", ("用户角色", "权限角色"), parser=_Roles(clean_role)),
        Column(
            "手机",
            ("手机号", "手机号码", "电话", "联系电话"),
            required=False,
            parser=_Cleaned(clean_phone),
        ),
        Column(
            "邮箱",
            ("电子邮箱", "电子邮件", "Email", "E-mail"),
            required=False,
            parser=_Cleaned(clean_email),
        ),
    ]
    example: ClassVar[dict[str, object]] = {
        "用户名": "xuanzhou-zhang",
        "姓名": "张三",
        "单位": "宣州区教体局",
        "角色": roles.COUNTY_STAFF,
        "手机": "13800000000",
        "邮箱": "zhangsan@example.com",
    }

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        if not ctx.scope.sees_all:
            result = ValidationResult(total=len(table.rows))
            result.error(table.header_row, "", _("用户账号只能由系统管理员导入，本单位无权上传"))
            return result
        return super().validate(table, ctx)

    def prepare(self, ctx: ImportContext) -> FirstSeen:
        return FirstSeen()  # user names seen so far, case folded

    def check_row(self, row: Row, state: FirstSeen) -> dict[str, Any] | None:
        role, unit = row["角色"], row["单位"]
        if role is not None and unit is not None:
            try:
                check_role_fits_unit(role, unit)
            except ValueError as e:
                row.error("角色", str(e))
        username = row["用户名"]
        if username:
            first = state.check(username.casefold(), row.number)
            if first is not None:
                row.error("用户名", _("与第%(r)d行的用户名重复") % {"r": first})
        if not row.ok:
            return None
        return {
            "username": username,
            "first_name": row["姓名"],
            "unit_id": unit.pk,
            "unit_name": unit.name,
            "role": role,
            "phone": row["手机"] or "",
            "email": row["邮箱"] or "",
        }

    def check_rows(
        self, rows: list[tuple[int, dict[str, Any]]], result: ValidationResult, state: Any
    ) -> None:
        existing = {
            u.username: u
            for u in User.objects.prefetch_related("groups").filter(
                username__in=[values["username"] for _n, values in rows]
            )
        }
        for number, values in rows:
            current = existing.get(values["username"])
            if current is not None:
                if _unchanged(current, values):
                    result.skip(number, _("账号 %(u)s 已存在，无变化") % {"u": values["username"]})
                    continue
                values["pk"] = current.pk
            result.accept(number, values)

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL_ROLES)}
        created = updated = 0
        for values in result.rows:
            role = values["role"]
            fields = {
                "first_name": values["first_name"],
                "unit_id": values["unit_id"],
                "phone": values["phone"],
                "email": values["email"],
                "is_superuser": role in SUPERUSER_ROLES,
                "is_staff": role in STAFF_ROLES,
            }
            if values.get("pk"):
                user = User.objects.get(pk=values["pk"])
                for name, value in fields.items():
                    setattr(user, name, value)
                user.save()  # the password is left as it is
                updated += 1
            else:
                # No usable password until account_passwords_issue gives the one-time one.
                user = User(username=values["username"], must_change_password=True, **fields)
                user.set_unusable_password()
                user.save()
                created += 1
            user.groups.set([groups[role]])
        return {_("新增账号"): created, _("更新账号"): updated}

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        return [
            clean["username"],
            clean["first_name"],
            clean["unit_name"],
            clean["role"],
            clean["phone"],
            clean["email"],
        ]


def _unchanged(user: User, values: dict[str, Any]) -> bool:
    role = values["role"]
    return (
        user.first_name == values["first_name"]
        and user.unit_id == values["unit_id"]
        and user.phone == values["phone"]
        and user.email == values["email"]
        and [g.name for g in user.groups.all()] == [role]
        and user.is_superuser == (role in SUPERUSER_ROLES)
        and user.is_staff == (role in STAFF_ROLES)
    )


USERS = UsersSpec()
