"""The five lecture diagrams of Session 6, drawn with matplotlib only.

Each ``*_figure()`` function returns a :class:`matplotlib.figure.Figure` built without pyplot, so
drawing works headless (Agg), leaks no global figures and shows inline in Jupyter. All pictures
share one visual language: the colour-blind safe Okabe–Ito palette (``OKABE_ITO``), the same box,
arrow and label helpers, the same font sizes and one fixed canvas (``FIGSIZE_INCHES`` at ``DPI``).
``draw_all(out_dir)`` writes every picture as PNG; output is byte-identical across runs because
the style is pinned and the PNG carries no version or timestamp metadata. ``DIAGRAMS`` maps file
names to drawing functions, and ``find_broken_image_refs(root)`` checks that the notebooks and
README only reference images that exist.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import unquote

import matplotlib
import matplotlib.style
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch, Rectangle

__all__ = [
    "CHECK_COLORS",
    "COLOR_GROUPS",
    "CONFIG_LAYER_COLORS",
    "DIAGRAMS",
    "DPI",
    "FIGSIZE_INCHES",
    "MEDALLION_COLORS",
    "OKABE_ITO",
    "ROW_COLORS",
    "TASK_STATE_COLORS",
    "BrokenImageRef",
    "draw",
    "draw_all",
    "find_broken_image_refs",
    "full_vs_incremental_figure",
    "job_scheduling_figure",
    "medallion_architecture_figure",
    "monitoring_figure",
    "parameterization_figure",
]

# --- Shared visual language -------------------------------------------------------------------

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
# deficiencies. Every category colour below is taken from here (plus one neutral grey).
OKABE_ITO: Mapping[str, str] = MappingProxyType(
    {
        "black": "#000000",
        "orange": "#E69F00",
        "sky_blue": "#56B4E9",
        "bluish_green": "#009E73",
        "yellow": "#F0E442",
        "blue": "#0072B2",
        "vermillion": "#D55E00",
        "reddish_purple": "#CC79A7",
    }
)
NEUTRAL_GREY = "#BBBBBB"  # "not copied", "silver", "defaults": categories that should look quiet
INK = "#222222"  # text and outlines: softer than pure black, still > 15:1 contrast on white
MUTED_INK = "#555555"  # secondary text (subtitles, notes); still > 7:1 contrast on white
PANEL = "#F3F3F3"  # background bands that group things without competing with the content

TASK_STATE_COLORS: Mapping[str, str] = MappingProxyType(
    {  # same hues as the Airflow UI uses for these states, where Okabe–Ito allows
        "success": OKABE_ITO["bluish_green"],
        "failed": OKABE_ITO["vermillion"],
        "up_for_retry": OKABE_ITO["yellow"],
        "upstream_failed": OKABE_ITO["orange"],
    }
)
CHECK_COLORS: Mapping[str, str] = MappingProxyType(
    {
        "pass": TASK_STATE_COLORS["success"],
        "warn": TASK_STATE_COLORS["up_for_retry"],
        "fail": TASK_STATE_COLORS["failed"],
    }
)
ROW_COLORS: Mapping[str, str] = MappingProxyType(
    {"copied": OKABE_ITO["blue"], "not copied": NEUTRAL_GREY}
)
CONFIG_LAYER_COLORS: Mapping[str, str] = MappingProxyType(
    {  # lowest precedence first
        "defaults": NEUTRAL_GREY,
        "config file": OKABE_ITO["sky_blue"],
        "environment variables": OKABE_ITO["bluish_green"],
        "explicit overrides": OKABE_ITO["orange"],
    }
)
MEDALLION_COLORS: Mapping[str, str] = MappingProxyType(
    {
        "bronze": OKABE_ITO["vermillion"],
        "silver": NEUTRAL_GREY,
        "gold": OKABE_ITO["orange"],
    }
)
# Colours that must stay distinguishable from each other, per picture; the tests simulate
# colour-vision deficiencies on exactly these.
COLOR_GROUPS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "task state": TASK_STATE_COLORS,
        "check result": CHECK_COLORS,
        "row status": ROW_COLORS,
        "config layer": CONFIG_LAYER_COLORS,
        "medallion layer": MEDALLION_COLORS,
    }
)

FIGSIZE_INCHES = (10.0, 6.0)
DPI = 100  # 1000 x 600 px: shown at natural size in a notebook cell, so 9 pt stays readable
# The canvas is addressed in "units" of 0.1 inch: x 0..100, y 0..60 (equal aspect).
CANVAS_WIDTH, CANVAS_HEIGHT = 100, 60

FONT_TITLE = 15
FONT_HEADING = 12
FONT_BODY = 10.5
FONT_SMALL = 9.5  # the smallest size used anywhere; 9 pt is the legibility floor
MONO = "DejaVu Sans Mono"

# Pin every style setting so a user's matplotlibrc or a notebook theme cannot change the output.
_STYLE_OVERRIDES = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib, so the same font everywhere
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.edgecolor": "white",
    "savefig.transparent": False,
    "text.color": INK,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
}


@contextlib.contextmanager
def _pinned_style() -> Iterator[None]:
    with matplotlib.style.context(["default", _STYLE_OVERRIDES]):
        yield


def _with_pinned_style(draw_function: Callable[[], Figure]) -> Callable[[], Figure]:
    @functools.wraps(draw_function)
    def wrapper() -> Figure:
        with _pinned_style():
            return draw_function()

    return wrapper


class _Box(NamedTuple):
    """A drawn box; its edge midpoints are where arrows attach."""

    x: float
    y: float
    w: float
    h: float

    @property
    def left(self) -> tuple[float, float]:
        return (self.x, self.y + self.h / 2)

    @property
    def right(self) -> tuple[float, float]:
        return (self.x + self.w, self.y + self.h / 2)

    @property
    def top(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h)

    @property
    def bottom(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y)


def _canvas(title: str, subtitle: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=FIGSIZE_INCHES, dpi=DPI, facecolor="white")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, CANVAS_WIDTH)
    ax.set_ylim(0, CANVAS_HEIGHT)
    ax.set_axis_off()
    ax.text(2, 57.2, title, size=FONT_TITLE, weight="bold", va="center")
    ax.text(2, 53.9, subtitle, size=FONT_SMALL, color=MUTED_INK, va="center")
    return fig, ax


def _box(
    ax: Axes,
    xy: tuple[float, float],
    w: float,
    h: float,
    text: str,
    color: str,
    *,
    size: float = FONT_BODY,
    weight: str = "normal",
    family: str | None = None,
    linestyle: str = "-",
) -> _Box:
    """Rounded box with centred text; ``xy`` is the lower-left corner."""
    x, y = xy
    ax.add_patch(
        FancyBboxPatch(
            (x, y), w, h, boxstyle="round,pad=0,rounding_size=0.8",
            facecolor=color, edgecolor=INK, linewidth=1.2, linestyle=linestyle,
        )
    )
    if text:
        ax.text(
            x + w / 2, y + h / 2, text, ha="center", va="center", size=size, weight=weight,
            family=family, linespacing=1.35,
        )
    return _Box(x, y, w, h)


def _panel(ax: Axes, xy: tuple[float, float], w: float, h: float, heading: str, color: str) -> _Box:
    """Box with a coloured heading strip: the colour names the category, the body stays white."""
    x, y = xy
    strip = 3.2
    _box(ax, (x, y), w, h, "", "white")
    ax.add_patch(
        FancyBboxPatch(
            (x, y + h - strip), w, strip, boxstyle="round,pad=0,rounding_size=0.8",
            facecolor=color, edgecolor=INK, linewidth=1.2,
        )
    )
    ax.text(x + w / 2, y + h - strip / 2, heading, ha="center", va="center",
            size=FONT_HEADING, weight="bold")
    return _Box(x, y, w, h)


def _band(ax: Axes, xy: tuple[float, float], w: float, h: float) -> None:
    """Light background band that groups a lane or a region."""
    ax.add_patch(
        FancyBboxPatch(xy, w, h, boxstyle="round,pad=0,rounding_size=1.0",
                       facecolor=PANEL, edgecolor="none")
    )


def _arrow(
    ax: Axes, start: tuple[float, float], end: tuple[float, float], *, linestyle: str = "-"
) -> None:
    """Straight arrow that ends exactly at ``end`` (no shrinking), so it touches box edges."""
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=14, color=INK, linewidth=1.5,
            linestyle=linestyle, shrinkA=0, shrinkB=0,
        )
    )


def _text(ax: Axes, xy: tuple[float, float], text: str, **style: object) -> None:
    style = {"size": FONT_BODY, "va": "center", **style}
    ax.text(*xy, text, **style)


def _legend(ax: Axes, entries: Mapping[str, str]) -> None:
    """Colour legend along the bottom edge, one row."""
    _legend_from_handles(
        ax, [Patch(facecolor=color, edgecolor=INK, label=label) for label, color in entries.items()]
    )


def _legend_from_handles(ax: Axes, handles: list[Patch]) -> None:
    ax.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.005), ncol=len(handles),
        frameon=False, fontsize=FONT_SMALL, handlelength=1.6, handleheight=1.1, columnspacing=2.0,
    )


# --- 1. Full vs incremental load --------------------------------------------------------------

_RUNS = ("run 1", "run 2", "run 3")
_ROW_SQUARE = 2.6  # side of one row's square, in canvas units
_TICK_STEP = 3.4  # distance between updated_at ticks; leaves a gap for the watermark line


def _source_table_per_run() -> list[dict[int, int]]:
    """Row id -> updated_at tick, as the source table looks when each run starts.

    Between runs new rows arrive and two existing rows change (id 3, then id 6), which moves
    their updated_at past the previous watermark.
    """
    run_1 = {row_id: row_id for row_id in range(1, 9)}
    run_2 = {**run_1, 9: 9, 3: 10, 10: 11, 11: 12}
    run_3 = {**run_2, 12: 13, 6: 14, 13: 15}
    return [run_1, run_2, run_3]


def _draw_row_strip(
    ax: Axes,
    table: dict[int, int],
    vacated_ticks: set[int],
    watermark: int | None,
    y: float,
    x_of_tick: Callable[[int], float],
) -> int:
    """One run's view of the source table; returns how many rows the run copies."""
    size = _ROW_SQUARE
    copied = 0
    for row_id, tick in table.items():
        is_copied = watermark is None or tick > watermark
        copied += is_copied
        color = ROW_COLORS["copied" if is_copied else "not copied"]
        ax.add_patch(Rectangle((x_of_tick(tick), y - size / 2), size, size,
                               facecolor=color, edgecolor=INK, linewidth=0.8))
        ax.text(x_of_tick(tick) + size / 2, y, str(row_id), ha="center", va="center",
                size=FONT_SMALL, color="white" if is_copied else INK)
    for tick in vacated_ticks:
        ax.add_patch(Rectangle((x_of_tick(tick), y - size / 2), size, size, facecolor="none",
                               edgecolor=MUTED_INK, linewidth=0.9, linestyle=":"))
    return copied


