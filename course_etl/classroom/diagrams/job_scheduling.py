"""Lecture diagram 2: a cron schedule starts DAG runs whose tasks run along their dependencies.

:func:`job_scheduling_figure` draws a cron timeline of scheduled run starts above one run's task
DAG, each task coloured by the state it ends in (success, failed, retried, skipped). Its alt text
is written from the same runs, tasks and dependencies.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

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

_CRON = ("5 2 * * *", "02:05 every day")  # the expression and how the picture reads it
_DAYS = ("Mon 3 Jun", "Tue 4 Jun", "Wed 5 Jun", "Thu 6 Jun")
_NOTES = ("success", "success", "running (below)", "scheduled")  # each day's run
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
    runs = "; ".join(f"{day} {note.split(' (')[0]}" for day, note in zip(_DAYS, _NOTES,
                                                                          strict=True))
    states = {name: state for name, (_, state) in _TASKS.items()}
    failed = [n for n, s in states.items() if s == "failed"]
    blocked = [n for n, s in states.items() if s == "upstream_failed"]
    retrying = [n for n, s in states.items() if s == "up_for_retry"]
    running_day = _DAYS[[n.startswith("running") for n in _NOTES].index(True)]
    paths = " and ".join(" → ".join(path) for path in _paths(_DEPENDENCIES))
    text = (f"Job scheduling: the cron schedule {_CRON[0]} ({_CRON[1]}) starts one DAG run "
            f"per day: {runs}. The run of {running_day} has {len(states)} tasks ({paths}): "
            f"{counted(states.values())}.")
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
    draw_text(ax, (cron.x + cron.w / 2, 47.6), _CRON[0], ha="center", family=MONO,
          size=FONT_HEADING, weight="bold")
    draw_text(ax, (cron.x + cron.w / 2, 43.9), f"cron: {_CRON[1]}", ha="center",
              size=FONT_SMALL)
    line_y = 46
    draw_arrow(ax, (26, line_y), (97.5, line_y))
    draw_text(ax, (97.5, line_y - 1.8), "time", ha="right", size=FONT_SMALL, color=MUTED_INK)
    draw_arrow(ax, cron.right, (30, line_y), linestyle="--")
    days, notes = _DAYS, _NOTES
    tick_xs = [36 + 17 * index for index in range(len(days))]
    for x, day, note in zip(tick_xs, days, notes, strict=True):
        is_done = note == "success"
        ax.plot([x], [line_y], marker="o", markersize=11, markeredgecolor=INK,
                markerfacecolor=TASK_STATE_COLORS["success"] if is_done else "white")
        draw_text(ax, (x, line_y + 3.2), f"{day} 02:05", ha="center", size=FONT_SMALL)
        draw_text(ax, (x, line_y - 2.9), note, ha="center", size=FONT_SMALL, color=MUTED_INK)
    # The run that is still going is the one opened up in the DAG panel below.
    running_x = tick_xs[notes.index("running (below)")]
    draw_arrow(ax, (running_x, line_y - 4.3), (running_x, 37.6))


def _draw_task_dag(ax: Axes) -> None:
    draw_band(ax, (1, 6.5), 98, 31)
    draw_text(ax, (2.5, 35), "DAG run of Wed 5 Jun 02:05, seen at 02:19", size=FONT_HEADING,
          weight="bold")
    w, h = 15, 6.2
    tasks = _TASKS
    boxes = {
        name: draw_box(ax, xy, w, h, f"{name}\n{state}", TASK_STATE_COLORS[state], size=FONT_SMALL)
        for name, (xy, state) in tasks.items()
    }
    for upstream, downstream in _DEPENDENCIES:
        draw_arrow(ax, boxes[upstream].right, boxes[downstream].left)
    retry_box, failed_box = boxes["check_orders"], boxes["load_rates"]
    draw_text(ax, (retry_box.x + w / 2, retry_box.y - 1.6), "↻ retry 1/2 at 02:24", ha="center",
          size=FONT_SMALL)
    draw_text(ax, (failed_box.x + w / 2, failed_box.y - 1.6), "retries used up (2/2)", ha="center",
          size=FONT_SMALL)
