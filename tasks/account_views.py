"""The password change every imported account must pass first (the one-time download of
an account import's initial passwords is intake.views.upload_passwords)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext as _


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
