"""Reading list pages' query parameters (?school=…&page=…): one helper for every view.

A filter value that does not parse — a non-numeric id, an unknown choice, a bad date, a
page number that is not one — is dropped and named in a Chinese message on the same
page; the rest of the filters still apply. A typo in a link never answers 500, and a
value outside the user's scope is treated like an unknown one (the choices offered are
already scoped), so nothing tells whether the row exists elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _

_F = TypeVar("_F", bound=forms.Form)
_M = TypeVar("_M", bound=models.Model)

# What is echoed of a bad value: enough to recognise it, never a whole pasted text.
_ECHO = 30


def _shown(raw: object) -> str:
    text = str(raw)
    return text if len(text) <= _ECHO else text[:_ECHO] + "…"


def ignored(request: HttpRequest, label: str, raw: object, why: str = "") -> None:
    """Tell the user, on the page being rendered, that this filter value was ignored."""
    message = _("筛选条件“%(label)s”的值“%(value)s”无效，已忽略") % {
        "label": label,
        "value": _shown(raw),
    }
    messages.warning(request, f"{message}：{why}" if why else message)


def filter_form(request: HttpRequest, form_class: Callable[..., _F], **kwargs: Any) -> _F:
    """`form_class` bound to the query string, always valid: fields whose value does not
    validate are named in a message and dropped (the form is bound again without them).

    Unbound (no query string) when there is none, like `Form(request.GET or None)`.
    """
    form = form_class(request.GET or None, **kwargs)
    if not form.is_bound or form.is_valid():
        return form
    data = request.GET.copy()
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = str(field.label) if field is not None and field.label else name
        ignored(request, label, request.GET.get(name, ""), " ".join(str(e) for e in errors))
        data.pop(name, None)
    form = form_class(data or None, **kwargs)
    if form.is_bound and not form.is_valid():  # a rule across fields: drop every filter
        form = form_class(None, **kwargs)
    return form


def choice(
    request: HttpRequest, name: str, label: str, queryset: models.QuerySet[_M], field: str = "pk"
) -> _M | None:
    """The row of `queryset` (already scoped) named by ?name=; None, with a message, when
    the value does not parse or names no row the user may see."""
    raw = request.GET.get(name, "")
    if not raw:
        return None
    form_field = forms.ModelChoiceField(queryset, to_field_name=field)
    try:
        return form_field.clean(raw)  # type: ignore[no-any-return]
    except forms.ValidationError:
        ignored(request, label, raw, _("不在可选范围内"))
        return None


def page(request: HttpRequest, paginator: Paginator, name: str = "page") -> Page:
    """The page ?page= asks for; a page number that is not one, or past the end, shows the
    first (or last) page with a message instead of an error."""
    raw = request.GET.get(name, "")
    if not raw:
        return paginator.page(1)
    try:
        number = int(raw)
    except ValueError:
        ignored(request, _("页码"), raw, _("已显示第1页"))
        return paginator.page(1)
    if number < 1:
        ignored(request, _("页码"), raw, _("已显示第1页"))
        return paginator.page(1)
    if number > paginator.num_pages:
        ignored(
            request,
            _("页码"),
            raw,
            _("共%(n)d页，已显示最后一页") % {"n": paginator.num_pages},
        )
        return paginator.page(paginator.num_pages)
    return paginator.page(number)


def number(request: HttpRequest, name: str, label: str, *, default: int) -> int:
    """A positive whole number (e.g. a page the selector cuts itself); `default`, with a
    message, when ?name= is not one."""
    raw = request.GET.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        ignored(request, label, raw)
        return default
    return value
