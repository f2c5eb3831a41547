"""The session's timetable, computed from the notebooks instead of typed by hand.

Each notebook's **core path** is every cell not tagged ``deep-dive``. Its minutes are the core
markdown read at :data:`WORDS_PER_MINUTE`, plus the measured run time of the core code cells,
plus the time students spend on its core exercises (code cells that call a ``check_…`` function
of ``course_etl.classroom.exercises``): :data:`BUILD_MINUTES` for an exercise that builds
something, :data:`QUIZ_MINUTES` for a quiz (a check whose docstring starts with "Quiz:").

Where the figures come from: a build exercise takes a student 5 to 10 minutes (issue 27's
estimate, from trying the notebooks as a student); the middle, 7.5, is used. A quiz is read and
answered in about 2 minutes (an estimate, not measured). Replace both with times measured in a
session. Each notebook's share of the 90 minutes is the instructor's plan, kept beside the run
times in ``notebooks/timetable.json`` (``budget_minutes``); run times are measured by executing
every notebook (``make timetable``); words and exercises are counted from the notebooks each
time, so ``make timetable`` (or ``python -m tools.timetable notebooks`` after editing a
notebook) keeps the table in ``00_index.ipynb`` true, and ``tests/test_timetable.py``
recomputes it and says what to move when a notebook runs over.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = [
    "WORDS_PER_MINUTE",
    "BUILD_MINUTES",
    "QUIZ_MINUTES",
    "SESSION_MINUTES",
    "DEEP_DIVE",
    "TIMETABLE_CELL",
    "Row",
    "core_words",
    "core_exercises",
    "exercise_kind",
    "measure_run_seconds",
    "budgets",
    "timetable",
    "advice",
    "render",
    "write_timetable",
]

WORDS_PER_MINUTE = 200
BUILD_MINUTES = 7.5  # 5 to 10 minutes per build exercise (issue 27); the middle
QUIZ_MINUTES = 2.0  # reading a quiz and answering it: an estimate
SESSION_MINUTES = 90
DEEP_DIVE = "deep-dive"
TIMETABLE_CELL = "timetable"  # the id of the generated cell in 00_index.ipynb
FIGURES = "timetable.json"
_EXERCISE_CALL = re.compile(r"^\s*(?:exercises\.)?(check_\w+)\(", re.MULTILINE)


def _notebooks(folder: Path) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _core(cell: dict) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return DEEP_DIVE not in tags and cell.get("id") != TIMETABLE_CELL


_IMAGE_ALT = re.compile(r"!\[[^\]]*\]\(")


def core_words(path: Path) -> int:
    """Words of markdown on the notebook's core path (the generated timetable left out). An
    image's alt text is not counted: it is read instead of looking at the picture."""
    return sum(len(_IMAGE_ALT.sub("![](", _source(c)).split()) for c in _cells(path)
               if c["cell_type"] == "markdown" and _core(c))


def core_exercises(path: Path) -> list[str]:
    """The ``check_…`` names called by exercise cells on the core path, in order."""
    return [match.group(1) for c in _cells(path)
            if c["cell_type"] == "code" and _core(c)
            for match in [_EXERCISE_CALL.search(_source(c))] if match]


def exercise_kind(check_name: str) -> str:
    """'quiz' when the registered check's docstring starts with "Quiz:", else 'build'."""
    from course_etl.classroom.exercises import all_exercises

    for exercise in all_exercises():
        if exercise.name == check_name:
            doc = (exercise.check.__doc__ or "").strip()
            return "quiz" if doc.startswith("Quiz:") else "build"
    return "build"  # an unregistered check counts as the longer kind


def measure_run_seconds(folder: Path, *, timeout: int = 600) -> dict[str, float]:
    """Execute every notebook in ``folder`` (nothing is written back) and return, per notebook,
    the seconds its core code cells took, from the kernel's own execution timestamps."""
    import nbformat
    from nbclient import NotebookClient

    seconds = {}
    for path in _notebooks(folder):
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=True,
                       resources={"metadata": {"path": str(folder)}}).execute()
        total = 0.0
        for cell in notebook.cells:
            timing = cell.get("metadata", {}).get("execution", {})
            if cell.cell_type != "code" or not _core(cell) or "shell.execute_reply" not in timing:
                continue
            start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
            total += (end - start).total_seconds()
        seconds[path.stem] = round(total, 1)
    return seconds


@dataclass(frozen=True)
class Row:
    """One notebook's core path in minutes, and its share of the session."""

    notebook: str
    title: str
    words: int
    run_seconds: float
    builds: tuple[str, ...]
    quizzes: tuple[str, ...]
    budget: float

    @property
    def reading(self) -> float:
        return self.words / WORDS_PER_MINUTE

    @property
    def running(self) -> float:
        return self.run_seconds / 60

    @property
    def practice(self) -> float:
        return len(self.builds) * BUILD_MINUTES + len(self.quizzes) * QUIZ_MINUTES

    @property
    def minutes(self) -> float:
        return self.reading + self.running + self.practice


def _title(path: Path) -> str:
    first = _source(_cells(path)[0]).splitlines()[0]
    return first.lstrip("# ").split(" — ", 1)[-1]


def _figures(folder: Path) -> dict:
    return json.loads((folder / FIGURES).read_text(encoding="utf-8"))


