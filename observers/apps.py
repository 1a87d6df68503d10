from django.apps import AppConfig


class ObserversConfig(AppConfig):
    name = "observers"
    verbose_name = "Observation record"

    def ready(self):
        from django.db.models.signals import post_migrate, pre_migrate

        from . import search, signals, topic_ids

        post_migrate.connect(search.ensure_installed, sender=self)
        pre_migrate.connect(topic_ids.before_migrations, sender=self)
        post_migrate.connect(topic_ids.after_migrations, sender=self)
        post_migrate.connect(search.analyze_after_migrations, sender=self)
        # A release runs its migrations: pages and counts cached by the previous code are retired.
        post_migrate.connect(signals.release_migrated, sender=self)
