"""Shared fixtures: users per role, API clients, and the demo-like small data set."""

import os

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.utils import translation
from rest_framework.test import APIClient

from config.roles import FINANCE, MANAGER, REP
from customers import figures_cache

SERVICES = bool(os.environ.get("REDIS_URL")) and os.environ.get("DATABASE_URL", "").startswith("postgres")


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="services tests need DATABASE_URL (PostgreSQL) and REDIS_URL")
    for item in items:
        if "services" in item.keywords and not SERVICES:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Unit tests run Celery eagerly whatever REDIS_URL says; `services` tests use real workers."""
    from config.celery import app

    app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()  # locmem keeps its entries across tests: no test meets another's cached figures
    figures_cache.memo_clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Every test ends in the default language.

    A request through the test client runs in the test's thread, and Django's LocaleMiddleware
    activates the request's language there without deactivating it afterwards: after a page asked
    in Dutch, the next test (its gettext, its choice labels) ran in Dutch.
    """
    yield
    translation.deactivate()


def make_user(username: str, role: str | None) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, email=f"{username}@example.com")
    if role:
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    return user


@pytest.fixture
def rep_user(db):
    return make_user("rep1", REP)


@pytest.fixture
def manager_user(db):
    return make_user("manager1", MANAGER)


@pytest.fixture
def finance_user(db):
    return make_user("finance1", FINANCE)


@pytest.fixture
def api(db):
    return APIClient()


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def small_dataset(db, tmp_path, django_capture_on_commit_callbacks):
    """Customers C1..C5 over 2024-2025 with cost pools and invoices, fully recomputed."""
    from tests import dataset

    with django_capture_on_commit_callbacks(execute=False):
        dataset.build(tmp_path)
    from customers.models import Period

    return {p.name: p for p in Period.objects.all()}
