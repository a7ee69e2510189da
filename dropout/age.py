"""Compulsory-education age (义务教育适龄) by the September 1 rule.

Children start primary school in the school year that begins on September 1 of the year
they turn six by August 31 (《义务教育法》 and the Anhui enrolment rule), and nine years of
compulsory schooling follow. So for the school year that starts on September 1 of year Y,
a child is of compulsory-education age when, on August 31 of Y, they are at least 6 and
not yet 16: born between September 1 of Y-16 and August 31 of Y-6, both included.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["compulsory_birth_range", "is_compulsory_age", "school_year_start"]


def school_year_start(day: dt.date) -> int:
    """The year Y of the school year (starting September 1 of Y) that `day` falls in."""
    return day.year if day.month >= 9 else day.year - 1


def compulsory_birth_range(day: dt.date) -> tuple[dt.date, dt.date]:
    """Earliest and latest birth date (both included) of a child of compulsory-education
    age in the school year containing `day`. 2019-10-01 -> (2003-09-01, 2013-08-31)."""
    year = school_year_start(day)
    return dt.date(year - 16, 9, 1), dt.date(year - 6, 8, 31)


def is_compulsory_age(birth_date: dt.date, day: dt.date) -> bool:
    """Whether a child born on `birth_date` is of compulsory-education age on `day`."""
    earliest, latest = compulsory_birth_range(day)
    return earliest <= birth_date <= latest
