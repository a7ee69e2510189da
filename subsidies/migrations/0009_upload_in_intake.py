"""The upload foreign keys point at intake.Upload (same table): state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # The column and its constraint already reference tasks_upload, Upload's table.

    dependencies = [
        ('intake', '0001_upload_moved_from_tasks'),
        ('subsidies', '0008_omission_findings'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='disbursement',
                    name='upload',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='intake.upload', verbose_name='来自上传'),
                ),
                migrations.AlterField(
                    model_name='historicaldisbursement',
                    name='upload',
                    field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='intake.upload', verbose_name='来自上传'),
                ),
            ],
        ),
    ]
