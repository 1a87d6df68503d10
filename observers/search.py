"""Full-text search over excerpt text and translation, behind one interface.

SQLite: an FTS5 table (`observers_excerpt_fts`) with external content, kept in sync with
`observers_excerpt` by triggers. PostgreSQL: a GIN index on the same tsvector expression the
query uses. Either way the user's words are reduced to plain terms, so operators, quotes and
punctuation cannot change the meaning of the query or break it.
"""

import re
from contextlib import contextmanager

from django.db import connection
from django.db.models import FloatField
from django.db.models.expressions import RawSQL

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
TERM = re.compile(r"\w+", re.UNICODE)

PG_VECTOR_OF = "to_tsvector('simple'::regconfig, {table}text || ' ' || {table}translation)"
PG_VECTOR = PG_VECTOR_OF.format(table="observers_excerpt.")

SQLITE_FTS_SETUP = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS observers_excerpt_fts USING fts5(
        text, translation, content='observers_excerpt', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER IF NOT EXISTS observers_excerpt_fts_insert AFTER INSERT ON observers_excerpt BEGIN
        INSERT INTO observers_excerpt_fts(rowid, text, translation) VALUES (new.id, new.text, new.translation);
    END""",
    """CREATE TRIGGER IF NOT EXISTS observers_excerpt_fts_delete AFTER DELETE ON observers_excerpt BEGIN
        INSERT INTO observers_excerpt_fts(observers_excerpt_fts, rowid, text, translation)
        VALUES ('delete', old.id, old.text, old.translation);
    END""",
    """CREATE TRIGGER IF NOT EXISTS observers_excerpt_fts_update AFTER UPDATE OF text, translation
    ON observers_excerpt BEGIN
        INSERT INTO observers_excerpt_fts(observers_excerpt_fts, rowid, text, translation)
        VALUES ('delete', old.id, old.text, old.translation);
        INSERT INTO observers_excerpt_fts(rowid, text, translation) VALUES (new.id, new.text, new.translation);
    END""",
    "INSERT INTO observers_excerpt_fts(observers_excerpt_fts) VALUES ('rebuild')",
]
SQLITE_FTS_TEARDOWN = [
    "DROP TRIGGER IF EXISTS observers_excerpt_fts_insert",
    "DROP TRIGGER IF EXISTS observers_excerpt_fts_delete",
    "DROP TRIGGER IF EXISTS observers_excerpt_fts_update",
    "DROP TABLE IF EXISTS observers_excerpt_fts",
]
PG_FTS_SETUP = [
    "CREATE INDEX IF NOT EXISTS observers_excerpt_search ON observers_excerpt "
    f"USING gin (({PG_VECTOR_OF.format(table='')}))"
]
PG_FTS_TEARDOWN = ["DROP INDEX IF EXISTS observers_excerpt_search"]


def terms(query):
    """The plain words of a user's query, at most MAX_TERMS of them."""
    return TERM.findall((query or "")[:MAX_QUERY_LENGTH].lower())[:MAX_TERMS]


# In both back ends the SQL text is constant: the user's words only travel as query parameters.


def _sqlite_match(words):
    # Each word becomes a quoted FTS5 string: no operator, column filter or syntax survives.
    return " ".join('"{}"'.format(word.replace('"', '""')) for word in words)


def matching(queryset, query):
    """Excerpts containing every word of the query, in text or translation."""
    words = terms(query)
    if not words:
        return queryset.none()
    # A self-contained subquery on ids: it stays valid wherever Django nests the queryset (facets,
    # counts), since it names no outer table.
    if connection.vendor == "postgresql":
        matches = RawSQL(  # noqa: S611  # nosec B611
            f"SELECT id FROM observers_excerpt WHERE {PG_VECTOR} @@ plainto_tsquery('simple'::regconfig, %s)",  # noqa: S608  # nosec B608
            [" ".join(words)],
        )
    else:
        matches = RawSQL(
            "SELECT rowid FROM observers_excerpt_fts WHERE observers_excerpt_fts MATCH %s", [_sqlite_match(words)]
        )
    return queryset.filter(pk__in=matches)


def ranked_ids(queryset, query, offset, limit):
    """The ids of one page of `queryset`, most relevant to `query` first.

    Only the page is ranked: the ranking reads the full-text index once, joined to the filtered ids,
    rather than once per row.
    """
    words = terms(query)
    if connection.vendor == "postgresql":
        rank = RawSQL(  # noqa: S611  # nosec B611
            f"ts_rank({PG_VECTOR}, plainto_tsquery('simple'::regconfig, %s))", [" ".join(words)], FloatField()
        )
        ranked = queryset.order_by().annotate(rank=rank).order_by("-rank", "-pk")
        return list(ranked.values_list("pk", flat=True)[offset : offset + limit])
    ids_sql, ids_params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        # bm25 (FTS5's rank) is lower for better matches.
        cursor.execute(
            "SELECT rowid FROM observers_excerpt_fts WHERE observers_excerpt_fts MATCH %s "  # noqa: S608
            f"AND rowid IN ({ids_sql}) ORDER BY rank, rowid DESC LIMIT %s OFFSET %s",  # nosec B608
            [_sqlite_match(words), *ids_params, limit, offset],
        )
        return [row[0] for row in cursor.fetchall()]


@contextmanager
def paused(cursor):
    """Bulk loading: stop keeping the index row by row, and rebuild it once at the end."""
    vendor = connection.vendor
    teardown = {"sqlite": SQLITE_FTS_TEARDOWN, "postgresql": PG_FTS_TEARDOWN}.get(vendor, [])
    setup = {"sqlite": SQLITE_FTS_SETUP, "postgresql": PG_FTS_SETUP}.get(vendor, [])
    for statement in teardown:
        cursor.execute(statement)
    try:
        yield
    finally:
        for statement in setup:
            cursor.execute(statement)


def ensure_installed(using="default", **kwargs):
    """Reinstall the index if a migration dropped it: on SQLite, rebuilding a table drops its triggers."""
    from django.db import connections

    target = connections[using]
    with target.cursor() as cursor:
        if target.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'observers_excerpt_fts_%%'"
            )
            missing = cursor.fetchone()[0] < 3
            statements = SQLITE_FTS_SETUP
        elif target.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'observers_excerpt_search'")
            missing = cursor.fetchone()[0] == 0
            statements = PG_FTS_SETUP
        else:
            return
        if missing:
            for statement in statements:
                cursor.execute(statement)


def install(schema_editor):
    statements = {"sqlite": SQLITE_FTS_SETUP, "postgresql": PG_FTS_SETUP}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def uninstall(schema_editor):
    statements = {"sqlite": SQLITE_FTS_TEARDOWN, "postgresql": PG_FTS_TEARDOWN}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)
