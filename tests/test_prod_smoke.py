"""The production smoke script (.ci/prod_smoke.sh) passes: with DJANGO_ENV=production, collectstatic,
check --deploy and gunicorn serve the login page, its CSS and JavaScript, and demo logins are refused.

It runs in `make test` (about a minute) and again, on PostgreSQL, as the last step of `.ci/run`.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(600)
def test_production_smoke_script_passes():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_", "SMOKE_"))}
    env["PYTHON"] = sys.executable
    result = subprocess.run(
        ["bash", str(ROOT / ".ci" / "prod_smoke.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=590
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "production smoke: OK" in result.stdout
    assert "demo login rep1/demo-rep refused: (200, True)" in result.stdout
    assert "GET /static/css/app." in result.stdout
