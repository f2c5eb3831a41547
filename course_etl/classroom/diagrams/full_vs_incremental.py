"""Lecture diagram 1: a full load copies the whole table each run, an incremental one new rows.

:func:`full_vs_incremental_figure` draws two lanes of three runs over the same growing source
table (one square per row, coloured by its ``updated_at`` tick): the full lane copies every row
each run, the incremental lane copies only the rows at or after the watermark line the
previous run left behind (``>=``: the row at the watermark is read again, which an upsert makes
harmless, so a row written later in that same second is not missed). Its alt text and its
bottom line are counted from the same tables.
"""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from course_etl.style import (
    FONT_HEADING,
    FONT_SMALL,
    INK,
    MONO,
    MUTED_INK,
    ROW_COLORS,
    draw_arrow,
    draw_band,
    draw_legend_from_handles,
    draw_text,
    new_canvas,
    set_alt_text,
    with_pinned_style,
)

_RUNS = ("run 1", "run 2", "run 3")
_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}
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


def _watermarks(incremental: bool) -> list[int | None]:
    """The watermark each run starts from: none for a full load or a first run, else the
    newest updated_at the previous run saw."""
    tables = _source_table_per_run()
    return [max(tables[i - 1].values()) if incremental and i else None
            for i in range(len(tables))]


def _copied_per_run(incremental: bool) -> list[list[int]]:
    """The row ids each run copies (every row, or only those at or after the watermark)."""
    return [[row_id for row_id, tick in table.items() if watermark is None or tick >= watermark]
            for table, watermark in zip(_source_table_per_run(), _watermarks(incremental),
                                        strict=True)]


def full_vs_incremental_alt() -> str:
    """What the diagram shows, counted from the tables it draws."""
    tables = _source_table_per_run()
    full, incremental = _copied_per_run(False), _copied_per_run(True)
    changed = sorted({i for before, after in zip(tables, tables[1:], strict=False)
                      for i in before if before[i] != after[i]})
    sizes = ", ".join(str(len(t)) for t in tables)
    return (f"Full vs incremental load over {len(tables)} runs of a source table that grows "
            f"to {sizes} rows. The full load copies every row on every run: "
            f"{', '.join(str(len(c)) for c in full)} rows, {sum(map(len, full))} in all. The "
            "incremental load copies only rows whose updated_at is at or after the watermark "
            f"the previous run left: {', '.join(str(len(c)) for c in incremental)} rows, "
            f"{sum(map(len, incremental))} in all, the new rows, the changed rows "
            f"(ids {', '.join(map(str, changed))}) and the row at the watermark, read again.")


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
        is_copied = watermark is None or tick >= watermark
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
        vacated = {first[row_id] for row_id in first if first[row_id] != table[row_id]}
        watermark = _watermarks(incremental)[run_index]
        copied = _draw_row_strip(ax, table, vacated, watermark, y, x_of_tick)
        draw_text(ax, (29, y), label, ha="right")
        draw_text(ax, (85, y), f"{copied:>2} of {len(table)}", family=MONO)
    return strip_ys


@with_pinned_style
def full_vs_incremental_figure() -> Figure:
    """Full load copies the whole table every run; incremental copies rows from a watermark."""
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
        "copies rows at or after\nthe watermark (updated_at >=):\nnew and changed rows",
        True, x_of_tick,
    )
    bottom = strip_ys[-1] - 3.2
    for after_run, tick, align in ((1, 8, "right"), (2, 12, "left")):
        # Each line starts at the run that set it and continues over the runs it filters.
        x = x_of_tick(tick) - (_TICK_STEP - _ROW_SQUARE) / 2  # just before the row at it
        top = strip_ys[after_run - 1] + 2.4
        ax.plot([x, x], [bottom, top], color=INK, linestyle="--", linewidth=1.6)
        label = "watermark after run 1" if after_run == 1 else "after run 2"
        nudge = -0.6 if align == "right" else 0.6
        draw_text(ax, (x + nudge, bottom + 0.3), label, ha=align, va="top", size=FONT_SMALL)
    draw_text(ax, (x_of_tick(9) + 0.5, strip_ys[0]), "no watermark yet: copies all",
          size=FONT_SMALL, color=MUTED_INK)
    draw_arrow(ax, (x_of_tick(1), 11.5), (x_of_tick(15) + 4.5, 11.5))
    draw_text(ax, (x_of_tick(15) + 5.3, 11.5), "updated_at", size=FONT_SMALL, color=MUTED_INK)
    full, incremental = (sum(map(len, _copied_per_run(i))) for i in (False, True))
    runs = _WORDS.get(len(_RUNS), len(_RUNS))
    draw_text(ax, (2.5, 7.5),
              f"Over {runs} runs the full load copies {full} rows, the incremental one "
              f"{incremental}.", size=FONT_SMALL, weight="bold")
    draw_legend_from_handles(ax, [
        Patch(facecolor=ROW_COLORS["copied"], edgecolor=INK, label="copied by this run"),
        Patch(facecolor=ROW_COLORS["not copied"], edgecolor=INK,
              label="not copied (already loaded)"),
        Patch(facecolor="none", edgecolor=MUTED_INK, linestyle=":",
              label="old slot of a row that changed"),
    ])
    return set_alt_text(fig, full_vs_incremental_alt())
