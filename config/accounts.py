"""Logging in: lockout after failed attempts, demo accounts kept out of production, password links.

- **Lockout** is django-axes (settings ``AXES_*``): after ``AXES_FAILURE_LIMIT`` failed logins for one
  username from one address the login page and the token endpoint refuse even the right password
  until the cool-off has passed. ``lockout_response`` shapes the refusal (a page, or JSON under /api/).
- **Demo accounts** (made by ``load_demo``: members of the ``demo`` group) and the published demo
  passwords cannot log in when ``DJANGO_ENV=production``, unless ``ALLOW_DEMO_LOGINS`` is set.
- **Password reset requests** are limited (``PasswordResetView``): at most
  ``PASSWORD_RESET_LIMIT_PER_HOUR`` per client address (then the form says so, status 429) and per
  email address (then no further mail goes out, and the page answers as always, so nobody learns
  whether the address has an account or fills someone's mailbox).
- **Password links**: ``password_set_url`` builds the one-time link to the page where a user sets a
  password (the reset page; an invitation can send the same link).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings

#: Group that marks the accounts the demo loader made (not a role: config.roles ignores it).
DEMO_GROUP = "demo"
#: The published demo passwords per role (README): the demo loader gives them out, production refuses them.
DEMO_PASSWORDS = {"manager": "demo-manager", "finance": "demo-finance", "rep": "demo-rep", "admin": "demo-admin"}


# --- demo accounts ------------------------------------------------------------------------------


def demo_logins_allowed() -> bool:
    return not getattr(settings, "PRODUCTION", False) or getattr(settings, "ALLOW_DEMO_LOGINS", False)


def is_demo_login(username: str | None, password: str | None) -> bool:
    """True for a demo account or a published demo password (``DEMO_PASSWORDS``)."""
    from django.contrib.auth.models import User

    if password and password in DEMO_PASSWORDS.values():
        return True
    return bool(username) and User.objects.filter(username=username, groups__name=DEMO_GROUP).exists()


def demo_accounts_mark(*, usernames: list[str]) -> None:
    """Put the accounts the demo loader just made in the ``demo`` group (refused in production)."""
    from django.contrib.auth.models import Group, User

    group, _created = Group.objects.get_or_create(name=DEMO_GROUP)
    for user in User.objects.filter(username__in=usernames):
        user.groups.add(group)


class DemoLoginGuardBackend:
    """First authentication backend after axes: in production a demo login stops the chain.

    Raising PermissionDenied makes ``django.contrib.auth.authenticate`` give up (no later backend
    is asked), counts as a failed attempt for axes, and covers every way in: the login page, the
    admin and the token endpoint.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not demo_logins_allowed() and is_demo_login(username, password):
            raise PermissionDenied("demo login refused in production")
        return None

    # No get_user: the guard never logs anyone in, and Django's test client (force_login) picks the
    # first backend that has one, which must be a backend that can load the user back.


class LoginForm(AuthenticationForm):
    """The login form, saying why a demo login is refused instead of 'wrong password'."""

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username and password and not demo_logins_allowed() and is_demo_login(username, password):
            # Still run authenticate() so axes counts the attempt and locks out as usual.
            try:
                super().clean()
            except ValidationError:
                pass
            raise ValidationError(
                _("Demo accounts cannot log in on a production server. Log in with your own account."),
                code="demo_refused",
            )
        return super().clean()


# --- lockout ------------------------------------------------------------------------------------


def client_ip(request: HttpRequest) -> str | None:
    """The client address axes counts failures against.

    Behind ``TRUSTED_PROXY_COUNT`` reverse proxies (each appends the address it saw to
    X-Forwarded-For), the client is the entry that many places from the right; without proxies,
    REMOTE_ADDR. Addresses further left are written by the client and never trusted.
    """
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-count] if len(hops) >= count else hops[0]
    return request.META.get("REMOTE_ADDR")


def cool_off() -> timedelta:
    return settings.AXES_COOLOFF_TIME


def lockout_message() -> str:
    minutes = max(1, round(cool_off().total_seconds() / 60))
    return _(
        "Too many failed login attempts. This login is locked for %(minutes)s minutes; try again later "
        "or reset your password."
    ) % {"minutes": minutes}


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with the cool-off, as JSON under /api/ and as a page elsewhere."""
    retry_after = str(int(cool_off().total_seconds()))
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message()}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": lockout_message()}, status=429)
    response["Retry-After"] = retry_after
    return response


# --- API token ----------------------------------------------------------------------------------


class TokenObtainView(ObtainAuthToken):
    """POST username and password, get the user's API token (the same lockout as the login page)."""

    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # the project's strict JSON parser (NUL refused)

    @extend_schema(
        operation_id="auth_token_create",
        request=inline_serializer(
            "ApiToken", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong username or password, or a field missing."),
            429: OpenApiResponse(description="Locked out after too many failed attempts; see Retry-After."),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        from rest_framework.authtoken.models import Token
        from rest_framework.exceptions import ValidationError as RequestInvalid
        from rest_framework.response import Response

        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        if getattr(request, "axes_locked_out", False):
            # axes flags the (DRF) request it was handed: answer 429, not "wrong password".
            raise Throttled(wait=cool_off().total_seconds(), detail=lockout_message())
        if not valid:
            raise RequestInvalid(serializer.errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


# --- password reset requests --------------------------------------------------------------------


def _over_limit(key: str) -> bool:
    """Count one request under ``key`` for an hour; True once the count passes the limit."""
    limit = getattr(settings, "PASSWORD_RESET_LIMIT_PER_HOUR", 5)
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > limit


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form with a limit per client address and per email address (module docstring)."""

    def form_valid(self, form):
        if _over_limit(f"pwreset:ip:{client_ip(self.request) or '-'}"):
            form.add_error(None, _("Too many password reset requests from this address. Try again in an hour."))
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        email = form.cleaned_data["email"].strip().lower()
        if _over_limit(f"pwreset:email:{hashlib.sha256(email.encode()).hexdigest()}"):
            return redirect(self.get_success_url())  # answered as always; no further mail
        return super().form_valid(form)


# --- password links -----------------------------------------------------------------------------


def password_set_url(user, request: HttpRequest | None = None) -> str:
    """The one-time link where ``user`` sets a new password (valid until used or PASSWORD_RESET_TIMEOUT).

    Any flow that lets a user choose a password (reset, invitation) sends this link; the page is
    Django's PasswordResetConfirmView under /accounts/reset/.
    """
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
    return request.build_absolute_uri(path) if request is not None else path