def _draw_load_lane(
    ax: Axes, top: float, heading: str, explanation: str, incremental: bool,
    x_of_tick: Callable[[int], float],
) -> list[float]:
    """A lane of three runs; returns the y of each run's strip."""
    _band(ax, (1, top - 17.5), 98, 17.5)
    _text(ax, (2.5, top - 3), heading, size=FONT_HEADING, weight="bold")
    _text(ax, (2.5, top - 9.2), explanation, size=FONT_SMALL, color=MUTED_INK, linespacing=1.4)
    _text(ax, (84, top - 1.6), "rows copied", size=FONT_SMALL, color=MUTED_INK)
    strip_ys = [top - 4.6 - 4.4 * i for i in range(len(_RUNS))]
    tables = _source_table_per_run()
    first = tables[0]
    for run_index, (label, table, y) in enumerate(zip(_RUNS, tables, strip_ys, strict=True)):
        previous = tables[run_index - 1] if run_index else {}
        vacated = {first[row_id] for row_id in first if first[row_id] != table[row_id]}
        watermark = max(previous.values()) if incremental and previous else None
        copied = _draw_row_strip(ax, table, vacated, watermark, y, x_of_tick)
        _text(ax, (29, y), label, ha="right")
        _text(ax, (85, y), f"{copied:>2} of {len(table)}", family=MONO)
    return strip_ys


