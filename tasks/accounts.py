"""Accounts: the one-time initial passwords of imported users, and the forced change.

An imported account starts with no usable password and `must_change_password`. Its
one-time password is made by `account_passwords_issue`, once, and exists in clear only in
what that call returns (the command's --passwords file, the upload page's one-time
download); the database keeps the hash. Until the user has changed it, every page but the
password change answers with a redirect to it (`PasswordChangeRequiredMiddleware`).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from xc_fupin.lib.export import write_xlsx

from .models import User

# No 0/O, 1/l/I: the password is read off a sheet and typed once.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
PASSWORD_LENGTH = 12

PASSWORD_HEADERS = ["用户名", "初始密码"]


def random_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _i in range(PASSWORD_LENGTH))


def account_passwords_issue(*, upload_id: int) -> list[tuple[str, str]]:
    """Give every account the upload `upload_id` created that has no password yet a random one-time
    password. Returns (user name, password) pairs, the only place the passwords exist.

    Each password is claimed with a conditional update on the unusable one, so running
    this twice, even at once, issues each password once: the second call returns [].
    """
    created = User.history.filter(history_upload_id=upload_id, history_type="+").values("id")
    issued: list[tuple[str, str]] = []
    for user in User.objects.filter(pk__in=created, must_change_password=True).order_by("pk"):
        if user.has_usable_password():
            continue
        password = random_password()
        claimed = User.objects.filter(pk=user.pk, password=user.password).update(
            password=make_password(password)
        )
        if claimed:
            issued.append((user.username, password))
    return issued


def passwords_workbook(issued: list[tuple[str, str]]) -> bytes:
    """The .xlsx handed to the administrator: columns 用户名, 初始密码."""
    buffer = io.BytesIO()
    write_xlsx(buffer, [("初始密码", PASSWORD_HEADERS, issued)])
    return buffer.getvalue()


class PasswordChangeRequiredMiddleware:
    """A user who must change the one-time password gets the password change page and
    nothing else (the admin included) until they have; logging out stays possible."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = {reverse("password_change"), reverse("logout")}
            if request.path not in allowed:
                return redirect("password_change")
        return self.get_response(request)
