"""Masking filters for templates: `{{ s.id_number|mask_id }}`, `{{ s.name|mask_name }}`."""

from __future__ import annotations

from django import template

from xc_fupin.lib.idnumber import mask_id_number, mask_name

register = template.Library()


@register.filter
def mask_id(value: object) -> str:
    return mask_id_number(str(value or ""))


@register.filter(name="mask_name")
def mask_name_filter(value: object) -> str:
    return mask_name(str(value or ""))
