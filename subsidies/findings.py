"""The omission check's findings, maintained instead of recomputed on every page.

Why: the check is one pass joining the roster (1,000,000 students x the items each is
owed) to the semester's payments (1,000,000): at that scale 4+ s against 0.65 s for a
bare NOT EXISTS count, and EXPLAIN (ANALYZE, BUFFERS) shows the time in the hash FULL
JOIN and its aggregation over ~1.4M owed pairs — work no index can skip, since every
student may be a finding. What a page needs is only the findings (a few per cent of
those pairs): counts per county and the first page. So the findings of each semester are
stored (OmissionFinding, the same rows the single pass produces, city-wide), and a page
reads that one narrow table.

Keeping them right, whatever writes:
- PostgreSQL triggers (migration 0008) record in FindingsDirty every ID number whose
  roster row or payments a statement touched — imports, the admin, COPY, bulk updates
  alike — and mark every semester unbuilt when the rules change (standards, items,
  semesters) or a table is truncated.
- The check reads stored findings of clean IDs plus the dirty IDs' findings computed live
  (index look-ups), so a page is right even before anything is refreshed, and a GET
  never writes.
- `refresh()` folds the dirty IDs in, set-based, in the writer's transaction: the subsidy
  imports call it after writing, the admin's saves through signals, the figures job too.
- `build()` computes a semester's findings whole (the figures job builds any semester not
  built; `manage.py warm_figures` runs that job).
- Their counts per county and stage (FindingsSummary) follow them in the same statements'
  transaction: a refresh takes off the counts of the findings it deletes and adds those
  of the findings it inserts. A county's figures and omission counts then read a few
  rows instead of grouping its ~70,000 findings per student (0.2–0.3 s at province
  scale, on every import's first page).

Elsewhere than PostgreSQL nothing is stored: the check runs its single pass.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from tasks import clock

from .models import FindingsBuilt, FindingsDirty, FindingsSummary, OmissionFinding, Semester

FINDINGS = OmissionFinding._meta.db_table
DIRTY = FindingsDirty._meta.db_table
BUILT = FindingsBuilt._meta.db_table
SUMMARY = FindingsSummary._meta.db_table
SUMMARY_COUNTS = (
    "findings",
    "missing",
    "below",
    "late",
    "unowed",
    "offroster",
    "owed_late",
    "incomplete",
)
COLUMNS = (
    "id_number, county_id, school_id, stage, owed, item_id, top, amount, paid_on, "
    "paid_school_id, missing, below, late, unowed, offroster"
)
# Any constant: the first key of the advisory lock that serialises builds and refreshes.
_LOCK = 72020
# Past this many dirty IDs a whole rebuild (one pass) is cheaper than look-ups per ID.
REBUILD_ABOVE = 200_000


def enabled() -> bool:
    return connection.vendor == "postgresql"


def is_built(semester: Semester) -> bool:
    return enabled() and FindingsBuilt.objects.filter(semester_id=semester.pk).exists()


def dirty() -> bool:
    """Whether some IDs changed since their findings were stored (not folded in yet)."""
    return enabled() and FindingsDirty.objects.exists()


def stored_sql(semester: Semester, rules: Any) -> tuple[str, list[Any]]:
    """The CTEs up to `f` for a built semester: its stored findings of IDs not changed
    since, and the changed IDs' findings computed live."""
    from tasks.scoping import EVERYTHING

    if not FindingsDirty.objects.exists():
        # The usual case (writers refresh in their transaction): the table alone, so that
        # the page is read off its index in order and the counts in one pass.
        return (
            f"WITH f AS (SELECT {COLUMNS} FROM {FINDINGS} WHERE semester_id = %s)",  # noqa: S608
            [semester.pk],
        )

    from .omission_sql import OmissionFilters, _base_sql

    live, params = _base_sql(
        semester,
        EVERYTHING,
        OmissionFilters(),
        rules,
        stored=True,
        only_ids=f"SELECT id_number FROM {DIRTY}",  # noqa: S608 - a constant table name
    )
    sql = f"""{live},
f AS (
  SELECT {COLUMNS} FROM {FINDINGS} s
  WHERE s.semester_id = %s
    AND NOT EXISTS (SELECT 1 FROM {DIRTY} x WHERE x.id_number = s.id_number)
  UNION ALL
  SELECT {COLUMNS} FROM live
)"""  # noqa: S608 - constant table names only
    return sql, [*params, semester.pk]


def _insert(semester: Semester, only_ids: str = "") -> int:
    """Compute and store the semester's findings (of the IDs `only_ids` selects); with
    `only_ids`, their counts are added to the summary by the same statement. Returns the
    rows inserted (with `only_ids`: the summary rows written)."""
    from tasks.scoping import EVERYTHING

    from .lookups import semester_rules
    from .omission_sql import OmissionFilters, _base_sql

    live, params = _base_sql(
        semester,
        EVERYTHING,
        OmissionFilters(),
        semester_rules(semester),
        stored=True,
        only_ids=only_ids,
    )
    # In the page's order: a county's findings then lie together on disk, and its
    # pages and figures read a few hundred blocks, not one per finding.
    order = " ORDER BY county_id, school_id, id_number, item_id" if not only_ids else ""
    insert = (
        f"INSERT INTO {FINDINGS} (semester_id, {COLUMNS}) SELECT %s, {COLUMNS} FROM live{order}"  # noqa: S608
    )
    sql = f"{live} {insert}"
    if only_ids:
        # The counts from the inserted rows themselves, not a second look-up per ID.
        sql = (
            f"{live}, added AS ({insert} RETURNING {COLUMNS}), {_summary_sql('added', semester, 1)}"
        )
    with connection.cursor() as cursor:
        # One statement; the planner's cost crosses the JIT threshold and compiling costs
        # more than it saves (as for the check itself).
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, [*params, semester.pk])
        return cursor.rowcount


