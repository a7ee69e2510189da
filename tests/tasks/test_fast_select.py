"""The Python-rendered <select> used for long school lists behaves like Django's."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from tasks.forms import FastSelect, SchoolChoiceField
from tasks.models import County, School


class SchoolForm(forms.Form):
    school = forms.ChoiceField(
        choices=[("", "全部"), ("1", "宣州区实验小学"), ("2", "<b>郎溪</b>&小学")],
        required=False,
        widget=FastSelect,
    )


def test_it_renders_the_selected_option_and_escapes_labels() -> None:
    html = str(SchoolForm({"school": "2"})["school"])
    assert html.startswith("<select") and 'name="school"' in html and 'id="id_school"' in html
    assert '<option value="2" selected>&lt;b&gt;郎溪&lt;/b&gt;&amp;小学</option>' in html
    assert '<option value="1">宣州区实验小学</option>' in html
    assert html.count("selected") == 1


def test_its_label_still_points_at_it() -> None:
    form = SchoolForm()
    assert 'for="id_school"' in form["school"].label_tag()
    assert 'id="id_school"' in str(form["school"])


class SchoolFilterForm(forms.Form):
    school = SchoolChoiceField(queryset=School.objects.none(), required=False, empty_label="全部")

    def __init__(self, *args: Any, schools: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_school_choice_lists_names_and_validates_against_its_queryset() -> None:
    county = County.objects.create(name="郎溪县", slug="langxi-t", order=1)
    inside = School.objects.create(code="T-1", name="郎溪县<实验>小学", county=county)
    outside = School.objects.create(code="T-2", name="宣州区某小学", county=county)
    schools = School.objects.filter(pk=inside.pk)

    html = str(SchoolFilterForm(schools=schools)["school"])
    assert '<option value="" selected>全部</option>' in html  # nothing chosen yet
    assert f'<option value="{inside.pk}">郎溪县&lt;实验&gt;小学</option>' in html
    assert "宣州区某小学" not in html  # only the queryset's schools are offered

    chosen = SchoolFilterForm({"school": str(inside.pk)}, schools=schools)
    assert chosen.is_valid() and chosen.cleaned_data["school"] == inside
    # A school outside the user's queryset is refused, as by ModelChoiceField.
    refused = SchoolFilterForm({"school": str(outside.pk)}, schools=schools)
    assert not refused.is_valid() and "school" in refused.errors
