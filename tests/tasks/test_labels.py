from __future__ import annotations

from decimal import Decimal

from django.template import Context, Template


def render(source: str, **values: object) -> str:
    return Template("{% load labels intake_labels %}" + source).render(Context(values))


def test_it_names_sheet_kinds_in_chinese_never_by_their_code() -> None:
    assert render("{{ k|kind_name }}", k="disbursements") == "资助发放明细"
    assert render("{{ k|kind_name }}", k="enrolment") == "学籍"
    assert render("{{ k|kind_name }}", k="no-such-kind") == "其他表格"


def test_it_writes_money_with_cents_and_thousands_separators() -> None:
    assert render("{{ a|money }} 元", a=Decimal("1250")) == "1,250.00 元"
    assert render("{{ a|money }}", a=Decimal("312.5")) == "312.50"


def test_it_writes_escalation_levels_and_run_triggers_in_words() -> None:
    assert render("{{ n|escalation_level }}", n=1) == "第一次督办"
    assert render("{{ n|escalation_level }}", n=2) == "第二次督办"
    assert render("{{ t|trigger_name }}", t="demo") == "演示数据"
    assert render("{{ t|trigger_name }}", t="job") == "定时任务"


def test_it_ends_a_typed_comment_with_one_full_stop() -> None:
    assert render("退回：{{ c|sentence }}请修改", c="请补充材料。") == "退回：请补充材料。请修改"
    assert render("退回：{{ c|sentence }}请修改", c="请补充材料") == "退回：请补充材料。请修改"
