from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from .models import Document, Election, Excerpt, Mission


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
