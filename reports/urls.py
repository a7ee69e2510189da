from __future__ import annotations

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("build/", views.report_build, name="build"),
    path("r/<int:pk>/", views.report_detail, name="report"),
    path("r/<int:pk>/texts/", views.report_texts, name="report_texts"),
    path("r/<int:pk>/edited/", views.report_edited, name="report_edited"),
    path("r/<int:pk>/approve/", views.report_approve, name="report_approve"),
    path("r/<int:pk>/issue/", views.report_issue, name="report_issue"),
    path("r/<int:pk>/regenerate/", views.report_regenerate, name="report_regenerate"),
    path("r/<int:pk>/file/<str:which>/", views.report_file, name="report_file"),
    path("calendar/", views.calendar, name="calendar"),
    path("inbox/", views.inbox, name="inbox"),
    path("reminders/<int:deadline>/read/", views.reminders_read, name="reminders_read"),
    path("escalations/<int:pk>/", views.escalation_detail, name="escalation"),
    path("escalations/<int:pk>/close/", views.escalation_close, name="escalation_close"),
    path("corrections/<int:pk>/file/", views.correction_file, name="correction_file"),
    path("submissions/", views.submissions_home, name="submissions"),
    path("submissions/<str:month>/", views.submissions_month, name="submissions_month"),
    path("submissions/<str:month>/lock/", views.month_lock, name="month_lock"),
    path("submissions/<str:month>/reopen/", views.month_reopen, name="month_reopen"),
    path("submission/<int:pk>/", views.submission_detail, name="submission"),
    path("submission/<int:pk>/<str:action>/", views.submission_action, name="submission_action"),
    path("cover/<int:pk>/", views.cover_file, name="cover"),
    path("completeness/<int:year>/", views.completeness, name="completeness"),
]
