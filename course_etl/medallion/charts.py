"""Charts and tables for looking at the medallion layers: the row funnel and the gold marts.

:func:`funnel_frame` counts rows per layer and entity (bronze received, valid after the rules,
kept after deduplication, aggregated into gold, and the marts' own rows); :func:`gold_figure`
draws the two marts side by side in the course's Okabe–Ito colours. Both read only the tables,
so they work after any run, incremental or rebuilt. The gold chart's alt text is written from the
same two queries, and each city's bars carry a hatch pattern as well as a colour.
"""

from __future__ import annotations

import sqlite3

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from course_etl import style
from course_etl.db import query, quote_identifier
from course_etl.errors import checked
from course_etl.medallion.gold import CITY_DAILY_REVENUE, CUSTOMER_STATS, ensure_gold
from course_etl.medallion.lineage import layer_counts
from course_etl.medallion.silver import REJECTS_TABLE, ensure_silver

__all__ = ["funnel_frame", "gold_figure"]


@checked
def funnel_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Rows per layer (one row per step) for customers and orders, bronze down to gold."""
    c = layer_counts(conn)
    steps = {
        "bronze: rows received": lambda e: c[f"bronze_{e}"],
        "silver: valid rows (not rejected)": lambda e: c[f"bronze_{e}"]
        - c[f"{REJECTS_TABLE}.{e}"],
        "silver: kept rows (latest version per key)": lambda e: c[f"silver_{e}"],
        "gold: rows aggregated": lambda e: c[
            "silver_customers" if e == "customers" else "matched_orders"],
        "gold: mart rows": lambda e: c[CUSTOMER_STATS if e == "customers"
                                       else CITY_DAILY_REVENUE],
    }
    return pd.DataFrame(
        [(step, count("customers"), count("orders")) for step, count in steps.items()],
        columns=["layer", "customers", "orders"],
    )


@checked
def gold_figure(conn: sqlite3.Connection) -> Figure:
    """Customers per city and revenue per day (stacked by city) from the two gold marts."""
    ensure_silver(conn)
    ensure_gold(conn)
    city_sql, n_sql, day_sql = map(quote_identifier, ("city", "n_customers", "day"))
    stats = query(conn, f"SELECT {city_sql}, {n_sql} FROM {quote_identifier(CUSTOMER_STATS)} "
                        f"ORDER BY {n_sql}, {city_sql}")
    revenue = query(conn, f"SELECT {day_sql}, {city_sql}, {quote_identifier('revenue')} "
                          f"FROM {quote_identifier(CITY_DAILY_REVENUE)} "
                          f"ORDER BY {day_sql}, {city_sql}")
    with style.pinned_style():
        fig = Figure(figsize=(10, 4), dpi=style.DPI)
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
        left.barh(stats["city"], stats["n_customers"], color=style.MEDALLION_COLORS["gold"],
                  edgecolor=style.INK)
        left.set_title(f"{CUSTOMER_STATS}: customers per city", fontsize=style.FONT_BODY)
        left.set_xlabel("customers")
        left.xaxis.set_major_locator(MaxNLocator(integer=True))
        if not revenue.empty:
            table = revenue.pivot_table(index="day", columns="city", values="revenue",
                                        aggfunc="sum", fill_value=0.0)
            bottom = pd.Series(0.0, index=table.index)
            palette = list(style.OKABE_ITO.values())[1:] + [style.NEUTRAL_GREY]
            for number, city in enumerate(table.columns):
                # Colour and pattern: neighbouring cities differ without telling colours apart.
                right.bar(table.index, table[city], bottom=bottom, label=city,
                          color=palette[number % len(palette)], edgecolor=style.INK,
                          linewidth=0.4, hatch=_HATCHES[number % len(_HATCHES)])
                bottom += table[city]
            right.legend(fontsize=style.FONT_SMALL, ncol=2, frameon=False,
                         loc="upper left", bbox_to_anchor=(1.0, 1.0))
            right.tick_params(axis="x", labelrotation=45, labelsize=style.FONT_SMALL)
        right.set_title(f"{CITY_DAILY_REVENUE}: revenue per day", fontsize=style.FONT_BODY)
        right.set_ylabel("revenue")
        for ax in (left, right):
            ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
    return style.set_alt_text(fig, _gold_alt(stats, revenue))


_HATCHES = ("", "//", "..", "xx", "\\\\", "--", "++", "oo")


def _gold_alt(stats: pd.DataFrame, revenue: pd.DataFrame) -> str:
    """What the gold chart shows, from the same two marts."""
    cities = ", ".join(f"{r.city} {r.n_customers}" for r in
                       stats.sort_values(["n_customers", "city"], ascending=[False, True])
                       .itertuples())
    text = (f"Gold marts. {CUSTOMER_STATS}: customers per city for {len(stats)} cities"
            + (f": {cities}." if cities else "."))
    if revenue.empty:
        return text + f" {CITY_DAILY_REVENUE}: no revenue yet."
    per_day = revenue.groupby("day")["revenue"].sum()
    return (text + f" {CITY_DAILY_REVENUE}: revenue per day stacked by city, "
            f"{len(per_day)} days from {per_day.index[0]} to {per_day.index[-1]}, "
            f"{revenue['city'].nunique()} cities, {per_day.sum():,.2f} in all; the highest day "
            f"is {per_day.idxmax()} with {per_day.max():,.2f}.")
