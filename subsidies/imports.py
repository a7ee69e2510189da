"""The four spreadsheets of student aid: schools, the roster, standards, disbursements.

Declarative (intake/specs.py): each column names its aliases and a parser from intake's
shared set; a spec keeps only its own rules — across the columns of a row (a stage the
school does not teach, a payment dated before its semester), across rows (duplicates)
and against the database (what is stored, whose student it is). `validate` never
writes; `apply` writes the clean rows in bulk inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from django.db import connection
from django.utils.translation import gettext as _

from intake.base import ImportContext, ValidationResult
from intake.columns import (
    ID_ALIASES,
    NAME_ALIASES,
    Amount,
    BoundColumn,
    Choice,
    Column,
    CountyParser,
    DateParser,
    Grade,
    IdNumberParser,
    Name,
    SchoolCode,
    SchoolParser,
    StageParser,
    Text,
    YesNo,
    compact,
)
from intake.specs import DeclarativeSpec, FirstSeen, Row
from intake.writer import bulk_write, chunks
from tasks import audit, clock
from tasks.clock import today
from tasks.figures import SELF_REPORTED
from tasks.models import RosterSnapshot, RosterStudent, School, Unit
from tasks.scoping import Scope
from xc_fupin.lib.idnumber import (
    id_number_fast,
    mask_id_number,
    mask_name,
    parse_id_number,
)

from . import findings, selectors
from .lookups import (
    ItemParser,
    Items,
    SemesterParser,
    not_our_student_message,
    out_of_scope_message,
    scope_label,
)
from .models import Disbursement, Semester, SubsidyItem, SubsidyStandard

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


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


# --- 学校名单 -------------------------------------------------------------------------

# How the city writes the county of its own schools: the city itself, not one of its seven
# counties. Accepted only with 是否市直 = 是, so a county school still needs a real county.
CITY_COUNTY_WORDS = frozenset({"宣城市", "宣城", "市直", "宣城市直", "宣城市市直", "市直学校"})


class SchoolsSpec(DeclarativeSpec):
    key = "schools"
    title = "学校名单"
    permission = "tasks.add_unit"
    city_only = "学校名单"
    columns: ClassVar[Sequence[Column]] = [
        Column("学校标识码", ("学校代码", "学校识别码", "标识码"), parser=SchoolCode()),
        Column(
            "学校名称", ("学校", "学校全称", "单位名称"), parser=Text(200, blank="学校名称为空")
        ),
        # Read in `check_row`: whether it must name a county depends on 是否市直.
        Column(
            "所属县区",
            ("县区", "县市区", "所在县区", "所属县市区", "行政区划"),
            parser=Text(50),
        ),
        Column("学段", ("办学层次", "学校类别", "学段(可多选)"), parser=StageParser(multiple=True)),
        Column(
            "是否市直",
            ("市直", "市直学校"),
            required=False,
            parser=YesNo("是否市直", optional=True),
        ),
    ]
    example: ClassVar[dict[str, object]] = {
        "学校标识码": "3134001001",
        "学校名称": "宣州区实验小学",
        "所属县区": "宣州区",
        "学段": "小学",
        "是否市直": "否",
    }

    def prepare(self, ctx: ImportContext) -> BoundColumn:
        return Column("所属县区", parser=CountyParser()).bind(ctx)

    def check_row(self, row: Row, counties: BoundColumn) -> dict[str, Any] | None:
        city_run = bool(row["是否市直"])
        raw = row["所属县区"]
        key = compact(raw)
        county = None
        if city_run and (not key or key in CITY_COUNTY_WORDS):
            pass  # a city-run school belongs to no county
        elif not key:
            row.error("所属县区", _("所属县区为空（市直学校请在“是否市直”填“是”）"))
        elif key in CITY_COUNTY_WORDS:
            row.error(
                "所属县区",
                _(
                    "所属县区填“%(value)s”的只能是市直学校：市直学校请在“是否市直”填“是”，"
                    "县区学校请填所属县市区"
                )
                % {"value": key},
            )
        else:
            county, message = counties.clean(raw)
            if message:
                row.error("所属县区", message)
        if not row.ok:
            return None
        return {
            "学校标识码": row["学校标识码"],
            "学校名称": row["学校名称"],
            "county_id": county.pk if county else None,
            "所属县区": "市直" if city_run else (county.name if county else ""),
            "学段": row["学段"],
            "是否市直": city_run,
        }

    def check_rows(
        self, rows: list[tuple[int, dict[str, Any]]], result: ValidationResult, state: Any
    ) -> None:
        existing = {
            s.school_code: s
            for s in School.objects.filter(school_code__isnull=False).only(
                "pk", "school_code", "name", "county_id", "stages", "is_city_run"
            )
        }
        by_name = {compact(s.name): s for s in existing.values()}
        codes, names = FirstSeen(), FirstSeen()
        for number, clean in rows:
            code, name = clean["学校标识码"], clean["学校名称"]
            bad = False
            first = codes.check(code, number)
            if first is not None:
                result.error(number, "学校标识码", _("与第%(r)d行的学校标识码重复") % {"r": first})
                bad = True
            first = names.check(compact(name), number)
            if first is not None:
                result.error(number, "学校名称", _("与第%(r)d行的学校名称重复") % {"r": first})
                bad = True
            other = by_name.get(compact(name))
            if other is not None and other.school_code != code:
                result.error(
                    number,
                    "学校名称",
                    _(
                        "已有同名学校（学校标识码 %(code)s）：学校名称用于匹配名册和发放明细，不能重名"
                    )
                    % {"code": other.school_code},
                )
                bad = True
            if bad:
                continue
            current = existing.get(code)
            if current is not None and (
                current.name == name
                and current.county_id == clean["county_id"]
                and list(current.stages or []) == clean["学段"]
                and current.is_city_run == clean["是否市直"]
            ):
                result.skip(number, _("学校 %(name)s 已在名单中，无变化") % {"name": name})
                continue
            result.accept(number, clean)

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


class RosterSpec(DeclarativeSpec):
    key = "roster"
    # apply() says which counties and semesters it changed (selectors.follow_import).
    area = "subsidies" + SELF_REPORTED
    title = "建档立卡学生名册"
    permission = "tasks.add_rosterstudent"
    columns: ClassVar[Sequence[Column]] = [
        Column("身份证号", ID_ALIASES, parser=IdNumberParser(details=True)),
        Column("姓名", NAME_ALIASES, parser=Name()),
        Column(
            "户籍县区",
            ("户籍所在县区", "户籍地", "户籍所在地", "家庭所在县区", "户籍县市区"),
            required=False,
            optional=True,
            parser=CountyParser(),
        ),
        Column("就读学校", SCHOOL_ALIASES, parser=SchoolParser()),
        Column("学段", STAGE_ALIASES_H, parser=StageParser()),
        Column("年级", ("就读年级", "年级班级"), required=False, parser=Grade()),
        Column(
            "是否寄宿", ("寄宿", "是否寄宿生", "住宿情况", "是否住校"), parser=YesNo("是否寄宿")
        ),
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

    def prepare(self, ctx: ImportContext) -> tuple[Scope, str]:
        return ctx.scope, scope_label(ctx)

    def check_row(self, row: Row, state: tuple[Scope, str]) -> dict[str, Any] | None:
        scope, label = state
        school, stage = row["就读学校"], row["学段"]
        if school is not None and not scope.covers(county_id=school.county_id, unit_id=school.pk):
            row.error("就读学校", out_of_scope_message(label))
        if school is not None and stage and school.stages and stage not in school.stages:
            row.error(
                "学段",
                _("%(school)s 的学段为 %(stages)s，没有 %(stage)s")
                % {"school": school.name, "stages": "、".join(school.stages), "stage": stage},
            )
        if not row.ok:
            return None
        ident, household = row["身份证号"], row["户籍县区"]
        return {
            "id_number": ident.value,
            "name": row["姓名"],
            "gender": ident.gender,
            "birth_date": ident.birth_date,
            "household_county_id": household.pk if household else None,
            "household_county_name": household.name if household else "",
            "county_id": school.county_id,  # 市直: none, the city manages them
            "school_id": school.pk,
            "school_name": school.name,
            "stage": stage,
            "grade": row["年级"] or "",
            "boarding": row["是否寄宿"],
        }

    def check_rows(
        self,
        rows: list[tuple[int, dict[str, Any]]],
        result: ValidationResult,
        state: tuple[Scope, str],
    ) -> None:
        scope = state[0]
        seen = FirstSeen()
        parsed = []
        for number, clean in rows:
            first = seen.check(clean["id_number"], number)
            if first is not None:
                result.error(
                    number, "身份证号", _("与第%(r)d行是同一学生（身份证号重复）") % {"r": first}
                )
            else:
                parsed.append((number, clean))
        existing: dict[str, RosterStudent] = {}
        for chunk in chunks([clean["id_number"] for _n, clean in parsed]):
            for student in RosterStudent.objects.filter(id_number__in=chunk):
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
                mine = scope.covers(county_id=current.county_id, unit_id=current.school_id)
                if not mine and current.is_active:
                    # Only that: not where the child studies, nor under what name.
                    result.error(number, "身份证号", not_our_student_message())
                    continue
                if current.is_active and all(getattr(current, f) == clean[f] for f in fields):
                    result.skip(number, _("与名册一致，无变化"))
                    continue
                clean["pk"] = current.pk
            result.accept(number, clean)

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
        ids = [clean["id_number"] for clean in result.rows]
        semester_ids = list(Semester.objects.values_list("pk", flat=True))
        # Before the write: the counties the students were in (a move touches both).
        changed = selectors.parts_of(semester_ids, ids, {c["county_id"] for c in result.rows})
        # The rosters of the counties the students were in and are now in.
        moved = set(
            RosterStudent.objects.filter(pk__in=[c["pk"] for c in result.rows if c.get("pk")])
            .values_list("county_id", flat=True)
            .distinct()
        ) | {c["county_id"] for c in result.rows}
        changed |= {selectors.roster_part(c) for c in moved}
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
        # In this transaction: the stored findings of these students, and which cached
        # figures are stale (only their counties', warmed once this commits).
        findings.refresh()
        selectors.follow_import(changed | selectors.parts_of(semester_ids, ids, ()))
        return {_("新增学生"): len(created), _("更新学生"): len(updated)}

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        return [
            mask_id_number(clean["id_number"]),
            mask_name(clean["name"]),
            clean.get("household_county_name", ""),
            clean["school_name"],
            clean["stage"],
            clean["grade"],
            "是" if clean["boarding"] else "否",
        ]


# --- 资助标准 -------------------------------------------------------------------------


class StandardsSpec(DeclarativeSpec):
    key = "standards"
    title = "资助标准"
    permission = "subsidies.add_subsidystandard"
    city_only = "资助标准"
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

    columns: ClassVar[Sequence[Column]] = [
        # A new item name is allowed (the sheet creates it), so the item is text here.
        Column("资助项目", ITEM_ALIASES, parser=Text(200, blank="资助项目为空")),
        Column("学段", STAGE_ALIASES_H, parser=StageParser()),
        Column(
            "适用对象",
            ("资助对象", "对象"),
            parser=Choice(
                TARGETS,
                unknown="适用对象应为 寄宿生、非寄宿生 或 全体，实为：%(value)s",
                blank="适用对象应为 寄宿生、非寄宿生 或 全体，实为：空",
            ),
        ),
        Column("学期", SEMESTER_ALIASES, parser=SemesterParser(every=True)),
        Column(
            "档次",
            ("资助档次", "标准档次", "等级"),
            parser=Text(20, blank="档次为空（只有一档时填“一档”）"),
        ),
        Column(
            "金额(元)",
            ("金额", "标准(元)", "资助标准(元)", "资助标准", "每生每学期(元)"),
            parser=Amount(positive="金额应大于0"),
        ),
        Column("依据", ("文件依据", "来源", "说明", "备注"), required=False, parser=Text()),
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

    def dropdowns(self) -> dict[str, list[str]]:
        drops = super().dropdowns()
        drops["适用对象"] = [t.value for t in SubsidyStandard.Target]
        drops["资助项目"] = list(
            SubsidyItem.objects.filter(is_active=True).values_list("name", flat=True)
        )
        return drops

    def prepare(self, ctx: ImportContext) -> Items:
        return Items()

    def check_row(self, row: Row, items: Items) -> dict[str, Any] | None:
        if not row.ok:
            return None
        item_name: str = row["资助项目"]
        item = items.find(item_name)
        semester: Semester | None = row["学期"]
        return {
            "item_id": item.pk if item else None,
            "item_name": item.name if item else item_name,
            "item_key": compact(item_name),
            "stage": row["学段"],
            "target": row["适用对象"],
            "semester_id": semester.pk if semester else None,
            "semester_code": semester.code if semester else "每学期",
            "tier": row["档次"],
            "amount": row["金额(元)"],
            "source": row["依据"] or "",
        }

    def check_rows(
        self, rows: list[tuple[int, dict[str, Any]]], result: ValidationResult, state: Any
    ) -> None:
        stored = {
            (s.item_id, s.stage, s.target, s.semester_id, s.tier): s
            for s in SubsidyStandard.objects.all()
        }
        seen = FirstSeen()
        for number, clean in rows:
            key = (clean["stage"], clean["target"], clean["semester_id"], clean["tier"])
            first = seen.check((clean.pop("item_key"), *key), number)
            if first is not None:
                result.error(
                    number,
                    "档次",
                    _("与第%(r)d行重复（同一项目、学段、对象、学期、档次）") % {"r": first},
                )
                continue
            current = stored.get((clean["item_id"], *key)) if clean["item_id"] else None
            if current is not None:
                if current.amount == clean["amount"] and (
                    not clean["source"] or current.source == clean["source"]
                ):
                    result.skip(number, _("标准已存在，无变化"))
                    continue
                clean["pk"] = current.pk
            result.accept(number, clean)

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
    batches = [whole] if connection.vendor == "postgresql" else list(chunks(ids))
    with connection.cursor() as cursor:
        for chunk in batches:
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
                if scope.covers(county_id=county_id, unit_id=school_id):
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
                    if scope.covers(county_id=county_id, unit_id=school_id)
                    else None
                )
    return names, done


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


class _DisbursementState:
    """What the payment rules need, loaded once per file."""

    def __init__(self, ctx: ImportContext) -> None:
        self.scope = ctx.scope
        self.label = scope_label(ctx)
        self.caps: dict[tuple[int, int], dict[str, Decimal]] = {}
        for semester in Semester.objects.all():
            for s in SubsidyStandard.objects.select_related("item"):
                if s.applies_to(semester):
                    by_stage = self.caps.setdefault((s.item_id, semester.pk), {})
                    if s.amount > by_stage.get(s.stage, Decimal(0)):
                        by_stage[s.stage] = s.amount
        self.scope_ok: dict[int, bool] = {}
        self.cap_of: dict[tuple[int, int, int], tuple[Decimal | None, str]] = {}


class DisbursementsSpec(DeclarativeSpec):
    key = "disbursements"
    # apply() says which counties and semesters it changed (selectors.follow_import).
    area = "subsidies" + SELF_REPORTED
    title = "资助发放明细"
    permission = "subsidies.add_disbursement"
    columns: ClassVar[Sequence[Column]] = [
        Column("身份证号", ID_ALIASES, parser=IdNumberParser()),
        Column("姓名", NAME_ALIASES, parser=Name()),
        Column("就读学校", SCHOOL_ALIASES, parser=SchoolParser()),
        Column("资助项目", ITEM_ALIASES, parser=ItemParser()),
        Column("学期", SEMESTER_ALIASES, parser=SemesterParser()),
        Column(
            "金额(元)",
            AMOUNT_ALIASES,
            parser=Amount(positive="金额为0：未发放的学生不要列入发放明细"),
        ),
        Column(
            "发放日期",
            ("发放时间", "发放日期(年月日)", "支付日期", "到账日期"),
            parser=DateParser(not_after_today="发放日期 %(d)s 晚于今天"),
        ),
    ]
    example: ClassVar[dict[str, object]] = {
        "身份证号": "341802201001011237",
        "姓名": "张小明",
        "就读学校": "宣州区实验小学",
        "资助项目": "义务教育家庭经济困难学生生活补助",
        "学期": "2019春",
        "金额(元)": 500,
        "发放日期": "2019-06-10",
    }

    def dropdowns(self) -> dict[str, list[str]]:
        drops = super().dropdowns()
        drops["资助项目"] = list(
            SubsidyItem.objects.filter(is_active=True).values_list("name", flat=True)
        )
        return drops

    def prepare(self, ctx: ImportContext) -> _DisbursementState:
        return _DisbursementState(ctx)

    def check_row(self, row: Row, state: _DisbursementState) -> dict[str, Any] | None:
        values = row.values
        school, item, semester = values["就读学校"], values["资助项目"], values["学期"]
        amount, paid_on = values["金额(元)"], values["发放日期"]
        if school is not None:
            ok = state.scope_ok.get(school.pk)
            if ok is None:
                ok = state.scope_ok[school.pk] = state.scope.covers(
                    county_id=school.county_id, unit_id=school.pk
                )
            if not ok:
                row.error("就读学校", out_of_scope_message(state.label))
        if paid_on is not None and semester is not None and paid_on < semester.start:
            row.error(
                "发放日期",
                _("发放日期 %(d)s 早于 %(s)s 学期开始（%(start)s），请核对学期")
                % {
                    "d": paid_on.isoformat(),
                    "s": semester.code,
                    "start": semester.start.isoformat(),
                },
            )
        if item is not None and semester is not None and school is not None and amount:
            key = (item.id, semester.id, school.pk)
            cap = state.cap_of.get(key)
            if cap is None:
                cap = state.cap_of[key] = self._cap(item, semester, school, state.caps)
            top, message = cap
            if top is None:
                row.error("资助项目", message)
            elif amount > top:
                row.error(
                    "金额(元)",
                    _("金额 %(a)s 元 高于 %(item)s 在 %(school)s 学段的最高标准 %(top)s 元")
                    % {
                        "a": _money(amount),
                        "item": item.name,
                        "school": school.name,
                        "top": _money(top),
                    },
                )
        if row.failed:
            return None
        return values

    def check_rows(
        self,
        rows: list[tuple[int, dict[str, Any]]],
        result: ValidationResult,
        state: _DisbursementState,
    ) -> None:
        seen = FirstSeen()
        parsed = []
        for number, v in rows:
            ident, item, semester = v["身份证号"], v["资助项目"], v["学期"]
            first = seen.check((ident, item.id, semester.id), number)
            if first is not None:
                result.error(
                    number,
                    "身份证号",
                    _("与第%(r)d行重复：同一学生同一学期同一资助项目只能发放一次") % {"r": first},
                )
            else:
                parsed.append((number, v))
        ids = sorted({v["身份证号"] for _n, v in parsed})
        semester_ids = sorted({v["学期"].id for _n, v in parsed})
        roster_names, done = _known_payees(ids, semester_ids, state.scope)
        error = result.error
        for number, v in parsed:
            ident, name, school = v["身份证号"], v["姓名"], v["就读学校"]
            item, semester, amount = v["资助项目"], v["学期"], v["金额(元)"]
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
                    "paid_on": v["发放日期"],
                    "on_roster": roster_name is not None,
                },
            )

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
        rows = result.rows
        ctx.progress(_("写入"), 0, len(rows))
        written = bulk_write(
            Disbursement,
            [
                (
                    r["id_number"],
                    r["name"],
                    r["school_id"],
                    r["county_id"],
                    r["item_id"],
                    r["semester_id"],
                    r["amount"],
                    r["paid_on"],
                )
                for r in rows
            ],
            fields=[
                "id_number",
                "name",
                "school_id",
                "county_id",
                "item_id",
                "semester_id",
                "amount",
                "paid_on",
            ],
            conflict=["semester_id", "item_id", "id_number"],
            mode="ignore",
            constants={
                "upload_id": ctx.upload.pk if ctx.upload is not None else None,
                "created_at": clock.now(),
            },
        )
        # In this transaction: the stored findings of these students, and which cached
        # figures are stale (only the semesters and counties written, warmed once this
        # commits).
        findings.refresh()
        selectors.follow_import(
            selectors.parts_of(
                {r["semester_id"] for r in rows},
                [r["id_number"] for r in rows],
                {r["county_id"] for r in rows},
            )
        )
        ctx.progress(_("写入"), len(rows), len(rows))
        counts = {_("新增发放记录"): written.inserted}
        if written.inserted != len(rows):
            # A concurrent upload recorded the same payment after our validation.
            counts[_("并发重复未写入")] = len(rows) - written.inserted
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


SPECS: list[DeclarativeSpec] = [SchoolsSpec(), RosterSpec(), StandardsSpec(), DisbursementsSpec()]
