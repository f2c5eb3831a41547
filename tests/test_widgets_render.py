"""The shared rendering module, and every panel's callbacks failing in front of a class.

Each case breaks one function a panel callback calls (monkeypatched in the panel's module), fires
the callback the way a student does, and asserts that the panel shows the error box with the
injected message and still works once the fault is gone.
"""

from __future__ import annotations

import math
from datetime import date

import ipywidgets as widgets
import pandas as pd
import pytest
from html_tables import table_rows
from matplotlib.figure import Figure

from course_etl import connect
from course_etl.classroom.presentation import PANELS
from course_etl.classroom.widgets import _render
from course_etl.classroom.widgets import config as config_widgets
from course_etl.classroom.widgets import loads as loads_widgets
from course_etl.classroom.widgets import medallion as medallion_widgets
from course_etl.classroom.widgets import monitoring as monitoring_widgets
from course_etl.classroom.widgets import scheduling as scheduling_widgets
from course_etl.errors import CourseEtlError
from course_etl.facts import SCHEDULE
from course_etl.monitoring.lecture import generate_history
from course_etl.sample_data import create_customer_source
from course_etl.style import MissingAltText, set_alt_text

INJECTED = "injected fault 4711"
MIN_CHART_POINTS = 9  # 9 pt at 100 CSS px per inch = 12.5 px: the 12 px floor, with margin


def boom(*_args, **_kwargs):
    raise RuntimeError(INJECTED)


# -- one case per panel callback: (build panel, module to patch, name, fire, where it shows) --

def control_panel():
    return loads_widgets.source_control_panel(connect(":memory:"), rows=20)


def scale():
    return loads_widgets.scale_panel(sizes=(500,), value=500)


def config_panel():
    conn = connect(":memory:")
    create_customer_source(conn, "src_customers", 30, seed=6, progress=False)
    return config_widgets.config_explorer(conn)


def fault_panel(tmp_path):
    base = connect(":memory:")
    generate_history(base, days=8, faults={})
    return monitoring_widgets.fault_injection_panel(base, alerts_path=tmp_path / "a.jsonl")


def set_value(name, value):
    def fire(panel):
        panel.controls[name].value = value
    return fire


def click(name):
    return lambda panel: panel.controls[name].click()


CASES = {
    "01 apply changes": (control_panel, "apply", click("apply"), "status"),
    "01 load": (control_panel, "run", click("incremental"), "status"),
    "01 reset": (control_panel, "reset", click("reset"), "status"),
    "01 measure": (scale, "compare_at_scale", click("measure"), "status"),
    "02 cron": (scheduling_widgets.cron_explorer, "week_timeline_figure",
                set_value("expression", "30 6 * * 1-5"), "description"),
    "02 run": (lambda: scheduling_widgets.run_simulator(connect(":memory:")), "simulate_run",
               click("run"), "status"),
    "02 backfill": (lambda: scheduling_widgets.run_simulator(connect(":memory:")),
                    "backfill_demo", click("backfill"), "backfill_result"),
    "03 fault run": (fault_panel, "inject_fault", click("run"), "summary"),
    "04 run load": (config_panel, "run_logged_load", click("run"), "result"),
    "04 environment": (config_panel, "load_config", set_value("env", "prod"), "config"),
    "05 ingest": (lambda: medallion_widgets.medallion_explorer(connect(":memory:")),
                  "process_new_batches", click("ingest"), "status"),
    "05 rebuild": (lambda: medallion_widgets.medallion_explorer(connect(":memory:")),
                   "rebuild_from_bronze", click("rebuild"), "status"),
}
MODULES = {"01": loads_widgets, "02": scheduling_widgets, "03": monitoring_widgets,
           "04": config_widgets, "05": medallion_widgets}
LAB_METHODS = {"apply": "apply_changes", "run": "run", "reset": "reset"}


