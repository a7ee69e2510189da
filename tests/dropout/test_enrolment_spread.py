"""The children enrolled in more than one county (EnrolmentSpread), which a per-county
cross-check reads instead of every other county's registry: an import, a correction or
a record written any other way keeps it right, and a county's own run then finds what
the one pass over the city finds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction

from dropout.imports import ENROLMENT
from dropout.models import EnrolmentRecord, EnrolmentSpread, FindingKind
from dropout.services import crosscheck_run, crosscheck_run_many, enrolment_spread_rebuild
from intake.base import ImportContext
from tasks.models import County
from tasks.scoping import user_scope
from xc_fupin.lib.sheets import read_table

from ..factories import make_school
from .builders import LANGXI, enrol, household, kid
from .registry_export import Pupil, registry_xlsx

AS_OF = dt.date(2019, 9, 30)
CHECK = dt.date(2019, 10, 15)
A = kid("2010-05-01", 1)  # enrolled in 宣州区 (import) and in 郎溪县
B = kid("2009-02-03", 2)  # enrolled in 宣州区 only
M = kid("2011-06-07", 3, area=LANGXI)  # on 郎溪县's household list, enrolled in 宣州区
# Past compulsory age, on 郎溪县's list and enrolled in 宣州区 only: no rule of 郎溪县's own
# registry points at it; only the look-up in the other registries does.
P = kid("2002-03-04", 4, area=LANGXI)


@pytest.fixture
def primary(plan: None) -> Any:
    return make_school("xuanzhou", "宣州区水阳镇中心小学", "2134001101", ["小学"])


def import_xuanzhou(user: Any, pupils: list[Pupil]) -> None:
    table = read_table(
        registry_xlsx(pupils), filename="学生基本信息.xlsx", columns=ENROLMENT.columns
    )
    ctx = ImportContext(user=user, scope=user_scope(user), unit=user.unit, options={"as_of": AS_OF})
    result = ENROLMENT.validate(table, ctx)
    assert [str(e) for e in result.errors] == []
    ctx.options["crosscheck"] = False
    with transaction.atomic():
        ENROLMENT.apply(result, ctx)


def pupil(id_number: str, name: str) -> Pupil:
    return Pupil("2134001101", "宣城市宣州区水阳镇中心小学", name, id_number, "三年级")


#: PostgreSQL keeps the table by triggers; SQLite keeps none (its cross-check finds the
#: same children from the registries).
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="EnrolmentSpread is kept on PostgreSQL only"
)


def spread() -> set[tuple[str, str]]:
    slugs = dict(County.objects.values_list("pk", "slug"))
    return {
        (i, slugs.get(k, "市直"))
        for i, k in EnrolmentSpread.objects.values_list("id_number", "county_key")
    }


def found(outcomes: Any) -> set[tuple[str, str]]:
    return {(f.kind, f.id_number) for o in outcomes for f in o.findings}


@postgresql_only
@pytest.mark.parametrize("copy", [True, False], ids=["copy", "orm"])
def test_an_import_records_a_child_already_enrolled_in_another_county(
    copy: bool,
    monkeypatch: pytest.MonkeyPatch,
    xuanzhou_staff: Any,
    primary: Any,
    langxi_school: Any,
) -> None:
    # From COPY_THRESHOLD rows on, PostgreSQL writes with COPY: both paths keep the table.
    monkeypatch.setattr("dropout.imports.COPY_THRESHOLD", 0 if copy else 10**6)
    enrol(A, "张三", langxi_school)
    assert spread() == set()
    import_xuanzhou(xuanzhou_staff, [pupil(A, "张三"), pupil(B, "李四")])
    assert spread() == {(A, "xuanzhou"), (A, "langxi")}
    # Imported again unchanged, or corrected (an upsert): nothing new, nothing lost.
    import_xuanzhou(xuanzhou_staff, [pupil(A, "张叁"), pupil(B, "李四")])
    assert spread() == {(A, "xuanzhou"), (A, "langxi")}
    # The rebuild the benchmark uses after its trigger-less load says the same.
    enrolment_spread_rebuild()
    assert spread() == {(A, "xuanzhou"), (A, "langxi")}


@postgresql_only
def test_a_record_moved_to_another_child_is_recorded(primary: Any, langxi_school: Any) -> None:
    enrol(A, "张三", langxi_school)
    wrong = enrol(kid("2010-05-01", 9), "李四", primary)
    assert spread() == set()
    # A correction of the ID number, however it is written (here a bulk UPDATE).
    EnrolmentRecord.objects.filter(pk=wrong.pk).update(id_number=A)
    assert spread() == {(A, "xuanzhou"), (A, "langxi")}


def test_each_countys_own_run_finds_what_the_one_pass_finds(
    xuanzhou_staff: Any, primary: Any, langxi_school: Any, xuanzhou: Any, langxi: Any
) -> None:
    enrol(A, "张三", langxi_school)
    household(M, "王五", county_slug="langxi")
    household(P, "赵六", county_slug="langxi")
    import_xuanzhou(
        xuanzhou_staff,
        [pupil(A, "张三"), pupil(B, "李四"), pupil(M, "王武"), pupil(P, "赵陆")],
    )
    per_county = [crosscheck_run(county=c, as_of=CHECK) for c in (xuanzhou, langxi)]
    # A is enrolled at a school of each county; M, on 郎溪县's list, is enrolled in
    # 宣州区 under another name: 郎溪县's own run reads 宣州区's record of M (and of P,
    # who is past compulsory age).
    expected = {
        (FindingKind.DOUBLE_ENROLLED, A),
        (FindingKind.NAME_MISMATCH, M),
        (FindingKind.NAME_MISMATCH, P),
    }
    assert found(per_county) == expected
    assert found([per_county[1]]) == expected
    counties = list(County.objects.filter(pk__in=[xuanzhou.pk, langxi.pk]).order_by("order"))
    assert found(crosscheck_run_many(counties=counties, as_of=CHECK)) == expected
    everywhere = crosscheck_run_many(counties=list(County.objects.order_by("order")), as_of=CHECK)
    assert found(everywhere) == expected
