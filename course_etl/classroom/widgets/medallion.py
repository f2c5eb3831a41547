"""The medallion explorer: dirty batches in, every layer's rows and promises on screen.

A slider per kind of dirt and one for the batch size; "Ingest a new batch" generates the next
day's :class:`~course_etl.medallion.DirtySource` batch, ingests it into bronze and runs
:func:`~course_etl.medallion.process_new_batches`. The tabs show the row funnel and the layer
flow, sample rows per layer, the rejects with their reasons, the reconciliation and gates, and the
gold chart. "Rebuild from bronze" drops silver and gold, replays bronze and says whether the result
is identical to what the incremental runs built. All logic lives in ``course_etl.medallion``.
"""

from __future__ import annotations

import html
import sqlite3
from dataclasses import fields
from datetime import timedelta

import ipywidgets as widgets
import pandas as pd

from course_etl.classroom.widgets._render import (
    Panel,
    chart,
    guarded,
    label_style,
    row,
    show_figure,
    status_table,
)
from course_etl.classroom.widgets._status import status_html
from course_etl.db import query, quote_identifier
from course_etl.medallion import (
    CITY_DAILY_REVENUE,
    CUSTOMER_STATS,
    CUSTOMERS,
    DEFAULT_DIRT,
    ORDERS,
    REJECTS_TABLE,
    Dirt,
    DirtySource,
    fixed_clock,
    ingest_dirty_batch,
    layer_flow_figure,
    process_new_batches,
    rebuild_from_bronze,
    reconcile,
    snapshot,
)
from course_etl.medallion.charts import funnel_frame, gold_figure
from course_etl.medallion.pipeline import compare_snapshots

__all__ = ["MedallionExplorer", "medallion_explorer", "SAMPLE_ROWS"]

SAMPLE_ROWS = 5
_TABS = ("Funnel", "Samples", "Rejects", "Reconciliation", "Gold")


def _table(title: str, frame: pd.DataFrame) -> str:
    if frame.empty:
        return f"<h4>{html.escape(title)}</h4><p><i>no rows</i></p>"
    return status_table(frame, na_rep="NULL", caption=title,
                        wrap=[c for c in frame.columns if c in ("reason", "raw", "message")])


def _run_html(run: object) -> str:
    """A run's report, one line per layer step, wrapped at word boundaries."""
    return f'<div class="course-etl-code"><pre style="white-space:pre-wrap">' \
           f"{html.escape(str(run))}</pre></div>"


