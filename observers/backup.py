"""The whole record in one file, and back: `manage.py backup_record` and `manage.py restore_record`.

The file is a Django fixture (JSON, one object per record, `loaddata` reads it): every model of the
record with its history (django-simple-history's tables), the editors' accounts and groups, and the
admin's change log. Database ids are kept, so links and permalinks survive; content types and
permissions are named by natural keys, since each database numbers its own. Times keep their
microseconds (Django's own JSON encoder cuts them to milliseconds), so the copy is exact.
"""

import contextlib
import datetime
import gzip

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Exists, Max, OuterRef, Subquery

from .models import Document, Excerpt, Mission, Topic
from .signals import record_changed

# Sessions, login attempts, content types and permissions are not part of the record: a freshly
# migrated database makes its own.
EXTRA_MODELS = ["auth.Group", "auth.User", "admin.LogEntry"]
SQLITE_REBUILD_SEARCH = "INSERT INTO observers_excerpt_fts(observers_excerpt_fts) VALUES ('rebuild')"


def record_models():
    # Unmanaged models (the full-text index) are rebuilt from the record, not backed up.
    own = [model for model in apps.get_app_config("observers").get_models() if model._meta.managed]
    return [*own, *(apps.get_model(label) for label in EXTRA_MODELS)]


class ExactJSONEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def _objects(using):
    by_app = {}
    for model in record_models():
        by_app.setdefault(apps.get_app_config(model._meta.app_label), []).append(model)
    for model in serializers.sort_dependencies(by_app.items(), allow_cycles=True):
        yield from model._base_manager.using(using).order_by(model._meta.pk.name).iterator(chunk_size=2000)


def backup(path, using=DEFAULT_DB_ALIAS):
    """Write the whole record to `path` (gzip-compressed when it ends in .gz); returns the object count."""
    if not str(path).endswith((".json", ".json.gz")):
        raise CommandError("The backup file name ends in .json, or in .json.gz to compress it.")
    opener = gzip.open if str(path).endswith(".gz") else open
    counter = _Counter(_objects(using))
    with opener(path, "wt", encoding="utf-8") as stream:
        serializers.serialize("json", counter, stream=stream, use_natural_foreign_keys=True, cls=ExactJSONEncoder)
    return counter.count


class _Counter:
    def __init__(self, iterable):
        self.iterable, self.count = iterable, 0

    def __iter__(self):
        for item in self.iterable:
            self.count += 1
            yield item


def refusals(using=DEFAULT_DB_ALIAS):
    """Why the database cannot take a restore: not migrated, or not empty."""
    connection = connections[using]
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return ["it is not fully migrated: run `manage.py migrate` first"]
    # What the migrations themselves add (the topic vocabulary, the editor and publisher groups) is
    # replaced by the backup's own.
    seeded = {Topic, Group}
    held = [
        f"{model._base_manager.using(using).count()} × {model._meta.label}"
        for model in record_models()
        if model not in seeded and model._base_manager.using(using).exists()
    ]
    return [f"it is not empty: it holds {', '.join(held)}"] if held else []


@contextlib.contextmanager
def _history_paused():
    # Loading sets many-to-many fields, which django-simple-history would record as new changes.
    missing = object()
    before = getattr(settings, "SIMPLE_HISTORY_ENABLED", missing)
    settings.SIMPLE_HISTORY_ENABLED = False
    try:
        yield
    finally:
        if before is missing:
            del settings.SIMPLE_HISTORY_ENABLED
        else:
            settings.SIMPLE_HISTORY_ENABLED = before


def restore(path, using=DEFAULT_DB_ALIAS):
    """Load a backup into an empty, migrated database, in one transaction; returns the object count."""
    problems = refusals(using)
    if problems:
        raise CommandError("Refusing to restore into this database: " + "; ".join(problems) + ".")
    connection = connections[using]
    with transaction.atomic(using=using), _history_paused():
        Topic.objects.using(using).all().delete()
        Group.objects.using(using).all().delete()
        # loaddata also resets PostgreSQL's sequences past the ids it loaded.
        call_command("loaddata", str(path), database=using, verbosity=0)
        _skip_deleted_ids(connection, using)
        _flag_maybe_duplicates(using)
        # A file made before missions copied their election's day has none, nor, made before excerpts
        # copied their document's publisher, that copy.
        Mission.sync_copies(Mission.objects.using(using))
        _copy_publishers(using)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(SQLITE_REBUILD_SEARCH)
    # loaddata sends its signals as raw, which retire nothing: what was cached while the restore ran
    # (an empty record) is retired once it is committed.
    record_changed()
    return sum(model._base_manager.using(using).count() for model in record_models())


def _flag_maybe_duplicates(using):
    """Flag the excerpts that share their document and text, as Excerpt.save() does: loaddata saves
    rows as they are, and a backup made before the flag existed has none. Only the documents with
    such a pair (one grouped pass) are looked into."""
    excerpts = Excerpt.objects.using(using)
    shared = excerpts.order_by().values("document", "text").annotate(n=Count("pk")).filter(n__gt=1).values("document")
    same_text = excerpts.filter(document=OuterRef("document"), text=OuterRef("text")).exclude(pk=OuterRef("pk"))
    excerpts.filter(document__in=shared, maybe_duplicate=False).filter(Exists(same_text)).update(maybe_duplicate=True)


def _copy_publishers(using):
    """Each excerpt without a copy of its document's publisher given one."""
    publisher = Document.objects.using(using).filter(pk=OuterRef("document_id")).values("publisher_id")[:1]
    Excerpt.objects.using(using).filter(document_publisher=None).update(document_publisher_id=Subquery(publisher))


def _skip_deleted_ids(connection, using):
    """Move each id sequence past the ids of deleted records too, as in the original database: a new
    record must never take a deleted one's permalink and history. (loaddata stops at the live ids.)"""
    for model in apps.get_app_config("observers").get_models():
        tracked = getattr(model._meta, "simple_history_manager_attribute", None)
        if tracked is None or model._meta.pk.get_internal_type() not in ("AutoField", "BigAutoField"):
            continue
        history = getattr(model, tracked)
        top = max(
            model._base_manager.using(using).aggregate(top=Max("pk"))["top"] or 0,
            history.model._base_manager.using(using).aggregate(top=Max(model._meta.pk.attname))["top"] or 0,
        )
        if not top:
            continue
        table, column = model._meta.db_table, model._meta.pk.column
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s)", [table, column, top])
            elif connection.vendor == "sqlite":
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, top])
