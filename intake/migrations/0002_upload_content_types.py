"""The upload's content types and its resume job follow the model to intake.

Moving the ContentType rows (not creating new ones) keeps every Permission row that
points at them, so the groups' grants and each user's own permissions stay as they
were; the permission names become intake.add_upload, intake.view_upload … A fresh
database has no such rows yet: Django creates intake's after the migrations.
"""

from django.db import migrations

MODELS = ("upload", "historicalupload")
OLD_JOB = "tasks.jobs.uploads_resume"
NEW_JOB = "intake.jobs.uploads_resume"


def forwards(apps, schema_editor):
    _move(apps, "tasks", "intake")
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=OLD_JOB).update(
        task=NEW_JOB
    )


def backwards(apps, schema_editor):
    _move(apps, "intake", "tasks")
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=NEW_JOB).update(
        task=OLD_JOB
    )


def _move(apps, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in MODELS:
        moving = ContentType.objects.filter(app_label=old, model=model).first()
        if moving is None:
            continue
        there = ContentType.objects.filter(app_label=new, model=model).first()
        if there is not None:
            # Both exist (Django made the new one, e.g. a migrate run before this one):
            # the old one's permissions win, since the grants point at them.
            Permission.objects.filter(content_type=there).delete()
            there.delete()
        moving.app_label = new
        moving.save(update_fields=["app_label"])


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0001_upload_moved_from_tasks"),
        ("tasks", "0012_upload_moved_to_intake"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
