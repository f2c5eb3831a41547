"""docs/adapting.md, performed: each adaptation on a copy of the repository, then its tests.

Each test copies the repository (the files git tracks or would track, as they are now), makes the
guide's edits there as an instructor would, runs the guide's commands, then the tests the change
affects, with the copy's package first on the path. It counts the files the adaptation touched
(the target: 8 at most) and looks for the places that still spell the old fact. What does not
follow the facts yet is listed in :data:`NOT_YET_DERIVED` with why; a listed test
that starts passing, or a new place that breaks, fails here with the name to edit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "adapting.md"
FACTS = "course_etl/facts/lecture.py"
MAX_FILES = 8

# Files that do not follow the facts yet, by adaptation: {path: why}; empty when every file does.
NOT_YET_DERIVED = {
    "add a column": {},
    "change the schedule": {},
}
# Places (file, or notebook#cell) that still spell the schedule's old time after it changed.
SCHEDULE_COPIES = {
    "README.md": "an example command in prose",
    "course_etl/scheduling/airflow3_facts.json": "recorded by a real Airflow for this cron",
    "docs/instructor_guide.md": "prose explaining data intervals with an example",
    "integration/airflow/airflow_facts.py": "records Airflow's daylight-saving runs for this cron",
    "notebooks/02_job_scheduling.ipynb#300141e0": "example expressions a student validates",
    "notebooks/02_job_scheduling.ipynb#683266db": "prose on the recorded daylight-saving runs",
    "notebooks/02_job_scheduling.ipynb#ade7e0b0": "the crons Airflow's behaviour was recorded for",
    "tests/test_readme_commands.py": "the README's example command",
    "tests/corpus/06_capstone.yaml": "a student's answer as typed (the corpus records answers)",
    "tests/cron_verdicts.json": "recorded from the real crontab for a fixed list of expressions",
    "tests/answer_corpus.py": "the schedule the corpus's answers were labelled for (a record)",
    "tools/record_cron_verdicts.py": "the fixed list of expressions recorded from crontab",
    "tests/test_clock.py": "a wall-clock time on a daylight-saving night, not the schedule",
}


# --- The copy and what runs in it ---------------------------------------------------------------

def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def copy(tmp_path) -> Path:
    """The repository's files as they are now, in a fresh git repository (one commit)."""
    if not (ROOT / ".git").exists():
        pytest.skip("needs the repository's git checkout")
    target = tmp_path / "course"
    for name in _git(ROOT, "ls-files", "-z", "-co", "--exclude-standard").split("\0"):
        source = ROOT / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    _git(target, "init", "-q")
    _git(target, "add", "-A")
    _git(target, "-c", "user.name=instructor", "-c", "user.email=i@example.org",
         "-c", "commit.gpgsign=false", "commit", "-qm", "the course as cloned")
    return target