@_with_pinned_style
def full_vs_incremental_figure() -> Figure:
    """Full load copies the whole table every run; incremental copies rows past a watermark."""
    fig, ax = _canvas(
        "Full vs incremental load",
        "Each square is one source row (its id), placed by updated_at. "
        "Blue = copied by that run, grey = not copied.",
    )

    def x_of_tick(tick: int) -> float:
        return 31 + (tick - 1) * _TICK_STEP

    _draw_load_lane(ax, 51, "Full load", "copies every row\non every run", False, x_of_tick)
    strip_ys = _draw_load_lane(
        ax, 32, "Incremental load",
        "copies only rows past\nthe watermark (updated_at):\nnew and changed rows",
        True, x_of_tick,
    )
    bottom = strip_ys[-1] - 3.2
    for after_run, tick, align in ((1, 8, "right"), (2, 12, "left")):
        # Each line starts at the run that set it and continues over the runs it filters.
        x = x_of_tick(tick) + (_ROW_SQUARE + _TICK_STEP) / 2
        top = strip_ys[after_run - 1] + 2.4
        ax.plot([x, x], [bottom, top], color=INK, linestyle="--", linewidth=1.6)
        label = "watermark after run 1" if after_run == 1 else "after run 2"
        nudge = -0.6 if align == "right" else 0.6
        _text(ax, (x + nudge, bottom + 0.3), label, ha=align, va="top", size=FONT_SMALL)
    _text(ax, (x_of_tick(9) + 0.5, strip_ys[0]), "no watermark yet: copies all",
          size=FONT_SMALL, color=MUTED_INK)
    _arrow(ax, (x_of_tick(1), 11.5), (x_of_tick(15) + 4.5, 11.5))
    _text(ax, (x_of_tick(15) + 5.3, 11.5), "updated_at", size=FONT_SMALL, color=MUTED_INK)
    _text(ax, (2.5, 7.5), "Over three runs the full load copies 32 rows, the incremental one 15.",
          size=FONT_SMALL, weight="bold")
    _legend_from_handles(ax, [
        Patch(facecolor=ROW_COLORS["copied"], edgecolor=INK, label="copied by this run"),
        Patch(facecolor=ROW_COLORS["not copied"], edgecolor=INK,
              label="not copied (already loaded)"),
        Patch(facecolor="none", edgecolor=MUTED_INK, linestyle=":",
              label="old slot of a row that changed"),
    ])
    return fig


