from __future__ import annotations

from django.urls import path

from . import views

app_name = "employment"

urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("export.xlsx", views.ledger_export, name="export"),
    path("graduates/<int:pk>/", views.graduate_detail, name="graduate"),
    path("graduates/<int:pk>/guidance/", views.guidance_add, name="guidance"),
]
