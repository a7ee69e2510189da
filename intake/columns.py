"""The shared column parsers every import is declared with (STYLE rule 13).

The design is pretix's `ImportColumn.clean()`: a spec lists `Column`s — the canonical
header, the header variants it also accepts, and one parser from this module — and the
framework (intake/specs.py) runs them. A parser turns one raw cell into a value or raises
`CellError` with a Chinese message that names the value and what is accepted; the
framework adds the row and the column ("第R行 列名: …").

`Parser.bind(ctx)` is called once per file: a parser that needs the database (schools,
counties) loads its map there, and the bound column parses each *distinct* cell value
once (a 100,000-row payment sheet has a few dozen schools, amounts and dates).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tasks.clock import today
from tasks.models import County, Stage, Task, Unit
from xc_fupin.lib.dates import DateParseError, parse_date
from xc_fupin.lib.idnumber import IdNumber, IdNumberError, id_number_fast, parse_id_number
from xc_fupin.lib.money import AmountError, parse_amount
from xc_fupin.lib.sheets import ColumnSpec
from xc_fupin.lib.text import normalize_text, shorten


class CellError(ValueError):
    """A cell that cannot be read; the message is Chinese and names the value."""


#: Errors the lib helpers raise; a parser turns them into CellError.
_LIB_ERRORS = (IdNumberError, AmountError, DateParseError)

Clean = Callable[[object], Any]


# --- text --------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def compact(raw: object) -> str:
    """Text with full-width folded and every space and invisible character removed:
    "宣州区 实验小学" == "宣州区实验小学". The one comparison key of names and codes."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a code typed into a number cell
    text = raw if type(raw) is str else str(raw)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return "".join(text.split())


def is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


# --- header variants shared by every sheet ------------------------------------------

#: The ID column: our template's 身份证号 and every variant counties and the national
#: systems write (身份证件号 is the student registry's, 证件号码 the poverty system's).
ID_ALIASES = (
    "身份证号码",
    "公民身份号码",
    "公民身份证号码",
    "公民身份证号",
    "身份证件号",
    "证件号码",
    "身份证",
    "学生身份证号",
    "儿童身份证号",
)
NAME_ALIASES = ("学生姓名", "姓 名", "幼儿姓名", "受助学生姓名", "儿童姓名", "名字")
DATE_ALIASES = ("统计时间", "截止日期", "数据日期", "统计截止日期", "日期")


# --- the parser base and the column -------------------------------------------------


class Parser:
    """Turns one cell into a value. `parse` raises CellError (or a lib error)."""

    #: Message for a blank cell, or None: a blank cell is simply None (optional values).
    blank: Any = None  # str or lazy str
    #: Hand blank cells to `parse` instead (its message for "unknown value" covers them).
    parse_blank = False
    #: Parse each distinct value once; off for values that differ on every row.
    cached = True

    def bind(self, ctx: Any) -> Clean:
        """The cell function for one file (load lookups here, once)."""
        return self.parse

    def parse(self, raw: object) -> Any:
        raise NotImplementedError

    def choices(self) -> list[str]:
        """Allowed values, offered as a drop-down in the blank template."""
        return []


@dataclass
class Column(ColumnSpec):
    """A spreadsheet column: canonical header, accepted variants, and its parser."""

    parser: Parser = field(default_factory=lambda: Text())
    #: A blank cell is allowed and reads as None (the parser's blank message is not used).
    optional: bool = False

    def bind(self, ctx: Any) -> BoundColumn:
        parser = self.parser
        return BoundColumn(
            self.name,
            parser.bind(ctx),
            None if parser.parse_blank or self.optional else parser.blank,
            parse_blank=parser.parse_blank and not self.optional,
            cached=parser.cached,
        )


class _Cache(dict[Any, tuple[Any, str]]):
    """Parsed values by raw cell value; a hit is a plain dict lookup (no Python call)."""

    __slots__ = ("parse_one",)

    def __init__(self, parse_one: Callable[[object], tuple[Any, str]]) -> None:
        super().__init__()
        self.parse_one = parse_one

    def __missing__(self, raw: Any) -> tuple[Any, str]:
        found = self[raw] = self.parse_one(raw)
        return found


