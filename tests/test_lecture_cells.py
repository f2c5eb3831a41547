"""The notebooks' "as written" cells: the lecture's code, generated from the course's facts.

Three promises: every listed cell equals its rendering with today's facts (else the suite says
which cell and the command that rewrites it); rendered with the course's facts, the templates give
the original lecture's text, character for character; and rendered with facts nobody wrote
(generated customers, names with quotes and backslashes, more rounds, an optional column), the
lecture's code still runs and leaves the warehouse a model of the lecture's recipe predicts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import shutil
import sqlite3
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_etl import facts
from course_etl.facts import Column, Insert, Schedule, Schema, Update
from course_etl.facts.lecture_code import lecture_context, render, templates
from tools import lecture_cells
from tools.lecture_cells import CELLS, FILES, stale_cells, stale_files, write_cells, write_files

ROOT = Path(__file__).resolve().parents[1]
SEED = Path("/work/shared/seed/session6_pipelines_orchestration.md")


def test_every_as_written_cell_is_the_lecture_code_for_todays_facts():
    stale = [*stale_cells(), *stale_files()]
    assert not stale, (
        "cells that no longer show the lecture's code for the facts in "
        f"{facts.FACTS_FILE}: {', '.join(map(str, stale))}. Run  python -m tools.lecture_cells "
        "--write  (make notebooks does it), then re-execute those notebooks.")


def test_every_template_is_used_by_a_cell_or_the_library():
    used = ({cell.template for cell in CELLS} | {file.template for file in FILES}
            | {"airflow_dag.py.j2", "medallion.sql.j2"})
    assert set(templates()) == used


def _lines(text: str, *, comments: bool = True) -> list[str]:
    # The seed has trailing spaces and a stray ';' after some statements: compare without them.
    lines = [line.rstrip().rstrip(";").rstrip() for line in text.splitlines()]
    return lines if comments else [line for line in lines if not line.lstrip().startswith("#")]


def _appears_in(block: str, text: str, *, comments: bool = True) -> bool:
    needle, haystack = _lines(block, comments=comments), _lines(text, comments=comments)
    return any(haystack[i:i + len(needle)] == needle for i in range(len(haystack)))


def _seed_or_skip() -> str:
    """The original lecture, when it is here and the facts are still its facts (an adapted
    course renders other code, on purpose)."""
    if not SEED.exists():
        pytest.skip("the original lecture is not on this machine")
    seed = SEED.read_text(encoding="utf-8")
    context = lecture_context()
    if not all(row in seed for row in context["initial_rows"]) or \
            f"{facts.SCHEDULE.cron} /usr/bin" not in seed:
        pytest.skip("the course's facts are no longer the original lecture's (an adapted course)")
    return seed


@pytest.mark.parametrize("cell", [c for c in CELLS if c.template not in (
    "config_intro.md.j2",  # the notebook's sentence, not the lecture's code
    "freshness_thresholds_intro.md.j2",  # a deep dive's sentence, from the schedule
    "monitoring_replay.py.j2",  # notebook 03 replays the lecture's earlier cells in one script
)], ids=str)
def test_rendered_with_the_courses_facts_the_code_is_the_lecture(cell):
    seed = _seed_or_skip()
    code, comments = cell.render(), True
    if cell.template in ("lecture_load.py.j2", "medallion_cell.py.j2"):
        # The notebook first opens its own database (and, in 05, replays the story into it).
        code = code[code.index("conn.executescript("):]
    if dict(cell.extra).get("close"):  # notebook 01's copy: without comments, closes at the end
        code, comments = code.removesuffix("\nconn.close()"), False
    assert _appears_in(code, seed, comments=comments), f"{cell} differs from the lecture's code"


def test_the_librarys_copies_are_the_lecture():
    from course_etl.medallion.lecture import LECTURE_MEDALLION_SQL
    from course_etl.scheduling.lecture import LECTURE_AIRFLOW_DAG

    seed = _seed_or_skip()
    assert LECTURE_AIRFLOW_DAG in seed and LECTURE_MEDALLION_SQL.strip() in seed


def _copy_notebooks(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in {c.notebook for c in CELLS}:
        shutil.copy(ROOT / "notebooks" / name, folder / name)
    for file in FILES:
        (folder / file.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "notebooks" / file.path, folder / file.path)
    return folder


def test_a_changed_fact_makes_cells_stale_and_write_brings_them_back(tmp_path, capsys):
    folder = _copy_notebooks(tmp_path)
    before = {n: json.loads((folder / n).read_text(encoding="utf-8")) for n in
              {c.notebook for c in CELLS}}
    weekly = Schedule("customers_etl", "30 6 * * 1", "Europe/Berlin", facts.SCHEDULE.start_date)
    with mock.patch.object(facts, "SCHEDULE", weekly):
        assert lecture_cells.main(["--check", str(folder)]) == 1
        assert "stale: notebooks/02_job_scheduling.ipynb cell 40f71b73" in capsys.readouterr().out
        rewritten = write_cells(folder)
        # The DAG says @daily, as written; 03's thresholds exercise reasons from the run time.
        assert [c.cell_id for c in rewritten] == ["40f71b73", "8044491c"]
        assert stale_cells(folder) == []
        after = json.loads((folder / "02_job_scheduling.ipynb").read_text(encoding="utf-8"))
    cron_cell = next(c for c in after["cells"] if c["id"] == "40f71b73")
    assert "30 6 * * 1 /usr/bin/python3" in "".join(cron_cell["source"])
    assert "at 06:30 AM, only on Monday" in "".join(cron_cell["source"])
    assert cron_cell["outputs"] == [] and cron_cell["execution_count"] is None
    untouched = [c for c in after["cells"] if c["id"] != "40f71b73"]
    assert untouched == [c for c in before["02_job_scheduling.ipynb"]["cells"]
                         if c["id"] != "40f71b73"]
    assert [c["id"] for c in after["cells"]] == [
        c["id"] for c in before["02_job_scheduling.ipynb"]["cells"]]


def test_a_column_added_to_the_facts_reaches_the_upsert_solution(tmp_path):
    (tmp_path / "solutions").mkdir()
    for file in FILES:
        shutil.copy(ROOT / "notebooks" / file.path, tmp_path / file.path)
    added = facts.Column("loyalty_tier", "TEXT", default=None)  # a column no course has yet
    wider = dataclasses.replace(facts.CUSTOMERS, columns=(*facts.CUSTOMERS.columns, added))
    with mock.patch.object(facts, "CUSTOMERS", wider):
        assert [f.path for f in stale_files(tmp_path)] == ["solutions/01_c_upsert_statement.py"]
        write_files(tmp_path)
        assert stale_files(tmp_path) == []
    text = (tmp_path / "solutions/01_c_upsert_statement.py").read_text(encoding="utf-8")
    assert f"({', '.join(wider.names)})" in text and "loyalty_tier = excluded.loyalty_tier" in text
    assert "OR t.loyalty_tier IS NOT excluded.loyalty_tier" in text


def test_bad_arguments_and_a_lost_cell_exit_2(tmp_path, capsys):
    assert lecture_cells.main(["--fix"]) == 2
    folder = _copy_notebooks(tmp_path)
    path = folder / "05_medallion.ipynb"
    document = json.loads(path.read_text(encoding="utf-8"))
    for cell in document["cells"]:
        if cell["id"] == "ad7e6262":
            cell["id"] = "renamed1"
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    assert lecture_cells.main(["--check", str(folder)]) == 2
    assert "cell ad7e6262" in capsys.readouterr().err


# --- Generated facts: the lecture's code still does what the lecture's recipe does -----------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                min_size=1, max_size=12)
_DAY = st.integers(1, 28).map(lambda d: f"2025-03-{d:02d}")


# Generated facts have a schema of their own: the lecture's shape, whatever the course's now is.
_BASE_COLUMNS = (Column("id", "INTEGER", kind="integer", nullable=False),
                 Column("name", nullable=False), Column("city", kind="city"),
                 Column("updated_at", kind="timestamp", nullable=False))


@st.composite
def lecture_facts(draw):
    """Customers, two or three rounds of changes, maybe an optional column."""
    with_email, email = draw(st.booleans()), "email"
    columns = _BASE_COLUMNS + ((Column(email, default=None),) if with_email else ())
    schema = Schema("customers", columns, key="id", watermark="updated_at")
    ids = draw(st.lists(st.integers(1, 60), min_size=1, max_size=5, unique=True))
    rows = [{"id": i, "name": draw(_TEXT), "city": draw(_TEXT), "updated_at": draw(_DAY)}
            for i in ids]
    if with_email:
        for row in rows:
            if draw(st.booleans()):
                row[email] = draw(_TEXT)
    rounds, known, fresh = {}, list(ids), iter(range(100, 200))
    for number in range(1, draw(st.integers(2, 3)) + 1):
        changes = []
        for key in draw(st.lists(st.sampled_from(known), max_size=2, unique=True)):
            changes.append(Update(key, city=draw(_TEXT), updated_at=draw(_DAY)))
        for _ in range(draw(st.integers(1, 2))):
            key = next(fresh)
            changes.append(Insert(id=key, name=draw(_TEXT), city=draw(_TEXT),
                                  updated_at=draw(_DAY)))
            known.append(key)
        rounds[number] = tuple(changes)
    return schema, tuple(rows), rounds


def _recipe_model(schema, rows, rounds) -> list[tuple]:
    """The lecture's recipe in plain Python: a full copy; then, per load, the source rows whose
    watermark is greater than the warehouse's highest, replaced whole. Notebook 01's first cell
    loads after round 1, its row-count cell after all the later rounds."""
    source = facts.apply_changes(schema, rows, ())
    warehouse = {row["id"]: row for row in source}
    numbers = list(rounds)
    for batch in (numbers[:1], numbers[1:]):
        for number in batch:
            source = facts.apply_changes(schema, source, rounds[number])
        highest = max(row["updated_at"] for row in warehouse.values())
        warehouse.update({row["id"]: row for row in source if row["updated_at"] > highest})
    return [tuple(warehouse[key].values()) for key in sorted(warehouse)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lecture_facts())
def test_the_lecture_code_for_generated_facts_runs_as_the_recipe_does(generated):
    schema, rows, rounds = generated
    with mock.patch.multiple(facts, CUSTOMERS=schema, LECTURE_ROWS=rows, CHANGE_ROUNDS=rounds):
        load = render("lecture_load.py.j2")
        check = render("row_count_check.py.j2", lecture_comments=True, close=False)
    namespace = {"sqlite3": sqlite3, "pd": pd, "display": lambda *args: None}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(load, "lecture_load", "exec"), namespace)  # noqa: S102 - our own template
        exec(compile(check, "row_count_check", "exec"), namespace)  # noqa: S102
    conn = namespace["conn"]
    got = conn.execute("SELECT * FROM dw_customers ORDER BY id").fetchall()
    assert got == _recipe_model(schema, rows, rounds)
    assert "Row count" in printed.getvalue()
