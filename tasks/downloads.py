"""One way to send a generated file (.xlsx, .docx, .csv) as a download, for every app."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSV = "text/csv; charset=utf-8"


def download(content: bytes, filename: str, content_type: str = XLSX) -> HttpResponse:
    """An attachment named `filename` (Chinese names survive: RFC 6266 filename*)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename) or ""
    return response