def _summary_sql(rows: str, semester: Semester, sign: int) -> str:
    """A CTE and the statement that add (`sign` -1: take off) the counts of the findings
    `rows` (a table or CTE of the semester's findings, columns as COLUMNS) to the summary.
    Per student first: a student's findings are all of one county and stage, so "missing
    an item owed" counts the student once."""
    columns = ", ".join(SUMMARY_COUNTS)
    sums = ", ".join(f"{-1 if sign < 0 else 1} * SUM({c})" for c in SUMMARY_COUNTS)
    sets = ", ".join(f"{c} = {SUMMARY}.{c} + EXCLUDED.{c}" for c in SUMMARY_COUNTS)
    return f"""per AS (
  SELECT COALESCE(s.county_id, 0) AS county_id, COALESCE(s.stage, '') AS stage,
         COUNT(*) AS findings, SUM(s.missing) AS missing, SUM(s.below) AS below,
         SUM(s.late) AS late, SUM(s.unowed) AS unowed, SUM(s.offroster) AS offroster,
         SUM(s.owed * s.late) AS owed_late, MAX(s.owed * s.missing) AS incomplete
  FROM {rows} s
  GROUP BY 1, 2, s.id_number
)
INSERT INTO {SUMMARY} (semester_id, county_id, stage, {columns})
SELECT {int(semester.pk)}, county_id, stage, {sums} FROM per GROUP BY county_id, stage
ON CONFLICT (semester_id, county_id, stage) DO UPDATE SET {sets}"""  # noqa: S608 - constant names only


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])


def build(semesters: list[Semester] | None = None) -> dict[str, int]:
    """Compute the findings of `semesters` (default: every semester) whole. With every
    semester, the dirty IDs are folded in as well (they are all recomputed)."""
    if not enabled():
        return {}
    counts: dict[str, int] = {}
    with transaction.atomic():
        _lock()
        whole = semesters is None
        if whole:
            semesters = list(Semester.objects.all())
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {DIRTY}")  # noqa: S608
        assert semesters is not None
        for semester in semesters:
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {FINDINGS} WHERE semester_id = %s", [semester.pk])  # noqa: S608
                cursor.execute(f"DELETE FROM {SUMMARY} WHERE semester_id = %s", [semester.pk])  # noqa: S608
            counts[semester.code] = _insert(semester)
            with connection.cursor() as cursor:
                stored = f"(SELECT * FROM {FINDINGS} WHERE semester_id = {int(semester.pk)})"  # noqa: S608
                cursor.execute(f"WITH {_summary_sql(stored, semester, 1)}")
            FindingsBuilt.objects.update_or_create(
                semester_id=semester.pk, defaults={"built_at": clock.now()}
            )
        if whole:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {FINDINGS}")
    return counts


def refresh() -> int:
    """Fold the IDs changed since into the stored findings of every built semester, in the
    caller's transaction; returns how many IDs. Set-based: a delete and an insert per
    semester, whatever the number of IDs."""
    if not enabled():
        return 0
    with transaction.atomic():
        built = list(FindingsBuilt.objects.values_list("semester_id", flat=True))
        if not built:
            # Nothing stored: nothing to keep right. The marks are moot (a build recomputes all).
            if FindingsDirty.objects.exists():
                FindingsDirty.objects.all().delete()
            return 0
        if not FindingsDirty.objects.exists():
            return 0
        _lock()
        with connection.cursor() as cursor:
            # Take the marks first: an ID changed again by another transaction meanwhile is
            # marked anew (its insert waits on our delete), never lost.
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS findings_refresh_ids (id_number varchar(18)) "
                "ON COMMIT DELETE ROWS"
            )
            cursor.execute("DELETE FROM findings_refresh_ids")
            cursor.execute(
                f"WITH taken AS (DELETE FROM {DIRTY} RETURNING id_number) "  # noqa: S608
                "INSERT INTO findings_refresh_ids SELECT id_number FROM taken"
            )
            taken = cursor.rowcount
            cursor.execute("ANALYZE findings_refresh_ids")
        semesters = list(Semester.objects.filter(pk__in=built))
        if taken > REBUILD_ABOVE:
            build(semesters)
            return taken
        ids = "SELECT id_number FROM findings_refresh_ids"
        for semester in semesters:
            with connection.cursor() as cursor:
                # The counts of what goes come off the summary in the same statement.
                cursor.execute(
                    f"WITH gone AS (DELETE FROM {FINDINGS} s WHERE s.semester_id = %s "  # noqa: S608
                    f"AND s.id_number IN ({ids}) RETURNING {COLUMNS}), "
                    + _summary_sql("gone", semester, -1),
                    [semester.pk],
                )
            _insert(semester, only_ids=ids)
        with connection.cursor() as cursor:
            # A county or stage left with no finding has no row, as after a build.
            cursor.execute(f"DELETE FROM {SUMMARY} WHERE findings = 0")  # noqa: S608
        return taken


def build_missing() -> dict[str, int]:
    """Build every semester not built yet (the figures job; never a page)."""
    if not enabled():
        return {}
    built = set(FindingsBuilt.objects.values_list("semester_id", flat=True))
    missing = [s for s in Semester.objects.all() if s.pk not in built]
    if not missing:
        return {}
    if not built:
        return build()
    return build(missing)
