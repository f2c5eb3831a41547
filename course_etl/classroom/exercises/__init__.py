"""Exercises with instant, deterministic feedback, shared by every notebook.

Each notebook's exercises live in a module here (``exercises.incremental`` for notebook 01, …).
An exercise is a ``check_…(answer)`` function that runs the student's answer beside a reference on
the lecture's data and on generated scenarios (:mod:`.differential`) and returns a
:class:`Verdict`: "Correct: …" with what was right, or "Not yet: …" with the smallest situation
where the answer goes wrong and what that causes.

Adding an exercise is one registration: the :func:`register` decorator is the only list. This
package re-exports every registered check under its name (``exercises.check_…``), the index
notebook's table, :func:`hint`'s names, the tests (solution passes, stub fails, wrong answers
refused) and ``make mutants`` all read the registry. A module's ``__all__`` lists only the values
its exercise cells show (e.g. the quiz choices); they are re-exported too.

Answers are earned: the function a notebook imports counts the student's tries in memory (per
kernel, nothing written to disk). The first wrong try says only what is wrong; the hint comes
with the next wrong try (the same answer run again is a try), or at once with :func:`hint`.
Running the untouched stub ("Run all" before editing) is not a try. No hint is the answer: that is
the ``%load solutions/…`` file. A check never shows a traceback: an answer of the wrong kind, or
one that makes the check itself fail, gets a sentence.

A notebook imports ``exercises`` and ``hint`` once, in its setup cell::

    from course_etl.classroom import exercises
    from course_etl.classroom.exercises import hint
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from course_etl.classroom.exercises._budget import AnswerTimeout, time_budget
from course_etl.classroom.exercises.differential import describe_error
from course_etl.errors import checked

__all__ = ["Verdict", "Exercise", "register", "all_exercises", "hint", "reset_tries",
           "exercise_index", "is_stub"]  # and every registered check, added below

#: A hint comes with this try (1 = the first), or on request.
HINT_FROM_TRY = 2


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: passed or not, what was seen, and a hint when it failed.

    ``show_hint`` says whether printing it shows the hint; the checks themselves always fill
    ``hint`` in (tests read it), the notebook's wrapper decides when the student sees it.
    Printed, a verdict starts with a word, "Correct" or "Not yet" (no colour, no symbol needed).
    ``judged`` is False when the check itself failed (a fault in the course): that prints "No
    verdict", is not counted as a try, and is never shown as a judgement of the answer.
    """

    exercise: str
    passed: bool
    message: str
    hint: str = ""
    show_hint: bool = True
    hint_key: str = ""
    judged: bool = True

    def __str__(self) -> str:
        word = "Correct" if self.passed else "Not yet" if self.judged else "No verdict"
        head = f"{word}: {self.exercise}: {self.message}"
        if self.passed or not self.hint:
            return head
        if self.show_hint:
            return f"{head}\n   Hint: {self.hint}"
        if self.hint_key:
            return (f"{head}\n   Try again: a hint comes with your next try, or now with "
                    f"hint({self.hint_key!r}).")
        return head

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows the sentence, not the fields
        printer.text(str(self))


@dataclass(frozen=True)
class Exercise:
    """A registered exercise: its (pure) check, the name the answer is bound to, stub and
    solution file. ``key`` is the short name :func:`hint` takes (``check_`` left off);
    ``notebook_check`` is the function a notebook calls (it counts tries)."""

    name: str
    check: Callable[[object], Verdict]
    answer_name: str
    stub: object
    solution_file: str
    requires: tuple[str, ...] = ()  # solution files whose names this one uses, run first
    notebook_check: Callable[[object], Verdict] | None = None

    @property
    def key(self) -> str:
        return self.name.removeprefix("check_")

    @property
    def notebook_number(self) -> str:
        return self.solution_file[:2]

    @property
    def title(self) -> str:
        """The first line of the check's docstring: what the exercise asks."""
        return (self.check.__doc__ or self.key).strip().splitlines()[0]


_REGISTRY: dict[str, Exercise] = {}
# The student's tries, per exercise key: in this kernel's memory only.
_TRIES: dict[str, list[Verdict]] = {}


