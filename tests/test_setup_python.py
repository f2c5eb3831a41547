"""make setup with a Python older than 3.11: one instruction, and the instruction works.

The old Python is a fake (a shell script answering the version questions the way Python 3.9
does), so the test runs anywhere; the good one is the interpreter running the tests, reached
under the name `python3.NN` the instruction will suggest. The lock is replaced by an empty file
so that the real Makefile rule runs in seconds: what is tested is the check and the rebuild.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD = f"python{sys.version_info.major}.{sys.version_info.minor}"

FAKE_OLD_PYTHON = """#!/bin/sh
# Answers like Python 3.9.6: too old for the version check, prints its version when asked.
case "$2" in
  *print*) echo 3.9.6 ;;
  *) exit 1 ;;
esac
"""

pytestmark = pytest.mark.skipif(shutil.which("make") is None or os.name != "posix",
                                reason="the Makefile path needs make and a POSIX shell")


@pytest.fixture
def machine(tmp_path):
    """A PATH with an old `python3` (the fake) and a good `python3.NN`, and a place for a venv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    old = bin_dir / "python3"
    old.write_text(FAKE_OLD_PYTHON)
    old.chmod(0o755)
    (bin_dir / GOOD).symlink_to(os.path.realpath(sys.executable))
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    # A make running these tests (make test PYTHON=...) passes its command-line variables down
    # through MAKEFLAGS; the inner make must see only the ones given here.
    for name in ("VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(name, None)
    empty_lock = tmp_path / "empty-lock.txt"
    empty_lock.write_text("")
    return env, tmp_path / "venv", empty_lock


def make(env, *args):
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args, "UV="],
                          env=env, capture_output=True, text=True, timeout=600)


def test_old_python_gets_one_instruction_and_nothing_is_built(machine):
    env, venv, lock = machine
    done = make(env, f"VENV={venv}", f"LOCK_DEV={lock}", "setup")
    assert done.returncode == 2
    error_lines = [line for line in done.stderr.splitlines() if not line.startswith("make")]
    assert error_lines == [
        "error: PYTHON=python3 is Python 3.9.6, course_etl needs 3.11 or newer: "
        f"run  make PYTHON={GOOD} setup"
    ]
    assert not venv.exists()


def test_the_suggested_command_rebuilds_a_venv_left_by_the_old_python(machine):
    env, venv, lock = machine
    # What an older setup left behind: a .venv whose python is the old one.
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(Path(env["PATH"].split(os.pathsep)[0]) / "python3")
    done = make(env, f"VENV={venv}", f"LOCK_DEV={lock}", f"PYTHON={GOOD}", "setup")
    assert done.returncode == 0, done.stderr
    assert f"{venv} was made by Python 3.9.6; rebuilding it with {GOOD}" in done.stderr
    python = venv / "bin" / "python"
    check = ("import importlib.util, sys; print(sys.version_info >= (3, 11), "
             "importlib.util.find_spec('course_etl') is not None)")
    answer = subprocess.run([python, "-c", check], capture_output=True, text=True, check=True)
    assert answer.stdout.split() == ["True", "True"], "a good Python, and the package installed"
    assert (venv / ".installed-stamp").exists()


def test_bad_lab_options_are_refused_with_the_fix():
    for option, expected in [("PORT=88a", "PORT=88a is not a port number"),
                             ("BROWSER=maybe", "BROWSER=maybe must be yes or no")]:
        env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL"}}
        done = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT),
                               "-o", ".venv/.installed-stamp", "lab", option],
                              capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 2
        assert expected in done.stderr and "make lab" in done.stderr
