"""Matching what counties type for the aid sheets (items, semesters) to rows, and the
rules a semester's standards give.

Schools, counties, stages and yes/no are read by intake's shared parsers
(intake/columns.py); what is particular to student aid lives here. Every map is loaded
once per file: validation looks values up in dicts, never in the database row by row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intake.columns import CellError, Parser, compact
from tasks.models import County

from .models import Semester, SubsidyItem, SubsidyStandard

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
            raise CellError(_("学期为空"))
        code = semester_code(text) or text
        semester = self.by_code.get(code)
        if semester is None:
            known = "、".join(sorted(self.by_code)) or _("（尚未设置任何学期）")
            raise CellError(
                _("未知学期：%(value)s（可填：%(known)s）") % {"value": text, "known": known}
            )
        return semester


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
            raise CellError(_("资助项目为空"))
        item = self.by_key.get(key)
        if item is None:
            names = "、".join(i.name for i in sorted(self.by_id.values(), key=lambda i: i.order))
            raise CellError(
                _("未知资助项目：%(value)s（可填：%(names)s）") % {"value": key, "names": names}
            )
        return item


#: How a standards sheet says "every semester".
EVERY_SEMESTER = frozenset({"每学期", "各学期", "全部"})


class SemesterParser(Parser):
    """学期: 2019春 and its spellings, among the semesters the plan defines. With
    `every=True` (the standards sheet), a blank cell or 每学期 means every semester (None)."""

    def __init__(self, *, every: bool = False) -> None:
        self.every = every
        self.blank = None if every else gettext_lazy("学期为空")

    def bind(self, ctx: Any) -> Any:
        get = Semesters().get
        if not self.every:
            return get

        def parse(raw: object) -> Semester | None:
            return None if compact(raw) in EVERY_SEMESTER else get(raw)

        return parse

    def choices(self) -> list[str]:
        codes = list(Semester.objects.order_by("start").values_list("code", flat=True))
        return [*codes, "每学期"] if self.every else codes


class ItemParser(Parser):
    """资助项目 by name or one of its aliases."""

    blank = gettext_lazy("资助项目为空")

    def bind(self, ctx: Any) -> Any:
        return Items().get


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
