from __future__ import annotations

from django.urls import path

from . import health, views

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
]
