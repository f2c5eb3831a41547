"""Notebook 01's panels: a source-system control panel and a scale-up comparison.

Both are thin front ends: the work is done by :class:`course_etl.loads.lab.LoadLab` and
:func:`course_etl.loads.lab.compare_at_scale`. Tables are rendered into ``HTML`` widgets and charts
into ``Image`` widgets (PNG bytes), so what a panel shows is a widget value a test can read.
"""

from __future__ import annotations

import html
import io
import sqlite3
from collections.abc import Sequence

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure

from course_etl.classroom.diagrams import OKABE_ITO
from course_etl.errors import CourseEtlError
from course_etl.loads.lab import STRATEGIES, LoadLab, compare_at_scale

__all__ = [
    "source_control_panel",
    "scale_panel",
    "changes_html",
    "results_bars_html",
    "scale_chart_png",
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


def _table_html(frame: pd.DataFrame, status_column: str, *, limit: int = 12) -> str:
    """An HTML table with each row tinted by its status; rows past ``limit`` are summarised."""
    shown = frame.head(limit)
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    for _, row in shown.iterrows():
        colour = STATUS_COLOURS.get(row[status_column], "#ffffff")
        cells = "".join(
            f"<td>{'' if pd.isna(v) else html.escape(str(v))}</td>" for v in row.to_numpy())
        body.append(f'<tr style="background:{colour}">{cells}</tr>')
    more = len(frame) - len(shown)
    note = f"<p><i>… and {more} more rows</i></p>" if more > 0 else ""
    return (f'<table style="border-collapse:collapse;font-size:12px"><tr>{header}</tr>'
            f"{''.join(body)}</table>{note}")


def changes_html(marked: pd.DataFrame, *, limit: int = 12) -> str:
    """The warehouse after a run: new/changed/deleted rows first and tinted, unchanged counted."""
    touched = marked[marked["status"] != "unchanged"]
    unchanged = len(marked) - len(touched)
    if touched.empty:
        return f"<p>No row changed in the warehouse ({unchanged} rows unchanged).</p>"
    return (_table_html(touched, "status", limit=limit)
            + f"<p>{unchanged} unchanged rows not shown.</p>")


def _diff_html(diff: pd.DataFrame) -> str:
    if diff.empty:
        return "<p>✅ The warehouse matches the source row for row.</p>"
    counts = diff["problem"].value_counts()
    summary = ", ".join(f"{n} {problem}" for problem, n in counts.items())
    return f"<p>❌ {summary}</p>" + _table_html(diff, "problem")


def _png(fig: Figure) -> bytes:
    # A fixed layout (no tight_layout, no bbox_inches="tight") draws the figure once, not three
    # times: it keeps a panel click fast.
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def _bar(value: float, largest: float, colour: str, text: str) -> str:
    width = 0 if largest <= 0 else max(1, round(240 * value / largest))
    return (f'<div style="display:flex;align-items:center;gap:6px;height:16px">'
            f'<div style="width:{width}px;height:12px;background:{colour}"></div>'
            f'<span style="font-size:11px">{html.escape(text)}</span></div>')


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
            f'<tr><td style="padding-right:8px">{r.run} · {html.escape(r.strategy)}</td><td>'
            + _bar(r.rows_read, most_rows, OKABE_ITO["sky_blue"], f"{r.rows_read} read")
            + _bar(r.rows_written, most_rows, OKABE_ITO["vermillion"],
                   f"{r.rows_written} written")
            + _bar(r.seconds * 1000, most_ms, OKABE_ITO["bluish_green"],
                   f"{r.seconds * 1000:.1f} ms")
            + "</td></tr>")
    return f'<table style="border-collapse:collapse">{"".join(lines)}</table>'


def scale_chart_png(table: pd.DataFrame) -> bytes:
    """Full vs incremental seconds against source size (log-log), speedup annotated."""
    fig = Figure(figsize=(7.5, 3.4))
    ax = fig.subplots()
    ax.plot(table["source_rows"], table["full_seconds"], "o-", label="full load",
            color=OKABE_ITO["vermillion"])
    ax.plot(table["source_rows"], table["incremental_seconds"], "o-",
            label="incremental load (1% changed)", color=OKABE_ITO["blue"])
    for row in table.itertuples():
        ax.annotate(f"{row.speedup:.0f}× faster", (row.source_rows, row.incremental_seconds),
                    textcoords="offset points", xytext=(0, -14), ha="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("source rows")
    ax.set_ylabel("seconds")
    ax.set_title("Incremental loads cost what changed, full loads what exists", fontsize=10)
    ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.16, top=0.9)
    return _png(fig)


