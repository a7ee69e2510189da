"""The four spreadsheets of student aid: schools, the roster, standards, disbursements.

Each spec follows the contract in `tasks.imports`: `validate` reads the whole file with a
handful of queries (lookup maps loaded once, existing keys fetched in chunks) and never
writes; `apply` writes the clean rows in bulk inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils.translation import gettext as _

from tasks import audit, clock
from tasks.clock import today
from tasks.imports import ImportContext, ImportSpec, ValidationResult
from tasks.models import County, RosterSnapshot, RosterStudent, School, Unit
from tasks.scoping import Scope
from xc_fupin.lib.dates import DateParseError, parse_date
from xc_fupin.lib.idnumber import (
    IdNumberError,
    id_number_fast,
    mask_id_number,
    mask_name,
    parse_id_number,
)
from xc_fupin.lib.money import AmountError, parse_amount
from xc_fupin.lib.sheets import ColumnSpec, Table
from xc_fupin.lib.text import normalize_text

from .lookups import (
    STAGE_ORDER,
    Counties,
    Items,
    Schools,
    Semesters,
    compact,
    in_scope,
    not_our_student_message,
    out_of_scope_message,
    owns,
    parse_stage,
    parse_stages,
    parse_yes_no,
    scope_label,
)
from .models import Disbursement, Semester, SubsidyItem, SubsidyStandard

CHUNK = 5000  # IDs per lookup query: well under SQLite's 32,766 parameters

ID_ALIASES = ("身份证号码", "公民身份号码", "公民身份证号码", "证件号码", "身份证", "学生身份证号")
NAME_ALIASES = ("学生姓名", "姓 名", "幼儿姓名", "受助学生姓名")
SCHOOL_ALIASES = ("学校", "学校名称", "就读学校名称", "所在学校", "学校(单位)")
AMOUNT_ALIASES = (
    "金额",
    "发放金额(元)",
    "发放金额",
    "资助金额",
    "资助金额(元)",
    "金额（元）",
    "补助金额",
)
ITEM_ALIASES = ("项目", "资助项目名称", "资助类别", "资助类型", "项目名称")
SEMESTER_ALIASES = ("学年学期", "发放学期", "所属学期")
STAGE_ALIASES_H = ("就读学段", "学习阶段", "教育阶段")


def id_value(raw: object, day: dt.date) -> str:
    """The canonical ID number of a cell; raises IdNumberError with lib's message."""
    return id_number_fast(raw, day) or parse_id_number(raw, today=day).value


