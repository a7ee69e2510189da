"""Every page of every role in Chromium, at a desktop width and at a phone width.

The pages come from the same URL walk as tests/test_isolation.py (the resolver, with
real ids of rows the user may see). For each role the Django test client first finds,
per route, one URL that answers with an HTML page; Chromium then opens each of those at
1440 px and at 390 px, saves a full-page screenshot to var/screenshots/screens/ (kept as
test artifacts) and checks what a user would notice: no server error, nothing wider than
the screen, and no English or raw code in the visible text.
"""

from __future__ import annotations

import io
import re
import shutil
from typing import Any

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tasks.clock import demo_today
from tasks.models import User

from .browser import SHOTS
from .test_isolation import scoped_models, url_patterns, urls_for

pytestmark = pytest.mark.browser

ROLES = ["reviewer", "jijiao", "leader", "xuanzhou", "school", "admin"]
WIDTHS = {"desktop": 1440, "phone": 390}
OUT = SHOTS / "screens"

# Words that give away an untranslated page, an exception or a raw code on screen.
TELLTALES = re.compile(
    r"Traceback|Resolver404|matches the given query|Page not found|Server Error"
    r"|\b(?:True|False|None|demo)\b"
    r"|\b(?:disbursements?|enrolment|household|roster|standards|schools)\b",
)
# An amount the app wrote (pages put a space before 元; text people typed, "补助500元",
# is theirs) that is not in the one money format 1,250.00 元: "625 元", "1250.00 元".
BAD_MONEY = re.compile(r"(?<![\d.,])(?:\d+(?:\.\d)?|\d{4,}\.\d\d)\s+元")
# The admin is Django's own; its index, each app's index and, for the admin role, each
# model's list and one record's change page are walked, because the sections', models'
# and fields' names are ours to translate. There any English word counts.
ADMIN_PAGES = ["/admin/"]
ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
# Names of keys and products the Chinese texts themselves use ("按住 Control 键或 Mac 上的
# Command 键", "Excel 附件").
ADMIN_ALLOWED = {"TOTP", "POST", "GET", "Control", "Command", "Mac", "Excel", "Word"}
# On a model's list and change page the rows are data (user names, unit codes, file names,
# a browser's user agent, a record's own name in its heading and breadcrumbs); what must
# be Chinese is what the admin writes around them: titles, labels, column headers, help
# texts, filters, buttons, the picker of groups and permissions.
ADMIN_UI_TEXT = """() => Array.from(document.querySelectorAll(
  '#content h1, #content-main h2, #content-main h3, label, thead th, div.help, p.help, .helptext,'
  + ' #changelist-filter h2, #changelist-filter h3, .object-tools, .submit-row,'
  + ' .selector-chooseall, .selector-clearall, .selector-available h2, .selector-chosen h2,'
  + ' .selector-filter, .paginator, #toolbar, .actions, .messagelist,'
  + ' .errornote, .historylink, .datetimeshortcuts, .deletelink'
)).map(e => e.innerText + ' ' + (e.title || '')).join('\\n')"""


def _html(response: Any) -> bool:
    return response.status_code == 200 and response.get("Content-Type", "").startswith("text/html")


def pages_for(user: User, known: dict[str, str]) -> list[str]:
    """One URL per route that shows this user an HTML page, plus a page that is not found.

    `known` remembers, per route, the URL that worked for an earlier role; it is tried
    first, which keeps the walk short."""
    client = Client()
    client.force_login(user)
    ids: list[int] = []
    for model in scoped_models():
        qs = model._default_manager.all().for_user(user)  # type: ignore[attr-defined]
        ids += list(qs.order_by("pk").values_list("pk", flat=True)[:1])
    ids = sorted(set(ids))
    found: list[str] = []
    for route in url_patterns():
        candidates = urls_for(route, ids)
        if "year>" in route or "month>" in route:
            # The demo's year and its last full month, not year 1 or an empty March.
            candidates.sort(key=lambda u: "/2019/" not in u and "2019-05" not in u)
        if route in known:
            candidates.insert(0, known[route])
        for url in candidates:
            response = client.get(url)
            if _html(response):
                found.append(url)
                known[route] = url
                break
            if response.status_code == 405 or response.status_code == 200:
                break  # a form's POST target, or a download: not a page
    found.append("/no-such-page/")
    if user.is_staff:
        found += ADMIN_PAGES
        for model in admin.site._registry:
            url = f"/admin/{model._meta.app_label}/"
            if url not in found and _html(client.get(url)):
                found.append(url)
    if user.is_superuser:
        found += admin_model_pages(client)
    return found


