"""Spreadsheet imports of the student registry (学籍) and the household list (户籍).

Both follow the contract in `tasks.imports`: `validate` checks the whole file with a
handful of queries (schools, counties, what is already stored) and never writes;
`apply` writes in bulk — PostgreSQL COPY into a temporary table and one
INSERT … ON CONFLICT for big files, `bulk_create(update_conflicts=True)` otherwise.
A row identical to what is stored for its date is skipped, so a re-upload changes
nothing. Every row written gets its historical row (audit trail, stamped with the
upload and its user) in the same transaction: set-based inside the COPY upsert, with
`audit.bulk_created` otherwise. After an import is applied, the cross-check of each
county touched is queued.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from django.db import connection
from django.utils.translation import gettext as _

from tasks import audit, clock
from tasks.clock import today
from tasks.imports import ImportContext, ImportSpec, ValidationResult
from tasks.models import County, Unit
from tasks.scoping import Scope
from xc_fupin.lib.dates import DateParseError, parse_date
from xc_fupin.lib.idnumber import IdNumberError, mask_id_number, mask_name, parse_id_number
from xc_fupin.lib.sheets import ColumnSpec, Table
from xc_fupin.lib.text import header_key, normalize_text, shorten

from .models import EnrolmentRecord, EnrolmentSnapshot, EnrolmentStatus, HouseholdChild

#: Above this many rows PostgreSQL gets COPY; below it bulk_create is as fast and simpler.
COPY_THRESHOLD = 5000

ID_ALIASES = (
    "身份证号码",
    "公民身份号码",
    "公民身份证号",
    "身份证件号",
    "证件号码",
    "学生身份证号",
    "儿童身份证号",
)
NAME_ALIASES = ("学生姓名", "儿童姓名", "名字")
DATE_ALIASES = ("统计时间", "截止日期", "数据日期", "统计截止日期", "日期")

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


def _text(value: object, limit: int) -> str:
    text = normalize_text(value)
    return text[:limit]


def _in_scope(scope: Scope, *, county_id: int | None, unit_id: int | None) -> bool:
    if scope.sees_all:
        return True
    if scope.county_id is not None:
        return county_id == scope.county_id
    return unit_id is not None and unit_id in scope.unit_ids


def _queue_crosscheck(pairs: Iterable[tuple[int, dt.date]]) -> None:
    from .jobs import crosscheck_county

    latest: dict[int, dt.date] = {}
    for county_id, day in pairs:
        latest[county_id] = max(day, latest.get(county_id, day))
    for county_id, day in sorted(latest.items()):
        crosscheck_county.delay_on_commit(county_id, day.isoformat(), "import")  # type: ignore[attr-defined]


def _csv_field(value: object) -> str:
    """One COPY csv field: None unquoted (NULL), everything else quoted, so that an empty
    text (a blank 监护人, say) stays an empty string and is not read as NULL."""
    if value is None:
        return ""
    return '"' + str(value).replace('"', '""') + '"'


def _history_columns(model: Any) -> tuple[str, list[str]]:
    """The historical table of `model` and the columns it copies from the model."""
    historical = model.history.model
    return historical._meta.db_table, [f.column for f in historical.tracked_fields]


def _copy_upsert(
    model: Any,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """PostgreSQL: stream rows with COPY into a temporary table, then one upsert that
    also writes the historical rows (audit trail) of every row it inserted or changed.

    The history is written by the same statement, set-based: the upsert RETURNs the
    written rows and an INSERT … SELECT copies them into the historical table, stamped
    with the source of the change (the upload, its user). `xmax = 0` on a returned row
    means it was inserted, otherwise the conflict updated it. Rows identical to what is
    stored never reach here (validate skips them), so no empty "~" rows are written.
    """
    table = model._meta.db_table
    history_table, tracked = _history_columns(model)
    source = audit.current_source()
    buffer = io.StringIO()
    for row in rows:
        buffer.write(",".join(_csv_field(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    cols = ", ".join(columns)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in update)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE xc_import (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"  # noqa: S608 - model table name
        )
        cursor.execute("ALTER TABLE xc_import DROP COLUMN id")
        raw = cursor.cursor  # the psycopg2 cursor under Django's wrapper
        raw.copy_expert(f"COPY xc_import ({cols}) FROM STDIN WITH (FORMAT csv, NULL '')", buffer)
        tracked_cols = ", ".join(tracked)
        cursor.execute(
            f"WITH written AS (INSERT INTO {table} ({cols}) SELECT {cols} FROM xc_import "  # noqa: S608 - names from models, values as parameters
            f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets} "
            f"RETURNING {tracked_cols}, (xmax = 0) AS xc_inserted) "
            f"INSERT INTO {history_table} ({tracked_cols}, history_date, history_change_reason, "
            "history_type, history_user_id, history_source, history_upload_id) "
            f"SELECT {tracked_cols}, %s, %s, CASE WHEN xc_inserted THEN '+' ELSE '~' END, %s, %s, %s "
            "FROM written",
            [
                clock.now(),
                source.label[:100],
                getattr(source.user, "pk", None),
                (source.label or "系统")[:100],
                source.upload_id,
            ],
        )
        cursor.execute("DROP TABLE xc_import")


def _audit_written(model: Any, objs: list[Any], existed: list[bool]) -> None:
    """Historical rows for a bulk upsert: "+" for new rows, "~" for rows it changed.
    (bulk_create with update_conflicts returns the primary keys on PostgreSQL and SQLite.)"""
    audit.bulk_created(model, [o for o, old in zip(objs, existed, strict=True) if not old])
    audit.bulk_created(model, [o for o, old in zip(objs, existed, strict=True) if old], update=True)


def _use_copy(count: int) -> bool:
    return connection.vendor == "postgresql" and count >= COPY_THRESHOLD


def _upload_id(ctx: ImportContext) -> int | None:
    return ctx.upload.pk if ctx.upload is not None else None


class _SchoolIndex:
    """Every school, found by 学校标识码, full name or short name, normalised."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for school in Unit.objects.filter(kind=Unit.Kind.SCHOOL).values(
            "pk", "name", "short_name", "school_code", "county_id", "is_active"
        ):
            keys = {header_key(school["name"]), header_key(school["short_name"])}
            if school["school_code"]:
                keys.add(header_key(school["school_code"]))
            for key in keys - {""}:
                self.by_key[key].append(dict(school))

    def find(self, raw: object) -> list[dict[str, Any]]:
        key = header_key(raw)
        found = self.by_key.get(key, [])
        # One school listed under two keys is still one school.
        return list({s["pk"]: s for s in found}.values())


