"""The lecture diagrams' Markdown alt text, kept equal to what the diagrams' data says.

Every ``![alt](…/images/<diagram>.png)`` in README.md and in the notebooks' Markdown cells must
carry the alt text :func:`course_etl.classroom.diagrams.alt.diagram_alt` writes from the data the
diagram is drawn from. :func:`stale_alt_texts` lists the references that do not;
``python -m tools.alt_text --write`` rewrites them (notebooks cell by cell, ids kept).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NamedTuple

from course_etl.classroom.diagrams.alt import ALT_TEXTS, diagram_alt
from tools.image_refs import _MARKDOWN_IMAGE

__all__ = ["StaleAlt", "main", "stale_alt_texts"]


class StaleAlt(NamedTuple):
    source: Path
    cell: str  # the notebook cell's id, or "" for a Markdown file
    diagram: str
    written: str
    expected: str


def _diagram(target: str) -> str | None:
    parts = target.replace("\\", "/").split("/")
    if len(parts) >= 2 and parts[-2] == "images" and parts[-1] in ALT_TEXTS:
        return parts[-1]
    return None


def _fix(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """``text`` with every diagram's alt replaced; and (diagram, written, expected) per change."""
    changes = []

    def replace(match) -> str:
        name = _diagram(match.group("target"))
        if name is None or match.group("alt") == diagram_alt(name):
            return match.group(0)
        changes.append((name, match.group("alt"), diagram_alt(name)))
        start, end = match.span("alt")
        whole = match.group(0)
        offset = match.start()
        return whole[:start - offset] + diagram_alt(name) + whole[end - offset:]

    return _MARKDOWN_IMAGE.sub(replace, text), changes


def _files(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "notebooks").glob("*.ipynb"))]


def stale_alt_texts(root: str | Path, *, write: bool = False) -> list[StaleAlt]:
    """Diagram references under ``root`` whose alt text is not the diagram's; rewritten in
    place when ``write``."""
    stale = []
    for path in _files(Path(root)):
        if not path.exists():
            continue
        if path.suffix == ".md":
            text, changes = _fix(path.read_text(encoding="utf-8"))
            stale += [StaleAlt(path, "", *c) for c in changes]
            if write and changes:
                path.write_text(text, encoding="utf-8")
            continue
        notebook = json.loads(path.read_text(encoding="utf-8"))
        touched = False
        for cell in notebook["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            text, changes = _fix("".join(cell["source"]))
            stale += [StaleAlt(path, cell.get("id", ""), *c) for c in changes]
            if changes:
                cell["source"] = text.splitlines(keepends=True)
                touched = True
        if write and touched:
            with path.open("w", encoding="utf-8") as f:
                json.dump(notebook, f, indent=1, ensure_ascii=False)
                f.write("\n")
    return stale


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    stale = stale_alt_texts(Path.cwd(), write="--write" in args)
    for item in stale:
        print(f"{item.source}{' cell ' + item.cell if item.cell else ''}: {item.diagram}: "
              f"{'rewritten' if '--write' in args else 'stale alt text'}")
    return 1 if stale and "--write" not in args else 0


if __name__ == "__main__":
    raise SystemExit(main())
