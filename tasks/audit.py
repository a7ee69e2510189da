"""Who changed what, when, and from which upload or job: django-simple-history, completed.

django-simple-history records every save() and delete() with the user of the request.
It does not see `bulk_create`, `QuerySet.update()` or a PostgreSQL COPY, and imports use
all three. So:

- every historical row carries `history_source` (网页 / 后台 / 上传#id / 定时任务 name)
  and `history_upload_id`, stamped from a context the pipeline and the jobs set;
- bulk writers call `bulk_created(model, objs)`; COPY paths insert their historical rows
  with one INSERT … SELECT stamped from `current_source()`, in the same transaction;
- services that must claim a row concurrently lock it with select_for_update() and then
  save(), instead of a bare update(), so the change is recorded;
- every historical row is dated by the one clock (`clock.now()`, which honours the demo
  date), not the real clock simple-history would use: the `pre_create_historical_record`
  signal re-dates single saves, `bulk_created` passes `default_date`. A row given an
  explicit `_history_date` (simple-history's hook, used by the demo to backdate) keeps it.

django-pghistory (PostgreSQL triggers) would see every write by construction, but only on
PostgreSQL; the embedded default and half the test runs are SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from . import clock


@dataclass(frozen=True)
class Source:
    label: str = ""
    upload_id: int | None = None
    user: Any = None


_source: ContextVar[Source | None] = ContextVar("audit_source", default=None)
_NO_SOURCE = Source()


def current_source() -> Source:
    """Where the changes being made now come from (label, upload, user)."""
    return _source.get() or _NO_SOURCE


@contextmanager
def audit_source(label: str, *, upload_id: int | None = None, user: Any = None) -> Iterator[None]:
    """Mark every change made inside the block as coming from `label` (and upload)."""
    token = _source.set(Source(label, upload_id, user))
    try:
        yield
    finally:
        _source.reset(token)


class AuditFields(models.Model):
    history_source = models.CharField(_("来源"), max_length=100, blank=True)
    history_upload_id = models.BigIntegerField(_("来自上传"), null=True, blank=True)

    class Meta:
        abstract = True


def history(**kwargs: Any) -> HistoricalRecords:
    """The HistoricalRecords every domain model uses: `history = audit.history()`."""
    return HistoricalRecords(bases=[AuditFields], **kwargs)


@receiver(pre_create_historical_record)
def _stamp(
    sender: Any, instance: Any, history_instance: Any, history_user: Any = None, **kwargs: Any
) -> None:
    if not hasattr(instance, "_history_date"):
        history_instance.history_date = clock.now()
    if not hasattr(history_instance, "history_source"):
        return
    source = _source.get() or _NO_SOURCE
    history_instance.history_source = source.label or ("网页" if history_user else "系统")
    history_instance.history_upload_id = source.upload_id
    if history_instance.history_user_id is None and source.user is not None:
        history_instance.history_user = source.user


def history_manager(model: type[models.Model]) -> Any:
    """The simple-history manager of a model, whatever attribute it was declared as."""
    return getattr(model, model._meta.simple_history_manager_attribute)  # type: ignore[attr-defined]


def bulk_created(
    model: type[models.Model],
    objs: Iterable[models.Model],
    *,
    update: bool = False,
    user: Any = None,
) -> None:
    """Historical rows for objects written with bulk_create/bulk_update (same transaction)."""
    source = _source.get() or _NO_SOURCE
    history_manager(model).bulk_history_create(
        list(objs),
        update=update,
        default_user=user or source.user,
        default_change_reason=source.label,
        default_date=clock.now(),
        custom_historical_attrs={
            "history_source": source.label or ("网页" if user else "系统"),
            "history_upload_id": source.upload_id,
        },
    )


def record(obj: models.Model, *, user: Any = None) -> None:
    """Record the current state of a row changed by a conditional QuerySet.update() claim
    (the claim keeps concurrent callers out; this keeps the change in the history)."""
    obj.refresh_from_db()
    bulk_created(type(obj), [obj], update=True, user=user)
