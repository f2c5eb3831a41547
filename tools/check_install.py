"""The ways a course is served, rehearsed in fresh virtualenvs (make test-install, test-binder).

``hub``: what a JupyterHub image does. Build a wheel, install it with the locked runtime
dependencies (requirements/runtime.txt) into a fresh venv, copy the notebooks to another
directory (as nbgitpuller puts them in a student's home), run ``python -m course_etl demo`` and
``config show`` from a third, empty directory, and execute every notebook there.

``binder``: what repo2docker does with binder/: ``pip install -r binder/requirements.txt`` in a
fresh venv with the Python of binder/runtime.txt, then binder/postBuild, then the package imports
and its demo runs, and JupyterLab gets the project's settings.

Either prints one line per step and exits 1 naming the step that failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_TIMEOUT = 900  # seconds per cell


class StepFailed(Exception):
    pass


FAILED: list[str] = []


def step(title: str, command: list, *, fatal: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run one step; a failure stops the check when ``fatal``, else is reported at the end."""
    started = time.perf_counter()
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    took = time.perf_counter() - started
    if done.returncode != 0:
        print(f"FAILED  {title} ({took:.0f} s)\n{done.stdout[-3000:]}{done.stderr[-3000:]}",
              flush=True)
        if fatal:
            raise StepFailed(title)
        FAILED.append(title)
    else:
        print(f"ok      {title} ({took:.0f} s)", flush=True)
    return done


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def fresh_venv(venv: Path, base_python: str) -> Path:
    step(f"fresh venv ({base_python})", [base_python, "-m", "venv", venv])
    return venv_python(venv)


UV: str | None = None  # set by main(): the uv the Makefile uses, or None for pip


def install_lock(python: Path, lock: Path) -> None:
    if UV:
        command = [UV, "pip", "install", "--quiet", "--python", python,
                   "--require-hashes", "-r", lock]
    else:
        command = [python, "-m", "pip", "install", "--quiet", "--require-hashes", "-r", lock]
    step(f"install {lock.relative_to(ROOT)} ({'uv' if UV else 'pip'})", command)


def clean_env(venv: Path) -> dict[str, str]:
    """A student's shell: the venv first on PATH, the checkout not on sys.path."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "VIRTUAL_ENV", "MPLBACKEND", "JUPYTER_PATH"}}
    env["PATH"] = f"{venv_python(venv).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONHASHSEED"] = "0"
    return env


EXECUTE = """
import sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

failed = []
for name in sys.argv[2:]:
    path = Path(name)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=int(sys.argv[1]), kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
        print(f"ok      executed {path.name}", flush=True)
    except CellExecutionError as error:
        failed.append(path.name)
        print(f"FAILED  executed {path.name}: {error.ename}: {error.evalue}", flush=True)
sys.exit(1 if failed else 0)
"""


def check_hub(base_python: str, work: Path) -> None:
    dist, venv, home, elsewhere = (work / d for d in ("dist", "venv", "home", "elsewhere"))
    step("build the wheel", [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                             "--wheel-dir", dist, ROOT])
    wheel = next(dist.glob("course_etl-*.whl"))
    python = fresh_venv(venv, base_python)
    install_lock(python, ROOT / "requirements" / "runtime.txt")
    step(f"install {wheel.name} (--no-deps)",
         [python, "-m", "pip", "install", "--quiet", "--no-deps", wheel])
    env = clean_env(venv)

    elsewhere.mkdir()
    where = step("the package comes from the venv, not the checkout",
                 [python, "-c", "import course_etl, sys; print(course_etl.__file__)"],
                 cwd=elsewhere, env=env).stdout.strip()
    if Path(where).resolve().is_relative_to(ROOT):
        raise StepFailed(f"course_etl imported from the checkout: {where}")
    step("python -m course_etl demo", [python, "-m", "course_etl", "demo"],
         cwd=elsewhere, env=env, fatal=False)
    step("python -m course_etl config show",
         [python, "-m", "course_etl", "config", "show"], cwd=elsewhere, env=env, fatal=False)

    shutil.copytree(ROOT / "notebooks", home / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.db*"))
    notebooks = sorted((home / "notebooks").glob("[0-9]*.ipynb"))
    env["JUPYTER_DATA_DIR"] = str(work / "jupyter-data")  # no user kernelspec shadows the venv's
    step(f"execute {len(notebooks)} notebooks in {home / 'notebooks'}",
         [python, "-c", EXECUTE, NOTEBOOK_TIMEOUT, *notebooks], cwd=home / "notebooks", env=env,
         fatal=False)


def check_binder(base_python: str, work: Path) -> None:
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    wanted = runtime.removeprefix("python-")
    version = step("the Python binder/runtime.txt asks for",
                   [base_python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
    if version.stdout.strip() != wanted:
        print(f"note    binder/runtime.txt asks for {wanted}; checking with "
              f"{version.stdout.strip()}")
    venv, elsewhere = work / "venv", work / "elsewhere"
    python = fresh_venv(venv, base_python)
    env = clean_env(venv)
    env["NB_PYTHON_PREFIX"] = str(venv)
    step("pip install -r binder/requirements.txt (as repo2docker does)",
         [python, "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"],
         cwd=ROOT, env=env)
    step("binder/postBuild", ["bash", "binder/postBuild"], cwd=ROOT, env=env)
    elsewhere.mkdir()
    step("import course_etl and run its demo",
         [python, "-m", "course_etl", "demo"], cwd=elsewhere, env=env)
    overrides = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    if not overrides.exists():
        raise StepFailed(f"postBuild left no JupyterLab settings at {overrides}")
    print("ok      JupyterLab settings in place (no news question)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("how", choices=["hub", "binder"])
    parser.add_argument("--python", default=sys.executable,
                        help="the Python the fresh venv is made from (default: this one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--uv", default=shutil.which("uv") or "",
                        help="the uv that installs the locks ('' for pip; default: uv on PATH; "
                             "make passes the one it uses)")
    args = parser.parse_args(argv)
    global UV
    UV = args.uv or None
    work = Path(tempfile.mkdtemp(prefix=f"course_etl-{args.how}-"))
    try:
        (check_hub if args.how == "hub" else check_binder)(args.python, work)
    except StepFailed as failure:
        FAILED.append(str(failure))
    if FAILED:
        print(f"error: the {args.how} install failed at: {'; '.join(FAILED)} "
              f"(files kept in {work})")
        return 1
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"The {args.how} install works.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
