"""Lecture diagram 5: sources flow through bronze, silver and gold to the people who use them.

:func:`medallion_architecture_figure` draws the sources on the left, one panel per medallion
layer (example tables, what the layer adds, one record as stored there) and the consumers on the
right, joined by arrows. Its alt text is written from the same sources, layers and consumers.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_etl.style import (
    FONT_HEADING,
    FONT_SMALL,
    MEDALLION_COLORS,
    MONO,
    MUTED_INK,
    Box,
    draw_arrow,
    draw_box,
    draw_panel,
    draw_text,
    new_canvas,
    set_alt_text,
    with_pinned_style,
)

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


_SOURCES = ("orders API", "CRM export\n(CSV)", "payments DB")
_CONSUMERS = ("dashboards", "ML features", "reports")
_REJECTS = "silver.rejects"


def medallion_architecture_alt() -> str:
    """What the diagram shows, from the sources, layers and consumers it draws."""
    def plain(text: str) -> str:
        return " ".join(text.split())

    layers = "; then ".join(
        f"{layer} ({', '.join(tables)}: {', '.join(adds)}"
        + (f"; rejected rows go to {_REJECTS}" if layer == "silver" else "") + ")"
        for layer, tables, adds, _record in _LAYERS)
    return (f"Medallion architecture: {len(_SOURCES)} sources "
            f"({', '.join(plain(s) for s in _SOURCES)}) feed {layers}; gold is used by "
            f"{', '.join(_CONSUMERS[:-1])} and {_CONSUMERS[-1]}. Each layer is built only from "
            "the one before it.")


@with_pinned_style
def medallion_architecture_figure() -> Figure:
    """Sources flow through bronze, silver and gold layers to the people and models using them."""
    fig, ax = new_canvas(
        "Medallion architecture",
        "Each layer is built only from the layer before it, so any layer can be rebuilt from "
        "the one below.",
    )
    draw_text(ax, (8.5, 49), "sources", ha="center", weight="bold", size=FONT_HEADING)
    sources = _box_column(ax, 2, 13, list(_SOURCES))
    panels = [_draw_layer(ax, 20.5 + 21.5 * index, *layer) for index, layer in enumerate(_LAYERS)]
    draw_box(ax, (panels[1].x + 2, 15), 13.5, 5.5, _REJECTS, "white", size=FONT_SMALL,
         family=MONO, linestyle="--")
    draw_text(ax, (92.25, 49), "consumers", ha="center", weight="bold", size=FONT_HEADING)
    consumers = _box_column(ax, 86, 12.5, list(_CONSUMERS))
    for source in sources:
        draw_arrow(ax, source.right, (panels[0].x, source.right[1]))
    for left, right in zip(panels, panels[1:], strict=False):
        draw_arrow(ax, left.right, right.left)
    for consumer in consumers:
        draw_arrow(ax, (panels[-1].x + panels[-1].w, consumer.left[1]), consumer.left)
    draw_arrow(ax, (panels[0].x, 8.5), (panels[-1].x + panels[-1].w, 8.5))
    draw_text(ax, (50, 5.7), "cleaner, more trusted, closer to business questions", ha="center",
          size=FONT_SMALL, color=MUTED_INK)
    return set_alt_text(fig, medallion_architecture_alt())


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
