"""Shared fixtures: the real `regent` binary, run in a fresh temporary directory on a free loopback port."""
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import PostgreSQL, free_port, postgres_bin

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("REGENT_BIN", ROOT / ".build" / "debug" / "regent")).resolve()


class Server:
    """One `regent serve` process; stops by itself at the end of the test."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        self.workdir = workdir
        self.port = free_port()
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.output = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *args: str) -> "Server":
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--listen", f"127.0.0.1:{self.port}", *args],
            cwd=self.workdir, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"regent serve exited early: {self.process.stdout.read()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("regent serve did not become healthy within 60 s")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            out, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        self.output += out
        return self.process.returncode

    def ensure_stopped(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture
def server_factory(tmp_path):
    servers: list[Server] = []

    def make(env: dict[str, str] | None = None) -> Server:
        server = Server(tmp_path, env)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.ensure_stopped()


@pytest.fixture
def postgres():
    """A PostgreSQL server on loopback for one test; skipped (a failure in CI) when it is not installed."""
    if postgres_bin() is None or shutil.which("psql") is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgreSQL().start()
    yield server
    server.stop()


def regent(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BINARY), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped end-to-end test is a failure: a missing component must not pass silently."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") == "true" and skipped:
        reporter.write_line(f"CI: {skipped} end-to-end test(s) were skipped; failing.", red=True)
        session.exitstatus = 1
