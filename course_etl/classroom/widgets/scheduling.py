"""Notebook 02's panels: a cron explorer, a DAG run simulator with backfill, and an export view.

Thin front ends over :mod:`course_etl.scheduling`: the cron module validates, describes and
expands; :func:`~course_etl.scheduling.lecture.simulate_run` and
:func:`~course_etl.scheduling.lecture.backfill_demo` run the lecture's pipeline on a simulated
clock; :mod:`~course_etl.scheduling.export` writes the files. What a panel shows lives in widget
values (HTML text, PNG bytes), and each panel keeps its widgets in ``panel.controls``, so a test
can set values, click and read the result. Tables, charts, errors and the callback guard come from
the shared :mod:`._render` module.
"""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, time

import ipywidgets as widgets
import pandas as pd

from course_etl.classroom.widgets._render import (
    Panel,
    chart,
    clear_chart,
    code_html,
    error_box,
    guarded,
    label_style,
    row,
    show_figure,
    status_table,
)
from course_etl.classroom.widgets._status import status_html
from course_etl.errors import CourseEtlError
from course_etl.facts import SCHEDULE
from course_etl.scheduling.cron import LECTURE_PRESET, PRESETS, CronSchedule
from course_etl.scheduling.export import to_airflow, to_crontab, to_dagster
from course_etl.scheduling.lecture import (
    backfill_demo,
    backfill_table,
    customers_pipeline,
    simulate_run,
)
from course_etl.scheduling.pictures import (
    dag_figure,
    gantt_figure,
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


# Light tints of the DAG colours behind a state cell's text (the saturated colours are for the
# pictures; text on them would be hard to read).
_STATE_TINTS = {"success": "#cde8d9", "failed": "#f3d5c6", "up_for_retry": "#faf6c8",
                "upstream_failed": "#f8e6c2", "skipped": "#f3dbe8", "not run": "#ffffff"}


def runs_html(runs: list[datetime]) -> str:
    """A table of run times: weekday, local time with zone, and UTC."""
    frame = pd.DataFrame({
        "day": [f"{r:%a}" for r in runs],
        "local time": [f"{r:%Y-%m-%d %H:%M %Z}" for r in runs],
        "in UTC": [f"{pd.Timestamp(r).tz_convert('UTC'):%Y-%m-%d %H:%M} UTC" for r in runs],
    })
    return status_table(frame)


def report_html(table: pd.DataFrame) -> str:
    """A run's state table with each row tinted by its state."""
    return status_table(table, status_column="state", colours=_STATE_TINTS,
                        wrap=[c for c in table.columns if c in ("error", "message")])


_STORY_START = datetime.combine(SCHEDULE.start_date, time.min)  # where listed runs begin


def cron_explorer(*, after: datetime = _STORY_START, runs: int = 6) -> Panel:
    """Expression box with presets and a time-zone picker → description, next runs, a week.

    ``after`` is where the listed runs start (fixed, so the notebook does not depend on today).
    An invalid expression shows the error in place of the description and clears the rest.
    """
    preset = widgets.Dropdown(options=[*PRESETS, _CUSTOM], value=LECTURE_PRESET,
                              description="preset", style=label_style())
    expression = widgets.Text(value=PRESETS[preset.value], description="cron",
                              continuous_update=False, style=label_style())
    zone = widgets.Dropdown(options=TIMEZONES, value="UTC", description="time zone",
                            style=label_style())
    description, table = widgets.HTML(), widgets.HTML()
    timeline = chart()

    @guarded(description)
    def refresh(_change=None) -> None:
        try:
            schedule = CronSchedule(expression.value, zone.value)
        except CourseEtlError as error:
            description.value, table.value = error_box(error), ""
            clear_chart(timeline)
            return
        description.value = (f"<b>{html.escape(schedule.expression)}</b>: "
                             f"{html.escape(schedule.description)} ({zone.value})")
        table.value = runs_html(schedule.next_runs(runs, after=after))
        show_figure(timeline, week_timeline_figure(schedule, after))

    @guarded(description)
    def pick_preset(change) -> None:
        if change["new"] != _CUSTOM:
            expression.value = PRESETS[change["new"]]  # fires refresh through its observer

    @guarded(description)
    def typed(change) -> None:
        matching = [label for label, expr in PRESETS.items() if expr == change["new"].strip()]
        preset.value = matching[0] if matching else _CUSTOM
        refresh()

    preset.observe(pick_preset, names="value")
    expression.observe(typed, names="value")
    zone.observe(refresh, names="value")
    refresh()
    return Panel([row([preset, expression, zone]), description, table, timeline],
                 title="Cron explorer (notebook 02)",
                 controls={"preset": preset, "expression": expression, "timezone": zone,
                           "description": description, "runs": table, "timeline": timeline})


def run_simulator(conn: sqlite3.Connection, *, day: date = date(2024, 10, 2)) -> Panel:
    """Pick a failing task, its failures and the retries → run → DAG, Gantt chart, state table.

    Each run starts from a fresh lecture warehouse on ``conn``; time is simulated. The backfill
    button runs the chosen date range, then re-runs the last day and says whether the warehouse
    stayed the same.
    """
    tasks = customers_pipeline(with_check=True).order
    failing = widgets.Dropdown(options=["(none)", *tasks], value="incremental_load",
                               description="failing task", style=label_style())
    failures = widgets.IntSlider(value=1, min=0, max=4, description="failures",
                                 style=label_style())
    retries = widgets.IntSlider(value=1, min=0, max=3, description="retries",
                                style=label_style())
    run_button = widgets.Button(description="Run", button_style="primary", icon="play",
                                layout=widgets.Layout(width="auto"))
    status, states = widgets.HTML(), widgets.HTML()
    dag, gantt = chart(), chart()
    start = widgets.DatePicker(value=date(2024, 10, 1), description="from", style=label_style())
    end = widgets.DatePicker(value=date(2024, 10, 7), description="to", style=label_style())
    backfill_button = widgets.Button(description="Backfill", icon="history",
                                     layout=widgets.Layout(width="auto"))
    backfill_out = widgets.HTML()

    @guarded(status)
    def run(_button=None) -> None:
        task = None if failing.value == "(none)" else failing.value
        pipeline, report = simulate_run(conn, failing_task=task, failures=failures.value,
                                        retries=retries.value, day=day)
        status.value = f"<b>{html.escape(str(report))}</b>"
        states.value = report_html(report.table())
        show_figure(dag, dag_figure(pipeline, report))
        show_figure(gantt, gantt_figure(report))

    @guarded(backfill_out)
    def backfill(_button=None) -> None:
        try:
            demo = backfill_demo(conn, start.value, end.value)
        except CourseEtlError as error:
            backfill_out.value = error_box(error)
            return
        rows = backfill_table(demo.reports)
        verdict = (status_html("idempotent", "same warehouse state after re-running the day",
                               kind="good") if demo.idempotent else
                   status_html("not idempotent", "the re-run changed the warehouse", kind="bad"))
        backfill_out.value = (f"{report_html(rows)}<p>Re-ran "
                              f"{demo.rerun.logical_date:%Y-%m-%d}: {verdict}</p>")

    run_button.on_click(run)
    backfill_button.on_click(backfill)
    run()
    return Panel([
        row([failing, failures, retries, run_button]), status, states,
        row([dag, gantt], align_items="flex-start"),
        row([start, end, backfill_button]), backfill_out,
    ], title="DAG run simulator (notebook 02)",
        controls={"failing": failing, "failures": failures, "retries": retries,
                  "run": run_button, "status": status, "states": states, "dag": dag,
                  "gantt": gantt, "start": start, "end": end, "backfill": backfill_button,
                  "backfill_result": backfill_out})


def _code(text: str) -> widgets.HTML:
    return widgets.HTML(code_html(text))


def export_view(
    pipeline: Pipeline | Callable[[], Pipeline] = customers_pipeline, *,
    warehouse: str = "/srv/etl/warehouse.db", project_dir: str = "/srv/etl",
    python: str = "/srv/etl/.venv/bin/python",
) -> Panel:
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
    return Panel([tab], title="Export view (notebook 02)",
                 controls=dict(zip(texts, tab.children, strict=True)))
