"""The audit trail: every change to a case or a registry row says who, when and from where."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from dropout import imports
from dropout.jobs import crosscheck_county
from dropout.models import (
    CaseFinding,
    CaseStatusChange,
    DropoutCase,
    EnrolmentRecord,
    HouseholdChild,
)
from intake import services as uploads

from .builders import enrol, household, kid, roster
from .test_imports import ENROLMENT_HEADER, xlsx

TODAY = dt.datetime(2019, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
MISSING = kid("2010-05-01", 1)
DROPPED = kid("2009-04-04", 2)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def registries(xuanzhou_school: Any) -> None:
    enrol(kid("2010-01-01", 50), "在读生", xuanzhou_school)
    enrol(DROPPED, "辍学生", xuanzhou_school, status="辍学")
    household(MISSING, "未入学")
    household(DROPPED, "辍学生")


def upload_through_pipeline(user: Any, content: bytes, kind: str = "enrolment") -> Any:
    upload = uploads.upload_receive(user=user, kind=kind, content=content, filename="学籍.xlsx")
    upload = uploads.upload_validate(upload.pk)
    assert upload.state == "previewed", upload.errors
    uploads.upload_confirm(user=user, upload=upload)
    upload = uploads.upload_apply(upload.pk)
    assert upload.state == "applied"
    return upload


@pytest.mark.parametrize("copy", [False, True], ids=["bulk", "copy"])
def test_an_enrolment_upload_leaves_history_naming_the_upload_and_the_uploader(
    copy: bool,
    xuanzhou_staff: Any,
    xuanzhou_school: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # COPY (with the history written by the same statement) is PostgreSQL's path for
    # big files; a threshold of 1 sends this small file through it there.
    monkeypatch.setattr(imports, "COPY_THRESHOLD", 1 if copy else 10**9)
    a, b = kid("2010-05-01", 1), kid("2011-06-02", 2)
    first = upload_through_pipeline(
        xuanzhou_staff,
        xlsx(
            [
                ENROLMENT_HEADER,
                [a, "张三", "宣州区实验小学", "三年级", "在读", "2019-09-30"],
                [b, "李四", "宣州区实验小学", "二年级", "在读", "2019-09-30"],
            ]
        ),
    )
    history = EnrolmentRecord.history.order_by("history_id")
    assert [(h.id_number, h.history_type, h.status) for h in history] == [
        (a, "+", "在读"),
        (b, "+", "在读"),
    ]
    assert {(h.history_upload_id, h.history_user_id) for h in history} == {
        (first.pk, xuanzhou_staff.pk)
    }
    assert history[0].history_source.startswith(f"上传#{first.pk}")

    second = upload_through_pipeline(
        xuanzhou_staff,
        xlsx(
            [
                ENROLMENT_HEADER,
                [a, "张三", "宣州区实验小学", "三年级", "在读", "2019-09-30"],
                [b, "李四", "宣州区实验小学", "二年级", "辍学", "2019-09-30"],
            ]
        ),
    )
    record = EnrolmentRecord.objects.get(id_number=b)
    assert [(h.history_type, h.status, h.history_upload_id) for h in record.history.all()] == [
        ("~", "辍学", second.pk),
        ("+", "在读", first.pk),
    ]
    # The unchanged row was skipped: no empty change recorded for it.
    assert EnrolmentRecord.objects.get(id_number=a).history.count() == 1


def test_a_household_upload_with_blank_guardians_is_recorded_per_child(
    xuanzhou_staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "COPY_THRESHOLD", 1)
    content = xlsx(
        [
            ["身份证号", "姓名", "县区", "乡镇", "村", "统计日期"],
            [MISSING, "未入学", "宣州区", "水阳镇", "金宝圩村", "2019-10-01"],
        ],
        title="宣州区户籍适龄儿童名单",
    )
    upload = upload_through_pipeline(xuanzhou_staff, content, kind="household")
    child = HouseholdChild.objects.get()
    assert child.guardian == ""  # a blank cell stays blank text through COPY, not NULL
    assert [(h.history_type, h.history_upload_id) for h in child.history.all()] == [
        ("+", upload.pk)
    ]


def test_the_crosscheck_job_records_the_cases_it_opens_and_a_rerun_records_nothing(
    registries: None, xuanzhou: Any
) -> None:
    crosscheck_county(xuanzhou.pk, "2019-10-15", "import")
    cases = DropoutCase.objects.order_by("id_number")
    assert {c.id_number for c in cases} == {MISSING, DROPPED}
    for model in (DropoutCase, CaseFinding, CaseStatusChange):
        rows = list(model.history.all())  # type: ignore[attr-defined]
        assert len(rows) == 2, model
        assert {(h.history_type, h.history_source) for h in rows} == {
            ("+", "定时任务 dropout.crosscheck_county（import）")
        }
    crosscheck_county(xuanzhou.pk, "2019-10-15", "import")
    assert DropoutCase.history.count() == 2
    assert CaseFinding.history.count() == 2

    # Seen again on a later date: the finding moves, and the move is recorded.
    crosscheck_county(xuanzhou.pk, "2019-11-01", "job")
    moved = CaseFinding.history.filter(history_type="~")
    assert sorted(h.last_seen_as_of for h in moved) == [dt.date(2019, 11, 1)] * 2


def test_a_child_found_on_the_roster_later_is_flagged_and_the_flag_recorded(
    registries: None, xuanzhou: Any
) -> None:
    crosscheck_county(xuanzhou.pk, "2019-10-15", "job")
    roster(MISSING, "未入学")
    crosscheck_county(xuanzhou.pk, "2019-10-15", "job")
    case = DropoutCase.objects.get(id_number=MISSING)
    assert case.is_registered_poor
    latest = case.history.first()
    assert latest is not None
    assert (latest.history_type, latest.is_registered_poor) == ("~", True)


def test_each_plan_edit_status_change_and_visit_is_in_the_case_history_with_the_user(
    registries: None, xuanzhou: Any, xuanzhou_staff: Any
) -> None:
    crosscheck_county(xuanzhou.pk, "2019-10-15", "job")
    case = DropoutCase.objects.get(id_number=DROPPED)
    client = Client()
    client.force_login(xuanzhou_staff)
    client.post(
        reverse("dropout:plan", args=[case.pk]),
        {"cause": "因贫", "measures": "落实资助", "responsible_person": "王老师"},
    )
    client.post(reverse("dropout:move", args=[case.pk]), {"to_status": "verified"})
    client.post(
        reverse("dropout:follow_up", args=[case.pk]),
        {"kind": "家访", "happened_on": "2019-11-18", "notes": "家长同意返校"},
    )
    rows = list(case.history.order_by("history_id"))
    assert [(h.history_type, h.status, h.measures) for h in rows] == [
        ("+", "suspected", ""),
        ("~", "suspected", "落实资助"),
        ("~", "verified", "落实资助"),
        ("~", "verified", "落实资助"),
    ]
    assert rows[-1].last_follow_up_on == dt.date(2019, 11, 18)
    assert [h.history_user for h in rows[1:]] == [xuanzhou_staff] * 3
    assert {h.history_source for h in rows[1:]} == {"网页"}
