"""The upload foreign keys point at intake.Upload (same table): state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # The column and its constraint already reference tasks_upload, Upload's table.

    dependencies = [
        ('employment', '0001_graduates_and_guidance'),
        ('intake', '0001_upload_moved_from_tasks'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='graduate',
                    name='upload',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='intake.upload', verbose_name='来自上传'),
                ),
                migrations.AlterField(
                    model_name='historicalgraduate',
                    name='upload',
                    field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='intake.upload', verbose_name='来自上传'),
                ),
            ],
        ),
    ]
