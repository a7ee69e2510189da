"""Cached figures for dashboards at province scale.

Checking a million roster students against two million payments takes seconds; a page
must not do it per request. Figures are cached (in the database cache, which needs no
Redis and is shared by every web and worker process) under the current version of the
data they read. Anything that changes that data calls `data_changed(area)`: the version
moves, old entries are never read again, and a Celery job recomputes the common ones so
the next visitor finds them warm.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from . import clock
from .models import DataVersion

T = TypeVar("T")
TIMEOUT = 7 * 24 * 3600

#: area -> functions that recompute that area's common figures (registered by apps).
_WARMERS: dict[str, list[Callable[[], None]]] = {}


def data_version(area: str) -> int:
    row = DataVersion.objects.filter(name=area).values_list("number", flat=True).first()
    return row or 0


def cached(area: str, parts: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """compute(), cached until `area`'s data changes. `parts` must identify the result
    completely: the scope (county/unit ids), the filters, the page."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    key = f"fig:{area}:{data_version(area)}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value


def register_warmer(area: str, warm: Callable[[], None]) -> None:
    _WARMERS.setdefault(area, []).append(warm)


def data_changed(area: str) -> None:
    """Move `area`'s version, in the caller's transaction: cached figures of the old
    version are never read again. `figures_warm_changed` (a beat job every 2 minutes)
    recomputes the common ones; one warm serves any number of changes in between."""
    updated = DataVersion.objects.filter(name=area).update(
        number=F("number") + 1,
        changed_at=clock.now(),  # update() skips auto_now
    )
    if not updated:
        DataVersion.objects.get_or_create(name=area, defaults={"number": 1})


def figures_warm(area: str) -> int:
    """Recompute `area`'s registered common figures; returns how many warmers ran."""
    warmers = _WARMERS.get(area, [])
    for warm in warmers:
        with transaction.atomic():
            warm()
    return len(warmers)


def figures_warm_changed() -> list[str]:
    """Warm every area whose data changed since its last warm. Two runs at once: the
    second finds the area claimed (cache.add is atomic) and skips it."""
    warmed = []
    for area in list(_WARMERS):
        version = data_version(area)
        if cache.get(f"figwarmed:{area}") == version:
            continue
        if not cache.add(f"figwarming:{area}", 1, timeout=1800):
            continue
        try:
            figures_warm(area)
            cache.set(f"figwarmed:{area}", version, TIMEOUT)
            warmed.append(area)
        finally:
            cache.delete(f"figwarming:{area}")
    return warmed