# --- 2. Job scheduling ------------------------------------------------------------------------


@_with_pinned_style
def job_scheduling_figure() -> Figure:
    """A cron schedule starts DAG runs; tasks run along dependencies and end in a state."""
    fig, ax = _canvas(
        "Job scheduling: a cron schedule starts DAG runs",
        "The scheduler creates one run per cron tick; inside a run, a task starts when all its "
        "upstream tasks succeeded.",
    )
    _draw_cron_timeline(ax)
    _draw_task_dag(ax)
    _legend(ax, TASK_STATE_COLORS)
    return fig


def _draw_cron_timeline(ax: Axes) -> None:
    cron = _box(ax, (2, 41.5), 19, 9, "", "white")
    _text(ax, (cron.x + cron.w / 2, 47.6), "5 2 * * *", ha="center", family=MONO,
          size=FONT_HEADING, weight="bold")
    _text(ax, (cron.x + cron.w / 2, 43.9), "cron: 02:05 every day", ha="center", size=FONT_SMALL)
    line_y = 46
    _arrow(ax, (26, line_y), (97.5, line_y))
    _text(ax, (97.5, line_y - 1.8), "time", ha="right", size=FONT_SMALL, color=MUTED_INK)
    _arrow(ax, cron.right, (30, line_y), linestyle="--")
    days = ("Mon 3 Jun", "Tue 4 Jun", "Wed 5 Jun", "Thu 6 Jun")
    notes = ("success", "success", "running (below)", "scheduled")
    tick_xs = [36 + 17 * index for index in range(len(days))]
    for x, day, note in zip(tick_xs, days, notes, strict=True):
        is_done = note == "success"
        ax.plot([x], [line_y], marker="o", markersize=11, markeredgecolor=INK,
                markerfacecolor=TASK_STATE_COLORS["success"] if is_done else "white")
        _text(ax, (x, line_y + 3.2), f"{day} 02:05", ha="center", size=FONT_SMALL)
        _text(ax, (x, line_y - 2.9), note, ha="center", size=FONT_SMALL, color=MUTED_INK)
    # The run that is still going is the one opened up in the DAG panel below.
    running_x = tick_xs[notes.index("running (below)")]
    _arrow(ax, (running_x, line_y - 4.3), (running_x, 37.6))


