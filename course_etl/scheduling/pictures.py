"""Pictures of schedules and runs: the DAG coloured by task state, a Gantt chart, a week of ticks.

Drawn with matplotlib only, in the lecture diagrams' style and colour-blind-safe palette
(:mod:`course_etl.style`), on ``Figure`` objects that never touch pyplot's global state, so a
widget can redraw without leaking figures. :func:`course_etl.style.to_png` (re-exported here)
turns a figure into PNG bytes for ``IPython.display.Image`` or an ``ipywidgets.Image``. Each
figure carries alt text written from the same pipeline, report or schedule
(:func:`course_etl.style.alt_text`); state words are shown as the report holds them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from course_etl.errors import checked
from course_etl.scheduling.cron import CronSchedule
from course_etl.scheduling.pipeline import Pipeline
from course_etl.scheduling.runner import RunReport
from course_etl.style import (
    FONT_BODY,
    FONT_SMALL,
    INK,
    MUTED_INK,
    OKABE_ITO,
    TASK_STATE_COLORS,
    counted,
    draw_arrow,
    draw_band,
    draw_box,
    draw_legend,
    new_canvas,
    pinned_style,
    set_alt_text,
    text_on,
    to_png,
)

__all__ = ["STATE_COLORS", "dag_figure", "gantt_figure", "week_timeline_figure", "to_png"]

STATE_COLORS: Mapping[str, str] = MappingProxyType({
    **TASK_STATE_COLORS,
    "skipped": OKABE_ITO["reddish_purple"],  # Airflow shows skipped tasks in pink
    "not run": "white",
})


def _layers(pipeline: Pipeline) -> dict[str, int]:
    """Each task's column: the length of the longest upstream chain leading to it."""
    depth: dict[str, int] = {}
    for name in pipeline.order:
        upstream = pipeline.graph[name]
        depth[name] = 1 + max((depth[u] for u in upstream), default=-1)
    return depth


def _task_phrase(name: str, task_report) -> str:
    tries = f" after {task_report.tries} tries" if task_report.tries > 1 else ""
    return f"{name} {task_report.state}{tries}"


def dag_alt(pipeline: Pipeline, report: RunReport | None = None) -> str:
    """What :func:`dag_figure` shows, from the same pipeline and report."""
    downstream: dict[str, list[str]] = {}
    for up, down in pipeline.edges:
        downstream.setdefault(up, []).append(down)
    edges = "; ".join(f"{up} → {', '.join(downs)}" for up, downs in downstream.items())
    text = (f"DAG {pipeline.name}, schedule {pipeline.schedule} "
            f"({pipeline.cron.description}): {len(pipeline.order)} tasks "
            f"({', '.join(pipeline.order)})" + (f"; {edges}." if edges else "."))
    if report is None:
        return text
    states = [report.tasks[n].state if n in report.tasks else "not run" for n in pipeline.order]
    unusual = [_task_phrase(n, report.tasks[n]) for n in pipeline.order
               if n in report.tasks and (report.tasks[n].state != "success"
                                         or report.tasks[n].tries > 1)]
    return (text + f" Run of {report.logical_date:%Y-%m-%d %H:%M %Z}: {report.state}; tasks "
            f"{counted(states, STATE_COLORS)}" + (f"; {'; '.join(unusual)}." if unusual else "."))


@checked
def dag_figure(pipeline: Pipeline, report: RunReport | None = None) -> Figure:
    """The pipeline's tasks and dependencies, each task coloured by its state in ``report``."""
    with pinned_style():
        when = f" of {report.logical_date:%Y-%m-%d %H:%M %Z}" if report else ""
        state = f": {report.state}" if report else ""
        fig, ax = new_canvas(
            f"DAG {pipeline.name}{when}{state}",
            f"schedule {pipeline.schedule} ({pipeline.cron.description}); arrows point "
            "downstream; a task runs once all its upstream tasks succeeded",
        )
        depth = _layers(pipeline)
        columns = max(depth.values()) + 1
        # The band is as tall as the busiest column needs, and the canvas ends below it (room
        # for the legend): a three-task chain is not drawn on a canvas for a dozen.
        most = max(list(depth.values()).count(column) for column in range(columns))
        band_h = min(42.0, max(18.0, 13.0 * most + 5))
        canvas_bottom = 50 - band_h - 7
        fig.set_size_inches(fig.get_figwidth(), (60 - canvas_bottom) / 10)
        ax.set_ylim(canvas_bottom, 60)
        draw_band(ax, (1, 50 - band_h), 98, band_h)
        step = 96 / columns
        w = min(22.0, step * 0.72)
        h = 8.0
        boxes = {}
        for column in range(columns):
            names = [n for n in pipeline.order if depth[n] == column]
            gap = (band_h - 2) / len(names)
            for row, name in enumerate(names):
                x = 2 + column * step + (step - w) / 2
                y = 49 - gap * (row + 0.5) - h / 2
                task_report = report.tasks.get(name) if report else None
                task_state = task_report.state if task_report else "not run"
                label = name if report is None else f"{name}\n{task_state}"
                if task_report and task_report.tries > 1:
                    label += f" (tries: {task_report.tries})"
                boxes[name] = draw_box(ax, (x, y), w, h, label, STATE_COLORS[task_state],
                                   size=FONT_SMALL if w < 18 else FONT_BODY)
        for upstream, downstream in pipeline.edges:
            draw_arrow(ax, boxes[upstream].right, boxes[downstream].left)
        if report is not None:
            draw_legend(ax, {k: v for k, v in STATE_COLORS.items() if k != "not run"})
        return set_alt_text(fig, dag_alt(pipeline, report))


