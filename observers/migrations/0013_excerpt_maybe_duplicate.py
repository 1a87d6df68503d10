from django.db import migrations, models

# Django would add a column that is NOT NULL with a default by copying the whole table on SQLite (and
# the full-text triggers would go with the old table): SQLite adds it in place, with its default kept
# in the schema, since SQLite cannot drop it; PostgreSQL (11 and later) adds it without a rewrite.
ADD_COLUMN = 'ALTER TABLE "observers_excerpt" ADD COLUMN "maybe_duplicate" {type} DEFAULT FALSE NOT NULL'
DROP_DEFAULT = 'ALTER TABLE "observers_excerpt" ALTER COLUMN "maybe_duplicate" DROP DEFAULT'
DROP_COLUMN = 'ALTER TABLE "observers_excerpt" DROP COLUMN "maybe_duplicate"'

# Every excerpt that shares its document and text with another: one pass, grouped.
FLAG_DUPLICATES = """
    UPDATE "observers_excerpt" SET "maybe_duplicate" = TRUE
    WHERE ("document_id", "text") IN (
        SELECT "document_id", "text" FROM "observers_excerpt" GROUP BY "document_id", "text" HAVING COUNT(*) > 1
    )
"""


def add_column(apps, schema_editor):
    connection = schema_editor.connection
    schema_editor.execute(ADD_COLUMN.format(type=connection.data_types["BooleanField"]))
    if connection.vendor != "sqlite":
        schema_editor.execute(DROP_DEFAULT)
    schema_editor.execute(FLAG_DUPLICATES)


def drop_column(apps, schema_editor):
    schema_editor.execute(DROP_COLUMN)


def analyze(apps, schema_editor):
    """Statistics for the new indexes: without them the planner may not read them."""
    schema_editor.execute('ANALYZE "observers_excerpt"')


class Migration(migrations.Migration):

    dependencies = [
        ('observers', '0012_list_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name='excerpt',
                    name='maybe_duplicate',
                    field=models.BooleanField(default=False, editable=False, help_text='Saved with the same text as another excerpt of its document.'),
                ),
            ],
            database_operations=[
                migrations.RunPython(add_column, drop_column),
            ],
        ),
        migrations.AddIndex(
            model_name='excerpt',
            index=models.Index(condition=models.Q(('public', False), ('status', 'published')), fields=['-updated_at', '-id', 'status', 'public'], name='excerpt_published_hidden'),
        ),
        migrations.AddIndex(
            model_name='excerpt',
            index=models.Index(condition=models.Q(('is_characterisation', True)), fields=['-updated_at', '-id', 'fidelity', 'is_characterisation'], name='excerpt_characterised_desk'),
        ),
        migrations.AddIndex(
            model_name='excerpt',
            index=models.Index(condition=models.Q(('maybe_duplicate', True)), fields=['document'], name='excerpt_maybe_duplicate'),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
