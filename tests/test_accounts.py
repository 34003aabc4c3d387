"""Logging in: lockout on the login page and the token endpoint, demo accounts refused in production,
password reset by email (finding 8 of issue 13)."""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from config.accounts import DEMO_GROUP, client_ip, password_set_url

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def person(db, fast_passwords):
    return User.objects.create_user("jansen", "jansen@example.com", "right-horse-battery-7")


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def login(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


# --- lockout --------------------------------------------------------------------------------------


def test_the_right_password_logs_in_after_a_few_typos(person):
    client = Client()
    for _ in range(2):
        assert login(client, "jansen", "wrong").status_code == 200
    assert login(client, "jansen", "right-horse-battery-7").status_code == 302
    assert logged_in(client)


def test_thirty_wrong_passwords_lock_the_login_page_even_for_the_right_password(person):
    client = Client()
    for _ in range(30):
        login(client, "jansen", "wrong")
    response = login(client, "jansen", "right-horse-battery-7")
    assert response.status_code == 429
    assert not logged_in(client)
    assert "Too many failed login attempts" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert int(response["Retry-After"]) == 15 * 60
    assert reverse("password_reset") in response.content.decode()


def test_lockout_limit_and_cool_off_come_from_settings(person, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    assert login(client, "jansen", "wrong").status_code == 200
    assert login(client, "jansen", "wrong").status_code == 429
    assert login(client, "jansen", "right-horse-battery-7").status_code == 429


def test_lockout_is_per_username_and_address(person):
    attacker, colleague = Client(REMOTE_ADDR="203.0.113.9"), Client(REMOTE_ADDR="198.51.100.4")
    for _ in range(10):
        login(attacker, "jansen", "wrong")
    assert login(attacker, "jansen", "right-horse-battery-7").status_code == 429
    # The owner, from another address, is not locked out by the attacker.
    assert login(colleague, "jansen", "right-horse-battery-7").status_code == 302


def test_thirty_wrong_passwords_lock_the_token_endpoint(person):
    client = Client()
    for _ in range(30):
        response = client.post(TOKEN, {"username": "jansen", "password": "wrong"}, content_type="application/json")
        assert response.status_code in (400, 429)
    response = client.post(
        TOKEN, {"username": "jansen", "password": "right-horse-battery-7"}, content_type="application/json"
    )
    assert response.status_code == 429
    assert "token" not in response.json()
    assert "Too many failed login attempts" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0


def test_token_endpoint_gives_the_token_for_the_right_password(person):
    client = Client()
    assert client.post(TOKEN, {"username": "jansen", "password": "wrong"}).status_code == 400
    response = client.post(TOKEN, {"username": "jansen", "password": "right-horse-battery-7"})
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(key=token).user == person
    # The token authenticates (this user has no role, so what the API then shows is another matter).
    assert "Invalid token" not in Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/").content.decode()
    assert "Invalid token" in Client(HTTP_AUTHORIZATION="Token not-a-token").get("/api/v1/").content.decode()


def test_failures_on_the_login_page_count_for_the_token_endpoint(person):
    client = Client()
    for _ in range(10):
        login(client, "jansen", "wrong")
    response = client.post(TOKEN, {"username": "jansen", "password": "right-horse-battery-7"})
    assert response.status_code == 429


def test_client_address_behind_a_trusted_proxy(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # no proxy configured: the header is the client's word
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # the address our proxy saw, not the spoofed left entry
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"


# --- demo accounts in production --------------------------------------------------------------------


@pytest.fixture
def demo_rep(db, fast_passwords):
    from django.contrib.auth.models import Group

    user = User.objects.create_user("rep1", "rep1@klantwaarde.example", "demo-rep")
    user.groups.add(Group.objects.get_or_create(name=DEMO_GROUP)[0])
    return user


def test_demo_user_logs_in_outside_production(demo_rep, settings):
    settings.PRODUCTION = False
    client = Client()
    assert login(client, "rep1", "demo-rep").status_code == 302


def test_demo_user_is_refused_in_production(demo_rep, settings):
    settings.PRODUCTION = True
    client = Client()
    response = login(client, "rep1", "demo-rep")
    assert response.status_code == 200 and not logged_in(client)
    assert "Demo accounts cannot log in on a production server" in response.content.decode()
    # A demo account with a new password is still a demo account.
    demo_rep.set_password("a-private-passphrase-42")
    demo_rep.save()
    assert login(client, "rep1", "a-private-passphrase-42").status_code == 200 and not logged_in(client)
    assert Client().post(TOKEN, {"username": "rep1", "password": "demo-rep"}).status_code == 400


def test_a_published_demo_password_is_refused_in_production_whoever_has_it(db, fast_passwords, settings):
    settings.PRODUCTION = True
    User.objects.create_superuser("admin", "admin@example.com", "demo-admin")  # not in the demo group
    client = Client()
    assert login(client, "admin", "demo-admin").status_code == 200
    assert not logged_in(client)


def test_demo_logins_in_production_when_forced(demo_rep, settings, person):
    settings.PRODUCTION = True
    settings.ALLOW_DEMO_LOGINS = True
    client = Client()
    assert login(client, "rep1", "demo-rep").status_code == 302
    settings.ALLOW_DEMO_LOGINS = False
    assert login(Client(), "jansen", "right-horse-battery-7").status_code == 302  # real users are unaffected


def test_load_demo_refuses_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("load_demo", customers=20)
    from customers.models import Customer

    assert not Customer.objects.exists()


def test_demo_logins_refuses_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("demo_logins", stdout=StringIO())


def test_forced_demo_load_in_production_marks_its_users_who_then_cannot_log_in(db, fast_passwords, settings):
    settings.PRODUCTION = True
    User.objects.create_user("manager", "m@example.com", "own-password-of-the-manager")  # existed before
    call_command("load_demo", "--force-in-production", customers=20, seed=3, stdout=StringIO())
    marked = set(User.objects.filter(groups__name=DEMO_GROUP).values_list("username", flat=True))
    assert {"rep1", "rep8", "finance", "admin"} <= marked
    assert "manager" not in marked  # an account that existed before the demo is not the demo's
    for username, password in (("rep1", "demo-rep"), ("finance", "demo-finance"), ("admin", "demo-admin")):
        client = Client()
        login(client, username, password)
        assert not logged_in(client), username
    client = Client()
    assert login(client, "manager", "own-password-of-the-manager").status_code == 302


# --- password reset by email -----------------------------------------------------------------------


def test_login_page_links_to_password_reset(db):
    assert reverse("password_reset") in Client().get(LOGIN).content.decode()


def test_password_reset_by_email_then_log_in_with_the_new_password(person, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = Client()
    response = client.post(reverse("password_reset"), {"email": "jansen@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jansen@example.com"]
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and 'name="new_password1"' in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "Nieuw-wachtwoord-2026", "new_password2": "Nieuw-wachtwoord-2026"})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    assert login(Client(), "jansen", "right-horse-battery-7").status_code == 200  # the old one is gone
    fresh = Client()
    assert login(fresh, "jansen", "Nieuw-wachtwoord-2026").status_code == 302 and logged_in(fresh)
    # The link works once.
    assert "does not work any more" in client.get(link, follow=True).content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_password_set_link_works_for_a_user_without_a_password(db, fast_passwords):
    """An invited user (no usable password yet) sets one through the same page."""
    user = User.objects.create_user("nieuw", "nieuw@example.com")
    assert not user.has_usable_password()
    client = Client()
    page = client.get(password_set_url(user), follow=True)
    assert 'name="new_password1"' in page.content.decode()
    client.post(
        page.redirect_chain[-1][0], {"new_password1": "Eerste-wachtwoord-9", "new_password2": "Eerste-wachtwoord-9"}
    )
    user.refresh_from_db()
    assert user.check_password("Eerste-wachtwoord-9")


def test_email_is_console_by_default_and_smtp_from_the_environment():
    import subprocess
    import sys

    from tests.test_deploy import ROOT

    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS)"
    base = {"DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin:/bin"}
    default = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], cwd=ROOT, env=base,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert default.stdout.split()[0] == "django.core.mail.backends.console.EmailBackend", default.stderr
    smtp = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], cwd=ROOT, timeout=60,
                          env={**base, "EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": "465", "EMAIL_USE_TLS": "0"},
                          capture_output=True, text=True)  # fmt: skip
    assert smtp.stdout.split() == ["django.core.mail.backends.smtp.EmailBackend", "smtp.example.com", "465", "False"]


def test_password_reset_requests_are_limited_per_address_and_per_email(person, settings):
    """No mailbox flooding and no unlimited tries: at most PASSWORD_RESET_LIMIT_PER_HOUR requests per
    email address get a mail (the page answers the same), and per client address the form refuses."""
    from django.core.cache import cache

    cache.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_RESET_LIMIT_PER_HOUR = 2
    url = reverse("password_reset")
    for n, address in enumerate(["10.0.0.1", "10.0.0.2", "10.0.0.3"], start=1):
        response = Client(REMOTE_ADDR=address).post(url, {"email": "Jansen@example.com"})
        assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
        assert len(mail.outbox) == min(n, 2)  # the third request for the same email sends nothing
    same_address = Client(REMOTE_ADDR="10.0.0.9")
    for email in ("a@example.com", "b@example.com"):
        assert same_address.post(url, {"email": email}).status_code == 302
    refused = same_address.post(url, {"email": "c@example.com"})
    assert refused.status_code == 429
    assert "Too many password reset requests" in refused.content.decode()
    assert len(mail.outbox) == 2
    cache.clear()
