"""Notebook 01's panels: a source-system control panel and a scale-up comparison.

Both are thin front ends: the work is done by :class:`course_etl.loads.lab.LoadLab` and
:func:`course_etl.loads.lab.compare_at_scale`. Tables are rendered into ``HTML`` widgets and charts
into ``Image`` widgets (PNG bytes) by the shared :mod:`._render` helpers, so what a panel shows is a
widget value a test can read, and every callback runs inside the panel's error guard.
"""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Sequence

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure

from course_etl.classroom.diagrams import OKABE_ITO
from course_etl.classroom.widgets._render import (
    LazyTabs,
    Panel,
    chart,
    error_box,
    figure_png,
    guarded,
    label_style,
    row,
    show_figure,
    status_table,
)
from course_etl.classroom.widgets._status import status_html
from course_etl.errors import CourseEtlError
from course_etl.loads.lab import SOURCE, STRATEGIES, LoadLab, compare_at_scale
from course_etl.monitoring.loadlog import recorded_load
from course_etl.style import FONT_BODY, FONT_SMALL, pinned_style, set_alt_text

__all__ = [
    "source_control_panel",
    "scale_panel",
    "changes_html",
    "results_bars_html",
    "scale_chart_alt",
    "scale_chart_figure",
    "scale_chart_png",
    "speedup_label",
    "rows_differ",
]

STATUS_COLOURS = {  # light tints of the diagrams' Okabe-Ito colours, readable behind text
    "new": "#cde8d9",
    "changed": "#d6e6f4",
    "soft-deleted": "#f8edc4",
    "deleted": "#f3d5c6",
    "missing in warehouse": "#f3d5c6",
    "stale in warehouse": "#f8edc4",
    "deleted at source": "#e6e6e6",
}
CHANGE_KINDS = {  # slider label -> simulate_changes argument
    "inserts": "inserts",
    "updates": "updates",
    "soft deletes": "soft_deletes",
    "hard deletes": "hard_deletes",
    "late-arriving": "late",
    "same timestamp": "same_timestamp",
}
STRATEGY_LABELS = {"full": "Full load", "incremental": "Incremental load",
                   "recipe": "Lecture recipe"}


def changes_html(marked: pd.DataFrame, *, limit: int = 12) -> str:
    """The warehouse after a run: new/changed/deleted rows first and tinted, unchanged counted."""
    touched = marked[marked["status"] != "unchanged"]
    unchanged = len(marked) - len(touched)
    if touched.empty:
        return f"<p>No row changed in the warehouse ({unchanged} rows unchanged).</p>"
    return (status_table(touched, status_column="status", colours=STATUS_COLOURS, limit=limit)
            + f"<p>{unchanged} unchanged rows not shown.</p>")


def _diff_html(diff: pd.DataFrame) -> str:
    if diff.empty:
        return ("<p>" + status_html("in sync", "the warehouse matches the source row for row",
                                    kind="good") + "</p>")
    counts = diff["problem"].value_counts()
    summary = ", ".join(f"{n} {problem}" for problem, n in counts.items())
    return ("<p>" + status_html("out of sync", summary, kind="bad") + "</p>"
            + status_table(diff, status_column="problem", colours=STATUS_COLOURS, limit=12))


def rows_differ(count: int) -> str:
    """ "1 row differs", "3 rows differ"."""
    return f"{count} row differs" if count == 1 else f"{count} rows differ"


def speedup_label(speedup: float) -> str:
    """How much faster incremental was: "12× faster", "1.5× faster", "1.3× slower", "about the
    same" (a 0.75 ratio is a slow-down, never "1× faster")."""
    if speedup != speedup:  # NaN: the incremental load took no measurable time
        return "no measurable time"
    if 0.95 <= speedup <= 1.05:
        return "about the same"
    if speedup < 1:
        return f"{1 / speedup:.1f}× slower"
    return f"{speedup:.1f}× faster" if speedup < 10 else f"{speedup:.0f}× faster"


def _bar(value: float, largest: float, colour: str, text: str) -> str:
    width = 0 if largest <= 0 else max(1, round(240 * value / largest))
    return (f'<div style="display:flex;align-items:center;gap:6px;height:16px">'
            f'<div style="width:{width}px;height:12px;background:{colour}"></div>'
            f'<span style="font-size:13px">{html.escape(text)}</span></div>')


