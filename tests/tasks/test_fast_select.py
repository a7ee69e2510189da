"""The Python-rendered <select> used for long school lists behaves like Django's."""

from __future__ import annotations

from django import forms

from tasks.forms import FastSelect


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
