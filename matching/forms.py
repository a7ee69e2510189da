from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from subsidies.models import Semester
from tasks.models import County
from tasks.scoping import user_scope


def counties_for_user(user: Any) -> Any:
    scope = user_scope(user)
    counties = County.objects.prefetch_related("codes").order_by("order")
    if scope.sees_all:
        return counties
    if scope.county_id is not None:
        return counties.filter(pk=scope.county_id)
    return counties.none()


class CountyChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.current_name()


class RunForm(forms.Form):
    semester = forms.ModelChoiceField(
        label=_("学期"), queryset=Semester.objects.order_by("start"), empty_label=None
    )
    county = CountyChoice(
        label=_("县市区"), queryset=County.objects.none(), required=False, empty_label=_("全市")
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        counties = counties_for_user(user)
        field = self.fields["county"]
        field.queryset = counties  # type: ignore[attr-defined]
        if not user_scope(user).sees_all:
            # A county runs its own county only: no "whole city" choice.
            field.required = True
            field.empty_label = None  # type: ignore[attr-defined]
