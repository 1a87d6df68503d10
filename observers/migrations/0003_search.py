from django.db import migrations

# The full-text index is installed by 0007_excerpt_sort_key, once excerpts have the sort key that
# the SQLite index uses as its row key. Databases migrated earlier got a first version of it here;
# 0007 replaces it.


class Migration(migrations.Migration):
    dependencies = [("observers", "0002_topics")]

    operations = []
