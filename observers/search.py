"""Full-text search over excerpt text and translation, behind one interface.

SQLite: an FTS5 table (`observers_excerpt_fts`) with external content, kept in sync with
`observers_excerpt` by triggers and keyed by the excerpts' sort key. PostgreSQL: a GIN index on
the excerpt's stored tsvector (a generated column, models.SearchDocument). Either way the user's
words are reduced to plain terms, so operators, quotes and punctuation cannot change the meaning of
the query or break it.
"""

import re
from contextlib import contextmanager

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
TERM = re.compile(r"\w+", re.UNICODE)

SQLITE_FTS_SETUP = [
    # The index's row key is the excerpt's sort key (see models.make_sort_key): FTS5 returns matches
    # in row-key order, so a search streams its results in the list's order and stops at a page.
    """CREATE VIRTUAL TABLE IF NOT EXISTS observers_excerpt_fts USING fts5(
        text, translation, content='observers_excerpt', content_rowid='sort_key',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER IF NOT EXISTS observers_excerpt_fts_insert AFTER INSERT ON observers_excerpt
    WHEN new.sort_key IS NOT NULL BEGIN
        INSERT INTO observers_excerpt_fts(rowid, text, translation) VALUES (new.sort_key, new.text, new.translation);
    END""",
    """CREATE TRIGGER IF NOT EXISTS observers_excerpt_fts_delete AFTER DELETE ON observers_excerpt
    WHEN old.sort_key IS NOT NULL BEGIN
        INSERT INTO observers_excerpt_fts(observers_excerpt_fts, rowid, text, translation)
        VALUES ('delete', old.sort_key, old.text, old.translation);
    END""",
    # An excerpt gets its key just after its insert (the key holds its id), and a new one whenever its
    # document's date changes: both are updates.
    """CREATE TRIGGER IF NOT EXISTS observers_excerpt_fts_update AFTER UPDATE OF text, translation, sort_key
    ON observers_excerpt BEGIN
        INSERT INTO observers_excerpt_fts(observers_excerpt_fts, rowid, text, translation)
        SELECT 'delete', old.sort_key, old.text, old.translation WHERE old.sort_key IS NOT NULL;
        INSERT INTO observers_excerpt_fts(rowid, text, translation)
        SELECT new.sort_key, new.text, new.translation WHERE new.sort_key IS NOT NULL;
    END""",
    "INSERT INTO observers_excerpt_fts(observers_excerpt_fts) VALUES ('rebuild')",
]
SQLITE_FTS_TEARDOWN = [
    "DROP TRIGGER IF EXISTS observers_excerpt_fts_insert",
    "DROP TRIGGER IF EXISTS observers_excerpt_fts_delete",
    "DROP TRIGGER IF EXISTS observers_excerpt_fts_update",
    "DROP TABLE IF EXISTS observers_excerpt_fts",
]
# PostgreSQL: a GIN index on the excerpt's stored search document (models.SearchDocument).
PG_INDEX = "observers_excerpt_search_document"
PG_FTS_SETUP = [f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON observers_excerpt USING gin (search_document)"]
PG_FTS_TEARDOWN = [
    "DROP INDEX IF EXISTS observers_excerpt_search",  # the first version's, on the expression
    f"DROP INDEX IF EXISTS {PG_INDEX}",
]


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
    if connection.vendor == "sqlite":
        # A join with the index on the sort key: see searched_order().
        return queryset.filter(search_entry__match__fts=_sqlite_match(words))
    return queryset.filter(search_document=_pg_query(words))


def _pg_query(words):
    return SearchQuery(" ".join(words), config="simple", search_type="plain")


def ordered(queryset, searched, newest_first=True):
    """`queryset` in the record's main order (the sort key), newest or oldest first.

    On SQLite a search is ordered by the index's own row key, which is the same number: FTS5 then
    reads its matches in that order and the query stops when the page is full, instead of collecting
    every match (most of the record, for a common word) and sorting it.
    """
    field = key_field(searched)
    return queryset.order_by(f"-{field}" if newest_first else field)


def key_field(searched):
    """The field holding the sort key, for ordering and for continuing after a key."""
    return "search_entry__key" if searched and connection.vendor == "sqlite" else "sort_key"


def ranked_ids(queryset, query, offset, limit, candidates):
    """The ids of one page of `queryset` (a search, in the main order), most relevant first.

    Relevance is computed for the first `candidates` matches in the main order (all of them, when
    there are fewer), not for every match of a common word: ranking half a million rows takes
    seconds, and lists count no further than that either.
    """
    words = terms(query)
    if connection.vendor == "sqlite":
        relevance = F("search_entry__rank")  # bm25: lower is better
    else:
        relevance = -SearchRank(F("search_document"), _pg_query(words))
    # Ranked by the database, which hands back one page rather than every candidate; equally
    # relevant rows stay in the main order (their place among the candidates).
    field = key_field(True)
    newest_first = queryset.query.order_by[:1] == (f"-{field}",)
    candidates_sql, params = (
        queryset.order_by().annotate(relevance=relevance, place=F(field)).values("pk", "relevance", "place")
        .order_by(f"-{field}" if newest_first else field)[:candidates]
        .query.sql_with_params()
    )  # fmt: skip
    with connection.cursor() as cursor:
        # Django's own SQL for the candidates, with its parameters; nothing of the visitor's in the text.
        cursor.execute(
            f"SELECT candidate.pk FROM ({candidates_sql}) candidate "  # noqa: S608  # nosec B608
            f"ORDER BY candidate.relevance, candidate.place {'DESC' if newest_first else 'ASC'} LIMIT %s OFFSET %s",
            (*params, limit, offset),
        )
        return [pk for (pk,) in cursor.fetchall()]


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
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [PG_INDEX])
            missing = cursor.fetchone()[0] == 0
            statements = PG_FTS_SETUP
        else:
            return
        if missing:
            for statement in statements:
                cursor.execute(statement)


def analyze_after_migrations(using="default", plan=None, **kwargs):
    """Fresh planner statistics once migrations changed something: a rebuilt table or a new index
    without them can make the planner sort a million rows instead of reading an index."""
    from django.db import connections

    if plan and connections[using].vendor in ("sqlite", "postgresql"):
        with connections[using].cursor() as cursor:
            cursor.execute("ANALYZE")


def install(schema_editor):
    statements = {"sqlite": SQLITE_FTS_SETUP, "postgresql": PG_FTS_SETUP}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def uninstall(schema_editor):
    statements = {"sqlite": SQLITE_FTS_TEARDOWN, "postgresql": PG_FTS_TEARDOWN}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)
