from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tasks.forms import SchoolChoiceField
from tasks.models import County, School
from tasks.scoping import user_scope

from .models import Destination, Graduate

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class GraduateFilterForm(forms.Form):
    county = forms.ModelChoiceField(
        label=_("县市区"), queryset=County.objects.none(), required=False, empty_label="全部"
    )
    school = SchoolChoiceField(
        label=_("学校"), queryset=School.objects.none(), required=False, empty_label="全部"
    )
    destination = forms.ChoiceField(
        label=_("去向"), choices=[("", "全部"), *Destination.choices], required=False
    )
    flagged = forms.BooleanField(label=_("只看30天未指导"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = user_scope(user)
        counties = County.objects.prefetch_related("codes")
        if not scope.sees_all:
            counties = counties.filter(pk=scope.county_id) if scope.county_id else counties.none()
        self.fields["county"].queryset = counties  # type: ignore[attr-defined]
        self.fields["county"].label_from_instance = lambda c: c.current_name()  # type: ignore[attr-defined]
        # Only schools with graduates on the ledger: not every primary school of the city.
        self.fields["school"].queryset = School.objects.for_user(user).filter(  # type: ignore[attr-defined]
            pk__in=Graduate.objects.for_user(user).values("school")
        )


class GuidanceForm(forms.Form):
    given_on = forms.DateField(label=_("指导日期"), widget=DATE)
    adviser = forms.CharField(label=_("指导老师"), max_length=50)
    content = forms.CharField(
        label=_("指导内容"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    next_step = forms.CharField(
        label=_("下一步"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )
    next_on = forms.DateField(label=_("下次指导日期"), widget=DATE, required=False)
