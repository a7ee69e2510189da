from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tasks.forms import FastSelect, MultipleFileField
from tasks.models import Unit

from .models import Inspection, Source, Status

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CATEGORIES = [
    "资助政策落实",
    "资金发放",
    "控辍保学",
    "结果告知",
    "台账资料",
    "宣传培训",
    "作风建设",
    "其他",
]


def _active_units() -> Any:
    return Unit.objects.filter(is_active=True).order_by("order", "code")


class ItemFilterForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("责任单位"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label="全部",
        widget=FastSelect,
        error_messages={"invalid_choice": _("所选单位不在可选范围内。")},
    )
    source = forms.ChoiceField(
        label=_("来源"),
        choices=[("", "全部"), *Source.choices],
        required=False,
        error_messages={"invalid_choice": _("来源不在可选范围内。")},
    )
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[("", "全部"), *Status.choices],
        required=False,
        error_messages={"invalid_choice": _("状态不在可选范围内。")},
    )
    overdue = forms.BooleanField(label=_("只看逾期"), required=False)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class InspectionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("方式"),
        choices=[("", "——请选择——"), *Inspection.Kind.choices],
        error_messages={"required": _("请选择检查方式（明查或暗访）。")},
    )
    visited_on = forms.DateField(
        label=_("检查日期"), widget=DATE, error_messages={"required": _("请填写检查日期。")}
    )
    team = forms.CharField(
        label=_("检查组"), max_length=200, error_messages={"required": _("请填写检查组。")}
    )
    places = forms.CharField(
        label=_("检查地点"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写检查地点。")},
    )
    units = forms.ModelMultipleChoiceField(
        label=_("被检查单位"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("发现问题的责任单位会自动加入。"),
    )
    note = forms.CharField(
        label=_("情况说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = _active_units()  # type: ignore[attr-defined]


class FindingForm(forms.Form):
    """One finding; a row left entirely empty is skipped."""

    unit = forms.ModelChoiceField(
        label=_("责任单位"),
        queryset=Unit.objects.none(),
        widget=FastSelect,
        required=False,
        empty_label="——请选择——",
    )
    category = forms.CharField(
        label=_("问题类别"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"list": "categories"}),
    )
    problem = forms.CharField(
        label=_("发现问题"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    requirement = forms.CharField(
        label=_("整改要求"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    due_on = forms.DateField(label=_("整改时限"), widget=DATE, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _active_units()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = [
            k for k in ("unit", "category", "problem", "requirement", "due_on") if data.get(k)
        ]
        if filled and len(filled) < 5:
            missing = [
                str(self.fields[k].label)
                for k in ("unit", "category", "problem", "requirement", "due_on")
                if not data.get(k)
            ]
            raise forms.ValidationError(_("请填写：%(f)s。") % {"f": "、".join(missing)})
        data["empty"] = not filled
        return data


FindingFormSet = forms.formset_factory(FindingForm, extra=3, max_num=30)


class FeedbackForm(forms.Form):
    number = forms.IntegerField(
        label=_("序号"), min_value=1, max_value=999, error_messages={"required": _("请填写序号。")}
    )
    text = forms.CharField(
        label=_("反馈问题"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写反馈问题。")},
    )
    measures = forms.CharField(
        label=_("整改措施"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写整改措施。")},
    )
    lead = forms.ModelChoiceField(
        label=_("牵头单位"),
        queryset=Unit.objects.none(),
        widget=FastSelect,
        empty_label="——请选择——",
        error_messages={"required": _("请选择牵头单位。")},
    )
    others = forms.ModelMultipleChoiceField(
        label=_("配合单位"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    due_on = forms.DateField(
        label=_("整改时限"), widget=DATE, error_messages={"required": _("请填写整改时限。")}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = _active_units().exclude(kind=Unit.Kind.SCHOOL)
        self.fields["lead"].queryset = units  # type: ignore[attr-defined]
        self.fields["others"].queryset = units  # type: ignore[attr-defined]

    def units(self) -> list[Unit]:
        lead = self.cleaned_data["lead"]
        return [lead, *(u for u in self.cleaned_data["others"] if u.pk != lead.pk)]


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("整改情况"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        error_messages={"required": _("请填写整改情况。")},
    )
    evidence = MultipleFileField(label=_("佐证材料"), required=False)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核"),
        choices=[("close", _("销号")), ("return", _("退回"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择销号或退回。")},
    )
    comment = forms.CharField(
        label=_("意见"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
