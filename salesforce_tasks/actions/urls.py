"""The action board, mounted at /sales/actions/ in the namespace "actions"."""

from django.urls import path

# reports registers the "actions" report kind (apps.py's ready() imports it too).
from . import reports, views  # noqa: F401

urlpatterns = [
    path("", views.board, name="board"),
    path("propose/", views.propose, name="propose"),
    path("preview/", views.preview, name="preview"),
    path("<int:pk>/transition/", views.transition, name="transition"),
    path("<int:pk>/undo-drop/", views.undo_drop, name="undo_drop"),
]
