"""Strip the outputs of exercise cells, so no committed notebook shows a verdict or a hint.

``make notebooks`` executes notebooks in place (``tools/execute_notebooks.py``), which stores each
exercise's verdict, stub and all; it then calls :func:`clear_exercises`: every code cell tagged
``exercise`` loses its outputs and execution count, and so does every cell tagged
``reveals-answer`` (the run right after a quiz that shows its answer: the student runs it after
answering). The cells keep the ``nbval-ignore-output`` tag, so nbval still runs them (a broken
check fails the suite) without comparing an output the notebook does not store.

    python -m tools.clear_exercise_outputs notebooks/*.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

__all__ = ["EXERCISE_TAG", "REVEAL_TAG", "clear_exercises", "clear_exercise_outputs", "main"]

EXERCISE_TAG = "exercise"
REVEAL_TAG = "reveals-answer"


def clear_exercises(notebook: nbformat.NotebookNode) -> int:
    """Clear the outputs of the exercise cells of a notebook in memory; returns the cells
    changed."""
    changed = 0
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code" or not {EXERCISE_TAG, REVEAL_TAG} & set(tags):
            continue
        if cell.outputs or cell.execution_count is not None:
            cell.outputs, cell.execution_count = [], None
            changed += 1
    return changed


def clear_exercise_outputs(path: str | Path) -> int:
    """Clear the outputs of the exercise cells of one notebook file; returns the cells changed.
    The file is rewritten only when something changed."""
    notebook = nbformat.read(path, as_version=4)
    changed = clear_exercises(notebook)
    if changed:
        nbformat.write(notebook, path)
    return changed


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m tools.clear_exercise_outputs NOTEBOOK.ipynb …", file=sys.stderr)
        return 2
    missing = [p for p in argv if not Path(p).is_file()]
    if missing:
        print(f"no such notebook: {missing[0]} (give existing .ipynb files)", file=sys.stderr)
        return 2
    for path in argv:
        changed = clear_exercise_outputs(path)
        if changed:
            print(f"{path}: cleared {changed} exercise cell(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
