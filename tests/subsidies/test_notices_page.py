from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from tasks.models import RosterStudent, User

pytestmark = pytest.mark.django_db

ROW = re.compile(r"<tr><td>(.*?)</td>", re.S)


def rows_of(html: str) -> list[str]:
    table = html.split('id="notice-students"', 1)[1].split("</table>", 1)[0]
    return ROW.findall(table.split("<tbody>", 1)[1])


def test_it_pages_the_students_and_names_a_school_for_each(plan: None) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    RosterStudent.objects.filter(pk=RosterStudent.objects.order_by("pk").first().pk).update(  # type: ignore[union-attr]
        school=None
    )
    client = Client()
    client.force_login(User.objects.get(username="reviewer"))
    total = RosterStudent.objects.filter(is_active=True).count()
    assert total > 50, "the demo roster should need more than one page"

    first = client.get("/subsidies/notices/", {"semester": "2019春"}).content.decode()
    second = client.get("/subsidies/notices/", {"semester": "2019春", "page": "2"}).content.decode()
    assert f"共 {total} 名" in first and "第 1 / " in first
    assert len(rows_of(first)) == 50 and rows_of(second)
    assert all(cell.strip() for cell in rows_of(first) + rows_of(second))
    assert "学校未登记" in first + "".join(
        client.get("/subsidies/notices/", {"semester": "2019春", "page": str(n)}).content.decode()
        for n in range(3, total // 50 + 2)
    )

    wrong = client.get("/subsidies/notices/", {"semester": "2019春", "page": "abc"})
    assert wrong.status_code == 200 and "第 1 / " in wrong.content.decode()
