"""Writes for the plan and its ledger. Views, admin, commands and jobs all call these."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from . import clock
from .evidence import evidence_check
from .models import (
    County,
    CountyCode,
    Deadline,
    Goal,
    LedgerEntry,
    LedgerEvidence,
    Plan,
    Responsibility,
    Task,
    TaskGroup,
    Unit,
)
from .selectors import ledger_units_for, user_may_review

PLAN_FILE = Path(settings.BASE_DIR) / "fixtures" / "plan_2019.json"


@dataclass
class LoadResult:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, model: str, created: bool, changed: bool) -> None:
        if created:
            self.created[model] = self.created.get(model, 0) + 1
        elif changed:
            self.updated[model] = self.updated.get(model, 0) + 1

    @property
    def changed_anything(self) -> bool:
        return bool(self.created or self.updated)


def _upsert(result: LoadResult, model: Any, lookup: dict[str, Any], values: dict[str, Any]) -> Any:
    """update_or_create that only writes when a value differs, so a reload changes nothing."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        result.count(model.__name__, True, False)
        return obj
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if changed:
        for k in changed:
            setattr(obj, k, values[k])
        obj.save(update_fields=changed)
        result.count(model.__name__, False, True)
    return obj


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@transaction.atomic
def plan_load(*, path: Path = PLAN_FILE) -> LoadResult:
    """Load (or reload) the plan, its units and deadlines from the JSON data file.

    Safe to re-run: a second run changes nothing. Plan text and units follow the file;
    deadlines are only created when missing, never overwritten, because administrators
    edit them. Responsibilities no longer in the file are removed.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    result = LoadResult()

    counties: dict[str, County] = {}
    for c in data["counties"]:
        county = _upsert(
            result, County, {"slug": c["slug"]}, {"name": c["name"], "order": c["order"]}
        )
        counties[c["slug"]] = county
        for code in c["codes"]:
            _upsert(
                result,
                CountyCode,
                {"code": code["code"]},
                {
                    "county": county,
                    "name": code["name"],
                    "is_current": code["is_current"],
                    "valid_from": _date(code["valid_from"]),
                    "valid_to": _date(code["valid_to"]),
                    "note": code["note"],
                },
            )

    units: dict[str, Unit] = {}
    for u in data["units"]:
        units[u["code"]] = _upsert(
            result,
            Unit,
            {"code": u["code"]},
            {
                "name": u["name"],
                "short_name": u["short_name"],
                "kind": u["kind"],
                "order": u["order"],
                "county": counties[u["county"]] if u.get("county") else None,
            },
        )
    for u in data["units"]:
        if u.get("parent"):
            _upsert(result, Unit, {"code": u["code"]}, {"parent": units[u["parent"]]})

    p = data["plan"]
    plan = _upsert(
        result,
        Plan,
        {"doc_number": p["doc_number"]},
        {
            "notice_title": p["notice_title"],
            "title": p["title"],
            "issued_on": _date(p["issued_on"]),
            "published_on": _date(p["published_on"]),
            "issuer": p["issuer"],
            "addressees": p["addressees"],
            "year": p["year"],
            "guiding_principle": p["guiding_principle"],
        },
    )
    for g in data["goals"]:
        _upsert(result, Goal, {"plan": plan, "number": g["number"]}, {"text": g["text"]})
    groups: dict[int, TaskGroup] = {}
    for g in data["groups"]:
        groups[g["number"]] = _upsert(
            result,
            TaskGroup,
            {"plan": plan, "number": g["number"]},
            {"numeral": g["numeral"], "title": g["title"], "units_text": g["units_text"]},
        )
    for t in data["tasks"]:
        task = _upsert(
            result,
            Task,
            {"group": groups[t["group"]], "number": t["number"]},
            {
                "text": t["text"],
                "units_text": t["units_text"],
                "cadence_text": t["cadence_text"],
            },
        )
        keep = []
        for order, r in enumerate(t["responsibilities"], start=1):
            resp = _upsert(
                result,
                Responsibility,
                {"task": task, "unit": units[r["unit"]]},
                {"lead": r["lead"], "order": order, "source_text": r["source_text"]},
            )
            keep.append(resp.pk)
        removed, _detail = Responsibility.objects.filter(task=task).exclude(pk__in=keep).delete()
        if removed:
            result.updated["Responsibility"] = result.updated.get("Responsibility", 0) + removed
        for d in t["deadlines"]:
            _obj, created = Deadline.objects.get_or_create(
                task=task,
                kind=d["kind"],
                period_start=_date(d["period_start"]),
                defaults={
                    "label": d["label"],
                    "period_end": _date(d["period_end"]),
                    "due_on": _date(d["due_on"]),
                    "stated_in_plan": d["stated_in_plan"],
                    "note": d["note"],
                },
            )
            result.count("Deadline", created, False)
    # Apps built on the plan add what they derive from it (subsidies: the semesters).
    for module in app_modules("plan"):
        module.plan_loaded(data=data, result=result)
    return result


def app_modules(name: str) -> list[Any]:
    """`<app>.<name>` of every project app that has one (roles, schedules, demo …)."""
    found = []
    for config in apps.get_app_configs():
        if not config.path.startswith(str(settings.BASE_DIR)):
            continue
        try:
            found.append(importlib.import_module(f"{config.name}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{name}":
                raise
    return found


def _role_modules() -> list[dict[str, list[str]]]:
    return [getattr(m, "ROLE_PERMISSIONS", {}) for m in app_modules("roles")]


@transaction.atomic
def schedules_sync() -> int:
    """Create the periodic jobs the apps' schedules.py list, in Asia/Shanghai time.

    Only missing rows are created: schedules an administrator changed stay as they are.
    Returns how many were created.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    created = 0
    for module in app_modules("schedules"):
        for item in getattr(module, "SCHEDULES", []):
            if PeriodicTask.objects.filter(name=item["name"]).exists():
                continue
            cron = {
                "minute": "0",
                "hour": "*",
                "day_of_week": "*",
                "day_of_month": "*",
                "month_of_year": "*",
            }
            cron.update(item["crontab"])
            crontab, _c = CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **cron)
            PeriodicTask.objects.create(
                name=item["name"],
                task=item["task"],
                crontab=crontab,
                kwargs=json.dumps(item.get("kwargs", {})),
            )
            created += 1
    return created


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create the role groups and set exactly the permissions the apps' roles.py list.

    Safe to re-run. Raises LookupError naming a permission that does not exist.
    """
    wanted: dict[str, set[str]] = {}
    for table in _role_modules():
        for role, perms in table.items():
            wanted.setdefault(role, set()).update(perms)
    counts = {}
    for role, wanted_perms in wanted.items():
        group, _created = Group.objects.get_or_create(name=role)
        if "*" in wanted_perms:
            qs = Permission.objects.all()
        else:
            pairs = [p.split(".", 1) for p in sorted(wanted_perms)]
            qs = Permission.objects.none()
            for app_label, codename in pairs:
                one = Permission.objects.filter(
                    content_type__app_label=app_label, codename=codename
                )
                if not one.exists():
                    raise LookupError(f"unknown permission {app_label}.{codename} for role {role}")
                qs = qs | one
        group.permissions.set(qs)
        counts[role] = group.permissions.count()
    return counts


def ledger_entry_submit(
    *,
    user: Any,
    task: Task,
    unit: Unit,
    period: dt.date,
    status: str,
    narrative: str,
    files: Sequence[UploadedFile] = (),
    revision_of: LedgerEntry | None = None,
) -> LedgerEntry:
    """Record one unit's progress on one task for one month, with evidence files.

    Creates a new entry (never edits one). With `revision_of`, the new entry corrects a
    returned entry, which stays as it was. Raises ValidationError (keyed by form field)
    when the user may not report for the unit, the unit is not responsible for the task,
    the status is unknown, the narrative is empty or a file is too large; then nothing is
    saved.
    """
    if unit not in ledger_units_for(user, task):
        raise ValidationError(
            {
                "unit": _("您无权为“%(unit)s”填报任务%(n)s的台账。")
                % {"unit": unit, "n": task.number}
            }
        )
    if status not in LedgerEntry.Status.values:
        raise ValidationError({"status": _("请选择进展状态。")})
    if not narrative.strip():
        raise ValidationError({"narrative": _("请填写工作情况。")})
    evidence_check(files)
    period = period.replace(day=1)
    with transaction.atomic():
        if revision_of is not None:
            # Lock the returned entry so two resubmissions cannot both claim it.
            original = LedgerEntry.objects.select_for_update().get(pk=revision_of.pk)
            if original.review != LedgerEntry.Review.RETURNED:
                raise ValidationError(_("只有被退回的记录才能更正后重新提交。"))
            if hasattr(original, "revision"):
                raise ValidationError(_("该记录已经更正过，请在最新的记录上操作。"))
            if original.task_id != task.pk or original.unit_id != unit.pk:
                raise ValidationError(_("更正记录必须与原记录属于同一任务和单位。"))
        entry = LedgerEntry.objects.create(
            task=task,
            unit=unit,
            period=period,
            status=status,
            narrative=narrative.strip(),
            submitted_by=user,
            revision_of=revision_of,
        )
        for f in files:
            LedgerEvidence.store(f, entry=entry)
    return entry


def ledger_entry_review(
    *, user: Any, entry: LedgerEntry, accept: bool, comment: str = ""
) -> LedgerEntry:
    """Accept a pending entry, or return it with a comment.

    Locks the entry, so two reviewers cannot both decide it; safe to call twice (the
    second call is refused).
    Raises ValidationError when the user may not review this task, the entry is no longer
    pending, or a return has no comment.
    """
    if not user_may_review(user, entry.task):
        raise ValidationError(_("您无权审核该任务的台账。"))
    if entry.submitted_by_id == user.pk and not user.is_superuser:
        raise ValidationError(_("不能审核自己填报的记录。"))
    comment = comment.strip()
    if not accept and not comment:
        raise ValidationError({"comment": _("退回时请填写审核意见，说明需要更正的内容。")})
    with transaction.atomic():
        # Lock, check, save (not a bare update()): two reviewers cannot both decide, and
        # the decision goes into the audit history like any other change.
        locked = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.review != LedgerEntry.Review.PENDING:
            raise ValidationError(_("该记录已被审核，无需重复操作。"))
        locked.review = LedgerEntry.Review.ACCEPTED if accept else LedgerEntry.Review.RETURNED
        locked.reviewed_by = user
        locked.reviewed_at = clock.now()
        locked.review_comment = comment
        locked.save(update_fields=["review", "reviewed_by", "reviewed_at", "review_comment"])
    entry.refresh_from_db()
    return entry
