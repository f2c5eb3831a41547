"""What ipywidgets does not give a screen reader or a keyboard, added in the page.

ipywidgets 8 ties a text box's or a dropdown's visible label to the control (``<label for>``),
but not a slider's: the slider handle (``role="slider"``) and its editable readout have no
accessible name, and ipywidgets has no trait to give one (jupyter-widgets/ipywidgets#2650).
An ``Image`` widget has no ``alt`` either, only a ``tooltip`` (drawn as ``title``).

:class:`AccessibleNames` is an invisible widget (anywidget: a few lines of JavaScript that run
where the panel renders, in JupyterLab and in Voila alike) that every :class:`Panel` carries.
Once per page it watches the document and, for each widget as it appears:

- names a slider's handle and readout by its visible label (``aria-labelledby``), so a screen
  reader says "inserts, slider, 3" and the name matches what is on screen;
- gives a chart the alt text its figure was drawn with (the ``title`` the panel set from the
  figure's data, see :func:`course_etl.style.alt_text`);
- makes a table or code box that scrolls sideways reachable by Tab (``tabindex="0"``), so a
  keyboard can scroll it (WCAG 2.1.1).

Without JavaScript the course still passes on what matters most: the charts keep their title,
which assistive technology reads as the name.
"""

from __future__ import annotations

import anywidget

__all__ = ["AccessibleNames"]

_ESM = r"""
const KEY = "__courseEtlAccessibleNames";
let counter = 0;

function labelId(label) {
  if (!label.id) label.id = `course-etl-label-${Date.now().toString(36)}-${counter++}`;
  return label.id;
}

function fix(root) {
  for (const slider of root.querySelectorAll(".widget-slider")) {
    const label = slider.querySelector(":scope > label.widget-label");
    if (!label || !label.textContent.trim()) continue;
    const id = labelId(label);
    for (const handle of slider.querySelectorAll("[role='slider']"))
      if (handle.getAttribute("aria-labelledby") !== id) handle.setAttribute("aria-labelledby", id);
    for (const readout of slider.querySelectorAll(".widget-readout")) {
      if (readout.getAttribute("aria-labelledby") === id) continue;
      readout.setAttribute("role", "textbox");
      readout.setAttribute("aria-labelledby", id);
    }
  }
  for (const img of root.querySelectorAll("img.course-etl-chart")) {
    const title = img.getAttribute("title") || "";
    if (img.getAttribute("alt") !== title) img.setAttribute("alt", title);
  }
  for (const box of root.querySelectorAll(".course-etl-table, .course-etl-code pre")) {
    const scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && box.getAttribute("tabindex") !== "0") box.setAttribute("tabindex", "0");
    if (!scrolls && box.hasAttribute("tabindex")) box.removeAttribute("tabindex");
  }
}

export default {
  render({ el }) {
    el.style.display = "none";
    if (window[KEY]) return;
    let pending = false;
    const run = () => {
      pending = false;
      fix(document.body);
    };
    const schedule = () => {
      if (!pending) { pending = true; requestAnimationFrame(run); }
    };
    const observer = new MutationObserver(schedule);
    observer.observe(document.body, { subtree: true, childList: true, attributes: true,
                                      attributeFilter: ["title", "class", "style"] });
    window.addEventListener("resize", schedule);
    window[KEY] = observer;
    schedule();
  },
};
"""


class AccessibleNames(anywidget.AnyWidget):
    """Invisible: names sliders by their labels, gives charts their alt text, and lets the
    keyboard reach boxes that scroll (once per page, for every panel on it)."""

    _esm = _ESM
