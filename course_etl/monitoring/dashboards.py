"""Monitoring dashboards drawn from the run log: what Airflow's and Dagster's UIs show, in a cell.

Four views, each a function that draws on a matplotlib Axes from the run log of ``conn``:
rows loaded per run (bars coloured by the run's state, Airflow's words), duration per
task (log scale, so a 9-minute outlier and a 1-second task fit one chart), a check-status heatmap
over runs (pass / warn / fail / not run) and an anomaly chart that draws a metric with the
range its history predicts and marks the runs the check flagged. :func:`dashboard_figure` puts
the four on one figure. Figures are built without pyplot (no global state, headless-safe) and use
the course's colour-blind safe palette.
"""

from __future__ import annotations

import re
import sqlite3

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from course_etl.errors import CourseEtlError, checked
from course_etl.monitoring.checks import MAD_SCALE
from course_etl.monitoring.dashboard_alt import dashboard_alt
from course_etl.monitoring.history import check_results_frame, runs_frame, task_runs_frame
from course_etl.states import RunState, TaskState
from course_etl.style import (
    CHECK_COLORS,
    FONT_SMALL,
    NEUTRAL_GREY,
    OKABE_ITO,
    TASK_STATE_COLORS,
    set_alt_text,
)

__all__ = [
    "RUN_STATUS_COLORS",
    "DashboardError",
    "plot_rows_per_run",
    "plot_duration_per_task",
    "plot_check_heatmap",
    "plot_anomaly",
    "dashboard_figure",
]

RUN_STATUS_COLORS = {  # a run held back by a failed blocking check is simply failed
    RunState.SUCCESS: TASK_STATE_COLORS["success"],
    RunState.FAILED: TASK_STATE_COLORS["failed"],
    RunState.RUNNING: NEUTRAL_GREY,
    RunState.QUEUED: NEUTRAL_GREY,
}
TASK_COLORS = [OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish_green"],
               OKABE_ITO["reddish_purple"], OKABE_ITO["sky_blue"], OKABE_ITO["vermillion"]]
TASK_MARKERS = ["o", "s", "^", "D", "v", "P"]  # with the colour: lines told apart without it
# success stays plain; the others carry a pattern, so colour is not the only cue
STATUS_HATCHES = {RunState.FAILED: "xx", RunState.RUNNING: "..", RunState.QUEUED: ".."}
INK_LINE = "#222222"
CHECK_HATCHES = {1: "..", 2: "xx"}  # warn, fail (by level); pass stays plain
_Z_IN_MESSAGE = re.compile(r"robust z = (-?[\d.]+|-?inf)")
_CHECK_LEVELS = {"pass": 0, "warn": 1, "fail": 2}


class DashboardError(CourseEtlError):
    """Nothing to draw: the run log has no runs for the view asked for (``.pipeline``: the one
    asked for, None for every pipeline; ``.check``: the check asked for, where one was)."""


def _short_dates(dates: pd.Series) -> list[str]:
    # "10-01", not "10-01 00:00:00": the time of day made neighbouring labels overlap.
    return [str(d)[5:10] if isinstance(d, str) and len(d) >= 10 else str(d) for d in dates]


def _runs(conn: sqlite3.Connection, pipeline: str | None) -> pd.DataFrame:
    runs = runs_frame(conn)
    if pipeline is not None:
        runs = runs[runs.pipeline == pipeline]
    if runs.empty:
        raise DashboardError(f"no runs of pipeline {pipeline!r} in the run log yet: run it first"
                             if pipeline else "no runs in the run log yet: run a pipeline first",
                             pipeline=pipeline)
    return runs.reset_index(drop=True)


def _thin_ticks(ax: Axes, labels: list[str], every: int) -> None:
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels([label if i % every == 0 else "" for i, label in enumerate(labels)],
                       rotation=0, fontsize=FONT_SMALL)


