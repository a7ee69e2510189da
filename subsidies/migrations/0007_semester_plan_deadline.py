"""A semester's deadline becomes the plan's task-3 Deadline row (one source of truth).

Each existing semester is linked to the semester deadline of the plan whose period holds
the semester's start (task 3 first). The plan's date wins where the two disagreed: it is
the one the deadline checks and reminders have been using. A semester with no such row
gets one on task 3, with its old date, so nothing is lost.
"""

from django.db import migrations, models
import django.db.models.deletion

PAYMENT_TASK = 3


def link_semesters(apps, schema_editor):
    Semester = apps.get_model("subsidies", "Semester")
    Deadline = apps.get_model("tasks", "Deadline")
    Task = apps.get_model("tasks", "Task")
    for semester in Semester.objects.filter(plan_deadline__isnull=True).order_by("start"):
        candidates = Deadline.objects.filter(
            kind="semester",
            period_start__lte=semester.start,
            period_end__gte=semester.start,
            semester__isnull=True,
        )
        deadline = (
            candidates.filter(task__number=PAYMENT_TASK).first()
            or candidates.order_by("task__number").first()
        )
        if deadline is None:
            task = Task.objects.filter(number=PAYMENT_TASK).first()
            if task is None:
                raise RuntimeError(
                    f"学期 {semester.code} 找不到工作计划任务{PAYMENT_TASK}：请先运行 load_plan 再迁移"
                    f" (semester {semester.code}: run load_plan before this migration)"
                )
            deadline = Deadline.objects.create(
                task=task,
                kind="semester",
                label=f"{semester.year}{semester.term}季学期",
                period_start=semester.start,
                period_end=semester.end,
                due_on=semester.deadline,
                note=semester.note[:200],
            )
        semester.plan_deadline = deadline
        semester.save(update_fields=["plan_deadline"])


def unlink_semesters(apps, schema_editor):
    Semester = apps.get_model("subsidies", "Semester")
    HistoricalSemester = apps.get_model("subsidies", "HistoricalSemester")
    Deadline = apps.get_model("tasks", "Deadline")
    for semester in Semester.objects.select_related("plan_deadline"):
        semester.deadline = semester.plan_deadline.due_on
        semester.save(update_fields=["deadline"])
    # History written since has no date of its own: give it its deadline row's (else the
    # term's end), so the column can be NOT NULL again.
    due = dict(Deadline.objects.values_list("pk", "due_on"))
    for row in HistoricalSemester.objects.filter(deadline__isnull=True):
        row.deadline = due.get(row.plan_deadline_id) or row.end
        row.save(update_fields=["deadline"])


class Migration(migrations.Migration):
    dependencies = [
        ("subsidies", "0006_clock_stamps"),
        ("tasks", "0005_clock_stamps"),
    ]

    operations = [
        migrations.AlterField(
            model_name="semester",
            name="deadline",
            field=models.DateField(null=True, verbose_name="发放截止日期"),
        ),
        migrations.AlterField(
            model_name="historicalsemester",
            name="deadline",
            field=models.DateField(null=True, verbose_name="发放截止日期"),
        ),
        migrations.AddField(
            model_name="semester",
            name="plan_deadline",
            field=models.OneToOneField(
                help_text="工作计划中该学期的资助发放截止时限；日期在“截止时限”中修改",
                limit_choices_to={"kind": "semester"},
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="semester",
                to="tasks.deadline",
                verbose_name="发放截止时限",
            ),
        ),
        migrations.AddField(
            model_name="historicalsemester",
            name="plan_deadline",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="工作计划中该学期的资助发放截止时限；日期在“截止时限”中修改",
                limit_choices_to={"kind": "semester"},
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="tasks.deadline",
                verbose_name="发放截止时限",
            ),
        ),
        migrations.RunPython(link_semesters, unlink_semesters),
        migrations.RemoveField(model_name="semester", name="deadline"),
        migrations.RemoveField(model_name="historicalsemester", name="deadline"),
        migrations.AlterField(
            model_name="semester",
            name="plan_deadline",
            field=models.OneToOneField(
                help_text="工作计划中该学期的资助发放截止时限；日期在“截止时限”中修改",
                limit_choices_to={"kind": "semester"},
                on_delete=django.db.models.deletion.PROTECT,
                related_name="semester",
                to="tasks.deadline",
                verbose_name="发放截止时限",
            ),
        ),
    ]
