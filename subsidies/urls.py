from __future__ import annotations

from django.urls import path

from . import views

app_name = "subsidies"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("omissions/", views.omissions, name="omissions"),
    path("omissions.xlsx", views.omissions_xlsx, name="omissions_xlsx"),
    path("students/<int:pk>/", views.student, name="student"),
    path("students/<int:pk>/notice/", views.notice_record, name="notice_record"),
    path("students/<int:pk>/notice.docx", views.notice_docx, name="notice_docx"),
    path("notices/", views.notices, name="notices"),
    path("notices/school/<int:pk>.docx", views.school_notices_docx, name="school_notices_docx"),
    path("export/", views.export, name="export"),
]
