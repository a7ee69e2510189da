"""The password change every imported account must pass first, and the one-time download
of an account import's initial passwords."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .accounts import account_passwords_issue, passwords_workbook
from .downloads import download
from .models import Upload


class PasswordChange(PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        # Saved with the new password by the form: the one-time password is gone.
        form.user.must_change_password = False
        response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。"))
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["forced"] = self.request.user.must_change_password  # type: ignore[union-attr]
        return context


@login_required
@permission_required("tasks.add_user", raise_exception=True)
@require_POST
def upload_passwords(request: HttpRequest, pk: int) -> HttpResponse:
    """Once, right after an account import: the new accounts' one-time passwords."""
    upload = get_object_or_404(
        Upload.objects.for_user(request.user),
        pk=pk,
        kind="users",
        state=Upload.State.APPLIED,
    )
    issued = account_passwords_issue(upload=upload)
    if not issued:
        messages.error(
            request,
            _(
                "该次导入的初始密码已经下载过，不能再次下载（系统不保存明文密码）。"
                "如有遗失，请在后台为该用户设置新密码。"
            ),
        )
        return redirect("tasks:upload", pk=pk)
    response = download(passwords_workbook(issued), f"初始密码-上传{upload.pk}.xlsx")
    response["Cache-Control"] = "no-store"
    return response
