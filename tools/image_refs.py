"""Image references in the README and the notebooks that point at nothing (repo hygiene).

:func:`find_broken_image_refs` lists every markdown or HTML image whose local file does not exist
(paths resolve relative to the file that contains them) or whose markdown alt text is empty.
``tests/test_image_refs.py`` keeps the list empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

__all__ = ["BrokenImageRef", "find_broken_image_refs"]



class BrokenImageRef(NamedTuple):
    source: Path  # the notebook or markdown file containing the reference
    target: str  # the image path as written
    problem: str


_MARKDOWN_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\s*<?(?P<target>[^)\s>]+)>?[^)]*\)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"'](?P<target>[^\"']+)[\"']", re.IGNORECASE)
_CODE_FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
_NOT_A_FILE = ("http://", "https://", "data:", "attachment:", "mailto:")


def find_broken_image_refs(root: str | Path) -> list[BrokenImageRef]:
    """Image references in ``root``/README.md and ``root``/notebooks/**/*.ipynb that are broken.

    A reference is broken when its local file does not exist (paths resolve relative to the
    file that contains them) or when a markdown image has empty alt text. Web URLs, data URIs
    and notebook attachments are skipped; code blocks are ignored.
    """
    root = Path(root)
    broken = []
    for source, markdown in _markdown_sources(root):
        broken.extend(_broken_refs_in(source, _CODE_FENCE.sub("", markdown), root))
    return broken


def _markdown_sources(root: Path) -> Iterator[tuple[Path, str]]:
    readme = root / "README.md"
    if readme.is_file():
        yield readme, readme.read_text(encoding="utf-8")
    for notebook in sorted((root / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in notebook.parts:
            continue
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
        for cell in cells:
            if cell.get("cell_type") == "markdown":
                source = cell.get("source", "")
                yield notebook, source if isinstance(source, str) else "".join(source)


def _broken_refs_in(source: Path, markdown: str, root: Path) -> Iterator[BrokenImageRef]:
    for match in _MARKDOWN_IMAGE.finditer(markdown):
        if not match["alt"].strip():
            yield BrokenImageRef(source, match["target"], "empty alt text")
    targets = [m["target"] for m in _MARKDOWN_IMAGE.finditer(markdown)]
    targets += [m["target"] for m in _HTML_IMAGE.finditer(markdown)]
    for target in targets:
        if target.lower().startswith(_NOT_A_FILE):
            continue
        local = unquote(target.split("#", 1)[0].split("?", 1)[0])
        # A leading "/" means the repository root (as on GitHub), not the filesystem root.
        base = root if local.startswith("/") else source.parent
        if not (base / local.lstrip("/")).is_file():
            yield BrokenImageRef(source, target, "file not found")