class BoundColumn:
    """A column ready for one file: each distinct raw value is parsed once (columns whose
    values are all different, like ID numbers, skip the cache)."""

    __slots__ = ("blank", "cache", "name", "parse", "parse_blank")

    def __init__(
        self,
        name: str,
        parse: Clean,
        blank: Any,
        *,
        parse_blank: bool = False,
        cached: bool = True,
    ) -> None:
        self.name = name
        self.parse_blank = parse_blank
        self.parse = parse
        self.blank = blank
        self.cache = _Cache(self.parse_one) if cached else None

    @property
    def read(self) -> Callable[[object], tuple[Any, str]]:
        """raw -> (value, "") or (None, message); may raise TypeError for an unhashable
        raw value (then call `parse_one`)."""
        return self.cache.__getitem__ if self.cache is not None else self.parse_one

    def clean(self, raw: object) -> tuple[Any, str]:
        """(value, "") or (None, message)."""
        try:
            return self.read(raw)
        except TypeError:  # an unhashable cell value: parse without caching
            return self.parse_one(raw)

    def parse_one(self, raw: object) -> tuple[Any, str]:
        if not self.parse_blank and is_blank(raw):
            return (None, self.blank % {"column": self.name}) if self.blank else (None, "")
        try:
            return self.parse(raw), ""
        except (CellError, *_LIB_ERRORS) as error:
            return None, str(error)


# --- the shared set ----------------------------------------------------------------


class Text(Parser):
    """Free text, single-spaced, cut to `max_length`; blank is "" (or an error)."""

    def __init__(self, max_length: int = 200, *, blank: str | None = None) -> None:
        self.max_length = max_length
        self.blank = blank

    def parse(self, raw: object) -> str:
        return normalize_text(raw)[: self.max_length]


class Name(Parser):
    """A person's name: full-width folded, cut to `max_length`. By default every space is
    removed (the roster and payments compare names so); `spaces=True` keeps single
    spaces, as the registry and household lists store them."""

    blank = gettext_lazy("%(column)s为空")
    cached = False  # nearly one per row

    def __init__(self, max_length: int = 50, *, spaces: bool = False) -> None:
        self.max_length = max_length
        self.spaces = spaces

    def parse(self, raw: object) -> str:
        name = (normalize_text(raw) if self.spaces else compact(raw))[: self.max_length]
        if not name:
            raise CellError(_("%(column)s为空") % {"column": _("姓名")})
        return name


class IdNumberParser(Parser):
    """The 18-character resident ID (GB 11643 check character), as text.

    `details=True` returns lib's IdNumber (birth date, gender) instead of the string.
    `card=True` also accepts the poverty system's 20/22-character disability-card numbers
    (证件号码 of type 09): the first 18 characters are the ID (EXTERNAL_FORMATS §0).
    """

    blank = gettext_lazy("身份证号为空")
    cached = False  # one per row

    def __init__(self, *, details: bool = False, card: bool = False) -> None:
        self.details = details
        self.card = card

    def bind(self, ctx: Any) -> Clean:
        day = today()
        details, card = self.details, self.card

        def parse(raw: object) -> Any:
            if card and isinstance(raw, str):
                text = compact(raw)
                if len(text) in (20, 22) and text[18:].isdigit():
                    raw = text[:18]
            if not details:
                fast = id_number_fast(raw, day)
                if fast is not None:
                    return fast
                return parse_id_number(raw, today=day).value
            return parse_id_number(raw, today=day)

        return parse


def id_of(value: str | IdNumber) -> str:
    return value if isinstance(value, str) else value.value


class StudentNumberRef(NamedTuple):
    number: str  # as written, upper case: "G341802…", "L…", "J…"
    id_number: str | None  # the ID inside a G number; None for L and J numbers


