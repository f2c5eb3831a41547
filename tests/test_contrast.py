"""Every text and status colour the course draws meets WCAG 2.1 AA: 4.5:1 for text (3:1 for
large text), on every background it is drawn on. Presenter mode zooms the app (the same colours,
larger), so the same pairs hold there; the browser tests' axe audit checks both modes in the page.

The pairs are read from the modules that use them (status inks, table tints, error box, chart
text on the diagrams' box colours), so a colour changed in one place is checked here."""

from __future__ import annotations

import pytest

from course_etl import style
from course_etl.classroom.widgets import _render, _status
from course_etl.classroom.widgets import loads as loads_widgets
from course_etl.classroom.widgets import monitoring as monitoring_widgets
from course_etl.classroom.widgets import scheduling as scheduling_widgets
from course_etl.classroom.widgets._status import contrast_ratio, status_html
from course_etl.scheduling.pictures import STATE_COLORS

TEXT = 4.5
LARGE_TEXT = 3.0  # 14 pt bold or 18 pt: the diagrams' headings
WHITE = "#FFFFFF"


def test_the_contrast_formula_matches_wcag_examples():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#6d6d6d", "#eeeeee") == pytest.approx(4.45, abs=0.01)  # axe's figure


BACKGROUNDS = {"white panel": WHITE,
               **{f"table tint {k}": v for k, v in loads_widgets.STATUS_COLOURS.items()},
               **{f"state tint {k}": v for k, v in scheduling_widgets._STATE_TINTS.items()}}


@pytest.mark.parametrize("kind", list(_status.KINDS))
@pytest.mark.parametrize("background", list(BACKGROUNDS))
def test_status_ink_reads_on_every_background(kind, background):
    ink = _status.STATUS_INK[kind]
    assert contrast_ratio(ink, BACKGROUNDS[background]) >= TEXT, (kind, background)


@pytest.mark.parametrize("status", list(monitoring_widgets._STATUS_STYLE))
def test_status_cell_colours_read_on_white(status):
    assert contrast_ratio(monitoring_widgets._STATUS_STYLE[status], WHITE) >= TEXT


def test_error_box_reads():
    assert contrast_ratio(_render.ERROR_COLOUR, "#FCEEEE") >= TEXT


def test_a_status_is_a_word_with_an_icon_from_the_font_not_an_emoji():
    import re

    for kind in _status.KINDS:
        markup = status_html("published", "the data passed", kind=kind)
        assert re.search(r'<i class="fa fa-[a-z-]+" aria-hidden="true"></i> <b>published</b>',
                         markup)
        assert not re.search("[\U0001F300-\U0001FAFF\u2600-\u27BF]", markup)
    with pytest.raises(KeyError):
        status_html("x", kind="green")


@pytest.mark.parametrize("group", list(style.COLOR_GROUPS))
def test_chart_text_reads_on_every_category_colour(group):
    # Box labels in the diagrams are text_on(fill) on the category colour (the ids on the blue
    # "copied" squares are white).
    for name, colour in style.COLOR_GROUPS[group].items():
        if group == "row status" and name == "copied":
            assert contrast_ratio(WHITE, colour) >= TEXT, name
        else:
            ratio = contrast_ratio(style.text_on(colour), colour)
            assert ratio >= TEXT, (group, name, round(ratio, 2))


def test_text_on_keeps_ink_where_it_reads_and_turns_black_where_not():
    assert style.text_on("#FFFFFF") == style.INK
    assert style.text_on(style.OKABE_ITO["vermillion"]) == "#000000"


@pytest.mark.parametrize("state", [s for s, c in STATE_COLORS.items() if c != "white"])
def test_dag_box_labels_read(state):
    fill = STATE_COLORS[state]
    assert contrast_ratio(style.text_on(fill), fill) >= TEXT, state


def test_muted_text_reads_on_white_and_on_bands():
    assert contrast_ratio(style.MUTED_INK, WHITE) >= TEXT
    assert contrast_ratio(style.MUTED_INK, style.PANEL) >= TEXT
    assert contrast_ratio(style.INK, style.PANEL) >= TEXT
