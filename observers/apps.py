from django.apps import AppConfig


class ObserversConfig(AppConfig):
    name = "observers"
    verbose_name = "Observation record"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import search, signals  # noqa: F401

        post_migrate.connect(search.ensure_installed, sender=self)
        post_migrate.connect(search.analyze_after_migrations, sender=self)
