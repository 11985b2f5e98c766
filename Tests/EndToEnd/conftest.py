"""Shared fixtures: the real `regent` binary, run in a fresh temporary directory on a free loopback port."""
import os
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from helpers import PostgreSQL, postgres_bin

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("REGENT_BIN", ROOT / ".build" / "debug" / "regent")).resolve()


class Server:
    """One `regent serve` process on a port the kernel picks (no bind-then-release race); stops by
    itself at the end of the test. Its output is read as it comes, so a test can wait for a line."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        self.workdir = workdir
        self.port: int | None = None
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()
        self._reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def start(self, *args: str) -> "Server":
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--listen", "127.0.0.1:0", *args],
            cwd=self.workdir, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        line = self.wait_for_output("Regent is listening on ", timeout=60)
        self.port = int(re.search(r":(\d+)\s*$", line).group(1))
        return self

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def wait_for_output(self, text: str, timeout: float) -> str:
        """The first line of output containing `text`, waiting for it to be written."""
        def found() -> str | None:
            return next((line for line in self._lines if text in line), None)

        with self._changed:
            self._changed.wait_for(lambda: found() is not None or self._ended, timeout=timeout)
            line = found()
            if line is None:
                state = "exited" if self._ended else f"wrote nothing matching within {timeout} s"
                raise AssertionError(f"regent serve {state} (wanted {text!r}): {''.join(self._lines)}")
            return line

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self._reader is not None:
            self._reader.join(timeout=10)
        return self.process.returncode

    def ensure_stopped(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


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
        # Shown by pytest only when the test failed: what the server logged, to see why.
        print(f"--- regent serve output ---\n{server.output}")


@pytest.fixture
def postgres():
    """A PostgreSQL server on loopback for one test; skipped (a failure in CI) when it is not installed."""
    if postgres_bin() is None or shutil.which("psql") is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgreSQL().start()
    yield server
    server.stop()


def regent(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BINARY), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped end-to-end test is a failure: a missing component must not pass silently."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") == "true" and skipped:
        reporter.write_line(f"CI: {skipped} end-to-end test(s) were skipped; failing.", red=True)
        session.exitstatus = 1
