from django.apps import AppConfig


class SalesforceTasksConfig(AppConfig):
    name = "salesforce_tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import events, reports, tasks  # noqa: F401  (subscriptions, report kinds, tasks)
        from .actions import reports as action_reports  # noqa: F401  (the "actions" report kind)
