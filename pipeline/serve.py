"""Serve the Streamlit dashboard (`ashyq dashboard`, `ashyq demo`) on 127.0.0.1.

Streamlit is started as a child process (`python -m streamlit run dashboard/app.py`) with the production
settings passed as flags, so they hold whatever `~/.streamlit/config.toml` a user may have: loopback only,
no telemetry, no file watcher, the viewer toolbar. The database reaches the app through `ASHYQ_DATABASE_URL`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO

from entities.config import PROJECT_ROOT
from entities.config import database_url as default_database_url

APP = PROJECT_ROOT / "dashboard" / "app.py"
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 60.0  # seconds; a cold start on a busy 2-core machine takes a few


class ServeError(RuntimeError):
    """The dashboard could not be started (port taken, app crashed on start)."""


def streamlit_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        f"--server.port={port}",
        f"--server.address={HOST}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
        "--client.showErrorDetails=type",
        "--global.developmentMode=false",
    ]


def port_is_free(port: int) -> bool:
    """No one listens on `port` (connections lingering in TIME_WAIT do not count, as for the server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port the OS says is free now (for tests and for running several dashboards)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class DashboardProcess:
    """A running (or finished) dashboard: its URL and the Streamlit process behind it."""

    url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes] | None = None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:  # noqa: S310 - loopback
                return bool(resp.read().strip() == b"ok")
        except (urllib.error.URLError, OSError):
            return False

    def output(self) -> str:
        """What Streamlit printed (only captured when the dashboard runs in the background)."""
        if self.log is None:
            return ""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def wait_until_healthy(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServeError(
                    f"the dashboard exited with code {self.process.returncode} while starting:\n{self.output()}"
                )
            if self.healthy():
                return
            time.sleep(0.2)
        self.stop()
        raise ServeError(
            f"the dashboard did not answer on {self.url} within {timeout:.0f} s:\n{self.output()}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Streamlit (SIGTERM, then SIGKILL if it lingers)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()

    def __enter__(self) -> DashboardProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_dashboard(port: int = 8501, database_url: str | None = None, wait: bool = True) -> DashboardProcess:
    """Run the dashboard on http://127.0.0.1:`port` against `database_url` (default: ASHYQ_DATABASE_URL).

    With `wait` (the CLI), Streamlit's output goes to the terminal and this returns when it exits (Ctrl-C
    stops both). Without it, this returns once the app answers its health check, with Streamlit's output
    kept in a temporary file; the caller stops it (`.stop()` or a `with` block).
    """
    if not port_is_free(port):
        raise ServeError(f"port {port} on {HOST} is already in use; choose another with --port")
    env = dict(os.environ)
    env["ASHYQ_DATABASE_URL"] = database_url or default_database_url()
    # The app imports the `dashboard` and `entities` packages; make that work from a plain checkout too.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    url = f"http://{HOST}:{port}"
    cmd = streamlit_command(port)
    if wait:
        process = subprocess.Popen(cmd, env=env)  # noqa: S603 - our own interpreter and arguments
        dashboard = DashboardProcess(url=url, process=process)
        try:
            process.wait()
        except KeyboardInterrupt:
            # The terminal sent SIGINT to Streamlit as well; give it a moment to shut down cleanly.
            dashboard.stop()
        if process.returncode not in (0, 130, -2, -15):  # clean exit or Ctrl-C/TERM
            raise ServeError(f"the dashboard exited with code {process.returncode}")
        return dashboard
    log = tempfile.TemporaryFile(prefix="ashyq-dashboard-")  # noqa: SIM115 - closed by DashboardProcess.stop
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    dashboard = DashboardProcess(url=url, process=process, log=log)
    dashboard.wait_until_healthy()
    return dashboard
