"""Every row an import or a service writes leaves a historical row: who, when, which upload."""

from __future__ import annotations

from typing import Any

from intake.models import Upload
from intake.services import upload_apply, upload_confirm, upload_receive, upload_validate
from subsidies.models import Disbursement, Notice, SubsidyStandard
from subsidies.services import notices_generate
from tasks.models import RosterStudent

from .conftest import ident
from .test_imports import ROSTER_HEAD, payment_rows, xlsx


def through_pipeline(user: Any, kind: str, data: bytes) -> Upload:
    upload = upload_receive(user=user, kind=kind, content=data, filename="表.xlsx")
    upload = upload_validate(upload.pk)
    assert upload.state == Upload.State.PREVIEWED, upload.errors
    upload_confirm(user=user, upload=upload)
    upload = upload_apply(upload.pk)
    assert upload.state == Upload.State.APPLIED, upload.errors
    return upload


def test_a_disbursement_upload_leaves_one_added_history_row_per_payment(
    pupils: Any, xuanzhou_staff: Any
) -> None:
    upload = through_pipeline(xuanzhou_staff, "disbursements", xlsx(payment_rows(pupils)))

    history = Disbursement.history.all()
    assert Disbursement.objects.count() == 4
    assert sorted(h.id for h in history) == sorted(
        Disbursement.objects.values_list("pk", flat=True)
    )
    assert {h.history_type for h in history} == {"+"}
    assert {h.history_upload_id for h in history} == {upload.pk}
    assert {h.history_user_id for h in history} == {xuanzhou_staff.pk}
    assert all(h.history_source.startswith(f"上传#{upload.pk}") for h in history)
    paid = Disbursement.objects.get(id_number=pupils[1].id_number)
    record = Disbursement.history.get(id=paid.pk)
    assert (record.amount, record.paid_on, record.name) == (paid.amount, paid.paid_on, paid.name)

    # The same file again writes nothing, and no history either.
    again = through_pipeline(xuanzhou_staff, "disbursements", xlsx(payment_rows(pupils)))
    assert again.rows_skipped == 4
    assert Disbursement.history.count() == 4


def test_a_roster_upload_records_new_students_and_changed_ones(
    standards: Any, xuanzhou_school: Any, xuanzhou_staff: Any
) -> None:
    rows = [
        ROSTER_HEAD,
        [ident("xuanzhou", 1), "黄小", "宣州区", "宣州区实验小学", "小学", "三年级", "是"],
        [ident("xuanzhou", 2), "周小", "宣州区", "宣州区实验小学", "小学", "二年级", "否"],
    ]
    first = through_pipeline(xuanzhou_staff, "roster", xlsx(rows, footer=False))
    added = RosterStudent.history.filter(history_upload_id=first.pk)
    assert sorted(h.id_number for h in added) == sorted([rows[1][0], rows[2][0]])
    assert {h.history_type for h in added} == {"+"}

    rows[2][5] = "三年级"
    second = through_pipeline(xuanzhou_staff, "roster", xlsx(rows, footer=False))
    changed = RosterStudent.history.filter(history_upload_id=second.pk)
    assert [(h.id_number, h.history_type, h.grade) for h in changed] == [
        (rows[2][0], "~", "三年级")
    ]


def test_a_standards_upload_records_the_amount_it_changed(standards: Any, admin_user: Any) -> None:
    rows: list[list[Any]] = [
        ["资助项目", "学段", "适用对象", "学期", "档次", "金额(元)", "依据"],
        ["普通高中国家助学金", "普通高中", "全体", "2019秋", "一档", 1300, "测试文件"],
    ]
    first = through_pipeline(admin_user, "standards", xlsx(rows, title=None, footer=False))
    rows[1][5] = 1250
    second = through_pipeline(admin_user, "standards", xlsx(rows, title=None, footer=False))
    records = SubsidyStandard.history.filter(history_upload_id__in=[first.pk, second.pk])
    assert sorted((r.history_upload_id, r.history_type, r.amount) for r in records) == [
        (first.pk, "+", 1300),
        (second.pk, "~", 1250),
    ]


def test_generating_notices_records_each_notice(
    pupils: Any, spring: Any, xuanzhou_staff: Any
) -> None:
    notices_generate(user=xuanzhou_staff, semester=spring, students=pupils[:2])
    assert Notice.history.filter(history_type="+").count() == 2
    notices_generate(user=xuanzhou_staff, semester=spring, students=pupils[:3])
    assert Notice.history.filter(history_type="+").count() == 3
    assert Notice.history.filter(history_type="~").count() == 2
    assert {h.history_user_id for h in Notice.history.all()} == {xuanzhou_staff.pk}


def test_the_payment_history_indexes_only_what_the_audit_pages_look_up() -> None:
    # Every index on it is maintained for each of an import's 100,000 rows.
    model = Disbursement.history.model
    indexed = {f.name for f in model._meta.concrete_fields if f.db_index}
    assert indexed == {"id", "history_date", "history_user"}
