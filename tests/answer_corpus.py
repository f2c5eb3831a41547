"""The corpus of answers nobody on the course wrote: ``tests/corpus/<notebook>.yaml``.

Each notebook's file lists answers to its exercises as a student types them (first tried by a
tester who had only the notebooks), keyed by the registered check's name, each labelled:
``wrong`` (the check must refuse it), ``right`` (it must accept it) or ``odd`` (not an answer to
the question: it gets a sentence either way, never a traceback). An answer is one of:

- ``answer``: the value itself (text, a number, a dict, a list);
- ``expr``: a Python expression for a value YAML cannot hold (a tuple, a set, bytes);
- ``source`` and ``var``: a cell's source, run after the notebook's setup cells
  (``setup_cells``, by cell id), then the variable ``var`` is the answer.

``relabelled`` says why an answer's label differs from the tester's first judgement.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from course_etl import facts

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = Path(__file__).with_name("corpus")
KINDS = ("wrong", "right", "odd")


#: The course's facts the corpus's labels were written for (a record, like the crontab verdicts):
#: answers typed for the four columns of the customers and judged for a run at 02:05. A course
#: adapted since keeps the answers; the ones whose label depends on a changed fact are skipped
#: with the reason, to relabel (docs/adapting.md).
LABELLED_FOR = {"columns": ("id", "name", "city", "updated_at"), "schedule": ("5 2 * * *", "UTC")}
#: What each label depends on: notebook 01's answers name the columns; the freshness thresholds
#: are right or wrong for the hour the pipeline runs.
_DEPENDS_ON = {"01": "columns", "check_freshness_thresholds": "schedule"}


def stale_label(answer: CorpusAnswer) -> str | None:
    """Why ``answer``'s label no longer holds for the course's facts (None: it holds)."""
    current = {"columns": facts.CUSTOMERS.names,
               "schedule": (facts.SCHEDULE.cron, facts.SCHEDULE.timezone)}
    for where in (answer.notebook[:2], answer.exercise):
        fact = _DEPENDS_ON.get(where)
        if fact and current[fact] != LABELLED_FOR[fact]:
            return (f"labelled for the {fact} {LABELLED_FOR[fact]}, the course now has "
                    f"{current[fact]}: relabel it in tests/corpus/{answer.notebook}")
    return None


@dataclass(frozen=True)
class CorpusAnswer:
    """One answer of the corpus and where it sits (file and position)."""

    notebook: str
    index: int
    exercise: str
    kind: str
    note: str
    entry: dict

    @property
    def id(self) -> str:
        return f"{self.notebook[:2]}-{self.index:03d}-{self.exercise.removeprefix('check_')}"

    def build(self) -> object:
        """The answer as the check receives it (a cell's source run in the notebook's setup)."""
        if "answer" in self.entry:
            return self.entry["answer"]
        namespace = dict(setup_namespace(self.notebook))
        if "expr" in self.entry:
            return eval(self.entry["expr"], namespace)  # noqa: S307 - the course's own corpus
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(self.entry["source"], f"<{self.id}>", "exec"), namespace)  # noqa: S102
        return namespace[self.entry["var"]]


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("[0-9][0-9]_*.yaml"))


@functools.cache
def _file(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def corpus() -> list[CorpusAnswer]:
    """Every answer of every notebook's corpus file, in file order."""
    out = []
    for path in corpus_files():
        data = _file(path)
        for index, entry in enumerate(data["answers"]):
            out.append(CorpusAnswer(data["notebook"], index, entry["exercise"], entry["kind"],
                                    entry.get("note", ""), entry))
    return out


@functools.cache
def setup_namespace(notebook: str) -> dict:
    """The names a student's cell sees right after the notebook's setup cells ran (magics
    left out), as in the notebook."""
    path = next(p for p in corpus_files() if _file(p)["notebook"] == notebook)
    cells = {c["id"]: c for c in json.loads((ROOT / "notebooks" / notebook).read_text(
        encoding="utf-8"))["cells"]}
    namespace: dict = {"__name__": "__main__"}
    for cell_id in _file(path)["setup_cells"]:
        source = "\n".join(line for line in "".join(cells[cell_id]["source"]).splitlines()
                           if not line.lstrip().startswith("%"))
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, f"<{notebook} {cell_id}>", "exec"), namespace)  # noqa: S102
    return namespace
