"""Notebook 06's panel: run the capstone pipeline with the student's own pieces.

Pick the day and the fault, press *Run*: the pipeline runs every day from 2024-10-01 to that day
in a fresh in-memory warehouse, with the fault on the picked day and the student's checks suite
and gold SQL plugged in (:class:`course_etl.capstone.Capstone`). The panel says whether the fault
reached the published report, shows the runs and the run-log dashboard. The logic is
:func:`run_student_pipeline` and :func:`student_run_html`, tested on their own; the panel's
callback only uses what the panel was built with, and shows any error inside the panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from course_etl.capstone import (
    PUBLISHED_RUNS,
    STORY_DAY,
    Capstone,
    Fault,
    capstone_config,
    dashboard_figure,
    runs_table,
)
from course_etl.classroom.widgets._render import (
    Panel,
    chart,
    clear_chart,
    error_box,
    guarded,
    label_style,
    row,
    show_figure,
    status_table,
)
from course_etl.classroom.widgets._status import status_html
from course_etl.db import connect, query, quote_identifier
from course_etl.errors import CourseEtlError

__all__ = ["FAULT_CHOICES", "DAY_CHOICES", "StudentRun", "run_student_pipeline",
           "student_run_html", "capstone_panel"]

FAULT_CHOICES = {
    "none": "no fault",
    "short_feed": "short orders feed (5 orders arrive)",
    "task_error": "silver fails on its first try",
}
DAY_CHOICES = tuple(STORY_DAY + timedelta(days=n) for n in range(1, 8))


@dataclass
class StudentRun:
    """The outcome of one panel run: every day's report and the warehouse they left."""

    day: date
    fault: str
    reports: list
    published: pd.DataFrame
    conn: object

    @property
    def fault_day_published(self) -> bool:
        """Did the picked day reach the report (a row in ``published_runs``)?"""
        return bool((self.published["logical_date"].str[:10] == self.day.isoformat()).any())

    @property
    def blocked_by_checks(self) -> bool:
        """The checks task failed because a blocking check failed (not because it broke)."""
        task = self.reports[-1].tasks["checks"]
        return task.state == "failed" and "blocking check" in task.error

    @property
    def suite_error(self) -> str:
        """Why the checks task broke (a suite that cannot run), or ''."""
        task = self.reports[-1].tasks["checks"]
        return task.error if task.state == "failed" and not self.blocked_by_checks else ""


def run_student_pipeline(day: date | str, fault: str = "short_feed", *, suite: dict | None = None,
                         gold_sql: str | None = None, env: str = "dev",
                         alerts_path: str | Path) -> StudentRun:
    """Run every day from the story's start to ``day`` on a fresh warehouse, ``fault`` on
    ``day``, with the student's ``suite`` and ``gold_sql`` (None: the library's).
    Raises KeyError for an unknown fault, CapstoneError for a day before the story."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    if fault not in FAULT_CHOICES:
        raise KeyError(f"unknown fault {fault!r} (known: {', '.join(FAULT_CHOICES)})")
    Path(alerts_path).unlink(missing_ok=True)
    conn = connect(":memory:")
    capstone = Capstone(conn, capstone_config(env), alerts_path=alerts_path, suite=suite,
                        gold_sql=gold_sql)
    injected = None if fault == "none" else Fault(day, kind=fault)
    reports = capstone.run_days(STORY_DAY, (day - STORY_DAY).days + 1, fault=injected)
    published = query(conn, f"SELECT * FROM {quote_identifier(PUBLISHED_RUNS)} "
                      f"ORDER BY {quote_identifier('logical_date')}") \
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                        (PUBLISHED_RUNS,)).fetchone() else pd.DataFrame(
            columns=["logical_date", "served_rows", "revenue_cents"])
    return StudentRun(day, fault, reports, published, conn)


def student_run_html(run: StudentRun) -> str:
    """The verdict line and the runs table, as HTML."""
    last = run.reports[-1]
    if run.suite_error:
        verdict = status_html("failed", f"your suite could not run: {run.suite_error}",
                              kind="bad")
    elif run.fault == "none":
        verdict = (status_html("published", "a normal day", kind="good")
                   if run.fault_day_published else
                   status_html("not published", f"a normal day (run {last.state}): does your "
                               "suite block good days?", kind="warn"))
    elif run.blocked_by_checks:
        verdict = status_html("held back", "your checks held the fault back: the report keeps "
                              "the day before", kind="held")
    elif run.fault_day_published:
        verdict = status_html("published", "the fault reached the published report: "
                              f"{FAULT_CHOICES[run.fault]} on {run.day}", kind="bad")
    else:
        verdict = status_html(last.state, "the run ended before publishing (not by your "
                              "checks)", kind="held")
    return f"<p>{verdict}</p>" + status_table(runs_table(run.reports))


def capstone_panel(*, suite: dict | None, gold_sql: str | None, alerts_dir: str | Path,
                   env: str = "dev") -> Panel:
    """Pick a day and a fault, run the student's pipeline, see the verdict, runs and dashboard.

    ``.controls``: day, fault, run, result, dashboard.
    """
    grow = widgets.Layout(flex="1 1 auto", width="auto")
    day = widgets.Dropdown(options=[(d.isoformat(), d) for d in DAY_CHOICES],
                           value=DAY_CHOICES[3], description="day", style=label_style(),
                           layout=grow)
    fault = widgets.Dropdown(options=[(text, key) for key, text in FAULT_CHOICES.items()],
                             value="short_feed", description="fault", style=label_style(),
                             layout=grow)
    run_button = widgets.Button(description="Run my pipeline", button_style="primary",
                                icon="play", layout=widgets.Layout(flex="0 0 auto", width="auto"))
    result = widgets.HTML("<p>Pick a day and a fault, then run your pipeline.</p>")
    dashboard = chart()
    alerts_path = Path(alerts_dir) / "panel_alerts.jsonl"

    @guarded(result, before=lambda: clear_chart(dashboard))
    def on_run(_button: widgets.Button) -> None:
        clear_chart(dashboard)
        run = run_student_pipeline(day.value, fault.value, suite=suite, gold_sql=gold_sql,
                                   env=env, alerts_path=alerts_path)
        try:
            result.value = student_run_html(run)
            try:
                show_figure(dashboard, dashboard_figure(run.conn))
            except CourseEtlError as error:  # e.g. no check results to draw yet
                result.value += error_box(error)
        finally:
            run.conn.close()

    run_button.on_click(on_run)
    return Panel([row([day, fault, run_button]), result, dashboard],
                 title="Your capstone pipeline",
                 controls={"day": day, "fault": fault, "run": run_button, "result": result,
                           "dashboard": dashboard})
