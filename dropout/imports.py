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
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from intake.columns import (
    DATE_ALIASES,
    ID_ALIASES,
    NAME_ALIASES,
    Choice,
    Column,
    CountyParser,
    DateParser,
    Grade,
    IdNumberParser,
    Name,
    Phone,
    SchoolParser,
    Text,
)
from intake.specs import DeclarativeSpec, FirstSeen, Row
from intake.writer import bulk_write
from tasks.clock import today
from tasks.imports import ImportContext, ValidationResult
from tasks.models import County
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from .jobs import crosscheck_county
from .models import EnrolmentRecord, EnrolmentSnapshot, EnrolmentStatus, HouseholdChild

STATUS_ALIASES: dict[str, str] = {
    "在读": EnrolmentStatus.ENROLLED,
    "在校": EnrolmentStatus.ENROLLED,
    "在籍": EnrolmentStatus.ENROLLED,
    "正常": EnrolmentStatus.ENROLLED,
    "在籍在校": EnrolmentStatus.ENROLLED,
    "休学": EnrolmentStatus.SUSPENDED,
    "辍学": EnrolmentStatus.DROPPED_OUT,
    "疑似辍学": EnrolmentStatus.SUSPECTED,
    "转学": EnrolmentStatus.TRANSFERRED,
    "转出": EnrolmentStatus.TRANSFERRED,
    "毕业": EnrolmentStatus.GRADUATED,
    "结业": EnrolmentStatus.GRADUATED,
    "死亡": EnrolmentStatus.DECEASED,
    "其他": EnrolmentStatus.OTHER,
}
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


class EnrolmentImport(DeclarativeSpec):
    key = "enrolment"
    title = "学籍"
    permission = "dropout.add_enrolmentrecord"
    columns: ClassVar[Sequence[Column]] = [
        Column("身份证号", ID_ALIASES, parser=IdNumberParser()),
        Column("姓名", NAME_ALIASES, parser=Name(spaces=True)),
        Column("学校", ("学校名称", "就读学校", "所在学校", "学校标识码"), parser=SchoolParser()),
        Column("年级", ("所在年级", "年级名称", "就读年级"), required=False, parser=Grade()),
        Column(
            "学籍状态",
            ("状态", "学生状态", "在校状态"),
            parser=Choice(
                STATUS_ALIASES, unknown="无法识别的学籍状态“%(value)s”（可填：%(allowed)s）"
            ),
        ),
        Column("统计日期", DATE_ALIASES, parser=DateParser(not_after_today=FUTURE_DATE)),
    ]
    example: ClassVar[dict[str, object]] = {
        "身份证号": "341802201209011234",
        "姓名": "张三",
        "学校": "宣州区实验小学",
        "年级": "一年级",
        "学籍状态": "在读",
        "统计日期": "2019-09-30",
    }

    def dropdowns(self) -> dict[str, list[str]]:
        return {"学籍状态": [str(s) for s in EnrolmentStatus.values]}

    def preview_row(self, clean: dict[str, Any]) -> list[str]:
        return [
            mask_id_number(clean["id_number"]),
            mask_name(clean["name"]),
            clean["school_name"],
            clean["grade"],
            clean["status"],
            f"{clean['as_of']:%Y-%m-%d}",
        ]

    def prepare(self, ctx: ImportContext) -> Any:
        return ctx.scope

    def check_row(self, row: Row, scope: Any) -> dict[str, Any] | None:
        school = row["学校"]
        if school is not None and not scope.covers(county_id=school.county_id, unit_id=school.pk):
            # Says only that: the row may be another county's child.
            row.error("学校", _("该校不属于本单位管辖范围，不能导入其学籍"))
        if not row.ok:
            return None
        return {
            "id_number": row["身份证号"],
            "name": row["姓名"],
            "school_id": school.pk,
            "school_name": school.name,
            "county_id": school.county_id,
            "grade": row["年级"] or "",
            "status": str(row["学籍状态"]),
            "as_of": row["统计日期"],
        }

    def check_rows(
        self, rows: list[tuple[int, dict[str, Any]]], result: ValidationResult, state: Any
    ) -> None:
        seen = FirstSeen()
        candidates = []
        for number, clean in rows:
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
        stored: dict[tuple[str, int, dt.date], tuple[str, str, str]] = {}
        if candidates:
            school_ids = sorted({c["school_id"] for _n, c in candidates})
            dates = sorted({c["as_of"] for _n, c in candidates})
            for id_number, school_id, as_of, name, grade, status in (
                EnrolmentRecord.objects.filter(school_id__in=school_ids, as_of__in=dates)
                .values_list("id_number", "school_id", "as_of", "name", "grade", "status")
                .iterator(chunk_size=5000)
            ):
                stored[(id_number, school_id, as_of)] = (name, grade, status)
        for number, clean in candidates:
            before = stored.get((clean["id_number"], clean["school_id"], clean["as_of"]))
            if before == (clean["name"], clean["grade"], clean["status"]):
                result.skip(number, _("与已导入的记录相同，跳过"))
                continue
            result.accept(number, clean)

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        rows = result.rows
        pairs = sorted(
            {(r["county_id"], r["as_of"]) for r in rows}, key=lambda p: (p[0] or 0, p[1])
        )
        snapshot_ids: dict[tuple[int | None, dt.date], int] = {}
        for county_id, as_of in pairs:
            snapshot, _created = EnrolmentSnapshot.objects.get_or_create(
                county_id=county_id, as_of=as_of
            )
            snapshot_ids[(county_id, as_of)] = snapshot.pk
        ctx.progress(_("写入"), 0, len(rows))
        written = bulk_write(
            EnrolmentRecord,
            [
                (
                    snapshot_ids[(r["county_id"], r["as_of"])],
                    r["id_number"],
                    r["name"],
                    r["school_id"],
                    r["county_id"],
                    r["grade"],
                    r["status"],
                    r["as_of"],
                )
                for r in rows
            ],
            fields=[
                "snapshot_id",
                "id_number",
                "name",
                "school_id",
                "county_id",
                "grade",
                "status",
                "as_of",
            ],
            conflict=["snapshot_id", "id_number", "school_id"],
            mode="upsert",
            update=["name", "grade", "status"],
            constants={"upload_id": _upload_id(ctx)},
            copy_from=COPY_THRESHOLD,
        )
        ctx.progress(_("写入"), len(rows), len(rows))
        if ctx.options.get("crosscheck", True):
            _queue_crosscheck((c, d) for c, d in pairs if c is not None)
        return _counts(written.inserted, written.updated, result)


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
