from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xc_fupin.lib.idnumber import (
    IdNumber,
    IdNumberError,
    compute_check_char,
    id_number_fast,
    is_valid_id_number,
    make_id_number,
    mask_id_number,
    mask_name,
    normalize_id_number,
    parse_id_number,
)

TODAY = date(2019, 6, 1)
NUMBER_MANGLED = "身份证号被存成了数字，末几位已丢失（Excel 只保留 15 位有效数字），请把该列设为文本格式后重新填写"


def parse(raw: object) -> IdNumber:
    return parse_id_number(raw, today=TODAY)


def error_of(raw: object) -> str:
    with pytest.raises(IdNumberError) as excinfo:
        parse(raw)
    return str(excinfo.value)


def test_it_accepts_the_example_from_the_standard() -> None:
    # GB 11643-1999's own worked example, checked by hand: the weighted sum is 167,
    # 167 mod 11 = 2, and position 2 of "10X98765432" is X.
    parsed = parse("11010519491231002X")
    assert parsed == IdNumber(
        value="11010519491231002X",
        area_code="110105",
        birth_date=date(1949, 12, 31),
        gender="女",
    )


def test_it_computes_check_characters() -> None:
    assert compute_check_char("11010519491231002") == "X"
    # 3*7+4*9+1*10+8*5+0*8+2*4+2*2+0*1+1*6+3*3+0*7+9*9+0*10+1*5+1*8+2*4+3*2 = 242 = 22*11
    assert compute_check_char("34180220130901123") == "1"


def test_it_accepts_a_generated_number() -> None:
    value = make_id_number("341802", date(2013, 9, 1), 123)
    parsed = parse(value)
    assert parsed.value == value
    assert parsed.area_code == "341802"
    assert parsed.birth_date == date(2013, 9, 1)
    assert parsed.gender == "男"


def test_it_names_the_expected_check_character() -> None:
    value = make_id_number("341802", date(2013, 9, 1), 123)
    wrong = value[:-1] + ("0" if value[-1] != "0" else "1")
    assert error_of(wrong) == f"身份证号校验位错误，应为{value[-1]}"


def test_it_rejects_a_birth_date_that_does_not_exist() -> None:
    first17 = "34180220190230123"
    assert error_of(first17 + compute_check_char(first17)) == "身份证号中的出生日期不存在：20190230"


def test_it_rejects_birth_dates_before_1900_and_in_the_future() -> None:
    assert "早于1900年" in error_of("440524188001010014")
    future = make_id_number("341802", date(2019, 6, 2), 1)
    assert "晚于今天" in error_of(future)
    assert parse(make_id_number("341802", TODAY, 1)).birth_date == TODAY


def test_it_uses_the_china_calendar_day_when_no_date_is_given() -> None:
    assert is_valid_id_number(make_id_number("341802", date(2013, 9, 1), 5))


def test_it_upper_cases_a_lowercase_x() -> None:
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"