class StudentNumber(Parser):
    """全国学籍号: G + the 18-character ID is an ID; L and J numbers are not (None).

    A G number's ID must pass its check character. `details=True` returns a
    StudentNumberRef (the number as written and its ID) instead of the ID alone.
    """

    cached = False  # one per row

    def __init__(self, *, details: bool = False) -> None:
        self.details = details

    def bind(self, ctx: Any) -> Clean:
        day, details = today(), self.details

        def parse(raw: object) -> Any:
            text = compact(raw).upper()
            if len(text) != 19 or text[0] not in "GLJ" or not text[1:18].isdigit():
                raise CellError(
                    _("全国学籍号应为G、L或J加18位（G后为身份证号）：%(v)s") % {"v": shorten(raw)}
                )
            found = None
            if text[0] == "G":
                try:
                    found = parse_id_number(text[1:], today=day).value
                except IdNumberError as error:
                    raise CellError(
                        _("全国学籍号 %(v)s 中的身份证号有误：%(e)s") % {"v": text, "e": error}
                    ) from None
            return StudentNumberRef(text, found) if details else found

        return parse


_YES = {"是", "Y", "YES", "1", "TRUE", "√", "寄宿", "住校", "市直"}
_NO = {"否", "N", "NO", "0", "FALSE", "×", "非寄宿", "走读", "不是"}


class YesNo(Parser):
    """是/否 and their variants (1/0, √/×, 住校/走读, Y/N, true/false)."""

    blank: Any = gettext_lazy("%(column)s为空，请填“是”或“否”")

    def __init__(self, column: str, *, optional: bool = False) -> None:
        self.column = column
        if optional:
            self.blank = None  # a blank cell reads as None ("not said")

    def parse(self, raw: object) -> bool:
        if isinstance(raw, bool):
            return raw
        key = compact(raw).upper()
        if key in _YES:
            return True
        if key in _NO:
            return False
        raise CellError(
            _("%(column)s应填“是”或“否”，实为：%(value)s") % {"column": self.column, "value": key}
        )

    def choices(self) -> list[str]:
        return ["是", "否"]


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
    key = compact(raw)
    if not key:
        raise CellError(_("学段为空"))
    try:
        return STAGE_ALIASES[key]
    except KeyError:
        raise CellError(
            _("未知学段：%(value)s（可填：%(choices)s）")
            % {"value": key, "choices": "、".join(STAGE_ORDER)}
        ) from None


class StageParser(Parser):
    """学段; `multiple=True` reads "小学、初中" into a list in the national order."""

    blank = gettext_lazy("学段为空")

    def __init__(self, *, multiple: bool = False) -> None:
        self.multiple = multiple

    def parse(self, raw: object) -> str | list[str]:
        if not self.multiple:
            return parse_stage(raw)
        parts = [p for p in re.split(r"[、,;/\s]+", normalize_text(raw)) if p]
        stages = {parse_stage(p) for p in parts}
        return [s for s in STAGE_ORDER if s in stages]

    def choices(self) -> list[str]:
        return STAGE_ORDER


class Grade(Text):
    """年级 as written (七年级, 高中2018级, 一年级), cut to 20 characters."""

    def __init__(self) -> None:
        super().__init__(20)


class DateParser(Parser):
    """A date in any of the forms counties and the national systems write
    (EXTERNAL_FORMATS §0): 2019-06-10, 2019/6/10, 2019年6月10日, 20190610, Excel serials.
    `not_after_today`: a date later than the (demo) today is an error."""

    blank = gettext_lazy("日期为空")

    def __init__(self, *, not_after_today: str | None = None) -> None:
        self.not_after_today = not_after_today

    def bind(self, ctx: Any) -> Clean:
        day, message = today(), self.not_after_today

        def parse(raw: object) -> dt.date:
            value = parse_date(raw)
            if message and value > day:
                raise CellError(message % {"d": value.isoformat()})
            return value

        return parse


