"""`{{ kind|kind_name }}`: a sheet kind's Chinese title instead of its code."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from intake.base import get_spec

register = template.Library()


@register.filter
def kind_name(kind: object) -> str:
    """The sheet's Chinese title (资助发放明细, 学籍 …) for its code."""
    try:
        return str(get_spec(str(kind)).title)
    except LookupError:
        return _("其他表格")