def test_it_folds_full_width_digits_and_removes_spaces() -> None:
    value = make_id_number("341802", date(2013, 9, 1), 123)
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in value)
    assert normalize_id_number(full_width) == value
    assert normalize_id_number(f" {value[:6]} {value[6:14]}\u3000{value[14:]} ") == value
    assert normalize_id_number("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"


@pytest.mark.parametrize(
    "raw",
    [
        341802201309011000,
        3.41802201309011e17,
        Decimal("341802201309011000"),
        "3.41802E+17",
        "3.41802201309011e+17",
        "341802201309011000.0",
    ],
)
def test_it_explains_numbers_that_excel_has_mangled(raw: object) -> None:
    assert error_of(raw) == NUMBER_MANGLED


def test_it_reports_the_wrong_length() -> None:
    assert error_of("3418022013090112") == "身份证号应为18位，实为16位"
    assert error_of("341802201309011234567") == "身份证号应为18位，实为21位"


def test_it_rejects_letters_and_an_x_anywhere_but_last() -> None:
    assert "只能由数字和末位的X组成" in error_of("34180220130901X234")
    assert "只能由数字和末位的X组成" in error_of("身份证号")
    assert "只能由数字和末位的X组成" in error_of("34180220130901123٣")


def test_it_rejects_an_unknown_province() -> None:
    first17 = "99180220130901123"
    assert error_of(first17 + compute_check_char(first17)) == (
        "身份证号前两位99不是有效的省级行政区划代码"
    )


def test_it_rejects_empty_and_non_text_values() -> None:
    assert error_of(None) == "身份证号为空"
    assert error_of("  ") == "身份证号为空"
    assert "格式不正确" in error_of(True)
    assert "格式不正确" in error_of(date(2013, 9, 1))


@pytest.mark.parametrize("area_code", ["341822", "341882"])
def test_both_guangde_area_codes_are_valid(area_code: str) -> None:
    # 广德县 (341822) became 广德市 (341882) in 2019; people keep the numbers they hold.
    assert parse(make_id_number(area_code, date(2010, 3, 5), 42)).area_code == area_code


def test_it_sets_the_gender_digit_when_asked() -> None:
    for sequence in (0, 1, 998, 999):
        assert (
            parse(make_id_number("341802", date(2010, 3, 5), sequence, female=True)).gender == "女"
        )
        assert (
            parse(make_id_number("341802", date(2010, 3, 5), sequence, female=False)).gender == "男"
        )


def test_make_id_number_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_id_number("3418", date(2010, 3, 5), 1)
    with pytest.raises(ValueError):
        make_id_number("341802", date(2010, 3, 5), 1000)


def test_it_masks_identity_numbers() -> None:
    assert mask_id_number("341802201309011234") == "3418**********1234"
    assert mask_id_number("341802201309011") == "341*********011"
    assert mask_id_number("1234") == "****"
    assert mask_id_number("") == ""


def test_it_masks_names() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("张") == "*"
    assert mask_name("") == ""


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.text()
    | st.text(alphabet="0123456789xX ３４Ｘ.E+-")
    | st.dates(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(junk)
def test_parsing_junk_raises_only_id_number_errors(raw: object) -> None:
    try:
        parse(raw)
    except IdNumberError as error:
        assert str(error)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["341802", "341821", "341822", "341882", "110105", "820000"]),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
    st.none() | st.booleans(),
)
def test_generated_numbers_round_trip(
    area_code: str, birth: date, sequence: int, female: bool | None
) -> None:
    value = make_id_number(area_code, birth, sequence, female=female)
    parsed = parse(value.lower())
    assert parsed.value == value
    assert parsed.birth_date == birth
    assert parsed.area_code == area_code
    if female is not None:
        assert parsed.gender == ("女" if female else "男")


class _Text(str):
    """A str subclass skips id_number_fast, so parse_id_number takes the full path."""


@settings(max_examples=800, deadline=None)
@given(
    st.text(alphabet="0123456789xX", min_size=18, max_size=18)
    | st.builds(
        lambda area, day, seq: make_id_number(area, day, seq),
        st.sampled_from(["341802", "341822", "341882", "110105", "990101"]),
        st.dates(min_value=date(1890, 1, 1), max_value=date(2030, 12, 31)),
        st.integers(0, 999),
    )
)
def test_the_fast_path_agrees_with_the_full_rules(raw: str) -> None:
    try:
        expected: str | None = parse(_Text(raw)).value
    except IdNumberError:
        expected = None
    fast = id_number_fast(raw, TODAY)
    assert fast is None or fast == expected
    # Only a valid plain number takes the fast path; it always does.
    assert (fast is not None) == (expected is not None and raw.upper() == expected)
    if expected is not None:
        assert parse(raw) == parse(_Text(raw))


def test_the_fast_path_leaves_everything_else_to_the_full_rules() -> None:
    valid = make_id_number("341802", date(2013, 9, 1), 123)
    assert id_number_fast(valid, TODAY) == valid
    with_x = next(
        v for n in range(1000) if (v := make_id_number("341802", date(2013, 9, 1), n))[-1] == "X"
    )
    assert id_number_fast(with_x[:17] + "x", TODAY) == with_x  # lowercase x, stored upper
    for raw in [
        " " + valid[:17],
        valid.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        int(valid[:17] + "0"),
        None,
        valid[:16],
    ]:
        assert id_number_fast(raw, TODAY) is None
    assert (
        parse(valid.translate(str.maketrans("0123456789", "０１２３４５６７８９"))).value == valid
    )
    assert id_number_fast(make_id_number("341802", date(2019, 6, 2), 1), TODAY) is None  # future
