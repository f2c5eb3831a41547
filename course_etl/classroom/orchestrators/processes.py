"""Processes for the live orchestrator servers: one process group, stopped as a whole.

Every server component starts in one new process group, so the terminal's Ctrl-C reaches only
the supervising Python process, which then stops the group. :func:`descendants` walks ``/proc``
for children that left the group (a task runner may start its own session), so they are stopped
too, and :func:`rss_bytes` sums the resident memory of all of them. Linux only (``/proc``).
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

__all__ = ["ProcessGroup", "descendants", "rss_bytes", "listening", "free_port", "port_in_use",
           "wait_for_url"]


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process (read from /proc/<pid>/stat)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended while we looked
            continue
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def descendants(roots: Iterable[int]) -> set[int]:
    """The pids of ``roots`` and of every process started below them, still running."""
    parents = _parents()
    found = {pid for pid in roots if pid in parents}
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def rss_bytes(pids: Iterable[int]) -> int:
    """Sum of the resident set sizes (VmRSS) of ``pids``; ended processes count 0."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def _address(hex_address: str) -> tuple[str, int]:
    """'0100007F:1F90' (a /proc/net/tcp local address) -> ('127.0.0.1', 8080); IPv6 too."""
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    # The kernel prints each 32-bit word in host (little-endian) byte order.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, words), int(port, 16)


def listening(pids: Iterable[int]) -> list[tuple[str, int, int]]:
    """(address, port, pid) of every TCP socket in LISTEN state that one of ``pids`` holds."""
    sockets = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                sockets[fields[9]] = _address(fields[1])
    found = []
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        for link in links:
            inode = link.removeprefix("socket:[").removesuffix("]")
            if link.startswith("socket:[") and inode in sockets:
                found.append((*sockets[inode], pid))
    return sorted(found)


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
        alive = set()
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":  # a zombie has ended; its parent reaps it
                alive.add(pid)
        return alive


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
