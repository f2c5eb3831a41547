"""Exercises with instant, deterministic feedback, shared by every notebook.

Each notebook's exercises live in a module here (``exercises.loads`` for notebook 01, …). An
exercise is a ``check_…(answer)`` function that runs the student's answer against the lecture's
data and a second, generated data set, and returns a :class:`Verdict`: ✅ with what was right, or ❌
with what went wrong and what it caused. Every exercise is registered with its stub (the
notebook's starting value) and its solution file's name (the files sit beside the notebooks, in
``notebooks/solutions/``, and travel with them), so one test can prove that every solution passes,
every stub fails and every gamed answer is refused.

Answers are earned: the function a notebook imports counts the student's tries in memory (per
kernel, nothing written to disk). The first wrong try says only what is wrong; the hint comes
with the next wrong try, or at once with :func:`hint`. No hint is the answer: that is the
``%load solutions/…`` file.

A notebook imports this package once (``from course_etl.classroom import exercises``) and calls
``exercises.check_…(answer)`` and ``exercises.hint("check_…")``: the checks of every notebook are
re-exported here.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Verdict", "Exercise", "register", "all_exercises", "hint", "reset_tries",
           "exercise_index"]  # and every notebook's checks, re-exported at the end

#: A hint comes with this try (1 = the first), or on request.
HINT_FROM_TRY = 2


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: passed or not, what was seen, and a hint when it failed.

    ``show_hint`` says whether printing it shows the hint; the checks themselves always fill
    ``hint`` in (tests read it), the notebook's wrapper decides when the student sees it.
    """

    exercise: str
    passed: bool
    message: str
    hint: str = ""
    show_hint: bool = True
    hint_key: str = ""

    def __str__(self) -> str:
        if self.passed:
            return f"✅ {self.exercise}: {self.message}"
        if self.hint and self.show_hint:
            return f"❌ {self.exercise}: {self.message}\n   Hint: {self.hint}"
        if self.hint and self.hint_key:
            return (f"❌ {self.exercise}: {self.message}\n   Try again: a hint comes with your "
                    f"next try, or now with hint({self.hint_key!r}).")
        return f"❌ {self.exercise}: {self.message}"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows the sentence, not the fields
        printer.text(str(self))


@dataclass(frozen=True)
class Exercise:
    """A registered exercise: its (pure) check, the name the answer is bound to, stub and
    solution file. ``key`` is the short name :func:`hint` takes (``check_`` left off)."""

    name: str
    check: Callable[[object], Verdict]
    answer_name: str
    stub: object
    solution_file: str
    requires: tuple[str, ...] = ()  # solution files whose names this one uses, run first

    @property
    def key(self) -> str:
        return self.name.removeprefix("check_")

    @property
    def notebook_number(self) -> str:
        return self.solution_file[:2]


_REGISTRY: dict[str, Exercise] = {}
# The student's tries, per exercise key: in this kernel's memory only.
_TRIES: dict[str, list[Verdict]] = {}


def register(*, answer_name: str, stub: object, solution_file: str,
             requires: tuple[str, ...] = ()):
    """Decorator for a ``check_…`` function: registers the pure check as an exercise and returns
    the notebook's version, which counts tries and holds the hint back on the first one."""

    def decorate(check: Callable[[object], Verdict]) -> Callable[[object], Verdict]:
        exercise = Exercise(check.__name__, check, answer_name, stub, solution_file, requires)
        _REGISTRY[exercise.name] = exercise

        @functools.wraps(check)
        def tried(answer: object) -> Verdict:
            verdict = check(answer)
            tries = _TRIES.setdefault(exercise.key, [])
            if _is_stub(answer, exercise.stub):  # "Run all" before editing is not a try
                return dataclasses.replace(verdict, show_hint=False, hint_key=exercise.key)
            tries.append(verdict)
            return dataclasses.replace(verdict, show_hint=len(tries) >= HINT_FROM_TRY,
                                       hint_key=exercise.key)

        tried.exercise = exercise
        return tried

    return decorate


