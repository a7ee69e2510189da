from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xc_fupin.lib.money import AmountError, format_money, parse_amount, round_money


def test_round_money_rounds_halves_up() -> None:
    assert round_money(Decimal("2.345")) == Decimal("2.35")
    assert round_money(Decimal("2.344")) == Decimal("2.34")
    assert round_money(Decimal("1250")) == Decimal("1250.00")
    assert str(round_money(Decimal("0.005"))) == "0.01"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,250.00元", "1250.00"),
        ("1250", "1250.00"),
        (" 1250.5 ", "1250.50"),
        ("１２５０．００", "1250.00"),
        ("￥1,250", "1250.00"),
        ("¥ 500", "500.00"),
        ("RMB500", "500.00"),
        ("rmb 500元", "500.00"),
        ("人民币1000元整", "1000.00"),
        ("1，250元", "1250.00"),
        ("12,345,678.9", "12345678.90"),
        (".5", "0.50"),
        ("625.005", "625.01"),
        ("0", "0.00"),
        ("-0", "0.00"),
    ],
)
def test_it_parses_amounts_as_typed(raw: str, expected: str) -> None:
    result = parse_amount(raw)
    assert result == Decimal(expected)
    assert str(result) == expected


def test_it_takes_numbers_from_cells() -> None:
    assert parse_amount(1250) == Decimal("1250.00")
    assert parse_amount(Decimal("99.999")) == Decimal("100.00")
    # Decimal(0.1) would be 0.1000000000000000055...; the shortest repr is what was typed.
    assert parse_amount(0.1) == Decimal("0.10")
    assert parse_amount(1250.0) == Decimal("1250.00")
    assert parse_amount(2.675) == Decimal("2.68")


@pytest.mark.parametrize(
    "raw", ["壹仟元", "500元/生", "12,5", "1.250,00", "1e3", "(100)", "1 2 3 .4.5", True]
)
def test_it_rejects_text_that_is_not_a_number(raw: object) -> None:
    with pytest.raises(AmountError, match="金额不是数字"):
        parse_amount(raw)


@pytest.mark.parametrize("raw", [None, "", "  ", "元"])
def test_it_rejects_empty_amounts(raw: object) -> None:
    with pytest.raises(AmountError, match="金额为空"):
        parse_amount(raw)


@pytest.mark.parametrize("raw", ["-100", -100, -0.5, Decimal("-1"), "－100元"])
def test_it_rejects_negative_amounts(raw: object) -> None:
    with pytest.raises(AmountError, match="金额不能为负数"):
        parse_amount(raw)


@pytest.mark.parametrize("raw", ["341802201309011234", 10**10, 1e12, Decimal("1000000000.01")])
def test_it_rejects_absurd_amounts(raw: object) -> None:
    with pytest.raises(AmountError, match="金额过大"):
        parse_amount(raw)


@pytest.mark.parametrize(
    "raw", [float("nan"), float("inf"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity")]
)
def test_it_rejects_non_finite_numbers(raw: object) -> None:
    with pytest.raises(AmountError):
        parse_amount(raw)


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.text()
    | st.text(alphabet="0123456789,，.．元¥￥RMB -+eE"),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=4,
)


@settings(max_examples=400, deadline=None)
@given(junk)
def test_parsing_junk_raises_only_amount_errors(raw: object) -> None:
    try:
        result = parse_amount(raw)
    except AmountError as error:
        assert str(error)
    else:
        assert result >= 0
        assert result.as_tuple().exponent == -2


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_formatted_amounts_round_trip(amount: Decimal) -> None:
    assert parse_amount(f"{amount:,}元") == amount


def test_it_writes_every_amount_with_cents_and_thousands_separators() -> None:
    assert format_money(Decimal("1250")) == "1,250.00"
    assert format_money(Decimal("312.5")) == "312.50"
    assert format_money(156.25) == "156.25"
    assert format_money(625) == "625.00"
    assert format_money(Decimal("1234567.005")) == "1,234,567.01"
    assert format_money(None) == ""