@pytest.mark.parametrize("case", CASES)
def test_a_failing_callback_shows_the_error_in_the_panel_and_the_panel_recovers(
        case, monkeypatch, tmp_path, caplog):
    build, target, fire, shown_in = CASES[case]
    panel = build(tmp_path) if build is fault_panel else build()
    with monkeypatch.context() as patch:
        if case.startswith("01") and target in LAB_METHODS:
            patch.setattr(panel.lab, LAB_METHODS[target], boom)
        else:
            patch.setattr(MODULES[case[:2]], target, boom)
        fire(panel)
        shown = panel.controls[shown_in].value
        assert INJECTED in shown and "course-etl-error" in shown
        assert "What to do" in shown, "the box says what to do next"
        assert INJECTED in caplog.text, "the traceback goes to the log for the instructor"
    if case == "04 environment":
        panel.controls["env"].value = "dev"
    elif case == "02 cron":
        panel.controls["expression"].value = "30 6 * * *"
    else:
        fire(panel)  # the fault is gone: the same action works again
    assert INJECTED not in panel.controls[shown_in].value


def test_every_button_of_every_panel_runs_inside_the_guard():
    for title, factory in PANELS.items():
        panel = factory()
        for button in (w for w in walk(panel) if isinstance(w, widgets.Button)):
            for callback in button._click_handlers.callbacks:
                assert getattr(callback, "course_etl_guarded", False), (
                    f"{title}: the {button.description!r} button's callback is not guarded")


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def test_guard_keeps_course_errors_as_they_are():
    out = widgets.HTML()
    _render.guarded(out)(lambda: (_ for _ in ()).throw(
        CourseEtlError("unknown table 'x': create it first")))()
    assert "unknown table &#x27;x&#x27;: create it first" in out.value
    assert "RuntimeError" not in out.value


def test_chart_is_hidden_until_it_holds_a_picture():
    image = _render.chart()
    assert image.layout.display == "none" and image.value == b""
    figure = Figure(figsize=(6, 2))
    figure.subplots().plot([1, 2])
    with pytest.raises(MissingAltText, match="no alt text"):
        _render.show_figure(image, figure)  # a chart must say what it shows
    _render.show_figure(image, set_alt_text(figure, "a line rising from 1 to 2"))
    assert image.tooltip == "a line rising from 1 to 2"  # its name (title, then alt)
    assert image.value[:4] == b"\x89PNG" and image.layout.display is None
    assert image.layout.width == "600px"  # its CSS size; the PNG holds twice the pixels
    width = int.from_bytes(bytes(image.value[16:20]), "big")
    assert width == 600 * _render.CHART_DPI // _render.CSS_PX_PER_INCH
    _render.clear_chart(image)
    assert image.layout.display == "none" and image.value == b"" and image.tooltip is None


def test_status_table_pads_tints_and_scrolls_in_its_own_box():
    frame = pd.DataFrame({"id": [1, 2], "status": ["new", "old"], "n": [1.0, math.nan]})
    out = _render.status_table(frame, status_column="status", colours={"new": "#abcdef"},
                               na_rep="?")
    assert out.startswith('<div class="course-etl-table">')
    assert table_rows(out) == [("id", "status", "n"), ("1", "new", "1"),
                               ("2", "old", "?")]
    assert "background-color: #abcdef" in out and "<table" in out
    assert "padding" in _render.PANEL_CSS and "overflow-x: auto" in _render.PANEL_CSS
    assert _render.status_table(frame.iloc[:0]) == "<p><i>none</i></p>"


