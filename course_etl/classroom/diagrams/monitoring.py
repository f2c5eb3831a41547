"""Lecture diagram 3: a run emits metrics, checks compare them to thresholds, failures alert.

:func:`monitoring_figure` draws a rows-per-run chart with its expected band (the last run far
below it), then one column per check with its result above the channel the result is routed to.
Its alt text is written from the same rows, band and checks.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_etl.style import (
    CHECK_COLORS,
    FONT_BODY,
    FONT_HEADING,
    FONT_SMALL,
    INK,
    MONO,
    MUTED_INK,
    OKABE_ITO,
    Box,
    draw_arrow,
    draw_band,
    draw_box,
    draw_panel,
    draw_text,
    new_canvas,
    set_alt_text,
    text_on,
    with_pinned_style,
)

_ROWS_PER_RUN = (1012, 987, 1040, 995, 1021, 968, 1003, 1057, 979, 1015, 992, 1034, 310)
_FIRST_RUN = 30
_LAST_RUN = _FIRST_RUN + len(_ROWS_PER_RUN) - 1
_EXPECTED_ROWS = (900, 1100)
_CHECKS = (  # (result, check, measured vs threshold, where the result goes)
    ("pass", "nulls in customer_id", "0.1 % ≤ 1 %", "kept in run history\n(no message)"),
    ("warn", "freshness", "newest row 26 h old > 24 h", "daily digest e-mail\n(next morning)"),
    ("fail", "row count", "310 outside 900–1100", "webhook → #data-alerts\n+ page on-call (now)"),
)


def monitoring_alt() -> str:
    """What the diagram shows, from the rows per run, the expected band and the checks."""
    low, high = _EXPECTED_ROWS
    last = _LAST_RUN
    inside = [r for r in _ROWS_PER_RUN if low <= r <= high]
    outside = [(_FIRST_RUN + i, r) for i, r in enumerate(_ROWS_PER_RUN) if not low <= r <= high]
    checks = "; ".join(f"{check}: {result} ({measured}), routed to {' '.join(route.split())}"
                       for result, check, measured, route in _CHECKS)
    return (f"Monitoring: metrics, checks, alerts. A chart of rows_loaded for runs {_FIRST_RUN} "
            f"to {last}: {len(inside)} runs between {min(inside)} and {max(inside)}, inside the "
            f"expected band {low}–{high}; "
            + ", ".join(f"run {run} loaded {rows}, an anomaly" for run, rows in outside)
            + f". {len(_CHECKS)} checks on run #{last}: {checks}.")


@with_pinned_style
def monitoring_figure() -> Figure:
    """A run emits metrics; checks compare them to thresholds; a failure alerts a channel."""
    fig, ax = new_canvas(
        "Monitoring: metrics → checks → alerts",
        "Every run records what it did; checks compare the numbers with thresholds, and only a "
        "failure wakes someone up.",
    )
    run = draw_panel(ax, (2, 31), 22, 19.5, f"run #{_LAST_RUN}", OKABE_ITO["sky_blue"])
    draw_text(ax, (run.x + 1.2, 39.4),
          "status: success\nduration: 4 m 12 s\n"
          f"rows_loaded: {_ROWS_PER_RUN[-1]}\nnewest row: 26 h old",
          family=MONO, size=FONT_SMALL, linespacing=1.7)
    _draw_rows_chart(fig)
    draw_arrow(ax, run.right, (31, run.right[1]))
    draw_text(ax, (27.5, run.right[1] + 1.3), "history", ha="center", size=FONT_SMALL,
          color=MUTED_INK)
    _draw_thresholds(ax)
    _draw_checks_and_routes(ax, run)
    return set_alt_text(fig, monitoring_alt())


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
    draw_text(ax, (2.5, 26.2), f"checks on run #{_LAST_RUN}", size=FONT_HEADING, weight="bold")
    draw_arrow(ax, run.bottom, (run.bottom[0], 28))
    for index, (result, check, measured, route) in enumerate(_CHECKS):
        x = 26 + 24.5 * index
        check_box = draw_box(ax, (x, 17), 22.5, 7.8, "", CHECK_COLORS[result])
        ink = text_on(CHECK_COLORS[result])
        draw_text(ax, (x + 1.2, 22.6), f"{check}: {result.upper()}", weight="bold",
                  size=FONT_SMALL, color=ink)
        draw_text(ax, (x + 1.2, 19.4), measured, size=FONT_SMALL, color=ink)
        is_alert = result == "fail"
        channel = draw_box(ax, (x, 2.5), 22.5, 8, route,
                       OKABE_ITO["reddish_purple"] if is_alert else "white", size=FONT_SMALL,
                       weight="bold" if is_alert else "normal")
        draw_arrow(ax, check_box.bottom, channel.top, linestyle="-" if is_alert else "--")
    draw_text(ax, (2.5, 6.5), "where each\nresult goes", size=FONT_HEADING, weight="bold",
          linespacing=1.3)