def register(*, answer_name: str, stub: object, solution_file: str,
             requires: tuple[str, ...] = ()):
    """Decorator for a ``check_…`` function: registers the pure check as an exercise and returns
    the notebook's version, which counts tries, holds the hint back on the first one and turns
    an error inside the check into a verdict."""

    def decorate(check: Callable[[object], Verdict]) -> Callable[[object], Verdict]:
        title = (check.__doc__ or check.__name__).strip().splitlines()[0]

        @functools.wraps(check)
        def safe(answer: object) -> Verdict:
            return _guarded(check, answer, title, solution_file)

        exercise = Exercise(check.__name__, safe, answer_name, stub, solution_file, requires)

        @functools.wraps(check)
        def tried(answer: object) -> Verdict:
            verdict = safe(answer)
            if is_stub(answer, exercise.stub):  # "Run all" before editing is not a try
                return dataclasses.replace(verdict, show_hint=False, hint_key=exercise.key)
            if not verdict.judged:  # the check failed, not the student: no try used
                return verdict
            tries = _TRIES.setdefault(exercise.key, [])
            tries.append(verdict)
            return dataclasses.replace(verdict, show_hint=len(tries) >= HINT_FROM_TRY,
                                       hint_key=exercise.key)

        exercise = dataclasses.replace(exercise, notebook_check=tried)
        _REGISTRY[exercise.name] = exercise
        tried.exercise = exercise
        return tried

    return decorate


#: The longest a whole check may take, whatever the answer does (each call of a student's
#: Python code has its own, shorter budget: _budget.SECONDS_PER_CALL).
SECONDS_PER_CHECK = 30.0


def _guarded(check: Callable[[object], Verdict], answer: object, title: str,
             solution_file: str) -> Verdict:
    """``check(answer)``, with a sentence for everything that is not a verdict: an answer that
    runs out of time or ends the program (SystemExit, GeneratorExit, KeyboardInterrupt) gets a
    verdict about that; a check that fails itself says so, as no verdict."""
    try:
        with time_budget(SECONDS_PER_CHECK):
            return check(answer)
    except AnswerTimeout as error:
        return Verdict(title, False, f"your answer did not finish within {error.seconds:g} s: a "
                       "loop that never ends, or one that waits for something that never comes.",
                       "Run it yourself on a small case, with a print() inside the loop.")
    except KeyboardInterrupt:
        return Verdict(title, False, "the check was interrupted before it reached a verdict "
                       "(the stop button, or your answer raising KeyboardInterrupt).",
                       "Run the cell again and let it finish.")
    except (SystemExit, GeneratorExit) as error:
        return Verdict(title, False, f"your answer raised {describe_error(error)}, which ends a "
                       "program instead of giving a result: the pipeline around it would stop "
                       "with it.", "Return the result; for an error, raise an Exception such "
                       "as ValueError.")
    except Exception as error:  # noqa: BLE001 - a student sees a sentence, never a traceback
        return Verdict(title, False, f"the check itself failed on this answer "
                       f"({describe_error(error)}): a fault in the course, not in your answer. "
                       "Please tell your instructor; meanwhile compare yours with "
                       f"solutions/{solution_file}.", judged=False)


def _fingerprint(value: object, depth: int = 0) -> object:
    """What makes two answers "the same text": whitespace-normalised strings, functions by their
    compiled code (so the stub a cell defines matches the registered one), classes by their
    fields and methods (whatever they are called), containers and objects by their contents;
    anything else by itself."""
    if depth > 6:
        return ("deep",)
    if isinstance(value, str):
        return ("str", " ".join(value.split()))
    if isinstance(value, types.FunctionType):
        return ("function", _code_fingerprint(value.__code__))
    if isinstance(value, type):
        members = {k: v for k, v in vars(value).items()  # dunders are generated or inherited
                   if isinstance(v, types.FunctionType) and not k.startswith("__")}
        fields = [(f.name, getattr(f.type, "__name__", f.type),
                   _fingerprint(f.default, depth + 1), dict(f.metadata))
                  for f in dataclasses.fields(value)] if dataclasses.is_dataclass(value) else []
        return ("class", _fingerprint(members, depth + 1), repr(fields))
    if dataclasses.is_dataclass(value):
        return (type(value).__name__, tuple(_fingerprint(getattr(value, f.name), depth + 1)
                                            for f in dataclasses.fields(value)))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_fingerprint(v, depth + 1) for v in value))
    if isinstance(value, dict | types.MappingProxyType):
        return ("mapping", tuple(sorted((repr(k), _fingerprint(v, depth + 1))
                                        for k, v in value.items())))
    if hasattr(value, "__dict__") and not isinstance(value, types.ModuleType):
        return (type(value).__name__, _fingerprint(vars(value), depth + 1))
    return ("value", value)


