"""Every error the library raises carries the facts its message names as attributes.

Found by reading the package's source: a ``raise SomeCourseError(f"…{table}…")`` (or a helper's
``return SomeCourseError(…)``) must also pass ``table=…`` (or a keyword whose value uses
``table``), so a caller, a widget or a test can act on the error without parsing its text. Names
in capitals (module constants such as the schedule) and the names of called functions are not
facts of one error and need no keyword.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import course_etl
from course_etl.errors import CourseEtlError

PACKAGE = Path(course_etl.__file__).parent

# {module path: why its raises are not judged yet}; empty when every error carries its facts.
PENDING: dict[str, str] = {}


def _course_error_names() -> set[str]:
    names = set()
    for info in pkgutil.walk_packages(course_etl.__path__, "course_etl."):
        if info.name == "course_etl.__main__":
            continue
        for name, value in vars(importlib.import_module(info.name)).items():
            if inspect.isclass(value) and issubclass(value, CourseEtlError):
                names.add(name)
    return names


def _facts_in(expression: ast.expr) -> set[str]:
    """The local names an interpolated expression reads (not called functions, not CONSTANTS)."""
    called = {id(node.func) for node in ast.walk(expression) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(expression)
            if isinstance(node, ast.Name) and id(node) not in called and not node.id.isupper()
            and node.id not in ("self", "cls") and not hasattr(builtins, node.id)}


def _message_facts(call: ast.Call) -> set[str]:
    facts: set[str] = set()
    for argument in call.args:
        if isinstance(argument, ast.JoinedStr):
            for part in argument.values:
                if isinstance(part, ast.FormattedValue):
                    facts |= _facts_in(part.value)
        elif not isinstance(argument, ast.Constant):
            facts |= _facts_in(argument)
    return facts


def _raises_missing_facts() -> list[tuple[str, int, str, list[str]]]:
    errors = _course_error_names()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # A raise, or a helper that builds the error for its caller to raise (``return
            # _fail(…)`` / ``return FactsError(…)``): both must carry what the message names.
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
                node = ast.Raise(exc=node.value, cause=None, lineno=node.lineno)
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            function = node.exc.func
            name = getattr(function, "id", None) or getattr(function, "attr", None)
            if name not in errors:
                continue
            carried = set().union(*(_facts_in(k.value) for k in node.exc.keywords))
            if node.cause is not None:  # ``raise … from error`` keeps the cause as __cause__
                carried |= _facts_in(node.cause)
            if any(k.arg is None for k in node.exc.keywords):  # **facts: carried as a whole
                continue
            missing = sorted(_message_facts(node.exc) - carried)
            if missing:
                found.append((relative, node.lineno, name, missing))
    return found


MISSING = _raises_missing_facts()


def test_the_scan_finds_raises():
    assert len(_course_error_names()) > 40


@pytest.mark.parametrize("module", sorted({m for m, *_ in MISSING} | set(PENDING)) or ["none"])
def test_every_raise_carries_the_facts_its_message_names(module):
    sites = [f"{module}:{line} {name} names {', '.join(missing)} in its message only"
             for m, line, name, missing in MISSING if m == module]
    if module in PENDING:
        assert sites, f"{module} carries its facts now: remove it from PENDING"
        pytest.xfail(PENDING[module])
    assert not sites, ("pass each as a keyword (raise Error(f'…{table}…', table=table)):\n"
                       + "\n".join(sites))
