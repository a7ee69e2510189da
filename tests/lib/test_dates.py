from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xc_fupin.lib.dates import DateParseError, parse_date

JUNE_10 = date(2019, 6, 10)


@pytest.mark.parametrize(
    "raw",
    [
        "2019-06-10",
        "2019/6/10",
        "2019.6.10",
        "2019年6月10日",
        "2019年6月10号",
        "2019 年 6 月 10 日",
        "20190610",
        "2019-06-10 00:00:00",
        "2019/6/10 8:30",
        "2019-06-10T08:30:00",
        "２０１９－０６－１０",
        "２０１９年６月１０日",
        " 2019-06-10\u3000",
    ],
)
def test_it_reads_dates_typed_as_text(raw: str) -> None:
    assert parse_date(raw) == JUNE_10


def test_it_passes_date_objects_through() -> None:
    assert parse_date(JUNE_10) == JUNE_10
    assert parse_date(datetime(2019, 6, 10, 23, 59)) == JUNE_10


def test_it_reads_excel_serial_numbers() -> None:
    assert parse_date(43626) == JUNE_10
    assert parse_date(43626.75) == JUNE_10
    assert parse_date(Decimal("43626")) == JUNE_10


def test_it_reads_yyyymmdd_typed_into_a_number_cell() -> None:
    assert parse_date(20190610) == JUNE_10


def test_it_names_a_date_that_does_not_exist() -> None:
    with pytest.raises(DateParseError) as excinfo:
        parse_date("2019-02-30")
    assert str(excinfo.value) == "日期不存在：2019-02-30"
    with pytest.raises(DateParseError, match="日期不存在：2019-13-01"):
        parse_date("20191301")


@pytest.mark.parametrize(
    "raw",
    [
        "明天",
        "2019-06",
        "6/10/2019",
        "2019-6/10",
        "19.6.10",
        "2019年6月",
        12,
        100000,
        True,
        [2019, 6, 10],
    ],
)
def test_it_rejects_what_it_cannot_read(raw: object) -> None:
    with pytest.raises(DateParseError) as excinfo:
        parse_date(raw)
    assert str(excinfo.value).startswith("无法识别的日期：")


def test_it_rejects_empty_values() -> None:
    for raw in (None, "", "   "):
        with pytest.raises(DateParseError, match="日期为空"):
            parse_date(raw)


def test_it_rejects_dates_outside_a_sane_range() -> None:
    with pytest.raises(DateParseError, match="日期超出合理范围"):
        parse_date("0219-06-10")


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.text()
    | st.text(alphabet="0123456789-/.年月日号 :T")
    | st.dates()
    | st.datetimes(),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=4,
)


@settings(max_examples=400, deadline=None)
@given(junk)
def test_parsing_junk_raises_only_date_errors(raw: object) -> None:
    try:
        result = parse_date(raw)
    except DateParseError as error:
        assert str(error)
    else:
        assert isinstance(result, date)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_formatted_dates_round_trip(day: date) -> None:
    for text in (
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        day.strftime("%Y%m%d"),
    ):
        assert parse_date(text) == day
