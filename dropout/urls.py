from __future__ import annotations

from django.urls import path

from . import views

app_name = "dropout"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/", views.case_list, name="cases"),
    path("cases/export.xlsx", views.ledger_export, name="export"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/follow-up/", views.follow_up_add, name="follow_up"),
    path("cases/<int:pk>/status/", views.case_move, name="move"),
    path("cases/<int:pk>/plan/", views.case_plan, name="plan"),
    path("crosscheck/", views.crosscheck_start, name="crosscheck"),
]
