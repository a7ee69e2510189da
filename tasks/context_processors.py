from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .clock import demo_today, today
from .scoping import user_scope


def scope(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "xc_today": today(),
        "xc_demo_today": demo_today(),
        "xc_scope": user_scope(user),
    }
