from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SubmitForm(forms.Form):
    narrative = forms.CharField(
        label=_("情况说明"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    cover_sheet = forms.FileField(
        label=_("签字盖章封面（扫描件，可选）"),
        required=False,
        help_text=_("PDF、图片或 Word 文件"),
    )


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("审核意见"), required=False, max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=2000)


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("整改措施"), widget=forms.Textarea(attrs={"rows": 5}), max_length=8000
    )
    file = forms.FileField(label=_("整改报告（盖章扫描件或 Word）"))


class TextsForm(forms.Form):
    summary = forms.CharField(label=_("总体情况"), widget=forms.Textarea(attrs={"rows": 5}))
    praised = forms.CharField(label=_("表扬单位"), widget=forms.Textarea(attrs={"rows": 3}))
    lagging = forms.CharField(label=_("通报单位"), widget=forms.Textarea(attrs={"rows": 3}))
    missed = forms.CharField(
        label=_("逾期事项及督办情况"), widget=forms.Textarea(attrs={"rows": 4})
    )
    requirements = forms.CharField(
        label=_("下季度工作要求（每行一条）"), widget=forms.Textarea(attrs={"rows": 5})
    )


class EditedDocxForm(forms.Form):
    file = forms.FileField(label=_("人工修改稿（.docx）"))


class BuildForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类别"), choices=[("monthly", _("月点评")), ("quarterly", _("季通报"))]
    )
    period = forms.CharField(
        label=_("期间"), help_text=_("月点评写 2019-05，季通报写 2019Q2"), max_length=10
    )
