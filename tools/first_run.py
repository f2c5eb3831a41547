"""Run a make target as the first command on a fresh clone of this repository (CI).

``python3 tools/first_run.py TARGET [VAR=value ...]`` clones this repository into a temporary
folder and runs ``make TARGET`` there: no virtualenv, no stamp, nothing another target built, so
the target must set up everything it needs itself (tests/test_makefile.py checks the same by dry
run; this runs it). Options:

- ``--serve PATH``: the target starts a server (make airflow, make dagster, make lab). It gets a
  free ``PORT=``; once ``http://127.0.0.1:PORT/PATH`` answers 200, make's process group gets
  SIGINT, as Ctrl-C in a terminal sends it, and must exit within a minute with the port freed.
- ``--unchanged``: afterwards ``git status`` of the clone must show no change (make notebooks
  re-executes every notebook: with unchanged results, no diff).
- ``--timeout SECONDS``: the most the target may take.

Prints one line per step and exits 1 naming what failed. Standard library only: CI runs it with
the machine's python3 before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
__all__ = ["fresh_clone", "make_env", "run_target", "serve_target", "main"]


def fresh_clone(where: Path) -> Path:
    clone = where / "course_etl"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    return clone


def make_env() -> dict[str, str]:
    """This environment without a calling make's variables or an active virtualenv."""
    return {k: v for k, v in os.environ.items()
            if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "VIRTUAL_ENV"}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def run_target(clone: Path, target: str, variables: list[str], timeout: float) -> int:
    done = subprocess.run(["make", "--no-print-directory", target, *variables], cwd=clone,
                          env=make_env(), timeout=timeout)
    return done.returncode


def serve_target(clone: Path, target: str, variables: list[str], path: str,
                 timeout: float) -> tuple[bool, str]:
    """Start ``make target PORT=…``; True once it answers and stops cleanly on SIGINT."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/{path.lstrip('/')}"
    server = subprocess.Popen(["make", "--no-print-directory", target, f"PORT={port}",
                               *variables], cwd=clone, env=make_env(), start_new_session=True)
    started = time.monotonic()
    try:
        while not _answers(url):
            if server.poll() is not None:
                return False, f"make {target} exited ({server.returncode}) before {url} answered"
            if time.monotonic() - started > timeout:
                return False, f"{url} did not answer within {timeout:.0f} s"
            time.sleep(2)
        answered = time.monotonic() - started
        os.killpg(server.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            return False, f"make {target} still running 60 s after Ctrl-C"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return False, f"port {port} still open after make {target} stopped"
        return True, f"{url} answered after {answered:.0f} s; Ctrl-C stopped it"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target")
    parser.add_argument("variables", nargs="*", help="VAR=value for make")
    parser.add_argument("--serve", metavar="PATH", help="a server target: wait for this URL path")
    parser.add_argument("--unchanged", action="store_true",
                        help="the clone's files must be unchanged afterwards")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    args = parser.parse_args(argv)
    bad = [v for v in args.variables if "=" not in v]
    if bad:
        print(f"error: {bad[0]!r} is not VAR=value (targets go first: first_run.py notebooks "
              "NB=03)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix=f"course_etl-first-{args.target}-"))
    started = time.monotonic()
    failure = None
    try:
        clone = fresh_clone(work)
        label = " ".join(["make", args.target, *args.variables])
        if args.serve:
            ok, said = serve_target(clone, args.target, args.variables, args.serve, args.timeout)
            failure = None if ok else said
            print(f"{'ok' if ok else 'FAILED':8}{label} on a fresh clone: {said}", flush=True)
        else:
            code = run_target(clone, args.target, args.variables, args.timeout)
            failure = None if code == 0 else f"{label} exited {code}"
        if failure is None and args.unchanged:
            status = subprocess.run(["git", "status", "--porcelain"], cwd=clone,
                                    capture_output=True, text=True, check=True).stdout
            if status.strip():
                diff = subprocess.run(["git", "diff", "--stat"], cwd=clone,
                                      capture_output=True, text=True).stdout
                failure = f"{label} changed committed files:\n{status}{diff}"
    except subprocess.TimeoutExpired:
        failure = f"make {args.target} took more than {args.timeout:.0f} s"
    took = time.monotonic() - started
    if failure:
        print(f"FAILED  first run of make {args.target} ({took:.0f} s): {failure} "
              f"(clone kept in {work})", file=sys.stderr)
        return 1
    print(f"ok      first run of make {args.target} on a fresh clone ({took:.0f} s)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