def test_panels_read_as_a_sentence_before_their_cell_runs():
    panel = loads_widgets.scale_panel()
    assert repr(panel).startswith("Scale-up comparison (notebook 01): run this cell")
    bundle = panel._repr_mimebundle_()
    assert "VBox" not in bundle["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in bundle


@pytest.mark.parametrize(("ratio", "label"), [
    (0.75, "1.3× slower"), (1.0, "about the same"), (1.5, "1.5× faster"), (42.4, "42× faster"),
    (math.nan, "no measurable time")])
def test_speedup_labels_never_call_a_slow_down_faster(ratio, label):
    assert loads_widgets.speedup_label(ratio) == label


def test_one_row_differs():
    assert loads_widgets.rows_differ(1) == "1 row differs"
    assert loads_widgets.rows_differ(3) == "3 rows differ"


def font_sizes(figure: Figure) -> list[float]:
    figure.canvas.draw()  # tick labels exist only once drawn
    return [text.get_fontsize() for text in figure.findobj(
        lambda artist: hasattr(artist, "get_fontsize") and hasattr(artist, "get_text"))
        if text.get_text().strip() and text.get_visible()]


def panel_figures(tmp_path):
    from course_etl.loads.lab import compare_at_scale
    from course_etl.medallion.charts import gold_figure
    from course_etl.medallion.lineage import layer_flow_figure
    from course_etl.scheduling.cron import CronSchedule
    from course_etl.scheduling.lecture import simulate_run
    from course_etl.scheduling.pictures import dag_figure, gantt_figure, week_timeline_figure

    yield "scale", loads_widgets.scale_chart_figure(compare_at_scale([300, 600],
                                                                     progress=False))
    pipeline, report = simulate_run(connect(":memory:"), failing_task="incremental_load",
                                    failures=2, retries=1, day=date(2024, 10, 2))
    yield "dag", dag_figure(pipeline, report)
    yield "gantt", gantt_figure(report)
    yield "week", week_timeline_figure(CronSchedule(SCHEDULE.cron), pd.Timestamp(
        "2024-10-01").to_pydatetime())
    base = connect(":memory:")
    generate_history(base, days=14, faults={})
    yield "dashboard", monitoring_widgets.panel_dashboard_figure(base)
    explorer = medallion_widgets.medallion_explorer(connect(":memory:"), seed=7)
    explorer.ingest()
    yield "layer flow", layer_flow_figure(explorer.conn)
    yield "gold", gold_figure(explorer.conn)


def test_every_panel_chart_has_text_of_at_least_12_px_at_its_shown_size(tmp_path):
    for name, figure in panel_figures(tmp_path):
        smallest = min(font_sizes(figure))
        assert smallest >= MIN_CHART_POINTS, f"{name}: {smallest} pt text"
        assert figure.get_figwidth() * _render.CSS_PX_PER_INCH <= 1100, (
            f"{name} is wider than a laptop's output area")


# Controls a reader operates: each must have a visible label that names it (its description, or
# a button's text), which the page ties to the control (ipywidgets for inputs and lists, the
# AccessibleNames helper for sliders).
NAMED_CONTROLS = (widgets.Button, widgets.ToggleButton, widgets.Checkbox, widgets.Text,
                  widgets.Textarea, widgets.Dropdown, widgets.IntText, widgets.FloatText,
                  widgets.DatePicker, widgets.IntSlider, widgets.FloatSlider,
                  widgets.SelectionSlider)


@pytest.mark.parametrize("title", list(PANELS))
def test_every_control_has_a_visible_name_and_every_panel_the_helper(title):
    from course_etl.classroom.widgets._a11y import AccessibleNames

    panel = PANELS[title]()
    parts = list(walk(panel))
    helpers = [w for w in parts if isinstance(w, AccessibleNames)]
    assert helpers, f"{title}: no AccessibleNames helper (sliders would have no name)"
    unnamed = [type(w).__name__ for w in parts
               if isinstance(w, NAMED_CONTROLS) and not (w.description or "").strip()]
    assert not unnamed, f"{title}: controls with no visible name: {unnamed}"
    charts = [w for w in parts if isinstance(w, widgets.Image)]
    assert all(isinstance(c, _render.ChartImage) for c in charts), (
        f"{title}: a plain Image cannot carry its alt text as a tooltip (ipywidgets#3860)")
    for chart in charts:
        if chart.value:
            assert chart.tooltip, f"{title}: a chart is shown without its alt text"


def test_numbers_in_a_mixed_column_are_rounded_and_text_stays_escaped():
    import re

    import pandas as pd

    from course_etl.classroom.widgets._render import status_table

    table = status_table(pd.DataFrame({"observed": ["4h 7m", 26.300000001, 33, None],
                                       "note": ["<b>", "a", None, "c"]}), na_rep="?")
    assert re.findall(r"<td[^>]*>([^<]*)</td>", table) == [
        "4h 7m", "&lt;b&gt;", "26.3", "a", "33", "?", "?", "c"]
