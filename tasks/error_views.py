"""Chinese error pages (403, 404) that never show an exception's own text.

Django passes the exception to the page; its text may be a resolver dump
("Resolver404 …") or an English model message ("No … matches the given query."). Only a
message our own code wrote for users — Chinese text raised with Http404 or
PermissionDenied — is shown; anything else gets the page's plain explanation.
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def user_message(exception: Exception | None) -> str:
    """The exception's text if it was written for users (Chinese), else ""."""
    if exception is None or isinstance(exception, Resolver404):
        return ""
    if not isinstance(exception, Http404 | PermissionDenied) or len(exception.args) != 1:
        return ""
    text = exception.args[0]
    return str(text) if isinstance(text, str) and CHINESE.search(text) else ""


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"message": user_message(exception)}, status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"message": user_message(exception)}, status=403)
