"""Notebook 03's fault-injection panel: pick a fault, run the day, see what monitoring caught.

A thin front end over :func:`course_etl.monitoring.lecture.inject_fault`: a dropdown of faults and a
button; the result shows the run's one-line summary (did the blocking gate hold the bad data
back?), the check table, the alerts and the channel each went to (and what the console channel
printed), and the dashboards redrawn with the new run. The panel's callbacks only use what was
passed in, so pytest drives it by setting the dropdown and calling ``.click()``.
"""

from __future__ import annotations

import html
import sqlite3
from pathlib import Path

import ipywidgets as widgets
from matplotlib.figure import Figure

from course_etl.classroom.widgets._render import (
    Panel,
    chart,
    guarded,
    label_style,
    row,
    show_figure,
    status_table,
)
from course_etl.classroom.widgets._status import status_html
from course_etl.monitoring.dashboards import dashboard_figure
from course_etl.monitoring.lecture import FAULTS, FaultRun, inject_fault

__all__ = ["fault_injection_panel", "fault_run_html", "panel_dashboard_figure"]

_STATUS_STYLE = {"pass": "#007A59", "warn": "#8A6500", "fail": "#B3261E",
                 "sent": "#007A59", "throttled": "#555555", "disabled": "#555555",
                 "failed": "#B3261E"}


def fault_run_html(run: FaultRun) -> dict[str, str]:
    """The HTML the panel shows for one experiment: summary, checks and alerts."""
    checks = run.outcome.checks_frame()[["table", "name", "status", "blocking", "observed",
                                         "message"]]
    deliveries = run.outcome.deliveries_frame()[["channel", "status", "subject", "error"]]
    gate = (status_html("held back", "a blocking gate held the bad data back", kind="held")
            if run.gate_held else
            status_html("published", "the data passed every blocking check", kind="good")
            if run.outcome.published else status_html("not published", kind="warn"))
    console = html.escape(run.console) or "(nothing printed)"
    return {
        "summary": f"<p>{gate}<br>{html.escape(run.summary())}</p>",
        "checks": status_table(checks, status_column="status", colours=_STATUS_STYLE,
                               tint="cell", wrap=["message"], caption="Checks"),
        "alerts": (status_table(deliveries, status_column="status", colours=_STATUS_STYLE,
                                tint="cell", wrap=["subject", "error"],
                                caption="Alerts, per channel")
                   + "<p>console channel printed:</p>"
                   + f'<div class="course-etl-code"><pre>{console}</pre></div>'),
    }


def panel_dashboard_figure(conn: sqlite3.Connection) -> Figure:
    """The four-view dashboard of ``conn`` (11 inches wide: fits a laptop's output area)."""
    return dashboard_figure(conn)


def fault_injection_panel(
    base: sqlite3.Connection, *, alerts_path: str | Path, logical_date: str = "2024-10-15"
) -> Panel:
    """A panel that runs ``logical_date`` on a copy of ``base`` with the fault picked.

    ``.controls``: fault, run, summary, checks, alerts, dashboard. ``base`` is never modified;
    every click starts from the same warehouse.
    """
    fault = widgets.Dropdown(options=[(f"{key}: {text}", key) for key, text in FAULTS.items()],
                             value="none", description="fault", style=label_style(),
                             layout=widgets.Layout(width="auto", max_width="100%"))
    run_button = widgets.Button(description="Run the pipeline", button_style="primary",
                                icon="play", layout=widgets.Layout(width="auto"))
    summary = widgets.HTML("<p>Pick a fault and run the pipeline.</p>")
    checks = widgets.HTML()
    alerts = widgets.HTML()
    dashboard = chart()

    @guarded(summary)
    def on_run(_button: widgets.Button) -> None:
        run = inject_fault(base, fault.value, logical_date=logical_date, alerts_path=alerts_path)
        try:
            parts = fault_run_html(run)
            summary.value, checks.value, alerts.value = (parts["summary"], parts["checks"],
                                                         parts["alerts"])
            show_figure(dashboard, panel_dashboard_figure(run.warehouse))
        finally:
            run.warehouse.close()

    run_button.on_click(on_run)
    # Checks above alerts: side by side, both tables were squeezed to a word per line.
    return Panel([row([fault, run_button]), summary, checks, alerts, dashboard],
                 title="Fault-injection panel (notebook 03)",
                 controls={"fault": fault, "run": run_button, "summary": summary,
                           "checks": checks, "alerts": alerts, "dashboard": dashboard})
