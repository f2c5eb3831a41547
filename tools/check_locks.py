"""Every lock installs with plain pip in hash mode, as on a machine without uv (make test-pip).

For each lock given: ``pip install --dry-run --ignore-installed --require-hashes -r <lock>`` in
one fresh virtualenv made from this Python (its own pip, as ``make setup UV=`` would use). pip
resolves every requirement against the lock without installing anything, and refuses what a real
install would refuse: a dependency the lock does not pin (``uvicorn[standard]`` asked for with
an extra the lock dropped), a pin without hashes, a version no file exists for. Prints one line
per lock and exits 1 naming the locks that failed. Standard library only: it runs before any
virtualenv of the project exists.

    python3 tools/check_locks.py requirements/*.txt
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

__all__ = ["dry_run", "main"]


def _venv_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def dry_run(python: Path, lock: Path) -> subprocess.CompletedProcess:
    """pip's dry run of ``lock`` in hash mode; pip's own configuration (pip.conf, constraints)
    applies, as it would for a student's install."""
    return subprocess.run(
        [str(python), "-m", "pip", "install", "--dry-run", "--ignore-installed",
         "--require-hashes", "--quiet", "--no-input", "-r", str(lock)],
        capture_output=True, text=True)


def _errors(done: subprocess.CompletedProcess) -> str:
    """pip's error lines, without the warnings a machine's configuration may add."""
    lines = [line for line in (done.stderr + done.stdout).splitlines()
             if line.strip() and not line.startswith("WARNING:")]
    return "\n".join(lines[-15:])


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python3 tools/check_locks.py requirements/*.txt", file=sys.stderr)
        return 2
    locks = [Path(a) for a in argv]
    missing = [str(p) for p in locks if not p.is_file()]
    if missing:
        print(f"error: no such lock: {missing[0]} (give files of requirements/)", file=sys.stderr)
        return 2
    failed = []
    with tempfile.TemporaryDirectory(prefix="course_etl-pip-") as tmp:
        folder = Path(tmp) / "venv"
        venv.EnvBuilder(with_pip=True).create(folder)
        python = _venv_python(folder)
        pip = subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True,
                             text=True, check=True).stdout.split(" from ")[0]
        print(f"{pip}, Python {sys.version.split()[0]}, no uv:", flush=True)
        for lock in locks:
            started = time.perf_counter()
            done = dry_run(python, lock)
            took = time.perf_counter() - started
            if done.returncode == 0:
                print(f"ok      {lock} resolves in hash mode ({took:.0f} s)", flush=True)
            else:
                failed.append(str(lock))
                print(f"FAILED  {lock} ({took:.0f} s):\n{_errors(done)}", flush=True)
    if failed:
        print(f"error: plain pip refuses {', '.join(failed)}: run  make lock  (it keeps extras "
              "such as uvicorn[standard] pinned, which pip's hash mode needs)", file=sys.stderr)
        return 1
    print(f"All {len(locks)} locks install with plain pip.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
