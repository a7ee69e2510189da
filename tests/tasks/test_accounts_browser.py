"""An imported account's first login, in Chromium: the password change comes first."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from tasks import roles
from tasks.models import Unit, User

from ..browser import shot

ONE_TIME = "Kq7mZp3xWd9a"  # as account_passwords_issue makes them
NEW = "Xuancheng-助学-2019"


@pytest.mark.browser
def test_a_first_login_with_the_one_time_password_must_change_it_first(
    page: Any, live_server: Any, transactional_db: Any, plan: None
) -> None:
    user = User(
        username="xz-wang",
        first_name="王芳",
        unit=Unit.objects.get(code="xuanzhou-jtj"),
        must_change_password=True,
    )
    user.set_password(ONE_TIME)
    user.save()
    user.groups.add(Group.objects.get(name=roles.COUNTY_STAFF))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "xz-wang")
    page.fill("#id_password", ONE_TIME)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/password/")
    assert "一次性初始密码" in page.content()
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/plan/")  # any page: back to the password change
        page.wait_for_url("**/accounts/password/")
        shot(page, f"password-change-first-login-{width}")
    page.fill("#id_old_password", ONE_TIME)
    page.fill("#id_new_password1", NEW)
    page.fill("#id_new_password2", NEW)
    page.get_by_role("button", name="修改密码").click()
    page.get_by_text("密码已修改").wait_for()
    page.goto(f"{live_server.url}/plan/")
    assert page.url.endswith("/plan/")
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password(NEW)
