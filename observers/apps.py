from django.apps import AppConfig


class ObserversConfig(AppConfig):
    name = "observers"
    verbose_name = "Observation record"

    def ready(self):
        from django.conf import settings
        from django.db.models.signals import post_migrate, pre_migrate

        from electionsite import allocator

        from . import search, signals, topic_ids

        post_migrate.connect(search.ensure_installed, sender=self)
        pre_migrate.connect(topic_ids.before_migrations, sender=self)
        post_migrate.connect(topic_ids.after_migrations, sender=self)
        post_migrate.connect(search.analyze_after_migrations, sender=self)
        # A release runs its migrations: pages and counts cached by the previous code are retired.
        post_migrate.connect(signals.release_migrated, sender=self)
        # Once per process, before any request (with preload_app, gunicorn's workers inherit it).
        if settings.ALLOCATOR_TUNING:
            allocator.tune()