class EnrolmentImport(ImportSpec):
    key = "enrolment"
    title = "学籍"
    permission = "dropout.add_enrolmentrecord"
    columns: ClassVar[Sequence[ColumnSpec]] = [
        ColumnSpec("身份证号", ID_ALIASES),
        ColumnSpec("姓名", NAME_ALIASES),
        ColumnSpec("学校", ("学校名称", "就读学校", "所在学校", "学校标识码")),
        ColumnSpec("年级", ("所在年级", "年级名称", "就读年级"), required=False),
        ColumnSpec("学籍状态", ("状态", "学生状态", "在校状态")),
        ColumnSpec("统计日期", DATE_ALIASES),
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

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        result = ValidationResult(total=len(table.rows))
        schools = _SchoolIndex()
        day = today()
        first_row: dict[tuple[str, int, dt.date], int] = {}
        candidates: list[tuple[int, dict[str, Any]]] = []
        for done, row in enumerate(table.rows, start=1):
            if done % 5000 == 0:
                ctx.progress(_("校验"), done, len(table.rows))
            values = row.values
            ok = True
            try:
                id_number = parse_id_number(values.get("身份证号"), today=day).value
            except IdNumberError as error:
                result.error(row, "身份证号", str(error))
                ok = False
            name = _text(values.get("姓名"), 50)
            if not name:
                result.error(row, "姓名", _("姓名为空"))
                ok = False
            school = None
            raw_school = values.get("学校")
            if raw_school is None:
                result.error(row, "学校", _("学校为空"))
                ok = False
            else:
                found = schools.find(raw_school)
                if not found:
                    result.error(
                        row,
                        "学校",
                        _(
                            "系统中没有学校“%(school)s”，请核对学校全称或学校标识码（学校名单由管理员维护，导入不会新建学校）"
                        )
                        % {"school": shorten(raw_school)},
                    )
                    ok = False
                elif len(found) > 1:
                    result.error(
                        row,
                        "学校",
                        _("学校名称“%(school)s”不唯一，请填写学校标识码")
                        % {"school": shorten(raw_school)},
                    )
                    ok = False
                else:
                    school = found[0]
                    if not _in_scope(
                        ctx.scope, county_id=school["county_id"], unit_id=school["pk"]
                    ):
                        # Says only that: the row may be another county's child.
                        result.error(row, "学校", _("该校不属于本单位管辖范围，不能导入其学籍"))
                        ok = False
            raw_status = values.get("学籍状态")
            status = STATUS_ALIASES.get(normalize_text(raw_status).replace(" ", ""))
            if status is None:
                result.error(
                    row,
                    "学籍状态",
                    _("无法识别的学籍状态“%(value)s”（可填：%(allowed)s）")
                    % {"value": shorten(raw_status), "allowed": "、".join(EnrolmentStatus.values)},
                )
                ok = False
            try:
                as_of = parse_date(values.get("统计日期"))
                if as_of > day:
                    result.error(
                        row, "统计日期", _("统计日期晚于今天：%(d)s") % {"d": f"{as_of:%Y-%m-%d}"}
                    )
                    ok = False
            except DateParseError as error:
                result.error(row, "统计日期", str(error))
                ok = False
            if not ok or school is None:
                continue
            key = (id_number, school["pk"], as_of)
            if key in first_row:
                result.error(
                    row,
                    "身份证号",
                    _("与第%(row)d行重复（同一学生、同一学校、同一统计日期）")
                    % {"row": first_row[key]},
                )
                continue
            first_row[key] = row.number
            candidates.append(
                (
                    row.number,
                    {
                        "id_number": id_number,
                        "name": name,
                        "school_id": school["pk"],
                        "school_name": school["name"],
                        "county_id": school["county_id"],
                        "grade": _text(values.get("年级"), 20),
                        "status": str(status),
                        "as_of": as_of,
                    },
                )
            )
        # What is already stored for these schools and dates: one query for the file.
        stored: dict[tuple[str, int, dt.date], tuple[str, str, str]] = {}
        school_ids = sorted({c["school_id"] for _n, c in candidates})
        dates = sorted({c["as_of"] for _n, c in candidates})
        if candidates:
            for id_number, school_id, as_of, name, grade, status in (
                EnrolmentRecord.objects.filter(school_id__in=school_ids, as_of__in=dates)
                .values_list("id_number", "school_id", "as_of", "name", "grade", "status")
                .iterator(chunk_size=5000)
            ):
                stored[(id_number, school_id, as_of)] = (name, grade, status)
        for number, clean in candidates:
            key = (clean["id_number"], clean["school_id"], clean["as_of"])
            before = stored.get(key)
            if before == (clean["name"], clean["grade"], clean["status"]):
                result.skip(number, _("与已导入的记录相同，跳过"))
                continue
            clean["exists"] = before is not None
            result.accept(number, clean)
        return result

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
        upload_id = _upload_id(ctx)
        ctx.progress(_("写入"), 0, len(rows))
        if _use_copy(len(rows)):
            _copy_upsert(
                EnrolmentRecord,
                [
                    "snapshot_id",
                    "id_number",
                    "name",
                    "school_id",
                    "county_id",
                    "grade",
                    "status",
                    "as_of",
                    "upload_id",
                ],
                (
                    (
                        snapshot_ids[(r["county_id"], r["as_of"])],
                        r["id_number"],
                        r["name"],
                        r["school_id"],
                        r["county_id"],
                        r["grade"],
                        r["status"],
                        r["as_of"].isoformat(),
                        upload_id,
                    )
                    for r in rows
                ),
                conflict=["snapshot_id", "id_number", "school_id"],
                update=["name", "grade", "status", "upload_id"],
            )
        else:
            written = EnrolmentRecord.objects.bulk_create(
                [
                    EnrolmentRecord(
                        snapshot_id=snapshot_ids[(r["county_id"], r["as_of"])],
                        id_number=r["id_number"],
                        name=r["name"],
                        school_id=r["school_id"],
                        county_id=r["county_id"],
                        grade=r["grade"],
                        status=r["status"],
                        as_of=r["as_of"],
                        upload_id=upload_id,
                    )
                    for r in rows
                ],
                batch_size=1000,
                update_conflicts=True,
                unique_fields=["snapshot", "id_number", "school"],
                update_fields=["name", "grade", "status", "upload"],
            )
            _audit_written(EnrolmentRecord, written, [bool(r.get("exists")) for r in rows])
        ctx.progress(_("写入"), len(rows), len(rows))
        if ctx.options.get("crosscheck", True):
            _queue_crosscheck((c, d) for c, d in pairs if c is not None)
        updated = sum(1 for r in rows if r.get("exists"))
        return {
            _("新增"): len(rows) - updated,
            _("更新"): updated,
            _("跳过（未变化）"): len(result.skipped),
        }


class _CountyIndex:
    """Counties by name with or without 县/区/市, by any code they ever had, and by old names."""

    def __init__(self) -> None:
        self.by_key: dict[str, int] = {}
        for county in County.objects.prefetch_related("codes"):
            names = {county.name, county.current_name(), county.slug}
            for code in county.codes.all():
                names |= {code.code, code.name}
            for name in names:
                key = header_key(name)
                self.by_key[key] = county.pk
                if len(key) > 2 and key[-1] in "县区市":
                    self.by_key.setdefault(key[:-1], county.pk)
        self.names = {c.pk: c.current_name() for c in County.objects.prefetch_related("codes")}

    def find(self, raw: object) -> int | None:
        key = header_key(raw)
        for prefix in ("安徽省宣城市", "宣城市", "安徽省"):
            if key.startswith(prefix) and len(key) > len(prefix):
                key = key[len(prefix) :]
                break
        return self.by_key.get(key)


class HouseholdImport(ImportSpec):
    key = "household"
    title = "户籍"
    permission = "dropout.add_householdchild"
    columns: ClassVar[Sequence[ColumnSpec]] = [
        ColumnSpec("身份证号", ID_ALIASES),
        ColumnSpec("姓名", NAME_ALIASES),
        ColumnSpec("县区", ("县市区", "户籍县区", "所属县区", "区县", "户籍所在县区")),
        ColumnSpec("乡镇", ("乡镇（街道）", "乡镇街道", "街道", "户籍乡镇")),
        ColumnSpec("村", ("村（社区）", "村居", "社区", "行政村", "村社区", "村（居）")),
        ColumnSpec("监护人", ("监护人姓名", "家长姓名", "家长"), required=False),
        ColumnSpec("联系电话", ("监护人电话", "联系方式", "手机号码", "家长电话"), required=False),
        ColumnSpec("统计日期", DATE_ALIASES, required=False),
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

    def validate(self, table: Table, ctx: ImportContext) -> ValidationResult:
        result = ValidationResult(total=len(table.rows))
        counties = _CountyIndex()
        day = today()
        default_as_of = ctx.options.get("as_of") or day
        first_row: dict[tuple[str, dt.date], int] = {}
        candidates: list[tuple[int, dict[str, Any]]] = []
        for done, row in enumerate(table.rows, start=1):
            if done % 5000 == 0:
                ctx.progress(_("校验"), done, len(table.rows))
            values = row.values
            ok = True
            try:
                parsed = parse_id_number(values.get("身份证号"), today=day)
            except IdNumberError as error:
                result.error(row, "身份证号", str(error))
                ok = False
            name = _text(values.get("姓名"), 50)
            if not name:
                result.error(row, "姓名", _("姓名为空"))
                ok = False
            raw_county = values.get("县区")
            county_id = counties.find(raw_county) if raw_county is not None else None
            if county_id is None:
                result.error(
                    row,
                    "县区",
                    _("无法识别的县区“%(value)s”（可填：%(allowed)s）")
                    % {"value": shorten(raw_county), "allowed": "、".join(counties.names.values())},
                )
                ok = False
            elif not _in_scope(ctx.scope, county_id=county_id, unit_id=None):
                result.error(row, "县区", _("该县区不属于本单位管辖范围，不能导入其户籍名单"))
                ok = False
            as_of = default_as_of
            if values.get("统计日期") is not None:
                try:
                    as_of = parse_date(values.get("统计日期"))
                except DateParseError as error:
                    result.error(row, "统计日期", str(error))
                    ok = False
            if ok and as_of > day:
                result.error(
                    row, "统计日期", _("统计日期晚于今天：%(d)s") % {"d": f"{as_of:%Y-%m-%d}"}
                )
                ok = False
            if not ok or county_id is None:
                continue
            key = (parsed.value, as_of)
            if key in first_row:
                result.error(
                    row,
                    "身份证号",
                    _("与第%(row)d行重复（同一身份证号）") % {"row": first_row[key]},
                )
                continue
            first_row[key] = row.number
            candidates.append(
                (
                    row.number,
                    {
                        "id_number": parsed.value,
                        "name": name,
                        "birth_date": parsed.birth_date,
                        "county_id": county_id,
                        "county_name": counties.names[county_id],
                        "township": _text(values.get("乡镇"), 50),
                        "village": _text(values.get("村"), 50),
                        "guardian": _text(values.get("监护人"), 50),
                        "phone": _text(values.get("联系电话"), 30),
                        "as_of": as_of,
                    },
                )
            )
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
            key = (clean["id_number"], clean["as_of"])
            before = stored.get(key)
            now = (
                clean["name"],
                clean["county_id"],
                clean["township"],
                clean["village"],
                clean["guardian"],
                clean["phone"],
            )
            if before == now:
                result.skip(number, _("与已导入的记录相同，跳过"))
                continue
            clean["exists"] = before is not None
            result.accept(number, clean)
        return result

    def apply(self, result: ValidationResult, ctx: ImportContext) -> dict[str, int]:
        rows = result.rows
        upload_id = _upload_id(ctx)
        fields = [
            "name",
            "birth_date",
            "county_id",
            "township",
            "village",
            "guardian",
            "phone",
            "upload_id",
        ]
        ctx.progress(_("写入"), 0, len(rows))
        if _use_copy(len(rows)):
            _copy_upsert(
                HouseholdChild,
                ["id_number", "as_of", *fields],
                (
                    (
                        r["id_number"],
                        r["as_of"].isoformat(),
                        r["name"],
                        r["birth_date"].isoformat(),
                        r["county_id"],
                        r["township"],
                        r["village"],
                        r["guardian"],
                        r["phone"],
                        upload_id,
                    )
                    for r in rows
                ),
                conflict=["id_number", "as_of"],
                update=fields,
            )
        else:
            written = HouseholdChild.objects.bulk_create(
                [
                    HouseholdChild(
                        id_number=r["id_number"],
                        as_of=r["as_of"],
                        name=r["name"],
                        birth_date=r["birth_date"],
                        county_id=r["county_id"],
                        township=r["township"],
                        village=r["village"],
                        guardian=r["guardian"],
                        phone=r["phone"],
                        upload_id=upload_id,
                    )
                    for r in rows
                ],
                batch_size=1000,
                update_conflicts=True,
                unique_fields=["id_number", "as_of"],
                update_fields=[f.removesuffix("_id") for f in fields],
            )
            _audit_written(HouseholdChild, written, [bool(r.get("exists")) for r in rows])
        ctx.progress(_("写入"), len(rows), len(rows))
        if ctx.options.get("crosscheck", True):
            _queue_crosscheck({(r["county_id"], r["as_of"]) for r in rows})
        updated = sum(1 for r in rows if r.get("exists"))
        return {
            _("新增"): len(rows) - updated,
            _("更新"): updated,
            _("跳过（未变化）"): len(result.skipped),
        }


ENROLMENT = EnrolmentImport()
HOUSEHOLD = HouseholdImport()
