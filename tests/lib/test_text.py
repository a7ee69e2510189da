from __future__ import annotations

from xc_fupin.lib.text import header_key, normalize_text, shorten


def test_it_turns_none_into_empty_text() -> None:
    assert normalize_text(None) == ""


def test_it_folds_full_width_characters_to_half_width() -> None:
    assert normalize_text("１２３ＡＢＣ（元）：") == "123ABC(元):"


def test_it_strips_and_collapses_every_kind_of_space() -> None:
    assert normalize_text("\u3000 张\u00a0\u00a0三 \t\n 李四\u3000") == "张 三 李四"


def test_it_drops_zero_width_characters_and_bom() -> None:
    assert normalize_text("\ufeff身份\u200b证号") == "身份证号"


def test_it_renders_numbers_as_text() -> None:
    assert normalize_text(1250) == "1250"


def test_header_keys_ignore_brackets_spaces_and_width() -> None:
    variants = ["金额（元）", "金额(元)", " 金 额 (元) ", "金额【元】", "*金额\n(元)", "金額（元）"]
    keys = {header_key(v) for v in variants[:-1]}
    assert keys == {"金额元"}
    # Traditional characters are a different header, not a typo to paper over.
    assert header_key(variants[-1]) != "金额元"


def test_header_keys_ignore_latin_case() -> None:
    assert header_key("ID号") == header_key("id号")


def test_shorten_cuts_long_values_for_messages() -> None:
    assert shorten("一" * 100, limit=10) == "一" * 9 + "…"
    assert shorten("短") == "短"
