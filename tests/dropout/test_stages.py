"""The 学段 of a registry record: the grade first, then the school."""

from __future__ import annotations

from dropout.stages import stage_of


def test_the_grade_names_the_stage_when_it_can() -> None:
    assert stage_of("三年级") == "小学"
    assert stage_of("七年级（初一）") == "初中"
    assert stage_of("初三") == "初中"
    assert stage_of("高中2018级") == "普通高中"
    assert stage_of("高二") == "普通高中"
    assert stage_of("中职2018级") == "中等职业教育"
    # A 九年一贯制 school's code says 小学; its 七年级 is still 初中.
    assert stage_of("七年级", school_code="2134001101", school_stages=["小学", "初中"]) == "初中"


def test_otherwise_the_school_decides() -> None:
    assert stage_of("2018级", school_stages=["普通高中"]) == "普通高中"
    assert stage_of("2018级", school_code="3634001001") == "中等职业教育"
    # A 完全中学 (34) teaches two stages: its code cannot tell.
    assert stage_of("2018级", school_code="3434001001", school_stages=["初中", "普通高中"]) == ""
    assert stage_of("", school_code="2134001001") == "小学"
