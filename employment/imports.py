"""The employment ledger sheet (建档立卡学生就业台账): `import_sheet employment FILE`.

Declarative (intake/specs.py): each column names a shared parser; this spec keeps its own
rules — the school must be in the uploader's scope, an ID appears once per file, an ID
another unit already registered is refused without naming anything of that row. A row
identical to what is stored is skipped and a changed one updates the graduate, so a
re-import never duplicates anyone; guidance records are never touched by an import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from intake.base import ImportContext, ValidationResult
from intake.columns import (
    ID_ALIASES,
    NAME_ALIASES,
    Amount,
    Choice,
    Column,
    CountyParser,
    DateParser,
    IdNumberParser,
    Name,
    Phone,
    SchoolParser,
    Text,
)
from intake.specs import DeclarativeSpec, FirstSeen, Row
from intake.writer import bulk_write
from tasks import clock
from tasks.models import CountyCode, RosterStudent
from xc_fupin.lib.idnumber import mask_id_number, mask_name
from xc_fupin.lib.money import format_money

from .models import Destination, Graduate, PovertyStatus

DESTINATION_ALIASES: dict[str, str] = {
    **{d.value: d.value for d in Destination},
    "已就业": Destination.EMPLOYED,
    "直接就业": Destination.EMPLOYED,
    "升入高校": Destination.FURTHER_STUDY,
    "升入高职": Destination.FURTHER_STUDY,
    "入伍": Destination.ARMY,
    "应征入伍": Destination.ARMY,
    "创业": Destination.SELF_EMPLOYED,
    "待就业": Destination.NOT_EMPLOYED,
    "暂未就业": Destination.NOT_EMPLOYED,
}
POVERTY_ALIASES: dict[str, str] = {
    **{p.value: p.value for p in PovertyStatus},
    "已脱贫享受政策": PovertyStatus.OUT_WITH_POLICY,
    "已脱贫不享受政策": PovertyStatus.OUT_NO_POLICY,
    "已脱贫不再享受政策": PovertyStatus.OUT_NO_POLICY,
    "已脱贫未享受政策": PovertyStatus.OUT_NO_POLICY,
}
FUTURE_DATE = "毕业时间晚于今天：%(d)s"

#: What a re-import compares with the stored graduate (a row equal on all is skipped).
STORED = (
    "name",
    "school_id",
    "county_id",
    "major",
    "graduation_date",
    "household_county_id",
    "poverty_status",
    "destination",
    "employer",
    "workplace",
    "job",
    "monthly_income",
    "phone",
)


class EmploymentImport(DeclarativeSpec):
    key = "employment"
    title = "建档立卡学生就业台账"
    permission = "employment.add_graduate"
    columns: ClassVar[Sequence[Column]] = [
        Column("身份证号", ID_ALIASES, parser=IdNumberParser()),
        Column("姓名", NAME_ALIASES, parser=Name(spaces=True)),
        Column("学校", ("毕业学校", "就读学校", "学校名称", "学校标识码"), parser=SchoolParser()),
        Column("专业", ("所学专业", "专业名称"), parser=Text(50, blank="专业为空")),
        Column(
            "毕业时间",
            ("毕业日期", "毕业年月"),
            parser=DateParser(not_after_today=FUTURE_DATE),
        ),
        Column(
            "去向",
            ("毕业去向", "就业去向", "就业情况"),
            parser=Choice(
                DESTINATION_ALIASES, unknown="无法识别的去向“%(value)s”（可填：%(allowed)s）"
            ),
        ),
        Column("就业单位", ("工作单位", "单位名称"), required=False, parser=Text(100)),
        Column("就业地点", ("工作地点", "就业地区"), required=False, parser=Text(100)),
        Column("岗位", ("工作岗位", "职位"), required=False, parser=Text(50)),
        Column(
            "月收入",
            ("月收入(元)", "月收入（元）", "月工资", "月薪"),
            required=False,
            optional=True,
            parser=Amount(),
        ),
        Column(
            "联系电话",
            ("手机号码", "联系方式", "本人电话"),
            required=False,
            optional=True,
            parser=Phone(),
        ),
        # Not in the city's template, but in the poverty office's exports: when absent,
        # the roster's household county (or the ID's area code) is used.
        Column(
            "户籍县区",
            ("户籍所在县区", "县市区"),
            required=False,
            optional=True,
            parser=CountyParser(),
        ),
        Column(
            "脱贫属性",
            ("脱贫状态", "脱贫标志"),
            required=False,
            optional=True,
            parser=Choice(
                POVERTY_ALIASES,
                unknown="无法识别的脱贫属性“%(value)s”（可填：%(allowed)s）",
                optional=True,
            ),
        ),
    ]
    example: ClassVar[dict[str, object]] = {
        "身份证号": "341802200101011234",
        "姓名": "张三",
        "学校": "宣州区职业技术学校",
        "专业": "数控技术应用",
        "毕业时间": "2019-06-10",
        "去向": "就业",
        "就业单位": "宣城某机械有限公司",
        "就业地点": "宣城市宣州区",
        "岗位": "数控操作工",
        "月收入": 3200,
        "联系电话": "13800000000",
        "户籍县区": "宣州区",
        "脱贫属性": "已脱贫（享受政策）",
    }

    def dropdowns(self) -> dict[str, list[str]]:
        return {
            "去向": [str(d) for d in Destination.values],
            "脱贫属性": [str(p) for p in PovertyStatus.values],
        }

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        income = clean["monthly_income"]
        return [
            mask_id_number(clean["id_number"]),
            mask_name(clean["name"]),
            clean["school_name"],
            clean["major"],
            f"{clean['graduation_date']:%Y-%m-%d}",
            clean["destination"],
            clean["employer"],
            clean["workplace"],
            clean["job"],
            format_money(income) if income is not None else "",
            mask_id_number(clean["phone"]) if clean["phone"] else "",
            clean["household_county_name"],
            clean["poverty_status"],
        ]

    def prepare(self, ctx: ImportContext) -> Any:
        return ctx.scope

    def check_row(self, row: Row, scope: Any) -> dict[str, Any] | None:
        school = row["学校"]
        if school is not None and not scope.covers(county_id=school.county_id, unit_id=school.pk):
            # Says only that: the row may be another county's student.
            row.error("学校", _("该校不属于本单位管辖范围，不能导入其就业台账"))
        if not row.ok:
            return None
        household = row["户籍县区"]
        return {
            "id_number": row["身份证号"],
            "name": row["姓名"],
            "school_id": school.pk,
            "school_name": school.name,
            "school_county_id": school.county_id,
            "major": row["专业"] or "",
            "graduation_date": row["毕业时间"],
            "destination": str(row["去向"]),
            "employer": row["就业单位"] or "",
            "workplace": row["就业地点"] or "",
            "job": row["岗位"] or "",
            "monthly_income": row["月收入"],
            "phone": row["联系电话"] or "",
            "household_county_id": household.pk if household else None,
            "household_county_name": household.name if household else "",
            "poverty_status": str(row["脱贫属性"] or ""),
        }

    def check_rows(
        self, rows: list[tuple[int, dict[str, Any]]], result: ValidationResult, scope: Any
    ) -> None:
        seen = FirstSeen()
        candidates = []
        for number, clean in rows:
            first = seen.check(clean["id_number"], number)
            if first is not None:
                result.error(
                    number, "身份证号", _("与第%(row)d行重复（同一身份证号）") % {"row": first}
                )
            else:
                candidates.append((number, clean))
        ids = [c["id_number"] for _n, c in candidates]
        stored = {
            g["id_number"]: g
            for g in Graduate.objects.filter(id_number__in=ids).values("id_number", *STORED)
        }
        roster = dict(
            RosterStudent.objects.filter(
                id_number__in=ids, household_county__isnull=False
            ).values_list("id_number", "household_county_id")
        )
        areas = dict(CountyCode.objects.values_list("code", "county_id"))
        for number, clean in candidates:
            if clean["household_county_id"] is None:
                clean["household_county_id"] = roster.get(clean["id_number"]) or areas.get(
                    clean["id_number"][:6]
                )
            # A city-run school has no county: the household county answers for the student.
            clean["county_id"] = clean.pop("school_county_id") or clean["household_county_id"]
            before = stored.get(clean["id_number"])
            if before is not None and not scope.covers(
                county_id=before["county_id"], unit_id=before["school_id"]
            ):
                result.error(number, "身份证号", _("该学生已由其他单位登记，不能在此导入"))
                continue
            if before is not None and all(before[k] == clean[k] for k in STORED):
                result.skip(number, _("与已导入的记录相同，跳过"))
                continue
            result.accept(number, clean)

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        ctx.progress(_("写入"), 0, len(result.rows))
        fields = list(STORED)
        written = bulk_write(
            Graduate,
            [(r["id_number"], *(r[f] for f in fields)) for r in result.rows],
            fields=["id_number", *fields],
            conflict=["id_number"],
            mode="upsert",
            update=fields,
            constants={
                "upload_id": ctx.upload.pk if ctx.upload is not None else None,
                "updated_at": clock.now(),
            },
            # Never COPY: a ledger is a few thousand rows at most, and bulk_create stamps
            # created_at on the clock for new graduates (COPY would leave it empty).
            copy_from=10**9,
        )
        ctx.progress(_("写入"), len(result.rows), len(result.rows))
        return {
            _("新增"): written.inserted,
            _("更新"): written.updated,
            _("跳过（未变化）"): len(result.skipped),
        }


GRADUATES = EmploymentImport()