def results_bars_html(results: pd.DataFrame) -> str:
    """Rows read, rows written and milliseconds per run as horizontal bars.

    Plain HTML, not a matplotlib figure: it redraws in well under a millisecond on every click.
    """
    if results.empty:
        return "<p>No loads yet.</p>"
    most_rows = max(results["rows_read"].max(), results["rows_written"].max())
    most_ms = results["seconds"].max() * 1000
    lines = []
    for r in results.itertuples():
        lines.append(
            f'<tr><td>{r.run} · {html.escape(r.strategy)}</td><td>'
            + _bar(r.rows_read, most_rows, OKABE_ITO["sky_blue"], f"{r.rows_read} read")
            + _bar(r.rows_written, most_rows, OKABE_ITO["vermillion"],
                   f"{r.rows_written} written")
            + _bar(r.seconds * 1000, most_ms, OKABE_ITO["bluish_green"],
                   f"{r.seconds * 1000:.1f} ms")
            + "</td></tr>")
    return f'<div class="course-etl-table"><table>{"".join(lines)}</table></div>'


def scale_chart_figure(table: pd.DataFrame) -> Figure:
    """Full vs incremental seconds against source size (log-log), speed-up annotated."""
    with pinned_style():
        fig = Figure(figsize=(9, 4.2))
        ax = fig.subplots()
        # Marker and line style as well as colour: the two series differ without colour.
        ax.plot(table["source_rows"], table["full_seconds"], "o-", label="full load",
                color=OKABE_ITO["vermillion"])
        ax.plot(table["source_rows"], table["incremental_seconds"], "s--",
                label="incremental load (1% changed)", color=OKABE_ITO["blue"])
        for point in table.itertuples():
            ax.annotate(speedup_label(point.speedup),
                        (point.source_rows, point.incremental_seconds),
                        textcoords="offset points", xytext=(0, -16), ha="center",
                        fontsize=FONT_SMALL)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("source rows", fontsize=FONT_BODY)
        ax.set_ylabel("seconds", fontsize=FONT_BODY)
        ax.tick_params(labelsize=FONT_SMALL)
        ax.margins(x=0.12, y=0.25)  # room for the labels at both ends
        ax.set_title("Incremental loads cost what changed, full loads what exists",
                     fontsize=FONT_BODY + 1)
        ax.legend(fontsize=FONT_SMALL)
        # A fixed layout (no tight_layout) draws the figure once: it keeps a click fast.
        fig.subplots_adjust(left=0.1, right=0.97, bottom=0.15, top=0.9)
        return set_alt_text(fig, scale_chart_alt(table))


def scale_chart_alt(table: pd.DataFrame) -> str:
    """What the scale chart shows, from the same measurements."""
    points = "; ".join(
        f"{p.source_rows:,} rows: full {p.full_seconds:.3g} s, incremental "
        f"{p.incremental_seconds:.3g} s, {speedup_label(p.speedup)}" for p in table.itertuples())
    return ("Seconds of a full load and an incremental load (1% of rows changed) against "
            f"source size, on log scales, {len(table)} sizes: {points}.")


def scale_chart_png(table: pd.DataFrame) -> bytes:
    """The scale chart as PNG bytes at two pixels per CSS pixel: display it with
    ``IPython.display.Image(data, retina=True)``."""
    return figure_png(scale_chart_figure(table))


