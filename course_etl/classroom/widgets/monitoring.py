"""Notebook 03's fault-injection panel: pick a fault, run the day, see what monitoring caught.

A thin front end over :func:`course_etl.monitoring.lecture.inject_fault`: a dropdown of faults and a
button; the result shows the run's one-line summary (did the blocking gate hold the bad data
back?), the check table, the alerts and the channel each went to (and what the console channel
printed), and the dashboards redrawn with the new run. The panel's callbacks only use what was
passed in, so pytest drives it by setting the dropdown and calling ``.click()``.
"""

from __future__ import annotations

import html
import io
import sqlite3
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from course_etl.monitoring.dashboards import dashboard_figure
from course_etl.monitoring.lecture import FAULTS, FaultRun, inject_fault

__all__ = ["fault_injection_panel", "fault_run_html", "dashboard_png"]

_STATUS_STYLE = {"pass": "#009E73", "warn": "#B8860B", "fail": "#D55E00",
                 "sent": "#009E73", "throttled": "#555555", "disabled": "#555555",
                 "failed": "#D55E00"}


def _table(frame: pd.DataFrame, status_column: str) -> str:
    if frame.empty:
        return "<p><i>none</i></p>"
    rows = []
    for record in frame.to_dict("records"):
        cells = []
        for column, value in record.items():
            text = html.escape("" if value is None else str(value))
            if column == status_column:
                text = f"<b style='color:{_STATUS_STYLE.get(value, '#222')}'>{text}</b>"
            cells.append(f"<td style='text-align:left;padding:2px 8px'>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{html.escape(c)}</th>"
                   for c in frame.columns)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def fault_run_html(run: FaultRun) -> dict[str, str]:
    """The HTML the panel shows for one experiment: summary, checks and alerts."""
    checks = run.outcome.checks_frame()[["table", "name", "status", "blocking", "observed",
                                         "message"]]
    deliveries = run.outcome.deliveries_frame()[["channel", "status", "subject", "error"]]
    gate = ("🛑 blocking gate held the bad data back" if run.gate_held else
            "✅ data published" if run.outcome.published else "⚠️ nothing published")
    console = html.escape(run.console) or "(nothing printed)"
    return {
        "summary": f"<p><b>{gate}</b><br>{html.escape(run.summary())}</p>",
        "checks": "<h4>Checks</h4>" + _table(checks, "status"),
        "alerts": ("<h4>Alerts, per channel</h4>" + _table(deliveries, "status")
                   + f"<p>console channel printed:</p><pre>{console}</pre>"),
    }


def dashboard_png(conn: sqlite3.Connection) -> bytes:
    """The four-view dashboard of ``conn`` as PNG bytes (for an Image widget)."""
    buffer = io.BytesIO()
    dashboard_figure(conn).savefig(buffer, format="png", dpi=70)
    return buffer.getvalue()


def fault_injection_panel(
    base: sqlite3.Connection, *, alerts_path: str | Path, logical_date: str = "2024-10-15"
) -> widgets.VBox:
    """A panel that runs ``logical_date`` on a copy of ``base`` with the fault picked.

    Children: [HBox(fault dropdown, run button), summary HTML, HBox(checks HTML, alerts HTML),
    dashboard Image]. ``base`` is never modified; every click starts from the same warehouse.
    """
    fault = widgets.Dropdown(options=[(f"{key}: {text}", key) for key, text in FAULTS.items()],
                             value="none", description="fault",
                             layout=widgets.Layout(width="640px"))
    run_button = widgets.Button(description="Run the pipeline", button_style="primary",
                                icon="play")
    summary = widgets.HTML("<p>Pick a fault and run the pipeline.</p>")
    checks = widgets.HTML()
    alerts = widgets.HTML()
    dashboard = widgets.Image(format="png", layout=widgets.Layout(width="900px"))

    def on_run(_button: widgets.Button) -> None:
        run = inject_fault(base, fault.value, logical_date=logical_date, alerts_path=alerts_path)
        try:
            parts = fault_run_html(run)
            summary.value, checks.value, alerts.value = (parts["summary"], parts["checks"],
                                                         parts["alerts"])
            dashboard.value = dashboard_png(run.warehouse)
        finally:
            run.warehouse.close()

    run_button.on_click(on_run)
    return widgets.VBox([widgets.HBox([fault, run_button]), summary,
                         widgets.HBox([checks, alerts]), dashboard])
