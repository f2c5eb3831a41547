"""How long a new user waits: fresh clone, no uv on PATH, empty caches (README's setup figures).

Two measurements, each on its own fresh clone of this repository with its own empty uv and pip
cache folders (``UV_CACHE_DIR``, ``PIP_CACHE_DIR``) and every folder holding a ``uv`` taken off
PATH, so the Makefile's own path runs: pip installs uv into ``.venv-tools``, uv installs the
course. (The machine's pip configuration still applies, as for a student.)

1. ``make lab PORT=… BROWSER=no`` until JupyterLab answers HTTP 200 (then it is stopped);
2. ``make test`` until it exits 0;
3. only when asked (``--only pip-lab``): ``make lab UV=``, pip for everything, as 1.

Prints both, with the machine and its load average before and after (a shared machine's other
work shows in the figures); ``--write-readme`` also rewrites README.md's setup-times block.

    python3 -m tools.measure_setup [--write-readme] [--only lab|test|pip-lab]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from tools.first_run import ROOT, _answers, _free_port, fresh_clone, make_env

__all__ = ["cold_env", "time_lab", "time_test", "main"]

README = ROOT / "README.md"
START, END = "<!-- setup-times:start -->", "<!-- setup-times:end -->"


def cold_env(work: Path) -> dict[str, str]:
    """A new user's shell: no uv anywhere on PATH, empty download caches."""
    env = make_env()
    env["PATH"] = os.pathsep.join(d for d in env.get("PATH", "").split(os.pathsep)
                                  if d and not (Path(d) / "uv").exists())
    env.pop("UV", None)
    for name in ("UV_CACHE_DIR", "PIP_CACHE_DIR"):
        folder = work / name.lower()
        folder.mkdir()
        env[name] = str(folder)
    return env


def time_lab(work: Path, *, pip_only: bool = False, timeout: float = 3600) -> float:
    """Seconds from ``make lab`` (``make lab UV=`` with ``pip_only``) on a fresh clone to
    JupyterLab answering."""
    clone, env, port = fresh_clone(work), cold_env(work), _free_port()
    started = time.monotonic()
    lab = subprocess.Popen(["make", "--no-print-directory", "lab", f"PORT={port}",
                            "BROWSER=no", *(["UV="] if pip_only else [])], cwd=clone,
                           env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        while not _answers(f"http://127.0.0.1:{port}/lab"):
            if lab.poll() is not None:
                raise RuntimeError(f"make lab exited {lab.returncode} before answering")
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"JupyterLab did not answer within {timeout:.0f} s")
            time.sleep(1)
        return time.monotonic() - started
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGTERM)
            try:
                lab.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(lab.pid, signal.SIGKILL)
                lab.wait()


def time_test(work: Path, *, timeout: float = 7200) -> float:
    """Seconds from ``make test`` on a fresh clone to its passing."""
    clone, env = fresh_clone(work), cold_env(work)
    started = time.monotonic()
    done = subprocess.run(["make", "--no-print-directory", "test"], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"make test failed after {took:.0f} s:\n{done.stdout[-3000:]}")
    return took


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def readme_block(lab: float | None, test: float | None, machine: str,
                 pip_lab: float | None = None) -> str:
    said = []
    if lab is not None:
        said.append(f"to JupyterLab answering, {_minutes(lab)}")
    if test is not None:
        said.append(f"to `make test` passed, {_minutes(test)}")
    if pip_lab is not None:
        said.append(f"with pip only (`make lab UV=`) to JupyterLab answering, {_minutes(pip_lab)}")
    text = (f"Measured by `python3 -m tools.measure_setup` (a fresh clone, no uv on PATH, empty "
            f"download caches): {'; '.join(said)}; on {machine}.")
    return "\n".join([START, *textwrap.wrap(text, 99, break_on_hyphens=False), END])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["lab", "test", "pip-lab"],
                        help="one measurement (default: lab and test)")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args(argv)
    load_before = _load()
    figures: dict[str, float | None] = {"lab": None, "test": None, "pip-lab": None}
    measures = {"lab": time_lab, "test": time_test,
                "pip-lab": lambda work: time_lab(work, pip_only=True)}
    for what, measure in measures.items():
        if args.only != what and (args.only is not None or what == "pip-lab"):
            continue
        with tempfile.TemporaryDirectory(prefix=f"course_etl-setup-{what}-") as work:
            try:
                figures[what] = measure(Path(work))
            except (RuntimeError, TimeoutError, subprocess.TimeoutExpired) as error:
                print(f"FAILED  {what}: {error}", file=sys.stderr)
                return 1
        print(f"ok      fresh clone, no uv, empty caches → {what}: "
              f"{figures[what]:.0f} s", flush=True)
    machine = (f"{os.cpu_count()} cores ({platform.machine()}), Python "
               f"{platform.python_version()}, load average {load_before} before and "
               f"{_load()} after")
    print(f"machine: {machine}")
    if args.write_readme:
        readme = README.read_text(encoding="utf-8")
        if START not in readme:
            print(f"error: README.md has no {START} block", file=sys.stderr)
            return 2
        block = readme_block(figures["lab"], figures["test"], machine, figures["pip-lab"])
        README.write_text(re.sub(f"{re.escape(START)}.*?{re.escape(END)}", lambda _: block,
                                 readme, flags=re.DOTALL), encoding="utf-8")
        print("README.md: setup times written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
