from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project package as an app: it registers project-wide system checks (config/checks.py)."""

    name = "config"
    label = "config"
    verbose_name = "Klantwaarde"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (register the checks)
