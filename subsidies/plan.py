"""The semesters of the plan, created by `load_plan` (see `tasks.services.plan_load`).

Task 3 states the payment deadlines per semester (春季学期6月15日前、秋季学期9月25日前); a
semester deadline in the plan data that carries `semester` becomes that `Semester`, whose
deadline *is* the plan's row. Only missing semesters are created: one an administrator
edited stays as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tasks.models import Deadline
from tasks.services import LoadResult

from .models import Semester


def plan_loaded(*, data: dict[str, Any], result: LoadResult) -> None:
    """Create the plan's missing semesters. Safe to re-run: a second run changes nothing."""
    doc_number = data["plan"]["doc_number"]
    for task in data["tasks"]:
        for d in task["deadlines"]:
            s = d.get("semester")
            if not s or Semester.objects.filter(code=s["code"]).exists():
                continue
            deadline = Deadline.objects.get(
                task__group__plan__doc_number=doc_number,
                task__number=task["number"],
                kind=d["kind"],
                period_start=dt.date.fromisoformat(d["period_start"]),
            )
            Semester.objects.create(
                code=s["code"],
                year=s["year"],
                term=s["term"],
                start=dt.date.fromisoformat(s["start"]),
                end=dt.date.fromisoformat(s["end"]),
                plan_deadline=deadline,
                note=s.get("note", ""),
            )
            result.count("Semester", True, False)
