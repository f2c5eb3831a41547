"""Exercises with instant, deterministic feedback, shared by every notebook.

Each notebook's exercises live in a module here (``exercises.loads`` for notebook 01, …). An
exercise is a ``check_…(answer)`` function that runs the student's answer against a small fixed
scenario and returns a :class:`Verdict`, which prints as one line: ✅ with what was right, or ❌
with what went wrong and a hint. Every exercise is registered with its stub (the notebook's starting
value) and its solution file's name (the files sit beside the notebooks, in
``notebooks/solutions/``, and
travel with them), so one test can prove that every solution
passes and every stub does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Verdict", "Exercise", "register", "all_exercises"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: passed or not, what was seen, and a hint when it failed."""

    exercise: str
    passed: bool
    message: str
    hint: str = ""

    def __str__(self) -> str:
        if self.passed:
            return f"✅ {self.exercise}: {self.message}"
        hint = f"\n   Hint: {self.hint}" if self.hint else ""
        return f"❌ {self.exercise}: {self.message}{hint}"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows the sentence, not the fields
        printer.text(str(self))


@dataclass(frozen=True)
class Exercise:
    """A registered exercise: its check, the name the answer is bound to, stub and solution."""

    name: str
    check: Callable[[object], Verdict]
    answer_name: str
    stub: object
    solution_file: str


_REGISTRY: dict[str, Exercise] = {}


def register(*, answer_name: str, stub: object, solution_file: str):
    """Decorator for a ``check_…`` function: registers it as an exercise and returns it."""

    def decorate(check: Callable[[object], Verdict]) -> Callable[[object], Verdict]:
        name = check.__name__
        _REGISTRY[name] = Exercise(name, check, answer_name, stub, solution_file)
        return check

    return decorate


def all_exercises() -> list[Exercise]:
    """Every registered exercise of every notebook (importing their modules first)."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return sorted(_REGISTRY.values(), key=lambda e: (e.solution_file, e.name))
