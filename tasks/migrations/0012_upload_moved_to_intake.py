"""Upload has moved to intake (intake 0001): tasks forgets it. State only: the tables
tasks_upload and tasks_historicalupload are intake's now, kept under their names."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # After every foreign key to the upload points at intake.Upload.

    dependencies = [
        ('dropout', '0007_upload_in_intake'),
        ('employment', '0002_upload_in_intake'),
        ('intake', '0001_upload_moved_from_tasks'),
        ('poverty', '0002_upload_in_intake'),
        ('subsidies', '0009_upload_in_intake'),
        ('tasks', '0011_indicators'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='upload',
                    name='unit',
                ),
                migrations.RemoveField(
                    model_name='upload',
                    name='uploaded_by',
                ),
                migrations.AlterField(
                    model_name='rostersnapshot',
                    name='upload',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='intake.upload', verbose_name='来自上传'),
                ),
                migrations.DeleteModel(
                    name='HistoricalUpload',
                ),
                migrations.DeleteModel(
                    name='Upload',
                ),
            ],
        ),
    ]