_MONTH = re.compile(r"(\d{4})(?:[-/.年]?)(\d{1,2})月?")


class Month(Parser):
    """A month (first day): 201409, 2014-09, 2014年9月, 2014.9, or a date in the month."""

    blank = gettext_lazy("月份为空")

    def parse(self, raw: object) -> dt.date:
        if isinstance(raw, (dt.date, dt.datetime)):
            day = raw.date() if isinstance(raw, dt.datetime) else raw
            return day.replace(day=1)
        text = compact(raw)
        match = _MONTH.fullmatch(text)
        if match and 1 <= int(match.group(2)) <= 12:
            return dt.date(int(match.group(1)), int(match.group(2)), 1)
        try:
            return parse_date(raw).replace(day=1)
        except DateParseError:
            raise CellError(
                _("无法识别的月份：%(v)s（可填 201909、2019-09 或 2019年9月）")
                % {"v": shorten(raw)}
            ) from None


class Amount(Parser):
    """Money in yuan (元, commas, full-width digits accepted); `positive` is the message
    for zero or a negative amount, when those are not allowed."""

    blank = gettext_lazy("金额为空")

    def __init__(self, *, positive: str | None = None) -> None:
        self.positive = positive

    def parse(self, raw: object) -> Decimal:
        value = parse_amount(raw)
        if self.positive and value <= 0:
            raise CellError(self.positive)
        return value


class Integer(Parser):
    """A whole number (人数, 务工时间（月）): "3", 3, 3.0, "3人", full-width digits;
    `low`/`high` bound it, and the message names the column and the range."""

    blank = gettext_lazy("%(column)s为空")

    def __init__(self, column: str, *, low: int = 0, high: int | None = None) -> None:
        self.column = column
        self.low = low
        self.high = high

    def parse(self, raw: object) -> int:
        if isinstance(raw, bool):
            raise CellError(_("%(column)s应为整数：%(v)s") % {"column": self.column, "v": raw})
        if isinstance(raw, float) and raw.is_integer():
            value: int | None = int(raw)
        elif isinstance(raw, int):
            value = raw
        else:
            text = compact(raw).rstrip("人个月")
            value = int(text) if text.isdigit() else None
        if value is None or value < self.low or (self.high is not None and value > self.high):
            top = "" if self.high is None else f"～{self.high}"
            raise CellError(
                _("%(column)s应为%(low)d%(top)s的整数：%(v)s")
                % {"column": self.column, "low": self.low, "top": top, "v": shorten(raw)}
            )
        return value


class CodeText(Parser):
    """A number kept as text (户编号, 人编号: digit strings of 10 to 14 seen, leading
    zeros matter). A number cell holding a whole number reads as its digits; one Excel
    has rounded (more than 15 digits, or a fraction) is refused rather than "repaired"."""

    def __init__(self, column: str, max_length: int = 30) -> None:
        self.column = column
        self.max_length = max_length

    def parse(self, raw: object) -> str:
        if isinstance(raw, float):
            if not raw.is_integer() or abs(raw) >= 1e15:
                raise CellError(
                    _("%(column)s被存成了数字（%(v)s），位数已丢失，请设为文本格式重新导出")
                    % {"column": self.column, "v": shorten(raw)}
                )
            raw = int(raw)
        text = compact(raw)
        if len(text) > self.max_length:
            raise CellError(
                _("%(column)s超过%(n)d位：%(v)s")
                % {"column": self.column, "n": self.max_length, "v": shorten(raw)}
            )
        return text


_PHONE = re.compile(r"\+?[\d\-]{7,20}")


class Phone(Parser):
    """A telephone number: digits (a leading + and dashes allowed), 7 to 20 characters."""

    def parse(self, raw: object) -> str:
        text = compact(raw).replace("(", "").replace(")", "")
        if not _PHONE.fullmatch(text):
            raise CellError(_("联系电话格式不正确：%(v)s") % {"v": shorten(raw)})
        return text


