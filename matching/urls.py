from __future__ import annotations

from django.urls import path

from . import views

app_name = "matching"

urlpatterns = [
    path("", views.page, name="page"),
    path("run/", views.run_start, name="run"),
    path("runs/<int:pk>/status/", views.run_status, name="status"),
]
