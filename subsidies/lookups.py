"""Matching what counties type (school, county, stage, item, semester names) to rows.

Every map is loaded once per file: validation looks values up in dicts, never in the
database row by row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from tasks.models import County, School, Stage
from tasks.scoping import Scope
from xc_fupin.lib.text import normalize_text

from .models import Semester, SubsidyItem, SubsidyStandard


def compact(value: object) -> str:
    """Text with full-width folded and every space removed: "宣州区 实验小学" == "宣州区实验小学"."""
    return "".join(normalize_text(value).split())


def _text_key(value: object) -> str:
    # Codes typed into number cells arrive as ints; a school code is never a float.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return compact(value)


STAGE_ALIASES: dict[str, str] = {
    "学前": Stage.PRESCHOOL,
    "学前教育": Stage.PRESCHOOL,
    "幼儿园": Stage.PRESCHOOL,
    "学前班": Stage.PRESCHOOL,
    "小学": Stage.PRIMARY,
    "初中": Stage.JUNIOR,
    "初级中学": Stage.JUNIOR,
    "高中": Stage.SENIOR,
    "普通高中": Stage.SENIOR,
    "普高": Stage.SENIOR,
    "中职": Stage.VOCATIONAL,
    "中等职业教育": Stage.VOCATIONAL,
    "中等职业学校": Stage.VOCATIONAL,
    "中专": Stage.VOCATIONAL,
    "高等教育": Stage.HIGHER,
    "高校": Stage.HIGHER,
    "大学": Stage.HIGHER,
    "本专科": Stage.HIGHER,
}
STAGE_ORDER = [s.value for s in Stage]


def parse_stage(raw: object) -> str:
    """Return the Stage value for a cell; raises ValueError with a Chinese message."""
    key = compact(raw)
    if not key:
        raise ValueError(_("学段为空"))
    try:
        return STAGE_ALIASES[key]
    except KeyError:
        raise ValueError(
            _("未知学段：%(value)s（可填：%(choices)s）")
            % {"value": key, "choices": "、".join(STAGE_ORDER)}
        ) from None


def parse_stages(raw: object) -> list[str]:
    """ "小学、初中" / "小学,初中" / "小学，初中" -> ["小学", "初中"] in the national order."""
    text = normalize_text(raw)
    parts = [p for p in re.split(r"[、,;/\s]+", text) if p]
    if not parts:
        raise ValueError(_("学段为空"))
    stages = {parse_stage(p) for p in parts}
    return [s for s in STAGE_ORDER if s in stages]


YES = {"是", "Y", "YES", "1", "TRUE", "√", "寄宿", "住校", "市直"}
NO = {"否", "N", "NO", "0", "FALSE", "×", "非寄宿", "走读", "不是"}


def parse_yes_no(raw: object, *, column: str) -> bool:
    if isinstance(raw, bool):
        return raw
    key = compact(raw).upper()
    if key in YES:
        return True
    if key in NO:
        return False
    if not key:
        raise ValueError(_("%(column)s为空，请填“是”或“否”") % {"column": column})
    raise ValueError(
        _("%(column)s应填“是”或“否”，实为：%(value)s") % {"column": column, "value": key}
    )


_SEMESTER = re.compile(r"(\d{4})年?(?:度)?[-/]?(春|秋)(?:季)?(?:学期)?")


def semester_code(raw: object) -> str:
    """ "2019年春季学期" / "2019春季" / "2019-春" -> "2019春"; "" when it does not look like one."""
    match = _SEMESTER.fullmatch(compact(raw))
    return f"{match.group(1)}{match.group(2)}" if match else ""


class Semesters:
    def __init__(self) -> None:
        self.by_code = {s.code: s for s in Semester.objects.all()}
        self.by_id = {s.pk: s for s in self.by_code.values()}

    def get(self, raw: object) -> Semester:
        text = compact(raw)
        if not text:
            raise ValueError(_("学期为空"))
        code = semester_code(text) or text
        semester = self.by_code.get(code)
        if semester is None:
            known = "、".join(sorted(self.by_code)) or _("（尚未设置任何学期）")
            raise ValueError(
                _("未知学期：%(value)s（可填：%(known)s）") % {"value": text, "known": known}
            )
        return semester


@dataclass(frozen=True)
class SchoolRef:
    pk: int
    name: str
    county_id: int | None
    stages: tuple[str, ...]
    is_city_run: bool


class Schools:
    """Every school, by name (spaces and full-width folded) and by 学校标识码."""

    def __init__(self) -> None:
        self.by_key: dict[str, SchoolRef] = {}
        self.by_id: dict[int, SchoolRef] = {}
        rows = School.objects.values_list(
            "pk", "name", "short_name", "school_code", "county_id", "stages", "is_city_run"
        )
        for pk, name, short_name, code, county_id, stages, city_run in rows:
            ref = SchoolRef(pk, name, county_id, tuple(stages or ()), city_run)
            self.by_id[pk] = ref
            for key in (short_name, code, name):  # the full name wins a clash
                if key:
                    self.by_key[_text_key(key)] = ref

    def get(self, raw: object) -> SchoolRef:
        key = _text_key(raw)
        if not key:
            raise ValueError(_("学校为空"))
        ref = self.by_key.get(key)
        if ref is None:
            raise ValueError(
                _(
                    "学校“%(value)s”不在学校名单中（按学校名称或学校标识码查找），请核对名称或请市局先导入该校"
                )
                % {"value": key}
            )
        return ref


def in_scope(scope: Scope, school: SchoolRef) -> bool:
    return owns(scope, county_id=school.county_id, school_id=school.pk)


def owns(scope: Scope, *, county_id: int | None, school_id: int | None) -> bool:
    """Whether a row of this county and school (a roster student, a payment) is the
    uploader's: the same rule as `ScopedQuerySet.for_scope`, on values already loaded."""
    if scope.sees_all:
        return True
    if scope.county_id is not None:
        return county_id == scope.county_id
    return school_id is not None and school_id in scope.unit_ids


