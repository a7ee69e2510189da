"""`demo_upload` is how the apps' demos (seed_demo) put their sheets in: a real .xlsx through the real
upload pipeline, so the 月报 shows its rows and amounts."""

from __future__ import annotations

import datetime as dt

from tasks import clock
from tasks.models import Unit, User

from .models import Upload
from .services import upload_apply, upload_confirm, upload_store, upload_validate


def demo_upload(
    *,
    user: User,
    unit: Unit,
    kind: str,
    period: dt.date | None,
    name: str,
    content: bytes,
    at: dt.datetime,
) -> Upload:
    """Upload, validate, confirm and apply `content` as `user` would, on the clock of `at`.

    Returns the upload already made under `name` when there is one (safe to re-run).
    Raises ValueError with the row errors when the demo sheet is not valid: demo data
    goes through the same checks as everyone's."""
    done = Upload.objects.filter(unit=unit, kind=kind, period=period, original_name=name).first()
    if done is not None:
        return done
    with clock.replay(at):
        upload = upload_store(
            user=user, kind=kind, content=content, filename=name, unit=unit, period=period
        )
        upload = upload_validate(upload.pk)
        if upload.state == Upload.State.PREVIEWED:
            upload = upload_confirm(user=user, upload=upload)
            upload = upload_apply(upload.pk)
    if upload.state != Upload.State.APPLIED:
        raise ValueError(f"demo upload {name}: {upload.file_error} {upload.errors[:5]}")
    return upload