def _draw_task_dag(ax: Axes) -> None:
    _band(ax, (1, 6.5), 98, 31)
    _text(ax, (2.5, 35), "DAG run of Wed 5 Jun 02:05, seen at 02:19", size=FONT_HEADING,
          weight="bold")
    w, h = 15, 6.2
    tasks = {
        "extract": ((5, 19.5), "success"),
        "load_orders": ((28, 26.5), "success"),
        "check_orders": ((52, 26.5), "up_for_retry"),
        "load_rates": ((28, 12.5), "failed"),
        "check_rates": ((52, 12.5), "upstream_failed"),
        "publish": ((78, 19.5), "upstream_failed"),
    }
    boxes = {
        name: _box(ax, xy, w, h, f"{name}\n{state}", TASK_STATE_COLORS[state], size=FONT_SMALL)
        for name, (xy, state) in tasks.items()
    }
    dependencies = (
        ("extract", "load_orders"), ("extract", "load_rates"),
        ("load_orders", "check_orders"), ("load_rates", "check_rates"),
        ("check_orders", "publish"), ("check_rates", "publish"),
    )
    for upstream, downstream in dependencies:
        _arrow(ax, boxes[upstream].right, boxes[downstream].left)
    retry_box, failed_box = boxes["check_orders"], boxes["load_rates"]
    _text(ax, (retry_box.x + w / 2, retry_box.y - 1.6), "↻ retry 1/2 at 02:24", ha="center",
          size=FONT_SMALL)
    _text(ax, (failed_box.x + w / 2, failed_box.y - 1.6), "retries used up (2/2)", ha="center",
          size=FONT_SMALL)


# --- 3. Monitoring ----------------------------------------------------------------------------

_ROWS_PER_RUN = (1012, 987, 1040, 995, 1021, 968, 1003, 1057, 979, 1015, 992, 1034, 310)
_FIRST_RUN = 30
_EXPECTED_ROWS = (900, 1100)
_CHECKS = (  # (result, check, measured vs threshold, where the result goes)
    ("pass", "nulls in customer_id", "0.1 % ≤ 1 %", "kept in run history\n(no message)"),
    ("warn", "freshness", "newest row 26 h old > 24 h", "daily digest e-mail\n(next morning)"),
    ("fail", "row count", "310 outside 900–1100", "webhook → #data-alerts\n+ page on-call (now)"),
)


@_with_pinned_style
def monitoring_figure() -> Figure:
    """A run emits metrics; checks compare them to thresholds; a failure alerts a channel."""
    fig, ax = _canvas(
        "Monitoring: metrics → checks → alerts",
        "Every run records what it did; checks compare the numbers with thresholds, and only a "
        "failure wakes someone up.",
    )
    run = _panel(ax, (2, 31), 22, 19.5, "run #42", OKABE_ITO["sky_blue"])
    _text(ax, (run.x + 1.2, 39.4),
          "status: success\nduration: 4 m 12 s\nrows_loaded: 310\nnewest row: 26 h old",
          family=MONO, size=FONT_SMALL, linespacing=1.7)
    _draw_rows_chart(fig)
    _arrow(ax, run.right, (31, run.right[1]))
    _text(ax, (27.5, run.right[1] + 1.3), "history", ha="center", size=FONT_SMALL,
          color=MUTED_INK)
    _draw_thresholds(ax)
    _draw_checks_and_routes(ax, run)
    return fig


def _draw_rows_chart(fig: Figure) -> None:
    # Placed in figure fractions: x 0.37..0.69, y 0.55..0.80 of the canvas.
    chart = fig.add_axes((0.37, 0.555, 0.32, 0.245))
    runs = range(_FIRST_RUN, _FIRST_RUN + len(_ROWS_PER_RUN))
    low, high = _EXPECTED_ROWS
    chart.axhspan(low, high, color=CHECK_COLORS["pass"], alpha=0.2, linewidth=0)
    chart.plot(runs, _ROWS_PER_RUN, color=OKABE_ITO["blue"], marker="o", markersize=4,
               linewidth=1.5)
    chart.plot([runs[-1]], [_ROWS_PER_RUN[-1]], marker="o", markersize=12,
               markerfacecolor="none", markeredgecolor=CHECK_COLORS["fail"], markeredgewidth=2.2)
    chart.text(runs[0] + 0.2, high + 40, "expected 900–1100", size=FONT_SMALL, va="bottom")
    chart.annotate("anomaly: 310", (runs[-1], _ROWS_PER_RUN[-1]), xytext=(runs[-1] - 6.5, 420),
                   size=FONT_SMALL, va="center",
                   arrowprops={"arrowstyle": "-|>", "color": INK, "shrinkB": 8})
    chart.set_ylim(0, 1400)
    chart.set_xticks([30, 34, 38, 42])
    chart.set_yticks([0, 500, 1000])
    chart.tick_params(labelsize=FONT_SMALL)
    chart.set_title("rows_loaded per run", size=FONT_BODY, pad=5)
    chart.spines[["top", "right"]].set_visible(False)