def scope_label(ctx: Any) -> str:
    scope = ctx.scope
    if scope.county_id is not None:
        county = County.objects.filter(pk=scope.county_id).first()
        if county is not None:
            return county.current_name()
    unit = getattr(ctx, "unit", None)
    return unit.display_name if unit is not None else _("本单位")


# Messages about rows outside the uploader's scope say only that: never the school, the
# name (even masked) or an amount of a child the uploader may not see. The uploader's own
# unit is named, since that is what they can act on.


def out_of_scope_message(label: str) -> str:
    """The school of the row is not the uploader's."""
    return _("该校不属于本单位（%(unit)s），不能上传") % {"unit": label}


def not_our_student_message() -> str:
    """The ID number belongs to a child (on the roster or paid) of another unit."""
    return _("该生不属于本单位，不能上传；如系转学，请由原单位或市局调整")


class Counties:
    """Counties by name with or without 县/区/市 and by every code they ever had."""

    def __init__(self) -> None:
        self.by_key: dict[str, County] = {}
        for county in County.objects.prefetch_related("codes"):
            names = {county.name, county.current_name()}
            for code in county.codes.all():
                self.by_key[code.code] = county
                names.add(code.name)
            for name in names:
                key = compact(name)
                self.by_key[key] = county
                if len(key) >= 2 and key[-1] in "县区市":
                    self.by_key[key[:-1]] = county
            self.by_key.setdefault(compact(county.slug), county)

    def get(self, raw: object) -> County:
        key = _text_key(raw)
        if not key:
            raise ValueError(_("县区为空"))
        county = self.by_key.get(key)
        if county is None:
            key2 = key.removeprefix("宣城市").removeprefix("安徽省宣城市")
            county = self.by_key.get(key2) or (self.by_key.get(key2[:-1]) if key2 else None)
        if county is None:
            raise ValueError(
                _("未知县区：%(value)s（宣城市下辖7个县市区，可填名称或行政区划代码）")
                % {"value": key}
            )
        return county


class Items:
    def __init__(self) -> None:
        self.by_key: dict[str, SubsidyItem] = {}
        self.by_id: dict[int, SubsidyItem] = {}
        for item in SubsidyItem.objects.all():
            self.by_id[item.pk] = item
            for alias in item.alias_list():
                self.by_key.setdefault(compact(alias), item)
        for item in self.by_id.values():
            self.by_key[compact(item.name)] = item

    def find(self, raw: object) -> SubsidyItem | None:
        return self.by_key.get(compact(raw))

    def get(self, raw: object) -> SubsidyItem:
        key = compact(raw)
        if not key:
            raise ValueError(_("资助项目为空"))
        item = self.by_key.get(key)
        if item is None:
            names = "、".join(i.name for i in sorted(self.by_id.values(), key=lambda i: i.order))
            raise ValueError(
                _("未知资助项目：%(value)s（可填：%(names)s）") % {"value": key, "names": names}
            )
        return item


@dataclass(frozen=True)
class Rule:
    """What a student at `stage` (boarding or not) is owed of `item_id` in a semester:
    `top` is the highest tier amount."""

    item_id: int
    stage: str
    boarding: bool
    top: Any  # Decimal
    checks_tier: bool


def semester_rules(
    semester: Semester, standards: list[SubsidyStandard] | None = None
) -> list[Rule]:
    """The owed (item, stage, boarding) triples of a semester with their highest amount.

    A standard for 全体 covers both boarding and non-boarding students; where a boarding-only
    and an all-students standard both apply, the larger amount is the top.
    """
    if standards is None:
        standards = list(
            SubsidyStandard.objects.select_related("item").filter(item__is_active=True)
        )
    tops: dict[tuple[int, str, bool], Any] = {}
    tiers: dict[int, bool] = {}
    for standard in standards:
        if not standard.applies_to(semester):
            continue
        tiers[standard.item_id] = standard.item.checks_tier
        for boarding in (True, False):
            if standard.covers(boarding):
                key = (standard.item_id, standard.stage, boarding)
                if key not in tops or standard.amount > tops[key]:
                    tops[key] = standard.amount
    return [
        Rule(item_id, stage, boarding, top, tiers[item_id])
        for (item_id, stage, boarding), top in sorted(tops.items())
    ]