def _code_fingerprint(code: types.CodeType) -> tuple:
    consts = tuple(_code_fingerprint(c) if isinstance(c, types.CodeType) else repr(c)
                   for c in code.co_consts)
    return (code.co_code, code.co_names, code.co_varnames, consts)


def is_stub(answer: object, stub: object) -> bool:
    """Is ``answer`` the exercise's untouched stub (whitespace aside)?"""
    try:
        return bool(_fingerprint(answer) == _fingerprint(stub))
    except Exception:  # noqa: BLE001 - answers of any type, some refuse comparison
        return False


def _find(name: str | Callable) -> Exercise:
    all_exercises()
    exercise = getattr(name, "exercise", None)
    if isinstance(exercise, Exercise):
        return exercise
    key = str(getattr(name, "__name__", name)).strip().removeprefix("check_")
    for exercise in _REGISTRY.values():
        if exercise.key == key:
            return exercise
    known = ", ".join(sorted(e.key for e in _REGISTRY.values()))
    raise KeyError(f"no exercise {name!r}: use one of {known}")


@checked
def hint(name: str | Callable) -> str:
    """The hint for your last try at exercise ``name`` (e.g. ``hint("changed_rows_query")``)."""
    exercise = _find(name)
    tries = _TRIES.get(exercise.key, [])
    if not tries:
        text = "run the exercise cell with your answer first: the hint depends on what it does"
    elif tries[-1].passed:
        text = "your last try passed: no hint needed"
    else:
        text = tries[-1].hint or "no hint for this one: read the message again"
    print(f"Hint for {exercise.key}: {text}")
    return text


def reset_tries() -> None:
    """Forget every try in this kernel (tests; a student restarts the kernel instead)."""
    _TRIES.clear()


def _modules() -> list[types.ModuleType]:
    return [importlib.import_module(f"{__name__}.{m.name}")
            for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]


def all_exercises() -> list[Exercise]:
    """Every registered exercise of every notebook (importing their modules first)."""
    _modules()
    return sorted(_REGISTRY.values(), key=lambda e: (e.solution_file, e.name))


@checked
def exercise_index(notebooks_dir: str | Path = "."):
    """A Markdown table of every registered exercise with its notebook (linked), the name for
    :func:`hint` and its solution file, generated from the registry."""
    from IPython.display import Markdown

    folder = Path(notebooks_dir)
    names = {p.name[:2]: p.name for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))}
    lines = ["| notebook | exercise | `hint(…)` | solution |", "|---|---|---|---|"]
    for exercise in all_exercises():
        notebook = names.get(exercise.notebook_number, exercise.notebook_number)
        lines.append(f"| [{notebook.removesuffix('.ipynb')}]({notebook}) | {exercise.title} | "
                     f"`{exercise.key}` | `solutions/{exercise.solution_file}` |")
    return Markdown("\n".join(lines))


def _export_everything() -> None:
    """Put every registered check, and every value an exercise module lists in its ``__all__``,
    in this package's namespace (``exercises.check_…``, ``exercises.BACKFILL_CHOICES``)."""
    modules = _modules()  # importing them registers their exercises
    with_exercises = {e.check.__module__ for e in _REGISTRY.values()}
    for module in modules:
        if module.__name__ not in with_exercises:
            continue  # the judge and the scenario helpers are not what a cell shows
        for name in getattr(module, "__all__", ()):
            globals()[name] = getattr(module, name)
            if name not in __all__:
                __all__.append(name)
    for exercise in _REGISTRY.values():
        globals()[exercise.name] = exercise.notebook_check
        if exercise.name not in __all__:
            __all__.append(exercise.name)


_export_everything()
