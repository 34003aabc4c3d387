"""Fixtures of the layer tests: the small data set with its sales force, and a superuser."""

import pytest
from django.contrib.auth.models import User

from tests.salesforce_tasks.test_services import build_sales_force


@pytest.fixture
def sales_force(small_dataset, rep_user, manager_user):
    return build_sales_force(rep_user=rep_user, manager_user=manager_user)


@pytest.fixture
def admin(db):
    return User.objects.create_superuser("root", "root@example.com", "x")
