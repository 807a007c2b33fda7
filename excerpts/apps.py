from django.apps import AppConfig


class ExcerptsConfig(AppConfig):
    name = "excerpts"
    verbose_name = "Historical excerpts"

    def ready(self):
        from .db import checks  # noqa: F401  (registers the database-objects check)
