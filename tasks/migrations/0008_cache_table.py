"""The database cache table (`xc_cache`), so `migrate` alone makes a working database.

Figures and the deadline checks read the cache; before this
migration a fresh install needed a separate `createcachetable`. Django's own command
does the work (every database cache in CACHES, skipping a table that already exists, so
installs that ran it by hand are unaffected).
"""

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import BaseDatabaseCache
from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_tables(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    for alias in settings.CACHES:
        cache = caches[alias]
        if isinstance(cache, BaseDatabaseCache):
            schema_editor.execute(f"DROP TABLE IF EXISTS {quote(cache._table)}")


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0007_deadline_rectification_kind"),
    ]

    operations = [
        migrations.RunPython(create_cache_tables, drop_cache_tables, elidable=False),
    ]
