"""The timetable in 00_index is computed from the notebooks and keeps the session at 90 minutes."""

import json
from pathlib import Path

import pytest

from tools.timetable import (
    EXERCISE_MINUTES,
    TIMETABLE_CELL,
    WORDS_PER_MINUTE,
    core_exercises,
    core_words,
    render,
    timetable,
)

FOLDER = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("[0-9][0-9]_*.ipynb"))


def stored_table():
    cells = json.loads((FOLDER / "00_index.ipynb").read_text(encoding="utf-8"))["cells"]
    [cell] = [c for c in cells if c.get("id") == TIMETABLE_CELL]
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_the_stored_timetable_is_what_the_notebooks_give_today():
    assert stored_table() == render(timetable(FOLDER))


def test_the_core_path_fits_in_90_minutes():
    rows = timetable(FOLDER)
    assert sum(r.minutes for r in rows) <= 90
    assert [r.notebook for r in rows] == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS[1:], ids=lambda p: p.stem)
def test_each_notebooks_core_path_is_at_most_900_words(path):
    assert core_words(path) <= 900


def test_run_times_were_measured_for_every_notebook():
    figures = json.loads((FOLDER / "timetable.json").read_text())["run_seconds"]
    assert sorted(figures) == [p.stem for p in NOTEBOOKS]
    assert all(seconds > 0 for seconds in figures.values())


def test_minutes_are_words_run_time_and_exercises(tmp_path):
    notebook = {"cells": [
        {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# 01 — T\n" + "w " * 396},
        {"cell_type": "markdown", "id": "b", "metadata": {"tags": ["deep-dive"]},
         "source": "## Deep dive: x\n" + "w " * 1000},
        {"cell_type": "code", "id": "c", "metadata": {}, "source": "check_thing(answer)"},
        {"cell_type": "code", "id": "d", "metadata": {"tags": ["deep-dive"]},
         "source": "check_other(answer)"},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "01_t.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "timetable.json").write_text(json.dumps({"run_seconds": {"01_t": 30}}))
    assert core_words(tmp_path / "01_t.ipynb") == 400
    assert core_exercises(tmp_path / "01_t.ipynb") == 1
    [row] = timetable(tmp_path)
    assert row.minutes == 400 / WORDS_PER_MINUTE + 0.5 + EXERCISE_MINUTES
