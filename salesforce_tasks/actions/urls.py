"""The action board, mounted at /sales/actions/ in the namespace "actions"."""

from django.urls import path

# action_reports registers the "actions" report kind (apps.py's ready() imports it too).
from . import action_reports, action_views  # noqa: F401

urlpatterns = [
    path("", action_views.board, name="board"),
    path("propose/", action_views.propose, name="propose"),
    path("preview/", action_views.preview, name="preview"),
    path("<int:pk>/transition/", action_views.transition, name="transition"),
]
