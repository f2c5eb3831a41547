"""The five lecture diagrams of Session 6, drawn with matplotlib only.

Each ``*_figure()`` function returns a :class:`matplotlib.figure.Figure` built without pyplot, so
drawing works headless (Agg), leaks no global figures and shows inline in Jupyter. All pictures
share the visual language of :mod:`course_etl.style`: the colour-blind safe Okabe–Ito palette, the
same box, arrow and label helpers, the same font sizes and one fixed canvas.
``draw_all(out_dir)`` writes every picture as PNG; output is byte-identical across runs because
the style is pinned and the PNG carries no version or timestamp metadata. ``DIAGRAMS`` maps file
names to drawing functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from course_etl.style import (
    CHECK_COLORS,
    CONFIG_LAYER_COLORS,
    DPI,
    FONT_BODY,
    FONT_HEADING,
    FONT_SMALL,
    INK,
    MEDALLION_COLORS,
    MONO,
    MUTED_INK,
    OKABE_ITO,
    ROW_COLORS,
    TASK_STATE_COLORS,
    Box,
    draw_arrow,
    draw_band,
    draw_box,
    draw_legend,
    draw_legend_from_handles,
    draw_panel,
    draw_text,
    new_canvas,
    pinned_style,
    with_pinned_style,
)

__all__ = [
    "DIAGRAMS",
    "draw",
    "draw_all",
    "full_vs_incremental_figure",
    "job_scheduling_figure",
    "medallion_architecture_figure",
    "monitoring_figure",
    "parameterization_figure",
]

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
    draw_band(ax, (1, top - 17.5), 98, 17.5)
    draw_text(ax, (2.5, top - 3), heading, size=FONT_HEADING, weight="bold")
    draw_text(ax, (2.5, top - 9.2), explanation, size=FONT_SMALL, color=MUTED_INK, linespacing=1.4)
    draw_text(ax, (84, top - 1.6), "rows copied", size=FONT_SMALL, color=MUTED_INK)
    strip_ys = [top - 4.6 - 4.4 * i for i in range(len(_RUNS))]
    tables = _source_table_per_run()
    first = tables[0]
    for run_index, (label, table, y) in enumerate(zip(_RUNS, tables, strip_ys, strict=True)):
        previous = tables[run_index - 1] if run_index else {}
        vacated = {first[row_id] for row_id in first if first[row_id] != table[row_id]}
        watermark = max(previous.values()) if incremental and previous else None
        copied = _draw_row_strip(ax, table, vacated, watermark, y, x_of_tick)
        draw_text(ax, (29, y), label, ha="right")
        draw_text(ax, (85, y), f"{copied:>2} of {len(table)}", family=MONO)
    return strip_ys


@with_pinned_style
def full_vs_incremental_figure() -> Figure:
    """Full load copies the whole table every run; incremental copies rows past a watermark."""
    fig, ax = new_canvas(
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
        draw_text(ax, (x + nudge, bottom + 0.3), label, ha=align, va="top", size=FONT_SMALL)
    draw_text(ax, (x_of_tick(9) + 0.5, strip_ys[0]), "no watermark yet: copies all",
          size=FONT_SMALL, color=MUTED_INK)
    draw_arrow(ax, (x_of_tick(1), 11.5), (x_of_tick(15) + 4.5, 11.5))
    draw_text(ax, (x_of_tick(15) + 5.3, 11.5), "updated_at", size=FONT_SMALL, color=MUTED_INK)
    draw_text(ax, (2.5, 7.5),
              "Over three runs the full load copies 32 rows, the incremental one 15.",
          size=FONT_SMALL, weight="bold")
    draw_legend_from_handles(ax, [
        Patch(facecolor=ROW_COLORS["copied"], edgecolor=INK, label="copied by this run"),
        Patch(facecolor=ROW_COLORS["not copied"], edgecolor=INK,
              label="not copied (already loaded)"),
        Patch(facecolor="none", edgecolor=MUTED_INK, linestyle=":",
              label="old slot of a row that changed"),
    ])
    return fig


# --- 2. Job scheduling ------------------------------------------------------------------------


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
    return fig


def _draw_cron_timeline(ax: Axes) -> None:
    cron = draw_box(ax, (2, 41.5), 19, 9, "", "white")
    draw_text(ax, (cron.x + cron.w / 2, 47.6), "5 2 * * *", ha="center", family=MONO,
          size=FONT_HEADING, weight="bold")
    draw_text(ax, (cron.x + cron.w / 2, 43.9), "cron: 02:05 every day", ha="center",
              size=FONT_SMALL)
    line_y = 46
    draw_arrow(ax, (26, line_y), (97.5, line_y))
    draw_text(ax, (97.5, line_y - 1.8), "time", ha="right", size=FONT_SMALL, color=MUTED_INK)
    draw_arrow(ax, cron.right, (30, line_y), linestyle="--")
    days = ("Mon 3 Jun", "Tue 4 Jun", "Wed 5 Jun", "Thu 6 Jun")
    notes = ("success", "success", "running (below)", "scheduled")
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
    tasks = {
        "extract": ((5, 19.5), "success"),
        "load_orders": ((28, 26.5), "success"),
        "check_orders": ((52, 26.5), "up_for_retry"),
        "load_rates": ((28, 12.5), "failed"),
        "check_rates": ((52, 12.5), "upstream_failed"),
        "publish": ((78, 19.5), "upstream_failed"),
    }
    boxes = {
        name: draw_box(ax, xy, w, h, f"{name}\n{state}", TASK_STATE_COLORS[state], size=FONT_SMALL)
        for name, (xy, state) in tasks.items()
    }
    dependencies = (
        ("extract", "load_orders"), ("extract", "load_rates"),
        ("load_orders", "check_orders"), ("load_rates", "check_rates"),
        ("check_orders", "publish"), ("check_rates", "publish"),
    )
    for upstream, downstream in dependencies:
        draw_arrow(ax, boxes[upstream].right, boxes[downstream].left)
    retry_box, failed_box = boxes["check_orders"], boxes["load_rates"]
    draw_text(ax, (retry_box.x + w / 2, retry_box.y - 1.6), "↻ retry 1/2 at 02:24", ha="center",
          size=FONT_SMALL)
    draw_text(ax, (failed_box.x + w / 2, failed_box.y - 1.6), "retries used up (2/2)", ha="center",
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


@with_pinned_style
def monitoring_figure() -> Figure:
    """A run emits metrics; checks compare them to thresholds; a failure alerts a channel."""
    fig, ax = new_canvas(
        "Monitoring: metrics → checks → alerts",
        "Every run records what it did; checks compare the numbers with thresholds, and only a "
        "failure wakes someone up.",
    )
    run = draw_panel(ax, (2, 31), 22, 19.5, "run #42", OKABE_ITO["sky_blue"])
    draw_text(ax, (run.x + 1.2, 39.4),
          "status: success\nduration: 4 m 12 s\nrows_loaded: 310\nnewest row: 26 h old",
          family=MONO, size=FONT_SMALL, linespacing=1.7)
    _draw_rows_chart(fig)
    draw_arrow(ax, run.right, (31, run.right[1]))
    draw_text(ax, (27.5, run.right[1] + 1.3), "history", ha="center", size=FONT_SMALL,
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
    box = draw_box(ax, (74, 31), 24, 19.5, "", "white")
    draw_text(ax, (box.x + 1.2, 47.8), "thresholds", weight="bold", size=FONT_SMALL)
    draw_text(ax, (box.x + 1.2, 39.2),
          "row count: inside the band\nlearned from past runs\n\nfreshness: ≤ 24 h\n\n"
          "nulls: ≤ 1 % per column",
          size=FONT_SMALL, linespacing=1.35)
    draw_arrow(ax, box.bottom, (box.bottom[0], 28))


def _draw_checks_and_routes(ax: Axes, run: Box) -> None:
    """One column per check: the check result above the channel it is routed to."""
    draw_band(ax, (1, 16), 98, 12)
    draw_text(ax, (2.5, 26.2), "checks on run #42", size=FONT_HEADING, weight="bold")
    draw_arrow(ax, run.bottom, (run.bottom[0], 28))
    for index, (result, check, measured, route) in enumerate(_CHECKS):
        x = 26 + 24.5 * index
        check_box = draw_box(ax, (x, 17), 22.5, 7.8, "", CHECK_COLORS[result])
        draw_text(ax, (x + 1.2, 22.6), f"{check}: {result.upper()}", weight="bold", size=FONT_SMALL)
        draw_text(ax, (x + 1.2, 19.4), measured, size=FONT_SMALL)
        is_alert = result == "fail"
        channel = draw_box(ax, (x, 2.5), 22.5, 8, route,
                       OKABE_ITO["reddish_purple"] if is_alert else "white", size=FONT_SMALL,
                       weight="bold" if is_alert else "normal")
        draw_arrow(ax, check_box.bottom, channel.top, linestyle="-" if is_alert else "--")
    draw_text(ax, (2.5, 6.5), "where each\nresult goes", size=FONT_HEADING, weight="bold",
          linespacing=1.3)


# --- 4. Parameterization ----------------------------------------------------------------------

_CONFIG_LAYERS = (  # (layer, where it lives, settings it provides), lowest precedence first:
    # the five layers of course_etl.config.load_config, with values from the course's configs.
    ("defaults", "in code: config/schema.py", "every key, e.g. smtp_user=None"),
    ("base file", "configs/base.yaml", "watermark_column=updated_at"),
    ("environment file", "configs/<env>.yaml", "batch_size=50 | lookback_hours=2"),
    ("environment variables", "prod server only", "COURSE_ETL_LOAD__BATCH_SIZE=250"),
    ("explicit overrides", "one run: --set", "load.lookback_hours=6"),
)
_RESOLVED = {  # run -> [(key = value, winning layer)], as load_config resolves them
    "dev run (with --set)": [
        ("batch_size = 50", "environment file"),
        ("lookback_hours = 6", "explicit overrides"),
        ("watermark_column = updated_at", "base file"),
        ("smtp_user = None", "defaults"),
    ],
    "prod run (server)": [
        ("batch_size = 250", "environment variables"),
        ("lookback_hours = 2", "environment file"),
        ("watermark_column = updated_at", "base file"),
        ("smtp_user = None", "defaults"),
    ],
}


def parameterization_figure() -> Figure:
    """Configuration layers merge by precedence into the config that one codebase runs with."""
    fig, ax = new_canvas(
        "Parameterization: layered configuration, one codebase",
        "Each layer only sets what it knows; for every key the highest layer that sets it wins.",
    )
    layer_boxes = _draw_config_stack(ax)
    resolved_boxes = _draw_resolved_configs(ax)
    merge_from = (layer_boxes[0].x + layer_boxes[0].w, 27)
    for resolved in resolved_boxes:
        draw_arrow(ax, merge_from, resolved.left)
    draw_text(ax, (43.4, 28.6), "merge", ha="center", size=FONT_SMALL, color=MUTED_INK)
    code = draw_box(ax, (82, 22.5), 16.5, 9, "", "white")
    draw_text(ax, (code.x + code.w / 2, 29), "same code", ha="center", weight="bold",
              size=FONT_SMALL)
    draw_text(ax, (code.x + code.w / 2, 25.5), "run_pipeline(cfg)", ha="center", family=MONO,
          size=FONT_SMALL)
    for resolved in resolved_boxes:
        draw_arrow(ax, resolved.right, code.left)
    return fig


def _draw_config_stack(ax: Axes) -> list[Box]:
    """Layers bottom (defaults) to top (overrides), with a precedence arrow beside them."""
    boxes = []
    for index, (layer, source, settings) in enumerate(_CONFIG_LAYERS):
        y = 5 + 9 * index
        box = draw_box(ax, (6, y), 34, 8, "", CONFIG_LAYER_COLORS[layer])
        draw_text(ax, (7.2, y + 5.9), f"{index + 1}. {layer}", weight="bold", size=FONT_SMALL)
        draw_text(ax, (38.8, y + 5.9), source, ha="right", size=FONT_SMALL)
        draw_text(ax, (7.2, y + 2.2), settings, family=MONO, size=FONT_SMALL)
        boxes.append(box)
    draw_arrow(ax, (3, 6), (3, 49))
    draw_text(ax, (1.6, 27.5), "precedence: higher layer wins", rotation=90, ha="center",
          size=FONT_SMALL, color=MUTED_INK)
    return boxes


def _draw_resolved_configs(ax: Axes) -> list[Box]:
    boxes = []
    for index, (run, settings) in enumerate(_RESOLVED.items()):
        top = 49 - 23 * index
        box = draw_box(ax, (47, top - 20), 29, 20, "", "white")
        draw_text(ax, (48.3, top - 2.4), f"resolved config: {run}", weight="bold", size=FONT_SMALL)
        for line, (setting, layer) in enumerate(settings):
            y = top - 6.5 - 3.6 * line
            ax.add_patch(Rectangle((48.3, y - 1.1), 2.2, 2.2,
                                   facecolor=CONFIG_LAYER_COLORS[layer], edgecolor=INK))
            draw_text(ax, (51.5, y), setting, family=MONO, size=FONT_SMALL)
        boxes.append(box)
    draw_text(ax, (61.5, 3.5), "square colour = layer that set the value", ha="center",
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


@with_pinned_style
def medallion_architecture_figure() -> Figure:
    """Sources flow through bronze, silver and gold layers to the people and models using them."""
    fig, ax = new_canvas(
        "Medallion architecture",
        "Each layer is built only from the layer before it, so any layer can be rebuilt from "
        "the one below.",
    )
    draw_text(ax, (8.5, 49), "sources", ha="center", weight="bold", size=FONT_HEADING)
    sources = _box_column(ax, 2, 13, ["orders API", "CRM export\n(CSV)", "payments DB"])
    panels = [_draw_layer(ax, 20.5 + 21.5 * index, *layer) for index, layer in enumerate(_LAYERS)]
    draw_box(ax, (panels[1].x + 2, 15), 13.5, 5.5, "silver.rejects", "white", size=FONT_SMALL,
         family=MONO, linestyle="--")
    draw_text(ax, (92.25, 49), "consumers", ha="center", weight="bold", size=FONT_HEADING)
    consumers = _box_column(ax, 86, 12.5, ["dashboards", "ML features", "reports"])
    for source in sources:
        draw_arrow(ax, source.right, (panels[0].x, source.right[1]))
    for left, right in zip(panels, panels[1:], strict=False):
        draw_arrow(ax, left.right, right.left)
    for consumer in consumers:
        draw_arrow(ax, (panels[-1].x + panels[-1].w, consumer.left[1]), consumer.left)
    draw_arrow(ax, (panels[0].x, 8.5), (panels[-1].x + panels[-1].w, 8.5))
    draw_text(ax, (50, 5.7), "cleaner, more trusted, closer to business questions", ha="center",
          size=FONT_SMALL, color=MUTED_INK)
    return fig


def _draw_layer(
    ax: Axes, x: float, layer: str, tables: list[str], adds: list[str], record: list[str]
) -> Box:
    panel = draw_panel(ax, (x, 12), 17.5, 38.5, layer, MEDALLION_COLORS[layer])
    y = 44.5
    for table in tables:
        draw_text(ax, (x + 1.2, y), table, family=MONO, size=FONT_SMALL)
        y -= 2.7
    y -= 1.5
    for line in adds:
        draw_text(ax, (x + 1.2, y), f"• {line}", size=FONT_SMALL)
        y -= 2.7
    draw_text(ax, (x + 1.2, 28), "one record:", size=FONT_SMALL, color=MUTED_INK)
    draw_text(ax, (x + 1.2, 24.2), "\n".join(record), family=MONO, size=FONT_SMALL,
          linespacing=1.4)
    return panel


def _box_column(ax: Axes, x: float, w: float, labels: list[str]) -> list[Box]:
    return [
        draw_box(ax, (x, 38 - 11 * index), w, 7.5, label, "white", size=FONT_SMALL)
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
    with pinned_style():
        # No "Software" entry: the PNG then holds no matplotlib version, so files only change
        # when the picture does.
        figure.savefig(out_path, dpi=DPI, facecolor="white", metadata={"Software": None})
    return out_path


def draw_all(out_dir: str | Path) -> list[Path]:
    """Draw every diagram into ``out_dir`` (created if missing); paths in ``DIAGRAMS`` order."""
    return [draw(name, out_dir) for name in DIAGRAMS]


