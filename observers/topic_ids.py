"""Each excerpt's copy of its topics' ids, `Excerpt.topic_ids` ("3,17", in no particular order), kept
by the database itself.

The exports read it from the excerpt's own row: looking each excerpt's topics up in the link table took
a third of the time of reading 10,000 excerpts. Triggers write it whenever a link is added, changed or
removed, however it is written (the ORM, a bulk insert, raw SQL, a topic's deletion). Whatever else
writes the column is corrected at once from the links: a save of an excerpt read before its topics
changed cannot put its old ones back.

SQLite: rebuilding a table, as Django's migrations do on SQLite to alter one, fails while a trigger on
another table names it. The link table's triggers name the excerpts' table and the excerpts' triggers
the link table, so they are all dropped before migrations run (`before_migrations`) and installed
again after them (`after_migrations`), with every excerpt's copy made from its links.
"""

from contextlib import contextmanager

from django.db import connections

SQLITE_SETUP = [
    """CREATE TRIGGER IF NOT EXISTS observers_topic_ids_link_insert AFTER INSERT ON observers_excerpt_topics
    BEGIN
        UPDATE observers_excerpt SET topic_ids = coalesce(
            (SELECT group_concat(topic_id) FROM observers_excerpt_topics WHERE excerpt_id = new.excerpt_id), ''
        ) WHERE id = new.excerpt_id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS observers_topic_ids_link_delete AFTER DELETE ON observers_excerpt_topics
    BEGIN
        UPDATE observers_excerpt SET topic_ids = coalesce(
            (SELECT group_concat(topic_id) FROM observers_excerpt_topics WHERE excerpt_id = old.excerpt_id), ''
        ) WHERE id = old.excerpt_id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS observers_topic_ids_link_update AFTER UPDATE ON observers_excerpt_topics
    BEGIN
        UPDATE observers_excerpt SET topic_ids = coalesce(
            (SELECT group_concat(topic_id) FROM observers_excerpt_topics WHERE excerpt_id = old.excerpt_id), ''
        ) WHERE id = old.excerpt_id;
        UPDATE observers_excerpt SET topic_ids = coalesce(
            (SELECT group_concat(topic_id) FROM observers_excerpt_topics WHERE excerpt_id = new.excerpt_id), ''
        ) WHERE id = new.excerpt_id;
    END""",
    # An excerpt written with a copy of its own (an old row put back, a copy of another excerpt).
    """CREATE TRIGGER IF NOT EXISTS observers_topic_ids_excerpt_insert AFTER INSERT ON observers_excerpt
    WHEN new.topic_ids <> '' BEGIN
        UPDATE observers_excerpt SET topic_ids = coalesce(
            (SELECT group_concat(topic_id) FROM observers_excerpt_topics WHERE excerpt_id = new.id), ''
        ) WHERE id = new.id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS observers_topic_ids_excerpt_update AFTER UPDATE OF topic_ids ON observers_excerpt
    BEGIN
        UPDATE observers_excerpt SET topic_ids = coalesce(
            (SELECT group_concat(topic_id) FROM observers_excerpt_topics WHERE excerpt_id = new.id), ''
        ) WHERE id = new.id AND topic_ids IS NOT coalesce(
            (SELECT group_concat(topic_id) FROM observers_excerpt_topics WHERE excerpt_id = new.id), ''
        );
    END""",
]
SQLITE_TRIGGERS = [
    "observers_topic_ids_link_insert",
    "observers_topic_ids_link_delete",
    "observers_topic_ids_link_update",
    "observers_topic_ids_excerpt_insert",
    "observers_topic_ids_excerpt_update",
]
SQLITE_TEARDOWN = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]

