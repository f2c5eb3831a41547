"""The package's shape, enforced: imports point down, modules stay small, the engine stands alone.

Layers, top to bottom: ``cli`` and ``classroom``, then ``capstone``, then the topic packages in
the lecture's order (``medallion`` may use ``config``, ``monitoring``, ``scheduling`` and
``loads``; ``config`` may use ``monitoring``…), then ``sample_data``, then the foundation
(``db``, ``errors``, ``style``, ``paths``, ``states``, ``clock``, ``retries``, ``facts``). A
module may import its own package and anything in a lower layer, never a higher one. Inside a
topic, ``lecture`` and ``lab`` modules may import the engine, never the reverse.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "course_etl"

# Lower index = lower layer. Each entry is a top-level name inside course_etl.
LAYERS: list[set[str]] = [
    {"errors"},
    # facts needs only errors: the clock's first run and cron's examples are read from it.
    {"db", "dbfile", "paths", "style", "palette", "states", "clock", "retries", "facts"},
    {"sample_data"},
    {"loads"},
    {"scheduling"},
    {"monitoring"},
    {"config"},
    {"medallion"},
    {"capstone"},
    {"classroom"},
    {"cli", "__main__", "__init__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MAX_LINES = 400
# Modules a topic's engine must never import (they sit on top of it).
TEACHING_MODULES = {"lecture", "lab", "story"}
# Being split in work under way; this set must be empty when the reshaping is done.
PENDING: set[str] = set()


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def top_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def course_imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module under course_etl) for every import of the package in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "course_etl":
                found += [(node.lineno, f"course_etl.{a.name}") for a in node.names]
            elif node.module.startswith("course_etl."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: use absolute course_etl imports")
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names
                      if a.name.startswith("course_etl.")]
    return found


def test_every_top_level_module_has_a_layer():
    names = {top_name(p) for p in modules()}
    assert names <= set(RANK), f"give these a layer in LAYERS: {sorted(names - set(RANK))}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    here = top_name(path)
    wrong = []
    for line, module in course_imports(path):
        target = module.split(".")[1]
        if target != here and RANK[target] > RANK[here]:
            wrong.append(f"line {line}: {module} ({target} is above {here})")
    assert not wrong, f"{path.relative_to(PACKAGE)} imports upwards: {wrong}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_engines_do_not_import_teaching_modules(path):
    if path.stem in TEACHING_MODULES or path.name == "__init__.py" or path.parent == PACKAGE:
        return
    topic = top_name(path)
    wrong = [f"line {line}: {module}" for line, module in course_imports(path)
             if module.startswith(f"course_etl.{topic}.")
             and module.rsplit(".", 1)[-1] in TEACHING_MODULES
             and topic not in ("classroom", "cli")]
    assert not wrong, f"{path.relative_to(PACKAGE)} imports its topic's teaching code: {wrong}"


def test_the_load_engine_imports_only_the_foundation():
    engine = PACKAGE / "loads" / "engine.py"
    allowed = {"course_etl.db", "course_etl.errors"}
    imported = {m for _, m in course_imports(engine)}
    outside = {m for m in imported if m not in allowed and not m.startswith("course_etl.loads.")}
    assert not outside, f"the engine reaches outside loads/ and the foundation: {outside}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path):
    if str(path.relative_to(PACKAGE)) in PENDING:
        pytest.xfail("being reshaped")
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines: split it"


def test_the_package_does_not_reach_outside_itself():
    offenders = [str(p.relative_to(PACKAGE)) for p in modules()
                 if "parents[" in p.read_text(encoding="utf-8")]
    assert not offenders, f"read package data with course_etl.paths instead: {offenders}"
