"""Production settings: `manage.py check --deploy` reports nothing; secrets come from the environment."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings(collected_static):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV, STATIC_ROOT=str(collected_static)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_ENV="production", ALLOWED_HOSTS="klantwaarde.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 30 + "-production-secret-from-the-environment-0123456789",
    "ALLOWED_HOSTS": "klantwaarde.example.com",
}


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory) -> Path:
    """One production collectstatic (hashed, compressed) into a throwaway STATIC_ROOT."""
    root = tmp_path_factory.mktemp("staticfiles")
    result = run_manage("collectstatic", "--noinput", **PRODUCTION_ENV, STATIC_ROOT=str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def test_collectstatic_succeeds_with_production_settings(collected_static):
    # Finding 5: the vendored chart.js named a source map that is not shipped, so the manifest
    # storage's post-processing failed and every page answered 500.
    manifest = json.loads((collected_static / "staticfiles.json").read_text())
    for name in ("css/app.css", "js/app.js", "vendor/chart-4.6.1.umd.min.js", "vendor/htmx-2.0.11.min.js"):
        assert (collected_static / manifest["paths"][name]).is_file(), name


def test_every_source_map_a_static_file_names_is_shipped():
    missing = []
    for path in (ROOT / "static").rglob("*"):
        if path.suffix not in (".js", ".css") or not path.is_file():
            continue
        for target in re.findall(r"sourceMappingURL=([^\s*]+)", path.read_text(errors="replace")):
            if not target.startswith("data:") and not (path.parent / target).is_file():
                missing.append(f"{path.relative_to(ROOT)} -> {target}")
    assert not missing


def test_check_deploy_fails_without_a_collected_manifest(tmp_path):
    result = run_manage("check", "--deploy", **PRODUCTION_ENV, STATIC_ROOT=str(tmp_path))
    assert result.returncode != 0
    assert "klantwaarde.E001" in result.stderr
    assert "collectstatic" in result.stderr


def test_web_process_refuses_to_boot_without_a_collected_manifest(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    environ.update(PRODUCTION_ENV, STATIC_ROOT=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "manifest" in result.stderr


def test_manifest_check_names_a_static_file_the_manifest_lacks(tmp_path, settings):
    from django.contrib.staticfiles.finders import get_finders

    from config.checks import static_manifest

    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    assert [e.id for e in static_manifest()] == ["klantwaarde.E001"]  # no manifest at all
    # A manifest from an older release: every file but a stylesheet added since.
    paths = {p: p for finder in get_finders() for p, _storage in finder.list([]) if p != "css/app.css"}
    (tmp_path / "staticfiles.json").write_text(json.dumps({"version": "1.1", "paths": paths, "hash": "h"}))
    errors = static_manifest()
    assert len(errors) == 1 and "css/app.css" in errors[0].msg


def test_manifest_check_is_silent_in_development(settings):
    from config.checks import static_manifest

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    assert static_manifest() == []


def _celery_commands(path: Path) -> list[str]:
    text = path.read_text().replace("\\\n", " ")
    return [line for line in text.splitlines() if re.search(r"celery\S*[\"',]*\s.*\b(worker|beat)\b", line)]


def test_beat_runs_as_its_own_process_never_inside_a_worker():
    # Finding 14: a worker started with -B runs the beat inside it; killing the worker orphans the
    # beat and restarting the worker starts a second one. Every way we start Celery keeps them apart.
    files = [ROOT / "Procfile", ROOT / "Makefile", ROOT / "README.md", *sorted((ROOT / "deploy").rglob("*.service")),
             *sorted((ROOT / "tests" / "services").glob("*.py"))]  # fmt: skip
    embedded = []
    for path in files:
        for line in _celery_commands(path):
            if re.search(r"\bworker\b", line) and re.search(r"(\s|[\"'])(-B|--beat)\b", line):
                embedded.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    for path in files:
        if path.suffix == ".py" and re.search(r"[\"'](-B|--beat)[\"']", path.read_text()):
            embedded.append(f"{path.relative_to(ROOT)}: passes -B to a worker")
    assert not embedded
    procfile_beats = [line for line in _celery_commands(ROOT / "Procfile") if re.search(r"\bbeat\b", line)]
    assert len(procfile_beats) == 1 and procfile_beats[0].startswith("beat:")
    beat_units = [p.name for p in (ROOT / "deploy" / "systemd").glob("*.service") if " beat " in p.read_text()]
    assert beat_units == ["klantwaarde-beat.service"]
    makefile_run = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"celery -A config beat\b", makefile_run)
