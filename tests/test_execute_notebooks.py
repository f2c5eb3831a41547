"""make notebooks: re-executing a notebook whose results did not change leaves its file unchanged.

A real notebook (00_index: a table, a widget, the exercise index) is re-executed in a copy and
must come back byte for byte as committed. A generated one shows what used to change on every
run: widgets (random model ids), a print split across flushes, a kernel's timestamps, and a
measured chart. The widget renaming is checked on generated widget trees whatever the kernel's
ids and the order it saved them in.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
from hypothesis import given, settings
from hypothesis import strategies as st

from tools.execute_notebooks import (
    WIDGET_STATE,
    WIDGET_VIEW,
    keep_measured_pictures,
    merge_streams,
    stable_widget_ids,
)

ROOT = Path(__file__).resolve().parents[1]


def run_tool(*paths: Path, remeasure: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.execute_notebooks",
                           *(["--remeasure"] if remeasure else []), *map(str, paths)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_re_executing_a_committed_notebook_changes_nothing(tmp_path):
    folder = tmp_path / "notebooks"  # with its siblings: the exercise index reads them
    shutil.copytree(ROOT / "notebooks", folder,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.db*"))
    copy = folder / "00_index.ipynb"
    done = run_tool(copy)
    assert done.returncode == 0, done.stderr
    assert "outputs unchanged" in done.stdout
    assert copy.read_bytes() == (ROOT / "notebooks" / "00_index.ipynb").read_bytes()


GENERATED = [
    ("import ipywidgets as w, sys\n"
     "box = w.HBox([w.IntSlider(value=3), w.Button(description='go')])\nbox"),
    "print('first half', end=''); sys.stdout.flush(); print(' second half')",
    "w.Checkbox(value=True)",
    "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()",
]


def _generated_notebook(path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in GENERATED]
    exercise = nbformat.v4.new_code_cell("print('Correct: a verdict')")
    exercise.metadata["tags"] = ["exercise", "nbval-ignore-output"]
    notebook.cells.append(exercise)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, path)


def test_a_generated_notebook_with_widgets_is_stable_across_runs(tmp_path):
    path = tmp_path / "widgets.ipynb"
    _generated_notebook(path)
    assert run_tool(path).returncode == 0
    first = path.read_bytes()
    done = run_tool(path)
    assert done.returncode == 0 and "outputs unchanged" in done.stdout
    assert path.read_bytes() == first

    notebook = nbformat.reads(first.decode(), as_version=4)
    assert all("execution" not in cell.metadata for cell in notebook.cells)
    printed = notebook.cells[1].outputs
    assert [o.output_type for o in printed] == ["stream"]
    assert printed[0].text == "first half second half\n"
    assert notebook.cells[-1].outputs == []  # the exercise shows no verdict
    state = notebook.metadata.widgets[WIDGET_STATE]["state"]
    shown = [o.data[WIDGET_VIEW]["model_id"] for c in notebook.cells for o in c.outputs
             if WIDGET_VIEW in o.get("data", {})]
    assert len(shown) == 2 and set(shown) <= set(state)


def test_a_failing_cell_leaves_the_file_untouched(tmp_path):
    path = tmp_path / "broken.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("1 / 0")]
    nbformat.write(notebook, path)
    before = path.read_bytes()
    done = run_tool(path)
    assert done.returncode == 1 and "ZeroDivisionError" in done.stderr
    assert path.read_bytes() == before


def test_a_missing_notebook_is_refused_before_anything_runs(tmp_path):
    done = run_tool(tmp_path / "nope.ipynb")
    assert done.returncode == 2 and "nope.ipynb" in done.stderr


def _widget_tree(draw_ids: list[str], shape: list[int]) -> nbformat.NotebookNode:
    """Cells each showing one box whose children are leaf widgets; ids taken from draw_ids."""
    ids = iter(draw_ids)
    state, cells = {}, []
    for children in shape:
        box = next(ids)
        leaves = [next(ids) for _ in range(children)]
        for leaf in leaves:
            layout = next(ids)
            state[layout] = {"model_name": "LayoutModel", "state": {}}
            state[leaf] = {"model_name": "IntSliderModel",
                           "state": {"layout": f"IPY_MODEL_{layout}"}}
        state[box] = {"model_name": "HBoxModel",
                      "state": {"children": [f"IPY_MODEL_{leaf}" for leaf in leaves]}}
        output = nbformat.v4.new_output("display_data", data={
            WIDGET_VIEW: {"model_id": box, "version_major": 2, "version_minor": 0},
            "text/plain": "HBox(...)"})
        cells.append(nbformat.v4.new_code_cell("box", outputs=[output], id=f"cell{len(cells)}"))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["widgets"] = {WIDGET_STATE: {"state": state, "version_major": 2,
                                                   "version_minor": 0}}
    return notebook


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=4),
       seeds=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)))
def test_widget_ids_depend_on_the_notebook_not_on_the_kernel(shape, seeds):
    """Two runs: different random ids, models saved in a different order, one orphan model
    (shown by a cell that was cleared): the same file."""
    results = []
    for seed in seeds:
        rng = random.Random(seed)
        count = sum(1 + 2 * n for n in shape) + 1
        notebook = _widget_tree([uuid.UUID(int=rng.getrandbits(128)).hex
                                 for _ in range(count)], shape)
        state = notebook.metadata.widgets[WIDGET_STATE]["state"]
        state[uuid.UUID(int=rng.getrandbits(128)).hex] = {"model_name": "Orphan", "state": {}}
        items = list(state.items())
        rng.shuffle(items)
        notebook.metadata.widgets[WIDGET_STATE]["state"] = dict(items)
        kept = stable_widget_ids(notebook, "03_monitoring")
        assert kept == count - 1  # the orphan is dropped
        results.append(nbformat.writes(notebook))
    assert results[0] == results[1]
    state = json.loads(results[0])["metadata"]["widgets"][WIDGET_STATE]["state"]
    referenced = set(re.findall(r"IPY_MODEL_([0-9a-f]{32})", results[0]))
    assert referenced <= set(state)  # every reference points at a kept model


def test_a_measured_chart_keeps_its_picture_unless_the_rest_changed():
    def cell(png: str, text: str) -> nbformat.NotebookNode:
        output = nbformat.v4.new_output("display_data",
                                        data={"image/png": png, "text/plain": text})
        made = nbformat.v4.new_code_cell("chart()", outputs=[output])
        made.id, made.metadata["tags"] = "chart", ["measured"]
        return made

    stored = nbformat.v4.new_notebook(cells=[cell("OLD", "<Image>")])
    same = nbformat.v4.new_notebook(cells=[cell("NEW", "<Image>")])
    assert keep_measured_pictures(same, stored) == 1
    assert same.cells[0].outputs[0].data["image/png"] == "OLD"
    changed = nbformat.v4.new_notebook(cells=[cell("NEW", "<Image 2>")])
    assert keep_measured_pictures(changed, stored) == 0
    assert changed.cells[0].outputs[0].data["image/png"] == "NEW"
    # Its alt text carries the timings it drew: other numbers alone keep the stored output.
    timed = nbformat.v4.new_notebook(cells=[cell("OLD", "full 0.00129 s, 1,000 rows, 1.5e-05")])
    retimed = nbformat.v4.new_notebook(cells=[cell("NEW", "full 0.00112 s, 1,000 rows, 2e-05")])
    assert keep_measured_pictures(retimed, timed) == 1
    assert retimed.cells[0].outputs[0].data["text/plain"] == "full 0.00129 s, 1,000 rows, 1.5e-05"


def test_streams_merge_only_when_consecutive_and_to_the_same_stream():
    out = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("x", outputs=[
        out("stream", name="stdout", text="a"), out("stream", name="stdout", text="b\n"),
        out("stream", name="stderr", text="warn\n"), out("stream", name="stdout", text="c\n")])
    notebook = nbformat.v4.new_notebook(cells=[cell])
    merge_streams(notebook)
    assert [(o.name, o.text) for o in notebook.cells[0].outputs] == [
        ("stdout", "ab\n"), ("stderr", "warn\n"), ("stdout", "c\n")]
