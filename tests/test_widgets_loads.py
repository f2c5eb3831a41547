"""Notebook 01's panels, driven the way a student would: set values, click, read the outputs."""

from html_tables import rows_styled, visible_text

from course_etl import connect
from course_etl.classroom.widgets.loads import scale_panel, source_control_panel

TABS = ["warehouse", "diff", "results", "chart"]


def shown(c, page):
    """Pick the page's tab, as a student does (pages are drawn when shown), and read it."""
    c["tabs"].selected_index = TABS.index(page)
    return c[page].value


def test_control_panel_starts_reset():
    panel = source_control_panel(connect(":memory:"), rows=50)
    c = panel.controls
    assert "Reset: a fresh source of 50 rows" in c["status"].value
    assert shown(c, "results") == "<p>No loads yet.</p>"
    assert shown(c, "chart") == "<p>No loads yet.</p>"


def test_apply_then_recipe_shows_the_missed_row():
    panel = source_control_panel(connect(":memory:"), rows=50)
    c = panel.controls
    c["inserts"].value, c["same timestamp"].value = 2, 1
    c["apply"].click()
    assert "2 inserted, 1 same timestamp" in c["status"].value
    c["recipe"].click()
    assert "out of sync: 1 row differs" in visible_text(c["status"].value)
    assert "1 missing in warehouse" in shown(c, "diff")
    c["incremental"].click()
    assert visible_text(c["status"].value).endswith("in sync")
    assert rows_styled(shown(c, "warehouse"), "background-color: #cde8d9") == 3  # new, tinted
    assert "recipe" in shown(c, "results") and "incremental" in shown(c, "results")
    assert len(panel.lab.runs) == 2


def test_lookback_slider_and_reconcile_checkbox_reach_the_load():
    panel = source_control_panel(connect(":memory:"), rows=50)
    c = panel.controls
    c["late-arriving"].value, c["hard deletes"].value = 1, 1
    c["apply"].click()
    c["incremental"].click()
    assert "out of sync: 2 rows differ" in visible_text(c["status"].value)
    c["lookback"].value, c["reconcile"].value = 72, True
    c["incremental"].click()
    assert visible_text(c["status"].value).endswith("in sync")


def test_impossible_change_is_reported_in_place():
    panel = source_control_panel(connect(":memory:"), rows=5)
    c = panel.controls
    c["updates"].value = 20
    c["apply"].click()
    assert "Not applied" in c["status"].value and "5 live rows" in c["status"].value


def test_chart_shows_rows_moved_per_run():
    panel = source_control_panel(connect(":memory:"), rows=30)
    c = panel.controls
    c["full"].click()
    c["inserts"].value = 2
    c["apply"].click()
    c["incremental"].click()
    chart = shown(c, "chart")
    assert "1 · full" in chart and "30 read" in chart and "60 written" in chart
    assert "2 · incremental" in chart and "2 written" in chart


def test_reset_button_forgets_runs():
    panel = source_control_panel(connect(":memory:"), rows=30)
    c = panel.controls
    c["full"].click()
    c["reset"].click()
    assert panel.lab.runs == [] and shown(c, "results") == "<p>No loads yet.</p>"


def test_scale_panel_measures_up_to_the_chosen_size():
    panel = scale_panel(sizes=(1_000, 2_000, 4_000), value=2_000)
    c = panel.controls
    c["measure"].click()
    assert panel.table["source_rows"].tolist() == [1_000, 2_000]
    assert c["progress"].value == c["progress"].max == 6
    assert bytes(c["chart"].value).startswith(b"\x89PNG") and "speedup" in c["table"].value
