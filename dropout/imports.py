"""Spreadsheet imports of the student registry (学籍) and the household list (户籍).

Declarative (intake/specs.py): each column names its parser from intake's shared set; the
specs keep their own rules — scope, duplicates in the file, what is already stored.
A row identical to what is stored for its date is skipped, so a re-upload changes
nothing. `apply` upserts through intake's bulk writer (COPY on PostgreSQL), which writes
every row's historical row in the same transaction. After an import is applied, the
cross-check of each county touched is queued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from intake.base import ImportContext, ValidationResult
from intake.columns import (
    DATE_ALIASES,
    ID_ALIASES,
    NAME_ALIASES,
    BoundColumn,
    CellError,
    Coded,
    Column,
    CountyParser,
    DateParser,
    Grade,
    IdNumberParser,
    Month,
    Name,
    Parser,
    Phone,
    SchoolParser,
    StudentNumber,
    Text,
    YesNo,
    is_blank,
)
from intake.specs import DeclarativeSpec, FirstSeen, Row
from intake.writer import bulk_write, snapshot_ids
from tasks.clock import today
from tasks.models import County
from xc_fupin.lib.dates import DateParseError, parse_date
from xc_fupin.lib.idnumber import mask_id_number, mask_name
from xc_fupin.lib.sheets import Table

from .jobs import crosscheck_county
from .models import (
    STATUS_CODES,
    EnrolmentRecord,
    EnrolmentSnapshot,
    EnrolmentStatus,
    HouseholdChild,
)
from .stages import stage_of

#: 学籍状态 by label: the national list, the registry's 其他离校, the county marks, and
#: the words counties' own sheets use. Codes: `STATUS_CODES` (JY/T 1001).
STATUS_ALIASES: dict[str, str] = {
    **{str(s.label): s for s in EnrolmentStatus},
    **{s.value: s for s in EnrolmentStatus},
    "在校": EnrolmentStatus.ENROLLED,
    "在籍": EnrolmentStatus.ENROLLED,
    "正常": EnrolmentStatus.ENROLLED,
    "在籍在校": EnrolmentStatus.ENROLLED,
    "转出": EnrolmentStatus.TRANSFERRED,
    "出国": EnrolmentStatus.ABROAD,
}
#: 身份证件类型 (EXTERNAL_FORMATS §1b) by label, as its code.
ID_TYPES: dict[str, str] = {
    "居民身份证": "1",
    "身份证": "1",
    "户口簿": "2",
    "香港特区护照/身份证明": "6",
    "澳门特区护照/身份证明": "7",
    "台湾居民来往大陆通行证": "8",
    "境外永久居住证": "9",
    "护照": "A",
    "其他": "Z",
}
ID_TYPE_CODES = {
    "1": "居民身份证",
    "2": "户口簿",
    "6": "香港特区护照/身份证明",
    "7": "澳门特区护照/身份证明",
    "8": "台湾居民来往大陆通行证",
    "9": "境外永久居住证",
    "A": "护照",
    "Z": "其他",
}
#: Types whose number is the resident ID (a 户口簿 lists the holder's ID number).
RESIDENT_ID_TYPES = frozenset({"1", "2"})
#: 就读方式 (1 走读, 2 住校): the registry's boarding column.
ATTENDANCE = {"走读": False, "住校": True, "寄宿": True, "非寄宿": False}
#: 是否留守儿童 (0 非留守儿童, 1 单亲留守儿童, 2 双亲留守儿童), and 是/否.
LEFT_BEHIND = {
    "非留守儿童": False,
    "单亲留守儿童": True,
    "双亲留守儿童": True,
    "留守儿童": True,
    "是": True,
    "否": False,
}
GENDERS = {"男": "男", "女": "女", "男性": "男", "女性": "女"}
#: 残疾人类型 values that mean "none".
NO_DISABILITY = frozenset({"", "无", "无残疾", "非残疾", "否", "0", "正常", "健康"})
FUTURE_DATE = "统计日期晚于今天：%(d)s"
#: From this many rows PostgreSQL gets COPY; below it bulk_create is as fast and simpler.
COPY_THRESHOLD = 5000


def _queue_crosscheck(pairs: Iterable[tuple[int, dt.date]]) -> None:
    latest: dict[int, dt.date] = {}
    for county_id, day in pairs:
        latest[county_id] = max(day, latest.get(county_id, day))
    for county_id, day in sorted(latest.items()):
        crosscheck_county.delay_on_commit(county_id, day.isoformat(), "import")  # type: ignore[attr-defined]


def _upload_id(ctx: ImportContext) -> int | None:
    return ctx.upload.pk if ctx.upload is not None else None


def _counts(inserted: int, updated: int, result: ValidationResult) -> dict[str, int]:
    return {_("新增"): inserted, _("更新"): updated, _("跳过（未变化）"): len(result.skipped)}


class _Document(Parser):
    """The 身份证件号 cell as it came: whether it is an ID depends on the row's
    身份证件类型, so `EnrolmentImport.check_row` reads it (with IdNumberParser)."""

    cached = False  # one per row

    def parse(self, raw: object) -> object:
        return raw


_SHORT = "enrolment_short_sheet"


def _status_parser() -> Coded:
    parser = Coded(
        STATUS_ALIASES,
        {code: str(status.label) for code, status in STATUS_CODES.items()},
        unknown="无法识别的学籍状态“%(value)s”（可填：%(allowed)s）",
        blank="学籍状态为空",
    )
    # The refusal lists the national labels, not every word counties use for them.
    parser.labels = [str(s.label) for s in EnrolmentStatus]
    return parser


#: Columns compared with what is stored (a row equal to it is skipped) and upserted.
RECORD_FIELDS = (
    "name",
    "grade",
    "status",
    "student_number",
    "aux_number",
    "gender",
    "birth_date",
    "stage",
    "class_name",
    "entry_month",
    "boarding",
    "left_behind",
    "disability",
)


@dataclass
class _State:
    scope: Any
    id_number: BoundColumn
    as_of: dt.date | None
    #: The short sheet (neither 全国学籍号 nor 身份证件类型): a blank ID is an error there.
    short_sheet: bool
    stages: dict[tuple[str, int], str]


class EnrolmentImport(DeclarativeSpec):
    """学籍: the national registry's export (全国中小学生学籍信息管理系统) as it comes, or
    the short sheet (身份证号, 姓名, 学校, 年级, 学籍状态, 统计日期) counties fill by hand.

    The school is found by 学校标识码 when the file has one (the registry's 学校名称 may
    differ from the school list's name), else by name. The ID is 身份证件号, or — when
    that is blank or of another document type — the ID inside a G 全国学籍号; a child with
    neither (an L or J number) is skipped with the reason: the cross-check and the aid
    roster match on ID numbers. The date is the file's 统计日期, else
    `ctx.options["as_of"]` (the upload page's date field, `import_sheet --as-of`).
    """

    key = "enrolment"
    title = "学籍"
    permission = "dropout.add_enrolmentrecord"
    columns: ClassVar[Sequence[Column]] = [
        Column(
            "学校标识码",
            ("学校代码", "学校识别码"),
            required=False,
            optional=True,
            parser=SchoolParser(code_only=True),
        ),
        Column(
            "学校",
            ("学校名称", "就读学校", "所在学校"),
            required=False,
            optional=True,
            parser=SchoolParser(),
        ),
        Column("姓名", NAME_ALIASES, parser=Name(spaces=True)),
        Column(
            "性别",
            ("学生性别",),
            required=False,
            optional=True,
            parser=Coded(
                GENDERS,
                {"1": "男", "2": "女"},
                unknown="无法识别的性别“%(value)s”（可填：%(allowed)s）",
            ),
        ),
        Column("出生日期", ("出生年月日",), required=False, optional=True, parser=DateParser()),
        Column(
            "身份证件类型",
            ("证件类型", "身份证件类型码"),
            required=False,
            optional=True,
            parser=Coded(
                ID_TYPES,
                ID_TYPE_CODES,
                unknown="无法识别的身份证件类型“%(value)s”（可填：%(allowed)s）",
            ),
        ),
        Column("身份证号", ID_ALIASES, optional=True, parser=_Document()),
        Column(
            "全国学籍号",
            ("学籍号", "个人标识码", "个人标识码(学籍号)", "学籍号(个人标识码)", "全国学籍号码"),
            required=False,
            optional=True,
            parser=StudentNumber(details=True),
        ),
        Column("学籍辅号", (), required=False, optional=True, parser=Text(30)),
        Column("年级", ("所在年级", "年级名称", "就读年级"), required=False, parser=Grade()),
        Column("班级", ("班级名称", "所在班级"), required=False, optional=True, parser=Text(20)),
        Column("入学年月", ("入学时间", "入学日期"), required=False, optional=True, parser=Month()),
        Column(
            "就读方式",
            (),
            required=False,
            optional=True,
            parser=Coded(
                ATTENDANCE,
                {"1": "走读", "2": "住校"},
                unknown="无法识别的就读方式“%(value)s”（可填：%(allowed)s）",
            ),
        ),
        Column(
            "是否住校",
            ("是否寄宿", "是否寄宿生", "寄宿生"),
            required=False,
            optional=True,
            parser=YesNo("是否住校", optional=True),
        ),
        Column(
            "是否留守儿童",
            ("留守儿童",),
            required=False,
            optional=True,
            parser=Coded(
                LEFT_BEHIND,
                {"0": "非留守儿童", "1": "单亲留守儿童", "2": "双亲留守儿童"},
                unknown="无法识别的是否留守儿童“%(value)s”（可填：%(allowed)s）",
            ),
        ),
        Column(
            "残疾人类型",
            ("残疾类型", "残疾类别"),
            required=False,
            optional=True,
            parser=Text(20),
        ),
        Column(
            "学籍状态",
            ("状态", "学生状态", "在校状态", "学生当前状态"),
            parser=_status_parser(),
        ),
        Column(
            "统计日期",
            DATE_ALIASES,
            required=False,
            optional=True,
            parser=DateParser(not_after_today=FUTURE_DATE),
        ),
    ]
    example: ClassVar[dict[str, object]] = {
        "学校标识码": "2134001001",
        "学校": "宣州区实验小学",
        "姓名": "张三",
        "性别": "男",
        "出生日期": "20120901",
        "身份证件类型": "居民身份证",
        "身份证号": "341802201209011234",
        "全国学籍号": "G341802201209011234",
        "学籍辅号": "",
        "年级": "一年级",
        "班级": "1班",
        "入学年月": "201809",
        "就读方式": "走读",
        "是否住校": "",
        "是否留守儿童": "非留守儿童",
        "残疾人类型": "无残疾",
        "学籍状态": "在读",
        "统计日期": "2019-09-30",
    }

    def dropdowns(self) -> dict[str, list[str]]:
        return {
            "性别": ["男", "女"],
            "身份证件类型": list(ID_TYPE_CODES.values()),
            "就读方式": ["走读", "住校"],
            "是否住校": ["是", "否"],
            "是否留守儿童": ["非留守儿童", "单亲留守儿童", "双亲留守儿童"],
            "学籍状态": [str(s.label) for s in EnrolmentStatus],
        }

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        """One value per column, in order; the child's name, ID, 学籍号 and birth date masked."""
        boarding = clean["boarding"]
        left_behind = clean["left_behind"]
        entry = clean["entry_month"]
        return [
            clean["school_code"],
            clean["school_name"],
            mask_name(clean["name"]),
            clean["gender"],
            "****" if clean["birth_date"] else "",
            ID_TYPE_CODES.get(clean["id_type"] or "", ""),
            mask_id_number(clean["id_number"]),
            mask_id_number(clean["student_number"]) if clean["student_number"] else "",
            clean["aux_number"],
            clean["grade"],
            clean["class_name"],
            f"{entry:%Y%m}" if entry else "",
            "" if boarding is None else ("住校" if boarding else "走读"),
            "" if boarding is None else ("是" if boarding else "否"),
            "" if left_behind is None else ("是" if left_behind else "否"),
            clean["disability"],
            str(EnrolmentStatus(clean["status"]).label),
            f"{clean['as_of']:%Y-%m-%d}",
        ]

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        """The file-wide checks (a school column, a date), then the rows. With a
        学校标识码 column the 学校名称 is not read: the code names the school."""
        problem = ""
        if "学校标识码" not in table.columns and "学校" not in table.columns:
            problem = _("缺少学校列：应有“学校标识码”或“学校名称”")
        elif "统计日期" not in table.columns and ctx.options.get("as_of") is None:
            problem = _(
                "文件中没有统计日期列：请在上传页填写统计日期"
                "（命令行导入加 --as-of YYYY-MM-DD），或在表中加“统计日期”列"
            )
        else:
            try:
                _as_of_option(ctx)
            except CellError as error:
                problem = str(error)
        if problem:
            result = ValidationResult(total=len(table.rows))
            result.error(table.header_row, "", problem)
            return result
        if "学校标识码" in table.columns and "学校" in table.columns:
            table = replace(table, columns={k: v for k, v in table.columns.items() if k != "学校"})
        short = "全国学籍号" not in table.columns and "身份证件类型" not in table.columns
        return super().validate(table, replace(ctx, options={**ctx.options, _SHORT: short}))

    def prepare(self, ctx: ImportContext) -> Any:
        return _State(
            scope=ctx.scope,
            id_number=Column("身份证号", parser=IdNumberParser()).bind(ctx),
            as_of=_as_of_option(ctx),
            short_sheet=bool(ctx.options.get(_SHORT)),
            stages={},
        )

    def check_row(self, row: Row, state: Any) -> dict[str, Any] | None:
        school = row["学校标识码"] or row["学校"]
        if school is None and not row.failed & {"学校标识码", "学校"}:
            row.error("学校", _("学校标识码和学校名称都为空"))
        elif school is not None and not state.scope.covers(
            county_id=school.county_id, unit_id=school.pk
        ):
            # Says only that: the row may be another county's child.
            column = "学校标识码" if row["学校标识码"] else "学校"
            row.error(column, _("该校不属于本单位管辖范围，不能导入其学籍"))
        id_type = row["身份证件类型"]
        number = row["全国学籍号"]
        raw = row["身份证号"]
        id_number = None
        if not is_blank(raw) and (id_type is None or id_type in RESIDENT_ID_TYPES):
            id_number, message = state.id_number.clean(raw)
            if message:
                row.error("身份证号", message)
        as_of = row["统计日期"] or state.as_of
        if as_of is None and "统计日期" not in row.failed:
            row.error("统计日期", _("统计日期为空"))
        if not row.ok:
            return None
        if id_number is None and number is not None and number.id_number:
            id_number = number.id_number
        if id_number is None:
            if state.short_sheet:
                row.error("身份证号", _("身份证号为空"))
                return None
            # A child without a resident ID (an L/J number, or another document and
            # no G number) cannot be matched: listed as skipped, not an error.
            kind = (
                _("%(letter)s字头临时学籍号") % {"letter": number.number[0]}
                if number
                else _("无学籍号")
            )
            return {"skip": _("无居民身份证号（%(kind)s），不参与比对，跳过") % {"kind": kind}}
        key = (row["年级"] or "", school.pk)
        stage = state.stages.get(key)
        if stage is None:
            stage = state.stages[key] = stage_of(
                key[0], school_code=school.code, school_stages=school.stages
            )
        attendance = row["就读方式"]
        disability = row["残疾人类型"] or ""
        return {
            "id_number": id_number,
            "id_type": id_type,
            "name": row["姓名"],
            "school_id": school.pk,
            "school_code": school.code,
            "school_name": school.name,
            "county_id": school.county_id,
            "grade": row["年级"] or "",
            "status": str(row["学籍状态"]),
            "as_of": as_of,
            "student_number": number.number if number is not None else "",
            "aux_number": row["学籍辅号"] or "",
            "gender": row["性别"] or "",
            "birth_date": row["出生日期"],
            "stage": stage,
            "class_name": row["班级"] or "",
            "entry_month": row["入学年月"],
            "boarding": attendance if attendance is not None else row["是否住校"],
            "left_behind": row["是否留守儿童"],
            "disability": "" if disability in NO_DISABILITY else disability,
        }

    def check_rows(
        self, rows: list[tuple[int, dict[str, Any]]], result: ValidationResult, state: Any
    ) -> None:
        seen = FirstSeen()
        candidates = []
        for number, clean in rows:
            if "skip" in clean:
                result.skip(number, clean["skip"])
                continue
            first = seen.check((clean["id_number"], clean["school_id"], clean["as_of"]), number)
            if first is not None:
                result.error(
                    number,
                    "身份证号",
                    _("与第%(row)d行重复（同一学生、同一学校、同一统计日期）") % {"row": first},
                )
            else:
                candidates.append((number, clean))
        # What is already stored for these schools and dates: one query for the file.
        stored: dict[tuple[str, int, dt.date], tuple[Any, ...]] = {}
        if candidates:
            school_ids = sorted({c["school_id"] for _n, c in candidates})
            dates = sorted({c["as_of"] for _n, c in candidates})
            for id_number, school_id, as_of, *rest in (
                EnrolmentRecord.objects.filter(school_id__in=school_ids, as_of__in=dates)
                .values_list("id_number", "school_id", "as_of", *RECORD_FIELDS)
                .iterator(chunk_size=5000)
            ):
                stored[(id_number, school_id, as_of)] = tuple(rest)
        for number, clean in candidates:
            before = stored.get((clean["id_number"], clean["school_id"], clean["as_of"]))
            if before == tuple(clean[f] for f in RECORD_FIELDS):
                result.skip(number, _("与已导入的记录相同，跳过"))
                continue
            result.accept(number, clean)

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        rows = result.rows
        snapshots = snapshot_ids(EnrolmentSnapshot, rows)
        ctx.progress(_("写入"), 0, len(rows))
        written = bulk_write(
            EnrolmentRecord,
            [
                (
                    snapshots[(r["county_id"], r["as_of"])],
                    r["id_number"],
                    r["school_id"],
                    r["county_id"],
                    r["as_of"],
                    *(r[f] for f in RECORD_FIELDS),
                )
                for r in rows
            ],
            fields=["snapshot_id", "id_number", "school_id", "county_id", "as_of", *RECORD_FIELDS],
            conflict=["snapshot_id", "id_number", "school_id"],
            mode="upsert",
            update=RECORD_FIELDS,
            constants={"upload_id": _upload_id(ctx)},
            copy_from=COPY_THRESHOLD,
        )
        ctx.progress(_("写入"), len(rows), len(rows))
        if ctx.options.get("crosscheck", True):
            _queue_crosscheck((c, d) for c, d in snapshots if c is not None)
        return _counts(written.inserted, written.updated, result)


def _as_of_option(ctx: ImportContext) -> dt.date | None:
    """The date the upload page or `--as-of` gave, for a file without 统计日期."""
    value = ctx.options.get("as_of")
    if value is None or value == "":
        return None
    try:
        day = value if isinstance(value, dt.date) else parse_date(value)
    except DateParseError as error:
        raise CellError(_("统计日期有误：%(e)s") % {"e": error}) from None
    if isinstance(day, dt.datetime):
        day = day.date()
    if day > today():
        raise CellError(FUTURE_DATE % {"d": day.isoformat()})
    return day


class HouseholdImport(DeclarativeSpec):
    key = "household"
    title = "户籍"
    permission = "dropout.add_householdchild"
    columns: ClassVar[Sequence[Column]] = [
        Column("身份证号", ID_ALIASES, parser=IdNumberParser(details=True)),
        Column("姓名", NAME_ALIASES, parser=Name(spaces=True)),
        Column(
            "县区",
            ("县市区", "户籍县区", "所属县区", "区县", "户籍所在县区"),
            parser=CountyParser(),
        ),
        Column("乡镇", ("乡镇（街道）", "乡镇街道", "街道", "户籍乡镇"), parser=Text(50)),
        Column(
            "村", ("村（社区）", "村居", "社区", "行政村", "村社区", "村（居）"), parser=Text(50)
        ),
        Column("监护人", ("监护人姓名", "家长姓名", "家长"), required=False, parser=Text(50)),
        Column(
            "联系电话",
            ("监护人电话", "联系方式", "手机号码", "家长电话"),
            required=False,
            parser=Phone(),
        ),
        Column(
            "统计日期",
            DATE_ALIASES,
            required=False,
            optional=True,
            parser=DateParser(not_after_today=FUTURE_DATE),
        ),
    ]
    example: ClassVar[dict[str, object]] = {
        "身份证号": "341802201209011234",
        "姓名": "张三",
        "县区": "宣州区",
        "乡镇": "水阳镇",
        "村": "金宝圩村",
        "监护人": "张大山",
        "联系电话": "13800000000",
        "统计日期": "2019-09-30",
    }

    def dropdowns(self) -> dict[str, list[str]]:
        return {"县区": [c.current_name() for c in County.objects.prefetch_related("codes")]}

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        return [
            mask_id_number(clean["id_number"]),
            mask_name(clean["name"]),
            clean["county_name"],
            clean["township"],
            clean["village"],
            mask_name(clean["guardian"]),
            mask_id_number(clean["phone"]) if clean["phone"] else "",
            f"{clean['as_of']:%Y-%m-%d}",
        ]

    def prepare(self, ctx: ImportContext) -> Any:
        return ctx

    def check_row(self, row: Row, ctx: Any) -> dict[str, Any] | None:
        county = row["县区"]
        if county is not None and not ctx.scope.covers(county_id=county.pk):
            row.error("县区", _("该县区不属于本单位管辖范围，不能导入其户籍名单"))
        if not row.ok:
            return None
        ident = row["身份证号"]
        return {
            "id_number": ident.value,
            "name": row["姓名"],
            "birth_date": ident.birth_date,
            "county_id": county.pk,
            "county_name": county.name,
            "township": row["乡镇"] or "",
            "village": row["村"] or "",
            "guardian": row["监护人"] or "",
            "phone": row["联系电话"] or "",
            "as_of": row["统计日期"] or ctx.options.get("as_of") or today(),
        }

    def check_rows(
        self, rows: list[tuple[int, dict[str, Any]]], result: ValidationResult, state: Any
    ) -> None:
        seen = FirstSeen()
        candidates = []
        for number, clean in rows:
            first = seen.check((clean["id_number"], clean["as_of"]), number)
            if first is not None:
                result.error(
                    number, "身份证号", _("与第%(row)d行重复（同一身份证号）") % {"row": first}
                )
            else:
                candidates.append((number, clean))
        stored: dict[tuple[str, dt.date], tuple[Any, ...]] = {}
        if candidates:
            county_ids = sorted({c["county_id"] for _n, c in candidates})
            dates = sorted({c["as_of"] for _n, c in candidates})
            for id_number, as_of, *rest in (
                HouseholdChild.objects.filter(county_id__in=county_ids, as_of__in=dates)
                .values_list(
                    "id_number",
                    "as_of",
                    "name",
                    "county_id",
                    "township",
                    "village",
                    "guardian",
                    "phone",
                )
                .iterator(chunk_size=5000)
            ):
                stored[(id_number, as_of)] = tuple(rest)
        for number, clean in candidates:
            now = tuple(
                clean[k] for k in ("name", "county_id", "township", "village", "guardian", "phone")
            )
            if stored.get((clean["id_number"], clean["as_of"])) == now:
                result.skip(number, _("与已导入的记录相同，跳过"))
                continue
            result.accept(number, clean)

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        rows = result.rows
        fields = ["name", "birth_date", "county_id", "township", "village", "guardian", "phone"]
        ctx.progress(_("写入"), 0, len(rows))
        written = bulk_write(
            HouseholdChild,
            [(r["id_number"], r["as_of"], *(r[f] for f in fields)) for r in rows],
            fields=["id_number", "as_of", *fields],
            conflict=["id_number", "as_of"],
            mode="upsert",
            update=fields,
            constants={"upload_id": _upload_id(ctx)},
            copy_from=COPY_THRESHOLD,
        )
        ctx.progress(_("写入"), len(rows), len(rows))
        if ctx.options.get("crosscheck", True):
            _queue_crosscheck({(r["county_id"], r["as_of"]) for r in rows})
        return _counts(written.inserted, written.updated, result)


ENROLMENT = EnrolmentImport()
HOUSEHOLD = HouseholdImport()
