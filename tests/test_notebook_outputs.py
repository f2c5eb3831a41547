"""Stored notebook outputs: every figure is a picture, and every deep dive is visibly headed."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def text_only_figures(path):
    """(cell id, text) of every output that is a figure's repr with no picture next to it."""
    found = []
    for cell in cells(path):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            plain = "".join(data.get("text/plain", ""))
            pictures = {"image/png", "image/svg+xml"} & set(data)
            if plain.startswith("<Figure size") and not pictures:
                found.append((cell.get("id"), plain))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_stored_figure_is_a_picture(path):
    assert text_only_figures(path) == []


def test_the_figure_check_catches_a_figure_stored_as_text(tmp_path):
    broken = tmp_path / "99_broken.ipynb"
    broken.write_text(json.dumps({"cells": [{"cell_type": "code", "id": "x", "source": "fig",
        "outputs": [{"output_type": "display_data", "metadata": {},
                     "data": {"text/plain": "<Figure size 1300x900 with 4 Axes>"}}]}]}))
    assert text_only_figures(broken) == [("x", "<Figure size 1300x900 with 4 Axes>")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_turns_the_inline_backend_on(path):
    setup = next(c for c in cells(path) if c["cell_type"] == "code"
                 and "parameters" not in c.get("metadata", {}).get("tags", []))
    assert source(setup).startswith("%matplotlib inline")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_deep_dive_starts_with_a_visible_heading(path):
    previous_deep = False
    for cell in cells(path):
        deep = "deep-dive" in cell.get("metadata", {}).get("tags", [])
        if deep and not previous_deep:
            first_line = source(cell).splitlines()[0] if source(cell) else ""
            assert cell["cell_type"] == "markdown" and first_line.startswith("#") \
                and "Deep dive" in first_line, (cell.get("id"), first_line)
        previous_deep = deep
