"""Who may see what: the one place where a user's unit becomes a queryset filter.

Every scoped model's queryset subclasses `ScopedQuerySet` and names two lookups: the path
to the row's county and the path to the row's unit. Views, exports, admin pages and jobs
call `Model.objects.for_user(user)`; nothing filters by county on its own.

- City-level users (the bureau, its sections and offices) and superusers see everything.
- County users (county bureau, county language office) see rows of their county.
- School and college users see rows of their own unit; the coordinator of the collective
  "市直学校" sees every city-run school.
- Anyone else (anonymous, no unit, inactive) sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from django.db import models

if TYPE_CHECKING:
    from .models import Unit

_M = TypeVar("_M", bound=models.Model)


@dataclass(frozen=True)
class Scope:
    sees_all: bool = False
    county_id: int | None = None
    unit_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def sees_nothing(self) -> bool:
        return not self.sees_all and self.county_id is None and not self.unit_ids


NOTHING = Scope()
EVERYTHING = Scope(sees_all=True)


def user_scope(user: Any) -> Scope:
    """The scope of a user; cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    cached = getattr(user, "_xc_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    user._xc_scope = scope
    return scope


def _compute_scope(user: Any) -> Scope:
    if user.is_superuser:
        return EVERYTHING
    return unit_scope(user.unit)


def unit_scope(unit: Unit | None) -> Scope:
    """What a member of `unit` may see (also used by commands acting for a unit)."""
    from .models import Unit

    if unit is None or not unit.is_active:
        return NOTHING
    kind = unit.kind
    if kind in {Unit.Kind.CITY_BUREAU, Unit.Kind.CITY_SECTION, Unit.Kind.CITY_OFFICE}:
        return EVERYTHING
    if kind in {Unit.Kind.COUNTY_BUREAU, Unit.Kind.COUNTY_OFFICE} and unit.county_id:
        return Scope(county_id=unit.county_id)
    if kind == Unit.Kind.CITY_SCHOOLS:
        ids = set(
            Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_city_run=True).values_list(
                "pk", flat=True
            )
        )
        return Scope(unit_ids=frozenset(ids | {unit.pk}))
    return Scope(unit_ids=frozenset({unit.pk}))


class ScopedQuerySet(models.QuerySet[_M], Generic[_M]):
    #: Lookup from the model to its County (e.g. "school__county").
    scope_county_lookup: ClassVar[str]
    #: Lookup from the model to the Unit it belongs to (e.g. "school").
    scope_unit_lookup: ClassVar[str]

    def for_user(self, user: Any) -> ScopedQuerySet[_M]:
        return self.for_scope(user_scope(user))

    def for_scope(self, scope: Scope) -> ScopedQuerySet[_M]:
        if scope.sees_all:
            return self
        if scope.county_id is not None:
            return self.filter(**{self.scope_county_lookup: scope.county_id})
        if scope.unit_ids:
            return self.filter(**{f"{self.scope_unit_lookup}__in": sorted(scope.unit_ids)})
        return self.none()
