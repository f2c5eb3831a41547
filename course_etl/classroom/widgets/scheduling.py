"""Notebook 02's panels: a cron explorer, a DAG run simulator with backfill, and an export view.

Thin front ends over :mod:`course_etl.scheduling`: the cron module validates, describes and
expands; :func:`~course_etl.scheduling.lecture.simulate_run` and
:func:`~course_etl.scheduling.lecture.backfill_demo` run the lecture's pipeline on a simulated
clock; :mod:`~course_etl.scheduling.export` writes the files. What a panel shows lives in widget
values (HTML text, PNG bytes), and each panel keeps its widgets in ``panel.controls``, so a test
can set values, click and read the result.
"""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Callable
from datetime import date, datetime

import ipywidgets as widgets
import pandas as pd

from course_etl.errors import CourseEtlError
from course_etl.scheduling.cron import PRESETS, CronSchedule
from course_etl.scheduling.export import to_airflow, to_crontab, to_dagster
from course_etl.scheduling.lecture import (
    backfill_demo,
    backfill_table,
    customers_pipeline,
    simulate_run,
)
from course_etl.scheduling.pictures import (
    STATE_COLORS,
    dag_figure,
    gantt_figure,
    to_png,
    week_timeline_figure,
)
from course_etl.scheduling.pipeline import Pipeline

__all__ = [
    "TIMEZONES",
    "runs_html",
    "report_html",
    "cron_explorer",
    "run_simulator",
    "export_view",
]

TIMEZONES = ("UTC", "Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata",
             "Asia/Tokyo", "Australia/Sydney")
_CUSTOM = "custom"


def _error_html(error: Exception) -> str:
    return f"<p style='color:#D55E00'>❌ {html.escape(str(error))}</p>"


def runs_html(runs: list[datetime]) -> str:
    """An HTML table of run times: weekday, local time with zone, and UTC."""
    rows = "".join(
        f"<tr><td>{r:%a}</td><td>{r:%Y-%m-%d %H:%M %Z}</td>"
        f"<td>{pd.Timestamp(r).tz_convert('UTC'):%Y-%m-%d %H:%M} UTC</td></tr>"
        for r in runs
    )
    return ("<table><tr><th>day</th><th>local time</th><th>in UTC</th></tr>"
            f"{rows}</table>")


