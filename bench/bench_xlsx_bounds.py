"""Hostile .xlsx uploads: peak memory and time until each is refused (issue 13, finding 7).

    .venv/bin/python bench/bench_xlsx_bounds.py

Builds (tests/xlsx_bombs.py) a 1 MB workbook holding one 1 GiB shared string and a ~340 KB
workbook of 5,000,000 rows, then reads each with ``config.intake.read_chunks`` -- what the
command line, the upload page and the API all run -- in a fresh process, and prints the time
until the clear error and the process's peak RSS (``ru_maxrss``, Django start-up included).
Before the bounds (before commit df7d34c): 33.9 s / 2.26 GB and 290.8 s / 647 MB (run through
``manage.py import_csv orders``, so start-up included there too).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, os, resource, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from config.intake import ImportFailed, Layout, read_chunks
started = time.monotonic()
try:
    rows = sum(len(c) for c in read_chunks(sys.argv[1], Layout(("order_id", "customer_id", "date", "amount"))))
    outcome = f"read {rows} rows"
except ImportFailed as exc:
    outcome = str(exc.errors[0])
seconds = time.monotonic() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "outcome": outcome}))
"""


def main() -> None:
    from tests import xlsx_bombs

    columns = ["order_id", "customer_id", "date", "amount"]
    with tempfile.TemporaryDirectory() as folder:
        files = {
            "one 1 GiB shared string": xlsx_bombs.huge_shared_string(Path(folder) / "strings.xlsx", columns),
            "5,000,000 rows": xlsx_bombs.many_rows(Path(folder) / "rows.xlsx", columns),
        }
        for label, path in files.items():
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(path)], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            print(
                f"{label:26} {path.stat().st_size / 1e3:8.0f} KB on disk: refused after {result['seconds']:.2f} s, "
                f"peak RSS {result['peak_mb']:.0f} MB -- {result['outcome']}"
            )


if __name__ == "__main__":
    main()
