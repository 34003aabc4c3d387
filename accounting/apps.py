from django.apps import AppConfig


class AccountingConfig(AppConfig):
    name = "accounting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import events, reports, tasks  # noqa: F401  (register subscriptions, report kinds and tasks)
        from .views import concentration, profit  # noqa: F401  (register period figures)
