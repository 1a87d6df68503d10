from django.db import migrations, models

from observers import topic_ids

# As 0013: a column NOT NULL with a default, added in place (Django would copy the whole table on SQLite).
ADD_COLUMN = "ALTER TABLE \"observers_excerpt\" ADD COLUMN \"topic_ids\" {type} DEFAULT '' NOT NULL"
DROP_DEFAULT = 'ALTER TABLE "observers_excerpt" ALTER COLUMN "topic_ids" DROP DEFAULT'
DROP_COLUMN = 'ALTER TABLE "observers_excerpt" DROP COLUMN "topic_ids"'


def add_column(apps, schema_editor):
    """The column, every excerpt's copy made from its links, then the triggers that keep it."""
    connection = schema_editor.connection
    schema_editor.execute(ADD_COLUMN.format(type=connection.data_types["TextField"]))
    if connection.vendor != "sqlite":
        schema_editor.execute(DROP_DEFAULT)
    with connection.cursor() as cursor:
        topic_ids.resync(cursor, connection.vendor)
        topic_ids.install(cursor, connection.vendor)


def drop_column(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        topic_ids.uninstall(cursor, connection.vendor)
    schema_editor.execute(DROP_COLUMN)


class Migration(migrations.Migration):

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
