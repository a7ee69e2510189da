from __future__ import annotations

from django.urls import path

from . import views

app_name = "tasks"

urlpatterns = [
    path("", views.board, name="board"),
    path("tasks/<int:number>/", views.task_detail, name="task"),
    path("tasks/<int:number>/ledger/new/", views.ledger_new, name="ledger_new"),
    path("ledger/<int:pk>/review/", views.ledger_review, name="ledger_review"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("mine/", views.my_unit, name="mine"),
    path("plan/breakdown.xlsx", views.plan_breakdown_xlsx, name="breakdown_xlsx"),
]
