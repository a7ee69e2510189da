# Full-ID exports now go through tasks.export_personal_data with a logged reason
# (tasks/privacy.py); the app's own permission goes, with its grants.

from __future__ import annotations

from typing import Any

from django.db import migrations


def drop_permission(apps: Any, schema_editor: Any) -> None:
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="subsidies", codename="export_full_ids"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("subsidies", "0003_history"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="disbursement",
            options={
                "ordering": ["-semester__start", "school__order", "id_number"],
                "verbose_name": "资助发放明细",
                "verbose_name_plural": "资助发放明细",
            },
        ),
        migrations.RunPython(drop_permission, migrations.RunPython.noop),
    ]
