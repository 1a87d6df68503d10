from django.db import migrations

from observers import search


def forwards(apps, schema_editor):
    search.install(schema_editor)


def backwards(apps, schema_editor):
    search.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("observers", "0002_topics")]

    operations = [migrations.RunPython(forwards, backwards)]
