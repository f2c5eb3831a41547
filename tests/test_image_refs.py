"""Every image referenced from README.md and the notebooks must exist and have alt text."""

from __future__ import annotations

import json
from pathlib import Path

from tools.image_refs import find_broken_image_refs

REPO_ROOT = Path(__file__).resolve().parents[1]


def _write_notebook(path: Path, cells: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook), encoding="utf-8")


def test_repository_image_references_resolve() -> None:
    # Passes trivially while README.md has no images and notebooks/ does not exist yet.
    broken = find_broken_image_refs(REPO_ROOT)
    report = "\n".join(
        f"{ref.source.relative_to(REPO_ROOT)}: {ref.target} ({ref.problem})" for ref in broken
    )
    assert not broken, f"broken image references:\n{report}"


def test_scanner_reports_broken_references_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "medallion architecture.png").write_bytes(b"\x89PNG")
    (tmp_path / "README.md").write_text(
        "![Medallion layers](images/medallion%20architecture.png)\n"
        "![](images/medallion%20architecture.png)\n"
        "![Remote logo](https://example.org/logo.png)\n"
        "```markdown\n![in a code block](images/not-checked.png)\n```\n",
        encoding="utf-8",
    )
    _write_notebook(
        tmp_path / "notebooks" / "06_pipelines.ipynb",
        [
            {  # nbformat stores sources as lists of lines
                "cell_type": "markdown",
                "metadata": {},
                "source": [
                    "![Layers](../images/medallion%20architecture.png)\n",
                    '<img src="../images/monitoring.png" alt="Monitoring" width="600">\n',
                ],
            },
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": "# ![not markdown](nowhere.png)",
            },
        ],
    )
    _write_notebook(tmp_path / "notebooks" / ".ipynb_checkpoints" / "old.ipynb", [
        {"cell_type": "markdown", "metadata": {}, "source": "![stale](gone.png)"},
    ])

    found = {
        (ref.source.relative_to(tmp_path).as_posix(), ref.target, ref.problem)
        for ref in find_broken_image_refs(tmp_path)
    }

    assert found == {
        ("README.md", "images/medallion%20architecture.png", "empty alt text"),
        ("notebooks/06_pipelines.ipynb", "../images/monitoring.png", "file not found"),
    }


def test_scanner_accepts_a_repository_without_readme_or_notebooks(tmp_path: Path) -> None:
    assert find_broken_image_refs(tmp_path) == []
