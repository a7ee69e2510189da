"""The stored findings' counts per semester, county and stage (subsidies/findings.py)."""

from django.db import migrations, models

# The counts of the findings already stored, as findings._summary_sql counts them (a
# semester not built is counted by its build, like its findings). PostgreSQL only: nothing
# is stored elsewhere.
FILL = """
INSERT INTO subsidies_findingssummary
  (semester_id, county_id, stage, findings, missing, below, late, unowed, offroster,
   owed_late, incomplete)
SELECT semester_id, county_id, stage, SUM(findings), SUM(missing), SUM(below), SUM(late),
       SUM(unowed), SUM(offroster), SUM(owed_late), SUM(incomplete)
FROM (
  SELECT s.semester_id, COALESCE(s.county_id, 0) AS county_id, COALESCE(s.stage, '') AS stage,
         COUNT(*) AS findings, SUM(s.missing) AS missing, SUM(s.below) AS below,
         SUM(s.late) AS late, SUM(s.unowed) AS unowed, SUM(s.offroster) AS offroster,
         SUM(s.owed * s.late) AS owed_late, MAX(s.owed * s.missing) AS incomplete
  FROM subsidies_omissionfinding s
  WHERE s.semester_id IN (SELECT semester_id FROM subsidies_findingsbuilt)
  GROUP BY 1, 2, 3, s.id_number
) per
GROUP BY semester_id, county_id, stage
"""


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FILL)


class Migration(migrations.Migration):

    dependencies = [
        ('subsidies', '0009_upload_in_intake'),
    ]

    operations = [
        migrations.CreateModel(
            name='FindingsSummary',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('semester_id', models.IntegerField()),
                ('county_id', models.IntegerField()),
                ('stage', models.CharField(max_length=20)),
                ('findings', models.BigIntegerField()),
                ('missing', models.BigIntegerField()),
                ('below', models.BigIntegerField()),
                ('late', models.BigIntegerField()),
                ('unowed', models.BigIntegerField()),
                ('offroster', models.BigIntegerField()),
                ('owed_late', models.BigIntegerField()),
                ('incomplete', models.BigIntegerField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('semester_id', 'county_id', 'stage'), name='findings_summary_key')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
