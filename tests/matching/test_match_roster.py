"""match_roster end to end: a poverty export and a registry, the roster, what does not
match and why, a second run, county scope, and the omission check on the roster."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from dropout.models import EnrolmentRecord, EnrolmentSnapshot
from intake.base import ImportContext
from matching.models import FindingKind, MatchFinding
from poverty.imports import POVERTY
from poverty.samples import family, poverty_export
from subsidies.lookups import semester_rules
from subsidies.models import Semester
from subsidies.selectors import omission_check
from subsidies.services import standards_load
from tasks.models import RosterSnapshot, RosterStudent, Unit
from tasks.scoping import EVERYTHING, user_scope
from xc_fupin.lib.idnumber import make_id_number, mask_id_number
from xc_fupin.lib.sheets import read_table

from ..factories import make_school

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(plan: None, city_reviewer: Any) -> dict[str, Any]:
    standards_load()
    primary = make_school("xuanzhou", "宣州区水阳镇中心小学", "2134001101", ["小学"])
    junior = make_school("xuanzhou", "宣州区水阳初级中学", "3134001102", ["初中"])
    langxi_primary = make_school("langxi", "郎溪县建平小学", "2134002101", ["小学"])
    xz = [
        family(
            "341802101001001",
            [("王小一", "2012-03-04", "小学"), ("王小二", "2016-05-06", "学前教育")],
            sequence=1,
        ),
        family(
            "341802101001002",
            [("李初二", "2006-09-01", "八年级"), ("李高一", "2003-10-10", "高中一年级")],
            sequence=2,
            status="未脱贫",
        ),
        family(
            "341802101001003",
            [("赵小学", "2011-01-01", "小学")],
            sequence=3,
            status="已脱贫（不再享受政策）",
        ),
        family(
            "341802101001004",
            [("陈小三", "2011-02-02", "小学"), ("陈小四", "2007-04-04", "非在校生")],
            sequence=4,
            status="返贫",
        ),
    ]
    lx = [
        family(
            "341821101001001",
            [("郎小五", "2012-05-05", "小学")],
            sequence=5,
            area="341821",
            county="郎溪县",
            township="建平镇",
        )
    ]
    import_poverty(poverty_export(xz), city_reviewer)
    import_poverty(poverty_export(lx), city_reviewer)
    people = {p.name: p.id_number for h in [*xz, *lx] for p in h.people}
    day = dt.date(2019, 9, 30)
    enrol(people["王小一"], "王小一", primary, "三年级", "小学", boarding=True, day=day)
    enrol(people["李初二"], "李初二", junior, "八年级", "初中", boarding=False, day=day)
    enrol(people["陈小三"], "陈小三", primary, "四年级", "小学", status="休学", day=day)
    # Known to the registry by a G number only: the ID field holds an older number.
    old = make_id_number("341802", dt.date(2007, 4, 4), 777)
    enrol(old, "陈小四", junior, "七年级", "初中", student_number="G" + people["陈小四"], day=day)
    enrol(people["赵小学"], "赵小学", primary, "四年级", "小学", day=day)
    enrol(people["郎小五"], "郎小五", langxi_primary, "二年级", "小学", day=day)
    # A county's uploaded roster: a kindergarten child the registry does not hold.
    uploaded = RosterSnapshot.objects.create(as_of=dt.date(2019, 9, 10), note="县上传")
    RosterStudent.objects.create(
        id_number=people["王小二"],
        name="王小二",
        gender="男",
        birth_date=dt.date(2016, 5, 6),
        county=primary.county,
        household_county=primary.county,
        school=None,
        stage="学前教育",
        snapshot=uploaded,
    )
    return {"people": people, "primary": primary, "junior": junior, "lx": langxi_primary}


def import_poverty(content: bytes, user: Any) -> None:
    ctx = ImportContext(
        user=user, scope=user_scope(user), unit=user.unit, options={"as_of": dt.date(2019, 9, 1)}
    )
    table = read_table(content, filename="贫困人口.xlsx", columns=POVERTY.columns)
    result = POVERTY.validate(table, ctx)
    assert result.errors == []
    with transaction.atomic():
        POVERTY.apply(result, ctx)


def enrol(
    id_number: str,
    name: str,
    school: Unit,
    grade: str,
    stage: str,
    *,
    day: dt.date,
    status: str = "在读",
    boarding: bool | None = None,
    student_number: str = "",
) -> None:
    snapshot, _ = EnrolmentSnapshot.objects.get_or_create(county_id=school.county_id, as_of=day)
    EnrolmentRecord.objects.create(
        snapshot=snapshot,
        id_number=id_number,
        name=name,
        school=school,
        county_id=school.county_id,
        grade=grade,
        stage=stage,
        status=status,
        boarding=boarding,
        student_number=student_number,
        as_of=day,
    )


def match(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("match_roster", "--semester", "2019秋", *args, stdout=out)
    return out.getvalue().splitlines()


def active() -> dict[str, RosterStudent]:
    return {s.name: s for s in RosterStudent.objects.filter(is_active=True)}


def history_rows() -> int:
    return RosterStudent.history.count() + MatchFinding.history.count()


def test_the_roster_comes_from_the_poverty_data_and_the_registry(world: dict[str, Any]) -> None:
    people = world["people"]
    lines = match()
    assert lines[-1] == "roster 4, unmatched 2, stage mismatches 1"
    roster = active()
    # Matched by ID, or by the ID inside a G number; the school, stage and boarding are
    # the registry's; the uploaded kindergarten child stays beside them.
    assert set(roster) == {"王小一", "李初二", "陈小四", "郎小五", "王小二"}
    assert roster["王小一"].school == world["primary"] and roster["王小一"].boarding is True
    assert roster["王小一"].stage == "小学" and roster["王小一"].grade == "三年级"
    assert roster["李初二"].stage == "初中" and roster["李初二"].boarding is False
    assert roster["陈小四"].id_number == people["陈小四"]
    assert roster["郎小五"].county == world["lx"].county
    assert str(roster["王小一"].household_county) == "宣州区"
    # 已脱贫（不再享受政策）: not on the roster, whatever the registry says.
    assert "赵小学" not in roster

    unmatched = {f.name: f.reason for f in MatchFinding.objects.filter(kind=FindingKind.UNMATCHED)}
    assert unmatched == {"李高一": "学籍中无记录", "陈小三": "学籍状态为休学"}
    mismatch = MatchFinding.objects.get(kind=FindingKind.STAGE_MISMATCH)
    assert mismatch.name == "陈小四" and mismatch.registry_stage == "初中"
    apart = {f.name for f in MatchFinding.objects.filter(kind=FindingKind.APART)}
    assert apart == {"王小二"}
    # One line per unmatched member and per stage mismatch, IDs masked.
    assert len(lines) == 4
    assert any(
        mask_id_number(people["李高一"]) in line and "学籍中无记录" in line for line in lines
    )
    assert all(people["李高一"] not in line for line in lines)
    assert any("学段不符" in line and "非在校生" in line for line in lines)
    # Every roster row written has its history, stamped with the command.
    assert RosterStudent.history.filter(history_source="命令 match_roster").count() == 4


def test_running_it_again_changes_nothing(world: dict[str, Any]) -> None:
    first = match()
    rows = list(RosterStudent.objects.order_by("pk").values())
    findings = list(MatchFinding.objects.order_by("pk").values())
    history = history_rows()
    assert match() == first
    assert list(RosterStudent.objects.order_by("pk").values()) == rows
    assert list(MatchFinding.objects.order_by("pk").values()) == findings
    assert history_rows() == history


def test_a_second_run_writes_only_what_changed_with_its_history(world: dict[str, Any]) -> None:
    match()
    roster_history = RosterStudent.history.count()
    finding_history = MatchFinding.history.count()
    # The registry now says 王小一 is a day pupil: that one roster row changes, and the
    # history pages show that one change and nothing for the others.
    EnrolmentRecord.objects.filter(name="王小一").update(boarding=False)
    match()
    assert active()["王小一"].boarding is False
    new = RosterStudent.history.order_by("history_id")[roster_history:]
    assert [(h.name, h.history_type, h.boarding) for h in new] == [("王小一", "~", False)]
    assert MatchFinding.history.count() == finding_history


def test_a_finding_resolved_is_taken_away_with_its_history(world: dict[str, Any]) -> None:
    match()
    people = world["people"]
    assert MatchFinding.objects.filter(name="李高一", kind=FindingKind.UNMATCHED).exists()
    high = make_school("xuanzhou", "宣州中学", "3134001103", ["普通高中"])
    enrol(people["李高一"], "李高一", high, "高一", "", day=dt.date(2019, 9, 30))
    lines = match()
    assert lines[-1] == "roster 5, unmatched 1, stage mismatches 1"
    assert active()["李高一"].school == high and active()["李高一"].stage == "普通高中"
    assert not MatchFinding.objects.filter(name="李高一").exists()
    logged = MatchFinding.history.filter(name="李高一").order_by("history_id")
    assert [(h.history_type, h.kind) for h in logged] == [
        ("+", FindingKind.UNMATCHED),
        ("-", FindingKind.UNMATCHED),
    ]
    assert RosterStudent.history.get(name="李高一").history_type == "+"


def test_a_member_no_longer_matched_leaves_the_roster(world: dict[str, Any]) -> None:
    match()
    EnrolmentRecord.objects.filter(name="李初二").update(status="辍学")
    lines = match()
    assert lines[-1] == "roster 3, unmatched 3, stage mismatches 1"
    assert "李初二" not in active()
    assert MatchFinding.objects.get(name="李初二").reason == "学籍状态为辍学"
    # The uploaded row is not the matching's to take off.
    assert "王小二" in active()


def test_a_county_run_touches_only_that_county(world: dict[str, Any]) -> None:
    lines = match("--county", "郎溪县")
    assert lines == ["roster 1, unmatched 0, stage mismatches 0"]
    assert set(active()) == {"郎小五", "王小二"}
    assert not MatchFinding.objects.exclude(county__slug="langxi").exists()
    match("--county", "341802")
    assert set(active()) == {"王小一", "李初二", "陈小四", "郎小五", "王小二"}


def test_the_omission_check_counts_what_the_matched_roster_is_owed(
    world: dict[str, Any],
) -> None:
    match()
    semester = Semester.objects.get(code="2019秋")
    rules = semester_rules(semester)
    report = omission_check(semester=semester, scope=EVERYTHING, kind="missing", page_size=500)
    missing: dict[str, dict[int, Any]] = {}
    for row in report.rows:
        missing.setdefault(row.id_number, {})[row.item_id] = row.top
    for name, student in active().items():
        owed = {
            r.item_id: r.top
            for r in rules
            if r.stage == student.stage and r.boarding == student.boarding
        }
        assert missing.get(student.id_number, {}) == owed, name
    # Boarding, read from 就读方式, decides what a matched child is owed.
    boarder = {r.item_id: r.top for r in rules if r.stage == "小学" and r.boarding}
    day_pupil = {r.item_id: r.top for r in rules if r.stage == "小学" and not r.boarding}
    assert boarder != day_pupil
    assert missing[world["people"]["王小一"]] == boarder
    assert missing[world["people"]["郎小五"]] == day_pupil


def test_a_county_user_may_not_run_another_county(world: dict[str, Any], langxi_staff: Any) -> None:
    from django.core.exceptions import PermissionDenied

    from matching.services import roster_match

    semester = Semester.objects.get(code="2019秋")
    xuanzhou = world["primary"].county
    with pytest.raises(PermissionDenied):
        roster_match(semester=semester, scope=user_scope(langxi_staff), county=xuanzhou)
    outcome = roster_match(semester=semester, scope=user_scope(langxi_staff))
    assert [c.slug for c in outcome.counties] == ["langxi"] and outcome.roster == 1
