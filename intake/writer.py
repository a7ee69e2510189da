"""The one bulk writer of every import: many rows in, with their audit trail, in the
caller's transaction.

- PostgreSQL: the rows are streamed with COPY into a temporary table, then one statement
  inserts them (`ON CONFLICT DO NOTHING` for insert-or-ignore, `DO UPDATE` for upsert)
  and, from what it RETURNs, writes the historical row of every row it inserted ("+") or
  changed ("~"), stamped with the audit source (tasks/audit.py) — set-based, no Python
  loop over the rows after the COPY.
- Elsewhere (SQLite, the embedded default): the keys already stored are read in chunks,
  then `bulk_create` (with `update_conflicts` for upsert) and `audit.bulk_created`.

A row a concurrent upload inserted after validation is left alone (ignore) or updated
(upsert) instead of failing the whole file.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models

from tasks import audit, clock

CHUNK = 5000  # keys per lookup query: well under SQLite's 32,766 parameters
Mode = Literal["ignore", "upsert"]


@dataclass(frozen=True)
class Written:
    inserted: int
    updated: int


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def bulk_write(
    model: type[models.Model],
    rows: Sequence[Sequence[Any]],
    *,
    fields: Sequence[str],
    conflict: Sequence[str],
    mode: Mode = "ignore",
    update: Sequence[str] = (),
    constants: dict[str, Any] | None = None,
    copy_from: int = 0,
) -> Written:
    """Write `rows` (tuples of values in the order of `fields`, attnames such as
    "school_id") into `model`'s table; `constants` are the same for every row (the
    upload, the time). `conflict` is the unique key; `update` the fields an upsert sets.
    On PostgreSQL, COPY is used from `copy_from` rows on (0: always).

    Runs in the caller's transaction; returns how many rows were inserted and updated.
    """
    constants = dict(constants or {})
    if not rows:
        return Written(0, 0)
    if connection.vendor == "postgresql" and len(rows) >= copy_from:
        return _copy(model, rows, fields, conflict, mode, update, constants)
    return _orm(model, rows, fields, conflict, mode, update, constants)


# --- ORM path ------------------------------------------------------------------------


def _stored_keys(
    model: type[models.Model], keys: list[tuple[Any, ...]], conflict: Sequence[str]
) -> set[tuple[Any, ...]]:
    """Which of `keys` are already stored: chunked on the key column with most values."""
    distinct = [sorted({k[i] for k in keys}, key=str) for i in range(len(conflict))]
    widest = max(range(len(conflict)), key=lambda i: len(distinct[i]))
    others = {conflict[i]: distinct[i] for i in range(len(conflict)) if i != widest}
    stored: set[tuple[Any, ...]] = set()
    for chunk in chunks(distinct[widest]):
        filters = {f"{conflict[widest]}__in": chunk}
        filters.update({f"{name}__in": values for name, values in others.items()})
        stored.update(model._default_manager.filter(**filters).values_list(*conflict))
    return stored


def _orm(
    model: type[models.Model],
    rows: Sequence[Sequence[Any]],
    fields: Sequence[str],
    conflict: Sequence[str],
    mode: Mode,
    update: Sequence[str],
    constants: dict[str, Any],
) -> Written:
    positions = [fields.index(name) for name in conflict]
    keys = [tuple(row[i] for i in positions) for row in rows]
    stored = _stored_keys(model, keys, conflict)
    objs, existed = [], []
    for row, key in zip(rows, keys, strict=True):
        if mode == "ignore" and key in stored:
            continue
        objs.append(model(**dict(zip(fields, row, strict=True)), **constants))
        existed.append(key in stored)
    manager = model._default_manager
    if mode == "ignore":
        manager.bulk_create(objs, batch_size=2000)
        audit.bulk_created(model, objs)
        return Written(len(objs), 0)
    names = [model._meta.get_field(f).name for f in (*update, *constants)]
    written = manager.bulk_create(
        objs,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=[model._meta.get_field(f).name for f in conflict],
        update_fields=list(dict.fromkeys(names)),
    )
    new = [o for o, old in zip(written, existed, strict=True) if not old]
    changed = [o for o, old in zip(written, existed, strict=True) if old]
    audit.bulk_created(model, new)
    audit.bulk_created(model, changed, update=True)
    return Written(len(new), len(changed))


# --- PostgreSQL path -----------------------------------------------------------------

_NULL = "\\N"
_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: Any) -> str:
    return _NULL if value is None else str(value).translate(_TEXT_ESCAPES)


def _plain(value: Any) -> str:
    # Numbers, dates and booleans never hold a tab, newline or backslash.
    if value is None:
        return _NULL
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, (dt.date, Decimal, int)):
        return str(value)
    return _text(value)


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), name  # a concrete column, not a relation
    return field


def _column(model: type[models.Model], name: str) -> str:
    return str(_field(model, name).column)


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], str]:
    if isinstance(field, (models.CharField, models.TextField)):
        return _text
    return _plain


def _copy_buffer(
    model: type[models.Model], rows: Sequence[Sequence[Any]], fields: Sequence[str]
) -> io.StringIO:
    converters = [_converter(_field(model, f)) for f in fields]
    if all(c is _text for c in converters):
        lines = ["\t".join(map(_text, row)) for row in rows]
    else:
        pairs = list(enumerate(converters))
        lines = ["\t".join([c(row[i]) for i, c in pairs]) for row in rows]
    lines.append("")
    return io.StringIO("\n".join(lines))


def _history_sql(model: type[models.Model], source_sql: str) -> tuple[str, list[Any]]:
    """`INSERT INTO <historical table> … SELECT … FROM <source_sql>`: one historical row per
    returned row ("+" where `xc_inserted`, else "~"), stamped like `audit.bulk_created`."""
    historical = model.history.model  # type: ignore[attr-defined]
    tracked = {f.attname for f in model._meta.concrete_fields}
    source = audit.current_source()
    stamps: dict[str, Any] = {
        "history_date": clock.now(),
        "history_user_id": getattr(source.user, "pk", None),
        "history_change_reason": source.label[:100] or None,
        "history_source": (source.label or "系统")[:100],
        "history_upload_id": source.upload_id,
    }
    columns, values, params = [], [], []
    for field in historical._meta.concrete_fields:
        if field.primary_key:
            continue  # history_id: its own sequence
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in tracked:
            values.append(connection.ops.quote_name(field.column))
        elif field.attname == "history_type":
            values.append("CASE WHEN xc_inserted THEN '+' ELSE '~' END")
        elif field.attname in stamps:
            values.append("%s")
            params.append(stamps[field.attname])
        else:
            raise ImproperlyConfigured(f"{historical._meta.label}.{field.attname}")
    sql = (
        f"INSERT INTO {historical._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 - names from models
        f"SELECT {', '.join(values)} FROM {source_sql}"
    )
    return sql, params


def _copy(
    model: type[models.Model],
    rows: Sequence[Sequence[Any]],
    fields: Sequence[str],
    conflict: Sequence[str],
    mode: Mode,
    update: Sequence[str],
    constants: dict[str, Any],
) -> Written:
    meta = model._meta
    table = meta.db_table
    quote = connection.ops.quote_name
    loaded = [_column(model, f) for f in fields]
    fixed = [_column(model, f) for f in constants]
    load_cols = ", ".join(map(quote, loaded))
    all_cols = ", ".join(map(quote, [*loaded, *fixed]))
    select = ", ".join([*map(quote, loaded), *(["%s"] * len(fixed))])
    keys = ", ".join(quote(_column(model, f)) for f in conflict)
    if mode == "ignore":
        on_conflict = f"ON CONFLICT ({keys}) DO NOTHING"
    else:
        sets = [_column(model, f) for f in (*update, *constants)]
        assignments = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in dict.fromkeys(sets))
        on_conflict = f"ON CONFLICT ({keys}) DO UPDATE SET {assignments}"
    insert = f"INSERT INTO {table} ({all_cols}) SELECT {select} FROM xc_load {on_conflict}"  # noqa: S608 - names from models
    params = list(constants.values())
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS xc_load")
        # The loaded columns' types, none of the table's constraints or defaults.
        cursor.execute(
            f"CREATE TEMP TABLE xc_load ON COMMIT DROP AS SELECT {load_cols} FROM {table} WITH NO DATA"  # noqa: S608
        )
        cursor.cursor.copy_expert(  # type: ignore[attr-defined]
            f"COPY xc_load ({load_cols}) FROM STDIN", _copy_buffer(model, rows, fields)
        )
        returning = "RETURNING *, (xmax = 0) AS xc_inserted"
        count = "SELECT count(*) FILTER (WHERE xc_inserted), count(*) FROM"
        if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            history, history_params = _history_sql(model, "written")
            cursor.execute(
                f"WITH written AS ({insert} {returning}), "
                f"recorded AS ({history} RETURNING 1) "
                f"{count} written",
                params + history_params,
            )
        else:
            cursor.execute(f"WITH written AS ({insert} {returning}) {count} written", params)
        inserted, total = cursor.fetchone()
        written = Written(inserted, total - inserted)
        cursor.execute("DROP TABLE xc_load")
    return written


def snapshot_ids(model: Any, rows: Sequence[dict[str, Any]]) -> dict[tuple[Any, Any], int]:
    """The pk of the snapshot (county, date) of every row, created where missing — the
    registry's and the poverty office's imports add to a county's list of that date.
    Sorted, so two imports lock snapshot rows in the same order."""
    keys = sorted({(r["county_id"], r["as_of"]) for r in rows}, key=lambda k: (k[0] or 0, k[1]))
    return {
        (county_id, as_of): model.objects.get_or_create(county_id=county_id, as_of=as_of)[0].pk
        for county_id, as_of in keys
    }
