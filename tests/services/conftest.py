"""Real parts: a private Redis server, the PostgreSQL test database and Celery worker processes.

Every process these fixtures start is stopped at teardown. The Redis server is private (its
own port) so the fault tests can stop and start it without touching anything else.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
QUEUES = "default,customers,accounting,scenarios,salesforce"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, port: int, workdir: Path):
        self.port, self.workdir, self.proc = port, workdir, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


class Workers:
    """Celery worker processes on the test database and the private broker."""

    def __init__(self, env: dict, tmp_path: Path):
        self.env, self.tmp_path, self.procs = env, tmp_path, {}

    def start(self, name: str, *, extra_env: dict | None = None, queues: str = QUEUES) -> subprocess.Popen:
        args = [
            CELERY,
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-Q",
            queues,
            "-n",
            f"{name}@%h",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        return self.spawn(name, args, extra_env)

    def start_beat(self, name: str = "beat") -> subprocess.Popen:
        """The one beat (the outbox sweeper) as its own process, as in production: never a worker's -B."""
        running = [n for n, p in self.procs.items() if n.startswith("beat") and p.poll() is None]
        assert not running, f"a beat is running already ({running}): exactly one beat"
        return self.spawn(
            name, [CELERY, "-A", "config", "beat", "-l", "warning", "-s", str(self.tmp_path / f"schedule-{name}")]
        )

    def spawn(self, name: str, args: list[str], extra_env: dict | None = None) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args, cwd=ROOT, env={**self.env, **(extra_env or {})}, stdout=log, stderr=log, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(20)

    def stop_all(self) -> None:
        for name in list(self.procs):
            proc = self.procs[name]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            self.procs.pop(name)

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in self.tmp_path.glob("*.log"))


@pytest.fixture
def pipeline(transactional_db, redis_server, tmp_path, settings):
    """Point this process's Celery at the private broker and give a handle to start workers."""
    from config.celery import app

    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("services tests need PostgreSQL")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}",
        "REDIS_URL": redis_server.url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
    }
    app.conf.task_always_eager = False
    app.conf.broker_url = redis_server.url
    app.conf.result_backend = None
    app.conf.broker_connection_retry = False
    app.conf.broker_transport_options = {"max_retries": 0}
    _reset_connections(app)
    workers = Workers(env, tmp_path)
    try:
        yield workers
    finally:
        workers.stop_all()
        _reset_connections(app)
        app.conf.task_always_eager = True


def _reset_connections(app) -> None:
    """Forget pooled broker connections so the next send uses the current broker_url."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
