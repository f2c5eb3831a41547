"""The layout audit itself: every kind of problem it must catch, on a page made to have it (so a
passing notebook run means "looked right", not "looked at nothing"), and a clean page passes."""

from __future__ import annotations

import pytest
from layout_audit import audit

CLEAN = """
<div class="area" style="width: 600px">
  <div class="course-etl-table" style="overflow-x: auto"><table style="width: 900px">
    <tr><td style="font-size: 13px">a wide table in its own scrolling box</td></tr></table></div>
  <button style="width: 200px; font-size: 13px">Run</button>
  <img class="course-etl-chart" style="width: 300px" src="data:image/png;base64,{png}">
</div>"""
PROBLEMS = {
    "broken image": '<img src="data:image/png;base64,AAAA" style="width: 50px; height: 50px">',
    "text cut": '<button style="width: 40px; overflow: hidden; white-space: nowrap; '
                'font-size: 13px">Reset all demos</button>',
    "wider than its output area": '<table style="width: 900px; font-size: 13px"><tr><td>x'
                                  '</td></tr></table>',
    "9 px text": '<span style="font-size: 9px">tiny</span>',
    "chart shrunk": '<img class="course-etl-chart" style="width: 100px" '
                    'src="data:image/png;base64,{png}">',
    "figure shrunk": '<div class="jp-RenderedImage"><img style="width: 150px" '
                     'src="data:image/png;base64,{png}"></div>',
    "<Figure": '<pre style="font-size: 13px">&lt;Figure size 1300x900 with 4 Axes&gt;</pre>',
    "raw widget repr": '<pre style="font-size: 13px">VBox(children=(HTML(value=\'\'),))</pre>',
    "error shown": '<div class="course-etl-bug" style="font-size: 13px">boom</div>',
    "widget failed to render": '<div><div class="jupyter-widgets-error-widget icon-error" '
                               'style="font-size: 13px">Click to show javascript error.</div>'
                               '</div>',
}


@pytest.fixture(scope="module")
def png() -> str:
    """A 600×100 px PNG: a 300 px wide chart at two device pixels per CSS pixel."""
    import base64
    import io

    from matplotlib.figure import Figure

    buffer = io.BytesIO()
    Figure(figsize=(6, 1), dpi=100).savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def blank(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def test_a_clean_area_passes(blank, png):
    blank.set_content(CLEAN.format(png=png))
    blank.wait_for_load_state()
    assert audit(blank, ".area") == []


@pytest.mark.parametrize("kind", PROBLEMS)
def test_each_kind_of_problem_is_caught(blank, png, kind):
    blank.set_content(f'<div class="area" style="width: 600px; overflow: visible">'
                      f'{PROBLEMS[kind].format(png=png)}</div>')
    blank.wait_for_load_state()
    problems = audit(blank, ".area")
    assert any(kind.split()[0] in p or kind in p for p in problems), problems
