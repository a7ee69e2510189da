"""The 学段 of a registry record, from its 年级 and its school.

The national registry writes 年级 as 一年级 … 九年级 for compulsory education and
高中2018级 (the year of entry) for senior high; schools and counties also write 初一,
高二, 七年级（初一）. The grade decides when it names the stage; otherwise the school
does: the one stage the school list gives it, else the first two digits of its
学校标识码, which are its category (EXTERNAL_FORMATS §0: 11 幼儿园, 21 小学, 31 普通初中,
34 完全中学 — both stages, so the grade must say —, 36 中等职业学校). "" when neither
tells.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from tasks.models import Stage

_NUMERALS = "一二三四五六七八九"
_GRADE_STAGES: dict[str, str] = {
    **{f"{n}年级": Stage.PRIMARY for n in _NUMERALS[:6]},
    **{f"{n}年级": Stage.JUNIOR for n in _NUMERALS[6:]},
    **{f"{n}年级": Stage.SENIOR for n in ("十", "十一", "十二")},
    **{f"初{n}": Stage.JUNIOR for n in "一二三四"},
    **{f"高{n}": Stage.SENIOR for n in "一二三"},
    **{f"小学{n}年级": Stage.PRIMARY for n in _NUMERALS[:6]},
    **{f"初中{n}年级": Stage.JUNIOR for n in "一二三四"},
    **{f"高中{n}年级": Stage.SENIOR for n in "一二三"},
    **{f"中职{n}年级": Stage.VOCATIONAL for n in "一二三"},
    **{f"{n}年级": Stage.PRIMARY for n in "123456"},
    **{f"{n}年级": Stage.JUNIOR for n in "789"},
    "小班": Stage.PRESCHOOL,
    "中班": Stage.PRESCHOOL,
    "大班": Stage.PRESCHOOL,
    "学前班": Stage.PRESCHOOL,
}
#: 高中2018级, 初中2019级, 小学2014级, 中职2018级: a stage and the year of entry.
_COHORT = re.compile(r"(小学|初中|高中|中职|职高|中专)(\d{4})级?")
_COHORT_STAGES = {
    "小学": Stage.PRIMARY,
    "初中": Stage.JUNIOR,
    "高中": Stage.SENIOR,
    "中职": Stage.VOCATIONAL,
    "职高": Stage.VOCATIONAL,
    "中专": Stage.VOCATIONAL,
}
#: The category digits of a 学校标识码 that name one stage.
_CODE_STAGES = {
    "11": Stage.PRESCHOOL,
    "21": Stage.PRIMARY,
    "22": Stage.PRIMARY,
    "31": Stage.JUNIOR,
    "32": Stage.JUNIOR,
    "36": Stage.VOCATIONAL,
}
_BRACKETS = re.compile(r"\(.*?\)")


def grade_stage(grade: str) -> str:
    """The stage the grade names, or ""."""
    text = "".join(unicodedata.normalize("NFKC", grade or "").split())
    if not text:
        return ""
    found = _GRADE_STAGES.get(text) or _GRADE_STAGES.get(_BRACKETS.sub("", text))
    if found:
        return found
    match = _COHORT.fullmatch(text)
    return _COHORT_STAGES[match.group(1)] if match else ""


def stage_of(grade: str, *, school_code: str | None = "", school_stages: Sequence[str] = ()) -> str:
    """The 学段 of a child in `grade` at a school with this code and these stages, or ""."""
    found = grade_stage(grade)
    if found:
        return found
    stages = [s for s in school_stages if s]
    if len(stages) == 1:
        return stages[0]
    code = school_code or ""
    return _CODE_STAGES.get(code[:2], "") if len(code) == 10 else ""