def source_control_panel(
    conn: sqlite3.Connection, *, rows: int = 200, seed: int = 7
) -> Panel:
    """The load lab as a panel: change the source, run a strategy, see what it did and missed.

    The returned panel carries ``.lab`` (the :class:`LoadLab`) and ``.controls`` (name → widget)
    so tests and instructors can drive it.
    """
    lab = LoadLab(conn, rows=rows, seed=seed)
    # Each click is a run of the warehouse's run log, started by the notebook, like every load.
    lab.record = lambda load, mode, target: recorded_load(
        conn, load, mode=mode, source=SOURCE, target=target, started_by="notebook")
    sliders = {label: widgets.IntSlider(value=0, min=0, max=20, description=label,
                                        style=label_style())
               for label in CHANGE_KINDS}
    lookback = widgets.IntSlider(value=0, min=0, max=72, step=1, description="lookback (h)",
                                 style=label_style())
    reconcile = widgets.Checkbox(value=False, description="reconcile hard deletes",
                                 indent=False, layout=widgets.Layout(width="auto"))
    apply = widgets.Button(description="Apply changes at source", icon="pencil",
                           layout=widgets.Layout(width="auto"))
    buttons = {name: widgets.Button(description=label, button_style="primary",
                                    layout=widgets.Layout(width="auto"))
               for name, label in STRATEGY_LABELS.items()}
    reset = widgets.Button(description="Reset", icon="undo",
                           layout=widgets.Layout(width="auto"))
    status = widgets.HTML()
    warehouse, diff, results = widgets.HTML(), widgets.HTML(), widgets.HTML()
    bars = widgets.HTML()
    tabs = widgets.Tab(children=[warehouse, diff, results, bars])
    for index, title in enumerate(["Warehouse", "Source vs warehouse", "Runs", "Chart"]):
        tabs.set_title(index, title)
    pages = LazyTabs(tabs, [warehouse, diff, results, bars])

    def runs_table() -> str:
        table = lab.results()
        # The recipe cannot tell inserts from updates: "?" here as in the status line.
        return ("<p>No loads yet.</p>" if table.empty else status_table(
            table.assign(seconds=table["seconds"].round(4)), na_rep="?"))

    def show_runs() -> None:
        pages.show(results, runs_table)
        pages.show(bars, lambda: results_bars_html(lab.results()))

    @guarded(status)
    def on_apply(_button) -> None:
        counts = {CHANGE_KINDS[label]: s.value for label, s in sliders.items()}
        try:
            changes = lab.apply_changes(**counts)
        except (CourseEtlError, ValueError) as error:
            status.value = error_box(f"Not applied: {error}")
            return
        done = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in changes.counts().items() if n)
        status.value = f"Source changed at {changes.at}: {done or 'nothing'}."

    def on_load(strategy: str):
        @guarded(status)
        def handler(_button) -> None:
            lab.lookback_hours, lab.reconcile_deletes = lookback.value, reconcile.value
            run = lab.run(strategy)
            r = run.result
            status.value = (
                f"Run {run.number} · <b>{STRATEGY_LABELS[strategy]}</b> into "
                f"<code>{STRATEGIES[strategy]}</code>: read {r.rows_read}, inserted "
                f"{r.inserted if r.inserted is not None else '?'}, updated "
                f"{r.updated if r.updated is not None else '?'}, deleted {r.deleted}; "
                + (status_html("in sync", kind="good") if run.diff.empty
                   else status_html("out of sync", rows_differ(len(run.diff)), kind="bad")))
            pages.show(warehouse, lambda: changes_html(run.marked))
            pages.show(diff, lambda: _diff_html(run.diff))
            show_runs()
        return handler

    @guarded(status)
    def on_reset(_button) -> None:
        lab.reset()
        status.value = (f"Reset: a fresh source of {rows} rows, every warehouse loaded once.")
        pages.show(warehouse, str)
        pages.show(diff, str)
        show_runs()

    apply.on_click(on_apply)
    for name, button in buttons.items():
        button.on_click(on_load(name))
    reset.on_click(on_reset)
    on_reset(None)
    slider_list = list(sliders.values())
    box = Panel([
        widgets.HTML("<b>Source system</b>: choose changes, apply them, then load."),
        row([widgets.VBox(slider_list[:3]), widgets.VBox(slider_list[3:])],
            align_items="flex-start"),
        row([apply, lookback, reconcile]),
        row([*buttons.values(), reset]),
        status, tabs,
    ], title="Source-system control panel (notebook 01)",
        controls={**sliders, "lookback": lookback, "reconcile": reconcile, "apply": apply,
                  **buttons, "reset": reset, "status": status, "warehouse": warehouse,
                  "diff": diff, "results": results, "chart": bars, "tabs": tabs})
    box.lab = lab
    return box


def scale_panel(
    sizes: Sequence[int] = (1_000, 10_000, 100_000, 1_000_000), *, value: int = 10_000
) -> Panel:
    """Pick a largest size, press Measure: full vs incremental timings for every size up to it.

    Carries ``.controls`` (name → widget) and ``.table`` (the last measurements) for tests.
    """
    size = widgets.SelectionSlider(options=[(f"{s:,}", s) for s in sizes], value=value,
                                   description="up to", style=label_style())
    measure = widgets.Button(description="Measure", button_style="primary", icon="play",
                             layout=widgets.Layout(width="auto"))
    progress = widgets.IntProgress(value=0, min=0, max=1, description="")
    step = widgets.Label()
    status = widgets.HTML()
    figure = chart()
    table = widgets.HTML()

    def restore() -> None:
        measure.disabled = False

    @guarded(status, before=restore)
    def on_measure(_button) -> None:
        chosen = [s for s in sizes if s <= size.value]
        progress.max, progress.value = 3 * len(chosen), 0  # build, full, incremental
        status.value = ""

        def advance(text: str) -> None:
            progress.value += 1
            step.value = text

        measure.disabled = True
        measured = compare_at_scale(chosen, progress=False, on_step=advance)
        step.value = "done"
        show_figure(figure, scale_chart_figure(measured))
        table.value = status_table(measured.round(4))
        box.table = measured
        measure.disabled = False

    measure.on_click(on_measure)
    box = Panel([row([size, measure, progress, step]), status, figure, table],
                title="Scale-up comparison (notebook 01)",
                controls={"size": size, "measure": measure, "progress": progress, "step": step,
                          "status": status, "chart": figure, "table": table})
    box.table = None
    return box