def _draw_thresholds(ax: Axes) -> None:
    box = _box(ax, (74, 31), 24, 19.5, "", "white")
    _text(ax, (box.x + 1.2, 47.8), "thresholds", weight="bold", size=FONT_SMALL)
    _text(ax, (box.x + 1.2, 39.2),
          "row count: inside the band\nlearned from past runs\n\nfreshness: ≤ 24 h\n\n"
          "nulls: ≤ 1 % per column",
          size=FONT_SMALL, linespacing=1.35)
    _arrow(ax, box.bottom, (box.bottom[0], 28))


def _draw_checks_and_routes(ax: Axes, run: _Box) -> None:
    """One column per check: the check result above the channel it is routed to."""
    _band(ax, (1, 16), 98, 12)
    _text(ax, (2.5, 26.2), "checks on run #42", size=FONT_HEADING, weight="bold")
    _arrow(ax, run.bottom, (run.bottom[0], 28))
    for index, (result, check, measured, route) in enumerate(_CHECKS):
        x = 26 + 24.5 * index
        check_box = _box(ax, (x, 17), 22.5, 7.8, "", CHECK_COLORS[result])
        _text(ax, (x + 1.2, 22.6), f"{check}: {result.upper()}", weight="bold", size=FONT_SMALL)
        _text(ax, (x + 1.2, 19.4), measured, size=FONT_SMALL)
        is_alert = result == "fail"
        channel = _box(ax, (x, 2.5), 22.5, 8, route,
                       OKABE_ITO["reddish_purple"] if is_alert else "white", size=FONT_SMALL,
                       weight="bold" if is_alert else "normal")
        _arrow(ax, check_box.bottom, channel.top, linestyle="-" if is_alert else "--")
    _text(ax, (2.5, 6.5), "where each\nresult goes", size=FONT_HEADING, weight="bold",
          linespacing=1.3)


# --- 4. Parameterization ----------------------------------------------------------------------

_CONFIG_LAYERS = (  # (layer, where it lives, settings it provides), lowest precedence first
    ("defaults", "in code", "env=dev  db_path=data/dev.db\nbatch_size=500  log_level=INFO"),
    ("config file", "etl.yaml", "batch_size=1000  log_level=WARNING"),
    ("environment variables", "prod server only",
     "ETL_ENV=prod\nETL_DB_PATH=/srv/etl/prod.db"),
    ("explicit overrides", "dev: --log-level DEBUG", "log_level=DEBUG"),
)
_RESOLVED = {  # run -> [(key = value, winning layer)]
    "dev run (laptop)": [
        ("env = dev", "defaults"),
        ("db_path = data/dev.db", "defaults"),
        ("batch_size = 1000", "config file"),
        ("log_level = DEBUG", "explicit overrides"),
    ],
    "prod run (server)": [
        ("env = prod", "environment variables"),
        ("db_path = /srv/etl/prod.db", "environment variables"),
        ("batch_size = 1000", "config file"),
        ("log_level = WARNING", "config file"),
    ],
}


@_with_pinned_style
def parameterization_figure() -> Figure:
    """Configuration layers merge by precedence into the config that one codebase runs with."""
    fig, ax = _canvas(
        "Parameterization: layered configuration, one codebase",
        "Each layer only sets what it knows; for every key the highest layer that sets it wins.",
    )
    layer_boxes = _draw_config_stack(ax)
    resolved_boxes = _draw_resolved_configs(ax)
    merge_from = (layer_boxes[0].x + layer_boxes[0].w, 27)
    for resolved in resolved_boxes:
        _arrow(ax, merge_from, resolved.left)
    _text(ax, (43.4, 28.6), "merge", ha="center", size=FONT_SMALL, color=MUTED_INK)
    code = _box(ax, (82, 22.5), 16.5, 9, "", "white")
    _text(ax, (code.x + code.w / 2, 29), "same code", ha="center", weight="bold", size=FONT_SMALL)
    _text(ax, (code.x + code.w / 2, 25.5), "run_pipeline(cfg)", ha="center", family=MONO,
          size=FONT_SMALL)
    for resolved in resolved_boxes:
        _arrow(ax, resolved.right, code.left)
    return fig


