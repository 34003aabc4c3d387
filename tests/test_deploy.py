"""Production settings: `manage.py check --deploy` reports nothing; secrets come from the environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    environ.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_ENV="production", SECRET_KEY="x" * 30 + "-production-secret-from-the-environment-0123456789",
        ALLOWED_HOSTS="klantwaarde.example.com")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_ENV="production", ALLOWED_HOSTS="klantwaarde.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
