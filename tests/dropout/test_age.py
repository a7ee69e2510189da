from __future__ import annotations

import datetime as dt

from dropout.age import compulsory_birth_range, is_compulsory_age, school_year_start

D = dt.date


def test_a_child_born_on_august_31_2013_is_of_age_for_the_2019_20_school_year() -> None:
    assert is_compulsory_age(D(2013, 8, 31), D(2019, 9, 1))
    assert is_compulsory_age(D(2013, 8, 31), D(2020, 6, 30))


def test_a_child_born_on_september_1_2013_is_not_yet_of_age_for_2019_20() -> None:
    assert not is_compulsory_age(D(2013, 9, 1), D(2019, 9, 1))
    assert not is_compulsory_age(D(2013, 9, 1), D(2020, 8, 31))
    # ...and is the next year.
    assert is_compulsory_age(D(2013, 9, 1), D(2020, 9, 1))


def test_a_child_who_turned_16_by_august_31_has_left_compulsory_age() -> None:
    assert not is_compulsory_age(D(2003, 8, 31), D(2019, 10, 1))
    assert is_compulsory_age(D(2003, 9, 1), D(2019, 10, 1))


def test_the_school_year_turns_on_september_1() -> None:
    assert school_year_start(D(2019, 8, 31)) == 2018
    assert school_year_start(D(2019, 9, 1)) == 2019
    assert compulsory_birth_range(D(2019, 6, 16)) == (D(2002, 9, 1), D(2012, 8, 31))
