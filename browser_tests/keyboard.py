"""One panel per notebook, driven by the keyboard alone.

:func:`drive_by_keyboard` puts the focus on the panel's first control, then only presses keys:
Tab walks the panel (every stop must be inside the panel, shown, in document order, which is
the layout's order, and carry a visible focus indicator); the notebook's scenario in
:data:`SCENARIOS` then reaches a control by Tab, works it with Enter, Space, the arrow keys or
typing, and waits for what the panel must show. The walk is written to
``artifacts/accessibility/keyboard_<notebook>.txt`` and the panel's picture after it to
``artifacts/screenshots/<notebook>_keyboard.png``.
"""

from __future__ import annotations

import re
from pathlib import Path

from accessibility import REPORTS
from playwright.sync_api import Locator, Page, expect

TIMEOUT = 60_000
MAX_TABS = 80
FOCUSABLE = ("button:not([disabled]), input:not([disabled]), select:not([disabled]), "
             "textarea:not([disabled]), [tabindex]:not([tabindex='-1']), [contenteditable='true']")

# What the focused element is, for the walk and the scenarios: its accessible name (the way a
# screen reader finds it: aria-labelledby, aria-label, a <label>, then its text or title), where
# it sits, whether it follows the previous stop in the document, and whether focus shows.
FOCUSED_JS = r"""
([panel, previous]) => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const text = ids => ids.split(/\s+/).map(id => document.getElementById(id))
    .filter(Boolean).map(n => n.textContent).join(' ');
  let name = '';
  if (el.getAttribute('aria-labelledby')) name = text(el.getAttribute('aria-labelledby'));
  if (!name) name = el.getAttribute('aria-label') || '';
  if (!name && el.labels && el.labels.length)
    name = [...el.labels].map(l => l.textContent).join(' ');
  if (!name) name = (el.innerText || el.value || el.getAttribute('title') || '');
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1)
    || (style.boxShadow && style.boxShadow !== 'none');
  const r = el.getBoundingClientRect();
  let follows = true;
  if (previous !== null && window.__courseEtlPrevious && window.__courseEtlPrevious !== el)
    follows = !!(window.__courseEtlPrevious.compareDocumentPosition(el)
                 & Node.DOCUMENT_POSITION_FOLLOWING);
  window.__courseEtlPrevious = el;
  return {name: name.trim().replace(/\s+/g, ' ').slice(0, 80), tag: el.tagName.toLowerCase(),
          role: el.getAttribute('role') || '', inPanel: panel.contains(el), ring,
          shown: r.width > 0 && r.height > 0, follows,
          tabindex: parseInt(el.getAttribute('tabindex') || '0', 10)};
}
"""


def _focused(panel: Locator, first: bool = False) -> dict | None:
    return panel.evaluate(f"(panel) => ({FOCUSED_JS})([panel, {'null' if first else '1'}])")


def _focus_first(panel: Locator) -> dict:
    panel.evaluate(f"(panel) => {{ window.__courseEtlPrevious = null; "
                   f"panel.querySelector({FOCUSABLE!r}).focus(); }}")
    # A key first, so the browser treats what follows as keyboard use (:focus-visible).
    panel.page.keyboard.press("Shift")
    return _focused(panel, first=True)


def walk(page: Page, panel: Locator) -> list[dict]:
    """Tab through the panel from its first control until focus leaves it."""
    stops = [_focus_first(panel)]
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        stop = _focused(panel)
        if stop is None or not stop["inPanel"]:
            break
        stops.append(stop)
    return stops


def tab_to(page: Page, panel: Locator, name: str) -> dict:
    """Press Tab until the control named ``name`` (a regex) has the focus."""
    for _ in range(MAX_TABS):
        stop = _focused(panel)
        if stop and stop["inPanel"] and re.search(name, stop["name"]):
            return stop
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached a control named {name!r} in the panel")


def _wait_enabled(panel: Locator, text: str) -> None:
    expect(panel.locator(f"button:has-text('{text}')").first).to_be_enabled(timeout=TIMEOUT)


# notebook -> steps: ("tab", name regex), ("key", key), ("type", text), ("expect", text),
# ("enabled", button text). Each starts from the panel's first control.
SCENARIOS: dict[str, list[tuple[str, str]]] = {
    "00_index.ipynb": [("tab", "^Click me$"), ("key", " "), ("expect", "widgets work")],
    "01_full_vs_incremental.ipynb": [
        ("tab", "^inserts$"), ("key", "ArrowRight"), ("key", "ArrowRight"),
        ("tab", "Apply changes at source"), ("key", "Enter"), ("expect", "Source changed at"),
        ("tab", "^Incremental load$"), ("key", " "), ("expect", "Incremental load into")],
    "02_job_scheduling.ipynb": [
        ("tab", "^cron$"), ("key", "Control+a"), ("type", "0 9 * * 1"), ("key", "Enter"),
        ("expect", "At 09:00, only on Monday")],
    "03_monitoring.ipynb": [
        ("tab", "^fault$"), ("key", "ArrowDown"), ("tab", "Run the pipeline"),
        ("key", "Enter"), ("expect", "fault '")],
    "04_parameterization.ipynb": [
        ("tab", "^env vars$"), ("key", "Control+a"), ("key", "Delete"), ("key", "Tab"),
        ("enabled", "Run incremental load"), ("tab", "Run incremental load"),
        ("key", "Enter"), ("expect", "loaded with the")],
    "05_medallion.ipynb": [
        ("tab", "Ingest a new batch"), ("key", "Enter"), ("expect", "Day 2024-10")],
    "06_capstone.ipynb": [
        ("tab", "^day$"), ("key", "ArrowUp"), ("tab", "Run my pipeline"), ("key", "Enter"),
        ("expect", "logical_date")],
}


def drive_by_keyboard(page: Page, notebook: str, panel: Locator, artifacts: Path) -> None:
    """Walk ``panel`` with Tab, then run the notebook's scenario with keys only."""
    stops = walk(page, panel)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"keyboard_{Path(notebook).stem}.txt").write_text(
        "\n".join(f"{s['tag']}{'[' + s['role'] + ']' if s['role'] else ''} {s['name']!r}"
                  f"{'' if s['ring'] else '  NO FOCUS RING'}" for s in stops) + "\n",
        encoding="utf-8")
    problems = [f"stop {i}: {s['name']!r} ({s['tag']}) {what}" for i, s in enumerate(stops)
                for what, bad in (("shows no focus indicator", not s["ring"]),
                                  ("is not shown", not s["shown"]),
                                  ("comes before the previous stop", not s["follows"]),
                                  ("has a positive tabindex", s["tabindex"] > 0))
                if bad]
    assert not problems, f"{notebook}: keyboard walk:\n  " + "\n  ".join(problems)
    assert len(stops) >= 1
    scenario = SCENARIOS.get(notebook)
    assert scenario is not None, f"{notebook}: write its keyboard scenario in keyboard.py"
    _focus_first(panel)
    for action, value in scenario:
        if action == "tab":
            tab_to(page, panel, value)
        elif action == "key":
            page.keyboard.press(value)
        elif action == "type":
            page.keyboard.type(value)
        elif action == "enabled":
            _wait_enabled(panel, value)
        elif action == "expect":
            expect(panel).to_contain_text(value, timeout=TIMEOUT)
    panel.screenshot(path=str(artifacts / f"{Path(notebook).stem}_keyboard.png"))
