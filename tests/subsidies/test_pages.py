"""The subsidy pages, downloads and admin import as each persona sees them."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from docx import Document
from openpyxl import Workbook, load_workbook

from subsidies.models import Disbursement, Notice
from subsidies.services import notice_record_delivery
from tasks.models import PersonalDataAccess

from ..factories import PASSWORD
from .conftest import add_student, pay


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def two_counties(spring: Any, xuanzhou_school: Any, langxi_school: Any) -> dict[str, Any]:
    mine = add_student(xuanzhou_school, 1, name="宣宣", boarding=True)
    other = add_student(langxi_school, 2, name="郎郎")
    pay(mine.id_number, mine.name, xuanzhou_school, spring, "500", dt.date(2019, 6, 10))
    return {"mine": mine, "other": other}


@time_machine.travel(
    dt.datetime(2019, 6, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False
)
def test_the_dashboard_shows_the_four_promises_and_days_left(
    two_counties: Any, city_reviewer: Any
) -> None:
    response = client_for(city_reviewer).get(reverse("subsidies:dashboard"), {"semester": "2019春"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "剩 10 天" in text  # 6月5日 → 6月15日
    assert "对象无遗漏：1/2 名应助学生全部发放" in text
    assert "标准最高档：1/1 笔" in text
    assert "结果全告知：0/2 户已告知" in text
    assert "宣州区" in text and "郎溪县" in text
    assert 'id="subsidy-chart"' in text and "echarts.min.js" in text


def test_a_county_user_sees_only_their_county_on_every_page(
    two_counties: Any, xuanzhou_staff: Any
) -> None:
    client = client_for(xuanzhou_staff)
    dashboard = client.get(reverse("subsidies:dashboard"), {"semester": "2019春"}).content.decode()
    assert "郎溪县" not in dashboard
    omissions = client.get(reverse("subsidies:omissions"), {"semester": "2019春"}).content.decode()
    assert "郎*" not in omissions and "郎溪县" not in omissions
    other = two_counties["other"]
    assert client.get(reverse("subsidies:student", args=[other.pk])).status_code == 404
    assert (
        client.post(
            reverse("subsidies:notice_docx", args=[other.pk]), {"semester": "2019春"}
        ).status_code
        == 404
    )
    assert client.post(reverse("subsidies:notice_record", args=[other.pk]), {}).status_code == 404
    export = load_workbook(
        io.BytesIO(client.get(reverse("subsidies:export"), {"semester": "2019春"}).content)
    ).active
    assert [row[2] for row in export.iter_rows(min_row=2, values_only=True)] == ["宣州区实验小学"]


def test_the_omission_list_is_masked_and_filters_by_kind(
    two_counties: Any, city_reviewer: Any
) -> None:
    client = client_for(city_reviewer)
    text = client.get(
        reverse("subsidies:omissions"), {"semester": "2019春", "kind": "missing"}
    ).content.decode()
    other = two_counties["other"]
    assert "郎*" in text and other.id_number not in text and other.id_number[-4:] in text
    assert "宣*" not in text  # paid in full, not an omission
    sheet = load_workbook(
        io.BytesIO(client.get(reverse("subsidies:omissions_xlsx"), {"semester": "2019春"}).content)
    ).active
    assert sheet.max_row == 2


def first_row(response: Any) -> tuple[Any, ...]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    return next(sheet.iter_rows(min_row=2, values_only=True))


def test_the_export_neutralises_formulas_and_is_masked_by_default(
    spring: Any, xuanzhou_school: Any, xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    evil = add_student(xuanzhou_school, 3, name='=HYPERLINK("http://x")')
    masked = evil.id_number[:4] + "*" * 10 + evil.id_number[-4:]
    row = first_row(
        client_for(xuanzhou_staff).get(reverse("subsidies:export"), {"semester": "2019春"})
    )
    assert row[4].startswith("'=") or row[4].startswith("=*")  # masked name keeps one character
    assert row[5] == masked
    # The city may export personal data, but a plain download is masked too.
    row = first_row(
        client_for(city_reviewer).get(reverse("subsidies:export"), {"semester": "2019春"})
    )
    assert row[5] == masked
    assert not PersonalDataAccess.objects.exists()


def test_a_full_export_needs_the_permission_and_a_reason_and_is_logged(
    spring: Any, xuanzhou_school: Any, xuanzhou_staff: Any, city_reviewer: Any
) -> None:
    evil = add_student(xuanzhou_school, 3, name='=HYPERLINK("http://x")')
    url = reverse("subsidies:export")
    city = client_for(city_reviewer)

    row = first_row(city.post(url, {"semester": "2019春", "reason": ""}))
    assert row[5] != evil.id_number and not PersonalDataAccess.objects.exists()

    row = first_row(city.post(url, {"semester": "2019春", "reason": "报送扶贫部门比对"}))
    assert row[4] == '\'=HYPERLINK("http://x")' and row[5] == evil.id_number
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.kind, access.rows, access.reason) == (
        city_reviewer,
        PersonalDataAccess.Kind.EXPORT,
        1,
        "报送扶贫部门比对",
    )
    assert access.target == "建档立卡学生资助信息-2019春"

    csv = city.post(url, {"semester": "2019春", "format": "csv", "reason": "报送扶贫部门比对"})
    assert csv.content.startswith(b"\xef\xbb\xbf") and b"'=HYPERLINK" in csv.content
    assert evil.id_number.encode() in csv.content
    assert PersonalDataAccess.objects.count() == 2

    # A county user without tasks.export_personal_data gets the masked file, whatever the reason.
    row = first_row(
        client_for(xuanzhou_staff).post(url, {"semester": "2019春", "reason": "核对发放名单"})
    )
    assert row[5] != evil.id_number and PersonalDataAccess.objects.count() == 2


def test_the_omissions_download_is_masked_unless_posted_with_a_reason(
    two_counties: Any, city_reviewer: Any
) -> None:
    other = two_counties["other"]  # owed and not paid: an omission
    url = reverse("subsidies:omissions_xlsx")
    city = client_for(city_reviewer)
    ids = {r[4] for r in [first_row(city.get(url, {"semester": "2019春"}))]}
    assert other.id_number not in ids
    post = city.post(
        url, {"semester": "2019春", "county": other.county_id, "reason": "核对遗漏名单"}
    )
    assert first_row(post)[4] == other.id_number
    access = PersonalDataAccess.objects.get()
    assert (access.target, access.rows) == ("查遗补漏 2019春", 1)
    assert other.id_number not in {
        first_row(city.post(url, {"semester": "2019春", "reason": " "}))[4]
    }
    assert PersonalDataAccess.objects.count() == 1


def test_the_student_page_is_masked_and_links_to_a_logged_reveal(
    two_counties: Any, xuanzhou_staff: Any
) -> None:
    mine = two_counties["mine"]
    client = client_for(xuanzhou_staff)
    page = client.get(reverse("subsidies:student", args=[mine.pk])).content.decode()
    assert mine.id_number not in page and mine.name not in page
    student_url = reverse("subsidies:student", args=[mine.pk])
    reveal = reverse("tasks:reveal", args=["tasks.RosterStudent", mine.pk])
    assert f'href="{reveal}?next={student_url}"' in page
    shown = client.post(f"{reveal}?next={student_url}", {"reason": "联系家长送达告知单"})
    text = shown.content.decode()
    assert mine.id_number in text and mine.name in text and f'href="{student_url}"' in text
    assert PersonalDataAccess.objects.get().target == f"tasks.RosterStudent#{mine.pk}"

    notices = client.get(reverse("subsidies:notices"), {"semester": "2019春"}).content.decode()
    assert mine.id_number not in notices and reveal in notices


def test_a_payment_reveals_through_the_shared_page_within_scope_only(
    two_counties: Any, xuanzhou_staff: Any, langxi_staff: Any
) -> None:
    paid = Disbursement.objects.get(id_number=two_counties["mine"].id_number)
    reveal = reverse("tasks:reveal", args=["subsidies.Disbursement", paid.pk])
    assert client_for(langxi_staff).get(reveal).status_code == 404
    shown = client_for(xuanzhou_staff).post(reveal, {"reason": "核实发放名单"})
    assert paid.id_number in shown.content.decode()


def test_the_export_has_a_fixed_column_order(two_counties: Any, city_reviewer: Any) -> None:
    response = client_for(city_reviewer).get(reverse("subsidies:export"), {"semester": "2019春"})
    header = next(
        load_workbook(io.BytesIO(response.content)).active.iter_rows(max_row=1, values_only=True)
    )
    assert list(header[:10]) == [
        "序号",
        "县区",
        "就读学校",
        "学校标识码",
        "姓名",
        "身份证号",
        "性别",
        "学段",
        "年级",
        "是否寄宿",
    ]
    assert header[10] == "学前教育资助(元)" and header[-5:] == (
        "应享项目数",
        "已享项目数",
        "资助金额合计(元)",
        "最后发放日期",
        "是否告知",
    )


def test_a_notice_lists_what_was_paid_and_reads_back_with_python_docx(
    two_counties: Any, xuanzhou_staff: Any
) -> None:
    mine = two_counties["mine"]
    response = client_for(xuanzhou_staff).post(
        reverse("subsidies:notice_docx", args=[mine.pk]), {"semester": "2019春"}
    )
    assert response["Content-Type"].endswith("wordprocessingml.document")
    document = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "资助信息告知单" in text and "致家长朋友的一封信" in text and "2019年春季学期" in text
    assert mine.id_number not in text and mine.id_number[-4:] in text
    cells = [c.text for c in document.tables[0].rows[1].cells]
    assert cells[:3] == ["义务教育家庭经济困难学生生活补助", "500.00", "2019年06月10日"]
    assert Notice.objects.get(student=mine).generated_total == 500


def test_a_school_batch_is_one_document_with_a_page_per_student(
    spring: Any, xuanzhou_school: Any, school_staff: Any
) -> None:
    for n in range(3):
        add_student(xuanzhou_school, 10 + n, name=f"批{n}")
    response = client_for(school_staff).post(
        reverse("subsidies:school_notices_docx", args=[xuanzhou_school.pk]), {"semester": "2019春"}
    )
    document = Document(io.BytesIO(response.content))
    assert sum(1 for p in document.paragraphs if p.text == "资助信息告知单") == 3
    assert Notice.objects.count() == 3


@time_machine.travel(
    dt.datetime(2019, 6, 20, 9, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False
)
def test_recording_delivery_raises_the_informed_rate(
    two_counties: Any, xuanzhou_staff: Any, spring: Any
) -> None:
    client = client_for(xuanzhou_staff)
    mine = two_counties["mine"]
    response = client.post(
        reverse("subsidies:notice_record", args=[mine.pk]),
        {"semester": "2019春", "way": "signed", "on": "2019-06-18", "handled_by": "王老师"},
        follow=True,
    )
    assert "已登记告知情况。" in response.content.decode()
    notice = Notice.objects.get(student=mine)
    assert notice.signed_on == dt.date(2019, 6, 18) and notice.recorded_by == xuanzhou_staff
    notices_page = client.get(reverse("subsidies:notices"), {"semester": "2019春"}).content.decode()
    assert "100.0%" in notices_page
    future = client.post(
        reverse("subsidies:notice_record", args=[mine.pk]),
        {"semester": "2019春", "way": "visited", "on": "2019-07-01", "handled_by": "王老师"},
        follow=True,
    )
    assert "日期不能晚于今天。" in future.content.decode()


def test_delivery_needs_the_name_of_who_handled_it(
    two_counties: Any, xuanzhou_staff: Any, spring: Any
) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        notice_record_delivery(
            user=xuanzhou_staff,
            student=two_counties["mine"],
            semester=spring,
            way="delivered",
            on=dt.date(2019, 6, 1),
            handled_by=" ",
        )


def test_the_admin_import_runs_the_same_rules(
    two_counties: Any, admin_user: Any, langxi_school: Any
) -> None:
    client = client_for(admin_user)
    wb = Workbook()
    ws = wb.active
    ws.append(["2019年春季资助发放明细"])
    ws.append(["身份证号码", "学生姓名", "学校", "资助项目", "学期", "金额", "发放日期"])
    other = two_counties["other"]
    ws.append([other.id_number, "郎郎", "郎溪县实验小学", "生活补助", "2019春", 250, "2019.6.1"])
    ws.append([other.id_number, "郎郎", "郎溪县实验小学", "生活补助", "2019春", 250, "2019.6.2"])
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "明细.xlsx"
    url = reverse("admin:subsidies_disbursement_import")
    response = client.post(url, {"resource": "0", "format": "2", "import_file": buffer})
    if (
        response.status_code == 200
        and b"format" in response.content
        and "与第3行重复" not in response.content.decode()
    ):
        # The format index differs between versions; find xlsx in the form.
        import re

        options = re.findall(
            r'<option value="(\d+)"[^>]*>([^<]+)</option>', response.content.decode()
        )
        fmt = next(v for v, label in options if "xlsx" in label)
        buffer.seek(0)
        response = client.post(url, {"resource": "0", "format": fmt, "import_file": buffer})
    text = response.content.decode()
    assert "第4行 身份证号: 与第3行重复" in text
    assert Disbursement.objects.filter(id_number=other.id_number).count() == 0