class Choice(Parser):
    """One of a fixed list of labels (and their codes); `unknown` names what is accepted."""

    def __init__(
        self,
        mapping: Mapping[str, Any],
        *,
        unknown: str,
        blank: str | None = None,
        optional: bool = False,
    ) -> None:
        self.parse_blank = not optional and blank is None
        self.mapping = {compact(k).upper(): v for k, v in mapping.items()}
        self.labels = list(dict.fromkeys(str(v) for v in mapping.values()))
        self.unknown = unknown
        self.blank = blank  # None: a blank cell is "unknown" too, unless optional

    def parse(self, raw: object) -> Any:
        try:
            return self.mapping[compact(raw).upper()]
        except KeyError:
            raise CellError(
                self.unknown % {"value": shorten(raw), "allowed": "、".join(self.labels)}
            ) from None

    def choices(self) -> list[str]:
        return self.labels


class Coded(Choice):
    """One of a national code list, by label or by code (EXTERNAL_FORMATS §0 "Codes vs
    names": exports write labels, older templates codes). `codes` maps each code to its
    label (a key of `labels`). A code is also read without its leading zeros (a "01"
    typed into a number cell is 1) and with its label after it ("1-男", "01 在读");
    `unknown` gets the labels and the codes as %(allowed)s."""

    def __init__(
        self,
        labels: Mapping[str, Any],
        codes: Mapping[str, str],
        *,
        unknown: str,
        blank: str | None = None,
        optional: bool = False,
    ) -> None:
        mapping = dict(labels)
        for code, label in codes.items():
            for key in {code, code.lstrip("0") or "0"}:
                mapping[key] = labels[label]
                for sep in ("", "-", ":", "_", "."):
                    mapping[f"{key}{sep}{label}"] = labels[label]
        super().__init__(mapping, unknown=unknown, blank=blank, optional=optional)
        self.labels = list(labels)
        self.codes = dict(codes)

    def parse(self, raw: object) -> Any:
        try:
            return self.mapping[compact(raw).upper()]
        except KeyError:
            allowed = _("%(labels)s；或代码：%(codes)s") % {
                "labels": "、".join(self.labels),
                "codes": "、".join(f"{c} {label}" for c, label in self.codes.items()),
            }
            raise CellError(self.unknown % {"value": shorten(raw), "allowed": allowed}) from None


# --- schools and counties (tasks' models) -----------------------------------------


class SchoolCode(Parser):
    """学校标识码 as text (10 digits nationally; up to 20 letters or digits accepted)."""

    blank = gettext_lazy("学校标识码为空")

    def parse(self, raw: object) -> str:
        if isinstance(raw, float):
            raise CellError(_("学校标识码被存成了小数，请设为文本格式"))
        code = compact(raw)
        if not code.isascii() or not code.isalnum() or len(code) > 20:
            raise CellError(_("学校标识码应为不超过20位的数字或字母：%(v)s") % {"v": code})
        return code


@dataclass(frozen=True)
class SchoolRef:
    pk: int
    name: str
    county_id: int | None
    stages: tuple[str, ...]
    is_city_run: bool
    code: str = ""  # 学校标识码


