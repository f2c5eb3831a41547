"""The notebooks' "as written" cells, regenerated from the course's facts.

Each cell listed in :data:`CELLS` shows the lecture's own code (or a sentence that states its
facts) and is rendered from a template in ``course_etl/facts/templates/`` with the facts of
``course_etl/facts/lecture.py``; so is each solution file in :data:`FILES` that spells the facts
(the upsert names every column: a column added to the facts is in the solution too).
``make notebooks`` runs ``--write`` before it executes the notebooks, so a changed fact reaches
the cells, then their outputs; ``tests/test_lecture_cells.py`` runs the check, so a stale cell
fails the suite with the command that fixes it.

    python -m tools.lecture_cells [--check | --write] [NOTEBOOKS_DIR]

Exit status: 0 when every cell is current (or was rewritten), 1 when ``--check`` finds a stale
cell, 2 for bad arguments or a listed cell that no longer exists.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from course_etl import facts
from course_etl.classroom.exercises.monitoring import FEED_HOURS
from course_etl.facts.lecture_code import render
from course_etl.medallion.entities import CUSTOMERS
from course_etl.scheduling.cron import next_runs
from tools.alt_text import stale_alt_texts

__all__ = ["LectureCell", "LectureFile", "CELLS", "FILES", "stale_cells", "write_cells",
           "stale_files", "write_files", "main"]

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def _freshness_facts() -> dict[str, object]:
    """What notebook 03's thresholds exercise reasons from: the feed's hours (the exercise's),
    when the lecture's pipeline first runs, and how old the newest row gets on a normal day."""
    first, last = FEED_HOURS
    start = datetime.combine(facts.SCHEDULE.start_date, time.min)
    run = next_runs(facts.SCHEDULE.cron, 1, after=start, timezone=facts.SCHEDULE.timezone)[0]
    oldest = (timedelta(days=1) - timedelta(hours=first.hour, minutes=first.minute)
              + timedelta(hours=run.hour, minutes=run.minute))
    return {"feed_first": f"{first:%H:%M}", "feed_last": f"{last:%H:%M}",
            "run_time": f"{run:%H:%M}", "normal_hours": round(oldest.total_seconds() / 3600)}


_MEDALLION = {"bronze": CUSTOMERS.bronze_table, "silver": CUSTOMERS.silver_table}


@dataclass(frozen=True)
class LectureCell:
    """One notebook cell rendered from one template (``extra``: the template's own options)."""

    notebook: str
    cell_id: str
    template: str
    extra: tuple[tuple[str, object], ...] = ()

    def render(self) -> str:
        # A callable option is computed now, from the facts as they are (a test may patch them).
        options = {k: v() if callable(v) else v for k, v in self.extra}
        # A notebook cell's source has no final newline; a template file has one.
        return render(self.template, **options).removesuffix("\n")

    def __str__(self) -> str:
        return f"notebooks/{self.notebook} cell {self.cell_id} (template {self.template})"


CELLS = (
    LectureCell("01_full_vs_incremental.ipynb", "11b3e23e", "lecture_load.py.j2"),
    LectureCell("01_full_vs_incremental.ipynb", "ba174951", "row_count_check.py.j2",
                (("lecture_comments", False), ("close", True))),
    LectureCell("02_job_scheduling.ipynb", "40f71b73", "cron_line.py.j2"),
    LectureCell("02_job_scheduling.ipynb", "d1f7f877", "airflow_dag_cell.py.j2"),
    LectureCell("03_monitoring.ipynb", "281e958e", "monitoring_replay.py.j2"),
    LectureCell("03_monitoring.ipynb", "10354987", "row_count_check.py.j2",
                (("lecture_comments", True), ("close", False))),
    LectureCell("03_monitoring.ipynb", "8044491c", "freshness_thresholds_intro.md.j2",
                (("facts", _freshness_facts),)),
    LectureCell("04_parameterization.ipynb", "bc28fd08", "config_intro.md.j2"),
    LectureCell("04_parameterization.ipynb", "8d98cc79", "config_cell.py.j2"),
    LectureCell("05_medallion.ipynb", "ad7e6262", "medallion_cell.py.j2",
                tuple(_MEDALLION.items())),
)


@dataclass(frozen=True)
class LectureFile:
    """A whole file under the notebooks folder rendered from one template."""

    path: str
    template: str

    def render(self) -> str:
        return render(self.template)

    def __str__(self) -> str:
        return f"notebooks/{self.path} (template {self.template})"


FILES = (LectureFile("solutions/01_c_upsert_statement.py", "upsert_solution.py.j2"),)


def stale_files(folder: Path = NOTEBOOKS_DIR) -> list[LectureFile]:
    """The listed files whose text differs from their rendering with the current facts."""
    return [f for f in FILES if (folder / f.path).read_text(encoding="utf-8") != f.render()]


def write_files(folder: Path = NOTEBOOKS_DIR) -> list[LectureFile]:
    """Rewrite the stale files in place; returns them."""
    stale = stale_files(folder)
    for file in stale:
        (folder / file.path).write_text(file.render(), encoding="utf-8")
    return stale


class MissingCellError(LookupError):
    """A listed cell is not in its notebook (its id changed, or the notebook moved)."""


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _cell(notebook: dict, cell: LectureCell) -> dict:
    for candidate in notebook["cells"]:
        if candidate.get("id") == cell.cell_id:
            return candidate
    raise MissingCellError(f"{cell} is missing: give the cell its id back, or update CELLS in "
                           "tools/lecture_cells.py")


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def stale_cells(folder: Path = NOTEBOOKS_DIR) -> list[LectureCell]:
    """The listed cells whose source differs from their rendering with the current facts."""
    stale = []
    for cell in CELLS:
        if _source(_cell(_load(folder / cell.notebook), cell)) != cell.render():
            stale.append(cell)
    return stale


def write_cells(folder: Path = NOTEBOOKS_DIR) -> list[LectureCell]:
    """Rewrite the stale cells in place (their stored outputs are cleared: they belong to the
    old code); returns them. Other cells, ids and metadata are left as they are."""
    stale = stale_cells(folder)
    for notebook in sorted({c.notebook for c in stale}):
        path = folder / notebook
        document = _load(path)
        for cell in (c for c in stale if c.notebook == notebook):
            target = _cell(document, cell)
            target["source"] = cell.render().splitlines(keepends=True)
            if target["cell_type"] == "code":
                target["outputs"], target["execution_count"] = [], None
        path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    return stale


def main(argv: list[str]) -> int:
    options = [a for a in argv if a.startswith("--")]
    folders = [a for a in argv if not a.startswith("--")]
    if len(options) > 1 or (options and options[0] not in ("--check", "--write")) \
            or len(folders) > 1:
        print("usage: python -m tools.lecture_cells [--check | --write] [NOTEBOOKS_DIR]",
              file=sys.stderr)
        return 2
    folder = Path(folders[0]) if folders else NOTEBOOKS_DIR
    try:
        if options == ["--write"]:
            for cell in [*write_cells(folder), *write_files(folder)]:
                print(f"rewrote {cell}")
            # The diagrams' alt texts are written from the same facts (the schedule's ticks).
            for stale in stale_alt_texts(folder.parent, write=True):
                print(f"rewrote the alt text of {stale.diagram} in {stale.source.name}")
            return 0
        stale = [*stale_cells(folder), *stale_files(folder)]
    except (MissingCellError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for cell in stale:
        print(f"stale: {cell}: run  python -m tools.lecture_cells --write  (or make notebooks)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
