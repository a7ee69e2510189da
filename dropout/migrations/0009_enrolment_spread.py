"""The children enrolled in more than one county (dropout.EnrolmentSpread), kept by triggers.

A per-county cross-check used to scan the whole enrolment table (every county's registry)
to find its children's records elsewhere; with this table it reads its own registry and
only the few children who also have records in another county. Every statement that
writes a record (an import's COPY + INSERT … ON CONFLICT, the demo, the admin, a shell)
fires the trigger in its own transaction, so the table can never miss a child:

- PostgreSQL: one statement-level trigger per INSERT (transition table: one set-based
  INSERT … SELECT for the whole import), a row-level one for an UPDATE that moves a record
  to another child or snapshot (never an import's upsert, which keeps both), one for a
  snapshot whose county changes, and TRUNCATE empties it.
- SQLite: no triggers (its ALTER TABLE rebuilds a table, dropping them); the cross-check
  finds the same children from the registries there (dropout/selectors.py).

A DELETE leaves the rows (a superset only costs the cross-check one lookup). Loads that
skip triggers (the benchmark's `session_replication_role = replica`) call
`dropout.services.enrolment_spread_rebuild()` afterwards.
"""

# The SQL is built from the constant table names below, never from input.
# ruff: noqa: S608

from django.db import migrations, models

RECORDS = "dropout_enrolmentrecord"
SNAPSHOTS = "dropout_enrolmentsnapshot"
SPREAD = "dropout_enrolmentspread"


def spread_sql(children: str | None) -> str:
    """Add the (county, child) rows of the children in `children` (a subquery of ID numbers;
    None: every child) who have records in more than one county: one pass over their
    records grouped by child (a hash, no sort), then the counties of those few. The
    same statement as services.enrolment_spread_rebuild."""
    records = f"FROM {RECORDS} e JOIN {SNAPSHOTS} s ON s.id = e.snapshot_id"
    where = f" WHERE e.id_number IN ({children})" if children else ""
    several = (
        f"SELECT e.id_number {records}{where} GROUP BY e.id_number "
        "HAVING MIN(COALESCE(s.county_id, 0)) <> MAX(COALESCE(s.county_id, 0))"
    )
    return (
        f"INSERT INTO {SPREAD} (county_key, id_number) "
        f"SELECT DISTINCT COALESCE(s.county_id, 0), e.id_number {records} "
        f"WHERE e.id_number IN ({several}) ON CONFLICT DO NOTHING"
    )


def inserted_sql() -> str:
    """The statement trigger's INSERT: the new rows' children who have a record in another
    county, then their counties. Each child is looked up in the (id_number, snapshot)
    index twice, below and above its own snapshot, so that the lookup never meets the
    rows just written (not yet all-visible: each would cost a fetch from the table) nor
    the older snapshots' rows of other schools of the same registry in that snapshot."""
    several = " UNION ALL ".join(
        "SELECT n.id_number FROM (SELECT DISTINCT id_number, snapshot_id FROM new_rows) n "
        f"JOIN {SNAPSHOTS} ns ON ns.id = n.snapshot_id "
        f"JOIN {RECORDS} e ON e.id_number = n.id_number AND e.snapshot_id {side} n.snapshot_id "
        f"JOIN {SNAPSHOTS} s ON s.id = e.snapshot_id "
        "WHERE COALESCE(s.county_id, 0) <> COALESCE(ns.county_id, 0)"
        for side in ("<", ">")
    )
    return (
        f"INSERT INTO {SPREAD} (county_key, id_number) "
        f"SELECT DISTINCT COALESCE(s.county_id, 0), e.id_number "
        f"FROM {RECORDS} e JOIN {SNAPSHOTS} s ON s.id = e.snapshot_id "
        f"WHERE e.id_number = ANY(ARRAY({several})) ON CONFLICT DO NOTHING"
    )


def postgresql_triggers() -> list[str]:
    new_rows = inserted_sql()
    one_row = spread_sql("SELECT NEW.id_number")
    snapshot = spread_sql(f"SELECT id_number FROM {RECORDS} WHERE snapshot_id = NEW.id")
    return [
        "CREATE OR REPLACE FUNCTION xc_enrolment_spread_inserted() RETURNS trigger "
        # A whole county's registry in one statement: hash its children in memory.
        f"LANGUAGE plpgsql SET work_mem = '64MB' AS $$ BEGIN {new_rows}; RETURN NULL; END $$",
        "CREATE OR REPLACE FUNCTION xc_enrolment_spread_moved() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {one_row}; RETURN NULL; END $$",
        "CREATE OR REPLACE FUNCTION xc_enrolment_spread_snapshot() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {snapshot}; RETURN NULL; END $$",
        "CREATE OR REPLACE FUNCTION xc_enrolment_spread_truncate() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN DELETE FROM {SPREAD}; RETURN NULL; END $$",
        f"CREATE TRIGGER {RECORDS}_spread_insert AFTER INSERT ON {RECORDS} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION xc_enrolment_spread_inserted()",
        f"CREATE TRIGGER {RECORDS}_spread_update AFTER UPDATE OF id_number, snapshot_id "
        f"ON {RECORDS} FOR EACH ROW WHEN (OLD.id_number IS DISTINCT FROM NEW.id_number "
        "OR OLD.snapshot_id IS DISTINCT FROM NEW.snapshot_id) "
        "EXECUTE FUNCTION xc_enrolment_spread_moved()",
        f"CREATE TRIGGER {SNAPSHOTS}_spread_county AFTER UPDATE OF county_id ON {SNAPSHOTS} "
        "FOR EACH ROW WHEN (OLD.county_id IS DISTINCT FROM NEW.county_id) "
        "EXECUTE FUNCTION xc_enrolment_spread_snapshot()",
        f"CREATE TRIGGER {RECORDS}_spread_truncate AFTER TRUNCATE ON {RECORDS} "
        "FOR EACH STATEMENT EXECUTE FUNCTION xc_enrolment_spread_truncate()",
    ]


def create_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    # The records already stored, then the triggers for every later write.
    schema_editor.execute(spread_sql(None))
    for statement in postgresql_triggers():
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name in (
        (RECORDS, f"{RECORDS}_spread_insert"),
        (RECORDS, f"{RECORDS}_spread_update"),
        (SNAPSHOTS, f"{SNAPSHOTS}_spread_county"),
        (RECORDS, f"{RECORDS}_spread_truncate"),
    ):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for function in ("inserted", "moved", "snapshot", "truncate"):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS xc_enrolment_spread_{function}()")


class Migration(migrations.Migration):
    dependencies = [
        ("dropout", "0008_finding_poor_not_enrolled"),
    ]

    operations = [
        migrations.CreateModel(
            name="EnrolmentSpread",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("id_number", models.CharField(max_length=18, verbose_name="身份证号")),
                ("county_key", models.IntegerField(verbose_name="县市区")),
            ],
            options={
                "verbose_name": "跨县学籍儿童",
                "verbose_name_plural": "跨县学籍儿童",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("county_key", "id_number"),
                        name="enrolmentspread_unique_county_child",
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
