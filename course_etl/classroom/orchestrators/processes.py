"""Processes for the live orchestrator servers: one process group, stopped as a whole.

Every server component starts in one new process group, so the terminal's Ctrl-C reaches only
the supervising Python process, which then stops the group. :func:`descendants` also finds the
children that left the group (a task runner may start its own session), so they are stopped
too, :func:`rss_bytes` sums the resident memory of all of them and :func:`listening` lists the
ports they hold. Process discovery goes through psutil, so the same code runs on Linux and on an
instructor's Mac (process groups and signals are POSIX: not Windows).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path

import psutil

__all__ = ["ProcessGroup", "descendants", "rss_bytes", "listening", "free_port", "port_in_use",
           "wait_for_url"]

_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied)


def descendants(roots: Iterable[int]) -> set[int]:
    """The pids of ``roots`` and of every process started below them, still running."""
    found = set()
    for pid in roots:
        try:
            root = psutil.Process(pid)
            below = root.children(recursive=True)
        except _GONE:  # ended while we looked
            continue
        found.add(root.pid)
        found.update(child.pid for child in below)
    return {pid for pid in found if _running(pid)}


def rss_bytes(pids: Iterable[int]) -> int:
    """Sum of the resident set sizes of ``pids``; ended processes count 0."""
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except _GONE:
            continue
    return total


def listening(pids: Iterable[int]) -> list[tuple[str, int, int]]:
    """(address, port, pid) of every TCP socket in LISTEN state that one of ``pids`` holds."""
    found = set()
    for pid in pids:
        try:
            sockets = psutil.Process(pid).net_connections(kind="tcp")
        except _GONE:
            continue
        found.update((s.laddr.ip, s.laddr.port, pid) for s in sockets
                     if s.status == psutil.CONN_LISTEN)
    return sorted(found)


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a zombie has ended; its parent reaps it)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:  # exists, but not ours to inspect
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for_url(url: str, *, timeout: float, alive=lambda: True) -> float:
    """Poll ``url`` until it answers 200; returns the seconds waited.

    Raises TimeoutError with the last error seen, or RuntimeError when ``alive()`` turns False
    (a server that exits while starting will never answer).
    """
    started = time.monotonic()
    last: object = None
    while time.monotonic() - started < timeout:
        if not alive():
            raise RuntimeError(f"a server process exited while waiting for {url}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError as error:  # refused while starting
            last = error
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s (last: {last})")


class ProcessGroup:
    """Commands started in one new process group, logging to files; ``stop()`` ends them all."""

    def __init__(self, *, env: dict[str, str], cwd: Path, log_dir: Path):
        self.env, self.cwd, self.log_dir = env, cwd, log_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.pgid: int | None = None

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        """Start ``command`` in the group, its output in ``log_dir/<name>.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, process_group=self.pgid or 0)
        self.pgid = self.pgid or process.pid
        self.processes[name] = process
        return process

    def run(self, name: str, command: list[str], *, timeout: float) -> int:
        """Run a one-shot ``command`` to its end (in a session of its own: the group must keep a
        living leader) and return its exit code; it is killed after ``timeout`` seconds."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise

    def pids(self) -> set[int]:
        """Every running process of the group and below it."""
        return descendants(p.pid for p in self.processes.values())

    def exited(self) -> dict[str, int]:
        """name -> exit code of the started commands that have ended."""
        return {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}

    def stop(self, *, timeout: float = 20) -> set[int]:
        """SIGTERM to the group and every descendant, SIGKILL after ``timeout`` seconds.

        Returns the pids that were still running after SIGKILL (normally none).
        """
        targets = self.pids()
        if self.pgid is not None:
            try:
                os.killpg(self.pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in targets:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._alive(targets | self.pids()):
            for process in self.processes.values():
                process.poll()  # reap our direct children
            time.sleep(0.2)
        for pid in self._alive(targets | self.pids()):
            _signal(pid, signal.SIGKILL)
        for process in self.processes.values():
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        time.sleep(0.2)
        return self._alive(targets)

    @staticmethod
    def _alive(pids: set[int]) -> set[int]:
        return {pid for pid in pids if _running(pid)}


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
