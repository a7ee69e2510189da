"""Who may see what: the one scope object every read and write asks.

A `Scope` answers "may this user see or change this county/unit" three ways, all from the
same three fields, so Python checks, querysets and raw SQL can never disagree:

- `scope.covers(county_id=…, unit_id=…)` for one row already in memory (an import's
  school, a reporting unit);
- `Model.objects.for_user(user)` / `.for_scope(scope)` on every scoped model: its queryset
  subclasses `ScopedQuerySet` and names the lookups to the row's county and unit;
- `scope.sql(county_column, unit_column)` for the hand-written SQL of the omission check.

Rules (computed from the user's unit by `Unit.scope()` in tasks/models.py):
- City-level users (the bureau, its sections and offices) and superusers see everything.
- County users (county bureau, county language office) see rows of their county.
- School and college users see rows of their own unit; the coordinator of the collective
  "市直学校" sees every city-run school.
- Anyone else (anonymous, no unit, inactive) sees nothing.

This module imports no model (tasks/models.py imports it), so there is no cycle.
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

    def covers(self, *, county_id: int | None, unit_id: int | None = None) -> bool:
        """Whether a row of county `county_id` belonging to unit `unit_id` is in scope."""
        if self.sees_all:
            return True
        if self.county_id is not None:
            return county_id == self.county_id
        return unit_id is not None and unit_id in self.unit_ids

    def sql(self, county_column: str, unit_column: str) -> tuple[str, list[Any]]:
        """A SQL condition (to AND into a WHERE) and its parameters; column names are the
        caller's, never user input."""
        if self.sees_all:
            return "1 = 1", []
        if self.county_id is not None:
            return f"{county_column} = %s", [self.county_id]
        if self.unit_ids:
            ids = sorted(self.unit_ids)
            return f"{unit_column} IN ({', '.join(['%s'] * len(ids))})", ids
        return "1 = 0", []

    def filter(
        self, queryset: models.QuerySet[_M], *, county_lookup: str, unit_lookup: str
    ) -> models.QuerySet[_M]:
        """`queryset` narrowed to this scope through the given lookups."""
        if self.sees_all:
            return queryset
        if self.county_id is not None:
            return queryset.filter(**{county_lookup: self.county_id})
        if self.unit_ids:
            return queryset.filter(**{f"{unit_lookup}__in": sorted(self.unit_ids)})
        return queryset.none()


NOTHING = Scope()
EVERYTHING = Scope(sees_all=True)


def user_scope(user: Any) -> Scope:
    """The scope of a user; cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    cached = getattr(user, "_xc_scope", None)
    if cached is not None:
        return cached
    scope = EVERYTHING if user.is_superuser else unit_scope(user.unit)
    user._xc_scope = scope
    return scope


def unit_scope(unit: Unit | None) -> Scope:
    """What a member of `unit` may see (also used by commands acting for a unit)."""
    return NOTHING if unit is None else unit.scope()


class ScopedQuerySet(models.QuerySet[_M], Generic[_M]):
    #: Lookup from the model to its County (e.g. "school__county").
    scope_county_lookup: ClassVar[str]
    #: Lookup from the model to the Unit it belongs to (e.g. "school").
    scope_unit_lookup: ClassVar[str]

    def for_user(self, user: Any) -> ScopedQuerySet[_M]:
        return self.for_scope(user_scope(user))

    def for_scope(self, scope: Scope) -> ScopedQuerySet[_M]:
        return scope.filter(  # type: ignore[return-value]
            self, county_lookup=self.scope_county_lookup, unit_lookup=self.scope_unit_lookup
        )
