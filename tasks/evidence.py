"""Evidence files (佐证材料): what a ledger entry and a rectification answer share.

One rule for every evidence upload (types and size), one set of columns, one way to
store a file under a name the uploader did not choose, and one permission-checked
download. `LedgerEvidence` (tasks) and `ItemEvidence` (inspections) subclass
`EvidenceBase`; each keeps its own table, folder and parent row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.http import FileResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import clock

#: Evidence is documents and photos; anything a browser or Office could run is refused.
EVIDENCE_TYPES = (
    ".pdf",
    ".ofd",
    ".jpg",
    ".jpeg",
    ".png",
    ".doc",
    ".docx",
    ".wps",
    ".xls",
    ".xlsx",
    ".et",
    ".txt",
    ".zip",
    ".rar",
)


def evidence_check(files: Sequence[UploadedFile]) -> None:
    """Refuse evidence files over EVIDENCE_MAX_BYTES or of a type not in EVIDENCE_TYPES
    (ValidationError keyed "evidence", naming the file). Used by every evidence upload."""
    limit = settings.EVIDENCE_MAX_BYTES
    for f in files:
        if Path(f.name or "").suffix.lower() not in EVIDENCE_TYPES:
            raise ValidationError(
                {
                    "evidence": gettext(
                        "佐证材料“%(name)s”的文件类型不允许上传，请上传 PDF、OFD、图片（JPG/PNG）、"
                        "Word、WPS、Excel、文本或压缩包（ZIP/RAR）文件。"
                    )
                    % {"name": Path(f.name or "").name}
                }
            )
        if f.size is not None and f.size > limit:
            raise ValidationError(
                {
                    "evidence": gettext(
                        "佐证材料“%(name)s”大小为 %(size).1f MB，超过上限 %(limit).0f MB。"
                    )
                    % {"name": f.name, "size": f.size / 1048576, "limit": limit / 1048576}
                }
            )


E = TypeVar("E", bound="EvidenceBase")


def stamp() -> str:
    """The stored file's name: a time stamp, never the uploader's name (which may carry a
    path or a script)."""
    return f"{clock.now():%Y%m%d%H%M%S%f}"


class EvidenceBase(models.Model):
    """The columns of an evidence file. A subclass adds its parent row(s) and its `file`
    field (a FileField whose upload_to puts the file in that subclass's folder: the
    folder is part of each table's migrations, so it stays declared there)."""

    file: Any
    original_name = models.CharField(_("原文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("类型"), max_length=100, blank=True)
    uploaded_at = clock.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name

    @classmethod
    def store(cls: type[E], f: UploadedFile, **parents: Any) -> E:
        """Save one checked file (see `evidence_check`) under its parent row(s)."""
        return cls.objects.create(  # type: ignore[attr-defined, no-any-return]
            file=f,
            original_name=Path(f.name or "file").name[:200],
            size=f.size or 0,
            content_type=(getattr(f, "content_type", "") or "")[:100],
            **parents,
        )

    def response(self) -> FileResponse:
        """The file as a download under its original name; the caller has already found
        the row through the user's scope (`for_user`)."""
        return FileResponse(self.file.open("rb"), as_attachment=True, filename=self.original_name)
