import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dropout", "0009_enrolment_spread"),
    ]

    # The covering index first, then the foreign key's own index goes (the covering
    # index starts with the same column): the table is never without one.
    operations = [
        migrations.AddIndex(
            model_name="enrolmentrecord",
            index=models.Index(
                fields=["snapshot", "id_number"],
                include=("school", "status", "name"),
                name="enrolment_snapshot_id_cover",
            ),
        ),
        migrations.AlterField(
            model_name="enrolmentrecord",
            name="snapshot",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="records",
                to="dropout.enrolmentsnapshot",
                verbose_name="学籍快照",
            ),
        ),
    ]
