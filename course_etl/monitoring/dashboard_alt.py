"""Alt text for the run-log dashboards, read from the same run log the four views draw.

:func:`dashboard_alt` says what a screen-reader user needs from the picture: how many runs over
which dates and how they ended (the run states as the log holds them), the tasks and their
typical duration, which checks did not pass and on which runs, and which runs the anomaly check
flagged. Each of the course's dashboards attaches it with :func:`course_etl.style.set_alt_text`.
"""

from __future__ import annotations

import sqlite3

from course_etl.errors import checked
from course_etl.monitoring.history import check_results_frame, runs_frame, task_runs_frame
from course_etl.style import counted

__all__ = ["dashboard_alt"]

_MOST_LISTED = 6  # past this many dates, a list is summarised ("… and 4 more")


def _dates(dates: list[str]) -> str:
    shown = [str(d)[:10] for d in dates[:_MOST_LISTED]]
    more = len(dates) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


@checked
def dashboard_alt(conn: sqlite3.Connection, *, pipeline: str | None = None,
                  rows_task: str = "load", anomaly_check: str) -> str:
    """One paragraph describing the dashboard of ``pipeline`` (every pipeline when None)."""
    runs = runs_frame(conn)
    if pipeline is not None:
        runs = runs[runs.pipeline == pipeline]
    if runs.empty:
        return "Run-log dashboard: no runs yet."
    ids = set(runs.run_id)
    tasks = task_runs_frame(conn)
    tasks = tasks[tasks.run_id.isin(ids)]
    checks = check_results_frame(conn)
    checks = checks[checks.run_id.isin(ids)]
    dates = runs.logical_date.astype(str)
    text = (f"Run-log dashboard of {len(runs)} runs from {dates.iloc[0][:10]} to "
            f"{dates.iloc[-1][:10]}: {counted(runs.status)}.")
    # As the rows chart: a run whose task read nothing (or never ran) is marked, not a bar.
    values = runs.run_id.map(tasks[tasks.task == rows_task].groupby("run_id")["rows_in"].last())
    rows = values.dropna()
    if not rows.empty:
        text += (f" Rows read by {rows_task} per run: from {int(rows.min())} to "
                 f"{int(rows.max())}, last {int(rows.iloc[-1])}.")
    missing = runs[values.isna().to_numpy()]
    if len(missing):
        text += f" Nothing loaded on {_dates(list(missing.logical_date))}."
    if not tasks.empty:
        median = tasks.groupby("task", sort=False)["seconds"].median()
        text += " Median seconds per task: " + ", ".join(
            f"{task} {seconds:.0f}" for task, seconds in median.items()) + "."
    if not checks.empty:
        bad = checks[checks.status != "pass"]
        text += f" {checks.check_name.nunique()} checks"
        if bad.empty:
            text += " passed on every run."
        else:
            text += "; not passed: " + "; ".join(
                f"{table}.{name} {status} on {_dates(list(group.logical_date))}"
                for (table, name, status), group in bad.groupby(
                    ["table_name", "check_name", "status"], sort=False)) + "."
    if not (checks.check_name == anomaly_check).any():
        return text + f" Anomaly check {anomaly_check}: no results in these runs."
    flagged = checks[(checks.check_name == anomaly_check) & (checks.status != "pass")]
    text += (f" Anomaly check {anomaly_check}: "
             + (f"flagged {_dates(list(flagged.logical_date))}." if len(flagged)
                else "no run flagged."))
    return text
