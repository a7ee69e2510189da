from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.periods import parse_month
from tasks.forms import FastSelect
from tasks.models import Task

# A text box rather than <input type="month">: that one shows the browser's language
# ("May 2019" in an English Chromium), and 2019-05 is what the bureau's sheets write.
MONTH = forms.TextInput(
    attrs={"placeholder": "2019-05", "pattern": r"\d{4}-\d{1,2}", "inputmode": "numeric", "size": 8}
)


class MonthField(forms.CharField):
    """A month typed as 2019-05 (what <input type="month"> sends), as its first day."""

    def to_python(self, value: Any) -> dt.date | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_month(text)
        except ValueError:
            raise forms.ValidationError(_("月份应写作 2019-05 的格式。")) from None


class ArchiveForm(forms.Form):
    task = forms.ModelChoiceField(
        label=_("任务"),
        queryset=Task.objects.none(),
        required=False,
        empty_label="全部任务",
        widget=FastSelect,
        error_messages={"invalid_choice": _("所选任务不存在。")},
    )
    unit = forms.ModelChoiceField(
        label=_("单位"),
        queryset=Task.objects.none(),
        required=False,
        empty_label="全部单位",
        widget=FastSelect,
        error_messages={"invalid_choice": _("所选单位不在可选范围内。")},
    )
    start = MonthField(label=_("起始月份"), required=False, widget=MONTH)
    end = MonthField(label=_("截止月份"), required=False, widget=MONTH)

    def __init__(self, *args: Any, tasks: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["task"].queryset = tasks  # type: ignore[attr-defined]
        self.fields["task"].label_from_instance = lambda t: f"{t.number}. {t.short_text}"  # type: ignore[attr-defined]
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["unit"].label_from_instance = lambda u: u.display_name  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("起始月份不能晚于截止月份。"))
        return data
