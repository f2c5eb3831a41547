"""Presentation mode: every widget panel of the course in one app, for live demos with Voila.

:func:`demo_app` builds a tab per panel from the :data:`PANELS` registry, a *Reset all demos*
button that rebuilds every panel from its factory (so each one is back at the lecture's starting
point, with fresh data), and a *Presenter* toggle that enlarges fonts and tables for a projector.
:func:`serve` writes a one-cell notebook that shows the app and serves it with Voila on
127.0.0.1, code hidden. ``make present`` and ``python -m course_etl present`` call it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets

from course_etl.classroom.widgets._render import guarded
from course_etl.errors import CourseEtlError
from course_etl.facts import TABLES

__all__ = ["PANELS", "PRESENTER_CSS", "PRESENTER_ZOOM", "PresentationError", "demo_app",
           "app_notebook", "serve"]


class PresentationError(CourseEtlError):
    """The demo app cannot be served as asked (``.port``)."""


def _loads_panel() -> widgets.Widget:
    from course_etl.classroom.widgets.loads import source_control_panel
    from course_etl.db import connect

    return source_control_panel(connect(":memory:"), rows=200, seed=7)


def _scale_panel() -> widgets.Widget:
    from course_etl.classroom.widgets.loads import scale_panel

    return scale_panel()


def _config_panel() -> widgets.Widget:
    from course_etl.classroom.widgets.config import config_explorer
    from course_etl.db import connect
    from course_etl.sample_data import create_customer_source

    conn = connect(":memory:")
    create_customer_source(conn, TABLES.source, 200, seed=6, progress=False)
    return config_explorer(conn, env="dev")


def _cron_panel() -> widgets.Widget:
    from course_etl.classroom.widgets.scheduling import cron_explorer

    return cron_explorer()


def _dag_panel() -> widgets.Widget:
    from course_etl.classroom.widgets.scheduling import export_view, run_simulator
    from course_etl.db import connect

    return widgets.VBox([run_simulator(connect(":memory:")), export_view()],
                        layout=widgets.Layout(width="100%"))


def _monitoring_panel() -> widgets.Widget:
    from course_etl.classroom.widgets.monitoring import fault_injection_panel
    from course_etl.db import connect
    from course_etl.monitoring.lecture import generate_history

    base = connect(":memory:")
    generate_history(base, days=14, faults={})
    alerts = Path(tempfile.mkdtemp(prefix="course_etl_alerts_")) / "alerts.jsonl"
    return fault_injection_panel(base, alerts_path=alerts)


def _medallion_panel() -> widgets.Widget:
    from course_etl.classroom.widgets.medallion import medallion_explorer
    from course_etl.db import connect

    return medallion_explorer(connect(":memory:"), seed=7)


# Title -> factory. A factory builds its panel from scratch: new connection, the lecture's data.
PANELS: dict[str, Callable[[], widgets.Widget]] = {
    "Full vs incremental": _loads_panel,
    "Scale it up": _scale_panel,
    "Cron": _cron_panel,
    "DAG runs & export": _dag_panel,
    "Monitoring": _monitoring_panel,
    "Parameterization": _config_panel,
    "Medallion": _medallion_panel,
}

# Presenter mode zooms the whole app: fonts, widths, paddings and charts grow together, so a
# label never outgrows its box (enlarging fonts alone cut "Reset all de…"). The app's tab titles
# size to their text instead of ipywidgets' fixed 144 px. Inactive tab titles take the theme's main
# text colour (ipywidgets' grey on grey is 4.45:1, under WCAG AA's 4.5:1), and whatever has the
# keyboard focus gets a ring that a projector shows.
PRESENTER_ZOOM = 1.4
PRESENTER_CSS = f"""<style>
.course-etl-app {{ width: 100%; }}
.course-etl-app .jupyter-widgets.jupyter-widget-tab > .lm-TabBar .lm-TabBar-tab {{
  flex: 0 0 auto !important; }}
.course-etl-app.presenter {{ zoom: {PRESENTER_ZOOM}; }}
.course-etl-app .lm-TabBar-tab, .course-etl-app .lm-TabBar-tabLabel {{
  color: var(--jp-ui-font-color1, #222) !important; }}
.course-etl-app :focus-visible {{ outline: 3px solid #1a5fb4 !important; outline-offset: 1px; }}
</style>"""


def demo_app(*, presenter: bool = False) -> widgets.VBox:
    """All panels in tabs, with *Reset all demos* and a *Presenter* toggle.

    The returned box carries ``.tabs`` and ``.controls`` (``reset``, ``presenter``) for tests.
    """
    titles = list(PANELS)
    tabs = widgets.Tab(children=[PANELS[title]() for title in titles])
    for index, title in enumerate(titles):
        tabs.set_title(index, title)
    # The default style, not "warning": white on ipywidgets' orange is 2.7:1.
    reset = widgets.Button(description="Reset all demos", icon="undo",
                           layout=widgets.Layout(width="auto"))
    toggle = widgets.ToggleButton(value=presenter, description="Presenter", icon="desktop",
                                  layout=widgets.Layout(width="auto"))
    status = widgets.HTML()
    app = widgets.VBox([widgets.HTML(PRESENTER_CSS),
                        widgets.HBox([reset, toggle, status]), tabs])
    app.add_class("course-etl-app")

    @guarded(status)
    def on_reset(_button) -> None:
        selected = tabs.selected_index
        tabs.children = [PANELS[title]() for title in titles]
        for index, title in enumerate(titles):
            tabs.set_title(index, title)
        tabs.selected_index = selected
        status.value = "Every demo is back at the lecture's starting point."

    def on_toggle(change) -> None:
        if change["new"]:
            app.add_class("presenter")
        else:
            app.remove_class("presenter")

    reset.on_click(on_reset)
    toggle.observe(on_toggle, names="value")
    on_toggle({"new": presenter})
    app.tabs = tabs
    app.controls = {"reset": reset, "presenter": toggle, "status": status}
    return app


def app_notebook(folder: Path, *, presenter: bool = False) -> Path:
    """Write the one-cell notebook Voila serves; returns its path."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "from course_etl.classroom.presentation import demo_app\n"
        f"demo_app(presenter={presenter!r})")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = Path(folder) / "course_etl_demos.ipynb"
    nbformat.write(notebook, path)
    return path


def voila_command(notebook: Path, port: int) -> list[str]:
    """The Voila command line: 127.0.0.1 only, no browser, code hidden (Voila's default)."""
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser",
            f"--port={port}", "--Voila.ip=127.0.0.1", "--strip_sources=True"]


def serve(*, port: int = 8866, presenter: bool = False) -> int:
    """Serve the demo app with Voila until interrupted; returns Voila's exit code.

    Ctrl-C, SIGTERM and SIGHUP are passed on to Voila and waited for, so no server keeps running
    and the temporary folder holding the app notebook is always removed. Raises
    PresentationError for a port outside 1–65535.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise PresentationError(f"port {port!r} is not a TCP port: use 1 to 65535 (e.g. 8866)",
                                port=port)
    with tempfile.TemporaryDirectory(prefix="course_etl_present_") as folder:
        notebook = app_notebook(Path(folder), presenter=presenter)
        print(f"Serving the demos on http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        process = subprocess.Popen(voila_command(notebook, port))

        def forward(signum: int, _frame: object) -> None:
            process.send_signal(signum)

        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGHUP)}
        try:
            return process.wait()
        except KeyboardInterrupt:  # the terminal sent SIGINT to Voila too; wait for it to stop
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
