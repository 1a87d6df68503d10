from django.apps import AppConfig


class ObserversConfig(AppConfig):
    name = "observers"
    verbose_name = "Observation record"

    def ready(self):
        from . import signals  # noqa: F401
