"""`{{ deadline|deadline_name }}`: a deadline in plain words (“学生资助进展按月统计上报”2019年5月),
the way the circulars name it, not "任务5 2019年5月"."""

from __future__ import annotations

from typing import Any

from django import template

from reports.texts import deadline_words

register = template.Library()


@register.filter
def deadline_name(deadline: Any) -> str:
    return deadline_words(deadline)
