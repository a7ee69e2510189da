from __future__ import annotations

from django.urls import path

from . import account_views, health, upload_views, views

app_name = "tasks"

urlpatterns = [
    path("plan/", views.board, name="board"),
    path("tasks/<int:number>/", views.task_detail, name="task"),
    path("tasks/<int:number>/ledger/new/", views.ledger_new, name="ledger_new"),
    path("ledger/<int:pk>/review/", views.ledger_review, name="ledger_review"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("mine/", views.my_unit, name="mine"),
    path("reveal/<str:label>/<int:pk>/", views.personal_data_reveal, name="reveal"),
    path("plan/breakdown.xlsx", views.plan_breakdown_xlsx, name="breakdown_xlsx"),
    # No login: for monitoring; answers only ok/not ok per component (tasks/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("uploads/", upload_views.upload_list, name="uploads"),
    path("uploads/<int:pk>/", upload_views.upload_detail, name="upload"),
    path("uploads/<int:pk>/status.json", upload_views.upload_status, name="upload_status"),
    path("uploads/<int:pk>/confirm/", upload_views.upload_confirm, name="upload_confirm"),
    path("uploads/<int:pk>/cancel/", upload_views.upload_cancel, name="upload_cancel"),
    path("uploads/<int:pk>/retry/", upload_views.upload_retry, name="upload_retry"),
    path("uploads/<int:pk>/file/", upload_views.upload_file, name="upload_file"),
    path("uploads/<int:pk>/errors.xlsx", upload_views.upload_errors_xlsx, name="upload_errors"),
    path(
        "uploads/<int:pk>/passwords.xlsx", account_views.upload_passwords, name="upload_passwords"
    ),
    path("uploads/template/<slug:kind>.xlsx", upload_views.upload_template, name="upload_template"),
]