def admin_model_pages(client: Client) -> list[str]:
    """Each registered model's changelist and the change page of its first row. One role
    (the admin, who sees every model) and one record per model keep the walk short."""
    found = []
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        if not _html(client.get(changelist)):
            continue
        found.append(changelist)
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            change = reverse("admin:{}_{}_change".format(*info), args=[first])
            if _html(client.get(change)):
                found.append(change)
    return found


def menu_problems(page: Any, where: str, *, phone: bool) -> list[str]:
    """On a phone the navigation hides behind 菜单 and opens with a tap; on a desktop it
    is always there."""
    nav = page.locator(".topbar nav")
    if not phone:
        return [] if nav.is_visible() else [f"{where}: navigation hidden on a desktop"]
    if nav.is_visible():
        return [f"{where}: navigation not folded behind the menu button"]
    page.click("label.menu-button")
    if not page.get_by_role("link", name="学生资助").is_visible():
        return [f"{where}: the menu button does not open the navigation"]
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{slug(where)}-menu.png"))
    return []


def session_cookie(user: User, live_server: Any) -> dict[str, Any]:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


def slug(url: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", url).strip("_") or "home"


@pytest.fixture
def demo(transactional_db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The pages as the demo shows them: its data, on its clock.
    monkeypatch.setenv("XC_TODAY", "2019-06-16")
    call_command("load_plan", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())


def test_every_page_of_every_role_fits_a_phone_and_reads_in_chinese(
    browser: Any, live_server: Any, demo: None
) -> None:
    assert demo_today() is not None
    shutil.rmtree(OUT, ignore_errors=True)  # the artifacts are this run's pages only
    problems: list[str] = []
    walked = 0
    contexts = {
        name: browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
        for name, width in WIDTHS.items()
    }
    try:
        visits: list[tuple[str | None, str]] = [(None, "/accounts/login/")]
        known: dict[str, str] = {}
        for role in ROLES:
            visits += [(role, url) for url in pages_for(User.objects.get(username=role), known)]
        for width_name, context in contexts.items():
            width = WIDTHS[width_name]
            page = context.new_page()
            page.set_default_timeout(20000)
            current: str | None = None
            first_page = False
            for username, url in visits:
                if username != current:
                    context.clear_cookies()
                    if username is not None:
                        user = User.objects.get(username=username)
                        context.add_cookies([session_cookie(user, live_server)])
                    current = username
                    first_page = username is not None
                response = page.goto(live_server.url + url)
                where = f"{username or 'anonymous'} {url} @{width}"
                if first_page:
                    problems += menu_problems(page, where, phone=width_name == "phone")
                    first_page = False
                status = response.status if response else 0
                if status >= 500 or status == 0:
                    problems.append(f"{where}: status {status}")
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > width:
                    problems.append(f"{where}: page is {scroll} px wide")
                text = page.inner_text("body")
                if url.startswith("/admin/") and url.count("/") > 3:
                    text = page.evaluate(ADMIN_UI_TEXT)
                bad = {m.group(0) for m in TELLTALES.finditer(text)}
                bad |= {f"金额格式：{m.group(0)}" for m in BAD_MONEY.finditer(text)}
                if url.startswith("/admin/"):
                    bad |= {w for w in ENGLISH_WORD.findall(text) if w not in ADMIN_ALLOWED}
                if bad:
                    problems.append(f"{where}: shows {sorted(bad)}")
                name = f"{username or 'anonymous'}-{slug(url)}-{width}"
                OUT.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                walked += 1
            page.close()
    finally:
        for context in contexts.values():
            context.close()
    assert walked > 2 * len(ROLES) * 10, "the walk should reach most pages of every role"
    assert problems == [], "\n".join(problems)
