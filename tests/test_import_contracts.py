"""The layers hold: ``lint-imports`` (import-linter, contracts in ``.importlinter``) passes.

A new import that runs down-to-up between the apps (config <- customers <- accounting <- scenarios |
salesforce_tasks), deferred imports included, or between scenarios and salesforce_tasks fails here
with import-linter's report.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


#: No back-arrow is ignored any more (issue 16): profit is stored in the core by accounting's profit
#: stage (``customers.profit``). Adding an ``ignore_imports`` line to ``.importlinter`` fails this test.
STILL_IGNORED: set[str] = set()


def test_no_new_import_is_ignored():
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    ignored = set()
    for section in config.sections():
        lines = config[section].get("ignore_imports", "").splitlines()
        ignored |= {line.strip() for line in lines if line.strip() and not line.strip().startswith("#")}
    assert ignored <= STILL_IGNORED, sorted(ignored - STILL_IGNORED)
    assert config.has_section("importlinter:contract:layers")
