"""The poverty office's member export (全国扶贫开发信息系统, 贫困人口/家庭成员) as counties
download it: a title row, then the system's own headers (EXTERNAL_FORMATS §2).

Declarative (intake/specs.py): every column names a shared parser; this spec keeps the
date of the data (the export has no date column, so it comes from `--as-of` or the
page's date field, `ctx.options["as_of"]`), the scope (a county imports its own
county only), duplicates within the file and what is already stored for that county
and date. A row identical to what is stored is skipped, so a re-upload changes nothing;
`apply` upserts through intake's bulk writer, with the historical rows set-based.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from intake.base import ImportContext, ValidationResult
from intake.columns import (
    DATE_ALIASES,
    Choice,
    CodeText,
    Column,
    CountyParser,
    DateParser,
    IdNumberParser,
    Integer,
    Name,
    Text,
    compact,
)
from intake.specs import DeclarativeSpec, FirstSeen, Row
from intake.writer import bulk_write, snapshot_ids
from tasks.clock import today
from xc_fupin.lib.dates import DateParseError, parse_date
from xc_fupin.lib.idnumber import mask_id_number, mask_name
from xc_fupin.lib.sheets import Table

from .models import PovertyMember, PovertySnapshot, PovertyStatus, SchoolStatus

S = SchoolStatus
#: 在校生状况 as the 2016–2019 system exports it (labels and codes AB01_AAB009 01–16) and
#: as the later 防返贫 system does (学龄前儿童, 普通高中一年级 …, 本科).
SCHOOL_STATUS_ALIASES: dict[str, str] = {
    **{s.value: s.value for s in SchoolStatus},
    "01": S.NOT_IN_SCHOOL,
    "02": S.PRESCHOOL,
    "03": S.PRIMARY,
    "04": S.GRADE_7,
    "05": S.GRADE_8,
    "06": S.GRADE_9,
    "07": S.SENIOR_1,
    "08": S.SENIOR_2,
    "09": S.SENIOR_3,
    "10": S.VOCATIONAL_1,
    "11": S.VOCATIONAL_2,
    "12": S.VOCATIONAL_3,
    "13": S.HIGHER_VOCATIONAL_1,
    "14": S.HIGHER_VOCATIONAL_2,
    "15": S.HIGHER_VOCATIONAL_3,
    "16": S.COLLEGE,
    "普通高中一年级": S.SENIOR_1,
    "普通高中二年级": S.SENIOR_2,
    "普通高中三年级": S.SENIOR_3,
    "初一": S.GRADE_7,
    "初二": S.GRADE_8,
    "初三": S.GRADE_9,
    "七年级（初一）": S.GRADE_7,
    "八年级（初二）": S.GRADE_8,
    "九年级（初三）": S.GRADE_9,
    "幼儿园": S.PRESCHOOL,
    "大专": S.COLLEGE,
    "专科": S.COLLEGE,
    "本科及以上": S.UNDERGRADUATE,
    "研究生": S.POSTGRADUATE,
    "硕士研究生": S.POSTGRADUATE,
    "博士研究生": S.POSTGRADUATE,
}

P = PovertyStatus
#: 脱贫属性: the parser folds full-width parentheses, so "已脱贫(享受政策)" reads the same;
#: the UI's abbreviations too.
POVERTY_STATUS_ALIASES: dict[str, str] = {
    **{s.value: s.value for s in PovertyStatus},
    "已脱贫享受政策": P.LIFTED_WITH_POLICY,
    "已脱贫不再享受政策": P.LIFTED_NO_POLICY,
    "已脱贫不享受政策": P.LIFTED_NO_POLICY,
    "脱贫享受政策": P.LIFTED_WITH_POLICY,
    "脱贫不享受政策": P.LIFTED_NO_POLICY,
}

OUT_OF_SCOPE = "该县区不属于本单位管辖范围，不能导入其建档立卡数据"
FUTURE_DATE = "数据日期晚于今天：%(d)s"
COPY_THRESHOLD = 5000

#: Model fields in the order the writer loads them (after snapshot, county and as_of).
FIELDS = (
    "township",
    "village",
    "natural_village",
    "household_number",
    "person_number",
    "name",
    "id_number",
    "card_suffix",
    "household_size",
    "relation",
    "ethnicity",
    "education",
    "school_status",
    "health",
    "labour_skill",
    "migrant_months",
    "poverty_status",
    "household_type",
    "poverty_cause",
)


class CardNumber(IdNumberParser):
    """证件号码: the ID, and the 2 or 4 extra digits of a 残疾人证 number (its first 18
    characters are the ID; EXTERNAL_FORMATS §0)."""

    def __init__(self) -> None:
        super().__init__(card=True)

    def bind(self, ctx: Any) -> Any:
        parse_id = super().bind(ctx)

        def parse(raw: object) -> tuple[str, str]:
            text = compact(raw) if isinstance(raw, str) else ""
            suffix = text[18:] if len(text) in (20, 22) and text[18:].isdigit() else ""
            return parse_id(raw), suffix

        return parse


def _as_of(value: object) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return parse_date(value)


class PovertyImport(DeclarativeSpec):
    key = "poverty"
    title = "扶贫建档立卡人口"
    permission = "poverty.add_povertymember"
    columns: ClassVar[Sequence[Column]] = [
        Column(
            "县(市、区、旗)",
            ("县", "县市区", "县区", "县（市、区）", "旗区", "区县"),
            parser=CountyParser(),
        ),
        Column("乡(镇)", ("乡", "乡镇", "苏木乡", "乡镇（街道）"), parser=Text(50)),
        Column("行政村", ("村", "嘎查村", "村（社区）"), parser=Text(50)),
        Column("自然村", ("村民组", "组"), required=False, parser=Text(50)),
        Column(
            "户编号",
            ("家庭编号", "户号"),
            parser=CodeText("户编号"),
        ),
        Column("人编号", ("人口编号", "个人编号"), required=False, parser=CodeText("人编号")),
        Column("姓名", ("成员姓名", "人员姓名"), parser=Name(spaces=True)),
        Column("证件号码", ("身份证号", "身份证号码", "证件号"), parser=CardNumber()),
        Column(
            "人数",
            ("家庭人数", "家庭人口数", "户人数"),
            required=False,
            optional=True,
            parser=Integer("人数", low=1, high=99),
        ),
        Column("与户主关系", ("与户主的关系",), required=False, parser=Text(20)),
        Column("民族", (), required=False, parser=Text(20)),
        Column("文化程度", (), required=False, parser=Text(30)),
        Column(
            "在校生状况",
            ("在校生情况", "在校情况"),
            parser=Choice(
                SCHOOL_STATUS_ALIASES,
                unknown="无法识别的在校生状况“%(value)s”（可填：%(allowed)s）",
                blank="在校生状况为空（不在校的填“非在校生”）",
            ),
        ),
        Column("健康状况", (), required=False, parser=Text(20)),
        Column("劳动技能", (), required=False, parser=Text(20)),
        Column(
            "务工时间（月）",
            ("务工时间", "务工月数", "外出务工时间"),
            required=False,
            optional=True,
            parser=Integer("务工时间（月）", low=0, high=12),
        ),
        Column(
            "脱贫属性",
            ("脱贫状态", "脱贫标志"),
            parser=Choice(
                POVERTY_STATUS_ALIASES,
                unknown="无法识别的脱贫属性“%(value)s”（可填：%(allowed)s）",
                blank="脱贫属性为空",
            ),
        ),
        Column("贫困户属性", (), required=False, parser=Text(20)),
        Column("主要致贫原因", ("致贫原因", "致贫原因1"), required=False, parser=Text(30)),
        # Later exports put 数据日期 in front; the 2016–2019 export has no date at all.
        Column(
            "数据日期",
            tuple(a for a in DATE_ALIASES if a != "数据日期"),
            required=False,
            optional=True,
            parser=DateParser(not_after_today=FUTURE_DATE),
        ),
    ]
    example: ClassVar[dict[str, object]] = {
        "县(市、区、旗)": "宣州区",
        "乡(镇)": "水阳镇",
        "行政村": "金宝圩村",
        "自然村": "王村",
        "户编号": "341802101001001",
        "人编号": "34180210100100102",
        "姓名": "张三",
        "证件号码": "341802201209011234",
        "人数": 4,
        "与户主关系": "之子",
        "民族": "汉族",
        "文化程度": "小学",
        "在校生状况": "小学",
        "健康状况": "健康",
        "劳动技能": "无劳动力",
        "务工时间（月）": 0,
        "脱贫属性": "已脱贫（享受政策）",
        "贫困户属性": "一般贫困户",
        "主要致贫原因": "因学",
    }

    def dropdowns(self) -> dict[str, list[str]]:
        return {
            "在校生状况": [str(s) for s in SchoolStatus.values],
            "脱贫属性": [str(s) for s in PovertyStatus.values],
        }

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        return [
            clean["county_name"],
            clean["township"],
            clean["village"],
            clean["household_number"],
            mask_name(clean["name"]),
            mask_id_number(clean["id_number"]),
            clean["relation"],
            clean["school_status"],
            clean["poverty_status"],
            f"{clean['as_of']:%Y-%m-%d}",
        ]

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        try:
            as_of = _as_of(ctx.options.get("as_of"))
        except DateParseError:
            as_of = None
            message = _("数据日期无法识别：%(v)s") % {"v": ctx.options.get("as_of")}
        else:
            message = ""
        if as_of is not None and as_of > today():
            message = FUTURE_DATE % {"d": as_of.isoformat()}
        if not message and as_of is None and "数据日期" not in table.columns:
            message = _(
                "扶贫系统导出的表没有数据日期：请在上传页填写“统计日期”"
                "（命令行加 --as-of YYYY-MM-DD）"
            )
        if message:
            result = ValidationResult(total=len(table.rows))
            result.error(table.header_row, "数据日期", message)
            return result
        return super().validate(table, ctx)

    def prepare(self, ctx: ImportContext) -> Any:
        return ctx.scope, _as_of(ctx.options.get("as_of"))

    def check_row(self, row: Row, state: Any) -> dict[str, Any] | None:
        scope, as_of = state
        county = row["县(市、区、旗)"]
        if county is not None and not scope.covers(county_id=county.pk):
            # Says only that: the row is another county's family.
            row.error("县(市、区、旗)", _(OUT_OF_SCOPE))
        if not row.ok:
            return None
        ident, suffix = row["证件号码"]
        return {
            "county_id": county.pk,
            "county_name": county.name,
            "as_of": row["数据日期"] or as_of,
            "township": row["乡(镇)"] or "",
            "village": row["行政村"] or "",
            "natural_village": row["自然村"] or "",
            "household_number": row["户编号"],
            "person_number": row["人编号"] or "",
            "name": row["姓名"],
            "id_number": ident,
            "card_suffix": suffix,
            "household_size": row["人数"],
            "relation": row["与户主关系"] or "",
            "ethnicity": row["民族"] or "",
            "education": row["文化程度"] or "",
            "school_status": str(row["在校生状况"]),
            "health": row["健康状况"] or "",
            "labour_skill": row["劳动技能"] or "",
            "migrant_months": row["务工时间（月）"],
            "poverty_status": str(row["脱贫属性"]),
            "household_type": row["贫困户属性"] or "",
            "poverty_cause": row["主要致贫原因"] or "",
        }

    def check_rows(
        self, rows: list[tuple[int, dict[str, Any]]], result: ValidationResult, state: Any
    ) -> None:
        seen = FirstSeen()
        candidates = []
        for number, clean in rows:
            first = seen.check((clean["county_id"], clean["as_of"], clean["id_number"]), number)
            if first is not None:
                result.error(
                    number, "证件号码", _("与第%(row)d行是同一人（证件号码重复）") % {"row": first}
                )
            else:
                candidates.append((number, clean))
        # What is stored for these counties and dates: one query for the file.
        stored: dict[tuple[int, dt.date, str], tuple[Any, ...]] = {}
        pairs = {(c["county_id"], c["as_of"]) for _n, c in candidates}
        for county_id, as_of in sorted(pairs):
            for values in (
                PovertyMember.objects.filter(county_id=county_id, as_of=as_of)
                .values_list("id_number", *FIELDS)
                .iterator(chunk_size=5000)
            ):
                stored[(county_id, as_of, values[0])] = values[1:]
        for number, clean in candidates:
            before = stored.get((clean["county_id"], clean["as_of"], clean["id_number"]))
            if before == tuple(clean[f] for f in FIELDS):
                result.skip(number, _("与已导入的记录相同，跳过"))
                continue
            result.accept(number, clean)

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        rows = result.rows
        snapshots = snapshot_ids(PovertySnapshot, rows)
        ctx.progress(_("写入"), 0, len(rows))
        written = bulk_write(
            PovertyMember,
            [
                (
                    snapshots[(r["county_id"], r["as_of"])],
                    r["county_id"],
                    r["as_of"],
                    *(r[f] for f in FIELDS),
                )
                for r in rows
            ],
            fields=["snapshot_id", "county_id", "as_of", *FIELDS],
            conflict=["snapshot_id", "id_number"],
            mode="upsert",
            update=[f for f in FIELDS if f != "id_number"],
            constants={"upload_id": ctx.upload.pk if ctx.upload is not None else None},
            copy_from=COPY_THRESHOLD,
        )
        ctx.progress(_("写入"), len(rows), len(rows))
        return {
            _("新增"): written.inserted,
            _("更新"): written.updated,
            _("跳过（未变化）"): len(result.skipped),
        }


POVERTY = PovertyImport()
