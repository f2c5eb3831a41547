"""The accessibility audit: axe-core in the page, WCAG 2.1 A and AA rules, scoped to the course.

:func:`axe_audit` injects the axe-core script that the ``axe-playwright-python`` wheel ships, runs
it over the elements matching a selector (a notebook's output areas and rendered Markdown, never
JupyterLab's own menus; or the Voila app) with the rule set tagged ``wcag2a``, ``wcag2aa``,
``wcag21a`` and ``wcag21aa``, writes the whole result (every violation of every impact, and what
axe could not decide) to ``artifacts/accessibility/<name>.json``, and returns the serious and
critical violations that the committed allow-list (``a11y_allowlist.json``) does not excuse.

The allow-list holds only what an upstream widget library draws and the course cannot change
from Python; each entry names the rule, a CSS selector the offending element matches, and the
upstream issue that tracks it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[1]
REPORTS = REPO / "artifacts" / "accessibility"
ALLOWLIST = Path(__file__).with_name("a11y_allowlist.json")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")

RUN_JS = """
async ([selectors, tags]) => {
  const include = selectors.filter(s => document.querySelector(s));
  if (!include.length) return null;
  return await axe.run({include: include.map(s => [s])},
                       {runOnly: {type: 'tag', values: tags},
                        resultTypes: ['violations', 'incomplete']});
}
"""
# Whether an element (by axe's target selector) matches an allow-list selector.
MATCHES_JS = """
([target, selector]) => {
  const el = document.querySelector(target);
  return !!el && (el.matches(selector) || !!el.closest(selector));
}
"""


@dataclass(frozen=True)
class Finding:
    """One element breaking one rule."""

    rule: str
    impact: str
    help: str
    target: str
    html: str
    summary: str

    def __str__(self) -> str:
        return (f"{self.impact} {self.rule} ({self.help}): {self.target}\n"
                f"      {self.html[:160]}\n      {self.summary[:300]}")


def allowlist() -> list[dict]:
    """The committed allow-list entries (rule, selector, upstream, why)."""
    return json.loads(ALLOWLIST.read_text(encoding="utf-8"))["allow"]


def axe_script() -> str:
    from axe_playwright_python.base import AXE_SCRIPT

    return AXE_SCRIPT


def _report_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:120]


def axe_audit(page: Page, selectors: list[str] | str, name: str) -> list[Finding]:
    """Serious and critical WCAG 2.1 A/AA violations inside ``selectors``, minus the allowed.

    The full axe result goes to ``artifacts/accessibility/<name>.json``. An empty scope (no
    element matches) is an error: an audit of nothing would always pass.
    """
    selectors = [selectors] if isinstance(selectors, str) else list(selectors)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_script())
    result = page.evaluate(RUN_JS, [selectors, WCAG_TAGS])
    assert result is not None, f"{name}: nothing on the page matches {selectors}"
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{_report_name(name)}.json").write_text(
        json.dumps({"name": name, "scope": selectors, "url": page.url,
                    "violations": result["violations"], "incomplete": result["incomplete"]},
                   indent=1), encoding="utf-8")
    entries = allowlist()
    findings = []
    for violation in result["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            allowed = [i for i, entry in enumerate(entries)
                       if entry["rule"] == violation["id"]
                       and page.evaluate(MATCHES_JS, [str(node["target"][-1]),
                                                      entry["selector"]])]
            if allowed:
                continue
            findings.append(Finding(violation["id"], violation["impact"], violation["help"],
                                    target, node["html"], node.get("failureSummary", "")))
    return findings


def assert_accessible(page: Page, selectors: list[str] | str, name: str) -> None:
    findings = axe_audit(page, selectors, name)
    assert not findings, (f"{name}: {len(findings)} serious or critical accessibility "
                          f"violations (full report: artifacts/accessibility/"
                          f"{_report_name(name)}.json):\n  "
                          + "\n  ".join(str(f) for f in findings))


# Text-first status: every verdict badge has a word, no panel text leans on an emoji glyph (a
# machine without an emoji font, like this one and CI, draws an empty box instead), and every
# picture shown has alt text of a few words at least.
TEXT_FIRST_JS = r"""
(selector) => {
  const problems = [], elsewhere = [];
  const emoji = /\p{Extended_Pictographic}/u;
  for (const area of document.querySelectorAll(selector)) {
    // A picture's name says what it shows: several words, never matplotlib's repr.
    for (const img of area.querySelectorAll('img')) {
      const r = img.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      const alt = (img.getAttribute('alt') || img.getAttribute('title') || '').trim();
      if (alt.split(/\s+/).length < 3 || /^<Figure size/.test(alt))
        problems.push(`a picture without words: alt=${JSON.stringify(alt.slice(0, 60))} ` +
                      `${(img.getAttribute('src') || '').slice(0, 40)}`);
    }
    for (const badge of area.querySelectorAll('.course-etl-status')) {
      if (!/[A-Za-z]{2,}/.test(badge.innerText || ''))
        problems.push(`a status with no word: ${badge.outerHTML.slice(0, 120)}`);
    }
    const walker = document.createTreeWalker(area, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const text = walker.currentNode.textContent;
      const match = text.match(emoji);
      if (!match) continue;
      const el = walker.currentNode.parentElement;
      const line = `${match[0]} in "${text.trim().slice(0, 80)}"`;
      if (el && el.closest('.course-etl-panel, .course-etl-app')) problems.push(line);
      else elsewhere.push(line);
    }
  }
  return [problems, elsewhere];
}
"""


def assert_text_first(page: Page, selector: str, name: str) -> None:
    """Fails on a status badge without a word or an emoji in a panel; emoji in other outputs
    (an exercise's verdict, a notebook's own table) are written to the report as a warning."""
    import warnings

    problems, elsewhere = page.evaluate(TEXT_FIRST_JS, selector)
    if elsewhere:
        REPORTS.mkdir(parents=True, exist_ok=True)
        (REPORTS / f"{_report_name(name)}_emoji.txt").write_text("\n".join(elsewhere) + "\n",
                                                                   encoding="utf-8")
        warnings.warn(f"{name}: emoji outside the panels: {elsewhere[:3]}", stacklevel=2)
    assert not problems, f"{name}: status that leans on an emoji or has no word:\n  " + \
        "\n  ".join(problems)