def _draw_config_stack(ax: Axes) -> list[_Box]:
    """Layers bottom (defaults) to top (overrides), with a precedence arrow beside them."""
    boxes = []
    for index, (layer, source, settings) in enumerate(_CONFIG_LAYERS):
        y = 6 + 11 * index
        box = _box(ax, (6, y), 34, 9.6, "", CONFIG_LAYER_COLORS[layer])
        _text(ax, (7.2, y + 7.4), f"{index + 1}. {layer}", weight="bold", size=FONT_SMALL)
        _text(ax, (38.8, y + 7.4), source, ha="right", size=FONT_SMALL)
        _text(ax, (7.2, y + 3.3), settings, family=MONO, size=FONT_SMALL, linespacing=1.4)
        boxes.append(box)
    _arrow(ax, (3, 7), (3, 48))
    _text(ax, (1.6, 27.5), "precedence: higher layer wins", rotation=90, ha="center",
          size=FONT_SMALL, color=MUTED_INK)
    return boxes


def _draw_resolved_configs(ax: Axes) -> list[_Box]:
    boxes = []
    for index, (run, settings) in enumerate(_RESOLVED.items()):
        top = 49 - 23 * index
        box = _box(ax, (47, top - 20), 29, 20, "", "white")
        _text(ax, (48.3, top - 2.4), f"resolved config: {run}", weight="bold", size=FONT_SMALL)
        for line, (setting, layer) in enumerate(settings):
            y = top - 6.5 - 3.6 * line
            ax.add_patch(Rectangle((48.3, y - 1.1), 2.2, 2.2,
                                   facecolor=CONFIG_LAYER_COLORS[layer], edgecolor=INK))
            _text(ax, (51.5, y), setting, family=MONO, size=FONT_SMALL)
        boxes.append(box)
    _text(ax, (61.5, 3.5), "square colour = layer that set the value", ha="center",
          size=FONT_SMALL, color=MUTED_INK)
    return boxes


# --- 5. Medallion architecture ----------------------------------------------------------------

_LAYERS = (  # (layer, example tables, what the layer adds, one record as stored there)
    ("bronze", ["bronze.orders"],
     ["raw, as received", "append-only", "+ _ingested_at", "+ _batch_id"],
     ['{"id":"7",', ' "amount":"12,50"}']),
    ("silver", ["silver.orders"],
     ["typed & validated", "deduplicated", "bad rows → rejects"],
     ["id: 7", "amount: 12.50"]),
    ("gold", ["gold.daily_revenue", "gold.customer_ltv"],
     ["business aggregates", "marts per use case"],
     ["day: 2024-06-03", "revenue: 1240.00"]),
)


@_with_pinned_style
def medallion_architecture_figure() -> Figure:
    """Sources flow through bronze, silver and gold layers to the people and models using them."""
    fig, ax = _canvas(
        "Medallion architecture",
        "Each layer is built only from the layer before it, so any layer can be rebuilt from "
        "the one below.",
    )
    _text(ax, (8.5, 49), "sources", ha="center", weight="bold", size=FONT_HEADING)
    sources = _box_column(ax, 2, 13, ["orders API", "CRM export\n(CSV)", "payments DB"])
    panels = [_draw_layer(ax, 20.5 + 21.5 * index, *layer) for index, layer in enumerate(_LAYERS)]
    _box(ax, (panels[1].x + 2, 15), 13.5, 5.5, "silver.rejects", "white", size=FONT_SMALL,
         family=MONO, linestyle="--")
    _text(ax, (92.25, 49), "consumers", ha="center", weight="bold", size=FONT_HEADING)
    consumers = _box_column(ax, 86, 12.5, ["dashboards", "ML features", "reports"])
    for source in sources:
        _arrow(ax, source.right, (panels[0].x, source.right[1]))
    for left, right in zip(panels, panels[1:], strict=False):
        _arrow(ax, left.right, right.left)
    for consumer in consumers:
        _arrow(ax, (panels[-1].x + panels[-1].w, consumer.left[1]), consumer.left)
    _arrow(ax, (panels[0].x, 8.5), (panels[-1].x + panels[-1].w, 8.5))
    _text(ax, (50, 5.7), "cleaner, more trusted, closer to business questions", ha="center",
          size=FONT_SMALL, color=MUTED_INK)
    return fig


def _draw_layer(
    ax: Axes, x: float, layer: str, tables: list[str], adds: list[str], record: list[str]
) -> _Box:
    panel = _panel(ax, (x, 12), 17.5, 38.5, layer, MEDALLION_COLORS[layer])
    y = 44.5
    for table in tables:
        _text(ax, (x + 1.2, y), table, family=MONO, size=FONT_SMALL)
        y -= 2.7
    y -= 1.5
    for line in adds:
        _text(ax, (x + 1.2, y), f"• {line}", size=FONT_SMALL)
        y -= 2.7
    _text(ax, (x + 1.2, 28), "one record:", size=FONT_SMALL, color=MUTED_INK)
    _text(ax, (x + 1.2, 24.2), "\n".join(record), family=MONO, size=FONT_SMALL,
          linespacing=1.4)
    return panel


