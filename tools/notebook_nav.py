"""Navigation links between the numbered notebooks: previous · contents · next.

Titles come from each notebook's first heading (``# NN — Title``); the contents page is
``00_index.ipynb``. :func:`navigation_problems` lists what is missing or stale (a test runs it)
and :func:`write_navigation` (``make nav``) rewrites the links at the top and the bottom of every
notebook, so adding a notebook only means running it once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["notebooks", "title_of", "nav_line", "navigation_problems", "write_navigation"]

INDEX = "00_index.ipynb"
_TITLE = re.compile(r"^# (\d\d) — (.+)$")
_NAV = re.compile(r"^(\[← Previous|\[Contents\]|\[Next)")


def notebooks(folder: str | Path) -> list[Path]:
    """The numbered notebooks, in order."""
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def title_of(path: Path) -> str:
    """``NN — Title`` from the notebook's first line; raises ValueError naming the file."""
    first = _source(_cells(path)[0]).splitlines()[0] if _cells(path) else ""
    match = _TITLE.match(first)
    if not match:
        raise ValueError(f"{path.name}: the first line must be '# NN — Title', not {first!r}")
    return f"{match.group(1)} — {match.group(2).split(':')[0].strip()}"


def nav_line(ordered: list[Path], index: int) -> str:
    """The links for notebook ``index`` of ``ordered``."""
    parts = []
    if index > 0:
        previous = ordered[index - 1]
        parts.append(f"[← Previous: {title_of(previous)}]({previous.name})")
    if ordered[index].name != INDEX:
        parts.append(f"[Contents]({INDEX})")
    if index < len(ordered) - 1:
        following = ordered[index + 1]
        parts.append(f"[Next: {title_of(following)} →]({following.name})")
    return " · ".join(parts)


def _nav_lines(cell: dict) -> list[str]:
    return [line for line in _source(cell).splitlines() if _NAV.match(line)]


def navigation_problems(folder: str | Path) -> list[str]:
    """What is wrong with the links, one sentence per problem (empty when all is well)."""
    ordered, problems = notebooks(folder), []
    for index, path in enumerate(ordered):
        try:
            expected = nav_line(ordered, index)
        except ValueError as error:
            problems.append(str(error))
            continue
        cells = _cells(path)
        for where, cell in (("first", cells[0]), ("last", cells[-1])):
            if cell["cell_type"] != "markdown" or expected not in _nav_lines(cell):
                problems.append(f"{path.name}: the {where} cell lacks the links "
                                f"{expected!r} (run `make nav`)")
    return problems


def _set_source(cell: dict, text: str) -> None:
    """Keep the cell's form (a list of lines, as Jupyter writes it, or one string), so a
    notebook whose links are right is left byte for byte as it was."""
    if _source(cell).endswith("\n") and not text.endswith("\n"):
        text += "\n"
    cell["source"] = text.splitlines(keepends=True) if isinstance(cell["source"], list) else text


def write_navigation(folder: str | Path) -> list[Path]:
    """Rewrite the links of every notebook; returns the notebooks that changed."""
    ordered, changed = notebooks(folder), []
    for path in ordered:
        title_of(path)  # every title must be well formed before anything is written
    for index, path in enumerate(ordered):
        expected = nav_line(ordered, index)
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
        first = _source(cells[0]).splitlines()
        kept = [line for line in first if not _NAV.match(line)]
        _set_source(cells[0], "\n".join([kept[0], "", expected, *kept[1:]]).replace(
            "\n\n\n", "\n\n"))
        last = cells[-1]
        if last["cell_type"] == "markdown" and _nav_lines(last):
            lines = [line for line in _source(last).splitlines() if not _NAV.match(line)]
            _set_source(last, "\n".join([*lines, expected]).strip("\n"))
        else:
            cells.append({"cell_type": "markdown", "id": "navigation-bottom", "metadata": {},
                          "source": f"---\n{expected}"})
        text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
        if text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
