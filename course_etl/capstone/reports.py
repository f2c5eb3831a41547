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
from course_etl.monitoring.dashboard_alt import dashboard_alt
from course_etl.monitoring.dashboards import (
    plot_anomaly,
    plot_check_heatmap,
    plot_duration_per_task,
    plot_rows_per_run,
)
from course_etl.monitoring.history import runs_frame
from course_etl.scheduling import RunReport
from course_etl.style import set_alt_text


def dashboard_figure(conn: sqlite3.Connection) -> Figure:
    """The run-log dashboard of the capstone: rows silver read per run, seconds per task, every
    check per run, and the volume check's history (runs in the order they were executed)."""
    # 11 inches = 1,100 px: shown unshrunk on a laptop, so its labels stay above 12 px.
    figure = Figure(figsize=(11, 8), dpi=100, layout="constrained")
    (rows_ax, duration_ax), (heatmap_ax, anomaly_ax) = figure.subplots(2, 2)
    plot_rows_per_run(rows_ax, conn, task="silver", pipeline=PIPELINE_NAME)
    plot_duration_per_task(duration_ax, conn, pipeline=PIPELINE_NAME)
    plot_check_heatmap(heatmap_ax, conn, pipeline=PIPELINE_NAME)
    plot_anomaly(anomaly_ax, conn, check="volume_anomaly(orders_received)",
                 pipeline=PIPELINE_NAME)
    for ax in (rows_ax, duration_ax):  # headroom on the log scale, so legends cover no data
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 4)
    for ax in (rows_ax, duration_ax, anomaly_ax):  # the heatmap's legend sits below its labels
        for label in ax.get_xticklabels():  # full logical dates: slant them so none overlap
            label.set(rotation=30, horizontalalignment="right")
    runs = runs_frame(conn)
    runs = runs[runs.pipeline == PIPELINE_NAME]
    counts = runs.status.value_counts()
    figure.suptitle(f"{PIPELINE_NAME}: {len(runs)} runs in the run log ("
                    + ", ".join(f"{n} {status}" for status, n in counts.items()) + ")",
                    fontsize=13)
    return set_alt_text(figure, dashboard_alt(conn, pipeline=PIPELINE_NAME, rows_task="silver",
                                              anomaly_check="volume_anomaly(orders_received)"))


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
