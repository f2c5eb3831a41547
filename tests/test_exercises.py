"""Every exercise: its solution passes its check, its stub does not, and both are deterministic."""

from pathlib import Path

import pytest

from course_etl.classroom.exercises import Verdict, all_exercises

EXERCISES = all_exercises()
SOLUTIONS_DIR = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"


def run_solution(exercise):
    """Execute the solution file the way %load would put it in a cell, and return the answer."""
    namespace = {}
    source = (SOLUTIONS_DIR / exercise.solution_file).read_text(encoding="utf-8")
    exec(compile(source, str(SOLUTIONS_DIR / exercise.solution_file), "exec"), namespace)  # noqa: S102
    return namespace[exercise.answer_name]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_solution_passes(exercise):
    verdict = exercise.check(run_solution(exercise))
    assert isinstance(verdict, Verdict) and verdict.passed, str(verdict)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_stub_fails_with_a_hint(exercise):
    first, again = exercise.check(exercise.stub), exercise.check(exercise.stub)
    assert not first.passed and first.hint, str(first)
    assert str(first) == str(again), "feedback must be deterministic for nbval"


def test_verdict_prints_one_readable_line():
    assert str(Verdict("x", True, "right")) == "✅ x: right"
    assert str(Verdict("x", False, "wrong", "try y")) == "❌ x: wrong\n   Hint: try y"
