import time

from django.conf import settings
from django.core.cache import cache
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
        Excerpt.sync_copies(Excerpt.objects.filter(mission__election=instance))


RECORD_VERSION = "observers:record-version"

# Cached parts of pages carry the record's version in their keys, which retires them as soon as
# anything changes. Every worker sees the same version only in a shared cache (Redis); a per-process
# memory cache cannot hear of another worker's save, so there the version itself, and everything
# cached under it, lasts half a minute at most.
SHARED_CACHE = "Redis" in settings.CACHES["default"]["BACKEND"]
CACHE_SECONDS = 60 * 60 if SHARED_CACHE else 30


def record_version():
    """A time in nanoseconds that changes whenever anything in the record changes (see above)."""
    version = cache.get(RECORD_VERSION)
    if version is None:
        version = time.time_ns()
        cache.add(RECORD_VERSION, version, timeout=None if SHARED_CACHE else CACHE_SECONDS)
    return version


def record_changed(**kwargs):
    if kwargs.get("raw"):
        return
    cache.set(RECORD_VERSION, time.time_ns(), timeout=None if SHARED_CACHE else CACHE_SECONDS)


for model in (Organisation, Election, Mission, Document, Excerpt, Topic):
    post_save.connect(record_changed, sender=model, dispatch_uid=f"record_changed_save_{model.__name__}")
    post_delete.connect(record_changed, sender=model, dispatch_uid=f"record_changed_delete_{model.__name__}")
for through in (Excerpt.topics.through, Excerpt.primary_excerpts.through, Mission.joint_partners.through):
    m2m_changed.connect(record_changed, sender=through, dispatch_uid=f"record_changed_m2m_{through.__name__}")
