from django.apps import AppConfig


class ExcerptsConfig(AppConfig):
    name = "excerpts"
    verbose_name = "Historical excerpts"
