from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "scenarios"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import events, reports, tasks  # noqa: F401  (register subscriptions, report kinds and tasks)
        from .views import segment_targets, segments  # noqa: F401  (register period figures)