def _is_stub(answer: object, stub: object) -> bool:
    if isinstance(answer, str) and isinstance(stub, str):
        return " ".join(answer.split()) == " ".join(stub.split())
    try:
        return bool(answer == stub)
    except Exception:  # noqa: BLE001 - answers of any type, some refuse comparison
        return False


def _find(name: str | Callable) -> Exercise:
    all_exercises()
    if callable(name):
        name = getattr(name, "exercise", None).name if hasattr(name, "exercise") else name.__name__
    key = str(name).strip().removeprefix("check_")
    for exercise in _REGISTRY.values():
        if exercise.key == key:
            return exercise
    known = ", ".join(sorted(e.key for e in _REGISTRY.values()))
    raise KeyError(f"no exercise {name!r}: use one of {known}")


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


def all_exercises() -> list[Exercise]:
    """Every registered exercise of every notebook (importing their modules first)."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return sorted(_REGISTRY.values(), key=lambda e: (e.solution_file, e.name))


def exercise_index(notebooks_dir: str | Path = "."):
    """A Markdown table of every registered exercise with its notebook (linked), the name for
    :func:`hint` and its solution file, generated from the registry."""
    from IPython.display import Markdown

    folder = Path(notebooks_dir)
    names = {p.name[:2]: p.name for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))}
    lines = ["| notebook | exercise | `hint(…)` | solution |", "|---|---|---|---|"]
    for exercise in all_exercises():
        notebook = names.get(exercise.notebook_number, exercise.notebook_number)
        title = (exercise.check.__doc__ or exercise.key).strip().splitlines()[0]
        lines.append(f"| [{notebook.removesuffix('.ipynb')}]({notebook}) | {title} | "
                     f"`{exercise.key}` | `solutions/{exercise.solution_file}` |")
    return Markdown("\n".join(lines))


# Every notebook's checks and the values its exercise cells show, in one namespace. Imported last:
# each of these modules registers its checks with the functions above.
from course_etl.classroom.exercises.capstone import (  # noqa: E402
    BACKFILL_CHOICES,
    check_export_schedule,
    check_fault_states,
    check_gold_sql,
    check_gold_suite,
    check_rerun_choice,
    check_retry_outcome,
    check_task_order,
)
from course_etl.classroom.exercises.config import (  # noqa: E402
    QUIZ_ENVIRON,
    QUIZ_KEYS,
    QUIZ_OVERRIDES,
    check_env_override,
    check_layer_quiz,
    check_retention_key,
)
from course_etl.classroom.exercises.loads import (  # noqa: E402
    check_changed_rows_query,
    check_hand_written_load,
    check_hard_delete_query,
    check_predicted_counts,
    check_upsert_statement,
    check_watermark_read,
    check_watermark_save,
)
from course_etl.classroom.exercises.medallion import (  # noqa: E402
    check_gold_metric,
    check_reject_rule_sql,
    check_rejection_rule,
    check_silver_dedup,
)
from course_etl.classroom.exercises.monitoring import (  # noqa: E402
    VOLUME_HISTORY_CHOICES,
    check_freshness_function,
    check_freshness_thresholds,
    check_volume_history,
)
from course_etl.classroom.exercises.scheduling import (  # noqa: E402
    check_added_task,
    check_predicted_states,
    check_weekday_cron,
)

__all__ += [
    "BACKFILL_CHOICES", "QUIZ_ENVIRON", "QUIZ_KEYS", "QUIZ_OVERRIDES", "VOLUME_HISTORY_CHOICES",
    "check_added_task", "check_changed_rows_query", "check_env_override", "check_export_schedule",
    "check_fault_states", "check_freshness_function", "check_freshness_thresholds",
    "check_gold_metric", "check_gold_sql", "check_gold_suite", "check_hand_written_load",
    "check_hard_delete_query", "check_layer_quiz", "check_predicted_counts",
    "check_predicted_states", "check_reject_rule_sql", "check_rejection_rule",
    "check_rerun_choice", "check_retention_key", "check_retry_outcome", "check_silver_dedup",
    "check_task_order", "check_upsert_statement", "check_volume_history",
    "check_watermark_read", "check_watermark_save", "check_weekday_cron",
]
