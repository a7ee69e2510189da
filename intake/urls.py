from __future__ import annotations

from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("uploads/", views.upload_list, name="uploads"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload"),
    path("uploads/<int:pk>/status.json", views.upload_status, name="upload_status"),
    path("uploads/<int:pk>/confirm/", views.upload_confirm, name="upload_confirm"),
    path("uploads/<int:pk>/cancel/", views.upload_cancel, name="upload_cancel"),
    path("uploads/<int:pk>/retry/", views.upload_retry, name="upload_retry"),
    path("uploads/<int:pk>/file/", views.upload_file, name="upload_file"),
    path("uploads/<int:pk>/errors.xlsx", views.upload_errors_xlsx, name="upload_errors"),
    path("uploads/<int:pk>/passwords.xlsx", views.upload_passwords, name="upload_passwords"),
    path("uploads/<int:pk>/map/", views.upload_map, name="upload_map"),
    path(
        "uploads/mappings/<int:pk>/delete/",
        views.header_mapping_delete,
        name="header_mapping_delete",
    ),
    path("uploads/template/<slug:kind>.xlsx", views.upload_template, name="upload_template"),
]
