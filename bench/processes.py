"""The service under test as real processes: app processes (role web), one scheduler, and
what they cost (CPU seconds, resident memory), read with psutil."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.simulator import TELEGRAM_TOKEN, WEBHOOK_SECRET
from core.db import create_sibling_database, drop_sibling_database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Environment:
    """What every process of one run shares: database, data dir, model, fake Telegram."""

    database_url: str
    data_dir: Path
    nlu_model_path: Path
    telegram_api_port: int
    extra: dict[str, str] = field(default_factory=dict)

    def variables(self, role: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "LOTSE_DATABASE_URL": self.database_url,
                "LOTSE_DATA_DIR": str(self.data_dir),
                "LOTSE_NLU_MODEL_PATH": str(self.nlu_model_path),
                "LOTSE_ROLE": role,
                "LOTSE_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
                "LOTSE_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "LOTSE_TELEGRAM_API_URL": f"http://127.0.0.1:{self.telegram_api_port}/bot",
                "LOTSE_TELEGRAM_MAX_RATE": "100000",  # the fake has no limit; Telegram's is 30/s
                "LOTSE_LOG_LEVEL": "WARNING",
                "LOTSE_JSON_LOGS": "true",
            }
        )
        env.update(self.extra)
        return env


@dataclass
class Service:
    """One `lotse serve` process."""

    role: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]
    spawned_at: float
    ready_after: float | None = None
    peak_rss: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up, no goodbye (the fault run's crash)."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def cpu_seconds(self) -> float:
        try:
            times = psutil.Process(self.process.pid).cpu_times()
        except psutil.Error:
            return 0.0
        return float(times.user + times.system)

    def sample_rss(self) -> int:
        try:
            rss = int(psutil.Process(self.process.pid).memory_info().rss)
        except psutil.Error:
            return 0
        self.peak_rss = max(self.peak_rss, rss)
        return rss


def spawn(environment: Environment, role: str, port: int, log_dir: Path) -> Service:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{role}-{port}.log"
    command = [sys.executable, "-m", "lotse", "serve", "--host", "127.0.0.1", "--port", str(port)]
    handle = log.open("ab")
    started = time.monotonic()
    process = subprocess.Popen(command, env=environment.variables(role), stdout=handle, stderr=subprocess.STDOUT)
    handle.close()
    return Service(role, port, log, process, started)


def wait_ready(service: Service, timeout: float = 60.0) -> float:
    """Seconds from spawn to /ready answering 200 (the orchestrator's view of start-up)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not service.alive():
                raise RuntimeError(f"{service.role} on port {service.port} exited; see {service.log}")
            try:
                if client.get(f"{service.url}/ready").status_code == 200:
                    service.ready_after = time.monotonic() - service.spawned_at
                    return service.ready_after
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
    raise RuntimeError(f"{service.role} on port {service.port} not ready after {timeout:.0f} s; see {service.log}")


def database_cpu_seconds(database_url: str) -> float:
    """CPU of the PostgreSQL server processes (0 for SQLite, which runs inside the app)."""
    if not database_url.startswith("postgresql"):
        return 0.0
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if process.info["name"] and process.info["name"].startswith("postgres"):
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                continue
    return total


@contextmanager
def fresh_database(server_url: str, work: Path) -> Iterator[str]:
    """A new empty database for one run (SQLite file in `work`, or a new database on the
    PostgreSQL server of `server_url`, dropped afterwards): runs never see each other's data."""
    if not server_url:
        yield f"sqlite:///{work / 'lotse.db'}"
        return
    url, name = create_sibling_database(server_url, "lotse_bench")
    try:
        yield url
    finally:
        drop_sibling_database(server_url, name)