def budgets(folder: str | Path) -> dict[str, float]:
    """Each notebook's planned minutes (``budget_minutes`` in ``timetable.json``)."""
    return _figures(Path(folder)).get("budget_minutes", {})


def timetable(folder: str | Path) -> list[Row]:
    """The rows of the timetable, from the notebooks, the measured run times and the plan."""
    folder = Path(folder)
    figures = _figures(folder)
    rows = []
    for path in _notebooks(folder):
        checks = core_exercises(path)
        kinds = [exercise_kind(c) for c in checks]
        rows.append(Row(path.stem, _title(path), core_words(path),
                        figures["run_seconds"].get(path.stem, 0.0),
                        tuple(c for c, k in zip(checks, kinds, strict=True) if k == "build"),
                        tuple(c for c, k in zip(checks, kinds, strict=True) if k == "quiz"),
                        figures.get("budget_minutes", {}).get(path.stem, 0.0)))
    return rows


def advice(row: Row) -> str:
    """What to do when ``row`` runs over its budget, in minutes and words (empty when it fits)."""
    over = row.minutes - row.budget
    if over <= 0:
        return ""
    words = int(over * WORDS_PER_MINUTE + 0.999)
    options = ([f"move {words} of its {row.words} core words to a deep dive (cells tagged "
                f"'{DEEP_DIVE}')"] if words <= row.words // 2 else [])
    for kind, names, minutes in (("build", row.builds, BUILD_MINUTES),
                                 ("quiz", row.quizzes, QUIZ_MINUTES)):
        needed = -(-over // minutes)
        if names and needed <= len(names):
            options.append(f"move {int(needed)} {kind} exercise(s) ({minutes:g} min each: "
                           f"{', '.join(names)}) to a deep dive")
    options.append(f"give it {over:.1f} more minutes in notebooks/{FIGURES} (budget_minutes) "
                   "and take them from another notebook")
    return (f"{row.notebook} takes {row.minutes:.1f} of its {row.budget:g} minutes: "
            + ", or ".join(options))


def render(rows: list[Row]) -> str:
    """The markdown of the timetable cell."""
    lines = [
        f"## Timetable: the core path in {SESSION_MINUTES} minutes",
        "",
        f"Generated by `make timetable` from the notebooks: core-path words read at "
        f"{WORDS_PER_MINUTE} per minute, the measured run time of the core cells, "
        f"{BUILD_MINUTES:g} minutes per exercise that builds something (a student needs 5 to "
        f"10) and {QUIZ_MINUTES:g} per quiz: estimates, to be replaced by times measured in a "
        "session (`tools/timetable.py`). *Planned* is each notebook's share of the session "
        "(`notebooks/timetable.json`). Sections headed *Deep dive* are optional: their "
        "exercises are practice for after the session.",
        "",
        "| # | notebook | core words | reading | running | builds | quizzes | minutes | planned "
        "| ends at |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    clock = 0.0
    for row in rows:
        clock += row.minutes
        number = row.notebook[:2]
        lines.append(
            f"| {number} | [{row.title}]({row.notebook}.ipynb) | {row.words} | "
            f"{row.reading:.1f} | {row.running:.1f} | {len(row.builds)} | {len(row.quizzes)} | "
            f"{row.minutes:.1f} | {row.budget:g} | {clock:.0f} |")
    lines.append(f"| | **total** | {sum(r.words for r in rows)} | | | "
                 f"{sum(len(r.builds) for r in rows)} | {sum(len(r.quizzes) for r in rows)} | "
                 f"**{clock:.1f}** | {sum(r.budget for r in rows):g} | |")
    return "\n".join(lines)


def write_timetable(folder: str | Path, *, measure: bool = False) -> list[Row]:
    """Write the timetable cell of ``00_index.ipynb`` (after the cell that lists the notebooks);
    with ``measure=True`` first execute the notebooks and store their run times."""
    folder = Path(folder)
    if measure:
        figures = {**_figures(folder), "run_seconds": measure_run_seconds(folder)}
        (folder / FIGURES).write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    import nbformat

    rows = timetable(folder)
    index = folder / "00_index.ipynb"
    notebook = nbformat.read(index, as_version=4)
    cells = notebook.cells
    text = render(rows)
    existing = [c for c in cells if c.get("id") == TIMETABLE_CELL]
    if existing:
        existing[0].source = text
    else:
        after = next((n for n, c in enumerate(cells) if c.source.startswith("## The notebooks")),
                     0)
        cell = nbformat.v4.new_markdown_cell(text)
        cell.id = TIMETABLE_CELL
        cells.insert(after + 1, cell)
    written = nbformat.writes(notebook) + "\n"
    if index.read_text(encoding="utf-8") != written:
        index.write_text(written, encoding="utf-8")
    return rows

if __name__ == "__main__":
    import sys

    for row in write_timetable(sys.argv[1] if len(sys.argv) > 1 else "notebooks",
                               measure="--measure" in sys.argv):
        print(f"{row.notebook}: {row.words} words, {row.run_seconds} s, {len(row.builds)} "
              f"build(s), {len(row.quizzes)} quiz(zes), {row.minutes:.1f} of {row.budget:g} min"
              + (f"\n  {advice(row)}" if advice(row) else ""))
