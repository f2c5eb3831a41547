"""What the capstone's runs look like afterwards: the run-log dashboard and a table of runs.

:func:`dashboard_figure` draws the capstone's run-log dashboard (rows silver read per run,
seconds per task, every check per run, the volume check's history); :func:`runs_table` lists one
row per run with the run's state, each task's state and tries, and why a failed run failed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import pandas as pd
from matplotlib.figure import Figure

from course_etl.capstone.constants import PIPELINE_NAME
from course_etl.monitoring.dashboards import dashboard_figure as monitoring_dashboard
from course_etl.scheduling import RunReport


def dashboard_figure(conn: sqlite3.Connection) -> Figure:
    """The run-log dashboard of the capstone: rows silver read per run, seconds per task, every
    check per run, and the volume check's history (runs in the order they were executed)."""
    return monitoring_dashboard(conn, pipeline=PIPELINE_NAME, rows_task="silver",
                                anomaly_check="volume_anomaly(orders_received)", dated_axes=True)


def runs_table(reports: Iterable[RunReport]) -> pd.DataFrame:
    """One row per run: logical date, run state, each task's state (tries when > 1) and, for a
    failed run, which task failed with which error (``checks failed: CheckFailedError``; the
    whole message is in the run's ``reason`` and its task table)."""
    rows = []
    for report in reports:
        row = {"logical_date": f"{report.logical_date:%Y-%m-%d %H:%M}", "run": report.state}
        for name, task_report in report.tasks.items():
            tries = f" ({task_report.tries} tries)" if task_report.tries > 1 else ""
            row[name] = task_report.state + tries
        row["reason"] = ": ".join(report.reason.split(": ")[:2])  # task failed: ErrorType
        rows.append(row)
    return pd.DataFrame(rows)