@checked
def plot_rows_per_run(
    ax: Axes, conn: sqlite3.Connection, *, task: str = "load", pipeline: str | None = None
) -> None:
    """Rows read by ``task`` in each run, bars coloured by the run's state."""
    runs = _runs(conn, pipeline)
    tasks = task_runs_frame(conn)
    rows = tasks[tasks.task == task].groupby("run_id")["rows_in"].last()
    values = runs.run_id.map(rows)
    colors = [RUN_STATUS_COLORS.get(s, NEUTRAL_GREY) for s in runs.status]
    positions = np.arange(len(runs))
    ax.bar(positions, values.fillna(0), color=colors, width=0.8, edgecolor=INK_LINE,
           linewidth=0.3, hatch=[STATUS_HATCHES.get(s, "") for s in runs.status])
    missing = values.isna().to_numpy()
    ax.scatter(positions[missing], np.zeros(missing.sum()), marker="x", s=40,
               color=[c for c, m in zip(colors, missing, strict=True) if m], zorder=3)
    ax.set_yscale("symlog", linthresh=10)
    ax.set_ylabel(f"rows read by {task}")
    ax.set_title("Rows per run (× = nothing loaded)", fontsize=11, loc="left")
    _thin_ticks(ax, _short_dates(runs.logical_date), max(1, -(-len(runs) // 4)))
    handles = [Patch(facecolor=RUN_STATUS_COLORS[s], hatch=STATUS_HATCHES.get(s, ""),
                     edgecolor=INK_LINE, label=s)
               for s in RUN_STATUS_COLORS if s in set(runs.status)]
    ax.legend(handles=handles, fontsize=FONT_SMALL, loc="upper left", ncols=len(handles),
              frameon=False)


@checked
def plot_duration_per_task(ax: Axes, conn: sqlite3.Connection, *,
                           pipeline: str | None = None) -> None:
    """Seconds each task took per run, one line per task, on a log scale."""
    runs = _runs(conn, pipeline)
    tasks = task_runs_frame(conn)
    tasks = tasks[tasks.run_id.isin(runs.run_id)
                  & tasks.status.isin([TaskState.SUCCESS, TaskState.FAILED])]
    table = tasks.pivot_table(index="run_id", columns="task", values="seconds", aggfunc="last",
                              sort=False).reindex(runs.run_id)
    order = list(dict.fromkeys(tasks.sort_values("task_run_id").task))
    for color, marker, task in zip(TASK_COLORS, TASK_MARKERS, order, strict=False):
        ax.plot(np.arange(len(runs)), table[task].to_numpy(), marker=marker, markersize=4,
                color=color, label=task, linewidth=1.5)
    ax.set_yscale("log")
    ax.set_ylabel("seconds (log scale)")
    ax.set_title("Duration per task", fontsize=11, loc="left")
    _thin_ticks(ax, _short_dates(runs.logical_date), max(1, -(-len(runs) // 4)))
    # Beside the plot, one task a line: a row of them ran off the figure's edge.
    ax.legend(fontsize=FONT_SMALL, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)


@checked
def plot_check_heatmap(ax: Axes, conn: sqlite3.Connection, *,
                       pipeline: str | None = None) -> None:
    """One row per check, one column per run: pass, warn, fail, or grey when it did not run."""
    runs = _runs(conn, pipeline)
    checks = check_results_frame(conn)
    checks = checks[checks.run_id.isin(runs.run_id)]
    if checks.empty:
        raise DashboardError("no check results in the run log yet: run a suite first",
                             pipeline=pipeline, check=None)
    checks = checks.assign(label=checks.table_name + "." + checks.check_name,
                           level=checks.status.map(_CHECK_LEVELS))
    grid = checks.pivot_table(index="label", columns="run_id", values="level", aggfunc="max",
                              sort=False).reindex(columns=runs.run_id)
    cmap = ListedColormap([CHECK_COLORS["pass"], CHECK_COLORS["warn"], CHECK_COLORS["fail"]])
    sns.heatmap(grid, ax=ax, cmap=cmap, vmin=-0.5, vmax=2.5, cbar=False, linewidths=0.5,
                linecolor="white")
    ax.set_facecolor(NEUTRAL_GREY)  # heatmap leaves NaN (check not run) cells undrawn
    # A pattern on warn and fail cells: the grid reads without telling the colours apart.
    for (row, column), level in np.ndenumerate(grid.to_numpy()):
        if level in CHECK_HATCHES:
            ax.add_patch(Rectangle((column, row), 1, 1, fill=False, hatch=CHECK_HATCHES[level],
                                   edgecolor=INK_LINE, linewidth=0))
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Check status per run", fontsize=11, loc="left")
    ax.set_xticks(np.arange(len(runs)) + 0.5)
    every = max(1, -(-len(runs) // 4))
    ax.set_xticklabels([d if i % every == 0 else "" for i, d in
                        enumerate(_short_dates(runs.logical_date))], rotation=0,
                       fontsize=FONT_SMALL)
    ax.tick_params(axis="y", labelsize=FONT_SMALL)
    handles = [Patch(facecolor=CHECK_COLORS[s], edgecolor=INK_LINE, linewidth=0,
                     hatch=CHECK_HATCHES.get(_CHECK_LEVELS[s], ""), label=s)
               for s in ("pass", "warn", "fail")]
    handles.append(Patch(color=NEUTRAL_GREY, label="not run"))
    ax.legend(handles=handles, fontsize=FONT_SMALL, loc="upper left",
              bbox_to_anchor=(0, -0.12), ncols=4, frameon=False)


@checked
def plot_anomaly(
    ax: Axes, conn: sqlite3.Connection, *, check: str = "volume_anomaly(rows_to_load)",
    pipeline: str | None = None, warn_score: float = 3.5, min_history: int = 7,
) -> None:
    """The metric an anomaly check watched, the range its earlier runs predicted, the flags.

    The band is median ± ``warn_score`` robust deviations of the values before each run (the
    same rule as the check); runs the check flagged are circled and labelled with their z-score.
    """
    runs = _runs(conn, pipeline)
    results = check_results_frame(conn)
    results = results[(results.check_name == check) & results.run_id.isin(runs.run_id)]
    if results.empty:
        raise DashboardError(f"no results of check {check!r} in the run log yet",
                             pipeline=pipeline, check=check)
    series = runs.run_id.map(results.groupby("run_id")["observed"].last().astype(float))
    statuses = runs.run_id.map(results.groupby("run_id")["status"].last())
    values = series.to_numpy()
    low, high, centre = (np.full(len(values), np.nan) for _ in range(3))
    for i in range(len(values)):
        earlier = [v for v in values[max(0, i - 30):i] if not np.isnan(v)]
        if len(earlier) >= min_history:
            median = float(np.median(earlier))
            mad = float(np.median(np.abs(np.array(earlier) - median)))
            spread = warn_score * mad / MAD_SCALE
            centre[i], low[i], high[i] = median, max(median - spread, 0), median + spread
    x = np.arange(len(values))
    ax.fill_between(x, low, high, color=OKABE_ITO["sky_blue"], alpha=0.3, linewidth=0,
                    label=f"expected (median ± {warn_score:g} robust z)")
    ax.plot(x, centre, color=OKABE_ITO["blue"], linewidth=1, linestyle="--",
            label="median of earlier runs")
    ax.plot(x, values, color=INK_LINE, marker="o", markersize=3, linewidth=1.2,
            label="observed")
    flagged = (statuses != "pass").to_numpy() & ~np.isnan(values)
    ax.scatter(x[flagged], values[flagged], s=140, facecolors="none", linewidths=2,
               edgecolors=[CHECK_COLORS[s] for s in statuses[flagged]], zorder=4)
    messages = runs.run_id.map(results.groupby("run_id")["message"].last())
    for i in np.flatnonzero(flagged):
        # The check's own score (its history is the metric of earlier successful loads).
        score = _Z_IN_MESSAGE.search(messages[i] or "")
        label = f"z = {score.group(1)}" if score else statuses[i]
        ax.annotate(f"{runs.logical_date[i][5:]}\n{label}", (x[i], values[i]),
                    textcoords="offset points", xytext=(0, 10), ha="center", fontsize=FONT_SMALL)
    ax.set_yscale("symlog", linthresh=10)
    ax.set_ylabel(check.split("(")[-1].rstrip(")"))
    ax.set_title(f"Anomaly check: {check}", fontsize=11, loc="left")
    _thin_ticks(ax, _short_dates(runs.logical_date), max(1, -(-len(runs) // 4)))
    ax.set_xlim(-0.5, len(values) - 0.5)
    ax.set_ylim(0, np.nanmax(values) * 4)  # headroom for the labels above the highest point
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], marker="o", markersize=9, markerfacecolor="none",
                          markeredgecolor=CHECK_COLORS["warn"], linestyle=""))
    labels.append("flagged run")
    # Below the plot (clear of slanted date labels): beside the data it ran off the figure.
    ax.legend(handles, labels, fontsize=FONT_SMALL, loc="upper center",
              bbox_to_anchor=(0.5, -0.2), frameon=False, ncols=2)



@checked
def dashboard_figure(conn: sqlite3.Connection, *, pipeline: str | None = None,
                     anomaly_check: str = "volume_anomaly(rows_to_load)", rows_task: str = "load",
                     dated_axes: bool = False) -> Figure:
    """The four views on one 11 x 8 inch figure (2 x 2), titled with the runs it covers: rows
    ``rows_task`` read per run, seconds per task, every check per run, ``anomaly_check``'s
    history. ``dated_axes``: x labels are full logical dates (slanted, so none overlap) and the
    log-scale views get headroom for their legends.

    11 inches is 1,100 px at 100 dpi: a laptop's output area shows it at full size, so its
    9.5 pt labels stay above 12 px (at 13 inches they were shrunk to 10 px).
    """
    runs = _runs(conn, pipeline)
    figure = Figure(figsize=(11, 8), dpi=100, layout="constrained")
    (rows_ax, duration_ax), (heatmap_ax, anomaly_ax) = figure.subplots(2, 2)
    plot_rows_per_run(rows_ax, conn, task=rows_task, pipeline=pipeline)
    plot_duration_per_task(duration_ax, conn, pipeline=pipeline)
    plot_check_heatmap(heatmap_ax, conn, pipeline=pipeline)
    try:
        plot_anomaly(anomaly_ax, conn, check=anomaly_check, pipeline=pipeline)
    except DashboardError:  # a suite without that check: the other three views still say a lot
        anomaly_ax.set_axis_off()
        anomaly_ax.text(0.5, 0.5, f"No results of {anomaly_check}\nin these runs: the suite that "
                        "ran has no such check", ha="center", va="center", wrap=True,
                        fontsize=FONT_SMALL, color=INK_LINE, transform=anomaly_ax.transAxes)
    if dated_axes:
        for ax in (rows_ax, duration_ax):  # headroom on the log scale: legends cover no data
            low, high = ax.get_ylim()
            ax.set_ylim(low, high * 4)
        for ax in (rows_ax, duration_ax, anomaly_ax):  # the heatmap's legend sits below
            for label in ax.get_xticklabels():
                label.set(rotation=30, horizontalalignment="right")
    counts = runs.status.value_counts()
    summary = ", ".join(f"{counts[s]} {s}" for s in RUN_STATUS_COLORS if s in counts)
    figure.suptitle(f"{pipeline + ': ' if pipeline else ''}{len(runs)} runs, "
                    f"{runs.logical_date.iloc[0]} to {runs.logical_date.iloc[-1]}: {summary}",
                    fontsize=13)
    return set_alt_text(figure, dashboard_alt(conn, pipeline=pipeline, rows_task=rows_task,
                                              anomaly_check=anomaly_check))
