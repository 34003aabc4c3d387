"""Project-wide system checks: things that would make production fail on every request.

`static_manifest` (tagged deploy, so `manage.py check --deploy` runs it) fails when the hashed
static storage is in use and the collected manifest is missing or lacks a file the templates can
ask for: without it every page that names a static file is a 500. `config.wsgi` runs the same test
when the web process starts, so a release that skipped `collectstatic` refuses to boot instead of
serving errors.
"""

from __future__ import annotations

from django.contrib.staticfiles.finders import get_finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.checks import Error, Tags, register


def missing_static_manifest_entries() -> list[str] | None:
    """Static files the manifest lacks; None when the storage keeps no manifest (development)."""
    storage = staticfiles_storage
    if not isinstance(storage, ManifestFilesMixin):
        return None
    manifest, _manifest_hash = storage.load_manifest()  # Django 4.2+: (paths, hash)
    if not manifest:
        return ["(no manifest: " + str(storage.path(storage.manifest_name)) + ")"]
    wanted = sorted({path for finder in get_finders() for path, _storage in finder.list([])})
    return [path for path in wanted if path not in manifest]


@register(Tags.staticfiles, deploy=True)
def static_manifest(app_configs=None, **kwargs) -> list[Error]:
    missing = missing_static_manifest_entries()
    if not missing:
        return []
    return [
        Error(
            "The collected static files manifest is missing or stale; every page would fail. "
            f"Missing: {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}",
            hint="Run `python manage.py collectstatic --noinput` on release, with the same STATIC_ROOT "
            "the web process uses.",
            id="klantwaarde.E001",
        )
    ]


def require_static_manifest() -> None:
    """Called by config.wsgi: refuse to serve when the manifest is missing or stale."""
    from django.core.exceptions import ImproperlyConfigured

    errors = static_manifest()
    if errors:
        raise ImproperlyConfigured(f"{errors[0].msg} {errors[0].hint}")
