"""What `load_plan` derives for the tasks app beyond the plan itself: the tasks'
indicators (see `tasks.services.plan_load`, which calls every app's `plan.plan_loaded`).

The plan file lists each task's indicators under "indicators" with a stable `code`.
Only missing codes are created: an indicator an administrator renamed, re-measured or
switched off stays as they left it, and a second run changes nothing.
"""

from __future__ import annotations

from typing import Any

from .models import Indicator, Task
from .services import LoadResult


def plan_loaded(*, data: dict[str, Any], result: LoadResult) -> None:
    """Create the plan's missing indicators. Safe to re-run."""
    doc_number = data["plan"]["doc_number"]
    known = set(Indicator.objects.values_list("code", flat=True))
    for task_data in data["tasks"]:
        wanted = [i for i in task_data.get("indicators", []) if i["code"] not in known]
        if not wanted:
            continue
        task = Task.objects.get(group__plan__doc_number=doc_number, number=task_data["number"])
        for order, item in enumerate(task_data["indicators"], start=1):
            if item["code"] in known:
                continue
            Indicator.objects.create(
                task=task,
                code=item["code"],
                name=item["name"],
                measure=item["measure"],
                sums_over_months=item["sums_over_months"],
                order=order,
            )
            known.add(item["code"])
            result.count("Indicator", True, False)