def _chunks(values: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _text(raw: object) -> str:
    return normalize_text(raw)


def _admin_only(table: Table, result: ValidationResult, ctx: ImportContext, what: str) -> bool:
    if ctx.scope.sees_all:
        return True
    result.error(
        table.header_row,
        "",
        _("%(what)s只能由系统管理员或市教体局导入，本单位无权上传") % {"what": what},
    )
    return False


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


# --- 学校名单 -------------------------------------------------------------------------

# How the city writes the county of its own schools: the city itself, not one of its seven
# counties. Accepted only with 是否市直 = 是, so a county school still needs a real county.
CITY_COUNTY_WORDS = frozenset({"宣城市", "宣城", "市直", "宣城市直", "宣城市市直", "市直学校"})


def school_county(raw: object, *, city_run: bool, counties: Counties) -> County | None:
    """The county of a 学校名单 row: None for a city-run school; raises ValueError (Chinese)."""
    key = compact(raw) if raw is not None else ""
    if city_run and (not key or key in CITY_COUNTY_WORDS):
        return None
    if not key:
        raise ValueError(_("所属县区为空（市直学校请在“是否市直”填“是”）"))
    if key in CITY_COUNTY_WORDS:
        raise ValueError(
            _(
                "所属县区填“%(value)s”的只能是市直学校：市直学校请在“是否市直”填“是”，"
                "县区学校请填所属县市区"
            )
            % {"value": key}
        )
    return counties.get(raw)


class SchoolsSpec(ImportSpec):
    key = "schools"
    title = "学校名单"
    permission = "tasks.add_unit"
    columns: ClassVar[Sequence[ColumnSpec]] = [
        ColumnSpec("学校标识码", ("学校代码", "学校识别码", "标识码")),
        ColumnSpec("学校名称", ("学校", "学校全称", "单位名称")),
        ColumnSpec("所属县区", ("县区", "县市区", "所在县区", "所属县市区", "行政区划")),
        ColumnSpec("学段", ("办学层次", "学校类别", "学段(可多选)")),
        ColumnSpec("是否市直", ("市直", "市直学校"), required=False),
    ]
    example: ClassVar[dict[str, object]] = {
        "学校标识码": "3134001001",
        "学校名称": "宣州区实验小学",
        "所属县区": "宣州区",
        "学段": "小学",
        "是否市直": "否",
    }

    def dropdowns(self) -> dict[str, list[str]]:
        return {"学段": STAGE_ORDER, "是否市直": ["是", "否"]}

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        result = ValidationResult(total=len(table.rows))
        if not _admin_only(table, result, ctx, _("学校名单")):
            return result
        counties = Counties()
        existing = {
            s.school_code: s
            for s in School.objects.filter(school_code__isnull=False).only(
                "pk", "school_code", "name", "county_id", "stages", "is_city_run"
            )
        }
        by_name = {compact(s.name): s for s in existing.values()}
        seen_codes: dict[str, int] = {}
        seen_names: dict[str, int] = {}
        for row in table.rows:
            v = row.values
            errors_before = len(result.errors)
            code = compact(v["学校标识码"])
            if isinstance(v["学校标识码"], float):
                result.error(row, "学校标识码", _("学校标识码被存成了小数，请设为文本格式"))
            elif not code:
                result.error(row, "学校标识码", _("学校标识码为空"))
            elif not code.isascii() or not code.isalnum() or len(code) > 20:
                result.error(
                    row,
                    "学校标识码",
                    _("学校标识码应为不超过20位的数字或字母：%(v)s") % {"v": code},
                )
            name = _text(v["学校名称"])
            if not name:
                result.error(row, "学校名称", _("学校名称为空"))
            city_run = False
            if v.get("是否市直") is not None:
                try:
                    city_run = parse_yes_no(v["是否市直"], column="是否市直")
                except ValueError as e:
                    result.error(row, "是否市直", str(e))
            county = None
            try:
                county = school_county(v["所属县区"], city_run=city_run, counties=counties)
            except ValueError as e:
                result.error(row, "所属县区", str(e))
            try:
                stages = parse_stages(v["学段"])
            except ValueError as e:
                result.error(row, "学段", str(e))
                stages = []
            if code in seen_codes:
                result.error(
                    row, "学校标识码", _("与第%(r)d行的学校标识码重复") % {"r": seen_codes[code]}
                )
            key = compact(name)
            if key in seen_names:
                result.error(
                    row, "学校名称", _("与第%(r)d行的学校名称重复") % {"r": seen_names[key]}
                )
            other = by_name.get(key)
            if other is not None and other.school_code != code:
                result.error(
                    row,
                    "学校名称",
                    _(
                        "已有同名学校（学校标识码 %(code)s）：学校名称用于匹配名册和发放明细，不能重名"
                    )
                    % {"code": other.school_code},
                )
            if len(result.errors) > errors_before:
                continue
            seen_codes[code] = row.number
            seen_names[key] = row.number
            clean = {
                "学校标识码": code,
                "学校名称": name,
                "county_id": None if city_run else county.pk if county else None,
                "所属县区": "市直" if city_run else (county.current_name() if county else ""),
                "学段": stages,
                "是否市直": city_run,
            }
            current = existing.get(code)
            if current is not None and (
                current.name == name
                and current.county_id == clean["county_id"]
                and list(current.stages or []) == stages
                and current.is_city_run == city_run
            ):
                result.skip(row, _("学校 %(name)s 已在名单中，无变化") % {"name": name})
                continue
            result.accept(row, clean)
        return result

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        existing = {
            s.school_code: s
            for s in School.objects.filter(school_code__in=[r["学校标识码"] for r in result.rows])
        }
        bureaus = {u.county_id: u for u in Unit.objects.filter(kind=Unit.Kind.COUNTY_BUREAU)}
        city_schools = Unit.objects.filter(kind=Unit.Kind.CITY_SCHOOLS).first()
        created, updated = [], []
        for clean in result.rows:
            school = existing.get(clean["学校标识码"])
            parent = city_schools if clean["是否市直"] else bureaus.get(clean["county_id"])
            if school is None:
                school = School(
                    code=f"school-{clean['学校标识码']}",
                    school_code=clean["学校标识码"],
                    kind=Unit.Kind.SCHOOL,
                )
                created.append(school)
            else:
                updated.append(school)
            school.name = clean["学校名称"]
            school.short_name = clean["学校名称"][:50]
            school.county_id = clean["county_id"]
            school.stages = clean["学段"]
            school.is_city_run = clean["是否市直"]
            school.parent = parent
        School.objects.bulk_create(created, batch_size=1000)
        School.objects.bulk_update(
            updated,
            ["name", "short_name", "county", "stages", "is_city_run", "parent"],
            batch_size=1000,
        )
        audit.bulk_created(Unit, created)
        audit.bulk_created(Unit, updated, update=True)
        return {_("新增学校"): len(created), _("更新学校"): len(updated)}

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        return [
            clean["学校标识码"],
            clean["学校名称"],
            clean["所属县区"],
            "、".join(clean["学段"]),
            "是" if clean["是否市直"] else "否",
        ]


# --- 建档立卡学生名册 -----------------------------------------------------------------


class RosterSpec(ImportSpec):
    key = "roster"
    title = "建档立卡学生名册"
    permission = "tasks.add_rosterstudent"
    columns: ClassVar[Sequence[ColumnSpec]] = [
        ColumnSpec("身份证号", ID_ALIASES),
        ColumnSpec("姓名", NAME_ALIASES),
        ColumnSpec(
            "户籍县区",
            ("户籍所在县区", "户籍地", "户籍所在地", "家庭所在县区", "户籍县市区"),
            required=False,
        ),
        ColumnSpec("就读学校", SCHOOL_ALIASES),
        ColumnSpec("学段", STAGE_ALIASES_H),
        ColumnSpec("年级", ("就读年级", "年级班级"), required=False),
        ColumnSpec("是否寄宿", ("寄宿", "是否寄宿生", "住宿情况", "是否住校")),
    ]
    example: ClassVar[dict[str, object]] = {
        "身份证号": "341802201001011237",
        "姓名": "张小明",
        "户籍县区": "宣州区",
        "就读学校": "宣州区实验小学",
        "学段": "小学",
        "年级": "三年级",
        "是否寄宿": "否",
    }

    def dropdowns(self) -> dict[str, list[str]]:
        return {"学段": STAGE_ORDER, "是否寄宿": ["是", "否"]}

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        result = ValidationResult(total=len(table.rows))
        schools, counties = Schools(), Counties()
        label = scope_label(ctx)
        day = today()
        parsed: list[tuple[int, dict[str, Any]]] = []
        seen: dict[str, int] = {}
        for index, row in enumerate(table.rows):
            v = row.values
            errors_before = len(result.errors)
            try:
                ident = parse_id_number(v["身份证号"], today=day)
            except IdNumberError as e:
                result.error(row, "身份证号", str(e))
                ident = None
            name = compact(v["姓名"])
            if not name:
                result.error(row, "姓名", _("姓名为空"))
            household = None
            if v.get("户籍县区") is not None:
                try:
                    household = counties.get(v["户籍县区"])
                except ValueError as e:
                    result.error(row, "户籍县区", str(e))
            try:
                school = schools.get(v["就读学校"])
            except ValueError as e:
                result.error(row, "就读学校", str(e))
                school = None
            if school is not None and not in_scope(ctx.scope, school):
                result.error(row, "就读学校", out_of_scope_message(label))
            try:
                stage = parse_stage(v["学段"])
            except ValueError as e:
                result.error(row, "学段", str(e))
                stage = ""
            if school is not None and stage and school.stages and stage not in school.stages:
                result.error(
                    row,
                    "学段",
                    _("%(school)s 的学段为 %(stages)s，没有 %(stage)s")
                    % {"school": school.name, "stages": "、".join(school.stages), "stage": stage},
                )
            try:
                boarding = parse_yes_no(v["是否寄宿"], column="是否寄宿")
            except ValueError as e:
                result.error(row, "是否寄宿", str(e))
                boarding = False
            if ident is not None:
                if ident.value in seen:
                    result.error(
                        row,
                        "身份证号",
                        _("与第%(r)d行是同一学生（身份证号重复）") % {"r": seen[ident.value]},
                    )
                else:
                    seen[ident.value] = row.number
            if len(result.errors) > errors_before or ident is None or school is None:
                continue
            if index and index % CHUNK == 0:
                ctx.progress(_("校验"), index, len(table.rows))
            parsed.append(
                (
                    row.number,
                    {
                        "id_number": ident.value,
                        "name": name,
                        "gender": ident.gender,
                        "birth_date": ident.birth_date,
                        "household_county_id": household.pk if household else None,
                        "county_id": school.county_id,  # 市直: none, the city manages them
                        "school_id": school.pk,
                        "school_name": school.name,
                        "stage": stage,
                        "grade": _text(v.get("年级"))[:20],
                        "boarding": boarding,
                    },
                )
            )
        existing: dict[str, RosterStudent] = {}
        ids = [clean["id_number"] for _n, clean in parsed]
        for chunk in _chunks(ids):
            for student in RosterStudent.objects.filter(id_number__in=chunk).select_related(
                "school"
            ):
                existing[student.id_number] = student
        fields = (
            "name",
            "household_county_id",
            "county_id",
            "school_id",
            "stage",
            "grade",
            "boarding",
        )
        for number, clean in parsed:
            current = existing.get(clean["id_number"])
            if current is not None:
                owner_ok = owns(ctx.scope, county_id=current.county_id, school_id=current.school_id)
                if not owner_ok and current.is_active:
                    # Only that: not where the child studies, nor under what name.
                    result.error(number, "身份证号", not_our_student_message())
                    continue
                if current.is_active and all(getattr(current, f) == clean[f] for f in fields):
                    result.skip(number, _("与名册一致，无变化"))
                    continue
                clean["pk"] = current.pk
            result.accept(number, clean)
        return result

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        if not result.rows:
            return {_("新增学生"): 0, _("更新学生"): 0}
        snapshot = RosterSnapshot.objects.create(
            as_of=today(),
            upload=ctx.upload,
            note=_("由 %(unit)s 导入") % {"unit": getattr(ctx.unit, "display_name", "")},
        )
        created: list[RosterStudent] = []
        updated: list[RosterStudent] = []
        now = clock.now()
        for clean in result.rows:
            student = RosterStudent(
                pk=clean.get("pk"),
                id_number=clean["id_number"],
                name=clean["name"],
                gender=clean["gender"],
                birth_date=clean["birth_date"],
                household_county_id=clean["household_county_id"],
                county_id=clean["county_id"],
                school_id=clean["school_id"],
                stage=clean["stage"],
                grade=clean["grade"],
                boarding=clean["boarding"],
                snapshot=snapshot,
                is_active=True,
                updated_at=now,  # bulk_update does not apply auto_now
            )
            (updated if student.pk else created).append(student)
        RosterStudent.objects.bulk_create(created, batch_size=2000)
        RosterStudent.objects.bulk_update(
            updated,
            [
                "name",
                "gender",
                "birth_date",
                "household_county",
                "county",
                "school",
                "stage",
                "grade",
                "boarding",
                "snapshot",
                "is_active",
                "updated_at",
            ],
            batch_size=2000,
        )
        audit.bulk_created(RosterStudent, created)
        audit.bulk_created(RosterStudent, updated, update=True)
        return {_("新增学生"): len(created), _("更新学生"): len(updated)}

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        return [
            mask_id_number(clean["id_number"]),
            mask_name(clean["name"]),
            "",
            clean["school_name"],
            clean["stage"],
            clean["grade"],
            "是" if clean["boarding"] else "否",
        ]


# --- 资助标准 -------------------------------------------------------------------------


class StandardsSpec(ImportSpec):
    key = "standards"
    title = "资助标准"
    permission = "subsidies.add_subsidystandard"
    columns: ClassVar[Sequence[ColumnSpec]] = [
        ColumnSpec("资助项目", ITEM_ALIASES),
        ColumnSpec("学段", STAGE_ALIASES_H),
        ColumnSpec("适用对象", ("资助对象", "对象")),
        ColumnSpec("学期", SEMESTER_ALIASES),
        ColumnSpec("档次", ("资助档次", "标准档次", "等级")),
        ColumnSpec("金额(元)", ("金额", "标准(元)", "资助标准(元)", "资助标准", "每生每学期(元)")),
        ColumnSpec("依据", ("文件依据", "来源", "说明", "备注"), required=False),
    ]
    example: ClassVar[dict[str, object]] = {
        "资助项目": "普通高中国家助学金",
        "学段": "普通高中",
        "适用对象": "全体",
        "学期": "2019秋",
        "档次": "一档",
        "金额(元)": 1250,
        "依据": "",
    }
    TARGETS: ClassVar[dict[str, str]] = {
        "寄宿生": SubsidyStandard.Target.BOARDING,
        "寄宿": SubsidyStandard.Target.BOARDING,
        "非寄宿生": SubsidyStandard.Target.NON_BOARDING,
        "非寄宿": SubsidyStandard.Target.NON_BOARDING,
        "走读生": SubsidyStandard.Target.NON_BOARDING,
        "全体": SubsidyStandard.Target.ALL,
        "全部": SubsidyStandard.Target.ALL,
        "所有学生": SubsidyStandard.Target.ALL,
        "建档立卡学生": SubsidyStandard.Target.ALL,
    }

    def dropdowns(self) -> dict[str, list[str]]:
        return {
            "学段": STAGE_ORDER,
            "适用对象": [t.value for t in SubsidyStandard.Target],
            "学期": [*Semester.objects.order_by("start").values_list("code", flat=True), "每学期"],
            "资助项目": list(
                SubsidyItem.objects.filter(is_active=True).values_list("name", flat=True)
            ),
        }

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        result = ValidationResult(total=len(table.rows))
        if not _admin_only(table, result, ctx, _("资助标准")):
            return result
        items, semesters = Items(), Semesters()
        existing = {
            (s.item_id, s.stage, s.target, s.semester_id, s.tier): s
            for s in SubsidyStandard.objects.filter(semester__isnull=False)
        }
        generic = {
            (s.item_id, s.stage, s.target, s.tier): s
            for s in SubsidyStandard.objects.filter(semester__isnull=True)
        }
        seen: dict[tuple[Any, ...], int] = {}
        for row in table.rows:
            v = row.values
            errors_before = len(result.errors)
            item_name = _text(v["资助项目"])
            item = items.find(item_name)
            if not item_name:
                result.error(row, "资助项目", _("资助项目为空"))
            try:
                stage = parse_stage(v["学段"])
            except ValueError as e:
                result.error(row, "学段", str(e))
                stage = ""
            target = self.TARGETS.get(compact(v["适用对象"]))
            if target is None:
                result.error(
                    row,
                    "适用对象",
                    _("适用对象应为 寄宿生、非寄宿生 或 全体，实为：%(v)s")
                    % {"v": _text(v["适用对象"]) or _("空")},
                )
            semester: Semester | None = None
            if compact(v["学期"]) not in ("", "每学期", "各学期", "全部"):
                try:
                    semester = semesters.get(v["学期"])
                except ValueError as e:
                    result.error(row, "学期", str(e))
            tier = _text(v["档次"])[:20]
            if not tier:
                result.error(row, "档次", _("档次为空（只有一档时填“一档”）"))
            try:
                amount = parse_amount(v["金额(元)"])
                if amount <= 0:
                    raise AmountError(_("金额应大于0"))
            except AmountError as e:
                result.error(row, "金额(元)", str(e))
                amount = Decimal(0)
            if len(result.errors) > errors_before:
                continue
            assert target is not None  # an empty target was an error above
            key = (compact(item_name), stage, target, semester.pk if semester else None, tier)
            if key in seen:
                result.error(
                    row,
                    "档次",
                    _("与第%(r)d行重复（同一项目、学段、对象、学期、档次）") % {"r": seen[key]},
                )
                continue
            seen[key] = row.number
            clean = {
                "item_id": item.pk if item else None,
                "item_name": item.name if item else item_name,
                "stage": stage,
                "target": target,
                "semester_id": semester.pk if semester else None,
                "semester_code": semester.code if semester else "每学期",
                "tier": tier,
                "amount": amount,
                "source": _text(v.get("依据")),
            }
            current = None
            if item is not None:
                current = (
                    existing.get((item.pk, stage, target, semester.pk, tier))
                    if semester
                    else generic.get((item.pk, stage, target, tier))
                )
            if current is not None:
                if current.amount == amount and (
                    not clean["source"] or current.source == clean["source"]
                ):
                    result.skip(row, _("标准已存在，无变化"))
                    continue
                clean["pk"] = current.pk
            result.accept(row, clean)
        return result

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        items = {i.name: i for i in SubsidyItem.objects.all()}
        new_items = 0
        created, updated = [], []
        for clean in result.rows:
            item = items.get(clean["item_name"])
            if item is None:
                item = SubsidyItem.objects.create(name=clean["item_name"], order=len(items) + 1)
                items[item.name] = item
                new_items += 1
            if clean.get("pk"):
                standard = SubsidyStandard.objects.get(pk=clean["pk"])
                standard.amount = clean["amount"]
                if clean["source"]:
                    standard.source = clean["source"]
                updated.append(standard)
            else:
                created.append(
                    SubsidyStandard(
                        item=item,
                        stage=clean["stage"],
                        target=clean["target"],
                        semester_id=clean["semester_id"],
                        tier=clean["tier"],
                        amount=clean["amount"],
                        source=clean["source"],
                    )
                )
        SubsidyStandard.objects.bulk_create(created)
        SubsidyStandard.objects.bulk_update(updated, ["amount", "source"])
        audit.bulk_created(SubsidyStandard, created)
        audit.bulk_created(SubsidyStandard, updated, update=True)
        return {
            _("新增资助项目"): new_items,
            _("新增标准"): len(created),
            _("更新标准"): len(updated),
        }

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        return [
            clean["item_name"],
            clean["stage"],
            clean["target"],
            clean["semester_code"],
            clean["tier"],
            _money(clean["amount"]),
            clean["source"],
        ]


# --- 资助发放明细 ---------------------------------------------------------------------


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _compact_name(raw: object) -> str:
    """A name as compared with the roster: NFKC, no whitespace, no invisible characters
    (what `"".join(normalize_text(raw).split())` gives, in one pass fewer)."""
    if raw is None:
        return ""
    text = raw if type(raw) is str else str(raw)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return "".join(text.split())


def _known_payees(
    ids: list[str], semester_ids: list[int], scope: Scope
) -> tuple[dict[str, str], dict[tuple[str, int, int], tuple[Decimal, dt.date] | None]]:
    """Roster names of these ID numbers, and their payments already recorded in these
    semesters: two queries on PostgreSQL (the IDs as one parameter), two per chunk elsewhere.

    Only what `scope` may see is returned: a roster student of another unit is left out
    (the uploader learns nothing from an ID number alone), and a payment of another unit
    maps to None, so the row can be refused without saying what was paid.
    """
    roster = RosterStudent._meta.db_table
    disb = Disbursement._meta.db_table
    names: dict[str, str] = {}
    done: dict[tuple[str, int, int], tuple[Decimal, dt.date] | None] = {}
    if not ids:
        return names, done
    whole: Sequence[str] = ids
    chunks = [whole] if connection.vendor == "postgresql" else list(_chunks(ids))
    with connection.cursor() as cursor:
        for chunk in chunks:
            params: list[Any]
            if connection.vendor == "postgresql":
                # One text parameter split server-side: far cheaper to send and parse
                # than an array of 100,000 quoted literals (IDs hold no comma).
                match, params = "= ANY(string_to_array(%s, ','))", [",".join(chunk)]
            else:
                match, params = f"IN ({', '.join(['%s'] * len(chunk))})", list(chunk)
            cursor.execute(
                f"SELECT id_number, name, county_id, school_id FROM {roster} "  # noqa: S608
                f"WHERE is_active AND id_number {match}",
                params,
            )
            for ident, name, county_id, school_id in cursor.fetchall():
                if owns(scope, county_id=county_id, school_id=school_id):
                    names[ident] = name
            cursor.execute(
                "SELECT id_number, item_id, semester_id, amount, paid_on, county_id, school_id "  # noqa: S608
                f"FROM {disb} WHERE semester_id IN ({', '.join(['%s'] * len(semester_ids))}) "
                f"AND id_number {match}",
                [*semester_ids, *params],
            )
            for (
                ident,
                item_id,
                semester_id,
                amount,
                paid_on,
                county_id,
                school_id,
            ) in cursor.fetchall():
                done[(ident, item_id, semester_id)] = (
                    (_decimal(amount), _day(paid_on))
                    if owns(scope, county_id=county_id, school_id=school_id)
                    else None
                )
    return names, done


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


class _Cache(dict[Any, Any]):
    """Parse each distinct cell value once: a file of 100,000 payments has a few dozen
    distinct schools, items, semesters, amounts and dates."""

    def __init__(self, parse: Any) -> None:
        super().__init__()
        self.parse = parse

    def __missing__(self, raw: Any) -> tuple[Any, str]:
        try:
            value: tuple[Any, str] = (self.parse(raw), "")
        except (ValueError, IdNumberError, AmountError, DateParseError) as e:
            value = (None, str(e))
        self[raw] = value
        return value


class DisbursementsSpec(ImportSpec):
    key = "disbursements"
    title = "资助发放明细"
    permission = "subsidies.add_disbursement"
    columns: ClassVar[Sequence[ColumnSpec]] = [
        ColumnSpec("身份证号", ID_ALIASES),
        ColumnSpec("姓名", NAME_ALIASES),
        ColumnSpec("就读学校", SCHOOL_ALIASES),
        ColumnSpec("资助项目", ITEM_ALIASES),
        ColumnSpec("学期", SEMESTER_ALIASES),
        ColumnSpec("金额(元)", AMOUNT_ALIASES),
        ColumnSpec("发放日期", ("发放时间", "发放日期(年月日)", "支付日期", "到账日期")),
    ]
    example: ClassVar[dict[str, object]] = {
        "身份证号": "341802201001011237",
        "姓名": "张小明",
        "就读学校": "宣州区实验小学",
        "资助项目": "义务教育家庭经济困难学生生活补助",
        "学期": "2019春",
        "金额(元)": 250,
        "发放日期": "2019-06-10",
    }

    def dropdowns(self) -> dict[str, list[str]]:
        return {
            "资助项目": list(
                SubsidyItem.objects.filter(is_active=True).values_list("name", flat=True)
            ),
            "学期": list(Semester.objects.order_by("start").values_list("code", flat=True)),
        }

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        result = ValidationResult(total=len(table.rows))
        schools, items, semesters = Schools(), Items(), Semesters()
        label = scope_label(ctx)
        day = today()
        standards = list(SubsidyStandard.objects.select_related("item"))
        # item, semester -> stage -> highest amount at that stage (any 适用对象)
        caps: dict[tuple[int, int], dict[str, Decimal]] = {}
        for semester in semesters.by_id.values():
            for s in standards:
                if s.applies_to(semester):
                    by_stage = caps.setdefault((s.item_id, semester.pk), {})
                    if s.amount > by_stage.get(s.stage, Decimal(0)):
                        by_stage[s.stage] = s.amount

        school_of = _Cache(schools.get)
        item_of = _Cache(items.get)
        semester_of = _Cache(semesters.get)
        amount_of = _Cache(parse_amount)
        date_of = _Cache(parse_date)
        scope_ok: dict[int, bool] = {}
        cap_of: dict[tuple[int, int, int], tuple[Decimal | None, str]] = {}
        first_row: dict[tuple[str, int, int], int] = {}
        parsed: list[tuple[int, str, str, Any, SubsidyItem, Semester, Decimal, dt.date]] = []
        error = result.error
        total = len(table.rows)

        for index, row in enumerate(table.rows):
            if index and index % CHUNK == 0:
                ctx.progress(_("校验"), index, total)
            v = row.values
            bad = False
            try:
                ident = id_value(v["身份证号"], day)
            except IdNumberError as e:
                error(row, "身份证号", str(e))
                ident, bad = "", True
            name = _compact_name(v["姓名"])
            if not name:
                error(row, "姓名", _("姓名为空"))
                bad = True
            school, message = school_of[v["就读学校"]]
            if school is None:
                error(row, "就读学校", message)
                bad = True
            else:
                ok = scope_ok.get(school.pk)
                if ok is None:
                    ok = scope_ok[school.pk] = in_scope(ctx.scope, school)
                if not ok:
                    error(row, "就读学校", out_of_scope_message(label))
                    bad = True
            item, message = item_of[v["资助项目"]]
            if item is None:
                error(row, "资助项目", message)
                bad = True
            semester, message = semester_of[v["学期"]]
            if semester is None:
                error(row, "学期", message)
                bad = True
            amount, message = amount_of[v["金额(元)"]]
            if amount is None:
                error(row, "金额(元)", message)
                bad = True
            elif not amount:
                error(row, "金额(元)", _("金额为0：未发放的学生不要列入发放明细"))
                bad = True
            paid_on, message = date_of[v["发放日期"]]
            if paid_on is None:
                error(row, "发放日期", message)
                bad = True
            elif paid_on > day:
                error(row, "发放日期", _("发放日期 %(d)s 晚于今天") % {"d": paid_on.isoformat()})
                bad = True
            elif semester is not None and paid_on < semester.start:
                error(
                    row,
                    "发放日期",
                    _("发放日期 %(d)s 早于 %(s)s 学期开始（%(start)s），请核对学期")
                    % {
                        "d": paid_on.isoformat(),
                        "s": semester.code,
                        "start": semester.start.isoformat(),
                    },
                )
                bad = True
            if item is not None and semester is not None and school is not None and amount:
                key3 = (item.id, semester.id, school.pk)
                cap = cap_of.get(key3)
                if cap is None:
                    cap = cap_of[key3] = self._cap(item, semester, school, caps)
                top, message = cap
                if top is None:
                    error(row, "资助项目", message)
                    bad = True
                elif amount > top:
                    error(
                        row,
                        "金额(元)",
                        _("金额 %(a)s 元 高于 %(item)s 在 %(school)s 学段的最高标准 %(top)s 元")
                        % {
                            "a": _money(amount),
                            "item": item.name,
                            "school": school.name,
                            "top": _money(top),
                        },
                    )
                    bad = True
            if ident and item is not None and semester is not None:
                key = (ident, item.id, semester.id)
                first = first_row.get(key)
                if first is not None:
                    error(
                        row,
                        "身份证号",
                        _("与第%(r)d行重复：同一学生同一学期同一资助项目只能发放一次")
                        % {"r": first},
                    )
                    bad = True
                else:
                    first_row[key] = row.number
            if not bad:
                parsed.append((row.number, ident, name, school, item, semester, amount, paid_on))  # type: ignore[arg-type]

        ctx.progress(_("核对名册和已有发放记录"), total, total)
        ids = sorted({p[1] for p in parsed})
        semester_ids = sorted({p[5].id for p in parsed})
        roster_names, done = _known_payees(ids, semester_ids, ctx.scope)

        for number, ident, name, school, item, semester, amount, paid_on in parsed:
            roster_name = roster_names.get(ident)
            if roster_name is not None and roster_name != name:
                error(
                    number,
                    "姓名",
                    _(
                        "与建档立卡名册不一致：该身份证号在名册中的姓名为 %(n)s，请核对身份证号是否填错"
                    )
                    % {"n": mask_name(roster_name)},
                )
                continue
            key = (ident, item.id, semester.id)
            previous = done.get(key)
            if previous is None and key in done:
                # Paid by another unit: one payment per item and semester, whose it is not said.
                error(number, "身份证号", not_our_student_message())
                continue
            if previous is not None:
                if previous[0] == amount:
                    result.skip(
                        number,
                        _("已有发放记录（%(d)s 发放 %(a)s 元），跳过")
                        % {"d": previous[1].isoformat(), "a": _money(previous[0])},
                    )
                else:
                    error(
                        number,
                        "金额(元)",
                        _(
                            "该生 %(s)s %(item)s 已有发放记录 %(a)s 元，与本行 %(b)s 元不符；同一项目每学期只能发放一次，更正请联系市局"
                        )
                        % {
                            "s": semester.code,
                            "item": item.name,
                            "a": _money(previous[0]),
                            "b": _money(amount),
                        },
                    )
                continue
            result.accept(
                number,
                {
                    "id_number": ident,
                    "name": name,
                    "school_id": school.pk,
                    "school_name": school.name,
                    "county_id": school.county_id,
                    "item_id": item.id,
                    "item_name": item.name,
                    "semester_id": semester.id,
                    "semester_code": semester.code,
                    "amount": amount,
                    "paid_on": paid_on,
                    "on_roster": roster_name is not None,
                },
            )
        return result

    @staticmethod
    def _cap(
        item: SubsidyItem,
        semester: Semester,
        school: Any,
        caps: dict[tuple[int, int], dict[str, Decimal]],
    ) -> tuple[Decimal | None, str]:
        by_stage = caps.get((item.pk, semester.pk))
        if not by_stage:
            return None, _("%(item)s 在 %(s)s 没有资助标准，请市局先导入资助标准") % {
                "item": item.name,
                "s": semester.code,
            }
        if school.stages:
            amounts = [a for stage, a in by_stage.items() if stage in school.stages]
            if not amounts:
                return None, _("%(item)s 不适用于 %(school)s 的学段（%(stages)s）") % {
                    "item": item.name,
                    "school": school.name,
                    "stages": "、".join(school.stages),
                }
            return max(amounts), ""
        return max(by_stage.values()), ""

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        upload_id = ctx.upload.pk if ctx.upload is not None else None
        rows = result.rows
        ctx.progress(_("写入"), 0, len(rows))
        if connection.vendor == "postgresql":
            added = _copy_disbursements(rows, upload_id)
        else:
            added = _create_disbursements(rows, upload_id)
        ctx.progress(_("写入"), len(rows), len(rows))
        counts = {_("新增发放记录"): added}
        if added != len(rows):
            counts[_("并发重复未写入")] = len(rows) - added
        return counts

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        return [
            mask_id_number(clean["id_number"]),
            mask_name(clean["name"]),
            clean["school_name"],
            clean["item_name"],
            clean["semester_code"],
            _money(clean["amount"]),
            clean["paid_on"].isoformat(),
        ]


def _create_disbursements(rows: list[dict[str, Any]], upload_id: int | None) -> int:
    """The ORM path (SQLite): bulk_create, then the historical rows in bulk.

    A payment a concurrent upload wrote after our validation is left out instead of
    failing the whole file; bulk_create without ignore_conflicts returns the new primary
    keys, which the historical rows need.
    """
    now = clock.now()
    objs = [
        Disbursement(
            id_number=r["id_number"],
            name=r["name"],
            school_id=r["school_id"],
            county_id=r["county_id"],
            item_id=r["item_id"],
            semester_id=r["semester_id"],
            amount=r["amount"],
            paid_on=r["paid_on"],
            upload_id=upload_id,
            created_at=now,
        )
        for r in rows
    ]
    ids = sorted({o.id_number for o in objs})
    semester_ids = sorted({o.semester_id for o in objs})
    taken: set[tuple[int, int, str]] = set()
    for chunk in _chunks(ids):
        taken.update(
            Disbursement.objects.filter(
                semester_id__in=semester_ids, id_number__in=chunk
            ).values_list("semester_id", "item_id", "id_number")
        )
    if taken:
        objs = [o for o in objs if (o.semester_id, o.item_id, o.id_number) not in taken]
    Disbursement.objects.bulk_create(objs, batch_size=2000)
    audit.bulk_created(Disbursement, objs)
    return len(objs)


_COPY_COLUMNS = (
    "id_number",
    "name",
    "school_id",
    "county_id",
    "item_id",
    "semester_id",
    "amount",
    "paid_on",
    "upload_id",
)


_NULL, _BACKSLASH, _ESCAPED = "\\N", "\\", "\\\\"


def _copy_text(rows: list[dict[str, Any]], upload_id: int | None) -> io.StringIO:
    """COPY's text format, built as one string: names are compacted (no tab or newline),
    so only a backslash needs escaping."""
    upload = _NULL if upload_id is None else str(upload_id)
    lines = [
        f"{r['id_number']}\t{r['name'].replace(_BACKSLASH, _ESCAPED)}\t{r['school_id']}\t"
        f"{_NULL if r['county_id'] is None else r['county_id']}\t{r['item_id']}\t"
        f"{r['semester_id']}\t{r['amount']}\t{r['paid_on']}\t{upload}\n"
        for r in rows
    ]
    return io.StringIO("".join(lines))


def _history_insert(model: type[Any], source_sql: str) -> tuple[str, list[Any]]:
    """`INSERT INTO <historical table> … SELECT … FROM (source_sql)`: one '+' historical row
    per row of `source_sql`, stamped like `audit.bulk_created` stamps them."""
    historical = model.history.model
    tracked = {f.attname for f in model._meta.concrete_fields}
    source = audit.current_source()
    user = getattr(source.user, "pk", None)
    stamps: dict[str, Any] = {
        "history_date": clock.now(),
        "history_type": "+",
        "history_user_id": user,
        "history_change_reason": source.label or None,
        "history_source": source.label or "系统",
        "history_upload_id": source.upload_id,
    }
    columns, values, params = [], [], []
    for field in historical._meta.concrete_fields:
        if field.primary_key:
            continue  # history_id: its own sequence
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in tracked:
            values.append(connection.ops.quote_name(field.column))
        elif field.attname in stamps:
            values.append("%s")
            params.append(stamps[field.attname])
        else:
            raise ImproperlyConfigured(f"{historical._meta.label}.{field.attname}")
    sql = (
        f"INSERT INTO {historical._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {source_sql}"
    )
    return sql, params


def _copy_disbursements(rows: list[dict[str, Any]], upload_id: int | None) -> int:
    """COPY the rows into a temporary table, insert what is not there yet, and write the
    historical rows of exactly those, set-based, in one statement.

    Runs in the caller's transaction; a payment inserted by a concurrent upload after our
    validation is left alone (ON CONFLICT DO NOTHING) instead of failing the whole file.
    """
    table = Disbursement._meta.db_table
    columns = ", ".join(_COPY_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS subsidies_disbursement_load")
        cursor.execute(
            "CREATE TEMP TABLE subsidies_disbursement_load (id_number varchar(18), name varchar(50), "
            "school_id bigint, county_id bigint, item_id bigint, semester_id bigint, "
            "amount numeric(12, 2), paid_on date, upload_id bigint) ON COMMIT DROP"
        )
        cursor.cursor.copy_expert(  # type: ignore[attr-defined]
            f"COPY subsidies_disbursement_load ({columns}) FROM STDIN",
            _copy_text(rows, upload_id),
        )
        insert = (
            f"INSERT INTO {table} ({columns}, created_at) "  # noqa: S608
            f"SELECT {columns}, now() FROM subsidies_disbursement_load "
            f"ON CONFLICT (semester_id, item_id, id_number) DO NOTHING"
        )
        if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            history, params = _history_insert(Disbursement, "added")
            cursor.execute(f"WITH added AS ({insert} RETURNING *) {history}", params)
        else:
            cursor.execute(insert)
        added = cursor.rowcount
        cursor.execute("DROP TABLE subsidies_disbursement_load")
    return added


SPECS: list[ImportSpec] = [SchoolsSpec(), RosterSpec(), StandardsSpec(), DisbursementsSpec()]