def _run(folder: Path, *args: str, timeout: int = 1500) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(folder), "PYTHONHASHSEED": "0", "MPLBACKEND": ""}
    return subprocess.run([sys.executable, *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _command(folder: Path, *args: str) -> str:
    done = _run(folder, *args)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _failing_files(folder: Path, tests: list[str]) -> set[str]:
    """Run ``tests`` in the copy; the test files with a failure or an error."""
    done = _run(folder, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider", "-rfE",
                "--no-header")
    failing = set(re.findall(r"^(?:FAILED|ERROR) (tests/[\w/]+\.py)", done.stdout, re.MULTILINE))
    if done.returncode not in (0, 1) or (done.returncode == 1 and not failing):
        pytest.fail(f"pytest could not run in the copy:\n{done.stdout[-3000:]}\n{done.stderr}")
    return failing


def _notebooks_run(folder: Path) -> None:
    """The guide's ``make notebooks``, in the copy: every notebook runs top to bottom with the
    changed facts (a cell that still types the old ones fails here, naming the cell)."""
    notebooks = sorted(str(p.relative_to(folder)) for p in (folder / "notebooks").glob("0*.ipynb"))
    assert len(notebooks) >= 7, notebooks
    _command(folder, "-m", "tools.execute_notebooks", *notebooks)


def _touched(folder: Path) -> list[str]:
    lines = _git(folder, "status", "--porcelain", "--untracked-files=all").splitlines()
    return sorted(line[3:] for line in lines)


def _edit(folder: Path, path: str, old: str, new: str) -> None:
    file = folder / path
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the guide's anchor {old!r} is not (once) in {path}"
    file.write_text(text.replace(old, new), encoding="utf-8")


def _section(number: int) -> str:
    """The guide's section ``## number. …`` (to check it names what the test does)."""
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(rf"^## {number}\. .*?(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"docs/adapting.md has no section '## {number}.'"
    return match.group(0)


def _assert_guide_names(number: int, *things: str) -> None:
    section = _section(number)
    missing = [t for t in things if t not in section]
    assert not missing, f"docs/adapting.md section {number} does not mention {missing}"


def _check_against_the_list(failing: set[str], adaptation: str, affected: list[str]) -> None:
    known = NOT_YET_DERIVED[adaptation]
    broken = sorted(failing - set(known))
    assert not broken, (f"after '{adaptation}' these tests fail and are not listed as "
                        f"not yet derived: {broken}")
    fixed = sorted(set(known) - failing)
    assert not fixed, (f"{fixed} now follow the facts: remove them from "
                       f"NOT_YET_DERIVED[{adaptation!r}] in tests/test_adapting.py")
    assert not set(affected) & failing


# --- 1. a column ------------------------------------------------------------------------------

ADD_COLUMN_AFFECTED = [
    "tests/test_facts.py", "tests/test_lecture_cells.py", "tests/test_data.py",
    "tests/test_medallion_bronze.py", "tests/test_medallion_silver.py",
    "tests/test_medallion_optional.py", "tests/test_medallion_dirty.py",
    "tests/test_medallion_lecture.py", "tests/test_medallion_pipeline.py",
    "tests/test_daily_pipeline.py", "tests/test_monitoring_demo.py", "tests/test_pitfalls.py",
    "tests/test_config.py", "tests/test_checks.py", "tests/test_capstone.py",
    "tests/test_exercises.py", "tests/test_loads.py", "tests/test_recipe.py",
    "tests/test_loadlog.py", "tests/test_runlog.py", "tests/test_cli.py", "tests/test_db.py",
]


def test_add_a_column_to_the_customers_source(copy):
    _assert_guide_names(1, FACTS, 'Column("email", "TEXT", default=None)',
                        "python -m tools.lecture_cells --write", "make notebooks")
    _edit(copy, FACTS, '        Column("updated_at", "TEXT", kind="timestamp", nullable=False),\n',
          '        Column("updated_at", "TEXT", kind="timestamp", nullable=False),\n'
          '        Column("email", "TEXT", default=None),\n')
    _edit(copy, FACTS, '{"id": 1, "name": "Aria", "city": "Austin", "updated_at": "2024-10-01"}',
          '{"id": 1, "name": "Aria", "city": "Austin", "updated_at": "2024-10-01",\n'
          '     "email": "aria@example.org"}')
    rewritten = _command(copy, "-m", "tools.lecture_cells", "--write")
    touched = _touched(copy)
    assert len(touched) <= MAX_FILES, touched
    assert [p for p in touched if not p.startswith("notebooks/")] == [FACTS], (
        "the column is typed in the facts only; the rest is generated")
    assert "notebooks/01_full_vs_incremental.ipynb" in touched and "email" in (
        copy / "notebooks/01_full_vs_incremental.ipynb").read_text(encoding="utf-8")
    assert "rewrote" in rewritten
    assert "notebooks/solutions/01_c_upsert_statement.py" in touched
    failing = _failing_files(copy, ADD_COLUMN_AFFECTED + sorted(NOT_YET_DERIVED["add a column"]))
    _check_against_the_list(failing, "add a column", ADD_COLUMN_AFFECTED)
    # The corpus's answers to notebook 01 were labelled for four columns: skipped, not failed.
    assert not _failing_files(copy, ["tests/test_answer_corpus.py", "-k", "01-"])
    _notebooks_run(copy)


# --- 2. the schedule --------------------------------------------------------------------------

SCHEDULE_AFFECTED = [
    "tests/test_facts.py", "tests/test_lecture_cells.py", "tests/test_daily_pipeline.py",
    "tests/test_monitoring_demo.py", "tests/test_diagrams.py", "tests/test_orchestrators.py",
    "tests/test_export.py", "tests/test_runner.py", "tests/test_runlog.py",
    "tests/test_widgets_scheduling.py", "tests/test_exercises_rest.py", "tests/test_cron.py",
]


def _spellings(copy: Path, needles: tuple[str, ...]) -> set[str]:
    """Files (and notebook cells, sources only) of the copy that contain one of ``needles``."""
    found = set()
    for name in _git(copy, "ls-files", "-z").split("\0"):
        path = copy / name
        if not name or path.suffix in (".png", ".svg", ".lock") or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.suffix == ".ipynb":
            found |= {f"{name}#{cell['id']}" for cell in json.loads(text)["cells"]
                      if any(n in "".join(cell["source"]) for n in needles)}
        elif any(n in text for n in needles):
            found.add(name)
    return found


def test_change_the_schedule(copy):
    _assert_guide_names(2, FACTS, "SCHEDULE", "python -m tools.lecture_cells --write",
                        "make images", "make notebooks")
    from course_etl.facts import SCHEDULE

    old = (SCHEDULE.cron, SCHEDULE.time_of_day)
    _edit(copy, FACTS, f'    cron="{SCHEDULE.cron}",', '    cron="30 3 * * *",')
    _command(copy, "-m", "tools.lecture_cells", "--write")
    _command(copy, "-m", "course_etl", "images", "--out", "images")
    touched = _touched(copy)
    assert touched == [FACTS, "images/job_scheduling.png", "notebooks/02_job_scheduling.ipynb",
                       "notebooks/03_monitoring.ipynb", "notebooks/06_capstone.ipynb"]
    cell = (copy / "notebooks/02_job_scheduling.ipynb").read_text(encoding="utf-8")
    assert "30 3 * * * /usr/bin/python3" in cell and "at 3:30 AM daily" in cell
    left = _spellings(copy, tuple(n for n in old if n))
    unlisted = sorted(left - set(SCHEDULE_COPIES))
    assert not unlisted, f"new places spell the schedule {old}: derive them from the facts"
    gone = sorted(set(SCHEDULE_COPIES) - left)
    assert not gone, f"{gone} no longer spell the schedule: remove them from SCHEDULE_COPIES"
    failing = _failing_files(copy, SCHEDULE_AFFECTED
                             + sorted(NOT_YET_DERIVED["change the schedule"]))
    _check_against_the_list(failing, "change the schedule", SCHEDULE_AFFECTED)
    # The freshness thresholds' answers were labelled for a run at the old time: skipped.
    assert not _failing_files(copy, ["tests/test_answer_corpus.py", "-k", "freshness_thresholds"])
    _notebooks_run(copy)
    print(f"after changing the schedule, {len(left)} places still spell {old}")


# --- 3. an exercise ---------------------------------------------------------------------------

CHECK = '''"""Notebook 03's deep dive: the lecture's row-count alert as a function."""

from course_etl.classroom.exercises import Verdict, register


def _reference_count_dropped(before: int, after: int) -> bool:
    return after < before


_COUNT_CASES = [(3, 3), (4, 5), (5, 4), (0, 0), (10, 9), (1, 0), (7, 70), (200, 199)]


@register(answer_name="count_dropped", stub=lambda before, after: False,
          solution_file="03_count_dropped.py")
def check_count_dropped(answer) -> Verdict:
    """Write the lecture's row-count alert as a function."""
    name = "Write the row-count alert"
    if not callable(answer):
        return Verdict(name, False, f"expected a function, got {type(answer).__name__}",
                       "define def count_dropped(before, after): ...")
    for before, after in _COUNT_CASES:
        expected = _reference_count_dropped(before, after)
        got = answer(before, after)
        if got is not expected:
            return Verdict(name, False, f"{before} -> {after}: expected {expected}, got {got!r}",
                           "alert when the count after the load is lower than before")
    return Verdict(name, True, f"all {len(_COUNT_CASES)} pairs agree with the lecture's check")
'''
SOLUTION = '''from course_etl.classroom.exercises import check_count_dropped


def count_dropped(before, after):
    """True when the load left fewer rows than there were before it."""
    return after < before


check_count_dropped(count_dropped)
'''
GAMED = '''    "check_count_dropped": [
        ("never alerts", lambda before, after: False),
        ("alerts on any change", lambda before, after: before != after),
        ("alerts when the count did not grow", lambda before, after: after <= before),
    ],
'''


def _add_cells(path: Path, cells: list[dict], *, before_heading: str) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    at = next(n for n, c in enumerate(notebook["cells"])
              if "".join(c["source"]).startswith(before_heading))
    notebook["cells"][at:at] = cells
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def test_register_one_more_exercise(copy):
    module = "course_etl/classroom/exercises/row_count_alert.py"
    solution = "notebooks/solutions/03_count_dropped.py"
    _assert_guide_names(3, module, solution, "tests/gamed_answers.py",
                        "notebooks/03_monitoring.ipynb", "@register", "deep-dive")
    (copy / module).write_text(CHECK, encoding="utf-8")
    (copy / solution).write_text(SOLUTION, encoding="utf-8")
    _edit(copy, "tests/gamed_answers.py", '    "check_freshness_function": [\n',
          GAMED + '    "check_freshness_function": [\n')
    deep = {"tags": ["deep-dive"]}
    _add_cells(copy / "notebooks/03_monitoring.ipynb", [
        {"cell_type": "markdown", "id": "ex-count-md", "metadata": deep, "source":
         ["### Deep dive: the lecture's alert as a function\n",
          "Write `count_dropped(before, after)`: True when the load left fewer rows."]},
        {"cell_type": "code", "id": "ex-count", "metadata": {
            "tags": ["deep-dive", "exercise", "nbval-ignore-output"]},
         "execution_count": None, "outputs": [], "source":
         ["def count_dropped(before, after):\n", "    return False\n", "\n",
          "exercises.check_count_dropped(count_dropped)"]},
    ], before_heading="### Deep dive: checks as data")
    touched = _touched(copy)
    # The decorator is the only list: nothing else names the new check.
    assert touched == sorted([module, solution, "tests/gamed_answers.py",
                              "notebooks/03_monitoring.ipynb"])
    assert len(touched) + 1 <= MAX_FILES  # + 00_index's stored exercise list (make notebooks)
    exercise_tests = [f"tests/test_exercises.py::{name}" for name in (
        "test_solution_passes[check_count_dropped]",
        "test_stub_fails_with_a_hint[check_count_dropped]",
        "test_every_registered_exercise_has_wrong_answers",
        "test_each_exercise_sits_in_its_notebook_without_outputs[check_count_dropped]",
        "test_no_hint_is_the_answer[check_count_dropped]",
        "test_the_registry_is_the_only_list")]
    gamed = [f"tests/test_exercises.py::test_wrong_answer_is_refused[check_count_dropped-{what}]"
             for what in ("never alerts", "alerts on any change",
                          "alerts when the count did not grow")]
    failing = _failing_files(copy, [*exercise_tests, *gamed, "tests/test_timetable.py",
                                    "tests/test_notebook_outputs.py", "tests/test_layout.py",
                                    "tests/test_sql_names.py"])
    assert not failing
    listed = _run(copy, "-c", "from course_etl.classroom import exercises as e; "
                              "print([x.key for x in e.all_exercises()])")
    assert "count_dropped" in listed.stdout


# --- 4. a topic notebook ----------------------------------------------------------------------

def _markdown(cell_id: str, *lines: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": "\n".join(lines)}


def _code(cell_id: str, *lines: str) -> dict:
    return {"cell_type": "code", "id": cell_id, "metadata": {}, "execution_count": None,
            "outputs": [], "source": "\n".join(lines)}


def test_add_a_topic_notebook(copy):
    new = "notebooks/07_lineage.ipynb"
    _assert_guide_names(4, "notebooks/07_<topic>.ipynb", "# 07 — <Title>", "%matplotlib inline",
                        "notebooks/00_index.ipynb", "make nav", "make notebooks",
                        "make timetable", "budget_minutes", "tests/test_layout.py")
    notebook = {"cells": [
        _markdown("t07-title", "# 07 — Lineage", "", "**After this notebook you can** trace a "
                  "gold row back to the bronze batches it came from."),
        _code("t07-setup", "%matplotlib inline", "from course_etl.facts import TABLES"),
        _markdown("t07-idea", "## Where a row came from", "The warehouse table the lecture "
                  "loads:"),
        _code("t07-show", "print(TABLES.warehouse)"),
        _markdown("t07-recap", "## Recap", "Every gold row can be traced to its bronze rows."),
    ], "metadata": json.loads((copy / "notebooks/06_capstone.ipynb").read_text(
        encoding="utf-8"))["metadata"], "nbformat": 4, "nbformat_minor": 5}
    (copy / new).write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    index = copy / "notebooks/00_index.ipynb"
    contents = json.loads(index.read_text(encoding="utf-8"))
    table = next(c for c in contents["cells"] if "".join(c["source"]).startswith(
        "## The notebooks"))
    lines = "".join(table["source"]).splitlines()
    last_row = max(n for n, line in enumerate(lines) if line.startswith("| 06 |"))
    lines.insert(last_row + 1, "| 07 | [Lineage](07_lineage.ipynb) | trace a gold row to its "
                               "bronze batches |")
    table["source"] = "\n".join(lines)
    index.write_text(json.dumps(contents, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    _command(copy, "-c", "from tools.notebook_nav import write_navigation as w; w('notebooks')")
    # make notebooks NOTEBOOKS=…: execute in place; then make timetable, for the new notebook
    # only (measuring all of them takes minutes): its run time, a minute of the session taken
    # from 06 (which has minutes to spare), then the table in 00.
    _command(copy, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
             new)
    _command(copy, "-c", "import json, pathlib, shutil, tempfile\n"
             "from tools.timetable import measure_run_seconds, write_timetable\n"
             "folder = pathlib.Path(tempfile.mkdtemp())\n"
             f"shutil.copy('{new}', folder)\n"
             "figures = pathlib.Path('notebooks/timetable.json')\n"
             "stored = json.loads(figures.read_text())\n"
             "stored['run_seconds'].update(measure_run_seconds(folder))\n"
             "stored['budget_minutes'].update({'06_capstone': "
             "stored['budget_minutes']['06_capstone'] - 1, '07_lineage': 1})\n"
             "figures.write_text(json.dumps(stored, indent=1) + '\\n')\n"
             "write_timetable('notebooks')\n")
    touched = _touched(copy)
    assert set(touched) == {new, "notebooks/00_index.ipynb", "notebooks/06_capstone.ipynb",
                            "notebooks/timetable.json"}, touched
    failing = _failing_files(copy, ["tests/test_notebook_nav.py", "tests/test_timetable.py",
                                    "tests/test_notebook_outputs.py", "tests/test_image_refs.py"])
    assert not failing
    nbval = _run(copy, "-m", "pytest", new, "--nbval", "--nbval-current-env", "-q",
                 "-p", "no:cacheprovider", "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg")
    assert nbval.returncode == 0, nbval.stdout[-2000:]