PG_SETUP = [
    """CREATE OR REPLACE FUNCTION observers_topic_ids_of(excerpt bigint) RETURNS text LANGUAGE sql STABLE AS $$
        SELECT coalesce(string_agg(topic_id::text, ','), '') FROM observers_excerpt_topics WHERE excerpt_id = excerpt
    $$""",
    """CREATE OR REPLACE FUNCTION observers_topic_ids_link() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE observers_excerpt SET topic_ids = observers_topic_ids_of(OLD.excerpt_id) WHERE id = OLD.excerpt_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            UPDATE observers_excerpt SET topic_ids = observers_topic_ids_of(NEW.excerpt_id) WHERE id = NEW.excerpt_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION observers_topic_ids_excerpt() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.topic_ids := observers_topic_ids_of(NEW.id);
        RETURN NEW;
    END $$""",
    "DROP TRIGGER IF EXISTS observers_topic_ids_link ON observers_excerpt_topics",
    """CREATE TRIGGER observers_topic_ids_link AFTER INSERT OR UPDATE OR DELETE ON observers_excerpt_topics
    FOR EACH ROW EXECUTE FUNCTION observers_topic_ids_link()""",
    "DROP TRIGGER IF EXISTS observers_topic_ids_excerpt ON observers_excerpt",
    """CREATE TRIGGER observers_topic_ids_excerpt BEFORE INSERT OR UPDATE OF topic_ids ON observers_excerpt
    FOR EACH ROW EXECUTE FUNCTION observers_topic_ids_excerpt()""",
    # TRUNCATE removes links without a row's trigger.
    """CREATE OR REPLACE FUNCTION observers_topic_ids_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE observers_excerpt SET topic_ids = '' WHERE topic_ids <> '';
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS observers_topic_ids_truncate ON observers_excerpt_topics",
    """CREATE TRIGGER observers_topic_ids_truncate AFTER TRUNCATE ON observers_excerpt_topics
    FOR EACH STATEMENT EXECUTE FUNCTION observers_topic_ids_truncated()""",
]
PG_TRIGGERS = ["observers_topic_ids_link", "observers_topic_ids_excerpt", "observers_topic_ids_truncate"]
PG_TEARDOWN = [
    "DROP TRIGGER IF EXISTS observers_topic_ids_truncate ON observers_excerpt_topics",
    "DROP TRIGGER IF EXISTS observers_topic_ids_link ON observers_excerpt_topics",
    "DROP TRIGGER IF EXISTS observers_topic_ids_excerpt ON observers_excerpt",
    "DROP FUNCTION IF EXISTS observers_topic_ids_truncated()",
    "DROP FUNCTION IF EXISTS observers_topic_ids_excerpt()",
    "DROP FUNCTION IF EXISTS observers_topic_ids_link()",
    "DROP FUNCTION IF EXISTS observers_topic_ids_of(bigint)",
]

# SQLite: every excerpt's copy made from its links, where it differs (after migrations ran without
# the triggers). PostgreSQL keeps its triggers through migrations.
SQLITE_RESYNC = """UPDATE observers_excerpt SET topic_ids = coalesce(
        (SELECT group_concat(topic_id) FROM observers_excerpt_topics WHERE excerpt_id = observers_excerpt.id), ''
    ) WHERE topic_ids IS NOT coalesce(
        (SELECT group_concat(topic_id) FROM observers_excerpt_topics WHERE excerpt_id = observers_excerpt.id), ''
    )"""


def _statements(vendor, setup=True):
    if vendor == "sqlite":
        return SQLITE_SETUP if setup else SQLITE_TEARDOWN
    if vendor == "postgresql":
        return PG_SETUP if setup else PG_TEARDOWN
    return []


def install(cursor, vendor):
    for statement in _statements(vendor):
        cursor.execute(statement)


def uninstall(cursor, vendor):
    for statement in _statements(vendor, setup=False):
        cursor.execute(statement)


def installed(cursor, vendor):
    """Whether every trigger is in place."""
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return set(SQLITE_TRIGGERS) <= {name for (name,) in cursor.fetchall()}
    if vendor == "postgresql":
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = ANY(%s)", [PG_TRIGGERS])
        return cursor.fetchone()[0] == len(PG_TRIGGERS)
    return True


# PostgreSQL: the excerpts with topics in a range of ids, written again: their trigger writes their
# copies. For the migration that adds the copies, empty, a range at a time.
PG_FILL_RANGE = """UPDATE observers_excerpt SET topic_ids = topic_ids WHERE id >= %s AND id < %s
    AND EXISTS (SELECT 1 FROM observers_excerpt_topics WHERE excerpt_id = observers_excerpt.id)"""


def fill_in_ranges(cursor, size=20_000):
    """PostgreSQL, with the triggers in place and out of a transaction: the copies of a new, empty
    column made from the links, `size` ids at a time, each range a transaction of its own, so that
    no lock on the table is held for long."""
    cursor.execute("SELECT min(id), max(id) FROM observers_excerpt")
    low, high = cursor.fetchone()
    if low is None:
        return
    for start in range(low, high + 1, size):
        cursor.execute(PG_FILL_RANGE, [start, start + size])


@contextmanager
def paused(cursor, vendor):
    """For a bulk load that writes each excerpt's copy itself: no trigger row by row."""
    uninstall(cursor, vendor)
    try:
        yield
    finally:
        install(cursor, vendor)


def _has_column(connection):
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "observers_excerpt")
    return any(column.name == "topic_ids" for column in columns)


def before_migrations(using="default", plan=None, **kwargs):
    """pre_migrate: on SQLite, drop the triggers before migrations that will run (see the module's
    docstring): the link table's name the excerpts' table, and the excerpts' name the link table."""
    connection = connections[using]
    if not plan or connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        uninstall(cursor, connection.vendor)


def after_migrations(using="default", plan=None, **kwargs):
    """post_migrate: the triggers installed (again), once the column exists; on SQLite, after
    migrations ran without them, every copy checked against its links."""
    connection = connections[using]
    if (
        connection.vendor not in ("sqlite", "postgresql")
        or "observers_excerpt" not in connection.introspection.table_names()
    ):
        return
    if not _has_column(connection):  # migrated back to before the column
        return
    with connection.cursor() as cursor:
        if installed(cursor, connection.vendor):
            # Nothing to do: on PostgreSQL, creating them again would wait for every open read of the
            # tables (a long download) and hold up the reads that come after it.
            return
        install(cursor, connection.vendor)
        if plan and connection.vendor == "sqlite":
            cursor.execute(SQLITE_RESYNC)
