"""The employment ledger (task 14): the sheet, its refusals, the command, the 30-day flag
and the to-do line, scoping, and the guidance form — as users meet them."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from employment.models import Destination, Graduate, GuidanceRecord
from employment.services import guidance_record
from reports.todo import todo_for
from tasks.clock import today
from xc_fupin.lib.idnumber import make_id_number, mask_id_number

from .conftest import sheet

pytestmark = pytest.mark.django_db

Run = Callable[..., tuple[bool, str]]


def ident(i: int, area: str = "341802") -> str:
    return make_id_number(area, dt.date(2001, 3, 1 + i), 200 + i)


# (ID, name, destination, graduated, employer, income)
ROWS = [
    (ident(1), "王子涵", "就业", "2018-06-30", "宣城某机械有限公司", 3400),
    (ident(2), "李欣怡", "已就业", "2019-06-10", "广德某电子有限公司", "3,100元"),
    (ident(3), "张浩然", "升学", "2019-06-10", "宣城职业技术学院", None),
    (ident(4), "刘雨桐", "未就业", "2018-06-30", "", None),  # a year out, never guided
    (ident(5), "陈明轩", "待就业", "2019-06-10", "", None),  # graduated six days ago
]


def rows(data: list[tuple[Any, ...]] = ROWS, school: str = "宣州区职业技术学校") -> bytes:
    return sheet(
        [
            [
                i,
                name,
                school,
                "数控技术应用",
                grad,
                dest,
                emp,
                "宣城市",
                "操作工",
                inc,
                "13800001111",
            ]
            for i, name, dest, grad, emp, inc in data
        ]
    )


def command(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("employment", *args, stdout=out)
    return out.getvalue().splitlines()


def test_a_county_sheet_imports_and_the_command_counts_it(
    import_sheet: Run, xuanzhou_vocational: Any
) -> None:
    ok, out = import_sheet(rows())
    assert ok, out
    assert Graduate.objects.count() == len(ROWS)
    g = Graduate.objects.get(id_number=ident(2))
    assert g.destination == Destination.EMPLOYED  # 已就业 is 就业
    assert str(g.monthly_income) == "3100.00"
    assert g.county is not None and g.county.slug == "xuanzhou"
    assert g.household_county is not None and g.household_county.slug == "xuanzhou"

    lines = command()
    not_employed = [r for r in ROWS if r[2] in {"未就业", "待就业"}]
    # One line per graduate not employed, ID masked, then the counts.
    assert len(lines) == len(not_employed) + 1
    for r in not_employed:
        assert any(mask_id_number(r[0]) in line for line in lines[:-1])
    assert not any(r[0] in "\n".join(lines) for r in ROWS)  # no full ID anywhere
    stale = [r for r in not_employed if dt.date.fromisoformat(r[3]) < today() - dt.timedelta(30)]
    assert lines[-1] == (
        f"graduates {len(ROWS)}, employed {len(ROWS) - len(not_employed)}, "
        f"not employed {len(not_employed)}, without guidance in 30 days {len(stale)}"
    )
    assert command("--county", "341821")[-1] == (
        "graduates 0, employed 0, not employed 0, without guidance in 30 days 0"
    )


def test_a_re_import_updates_and_keeps_without_duplicates(
    import_sheet: Run, xuanzhou_vocational: Any, xuanzhou_staff: Any
) -> None:
    assert import_sheet(rows())[0]
    graduate = Graduate.objects.get(id_number=ident(4))
    guidance_record(
        graduate=graduate, user=xuanzhou_staff, given_on=today(), adviser="汪老师", content="回访"
    )
    ok, _out = import_sheet(rows())  # the same file again: nothing changes
    assert ok
    assert Graduate.objects.count() == len(ROWS)
    assert graduate.history.count() == 2  # imported, guidance dates; not re-written

    found_work = list(ROWS)
    found_work[3] = (ident(4), "刘雨桐", "就业", "2018-06-30", "宁国某汽车零部件有限公司", 3300)
    assert import_sheet(rows(found_work))[0]
    graduate.refresh_from_db()
    assert graduate.destination == Destination.EMPLOYED
    assert graduate.employer == "宁国某汽车零部件有限公司"
    assert Graduate.objects.count() == len(ROWS)
    assert graduate.guidance.count() == 1  # the import never touches guidance
    assert graduate.history.first().history_source.startswith("上传#")


BAD = {
    "unknown school": (3, "学校", "不存在的职业学校", "不在学校名单中"),
    "wrong type": (10, "月收入", "三千", ""),
    "date after today": (5, "毕业时间", "2019-07-01", "晚于今天"),
    "unknown destination": (6, "去向", "打工", "无法识别的去向"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_row_is_named_and_nothing_is_applied(
    import_sheet: Run, xuanzhou_vocational: Any, case: str
) -> None:
    column_index, column, value, why = BAD[case]
    data = [
        [i, name, "宣州区职业技术学校", "会计", grad, dest, emp, "", "", inc, ""]
        for i, name, dest, grad, emp, inc in ROWS
    ]
    data[2][column_index - 1 if column_index != 10 else 9] = value
    ok, out = import_sheet(sheet(data))
    assert not ok
    # Row 5: a title row, the header, then the third student.
    line = next(x for x in out.splitlines() if x.startswith("第5行"))
    assert line.startswith(f"第5行 {column}: ")
    assert why in line
    assert Graduate.objects.count() == 0  # the good rows are not applied either


def test_a_duplicate_row_is_refused(import_sheet: Run, xuanzhou_vocational: Any) -> None:
    ok, out = import_sheet(rows([*ROWS, ROWS[0]]))
    assert not ok
    assert f"第{len(ROWS) + 3}行 身份证号: 与第3行重复" in out
    assert Graduate.objects.count() == 0


def test_another_countys_school_is_refused_without_naming_the_row(
    import_sheet: Run, xuanzhou_vocational: Any, langxi_vocational: Any
) -> None:
    ok, out = import_sheet(rows(ROWS[:1], school="郎溪县职业技术学校"))
    assert not ok
    assert "第3行 学校: 该校不属于本单位管辖范围" in out
    assert "郎溪" not in out and "王子涵" not in out
    assert Graduate.objects.count() == 0


def test_thirty_days_without_guidance_flags_and_reaches_the_to_do(
    import_sheet: Run,
    xuanzhou_vocational: Any,
    xuanzhou_staff: Any,
    langxi_staff: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert import_sheet(rows())[0]
    never = Graduate.objects.get(id_number=ident(4))
    fresh = Graduate.objects.get(id_number=ident(5))
    day = today()
    assert never.needs_guidance(day) and not fresh.needs_guidance(day)

    def todo_line(user: Any) -> str:
        return next((i.title for i in todo_for(user, today()) if "就业指导" in i.title), "")

    assert todo_line(xuanzhou_staff).startswith("1名")
    assert todo_line(langxi_staff) == ""  # another county's graduates are not its work
    guidance_record(
        graduate=never, user=xuanzhou_staff, given_on=day, adviser="汪老师", content="推荐岗位"
    )
    assert todo_line(xuanzhou_staff) == ""
    # 31 days later both are due again: the fresh graduate never had guidance.
    monkeypatch.setenv("XC_TODAY", (day + dt.timedelta(days=31)).isoformat())
    assert todo_line(xuanzhou_staff).startswith("2名")
    assert command()[-1].endswith("without guidance in 30 days 2")


def test_each_county_sees_its_own_graduates_only(
    import_sheet: Run,
    xuanzhou_vocational: Any,
    langxi_vocational: Any,
    xuanzhou_staff: Any,
    langxi_staff: Any,
    city_reviewer: Any,
) -> None:
    assert import_sheet(rows(ROWS[:3]))[0]
    langxi_row = [(ident(9, "341821"), "赵思远", "未就业", "2018-06-30", "", None)]
    assert import_sheet(rows(langxi_row, school="郎溪县职业技术学校"), unit="langxi-jtj")[0]
    xz = Graduate.objects.get(id_number=ident(1))

    langxi = Client()
    langxi.force_login(langxi_staff)
    page = langxi.get(reverse("employment:ledger")).content.decode()
    assert mask_id_number(ident(9, "341821")) in page
    assert mask_id_number(ident(1)) not in page and "宣州区职业技术学校" not in page
    assert langxi.get(reverse("employment:graduate", args=[xz.pk])).status_code == 404
    answer = langxi.post(
        reverse("employment:guidance", args=[xz.pk]),
        {"given_on": "2019-06-16", "adviser": "x", "content": "x"},
    )
    assert answer.status_code == 404
    book = load_workbook(io.BytesIO(langxi.get(reverse("employment:export")).content))
    ids = [r[0] for r in book["就业台账"].iter_rows(min_row=2, values_only=True)]
    assert ids == [mask_id_number(ident(9, "341821"))]

    city = Client()
    city.force_login(city_reviewer)
    page = city.get(reverse("employment:ledger")).content.decode()
    assert "宣州区" in page and "郎溪县" in page
    assert ident(1) not in page  # masked for the city too
    book = load_workbook(io.BytesIO(city.get(reverse("employment:export")).content))
    counts = {r[0]: r for r in book["分县区统计"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert counts["宣州区"][1] == 3 and counts["郎溪县"][1] == 1
    assert counts["合计"][1] == 4 and isinstance(counts["合计"][1], int)


def test_the_guidance_form_is_for_the_county_and_school_of_the_graduate(
    import_sheet: Run,
    xuanzhou_vocational: Any,
    xuanzhou_staff: Any,
    vocational_staff: Any,
    city_reviewer: Any,
    leader: Any,
) -> None:
    assert import_sheet(rows())[0]
    graduate = Graduate.objects.get(id_number=ident(4))
    employed = Graduate.objects.get(id_number=ident(1))
    url = reverse("employment:graduate", args=[graduate.pk])
    post = reverse("employment:guidance", args=[graduate.pk])

    for reader in (city_reviewer, leader):
        client = Client()
        client.force_login(reader)
        page = client.get(url).content.decode()
        assert "30天未指导" in page and "添加指导记录" not in page
        assert client.post(post, {"given_on": "2019-06-16"}).status_code == 403

    county = Client()
    county.force_login(xuanzhou_staff)
    assert "添加指导记录" in county.get(url).content.decode()
    assert (
        "添加指导记录"
        not in county.get(reverse("employment:graduate", args=[employed.pk])).content.decode()
    )
    response = county.post(
        post,
        {"given_on": "2019-06-20", "adviser": "汪老师", "content": "电话回访"},
        follow=True,
    )
    assert "指导日期不能晚于今天" in response.content.decode()
    assert GuidanceRecord.objects.count() == 0
    response = county.post(
        post,
        {
            "given_on": "2019-06-14",
            "adviser": "汪老师",
            "content": "电话回访，推荐招聘会岗位两个",
            "next_step": "跟进面试结果",
            "next_on": "2019-06-28",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "已记录2019-06-14的就业指导" in page and "电话回访，推荐招聘会岗位两个" in page
    assert "30天未指导" not in page
    graduate.refresh_from_db()
    assert graduate.last_guidance_on == dt.date(2019, 6, 14)
    assert graduate.next_guidance_on == dt.date(2019, 6, 28)
    record = graduate.guidance.get()
    assert record.recorded_by == xuanzhou_staff
    assert record.history.get().history_user == xuanzhou_staff

    school = Client()
    school.force_login(vocational_staff)
    assert "添加指导记录" in school.get(url).content.decode()
    refused = school.post(
        reverse("employment:guidance", args=[employed.pk]),
        {"given_on": "2019-06-14", "adviser": "方老师", "content": "回访"},
        follow=True,
    )
    assert "一对一就业指导只记录未就业的毕业生" in refused.content.decode()
    assert employed.guidance.count() == 0


def test_the_demo_fills_the_ledger_on_its_clock(plan: None) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    qs = Graduate.objects.all()
    assert qs.count() > 20
    assert not qs.filter(graduation_date__gt=today()).exists()
    assert not GuidanceRecord.objects.filter(given_on__gt=today()).exists()
    assert qs.filter(destination=Destination.NOT_EMPLOYED).exists()
    assert qs.without_guidance(today()).exists()  # something for the to-do list
    flagged = set(qs.without_guidance(today()))
    assert any(g.guidance.exists() for g in qs.not_employed() if g not in flagged)
