"""The plan board's cache key: the board (22 tasks, each responsible unit's latest ledger
state, what is overdue) is the same for every user on a day and changes only when the
plan's rows or the ledger change, yet it was rebuilt — ~700 model instances and ~110
status chips — on every landing page. Its rendered fragment is cached (`{% cache %}` in
tasks/board.html) under the day and the "plan" data version, which every save or delete
of a row it reads moves, in the writer's own transaction (the ledger and the plan are
written row by row — services, the admin, load_plan — never with queryset.update() or
bulk writes, so the model signals see every change)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models.signals import post_delete, post_save

from . import figures

AREA = "plan"


def board_key(day: dt.date) -> str:
    return f"{day.isoformat()}:{figures.data_version(AREA)}"


def _changed(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loaddata: the fixture's rows, before any page is cached
        return
    figures.data_changed(AREA)


def connect_board_signals() -> None:
    from .models import Deadline, LedgerEntry, Plan, Responsibility, Task, TaskGroup, Unit

    for model in (Plan, TaskGroup, Task, Responsibility, Deadline, LedgerEntry, Unit):
        uid = f"plan-board-{model._meta.label}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}-delete")
