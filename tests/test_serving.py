"""The files that serve the course elsewhere: Binder's binder/, Colab's first cell in 00_index.

What they do end to end is rehearsed by `make test-binder` and `make test-install` (fresh
virtualenvs, minutes); these checks are the quick part: the files agree with each other.
"""

import ast
import os
import re
import tomllib
from pathlib import Path

import nbformat
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def test_binder_python_is_one_the_package_supports():
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert SpecifierSet(requires).contains(runtime.removeprefix("python-") + ".0")


def test_binder_installs_the_runtime_lock_then_the_package():
    lines = [line for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
             if line and not line.startswith("#")]
    assert lines == ["-r ../requirements/runtime.txt"]
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "repo2docker runs postBuild only when executable"
    text = post_build.read_text()
    assert "--no-deps" in text and "jupyter-settings/overrides.json" in text


def _colab_cell() -> str:
    """The first code cell as Python: IPython's magics (``%matplotlib inline``) left out."""
    nb = nbformat.read(ROOT / "notebooks" / "00_index.ipynb", as_version=4)
    source = next(c for c in nb.cells if c.cell_type == "code").source
    return "\n".join(line for line in source.splitlines() if not line.startswith("%"))


def test_colab_cell_installs_only_when_the_package_is_missing():
    source = _colab_cell()
    tree = ast.parse(source)
    guards = [node for node in tree.body if isinstance(node, ast.If)]
    assert len(guards) == 1
    assert ast.unparse(guards[0].test) == "importlib.util.find_spec('course_etl') is None"
    installs = ast.unparse(guards[0])
    assert "'pip', 'install'" in installs and "git+" in installs


def test_colab_cell_does_nothing_where_the_package_is_installed(monkeypatch):
    """Run the cell's guard here (course_etl installed): no install is attempted."""
    import subprocess

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    tree = ast.parse(_colab_cell())
    guard_part = ast.Module(body=[n for n in tree.body if not isinstance(n, ast.ImportFrom)
                                  and not isinstance(n, ast.Expr)], type_ignores=[])
    exec(compile(guard_part, "00_index first cell", "exec"), {})
    assert calls == []