def report_html(table: pd.DataFrame) -> str:
    """A run's state table with each state cell in its DAG colour."""
    header = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for record in table.to_dict("records"):
        cells = []
        for column, value in record.items():
            style = (f" style='background:{STATE_COLORS.get(value, '#fff')}'"
                     if column == "state" else "")
            cells.append(f"<td{style}>{html.escape(str(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr>{header}</tr>{''.join(body)}</table>"


def cron_explorer(*, after: datetime = datetime(2024, 10, 1), runs: int = 6) -> widgets.VBox:
    """Expression box with presets and a time-zone picker → description, next runs, a week.

    ``after`` is where the listed runs start (fixed, so the notebook does not depend on today).
    An invalid expression shows the error in place of the description and clears the rest.
    """
    preset = widgets.Dropdown(options=[*PRESETS, _CUSTOM], value="daily at 02:05 (the lecture)",
                              description="preset")
    expression = widgets.Text(value=PRESETS[preset.value], description="cron",
                              continuous_update=False)
    zone = widgets.Dropdown(options=TIMEZONES, value="UTC", description="time zone")
    description, table = widgets.HTML(), widgets.HTML()
    timeline = widgets.Image(format="png", layout=widgets.Layout(width="100%"))

    def refresh(_change=None) -> None:
        try:
            schedule = CronSchedule(expression.value, zone.value)
        except CourseEtlError as error:
            description.value, table.value, timeline.value = _error_html(error), "", b""
            return
        description.value = (f"<b>{html.escape(schedule.expression)}</b>: "
                             f"{html.escape(schedule.description)} ({zone.value})")
        table.value = runs_html(schedule.next_runs(runs, after=after))
        timeline.value = to_png(week_timeline_figure(schedule, after))

    def pick_preset(change) -> None:
        if change["new"] != _CUSTOM:
            expression.value = PRESETS[change["new"]]  # fires refresh through its observer

    def typed(change) -> None:
        matching = [label for label, expr in PRESETS.items() if expr == change["new"].strip()]
        preset.value = matching[0] if matching else _CUSTOM
        refresh()

    preset.observe(pick_preset, names="value")
    expression.observe(typed, names="value")
    zone.observe(refresh, names="value")
    refresh()
    panel = widgets.VBox([widgets.HBox([preset, expression, zone]), description, table,
                          timeline])
    panel.controls = {"preset": preset, "expression": expression, "timezone": zone,
                      "description": description, "runs": table, "timeline": timeline}
    return panel


def run_simulator(conn: sqlite3.Connection, *, day: date = date(2024, 10, 2)) -> widgets.VBox:
    """Pick a failing task, its failures and the retries → run → DAG, Gantt chart, state table.

    Each run starts from a fresh lecture warehouse on ``conn``; time is simulated. The backfill
    button runs the chosen date range, then re-runs the last day and says whether the warehouse
    stayed the same.
    """
    tasks = customers_pipeline(with_check=True).order
    failing = widgets.Dropdown(options=["(none)", *tasks], value="incremental_load",
                               description="failing task")
    failures = widgets.IntSlider(value=1, min=0, max=4, description="failures")
    retries = widgets.IntSlider(value=1, min=0, max=3, description="retries")
    run_button = widgets.Button(description="Run", button_style="primary", icon="play")
    status, states = widgets.HTML(), widgets.HTML()
    dag = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
    gantt = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
    start = widgets.DatePicker(value=date(2024, 10, 1), description="from")
    end = widgets.DatePicker(value=date(2024, 10, 7), description="to")
    backfill_button = widgets.Button(description="Backfill", icon="history")
    backfill_out = widgets.HTML()

    def run(_button=None) -> None:
        task = None if failing.value == "(none)" else failing.value
        pipeline, report = simulate_run(conn, failing_task=task, failures=failures.value,
                                        retries=retries.value, day=day)
        status.value = f"<b>{html.escape(str(report))}</b>"
        states.value = report_html(report.table())
        dag.value = to_png(dag_figure(pipeline, report))
        gantt.value = to_png(gantt_figure(report))

    def backfill(_button=None) -> None:
        try:
            demo = backfill_demo(conn, start.value, end.value)
        except CourseEtlError as error:
            backfill_out.value = _error_html(error)
            return
        rows = backfill_table(demo.reports)
        verdict = ("✅ same warehouse state: re-running a day is idempotent" if demo.idempotent
                   else "❌ the re-run changed the warehouse")
        backfill_out.value = (f"{report_html(rows)}<p>Re-ran "
                              f"{demo.rerun.logical_date:%Y-%m-%d}: {verdict}</p>")

    run_button.on_click(run)
    backfill_button.on_click(backfill)
    run()
    panel = widgets.VBox([
        widgets.HBox([failing, failures, retries, run_button]), status, states, dag, gantt,
        widgets.HBox([start, end, backfill_button]), backfill_out,
    ])
    panel.controls = {"failing": failing, "failures": failures, "retries": retries,
                      "run": run_button, "status": status, "states": states, "dag": dag,
                      "gantt": gantt, "start": start, "end": end, "backfill": backfill_button,
                      "backfill_result": backfill_out}
    return panel


def _code(text: str) -> widgets.HTML:
    return widgets.HTML(f"<pre style='font-size:11px; line-height:1.3'>{html.escape(text)}</pre>")


def export_view(
    pipeline: Pipeline | Callable[[], Pipeline] = customers_pipeline, *,
    warehouse: str = "/srv/etl/warehouse.db", project_dir: str = "/srv/etl",
    python: str = "/srv/etl/.venv/bin/python",
) -> widgets.Tab:
    """Tabs with the pipeline's crontab entry, Airflow 3 DAG file and Dagster file."""
    pipeline = pipeline() if callable(pipeline) and not isinstance(pipeline, Pipeline) \
        else pipeline
    texts = {
        "crontab": to_crontab(pipeline, warehouse=warehouse, project_dir=project_dir,
                              python=python),
        "Airflow 3": to_airflow(pipeline, warehouse=warehouse),
        "Dagster": to_dagster(pipeline, warehouse=warehouse),
    }
    tab = widgets.Tab(children=[_code(t) for t in texts.values()])
    for index, title in enumerate(texts):
        tab.set_title(index, title)
    tab.controls = dict(zip(texts, tab.children, strict=True))
    return tab
