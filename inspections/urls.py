from __future__ import annotations

from django.urls import path

from . import views

app_name = "inspections"

urlpatterns = [
    path("", views.item_list, name="list"),
    path("mine/", views.my_items, name="my_items"),
    path("new/", views.inspection_new, name="new"),
    path("<int:pk>/", views.inspection_detail, name="inspection"),
    path("feedback/new/", views.feedback_new, name="feedback_new"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("ledger.xlsx", views.ledger_xlsx, name="ledger_xlsx"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
]
