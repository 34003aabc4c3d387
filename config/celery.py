"""The Celery app. Each bounded context consumes its events on its own queue.

Queues: ``customers`` (pyramid), ``accounting`` (profit), ``scenarios`` (value segments),
``salesforce`` (targets and bonus) and ``default`` (the outbox sweeper). Run one worker pool per
queue to split the apps over machines, e.g. ``celery -A config worker -Q accounting``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("klantwaarde")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_routes = {
    "customers.tasks.*": {"queue": "customers"},
    "accounting.tasks.*": {"queue": "accounting"},
    "scenarios.tasks.*": {"queue": "scenarios"},
    "salesforce_tasks.tasks.*": {"queue": "salesforce"},
}
app.autodiscover_tasks()
app.autodiscover_tasks(["config"], related_name="eventbus")
