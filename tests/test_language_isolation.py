"""A page asked in Dutch through the test client must not leave Dutch active for the next test
(tests/accounting/test_pool_history.py read "Gelijk per actieve klant" after
tests/pages/test_effectiveness.py): tests/conftest.py restores the default language after each test."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation


@pytest.fixture(scope="module")
def language_after_the_test():
    """Checked after the test's own fixtures are torn down, where the next test would begin."""
    yield
    assert translation.get_language() == settings.LANGUAGE_CODE, "a test left its language active"


def test_a_dutch_request_does_not_outlive_its_test(language_after_the_test, client, finance_user):
    client.force_login(finance_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
    client.get(reverse("home"))
    assert translation.get_language() == "nl"  # Django's LocaleMiddleware left it active in this thread
