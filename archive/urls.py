from __future__ import annotations

from django.urls import path

from . import views

app_name = "archive"

urlpatterns = [
    path("", views.archive_page, name="index"),
    path("download.zip", views.archive_zip, name="zip"),
]
