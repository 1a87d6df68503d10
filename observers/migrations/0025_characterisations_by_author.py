from django.db import migrations, models

# The published characterisations by an author (a copy of their document's publisher: 0023, 0024),
# in the list's order, with the list's facets' columns.
#
# PostgreSQL's planner takes a column's values to be independent of the others': for the author of
# nearly every characterisation it expected 2,155 of the 45,543 rows at a million excerpts (4.5 % of
# the rows by it, times 4.5 % characterisations), and read them all and sorted them (80 ms) rather
# than read the first 10,000 in order from the index (12 ms). Statistics of the three columns
# together tell it.
STATISTICS = "excerpt_publisher_char"


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE STATISTICS IF NOT EXISTS "{STATISTICS}" (mcv) '
            'ON "document_publisher_id", "is_characterisation", "public" FROM "observers_excerpt"'
        )


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP STATISTICS IF EXISTS "{STATISTICS}"')


def analyze(apps, schema_editor):
    """Statistics for the new index: without them the planner may not read it."""
    schema_editor.execute('ANALYZE "observers_excerpt"')


class Migration(migrations.Migration):

    dependencies = [
        ('observers', '0024_copy_document_publishers'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='excerpt',
            index=models.Index(condition=models.Q(('is_characterisation', True), ('public', True)), fields=['document_publisher', '-sort_key', 'fidelity', 'organisation', 'is_characterisation', 'public'], name='excerpt_public_char_by_key'),
        ),
        migrations.RunPython(create_statistics, drop_statistics),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
