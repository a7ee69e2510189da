from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tasks.forms import SchoolChoiceField
from tasks.models import County, School, Stage
from tasks.scoping import user_scope

from .models import Notice, Semester, SubsidyItem
from .selectors import KINDS, OmissionFilters


class OmissionFilterForm(forms.Form):
    """Filters of the dashboard and the omission list. The choices offered are those the
    user's scope allows; the query itself is scoped again in the selector."""

    county = forms.ModelChoiceField(
        County.objects.none(), required=False, label=_("县区"), empty_label=_("全部县区")
    )
    school = SchoolChoiceField(  # hundreds of schools city-wide
        School.objects.none(), required=False, label=_("学校"), empty_label=_("全部学校")
    )
    stage = forms.ChoiceField(
        choices=[("", _("全部学段")), *Stage.choices], required=False, label=_("学段")
    )
    item = forms.ModelChoiceField(
        SubsidyItem.objects.none(), required=False, label=_("资助项目"), empty_label=_("全部项目")
    )
    kind = forms.ChoiceField(
        choices=[("all", _("三类问题")), *KINDS.items()], required=False, label=_("类别")
    )

    def __init__(self, *args: Any, user: Any, semester: Semester, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = user_scope(user)
        counties = County.objects.prefetch_related("codes").order_by("order")
        if not scope.sees_all:
            counties = counties.filter(pk=scope.county_id) if scope.county_id else counties.none()
        self.fields["county"].queryset = counties  # type: ignore[attr-defined]
        schools = School.objects.for_user(user).order_by("county__order", "order", "name")
        self.fields["school"].queryset = schools  # type: ignore[attr-defined]
        self.fields["item"].queryset = SubsidyItem.objects.filter(is_active=True)  # type: ignore[attr-defined]

    def _value(self, name: str) -> Any:
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            return None
        return self.cleaned_data.get(name)

    def filters(self) -> OmissionFilters:
        county, school, item = self._value("county"), self._value("school"), self._value("item")
        return OmissionFilters(
            county_id=county.pk if county else None,
            school_id=school.pk if school else None,
            stage=self._value("stage") or None,
            item_id=item.pk if item else None,
        )

    def chosen_kind(self) -> str:
        return self._value("kind") or "all"


class DeliveryForm(forms.Form):
    semester = forms.ModelChoiceField(
        Semester.objects.order_by("start"), to_field_name="code", label=_("学期")
    )
    way = forms.ChoiceField(choices=Notice.Way.choices, label=_("告知方式"))
    # <input type=date> takes only ISO dates; the locale's 2019/06/16 would show blank.
    on = forms.DateField(
        label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    handled_by = forms.CharField(max_length=50, label=_("经办人"))
    note = forms.CharField(max_length=200, required=False, label=_("备注"))


class PersonalExportForm(forms.Form):
    """The reason for an export with full names and ID numbers (logged). Without the
    permission, or without a reason, the file goes out masked."""

    reason = forms.CharField(
        max_length=200,
        required=False,
        label=_("导出完整信息的事由"),
        widget=forms.TextInput(attrs={"placeholder": _("如：报送扶贫部门比对"), "minlength": 4}),
    )

    def reason_text(self) -> str:
        return self.cleaned_data.get("reason", "") if self.is_valid() else ""
