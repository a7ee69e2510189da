"""What a page shows instead of a raw value: `{{ amount|money }}`,
`{{ run.triggered_by|trigger_name }}`, `{{ level|escalation_level }}` (a sheet kind's
name: `kind_name` of intake_labels)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from xc_fupin.lib.money import format_money

register = template.Library()


@register.filter
def money(value: object) -> str:
    """1,250.00 — the one money format of every page."""
    return format_money(value)  # type: ignore[arg-type]


@register.filter
def trigger_name(value: object) -> str:
    """Who started a run: a job, the command line, the demo data, or a user's name."""
    names = {
        "": _("—"),
        "job": _("定时任务"),
        "command": _("命令行"),
        "demo": _("演示数据"),
        "manual": _("手动"),
    }
    return names.get(str(value or ""), str(value))


@register.filter
def escalation_level(level: object) -> str:
    """督办 levels in words: 1 → 第一次督办, 2 → 第二次督办."""
    words = {1: _("第一次督办"), 2: _("第二次督办"), 3: _("第三次督办")}
    try:
        n = int(str(level))
    except ValueError:
        return str(level)
    return words.get(n, _("第%(n)s次督办") % {"n": n})


@register.filter
def sentence(text: object) -> str:
    """Free text a user typed, ended with exactly one full stop ("…已核实。" stays as is,
    so a page never shows "。。")."""
    value = str(text or "").strip()
    if not value or value[-1] in "。！？.!?；;":
        return value
    return value + "。"
