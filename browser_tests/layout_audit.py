""""Does it look right?" as checks a browser can run: the same audit for JupyterLab and Voila.

:func:`audit` runs one script in the page over a root element (a notebook's output areas, or the
Voila app) and returns every problem as a sentence naming the element:

- a broken image (an ``img`` shown without a picture);
- a label, button or tab title whose text is cut (``scrollWidth > clientWidth``) with no scroll
  container around it;
- a table, chart or image wider than its output area with no scrollbar between the two;
- visible text under 11 px, and charts shown so small that their 9 pt text falls under 11 px
  (the panels draw charts at two device pixels per CSS pixel, text at 9 pt or more; a figure a
  notebook displays must show at 85% of its size or more);
- a figure shown as ``<Figure size …>`` text, a raw widget repr (``VBox(children=(…``), a widget
  that failed to render (its text, or ipywidgets' error view), an error output, or a panel
  callback that failed (its error box).

The checks are generic (no panel is named), so a new panel or notebook is covered as it lands.
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page

MIN_TEXT_PX = 11
CHART_TEXT_PX = 9 * 100 / 72  # the smallest chart text (9 pt) at its CSS size, in px
CHART_DENSITY = 2  # device pixels per CSS pixel in the panels' PNGs

AUDIT_JS = """
([areaSelector, minTextPx, chartTextPx, chartDensity]) => {
  const problems = [];
  const areas = [...document.querySelectorAll(areaSelector)];
  const name = el => {
    const text = (el.innerText || el.alt || el.getAttribute('src') || '').trim()
      .replace(/\\s+/g, ' ').slice(0, 60);
    return `<${el.tagName.toLowerCase()} class="${(el.className.baseVal ?? el.className)
      .toString().slice(0, 60)}"> "${text}"`;
  };
  const shown = el => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    for (let a = el; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.display === 'none' || s.visibility === 'hidden') return false;
    }
    return true;
  };
  // A scroll container between el and the area (exclusive): the element scrolls in its own box.
  const scrollsWithin = (el, area) => {
    for (let a = el.parentElement; a && a !== area; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  for (const area of areas) {
    if (!shown(area)) continue;
    const areaRight = area.getBoundingClientRect().right;
    const pageWidth = document.documentElement.clientWidth;
    if (areaRight > pageWidth + 1)
      problems.push(`${name(area).slice(0, 80)} runs ${Math.round(areaRight - pageWidth)} px ` +
                    'off the right edge of the page');
    for (const img of area.querySelectorAll('img')) {
      if (!shown(img)) continue;
      if (!img.complete || img.naturalWidth === 0) {
        problems.push(`broken image ${name(img)}`);
        continue;
      }
      if (img.classList.contains('course-etl-chart')) {
        const scale = img.getBoundingClientRect().width / (img.naturalWidth / chartDensity);
        if (chartTextPx * scale < minTextPx - 0.01)
          problems.push(`chart shrunk to ${(scale * 100).toFixed(0)}%: its text shows at ` +
                        `${(chartTextPx * scale).toFixed(1)} px ${name(img)}`);
      }
    }
    // A figure a notebook displays (not a panel chart): shown below 85% of its size, its
    // 9.5 pt labels fall under 11 px. A retina image's intended size is its width attribute.
    for (const img of area.querySelectorAll('.jp-RenderedImage img')) {
      if (!shown(img) || !img.naturalWidth) continue;
      const intended = parseFloat(img.getAttribute('width')) || img.naturalWidth;
      const scale = img.getBoundingClientRect().width / intended;
      if (scale < 0.85)
        problems.push(`figure shrunk to ${(scale * 100).toFixed(0)}% of its size: its ` +
                      `labels fall under ${minTextPx} px ${name(img)}`);
    }
    const cut = area.querySelectorAll(
      'button, .widget-label, .widget-label-basic, label, .lm-TabBar-tabLabel, ' +
      '.widget-readout, .widget-html-content > b, h4');
    for (const el of cut) {
      if (!shown(el)) continue;
      if (el.scrollWidth > el.clientWidth + 1 && !scrollsWithin(el, area)
          && getComputedStyle(el).overflowX !== 'auto')
        problems.push(`text cut (${el.scrollWidth} > ${el.clientWidth} px) ${name(el)}`);
    }
    for (const el of area.querySelectorAll('table, img, pre, .jupyter-widgets')) {
      if (!shown(el)) continue;
      const right = el.getBoundingClientRect().right;
      if (right > areaRight + 1 && !scrollsWithin(el, area))
        problems.push(`wider than its output area by ${Math.round(right - areaRight)} px ` +
                      `with no scrollbar ${name(el)}`);
    }
    const walker = document.createTreeWalker(area, NodeFilter.SHOW_TEXT);
    const small = new Set();
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (!node.textContent.trim()) continue;
      const el = node.parentElement;
      if (!el || small.has(el) || ['STYLE', 'SCRIPT', 'OPTION'].includes(el.tagName)) continue;
      if (!shown(el)) continue;
      const px = parseFloat(getComputedStyle(el).fontSize);
      if (px < minTextPx) { small.add(el); problems.push(`${px} px text ${name(el)}`); }
    }
    const text = area.innerText || '';
    if (/<Figure size \\d+x\\d+/.test(text)) problems.push('a figure shown as <Figure …> text');
    const repr = text.match(/\\b(?:[HV]Box|Tab|Panel|\\w+Explorer)\\(children=\\(/);
    if (repr) problems.push(`raw widget repr: ${repr[0]}…`);
    if (/Error displaying widget/.test(text)) problems.push('a widget failed to render');
    // A view that threw while drawing shows ipywidgets' error widget ("Click to show
    // javascript error"), which the text test above does not catch.
    for (const el of area.querySelectorAll('.jupyter-widgets-error-widget'))
      problems.push(`a widget failed to render: ${name(el.parentElement || el)}`);
    for (const el of area.querySelectorAll(
        '[data-mime-type="application/vnd.jupyter.error"], .course-etl-bug'))
      if (shown(el)) problems.push(`error shown: ${name(el)}`);
  }
  return problems;
}
"""

SETTLE_JS = """
([selector, quietMs]) => new Promise(resolve => {
  const root = document.querySelector(selector) || document.body;
  let timer = setTimeout(done, quietMs);
  const observer = new MutationObserver(() => { clearTimeout(timer);
                                                timer = setTimeout(done, quietMs); });
  observer.observe(root, {subtree: true, childList: true, attributes: true,
                          characterData: true});
  function done() { observer.disconnect(); resolve(true); }
})
"""


def audit(page: Page, area_selector: str) -> list[str]:
    """Every layout problem inside the elements matching ``area_selector``."""
    return page.evaluate(AUDIT_JS, [area_selector, MIN_TEXT_PX, CHART_TEXT_PX, CHART_DENSITY])


def settle(page: Page, selector: str = "body", *, quiet_ms: int = 1500) -> None:
    """Wait until nothing under ``selector`` has changed for ``quiet_ms`` (a kernel answer that
    redraws a panel arrives in several messages)."""
    page.evaluate(SETTLE_JS, [selector, quiet_ms])


def click_first_action(panel: Locator) -> bool:
    """The generic "one click": the panel's first primary button that is shown and enabled."""
    buttons = panel.locator("button.mod-primary:visible:enabled")
    if buttons.count() == 0:
        return False
    buttons.first.click()
    return True


def assert_looks_right(page: Page, area_selector: str, state: str) -> None:
    problems = audit(page, area_selector)
    assert not problems, f"{state}: " + "\n  ".join(["layout problems:", *problems])
