from django.db import migrations, models

# Each excerpt's copy of its document's publisher (see 0023), written a range of excerpts at a time,
# each range its own transaction, so that the table is never locked for long: written in one
# transaction with the column, a million excerpts took 5.5 minutes on PostgreSQL, during which the
# column's lock kept every reader of the table waiting. A last pass corrects any excerpt that the
# code before this change wrote meanwhile. It may run again after a failure: it writes every copy.
RANGE = 20_000


def copy_publishers(apps, schema_editor):
    Excerpt = apps.get_model("observers", "Excerpt")
    Document = apps.get_model("observers", "Document")
    excerpts = Excerpt.objects.using(schema_editor.connection.alias)
    documents = Document.objects.using(schema_editor.connection.alias)
    publisher = documents.filter(pk=models.OuterRef("document_id")).values("publisher_id")[:1]
    bounds = excerpts.aggregate(low=models.Min("id"), high=models.Max("id"))
    if bounds["low"] is None:
        return
    for start in range(bounds["low"], bounds["high"] + 1, RANGE):
        excerpts.filter(id__gte=start, id__lt=start + RANGE).update(document_publisher_id=models.Subquery(publisher))
    stale = ~models.Exists(documents.filter(pk=models.OuterRef("document_id"), publisher=models.OuterRef("document_publisher")))
    excerpts.filter(stale).update(document_publisher_id=models.Subquery(publisher))


def vacuum(apps, schema_editor):
    """On PostgreSQL, the old version of every excerpt written cleared (out of a transaction)."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        schema_editor.execute('VACUUM (ANALYZE) "observers_excerpt"')


class Migration(migrations.Migration):

    # Not one transaction: see above.
    atomic = False

    dependencies = [
        ('observers', '0023_excerpt_document_publisher'),
    ]

    operations = [
        migrations.RunPython(copy_publishers, migrations.RunPython.noop),
        migrations.RunPython(vacuum, migrations.RunPython.noop),
    ]