class SchoolParser(Parser):
    """A school by its 10-digit 学校标识码, full name or short name (spaces and full-width
    folded). A code or full name names one school; a key two schools share is reported
    as ambiguous, never picked silently. `code_only=True` reads a 学校标识码 column:
    the code alone, and a code not in the school list is named as such."""

    blank = gettext_lazy("学校为空")

    def __init__(self, *, code_only: bool = False) -> None:
        self.code_only = code_only
        if code_only:
            self.blank = gettext_lazy("学校标识码为空")

    def bind(self, ctx: Any) -> Clean:
        # key -> {pk: ref}, by strength: code, full name, short name.
        levels: list[dict[str, dict[int, SchoolRef]]] = [
            defaultdict(dict),
            defaultdict(dict),
            defaultdict(dict),
        ]
        rows = Unit.objects.filter(kind=Unit.Kind.SCHOOL).values_list(
            "pk", "name", "short_name", "school_code", "county_id", "stages", "is_city_run"
        )
        for pk, name, short_name, code, county_id, stages, city_run in rows:
            ref = SchoolRef(pk, name, county_id, tuple(stages or ()), city_run, code or "")
            for level, key in zip(levels, (code, name, short_name), strict=True):
                if key:
                    level[compact(key)][pk] = ref

        if self.code_only:
            del levels[1:]

        def parse(raw: object) -> SchoolRef:
            key = compact(raw)
            if self.code_only and not levels[0].get(key):
                raise CellError(
                    _(
                        "学校标识码“%(value)s”不在学校名单中（应为学校名单中某校的10位"
                        "学校标识码）；学校名单由市局维护，导入不会新建学校"
                    )
                    % {"value": shorten(raw)}
                )
            for level in levels:
                found = level.get(key)
                if found and len(found) == 1:
                    return next(iter(found.values()))
                if found:
                    raise CellError(
                        _("学校名称“%(school)s”不唯一，请填写学校标识码") % {"school": key}
                    )
            raise CellError(
                _(
                    "学校“%(value)s”不在学校名单中（按学校名称或学校标识码查找），"
                    "请核对学校全称或学校标识码；学校名单由市局维护，导入不会新建学校"
                )
                % {"value": shorten(raw)}
            )

        return parse


@dataclass(frozen=True)
class CountyRef:
    pk: int
    name: str  # the current name


_COUNTY_PREFIXES = ("安徽省宣城市", "宣城市", "安徽省")


class CountyParser(Parser):
    """A county by name (with or without 县/区/市, old names included) or by any
    administrative code it ever had."""

    blank = gettext_lazy("县区为空")

    def bind(self, ctx: Any) -> Clean:
        by_key: dict[str, CountyRef] = {}
        names: list[str] = []
        for county in County.objects.prefetch_related("codes"):
            ref = CountyRef(county.pk, county.current_name())
            names.append(ref.name)
            keys = {county.name, ref.name}
            for code in county.codes.all():
                keys |= {code.code, code.name}
            for key in map(compact, keys):
                by_key[key] = ref
                if len(key) >= 2 and key[-1] in "县区市":
                    by_key.setdefault(key[:-1], ref)
            by_key.setdefault(compact(county.slug), ref)

        def parse(raw: object) -> CountyRef:
            key = compact(raw)
            found = by_key.get(key)
            if found is None:
                for prefix in _COUNTY_PREFIXES:
                    if key.startswith(prefix) and len(key) > len(prefix):
                        rest = key[len(prefix) :]
                        found = by_key.get(rest) or by_key.get(rest[:-1])
                        break
            if found is None:
                raise CellError(
                    _("无法识别的县区“%(value)s”（可填：%(allowed)s，或行政区划代码）")
                    % {"value": shorten(raw), "allowed": "、".join(names)}
                )
            return found

        return parse


def columns_named(columns: Sequence[ColumnSpec]) -> dict[str, ColumnSpec]:
    return {c.name: c for c in columns}


# --- units, tasks and reported quantities (task indicators) -------------------------


@dataclass(frozen=True)
class UnitRef:
    pk: int
    name: str
    county_id: int | None


class UnitParser(Parser):
    """Any unit of the plan (county bureau, language office, city section, school …) by its
    full name, short name or unit code, spaces and full-width folded; a key two units
    share is reported as ambiguous, never picked silently. Inactive units are unknown."""

    blank = gettext_lazy("单位为空")

    def bind(self, ctx: Any) -> Clean:
        # key -> {pk: ref}, by strength: code, full name, short name.
        levels: list[dict[str, dict[int, UnitRef]]] = [
            defaultdict(dict),
            defaultdict(dict),
            defaultdict(dict),
        ]
        rows = Unit.objects.filter(is_active=True).values_list(
            "pk", "name", "short_name", "code", "county_id"
        )
        for pk, name, short_name, code, county_id in rows:
            ref = UnitRef(pk, name, county_id)
            for level, key in zip(levels, (code, name, short_name), strict=True):
                if key:
                    level[compact(key)][pk] = ref

        def parse(raw: object) -> UnitRef:
            key = compact(raw)
            for level in levels:
                found = level.get(key)
                if found and len(found) == 1:
                    return next(iter(found.values()))
                if found:
                    raise CellError(_("单位名称“%(v)s”不唯一，请填写单位全称") % {"v": key})
            raise CellError(
                _("单位“%(v)s”不在单位名单中，请填写单位全称（如“宣州区教体局”）")
                % {"v": shorten(raw)}
            )

        return parse


