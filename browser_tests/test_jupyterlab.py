"""Every notebook, opened in a real JupyterLab in Chromium: runs clean, renders every widget,
and every panel answers a real interaction. Notebooks are found by glob, so new ones are covered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from interactions import INTERACTIONS
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
RUN_TIMEOUT_S = 240


def stored_widget_outputs(path: Path) -> int:
    """How many widget views the committed notebook displays (its top-level panels)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return sum(WIDGET_MIME in output.get("data", {})
               for cell in cells for output in cell.get("outputs", []))


def run_all_cells(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=120_000)
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click("li.lm-Menu-item:has-text('Run All Cells')")
    # Done when every code cell shows an execution count and the kernel is idle again.
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
            const idle = document.querySelector(
                ".jp-Notebook-ExecutionIndicator[data-status='idle']");
            return idle && prompts.length > 0
                && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=RUN_TIMEOUT_S * 1000,
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_in_jupyterlab(lab, page, notebook, artifacts):
    base, token = lab
    run_all_cells(page, f"{base}/lab/tree/notebooks/{notebook.name}?token={token}&reset")

    tracebacks = page.locator(".jp-OutputArea-output:has-text('Traceback (most recent call')")
    assert tracebacks.count() == 0, tracebacks.first.inner_text()[:2000]
    expect(page.get_by_text("Loading widget")).to_have_count(0, timeout=30_000)
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
    panels_locator = page.locator(".jp-OutputArea-output > .jupyter-widgets")
    expected = stored_widget_outputs(notebook)
    expect(panels_locator).to_have_count(expected, timeout=30_000)
    panels = [panels_locator.nth(i) for i in range(expected)]
    for index, panel in enumerate(panels):
        panel.screenshot(path=str(artifacts / f"{notebook.stem}_panel{index + 1}.png"))

    if expected:
        assert notebook.name in INTERACTIONS, (
            f"{notebook.name} shows {expected} widget panel(s) but browser_tests/interactions.py "
            "has no interaction for it: add one that clicks or types and checks the result")
        INTERACTIONS[notebook.name](page, panels)
        for index, panel in enumerate(panels):
            panel.screenshot(
                path=str(artifacts / f"{notebook.stem}_panel{index + 1}_after.png"))
