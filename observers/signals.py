import os
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .models import Document, Election, Excerpt, Mission, Organisation, Topic


@receiver(m2m_changed, sender=Mission.joint_partners.through)
def mission_partners_changed(sender, instance, action, reverse, **kwargs):
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not reverse:
        excerpts = Excerpt.objects.filter(mission=instance)
    elif kwargs.get("pk_set"):
        excerpts = Excerpt.objects.filter(mission__in=kwargs["pk_set"])
    else:
        # An organisation was cleared from every mission: only its own documents can change.
        excerpts = Excerpt.objects.filter(document__publisher=instance)
    Excerpt.refresh_characterisation_flags(excerpts)


@receiver(post_save, sender=Document)
def document_saved(sender, instance, created, raw=False, **kwargs):
    if not created and not raw:
        Excerpt.refresh_characterisation_flags(Excerpt.objects.filter(document=instance))
        Excerpt.sync_copies(Excerpt.objects.filter(document=instance))


@receiver(post_save, sender=Mission)
def mission_saved(sender, instance, created, raw=False, **kwargs):
    if not created and not raw:
        Excerpt.refresh_characterisation_flags(Excerpt.objects.filter(mission=instance))
        Excerpt.sync_copies(Excerpt.objects.filter(mission=instance))


@receiver(post_save, sender=Election)
def election_saved(sender, instance, created, raw=False, **kwargs):
    if not created and not raw:
        Mission.sync_copies(Mission.objects.filter(election=instance).exclude(election_date=instance.election_date))
        Excerpt.sync_copies(Excerpt.objects.filter(mission__election=instance))


RECORD_VERSION = "observers:record-version"

# Cached parts of pages carry the record's version in their keys, which retires them as soon as
# anything changes. With Redis the version lives in the cache, shared by every worker and server.
# Without it (the cache is then in files of this machine, or in a process's memory) the version
# lives in a small file (settings.RECORD_VERSION_FILE), which every worker on the machine reads, so
# that one worker's save retires every worker's entries; a second server without Redis would only
# see it when its entries expire, after ten minutes.
SHARED_CACHE = "Redis" in settings.CACHES["default"]["BACKEND"]
NO_CACHE = "Dummy" in settings.CACHES["default"]["BACKEND"]
CACHE_SECONDS = 60 * 60 if SHARED_CACHE else 10 * 60
VERSION_FILE = Path(settings.RECORD_VERSION_FILE)
# With nothing cached (DJANGO_CACHE=off), every request is as the first after a change: its version is
# its own, new for each request (and for each use outside one), so that what one request reads once
# (the organisation directory, the topics' names) it reads once, as a request just after a change does.
_request = threading.local()


@receiver(request_started, dispatch_uid="observers_request_version")
def _request_started(**kwargs):
    _request.version = time.time_ns() if NO_CACHE else None


@receiver(request_finished, dispatch_uid="observers_request_version")
def _request_finished(**kwargs):
    _request.version = None


def record_version():
    """A time in nanoseconds that changes whenever anything in the record changes (see above)."""
    if NO_CACHE:
        return getattr(_request, "version", None) or time.time_ns()
    if SHARED_CACHE:
        version = cache.get(RECORD_VERSION)
        if version is None:
            version = time.time_ns()
            cache.add(RECORD_VERSION, version, timeout=None)
        return version
    try:
        return int(_read(VERSION_FILE))
    except (OSError, ValueError):
        return _write_version()


def _read(path):
    """A small file's bytes, read with the system's calls alone: a third of pathlib's time, for a file
    that every page reads several times."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        return os.read(descriptor, 64)
    finally:
        os.close(descriptor)


def _write_version():
    version = time.time_ns()
    if SHARED_CACHE:
        cache.set(RECORD_VERSION, version, timeout=None)
    elif NO_CACHE:
        if getattr(_request, "version", None) is not None:
            _request.version = version  # what the request read before the change is not kept
    else:
        # Written whole, then renamed over the old one: a reader never sees half a number.
        partial = VERSION_FILE.with_name(f"{VERSION_FILE.name}.{os.getpid()}")
        partial.write_text(str(version))
        os.replace(partial, VERSION_FILE)
    return version


# Small values a page asks for several times (the organisation directory, its choices), kept in this
# process for the current version once read: each cache read unpickles a new copy. Nothing is kept
# longer than the cache keeps its entries, whatever the version says.
_kept = {"version": None, "since": 0.0, "values": {}}


def _kept_values(version):
    """This process's kept values for `version`: emptied when the version changes or they grow old."""
    now = time.monotonic()
    if _kept["version"] != version or now - _kept["since"] > CACHE_SECONDS:
        _kept.update(version=version, since=now, values={})
    return _kept["values"]


def cached_for_version(name, make, keep=False):
    """`make()`, cached under `name` until the record next changes; with `keep`, also kept in this
    process (callers must not change it)."""
    version = record_version()
    key = f"{name}:{version}"
    if keep and key in (kept := _kept_values(version)):
        return kept[key]
    value = cache.get(key)
    if value is None:
        value = make()
        cache.set(key, value, timeout=CACHE_SECONDS)
    if keep:
        _kept_values(version)[key] = value
    return value


def kept_for_version(*names):
    """Dicts of this process's own, one for each of `names`, emptied as soon as the record changes (and
    after as long as the cache keeps an entry): for rows that a process reads again and again and may
    keep (see views.add_parents). The version is read once for all of them. With the cache off, they
    last as long as the request (see record_version), and outside one are new each time."""
    kept = _kept_values(record_version())
    return [kept.setdefault(f"rows:{name}", {}) for name in names]


def release_migrated(**kwargs):
    """After `migrate`: what the cache holds was made by the code before it, and perhaps from data a
    migration has since changed."""
    _write_version()


def record_changed(**kwargs):
    """A change to the record: a new version now, and again once the change's transaction commits.
    Between the two, another process may read the record as it was before and cache or keep it under
    the first new version; the second retires that."""
    if kwargs.get("raw"):
        return
    _write_version()
    connection = connections[kwargs.get("using") or DEFAULT_DB_ALIAS]
    if connection.in_atomic_block and not any(func is _committed for _, func, _ in connection.run_on_commit):
        transaction.on_commit(_committed, using=connection.alias)


def _committed():
    _write_version()


for model in (Organisation, Election, Mission, Document, Excerpt, Topic):
    post_save.connect(record_changed, sender=model, dispatch_uid=f"record_changed_save_{model.__name__}")
    post_delete.connect(record_changed, sender=model, dispatch_uid=f"record_changed_delete_{model.__name__}")
for through in (Excerpt.topics.through, Excerpt.primary_excerpts.through, Mission.joint_partners.through):
    m2m_changed.connect(record_changed, sender=through, dispatch_uid=f"record_changed_m2m_{through.__name__}")
