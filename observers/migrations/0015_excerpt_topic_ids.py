from django.db import migrations, models

from observers import topic_ids

# As 0013: a column NOT NULL with a default, added in place (Django would copy the whole table on SQLite).
ADD_COLUMN = "ALTER TABLE \"observers_excerpt\" ADD COLUMN \"topic_ids\" {type} DEFAULT '' NOT NULL"
DROP_DEFAULT = 'ALTER TABLE "observers_excerpt" ALTER COLUMN "topic_ids" DROP DEFAULT'
DROP_COLUMN = 'ALTER TABLE "observers_excerpt" DROP COLUMN "topic_ids"'


def add_column(apps, schema_editor):
    """The column, empty. On SQLite, the triggers and the copies come after every migration of the
    run (topic_ids.after_migrations): a trigger here would stop a later migration of the run from
    rebuilding either table. On PostgreSQL, the triggers at once, then the copies a range of excerpts
    at a time, each range its own transaction (the migration is not atomic): the table is never
    locked for long, and what is written meanwhile is kept by the triggers."""
    connection = schema_editor.connection
    schema_editor.execute(ADD_COLUMN.format(type=connection.data_types["TextField"]))
    if connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP_DEFAULT)
    with connection.cursor() as cursor:
        topic_ids.install(cursor, connection.vendor)
        topic_ids.fill_in_ranges(cursor)
        if not connection.in_atomic_block:
            # Every excerpt was written once: let counts be answered from the index alone again.
            cursor.execute("VACUUM (ANALYZE) observers_excerpt")


def drop_column(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        topic_ids.uninstall(cursor, connection.vendor)
    schema_editor.execute(DROP_COLUMN)


class Migration(migrations.Migration):
    # Not one transaction: see add_column.
    atomic = False

    dependencies = [
        ('observers', '0014_election_by_date'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name='excerpt',
                    name='topic_ids',
                    field=models.TextField(default='', editable=False, help_text="Its topics' ids, e.g. “3,17”: kept by the database from its topics."),
                ),
            ],
            database_operations=[
                migrations.RunPython(add_column, drop_column),
            ],
        ),
    ]
