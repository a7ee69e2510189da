"""Words the bureau writes: dates as 2019年6月15日, tasks by a short name a reader knows
("资助资金发放", never "任务3"), and outstanding items in plain sentences.

One place for these so the to-do list, the monthly review and the circular say the same
thing the same way.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

#: Short names of the 2019 plan's 22 tasks (教秘计〔2019〕5号), as a 科长 would name
#: them in a circular. Written from each task's text in fixtures/plan_2019.json; a task
#: missing here (a later plan) falls back to its first clause (`_derived`).
TASK_SHORT_NAMES: dict[int, str] = {
    1: "巡视反馈意见整改",
    2: "学生资助实施办法制定",
    3: "建档立卡学生资助发放",
    4: "资助信息系统应用培训",
    5: "学生资助进展按月统计上报",
    6: "资助信息系统运行维护",
    7: "向扶贫部门报送资助数据",
    8: "资助政策告知和大走访",
    9: "学籍基础数据统计",
    10: "学籍户籍数据比对核查",
    11: "控辍保学",
    12: "乡村教师信息技术培训",
    13: "职业学校招生和分流指导",
    14: "建档立卡学生就业台账",
    15: "农村劳动者职业技能培训",
    16: "推普脱贫攻坚",
    17: "月点评、季通报",
    18: "教育助学项目协调推进",
    19: "教育助学脱贫宣传",
    20: "教育扶贫财政投入信息报告",
    21: "常态化明查暗访",
    22: "工作台账和资料管理",
}


def date_words(day: dt.date) -> str:
    """2019-06-15 → 2019年6月15日 (the only way a date is written in a document)."""
    return f"{day.year}年{day.month}月{day.day}日"


def month_day_words(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def semester_words(code: str | None) -> str:
    """ "2019春" → "2019年春季学期"."""
    if not code:
        return "本学期"
    m = re.match(r"^(\d{4})([春秋])$", code)
    return f"{m.group(1)}年{m.group(2)}季学期" if m else code


def _derived(text: str) -> str:
    first = re.split(r"[。，,；;]", text, maxsplit=1)[0].strip()
    return first if len(first) <= 16 else first[:16]


def task_short_name(task: Any) -> str:
    """The short name of a task (`Task` or anything with `number` and `text`)."""
    return TASK_SHORT_NAMES.get(task.number) or _derived(task.text)


def deadline_words(deadline: Any) -> str:
    """A deadline as a reader names it: the task's short name and the deadline's label,
    without saying the same thing twice ("巡视反馈意见整改", "“控辍保学”2019年5月")."""
    name, label = task_short_name(deadline.task), str(deadline.label)
    if name in label or label in name:
        return label if len(label) >= len(name) else name
    return f"“{name}”{label}"


def short_name_of_number(number: int, text: str = "") -> str:
    return TASK_SHORT_NAMES.get(number) or _derived(text) or f"第{number}项任务"


_CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
_SPACE_AFTER_CJK = re.compile(rf"(?<={_CJK})\s+|\s+(?={_CJK})")
_TASK_REF = re.compile(r"任务(\d+)\s*")
_COUNTY_PREFIX = re.compile(r"^[^：:]{2,12}[：:]")
_UNPAID = re.compile(r"^(\d+)\s*名建档立卡学生\s*(\d{4}[春秋])\s*资助未发放到位$")


_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")


def tidy(text: str) -> str:
    """No stray spaces around Chinese text ("37 名" → "37名"), and dates in words
    ("2019-05-20" → "2019年5月20日") wherever a stored text carries one."""
    text = _ISO_DATE.sub(lambda m: f"{int(m[1])}年{int(m[2])}月{int(m[3])}日", text)
    return _SPACE_AFTER_CJK.sub("", text).strip()


def plain_item(item: str, unit_name: str = "") -> str:
    """An outstanding item as the deadline check stored it ("宣州区：37 名建档立卡学生
    2019春 资助未发放到位", "任务5 2019年5月台账未填报") in words for a unit's sentence:
    no unit prefix (the sentence names the unit), tasks by short name, no stray spaces."""
    text = item.strip()
    if unit_name and text.startswith(unit_name):
        text = text[len(unit_name) :].lstrip("：:")
    else:
        text = _COUNTY_PREFIX.sub("", text) if "名建档立卡学生" in text else text
    unpaid = _UNPAID.match(text.strip())
    if unpaid:
        n, code = unpaid.groups()
        return f"尚有{n}名建档立卡学生{semester_words(code)}资助未发放到位"
    m = _TASK_REF.match(text)
    if m:
        name = short_name_of_number(int(m.group(1)))
        rest = tidy(text[m.end() :])
        # "2019年5月台账未填报" → "2019年5月“学生资助进展按月统计上报”台账未填报"
        split = re.match(r"^(.*?)(台账.*)$", rest)
        text = f"{split.group(1)}“{name}”{split.group(2)}" if split else f"“{name}”{rest}"
    return tidy(text)