@dataclass(frozen=True)
class TaskRef:
    pk: int
    number: int


_TASK_NUMBER = re.compile(r"(?:任务|第)?(\d{1,3})(?:项|号)?")


class TaskParser(Parser):
    """A task of the current plan by its number: 4, "4", "任务4", "第4项"."""

    blank = gettext_lazy("任务序号为空")

    def bind(self, ctx: Any) -> Clean:
        latest = Task.objects.order_by("-group__plan__year").values_list("group__plan", flat=True)
        tasks = {
            number: TaskRef(pk, number)
            for pk, number in Task.objects.filter(group__plan__in=latest[:1]).values_list(
                "pk", "number"
            )
        }
        last = max(tasks, default=0)

        def parse(raw: object) -> TaskRef:
            match = _TASK_NUMBER.fullmatch(compact(raw))
            found = tasks.get(int(match.group(1))) if match else None
            if found is None:
                raise CellError(
                    _("任务序号应为1–%(last)d的整数：%(v)s") % {"last": last, "v": shorten(raw)}
                )
            return found

        return parse


_QUANTITY = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_GROUPED_QUANTITY = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?")
MAX_QUANTITY = Decimal("1000000000000")


class Quantity(Parser):
    """A count or sum reported for an indicator (培训人次 120, 中央资金 35.5 万元): not
    negative, at most two decimals; "1,250", full-width digits and a trailing unit word
    ("120人次", "35.5万元") are accepted."""

    blank = gettext_lazy("%(column)s为空")

    def __init__(self, column: str = "数值") -> None:
        self.column = column

    def _wrong(self, raw: object) -> CellError:
        return CellError(
            _("%(column)s应为数字：%(v)s") % {"column": self.column, "v": shorten(raw)}
        )

    def parse(self, raw: object) -> Decimal:
        if isinstance(raw, bool):
            raise self._wrong(raw)
        if isinstance(raw, (int, Decimal)):
            value = Decimal(raw)
        elif isinstance(raw, float):
            if raw != raw or raw in (float("inf"), float("-inf")):
                raise self._wrong(raw)
            value = Decimal(str(raw))
            # A sum Excel computed (0.1 + 0.2) carries binary noise past the cents.
            if abs(value - value.quantize(Decimal("0.01"))) < Decimal("0.000001"):
                value = value.quantize(Decimal("0.01"))
        else:
            text = compact(raw)
            negative = text.startswith("-")
            number = text.lstrip("+-").rstrip("人次个场篇条元万名项")
            if _GROUPED_QUANTITY.fullmatch(number):
                number = number.replace(",", "")
            if not _QUANTITY.fullmatch(number):
                raise self._wrong(raw)
            value = -Decimal(number) if negative else Decimal(number)
        if not value.is_finite():
            raise self._wrong(raw)
        if value < 0:
            raise CellError(
                _("%(column)s不能为负数：%(v)s") % {"column": self.column, "v": shorten(raw)}
            )
        if value > MAX_QUANTITY:
            raise CellError(_("%(column)s过大：%(v)s") % {"column": self.column, "v": shorten(raw)})
        if value != value.quantize(Decimal("0.01")):
            raise CellError(
                _("%(column)s最多保留两位小数：%(v)s") % {"column": self.column, "v": shorten(raw)}
            )
        return value.quantize(Decimal("0.01"))
