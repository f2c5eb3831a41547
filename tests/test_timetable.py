"""The timetable in 00_index is computed from the notebooks and keeps the session at 90 minutes;
a notebook that runs over its planned minutes is told what to move."""

import json
from pathlib import Path

import pytest

from tools.timetable import (
    BUILD_MINUTES,
    QUIZ_MINUTES,
    SESSION_MINUTES,
    TIMETABLE_CELL,
    WORDS_PER_MINUTE,
    Row,
    advice,
    budgets,
    core_exercises,
    core_words,
    exercise_kind,
    render,
    timetable,
)

FOLDER = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("[0-9][0-9]_*.ipynb"))
ROWS = timetable(FOLDER)


def stored_table():
    cells = json.loads((FOLDER / "00_index.ipynb").read_text(encoding="utf-8"))["cells"]
    [cell] = [c for c in cells if c.get("id") == TIMETABLE_CELL]
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_the_stored_timetable_is_what_the_notebooks_give_today():
    assert stored_table() == render(ROWS), "run: python -m tools.timetable notebooks"


def test_the_plan_shares_out_the_session_and_names_every_notebook():
    plan = budgets(FOLDER)
    assert sorted(plan) == [p.stem for p in NOTEBOOKS]
    assert sum(plan.values()) == SESSION_MINUTES


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.notebook)
def test_each_notebook_fits_its_planned_minutes(row):
    assert row.minutes <= row.budget, advice(row)


def test_the_core_path_fits_in_90_minutes():
    total = sum(r.minutes for r in ROWS)
    assert total <= SESSION_MINUTES, " | ".join(advice(r) for r in ROWS if advice(r))


def test_run_times_were_measured_for_every_notebook():
    figures = json.loads((FOLDER / "timetable.json").read_text())["run_seconds"]
    assert sorted(figures) == [p.stem for p in NOTEBOOKS]
    assert all(seconds > 0 for seconds in figures.values())


def test_quizzes_and_builds_are_told_apart_by_the_registry():
    assert exercise_kind("check_volume_history") == "quiz"
    assert exercise_kind("check_freshness_function") == "build"
    assert exercise_kind("check_not_registered") == "build"


def test_minutes_are_words_run_time_and_exercises(tmp_path):
    notebook = {"cells": [
        {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# 01 — T\n" + "w " * 396},
        {"cell_type": "markdown", "id": "b", "metadata": {"tags": ["deep-dive"]},
         "source": "## Deep dive: x\n" + "w " * 1000},
        {"cell_type": "code", "id": "c", "metadata": {}, "source": "check_thing(answer)"},
        {"cell_type": "code", "id": "q", "metadata": {},
         "source": "exercises.check_volume_history(answer)"},
        {"cell_type": "code", "id": "d", "metadata": {"tags": ["deep-dive"]},
         "source": "check_other(answer)"},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "01_t.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "timetable.json").write_text(json.dumps(
        {"run_seconds": {"01_t": 30}, "budget_minutes": {"01_t": 10}}))
    assert core_words(tmp_path / "01_t.ipynb") == 400
    assert core_exercises(tmp_path / "01_t.ipynb") == ["check_thing", "check_volume_history"]
    [row] = timetable(tmp_path)
    assert row.builds == ("check_thing",) and row.quizzes == ("check_volume_history",)
    assert row.minutes == 400 / WORDS_PER_MINUTE + 0.5 + BUILD_MINUTES + QUIZ_MINUTES
    assert row.minutes > row.budget and "check_thing" in advice(row)


def test_advice_says_how_many_words_or_which_exercises_to_move():
    row = Row("02_x", "X", words=1000, run_seconds=0, builds=("check_a",),
              quizzes=("check_b", "check_c"), budget=15)
    over = row.minutes - 15
    text = advice(row)
    assert f"takes {row.minutes:.1f} of its 15 minutes" in text
    assert f"move {int(over * WORDS_PER_MINUTE + 0.999)} of its 1000 core words" in text
    assert "move 1 build exercise(s)" in text and "move 1 quiz exercise(s)" in text
    assert advice(Row("02_x", "X", 100, 0, (), (), 15)) == ""
