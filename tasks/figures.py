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
from collections.abc import Callable, Iterable, Sequence
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


def versions(names: Sequence[str]) -> list[int]:
    """The versions of `names`, in that order (0 for one never changed); one query."""
    found = dict(DataVersion.objects.filter(name__in=names).values_list("name", "number"))
    return [found.get(n, 0) for n in names]


def part(area: str, *keys: object) -> str:
    """The name of one part of an area's data, e.g. part("subsidies", 3, 5) for the
    payments of semester 3 in county 5: a change there moves only that part's version."""
    return ":".join([area, *("-" if k is None else str(k) for k in keys)])


def cached(
    area: str,
    parts: tuple[Any, ...],
    compute: Callable[[], T],
    depends: Sequence[str] = (),
) -> T:
    """compute(), cached until `area`'s data changes — the whole area (`data_changed`), or
    one of the parts the result `depends` on (`parts_changed`; no `depends`: a change of
    any part counts). `parts` must identify the result
    completely: the scope (county/unit ids), the filters, the page."""
    return cached_many(area, [(parts, compute, depends)])[0]


def cached_many(
    area: str, results: Sequence[tuple[tuple[Any, ...], Callable[[], T], Sequence[str]]]
) -> list[T]:
    """Several `cached(area, parts, compute, depends)` at once — each (parts, compute,
    depends) — from one reading of all their versions and one cache read: the city's
    figures are the sum of eight parts, which one by one cost sixteen queries a page."""
    wanted = [_version_names(area, depends) for _p, _c, depends in results]
    found = _versions_of({n for names in wanted for n in names})
    all_keys = [
        _key(area, parts, names, found)
        for (parts, _c, _d), names in zip(results, wanted, strict=True)
    ]
    stored = cache.get_many(all_keys)
    out: list[T] = []
    for key, (_parts, compute, _depends) in zip(all_keys, results, strict=True):
        value = stored.get(key)
        if value is None:
            value = compute()
            cache.set(key, value, TIMEOUT)
        out.append(value)
    return out


def keys(area: str, results: Sequence[tuple[Any, ...]], depends: Sequence[str] = ()) -> list[str]:
    """The cache keys of several results (each identified by its `parts`, as for `cached`)
    that depend on the same parts, from one reading of the versions: a result derived from
    another may be stored under its key without a change slipping in between."""
    names = _version_names(area, depends)
    found = _versions_of(names)
    return [_key(area, parts, names, found) for parts in results]


def _version_names(area: str, depends: Sequence[str]) -> list[str]:
    """The versions a result's key is made of: the area's, and its parts' (none named:
    the "any part" version)."""
    return [area, *(depends or [part(area, ANY)])]


def _versions_of(names: Iterable[str]) -> dict[str, int]:
    unique = sorted(set(names))
    return dict(zip(unique, versions(unique), strict=True))


def _key(area: str, parts: tuple[Any, ...], names: Sequence[str], found: dict[str, int]) -> str:
    numbers = [found[n] for n in names]
    version = ".".join(map(str, numbers))
    if len(numbers) > 2:
        version = hashlib.sha256(version.encode()).hexdigest()[:16]
    return f"fig:{area}:{version}:{hashlib.sha256(repr(parts).encode()).hexdigest()[:32]}"


def cached_at(key: str, compute: Callable[[], T]) -> T:
    """compute(), cached under `key` (from `keys`; computed after the versions were read,
    so never older than they say)."""
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value


def register_warmer(area: str, warm: Callable[[], None]) -> None:
    _WARMERS.setdefault(area, []).append(warm)


#: The suffix of a spec's `area` when its apply() says itself which parts it changed
#: (`parts_changed`): the upload pipeline's `data_changed(spec.data_area)` then moves
#: nothing, and the figures of other counties and semesters stay cached.
SELF_REPORTED = "/parts"
#: The key of the part that every `parts_changed` moves as well.
ANY = "*"


def _bump(name: str) -> None:
    updated = DataVersion.objects.filter(name=name).update(
        number=F("number") + 1,
        changed_at=clock.now(),  # update() skips auto_now
    )
    if not updated:
        _version, created = DataVersion.objects.get_or_create(name=name, defaults={"number": 1})
        if not created:  # created meanwhile by another transaction: move it all the same
            DataVersion.objects.filter(name=name).update(number=F("number") + 1)


def data_changed(area: str) -> None:
    """Move `area`'s version, in the caller's transaction: cached figures of the old
    version are never read again. `figures_warm_changed` (a beat job every 2 minutes)
    recomputes the common ones; one warm serves any number of changes in between."""
    if area.endswith(SELF_REPORTED):
        return
    _bump(area)


def parts_changed(area: str, names: Iterable[str]) -> None:
    """Move the versions of these parts of `area` only (names from `part`), in the
    caller's transaction: figures depending on other parts stay cached."""
    # Sorted: two imports lock the rows in the same order. The "any part" version moves
    # too, for figures that depend on the area as a whole.
    for name in sorted({*names, part(area, ANY)}):
        _bump(name)


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