def source_control_panel(
    conn: sqlite3.Connection, *, rows: int = 200, seed: int = 7
) -> widgets.VBox:
    """The load lab as a panel: change the source, run a strategy, see what it did and missed.

    The returned box carries ``.lab`` (the :class:`LoadLab`) and ``.controls`` (name → widget)
    so tests and instructors can drive it.
    """
    lab = LoadLab(conn, rows=rows, seed=seed)
    sliders = {label: widgets.IntSlider(value=0, min=0, max=20, description=label,
                                        style={"description_width": "110px"})
               for label in CHANGE_KINDS}
    lookback = widgets.IntSlider(value=0, min=0, max=72, step=1,
                                 description="lookback (h)",
                                 style={"description_width": "110px"})
    reconcile = widgets.Checkbox(value=False, description="reconcile hard deletes")
    apply = widgets.Button(description="Apply changes at source", icon="pencil",
                           layout=widgets.Layout(width="220px"))
    buttons = {name: widgets.Button(description=label, button_style="primary")
               for name, label in STRATEGY_LABELS.items()}
    reset = widgets.Button(description="Reset", button_style="warning", icon="undo")
    status = widgets.HTML()
    warehouse, diff, results = widgets.HTML(), widgets.HTML(), widgets.HTML()
    chart = widgets.HTML()
    tabs = widgets.Tab(children=[warehouse, diff, results, chart])
    for index, title in enumerate(["Warehouse", "Source vs warehouse", "Runs", "Chart"]):
        tabs.set_title(index, title)

    def show_runs() -> None:
        table = lab.results()
        results.value = ("<p>No loads yet.</p>" if table.empty else
                         table.assign(seconds=table["seconds"].round(4)).to_html(index=False))
        chart.value = results_bars_html(table)

    def on_apply(_button) -> None:
        counts = {CHANGE_KINDS[label]: s.value for label, s in sliders.items()}
        try:
            changes = lab.apply_changes(**counts)
        except (CourseEtlError, ValueError) as error:
            status.value = f"<b style='color:#D55E00'>Not applied: {html.escape(str(error))}</b>"
            return
        done = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in changes.counts().items() if n)
        status.value = f"Source changed at {changes.at}: {done or 'nothing'}."

    def on_load(strategy: str):
        def handler(_button) -> None:
            lab.lookback_hours, lab.reconcile_deletes = lookback.value, reconcile.value
            run = lab.run(strategy)
            r = run.result
            status.value = (
                f"Run {run.number} · <b>{STRATEGY_LABELS[strategy]}</b> into "
                f"<code>{STRATEGIES[strategy]}</code>: read {r.rows_read}, inserted "
                f"{r.inserted if r.inserted is not None else '?'}, updated "
                f"{r.updated if r.updated is not None else '?'}, deleted {r.deleted}; "
                f"{'✅ in sync' if run.diff.empty else f'❌ {len(run.diff)} rows differ'}")
            warehouse.value = changes_html(run.marked)
            diff.value = _diff_html(run.diff)
            show_runs()
        return handler

    def on_reset(_button) -> None:
        lab.reset()
        status.value = (f"Reset: a fresh source of {rows} rows, every warehouse loaded once.")
        warehouse.value = diff.value = ""
        show_runs()

    apply.on_click(on_apply)
    for name, button in buttons.items():
        button.on_click(on_load(name))
    reset.on_click(on_reset)
    on_reset(None)
    slider_list = list(sliders.values())
    box = widgets.VBox([
        widgets.HTML("<b>Source system</b>: choose changes, apply them, then load."),
        widgets.HBox([widgets.VBox(slider_list[:3]), widgets.VBox(slider_list[3:])]),
        widgets.HBox([apply, lookback, reconcile]),
        widgets.HBox([*buttons.values(), reset]),
        status, tabs,
    ])
    box.lab = lab
    box.controls = {**sliders, "lookback": lookback, "reconcile": reconcile, "apply": apply,
                    **buttons, "reset": reset, "status": status, "warehouse": warehouse,
                    "diff": diff, "results": results, "chart": chart}
    return box


def scale_panel(
    sizes: Sequence[int] = (1_000, 10_000, 100_000, 1_000_000), *, value: int = 10_000
) -> widgets.VBox:
    """Pick a largest size, press Measure: full vs incremental timings for every size up to it.

    Carries ``.controls`` (name → widget) and ``.table`` (the last measurements) for tests.
    """
    size = widgets.SelectionSlider(options=[(f"{s:,}", s) for s in sizes], value=value,
                                   description="up to", style={"description_width": "60px"})
    measure = widgets.Button(description="Measure", button_style="primary", icon="play")
    progress = widgets.IntProgress(value=0, min=0, max=1, description="")
    step = widgets.Label()
    chart = widgets.Image(format="png")
    table = widgets.HTML()
    box = widgets.VBox([widgets.HBox([size, measure, progress, step]), chart, table])

    def on_measure(_button) -> None:
        chosen = [s for s in sizes if s <= size.value]
        progress.max, progress.value = 3 * len(chosen), 0  # build, full, incremental

        def advance(text: str) -> None:
            progress.value += 1
            step.value = text

        measured = compare_at_scale(chosen, progress=False, on_step=advance)
        step.value = "done"
        chart.value = scale_chart_png(measured)
        table.value = measured.round(4).to_html(index=False)
        box.table = measured

    measure.on_click(on_measure)
    box.table = None
    box.controls = {"size": size, "measure": measure, "progress": progress, "step": step,
                    "chart": chart, "table": table}
    return box
