"""Run every benchmark at full size, one after the other (they would disturb each other in parallel).

    .venv/bin/python bench/run_all.py [--small] [--log /tmp/bench_logs/run_all.txt]

Order: import on SQLite, import on PostgreSQL, recompute (PostgreSQL), events (PostgreSQL + Redis +
2 Celery workers), scenarios (pure). Output goes to the terminal and to the log file. Takes about an
hour on 2 cores at full size (more on a busy machine); ``--small`` is a smoke run of a few minutes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = [
    ("bench_import.py", ["--db", "sqlite"]),
    ("bench_import.py", ["--db", "postgres"]),
    ("bench_recompute.py", ["--db", "postgres"]),
    ("bench_events.py", []),
    ("bench_scenarios.py", []),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="smoke sizes")
    parser.add_argument("--log", default="/tmp/bench_logs/run_all.txt")
    args = parser.parse_args()
    log = Path(args.log)
    log.parent.mkdir(parents=True, exist_ok=True)
    failed = []
    with log.open("w") as out:
        for script, extra in RUNS:
            cmd = [sys.executable, str(HERE / script), *extra]
            if args.small:
                cmd += ["--customers", "10000", "--repeat", "2"] if script == "bench_scenarios.py" else ["--small"]
            header = (
                f"\n===== {' '.join(cmd[1:])} ({time.strftime('%Y-%m-%d %H:%M:%S')}, load {os.getloadavg()[0]:.1f})"
            )
            print(header, flush=True)
            out.write(header + "\n")
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=HERE.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for line in proc.stdout:
                sys.stdout.write(line)
                out.write(line)
                out.flush()
            code = proc.wait()
            footer = f"===== exit {code} after {time.perf_counter() - started:.0f} s"
            print(footer, flush=True)
            out.write(footer + "\n")
            if code:
                failed.append(script)
    print(f"\nlog: {log}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
