"""Go-live checks (`manage.py check --deploy`): no demo clock, no demo passwords.

The demo (`scripts/run`, `seed_demo`) publishes its password and runs on a fixed date; a
production site that kept either would let anyone in, or date every record wrongly.

Which accounts are tested: checking a password costs a full PBKDF2 run (about a second
here), too slow for every account of a province-wide install. So the check tests the
accounts that can hold the demo password — the demo accounts (by name and by their
reserved @demo.invalid address) and every superuser and staff account — while
`NotTheDemoPasswordValidator` keeps every other way of setting a password (the password
change page, the admin, createsuperuser) from choosing it.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.db.models import Q
from django.utils.translation import gettext as _

from .clock import demo_today
from .demo import DEMO_PASSWORD, DEMO_USERS
from .models import User

DEMO_EMAIL_DOMAIN = "@demo.invalid"


def demo_password_accounts() -> list[str]:
    """User names of active accounts that log in with the demo password."""
    names = [username for username, *_rest in DEMO_USERS]
    candidates = User.objects.filter(is_active=True).filter(
        Q(username__in=names)
        | Q(email__iendswith=DEMO_EMAIL_DOMAIN)
        | Q(is_superuser=True)
        | Q(is_staff=True)
    )
    return sorted(u.username for u in candidates.order_by("pk") if u.check_password(DEMO_PASSWORD))


@checks.register(checks.Tags.security, "go_live", deploy=True)
def check_no_demo(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    day = demo_today()
    if day is not None:
        errors.append(
            checks.Error(
                f"XC_TODAY 已设置（演示日期 {day:%Y-%m-%d}）：生产环境必须使用真实日期。"
                f" / XC_TODAY is set (demo date {day:%Y-%m-%d}); production must run on the"
                " real date.",
                hint="删除环境变量 XC_TODAY 后重启所有进程。 / Unset XC_TODAY and restart"
                " every process.",
                id="tasks.E001",
            )
        )
    try:
        names = demo_password_accounts()
    except DatabaseError:
        names = []  # no tables yet (check before migrate): no accounts, nothing to report
    if names:
        shown = "、".join(names[:10]) + ("…" if len(names) > 10 else "")
        errors.append(
            checks.Error(
                f"{len(names)} 个在用账号仍使用公开的演示密码：{shown}。"
                f" / {len(names)} active account(s) still have the published demo password:"
                f" {', '.join(names[:10])}.",
                hint="上线前在后台停用这些账号或修改其密码；生产环境不要运行 seed_demo。"
                " / Deactivate them or change their passwords in the admin before going"
                " live; never run seed_demo in production.",
                id="tasks.E002",
            )
        )
    return errors


class NotTheDemoPasswordValidator:
    """Refuses the demo's published password wherever a password is chosen."""

    def validate(self, password: str, user: Any = None) -> None:
        if password == DEMO_PASSWORD:
            raise ValidationError(_("不能使用演示系统公开的密码，请换一个。"), code="demo_password")

    def get_help_text(self) -> str:
        return _("不能使用演示系统公开的密码。")