def gantt_alt(report: RunReport) -> str:
    """What :func:`gantt_figure` shows, from the same report."""
    rows = []
    for name, task_report in report.tasks.items():
        if not task_report.attempts:
            rows.append(f"{name} {task_report.state} (not started)")
            continue
        tries = ", ".join(f"try {a.try_number} {a.state} at {a.started:g}–{a.ended:g} s"
                          for a in task_report.attempts)
        rows.append(f"{name}: {tries}")
    return (f"Gantt chart of the {report.pipeline} run of "
            f"{report.logical_date:%Y-%m-%d %H:%M %Z}: {report.state} in {report.seconds:g} s. "
            + "; ".join(rows) + ".")


@checked
def gantt_figure(report: RunReport) -> Figure:
    """One bar per try of each task along the run's clock; gaps between tries are retry waits."""
    with pinned_style():
        fig = Figure(figsize=(10, 1.6 + 0.7 * len(report.tasks)), dpi=100, facecolor="white")
        ax = fig.add_subplot()
        names = list(report.tasks)
        for row, name in enumerate(names):
            task_report = report.tasks[name]
            if not task_report.attempts:  # never started: say why on the empty row
                ax.text(report.seconds * 0.01, row, f"{task_report.state} (not started)",
                        va="center", size=FONT_SMALL, color=MUTED_INK)
                continue
            for attempt in task_report.attempts:
                ax.barh(row, attempt.seconds, left=attempt.started, height=0.55,
                        color=STATE_COLORS[attempt.state], edgecolor=INK)
                ax.text(attempt.started + attempt.seconds / 2, row, f"try {attempt.try_number}",
                        ha="center", va="center", size=FONT_SMALL,
                        color=text_on(STATE_COLORS[attempt.state]))
            for before, after in zip(task_report.attempts, task_report.attempts[1:], strict=False):
                ax.plot([before.ended, after.started], [row, row], linestyle=":", color=INK)
        ax.set_yticks(range(len(names)), names)
        ax.set_ylim(len(names) - 0.4, -0.6)
        ax.set_xlabel("seconds since the run started (dotted: waiting for a retry)")
        ax.set_title(f"{report.pipeline} run of {report.logical_date:%Y-%m-%d %H:%M %Z}: "
                     f"{report.state} in {report.seconds:g} s", loc="left", weight="bold")
        ax.set_xlim(0, max(report.seconds, 1) * 1.02)
        ax.grid(axis="x", color="#DDDDDD")
        ax.set_axisbelow(True)
        seen = {a.state for r in report.tasks.values() for a in r.attempts}
        handles = [Patch(facecolor=STATE_COLORS[s], edgecolor=INK, label=s)
                   for s in STATE_COLORS if s in seen]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False,
                  fontsize=FONT_SMALL)
        fig.tight_layout()
        return set_alt_text(fig, gantt_alt(report))


def week_alt(schedule: CronSchedule, days: list[datetime], runs: list[datetime]) -> str:
    """What :func:`week_timeline_figure` shows: the runs per day (their times when few)."""
    text = (f"A week of cron {schedule.expression} ({schedule.description}) in "
            f"{schedule.timezone}, from {days[0]:%a %d %b %Y}: {len(runs)} run(s).")
    per_day = []
    for day in days:
        times = [f"{r:%H:%M}" for r in runs if r.date() == day.date()]
        if times:
            shown = ", ".join(times) if len(times) <= 4 else f"{len(times)} runs, {times[0]} " \
                f"to {times[-1]}"
            per_day.append(f"{day:%a %d} {shown}")
    return text + (f" {'; '.join(per_day)}." if per_day else "")


@checked
def week_timeline_figure(schedule: CronSchedule, week_start: datetime) -> Figure:
    """Seven rows (days from ``week_start``), hours 0-24 across, a tick per scheduled run."""
    with pinned_style():
        zone = schedule.zone
        start = datetime.combine(week_start.date(), datetime.min.time(), tzinfo=zone)
        runs = schedule.runs_between(start, start + timedelta(days=7, seconds=-1))
        fig = Figure(figsize=(10, 3.6), dpi=100, facecolor="white")
        ax = fig.add_subplot()
        days = [start + timedelta(days=d) for d in range(7)]
        for run in runs:
            row = (run.date() - start.date()).days
            ax.plot([run.hour + run.minute / 60] * 2, [row - 0.32, row + 0.32],
                    color=OKABE_ITO["blue"], linewidth=2 if len(runs) < 200 else 0.8)
        ax.set_yticks(range(7), [f"{d:%a %d %b}" for d in days])
        ax.invert_yaxis()
        ax.set_ylim(6.6, -0.6)
        ax.set_xlim(0, 24)
        ax.set_xticks(range(0, 25, 2), [f"{h:02d}:00" for h in range(0, 25, 2)])
        ax.grid(axis="x", color="#DDDDDD")
        ax.set_axisbelow(True)
        # Wrapped, count on a line of its own: a long description used to run off the figure.
        title = textwrap.wrap(f"{schedule.expression}: {schedule.description}", 95)
        title.append(f"{len(runs)} run(s) in this week ({schedule.timezone})")
        ax.set_title("\n".join(title), loc="left", weight="bold", size=FONT_BODY)
        fig.tight_layout()
        return set_alt_text(fig, week_alt(schedule, days, runs))

