"""The shared pages of ``customers.pages`` at the site root, without a namespace (``home``, ``progress``)."""

from django.urls import path

from . import pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("progress/", pages.progress, name="progress"),
]
