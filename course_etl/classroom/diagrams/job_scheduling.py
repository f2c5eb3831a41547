"""Lecture diagram 2: a cron schedule starts DAG runs whose tasks run along their dependencies.

:func:`job_scheduling_figure` draws a cron timeline of scheduled run starts above one run's task
DAG, each task coloured by the state it ends in (success, failed, retried, skipped). Its alt text
is written from the same runs, tasks and dependencies.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_etl.facts import SCHEDULE
from course_etl.scheduling.cron import describe_cron, next_runs
from course_etl.style import (
    FONT_HEADING,
    FONT_SMALL,
    INK,
    MONO,
    MUTED_INK,
    TASK_STATE_COLORS,
    counted,
    draw_arrow,
    draw_band,
    draw_box,
    draw_legend,
    draw_text,
    new_canvas,
    set_alt_text,
    with_pinned_style,
)

# The lecture's schedule, four ticks of it from a Monday (the diagram's week, not the story's).
_TICKS = next_runs(SCHEDULE.cron, 4, after=datetime(2024, 6, 3) - timedelta(seconds=1),
                   timezone=SCHEDULE.timezone)


def _tick_label(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b} {moment:%H:%M}"


def _cron_words() -> str:
    if SCHEDULE.once_a_day:
        return f"{SCHEDULE.time_of_day} every day"
    return describe_cron(SCHEDULE.cron)


_NOTES = ("success", "success", "running (below)", "scheduled")  # each tick's run
_TASKS = {  # task -> (lower-left corner, the state it is in)
    "extract": ((5, 19.5), "success"),
    "load_orders": ((28, 26.5), "success"),
    "check_orders": ((52, 26.5), "up_for_retry"),
    "load_rates": ((28, 12.5), "failed"),
    "check_rates": ((52, 12.5), "upstream_failed"),
    "publish": ((78, 19.5), "upstream_failed"),
}
_DEPENDENCIES = (
    ("extract", "load_orders"), ("extract", "load_rates"),
    ("load_orders", "check_orders"), ("load_rates", "check_rates"),
    ("check_orders", "publish"), ("check_rates", "publish"),
)


def _paths(edges: tuple[tuple[str, str], ...]) -> list[list[str]]:
    """Every path from a task with no upstream to a task with no downstream."""
    downstream: dict[str, list[str]] = {}
    for up, down in edges:
        downstream.setdefault(up, []).append(down)
    starts = [n for n in downstream if all(n != down for _, down in edges)]
    paths, stack = [], [[n] for n in reversed(starts)]
    while stack:
        path = stack.pop()
        nexts = downstream.get(path[-1], [])
        if not nexts:
            paths.append(path)
        stack.extend(path + [n] for n in reversed(nexts))
    return paths


def job_scheduling_alt() -> str:
    """What the diagram shows, from the runs, tasks and dependencies it draws."""
    runs = "; ".join(f"{_tick_label(tick)} {note.split(' (')[0]}"
                     for tick, note in zip(_TICKS, _NOTES, strict=True))
    states = {name: state for name, (_, state) in _TASKS.items()}
    failed = [n for n, s in states.items() if s == "failed"]
    blocked = [n for n, s in states.items() if s == "upstream_failed"]
    retrying = [n for n, s in states.items() if s == "up_for_retry"]
    running_day = _tick_label(_TICKS[[n.startswith("running") for n in _NOTES].index(True)])
    paths = " and ".join(" → ".join(path) for path in _paths(_DEPENDENCIES))
    text = (f"Job scheduling: the cron schedule {SCHEDULE.cron} ({_cron_words()}) starts one "
            f"DAG run per tick: {runs}. The run of {running_day} has {len(states)} tasks "
            f"({paths}): {counted(states.values())}.")
    if failed:
        text += f" {', '.join(failed)} failed"
        text += f", so {' and '.join(blocked)} are upstream_failed" if blocked else ""
        text += "."
    if retrying:
        text += f" {', '.join(retrying)} is up_for_retry."
    return text


@with_pinned_style
def job_scheduling_figure() -> Figure:
    """A cron schedule starts DAG runs; tasks run along dependencies and end in a state."""
    fig, ax = new_canvas(
        "Job scheduling: a cron schedule starts DAG runs",
        "The scheduler creates one run per cron tick; inside a run, a task starts when all its "
        "upstream tasks succeeded.",
    )
    _draw_cron_timeline(ax)
    _draw_task_dag(ax)
    draw_legend(ax, TASK_STATE_COLORS)
    return set_alt_text(fig, job_scheduling_alt())


def _draw_cron_timeline(ax: Axes) -> None:
    cron = draw_box(ax, (2, 41.5), 19, 9, "", "white")
    draw_text(ax, (cron.x + cron.w / 2, 47.6), SCHEDULE.cron, ha="center", family=MONO,
          size=FONT_HEADING, weight="bold")
    draw_text(ax, (cron.x + cron.w / 2, 43.9), f"cron: {_cron_words()}", ha="center",
              size=FONT_SMALL)
    line_y = 46
    draw_arrow(ax, (26, line_y), (97.5, line_y))
    draw_text(ax, (97.5, line_y - 1.8), "time", ha="right", size=FONT_SMALL, color=MUTED_INK)
    draw_arrow(ax, cron.right, (30, line_y), linestyle="--")
    notes = _NOTES
    tick_xs = [36 + 17 * index for index in range(len(_TICKS))]
    for x, tick, note in zip(tick_xs, _TICKS, notes, strict=True):
        is_done = note == "success"
        ax.plot([x], [line_y], marker="o", markersize=11, markeredgecolor=INK,
                markerfacecolor=TASK_STATE_COLORS["success"] if is_done else "white")
        draw_text(ax, (x, line_y + 3.2), _tick_label(tick), ha="center", size=FONT_SMALL)
        draw_text(ax, (x, line_y - 2.9), note, ha="center", size=FONT_SMALL, color=MUTED_INK)
    # The run that is still going is the one opened up in the DAG panel below.
    running_x = tick_xs[notes.index("running (below)")]
    draw_arrow(ax, (running_x, line_y - 4.3), (running_x, 37.6))


def _draw_task_dag(ax: Axes) -> None:
    draw_band(ax, (1, 6.5), 98, 31)
    running = _TICKS[2]  # the tick marked "running (below)"
    seen = running + timedelta(minutes=14)
    draw_text(ax, (2.5, 35), f"DAG run of {_tick_label(running)}, seen at {seen:%H:%M}",
              size=FONT_HEADING, weight="bold")
    w, h = 15, 6.2
    tasks = _TASKS
    boxes = {
        name: draw_box(ax, xy, w, h, f"{name}\n{state}", TASK_STATE_COLORS[state], size=FONT_SMALL)
        for name, (xy, state) in tasks.items()
    }
    for upstream, downstream in _DEPENDENCIES:
        draw_arrow(ax, boxes[upstream].right, boxes[downstream].left)
    retry_box, failed_box = boxes["check_orders"], boxes["load_rates"]
    retry_at = running + timedelta(minutes=19)  # the failed try's end plus the retry delay
    draw_text(ax, (retry_box.x + w / 2, retry_box.y - 1.6), f"↻ retry 1/2 at {retry_at:%H:%M}",
              ha="center", size=FONT_SMALL)
    draw_text(ax, (failed_box.x + w / 2, failed_box.y - 1.6), "retries used up (2/2)", ha="center",
          size=FONT_SMALL)
