from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from .models import Indicator, LedgerEntry, Unit


class FastSelect(forms.Select):
    """A <select> whose options are built in Python.

    Django renders one template per <option>; a city-wide school filter has 700+ schools
    at province scale, which cost ~130 ms of a 150 ms page. No optgroups.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs or {})
        final_attrs["name"] = name
        chosen = {str(v) for v in self.format_value(value)}
        # html.escape on plain strings: format_html per option (lazy-string checks, a
        # SafeString each) was most of a list page's rendering with 739 schools.
        options = "".join(
            f'<option value="{escape(str(v))}"{" selected" if str(v) in chosen else ""}>'
            f"{escape(str(label))}</option>"
            for v, label in self.choices
        )
        return format_html("<select{}>{}</select>", flatatt(final_attrs), mark_safe(options))  # noqa: S308 - every value escaped above


class _NameChoiceIterator(forms.models.ModelChoiceIterator):
    """(pk, name) pairs straight from the database: no model instance per option."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.queryset.values_list("pk", "name")

    def __len__(self) -> int:
        return self.queryset.count() + (1 if self.field.empty_label is not None else 0)


class SchoolChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A filter over hundreds of schools (or units): options are labelled with the row's
    `name` and built from one `values_list` query, rendered by `FastSelect`. At province
    scale (739 schools) building a model instance per option was most of a list page's
    work. Validation is `ModelChoiceField`'s (the queryset still decides what is allowed)."""

    iterator = _NameChoiceIterator
    widget = FastSelect


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several evidence files in one input (the pattern the Django docs give)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class MonthField(forms.DateField):
    """An <input type=month> (YYYY-MM) stored as the first day of the month."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m", "%Y-%m-%d"]
    default_error_messages = {"invalid": _("请按“年-月”填写月份，例如 2019-05。")}


class LedgerEntryForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("填报单位"),
        queryset=Unit.objects.none(),
        error_messages={
            "required": _("请选择填报单位。"),
            "invalid_choice": _("所选单位不是本任务中您可以填报的单位。"),
        },
    )
    period = MonthField(label=_("月份"), error_messages={"required": _("请填写月份。")})
    status = forms.ChoiceField(
        label=_("进展状态"),
        choices=[("", "——请选择——"), *LedgerEntry.Status.choices],
        error_messages={
            "required": _("请选择进展状态。"),
            "invalid_choice": _("进展状态不在可选范围内。"),
        },
    )
    narrative = forms.CharField(
        label=_("工作情况"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        error_messages={"required": _("请填写工作情况。")},
    )
    evidence = MultipleFileField(label=_("佐证材料"), required=False)

    def __init__(
        self,
        *args: Any,
        units: list[Unit],
        indicators: Sequence[Indicator] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.ModelChoiceField)
        unit_field.queryset = Unit.objects.filter(pk__in=[u.pk for u in units])
        if len(units) == 1:
            unit_field.initial = units[0].pk
        # The task's indicators, before the evidence field: a blank one leaves the value
        # stored for the month as it is.
        evidence = self.fields.pop("evidence")
        for indicator in indicators:
            self.fields[f"indicator_{indicator.pk}"] = forms.DecimalField(
                label=f"{indicator.name}（{indicator.measure}）",
                required=False,
                min_value=0,
                max_digits=14,
                decimal_places=2,
                error_messages={
                    "invalid": _("请填写数字。"),
                    "min_value": _("数值不能为负数。"),
                    "max_digits": _("数值过大。"),
                    "max_decimal_places": _("最多保留两位小数。"),
                    "max_whole_digits": _("数值过大。"),
                },
            )
        self.fields["evidence"] = evidence
        self.indicator_ids = [i.pk for i in indicators]

    def indicator_values(self) -> dict[int, Decimal | None]:
        """Indicator id -> the value typed (None when left blank)."""
        return {pk: self.cleaned_data.get(f"indicator_{pk}") for pk in self.indicator_ids}

    def clean_period(self) -> dt.date:
        value: dt.date = self.cleaned_data["period"]
        if value.year < 2019 or value.year > 2100:
            raise forms.ValidationError(_("月份超出计划年度范围。"))
        return value.replace(day=1)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", _("采纳")), ("return", _("退回"))],
        error_messages={"required": _("请选择采纳或退回。")},
    )
    comment = forms.CharField(
        label=_("审核意见"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class IndicatorPeriodForm(forms.Form):
    """The months the task page adds indicator values over (?start=2019-03&end=2019-05)."""

    start = MonthField(label=_("起始月份"), required=False)
    end = MonthField(label=_("截止月份"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("起始月份不能晚于截止月份。"))
        return data