def _box_column(ax: Axes, x: float, w: float, labels: list[str]) -> list[_Box]:
    return [
        _box(ax, (x, 38 - 11 * index), w, 7.5, label, "white", size=FONT_SMALL)
        for index, label in enumerate(labels)
    ]


# --- Registry and output ----------------------------------------------------------------------

DIAGRAMS: Mapping[str, Callable[[], Figure]] = MappingProxyType(
    {
        "full_vs_incremental.png": full_vs_incremental_figure,
        "job_scheduling.png": job_scheduling_figure,
        "monitoring.png": monitoring_figure,
        "parameterization.png": parameterization_figure,
        "medallion_architecture.png": medallion_architecture_figure,
    }
)


def draw(name: str, out_dir: str | Path) -> Path:
    """Draw the diagram called ``name`` (a key of ``DIAGRAMS``) into ``out_dir``."""
    if name not in DIAGRAMS:
        raise ValueError(f"unknown diagram {name!r}; known diagrams: {', '.join(DIAGRAMS)}")
    out_path = Path(out_dir) / name
    out_path.parent.mkdir(parents=True, exist_ok=True)
    figure = DIAGRAMS[name]()
    with _pinned_style():
        # No "Software" entry: the PNG then holds no matplotlib version, so files only change
        # when the picture does.
        figure.savefig(out_path, dpi=DPI, facecolor="white", metadata={"Software": None})
    return out_path


def draw_all(out_dir: str | Path) -> list[Path]:
    """Draw every diagram into ``out_dir`` (created if missing); paths in ``DIAGRAMS`` order."""
    return [draw(name, out_dir) for name in DIAGRAMS]


# --- Image reference check (used by tests/test_image_refs.py) ---------------------------------


class BrokenImageRef(NamedTuple):
    source: Path  # the notebook or markdown file containing the reference
    target: str  # the image path as written
    problem: str


_MARKDOWN_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\s*<?(?P<target>[^)\s>]+)>?[^)]*\)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"'](?P<target>[^\"']+)[\"']", re.IGNORECASE)
_CODE_FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
_NOT_A_FILE = ("http://", "https://", "data:", "attachment:", "mailto:")


def find_broken_image_refs(root: str | Path) -> list[BrokenImageRef]:
    """Image references in ``root``/README.md and ``root``/notebooks/**/*.ipynb that are broken.

    A reference is broken when its local file does not exist (paths resolve relative to the
    file that contains them) or when a markdown image has empty alt text. Web URLs, data URIs
    and notebook attachments are skipped; code blocks are ignored.
    """
    root = Path(root)
    broken = []
    for source, markdown in _markdown_sources(root):
        broken.extend(_broken_refs_in(source, _CODE_FENCE.sub("", markdown), root))
    return broken


def _markdown_sources(root: Path) -> Iterator[tuple[Path, str]]:
    readme = root / "README.md"
    if readme.is_file():
        yield readme, readme.read_text(encoding="utf-8")
    for notebook in sorted((root / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in notebook.parts:
            continue
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
        for cell in cells:
            if cell.get("cell_type") == "markdown":
                source = cell.get("source", "")
                yield notebook, source if isinstance(source, str) else "".join(source)


def _broken_refs_in(source: Path, markdown: str, root: Path) -> Iterator[BrokenImageRef]:
    for match in _MARKDOWN_IMAGE.finditer(markdown):
        if not match["alt"].strip():
            yield BrokenImageRef(source, match["target"], "empty alt text")
    targets = [m["target"] for m in _MARKDOWN_IMAGE.finditer(markdown)]
    targets += [m["target"] for m in _HTML_IMAGE.finditer(markdown)]
    for target in targets:
        if target.lower().startswith(_NOT_A_FILE):
            continue
        local = unquote(target.split("#", 1)[0].split("?", 1)[0])
        # A leading "/" means the repository root (as on GitHub), not the filesystem root.
        base = root if local.startswith("/") else source.parent
        if not (base / local.lstrip("/")).is_file():
            yield BrokenImageRef(source, target, "file not found")
