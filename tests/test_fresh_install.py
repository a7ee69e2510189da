"""A production install from nothing: `migrate`, `load_plan`, the bureau's own sheets
through `import_sheet`, then the deadline check and the reports — no other command, no
demo data, no `createcachetable`."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from openpyxl import Workbook

from intake.models import Upload
from reports.models import Report
from subsidies.models import Disbursement, Semester, SubsidyStandard
from tasks.models import LedgerEntry, RosterStudent, School, User
from xc_fupin.lib.idnumber import make_id_number

CACHE_MIGRATION = ("tasks", "0008_cache_table")
LIVING = "义务教育家庭经济困难学生生活补助"


def xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for cell in ws["A"]:  # ID numbers and school codes as text, as the templates have them
        cell.number_format = "@"
    wb.save(path)
    return path


def import_sheet(kind: str, path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_sheet", kind, str(path), *args, stdout=out)
    return out.getvalue()


def drop_cache_table() -> None:
    with connection.schema_editor() as editor:
        editor.execute(f"DROP TABLE {connection.ops.quote_name('xc_cache')}")


def run_cache_migration() -> None:
    """Exactly what `migrate` runs for the cache table migration."""
    executor = MigrationExecutor(connection)
    migration = executor.loader.get_migration(*CACHE_MIGRATION)
    state = executor.loader.project_state(CACHE_MIGRATION, at_end=False)
    with connection.schema_editor(atomic=migration.atomic) as editor:
        migration.apply(state, editor)


@pytest.mark.django_db(transaction=True)
def test_a_fresh_database_needs_only_migrate_load_plan_and_the_bureaus_sheets(
    settings: Any, tmp_path: Path
) -> None:
    # The real cache, as production has it (the other tests run without one).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "xc_cache",
        }
    }
    # Django's test runner runs createcachetable after migrate; a production install
    # runs only migrate. Take the table away and give it back the way migrate does.
    assert CACHE_MIGRATION in MigrationRecorder(connection).applied_migrations()
    drop_cache_table()
    call_command("load_plan", stdout=io.StringIO())
    with pytest.raises(DatabaseError):
        call_command("check_deadlines", "--today", "2019-06-16", "--no-mail", stdout=io.StringIO())
    run_cache_migration()

    # migrate + load_plan: the plan and its semesters, and nothing of the demo.
    assert not User.objects.exists()
    assert not (
        LedgerEntry.objects.exists()
        or RosterStudent.objects.exists()
        or Disbursement.objects.exists()
        or Upload.objects.exists()
    )
    assert {s.code: s.deadline for s in Semester.objects.all()} == {
        "2019春": dt.date(2019, 6, 15),
        "2019秋": dt.date(2019, 9, 25),
    }

    schools = xlsx(
        tmp_path / "学校名单.xlsx",
        [
            ["学校标识码", "学校名称", "所属县区", "学段", "是否市直"],
            ["3134001001", "宣州区实验小学", "宣州区", "小学", "否"],
            ["3134000101", "宣城市第六中学", "宣城市", "初中", "是"],
        ],
    )
    assert "accepted 2, rejected 0" in import_sheet("schools", schools)
    sixth = School.objects.get(school_code="3134000101")
    assert sixth.is_city_run and sixth.county is None

    standards = xlsx(
        tmp_path / "资助标准.xlsx",
        [
            ["资助项目", "学段", "适用对象", "学期", "档次", "金额(元)"],
            [LIVING, "小学", "非寄宿生", "2019春", "一档", 250],
            [LIVING, "初中", "非寄宿生", "2019春", "一档", 312.5],
        ],
    )
    assert "accepted 2, rejected 0" in import_sheet("standards", standards)
    assert SubsidyStandard.objects.filter(semester__code="2019春").count() == 2

    pupils = [
        (make_id_number("341802", dt.date(2010, 3, 1 + n), n), f"学生{n}", school, stage)
        for n, school, stage in [
            (1, "宣州区实验小学", "小学"),
            (2, "宣州区实验小学", "小学"),
            (3, "宣城市第六中学", "初中"),
        ]
    ]
    roster = xlsx(
        tmp_path / "名册.xlsx",
        [
            ["身份证号", "姓名", "户籍县区", "就读学校", "学段", "是否寄宿"],
            *[[i, name, "宣州区", school, stage, "否"] for i, name, school, stage in pupils],
        ],
    )
    assert "accepted 3, rejected 0" in import_sheet("roster", roster)
    payments = xlsx(
        tmp_path / "发放明细.xlsx",
        [
            ["身份证号", "姓名", "就读学校", "资助项目", "学期", "金额(元)", "发放日期"],
            *[
                [i, name, school, LIVING, "2019春", 250 if stage == "小学" else 312.5, "2019-06-10"]
                for i, name, school, stage in pupils[:2]
            ],
        ],
    )
    assert "accepted 2, rejected 0" in import_sheet("disbursements", payments)
    assert Disbursement.objects.count() == 2

    out = io.StringIO()
    call_command("check_deadlines", "--today", "2019-06-16", "--no-mail", stdout=out)
    assert "2019-06-16 截止检查" in out.getvalue()
    for kind, period in (("monthly", "2019-05"), ("quarterly", "2019Q2")):
        out = io.StringIO()
        call_command("build_report", kind, period, stdout=out)
        assert "已生成" in out.getvalue()
    assert Report.objects.count() == 2
