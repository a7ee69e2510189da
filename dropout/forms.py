from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tasks.forms import SchoolChoiceField
from tasks.models import County, School, Unit

from .models import CaseStatus, Cause, CloseReason, FollowUpKind
from .selectors import CATEGORY_LABELS, counties_for_user

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CaseFilterForm(forms.Form):
    county = forms.ModelChoiceField(
        label=_("县市区"), queryset=County.objects.none(), required=False, empty_label="全部"
    )
    school = SchoolChoiceField(  # hundreds of schools city-wide
        label=_("学校"), queryset=School.objects.none(), required=False, empty_label="全部"
    )
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", "全部"), *CaseStatus.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("类别"), choices=[("", "全部"), *CATEGORY_LABELS.items()], required=False
    )
    attention = forms.BooleanField(label=_("只看需督办（逾期/30天未跟进）"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties_for_user(user)  # type: ignore[attr-defined]
        self.fields["school"].queryset = School.objects.for_user(user).filter(is_active=True)  # type: ignore[attr-defined]


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(label=_("跟进方式"), choices=FollowUpKind.choices)
    happened_on = forms.DateField(label=_("日期"), widget=DATE)
    hours = forms.DecimalField(
        label=_("送教课时（小时）"), required=False, max_digits=5, decimal_places=1, min_value=0
    )
    visitors = forms.CharField(label=_("参与人员"), max_length=100, required=False)
    notes = forms.CharField(
        label=_("情况记录"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    next_due = forms.DateField(label=_("下次跟进期限"), widget=DATE, required=False)


class TransitionForm(forms.Form):
    # Every status is accepted here: the service decides, and says why it refuses.
    to_status = forms.ChoiceField(label=_("改为"), choices=CaseStatus.choices)
    cause = forms.ChoiceField(
        label=_("辍学原因（核实时填）"), choices=[("", "——"), *Cause.choices], required=False
    )
    outcome_date = forms.DateField(label=_("日期（复学/送教/核销）"), widget=DATE, required=False)
    outcome_school = forms.ModelChoiceField(
        label=_("复学学校"), queryset=School.objects.filter(is_active=True), required=False
    )
    close_reason = forms.ChoiceField(
        label=_("核销原因"), choices=[("", "——"), *CloseReason.choices], required=False
    )
    note = forms.CharField(
        label=_("说明/佐证材料"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        required=False,
    )

    def __init__(self, *args: Any, allowed: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if allowed and not self.is_bound:
            self.fields["to_status"].choices = [c for c in CaseStatus.choices if c[0] in allowed]  # type: ignore[attr-defined]


class PlanForm(forms.Form):
    cause = forms.ChoiceField(
        label=_("辍学原因"), choices=[("", "——"), *Cause.choices], required=False
    )
    cause_note = forms.CharField(label=_("原因说明"), max_length=200, required=False)
    measures = forms.CharField(
        label=_("帮扶措施（一生一案）"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    responsible_person = forms.CharField(label=_("责任人"), max_length=50, required=False)
    responsible_unit = forms.ModelChoiceField(
        label=_("责任单位"), queryset=Unit.objects.none(), required=False
    )
    is_left_behind = forms.BooleanField(label=_("留守儿童"), required=False)
    is_disabled = forms.BooleanField(label=_("残疾儿童"), required=False)
    is_other_difficulty = forms.BooleanField(label=_("其他特殊困难"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible_unit"].queryset = Unit.objects.for_user(user).filter(  # type: ignore[attr-defined]
            is_active=True
        )  # type: ignore[attr-defined]


class RunCheckForm(forms.Form):
    county = forms.ModelChoiceField(
        label=_("县市区"), queryset=County.objects.none(), empty_label=None
    )
    as_of = forms.DateField(label=_("核查日期"), widget=DATE)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties_for_user(user)  # type: ignore[attr-defined]


class FullExportForm(forms.Form):
    reason = forms.CharField(
        label=_("导出完整身份证号的事由"),
        min_length=4,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("例如：报送省厅控辍保学台账")}),
    )
