"""Re-execute notebooks in place; unchanged results leave ``git diff`` empty (make notebooks).

``make notebooks`` (every notebook) and ``make notebooks NB=03`` (one, by number) call this. Each
notebook runs top to bottom in a fresh kernel in its own folder, like nbconvert ``--execute
--inplace``, with three differences that keep a re-execution's diff down to what really changed:

- no timestamps: the kernel's per-cell timings are not recorded, old ones are removed;
- stable widget ids: a widget's model id is random in every kernel, so each one is renamed to an
  id derived from the notebook's name and the order in which its outputs reach it, and the saved
  widget state keeps only the models an output still shows (JupyterLab draws those from the file);
- a cell's consecutive writes to one stream are stored as one output (the kernel flushes stdout
  on a timer, so where a print is split depends on the machine's load);
- a cell tagged ``measured`` draws timings measured on this machine (notebook 01's scale chart):
  its stored outputs stay as long as the rest of them is unchanged but for numbers (the alt text
  and caption carry the timings), so a re-run on a busier machine does not rewrite them
  (``--remeasure``, ``make notebooks REMEASURE=1``, stores the new ones);
- exercise cells lose their outputs (:mod:`tools.clear_exercise_outputs`): no verdict or hint is
  committed before a student tries.

A notebook whose execution fails is left untouched, and the command exits 1 naming the cell.

    python -m tools.execute_notebooks notebooks/03_monitoring.ipynb [...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import uuid
from pathlib import Path

import nbformat

from tools.clear_exercise_outputs import clear_exercises

__all__ = ["WIDGET_STATE", "WIDGET_VIEW", "stable_widget_ids", "strip_timings",
           "merge_streams", "keep_measured_pictures", "MEASURED_TAG", "execute", "main"]

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MEASURED_TAG = "measured"
PICTURES = ("image/png", "image/jpeg")
_REFERENCE = re.compile(r"IPY_MODEL_([0-9a-f]{32})")
# Any fixed namespace works: ids must only be the same on every run, and unique per notebook.
_NAMESPACE = uuid.UUID("6f0c3c43-2b1e-4d59-9a57-0c8f1f6a3c25")


def strip_timings(notebook: nbformat.NotebookNode) -> None:
    """Remove the per-cell ``execution`` timestamps an earlier run recorded."""
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)


def merge_streams(notebook: nbformat.NotebookNode) -> None:
    """Join each run of consecutive stream outputs to the same stream (stdout, stderr) into one."""
    for cell in notebook.cells:
        merged: list = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (output.output_type == "stream" and previous is not None
                    and previous.output_type == "stream" and previous.name == output.name):
                previous.text = _text(previous.text) + _text(output.text)
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged


def keep_measured_pictures(notebook: nbformat.NotebookNode,
                           stored: nbformat.NotebookNode) -> int:
    """In cells tagged ``measured``, put back the stored outputs when the new ones differ from
    them only in their pictures and numbers; returns the cells kept."""
    stored_cells = {cell.get("id"): cell for cell in stored.cells}
    kept = 0
    for cell in notebook.cells:
        before = stored_cells.get(cell.get("id"))
        if (cell.cell_type != "code" or MEASURED_TAG not in cell.metadata.get("tags", [])
                or before is None or len(before.outputs) != len(cell.outputs)):
            continue
        if [_shape(o) for o in cell.outputs] != [_shape(o) for o in before.outputs]:
            continue
        cell.outputs = before.outputs
        kept += 1
    return kept


_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:e-?\d+)?")
_INLINE_PICTURE = re.compile(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+")


def _shape(output: dict) -> dict:
    """An output without its pictures (inline ones too) and with every number in its text
    masked: a measured chart's alt text and caption carry the timings it drew, which move with
    the machine's load."""
    def masked(value: object) -> object:
        if not isinstance(value, str | list):
            return value
        return _NUMBER.sub("#", _INLINE_PICTURE.sub("data:image", _text(value)))

    data = {k: masked(v) for k, v in output.get("data", {}).items() if k not in PICTURES}
    shaped = {**output, "data": data}
    if "text" in output:
        shaped["text"] = masked(output["text"])
    return shaped


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def _shown_models(notebook: nbformat.NotebookNode) -> list[str]:
    """Model ids of the widgets that outputs display, in the order the cells show them."""
    shown = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view and view.get("model_id"):
                shown.append(view["model_id"])
    return shown


def stable_widget_ids(notebook: nbformat.NotebookNode, name: str) -> int:
    """Rename every widget model id to one derived from ``name`` and its place in the notebook,
    and drop saved models no output reaches; returns how many models are kept.

    The order is the cells' order, each shown widget followed depth first by the models it
    refers to (children, layout, style), so it does not depend on the kernel's timing.
    """
    widgets = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    state = widgets.get("state", {})
    order: list[str] = []

    def visit(model_id: str) -> None:
        if model_id in order:
            return
        order.append(model_id)
        if model_id in state:
            for referenced in _REFERENCE.findall(json.dumps(state[model_id], sort_keys=True)):
                visit(referenced)

    for model_id in _shown_models(notebook):
        visit(model_id)
    renamed = {old: uuid.uuid5(_NAMESPACE, f"{name}/{i}").hex for i, old in enumerate(order)}
    kept = {m: state[m] for m in order if m in state}
    if state:
        widgets["state"] = kept
    if not renamed:
        return 0
    # Ids are 32 random hex digits: replacing them throughout the text cannot touch anything else.
    text = json.dumps(notebook, ensure_ascii=False)
    text = re.sub("|".join(renamed), lambda m: renamed[m[0]], text)
    notebook.clear()
    notebook.update(nbformat.from_dict(json.loads(text)))
    return len(kept)


def execute(path: Path, *, timeout: int = 600, remeasure: bool = False) -> bool:
    """Execute one notebook and rewrite it when its text changed; returns False (file untouched)
    when a cell failed."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    original = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(original, as_version=4)
    strip_timings(notebook)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            record_timing=False, store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as error:
        print(f"FAILED  {path}: {error.ename}: {error.evalue} (the file is unchanged)",
              file=sys.stderr)
        return False
    clear_exercises(notebook)
    merge_streams(notebook)
    stable_widget_ids(notebook, path.stem)
    if not remeasure:
        stored = nbformat.reads(original, as_version=4)
        merge_streams(stored)
        keep_measured_pictures(notebook, stored)
    text = nbformat.writes(notebook) + "\n"
    if text == original:
        print(f"ok      {path}: outputs unchanged")
    else:
        path.write_text(text, encoding="utf-8")
        print(f"ok      {path}: rewritten (see git diff)")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--remeasure", action="store_true",
                        help=f"store the new pictures of cells tagged {MEASURED_TAG!r} too")
    args = parser.parse_args(argv)
    missing = [p for p in args.notebooks if not p.is_file()]
    if missing:
        print(f"error: no such notebook: {missing[0]} (give existing .ipynb files, or run "
              "make notebooks NB=03)", file=sys.stderr)
        return 2
    # What the kernel inherits: figures inline (an exported MPLBACKEND=Agg would turn them into
    # "<Figure …>" text) and a fixed hash seed (set order in printed output).
    os.environ.pop("MPLBACKEND", None)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    failed = [p for p in args.notebooks
              if not execute(p, timeout=args.timeout, remeasure=args.remeasure)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
