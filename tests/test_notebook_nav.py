"""Every numbered notebook has a consistent title and previous · contents · next links."""

import json
from pathlib import Path

import pytest

from tools.notebook_nav import nav_line, navigation_problems, notebooks, write_navigation

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_every_notebook_links_to_its_neighbours():
    assert navigation_problems(NOTEBOOKS) == []
    assert notebooks(NOTEBOOKS)[0].name == "00_index.ipynb"


def _notebook(path: Path, *lines: str) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "\n".join(lines)}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))


def test_a_new_notebook_is_reported_then_linked(tmp_path):
    _notebook(tmp_path / "00_index.ipynb", "# 00 — Start here", "", "[Next: x →](x)")
    _notebook(tmp_path / "01_loads.ipynb", "# 01 — Loads: full and incremental", "", "text")
    problems = navigation_problems(tmp_path)
    assert len(problems) == 4 and "run `make nav`" in problems[0]
    assert [p.name for p in write_navigation(tmp_path)] == ["00_index.ipynb", "01_loads.ipynb"]
    assert navigation_problems(tmp_path) == []
    ordered = notebooks(tmp_path)
    assert nav_line(ordered, 1) == ("[← Previous: 00 — Start here](00_index.ipynb) · "
                                    "[Contents](00_index.ipynb)")
    assert write_navigation(tmp_path) == [], "running it again changes nothing"


def test_a_title_in_the_wrong_form_is_named(tmp_path):
    _notebook(tmp_path / "00_index.ipynb", "# Start here")
    with pytest.raises(ValueError, match="00_index.ipynb: the first line must be"):
        write_navigation(tmp_path)
