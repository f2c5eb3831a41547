"""Fixtures for the end-to-end tests: a real JupyterLab (or Voila) server and Debian's Chromium.

Every server runs on 127.0.0.1 on a free port, from a temporary root holding copies of
``notebooks/`` and ``images/`` (so a run never changes the repository's notebooks), with its own
settings folder (notebook windowing off, so every cell is in the page; no news, no update check).
Servers are stopped at the end of the session, also when a test fails. Without Chromium the
tests are skipped, with the reason; ``.ci/run`` installs it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("COURSE_ETL_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium calls home at start, which this closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, *, timeout: float = 90) -> None:
    """Poll ``url`` until it answers 200, or fail with what was seen last."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError as error:  # refused while starting
            last = error
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s (last: {last})")


class Server:
    """A server process in its own process group, stopped with everything it started."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict, log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' package "
                    "(apt-get install chromium) or set COURSE_ETL_CHROMIUM")
    return CHROMIUM


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Path:
    """A temporary root with copies of the notebooks and the images they reference."""
    root = tmp_path_factory.mktemp("lab_root")
    shutil.copytree(REPO / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(REPO / "images", root / "images")
    return root


@pytest.fixture(scope="session")
def lab(workspace, tmp_path_factory, chromium_path):
    """A running JupyterLab: yields (base URL, token)."""
    settings = tmp_path_factory.mktemp("lab_settings")
    for name, values in LAB_SETTINGS.items():
        plugin_dir, file_name = name.rsplit("/", 1)
        (settings / plugin_dir).mkdir(parents=True, exist_ok=True)
        (settings / plugin_dir / file_name).write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = os.environ | {"JUPYTERLAB_SETTINGS_DIR": str(settings), "PYTHONHASHSEED": "0"}
    server = Server([
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workspace}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ], cwd=workspace, env=env, log=tmp_path_factory.mktemp("logs") / "jupyterlab.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/api/status?token={token}")
        yield base, token
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
