from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import events, reports, tasks  # noqa: F401  (register subscriptions, report kinds, tasks)
        from .views import dashboard, migration, pyramid, retention  # noqa: F401  (register period figures)
