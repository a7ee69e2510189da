from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from reports import views as report_views
from tasks import account_views

if settings.ADMIN_REQUIRE_OTP:
    from django_otp.admin import OTPAdminSite

    # django-otp's documented way to protect the default site, keeping every registration.
    admin.site.__class__ = OTPAdminSite

admin.site.site_header = _("宣城市教育助学脱贫工作管理")
admin.site.site_title = _("教育助学脱贫")
admin.site.index_title = _("后台管理")

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Imported accounts must pass here first (tasks.accounts.PasswordChangeRequiredMiddleware).
    path("accounts/password/", account_views.PasswordChange.as_view(), name="password_change"),
    path("admin/", admin.site.urls),
    path("subsidies/", include("subsidies.urls")),
    path("dropout/", include("dropout.urls")),
    path("matching/", include("matching.urls")),
    path("reports/", include("reports.urls")),
    path("inspections/", include("inspections.urls")),
    path("archive/", include("archive.urls")),
    path("employment/", include("employment.urls")),
    # The landing page: the user's to-do list, then the plan board. It lives in `reports`
    # (the top layer reads every app); the bare board is tasks:board at /plan/.
    path("", report_views.home, name="home"),
    path("", include("tasks.urls")),
    path("", include("intake.urls")),
]

# Error pages that show only messages written for users, never the exception's own text.
handler403 = "tasks.error_views.forbidden"
handler404 = "tasks.error_views.not_found"