class MedallionExplorer(Panel):
    """The explorer panel; its parts are attributes so tests can drive it like a user."""

    def __init__(self, conn: sqlite3.Connection, *, seed: int = 0) -> None:
        self.conn = conn
        self.source = DirtySource(seed)
        # Two ingestions a day (customers, then orders), from the story's first morning.
        self.clock = fixed_clock("2024-10-01T06:00:00Z", timedelta(hours=12))
        self.last_run = None
        self.dirt_sliders = {
            knob.name: widgets.FloatSlider(
                value=getattr(DEFAULT_DIRT, knob.name), min=0.0, max=0.6, step=0.05,
                description=knob.name.replace("_", " "), readout_format=".2f",
                style=label_style())
            for knob in fields(Dirt)
        }
        self.batch_size = widgets.IntSlider(value=20, min=5, max=200, step=5,
                                            description="batch size", style=label_style())
        self.ingest_button = widgets.Button(description="Ingest a new batch",
                                            button_style="primary", icon="download",
                                            layout=widgets.Layout(width="auto"))
        self.rebuild_button = widgets.Button(description="Rebuild from bronze", icon="refresh",
                                             layout=widgets.Layout(width="auto"))
        self.status = widgets.HTML("<i>No batch yet: set the dirt, then ingest.</i>")
        self.funnel = widgets.HTML()
        self.flow = chart()
        self.samples = widgets.HTML()
        self.rejects = widgets.HTML()
        self.reconciliation = widgets.HTML()
        self.gold = chart()
        tabs = widgets.Tab(children=[
            widgets.VBox([self.funnel, self.flow]), self.samples, self.rejects,
            self.reconciliation, self.gold,
        ])
        for index, title in enumerate(_TABS):
            tabs.set_title(index, title)
        guard = guarded(self.status)
        self.ingest_button.on_click(guard(lambda _: self.ingest()))
        self.rebuild_button.on_click(guard(lambda _: self.rebuild()))
        sliders = list(self.dirt_sliders.values())
        super().__init__([
            row([widgets.VBox(sliders[:4]), widgets.VBox(sliders[4:])],
                align_items="flex-start"),
            row([self.batch_size, self.ingest_button, self.rebuild_button]),
            self.status, tabs,
        ], title="Medallion explorer (notebook 05)",
            controls={**self.dirt_sliders, "batch_size": self.batch_size,
                      "ingest": self.ingest_button, "rebuild": self.rebuild_button,
                      "status": self.status, "funnel": self.funnel, "flow": self.flow,
                      "samples": self.samples, "rejects": self.rejects,
                      "reconciliation": self.reconciliation, "gold": self.gold})

    def dirt(self) -> Dirt:
        """The dirt the sliders describe."""
        return Dirt(**{name: slider.value for name, slider in self.dirt_sliders.items()})

    def ingest(self) -> None:
        """Generate the next batch with the sliders' dirt, ingest it and process it."""
        batch = self.source.next_batch(self.batch_size.value, self.dirt())
        ingested = ingest_dirty_batch(self.conn, batch, clock=self.clock)
        self.last_run = process_new_batches(self.conn)
        day = (pd.Timestamp("2024-10-01") + pd.Timedelta(days=batch.number)).date()
        lines = [f"<b>Day {day}</b>: " + "; ".join(str(i) for i in ingested)]
        lines.append(_run_html(self.last_run))
        self.status.value = "<br>".join(lines)
        self.refresh()

    def rebuild(self) -> None:
        """Drop silver and gold, replay bronze, and say whether the result is identical."""
        before = snapshot(self.conn)
        self.last_run = rebuild_from_bronze(self.conn)
        comparison = compare_snapshots(before, snapshot(self.conn))
        verdict = (status_html("identical", "rebuilt from bronze: identical to the incremental "
                               "result", kind="good") if comparison.identical else
                   status_html("different", f"rebuilt from bronze: {comparison}", kind="bad"))
        self.status.value = f"{verdict}{_run_html(self.last_run)}"
        self.refresh()

    def refresh(self) -> None:
        """Redraw every tab from the tables."""
        self.funnel.value = _table("Rows per layer", funnel_frame(self.conn))
        show_figure(self.flow, layer_flow_figure(self.conn))
        self.samples.value = "".join(
            _table(title, query(self.conn, sql, {"rows": SAMPLE_ROWS}))
            for title, sql in _sample_queries())
        entity_sql, batch_sql = quote_identifier("entity"), quote_identifier("_batch_id")
        columns_sql = ", ".join(map(quote_identifier, ("rule", "reason", "raw")))
        rejects = query(self.conn, f"SELECT {entity_sql}, {batch_sql}, {columns_sql} "
                                   f"FROM {quote_identifier(REJECTS_TABLE)} "
                                   f"ORDER BY {batch_sql} DESC, {entity_sql}, "
                                   f"{quote_identifier('_bronze_row')}")
        summary = rejects.groupby(["entity", "rule"]).size().rename("rows").reset_index()
        self.rejects.value = (_table("Rejected rows per rule", summary)
                              + _table("Rejected rows (newest batch first)", rejects))
        checks = "" if self.last_run is None else _table(
            "Gates between silver and gold (last run)",
            self.last_run.gates.frame()[["table", "name", "status", "blocking", "message"]])
        self.reconciliation.value = (
            "<h4>bronze rows = silver + superseded + rejected</h4>"
            + "<br>".join(f"<code>{r}</code>" for r in reconcile(self.conn)) + checks)
        show_figure(self.gold, gold_figure(self.conn))


def _sample_queries() -> list[tuple[str, str]]:
    """(title, SELECT) for each sample table; every SELECT takes its row count as ``:rows``."""
    def latest_first_sql(table: str) -> str:
        return (f"SELECT * FROM {quote_identifier(table)} "
                f"ORDER BY {quote_identifier('_bronze_row')} DESC LIMIT :rows")

    city_sql, day_sql = quote_identifier("city"), quote_identifier("day")
    return [
        (f"{CUSTOMERS.bronze_table} (newest rows, as received)",
         latest_first_sql(CUSTOMERS.bronze_table)),
        (f"{CUSTOMERS.silver_table} (newest rows: typed, conformed, latest version)",
         latest_first_sql(CUSTOMERS.silver_table)),
        (f"{CUSTOMERS.superseded_table} (why each version lost)",
         latest_first_sql(CUSTOMERS.superseded_table)),
        (f"{ORDERS.bronze_table} (newest rows, as received)",
         latest_first_sql(ORDERS.bronze_table)),
        (f"{ORDERS.silver_table} (newest rows)", latest_first_sql(ORDERS.silver_table)),
        (CUSTOMER_STATS, f"SELECT * FROM {quote_identifier(CUSTOMER_STATS)} "
                         f"ORDER BY {quote_identifier('n_customers')} DESC, {city_sql} "
                         "LIMIT :rows"),
        (CITY_DAILY_REVENUE, f"SELECT * FROM {quote_identifier(CITY_DAILY_REVENUE)} "
                             f"ORDER BY {day_sql} DESC, {quote_identifier('revenue')} DESC "
                             "LIMIT :rows"),
    ]


def medallion_explorer(conn: sqlite3.Connection, *, seed: int = 0) -> MedallionExplorer:
    """The medallion explorer over ``conn`` (use a fresh database: it creates its own layers)."""
    explorer = MedallionExplorer(conn, seed=seed)
    explorer.refresh()
    return explorer
