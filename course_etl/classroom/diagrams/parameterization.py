"""Lecture diagram 4: configuration layers merge by precedence into the config a run uses.

:func:`parameterization_figure` draws the stack of configuration layers (defaults at the bottom,
overrides on top, a precedence arrow beside them) and, next to it, the settings a dev run and a
prod run resolve to, each value labelled with the layer that won. Its alt text is written from the
same layers and resolved values.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course_etl.style import (
    CONFIG_LAYER_COLORS,
    FONT_SMALL,
    INK,
    MONO,
    MUTED_INK,
    Box,
    draw_arrow,
    draw_box,
    draw_text,
    new_canvas,
    set_alt_text,
)

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


def parameterization_alt() -> str:
    """What the diagram shows, from the layers and the resolved configurations it draws."""
    layers = "; ".join(f"{i}. {layer} ({source}: {settings.replace(' | ', ', ')})"
                       for i, (layer, source, settings) in enumerate(_CONFIG_LAYERS, start=1))
    runs = " ".join(
        f"The {run} resolves "
        + ", ".join(f"{setting} from the {layer}" for setting, layer in settings) + "."
        for run, settings in _RESOLVED.items())
    return (f"Parameterization: {len(_CONFIG_LAYERS)} configuration layers, lowest precedence "
            f"first: {layers}. For every key the highest layer that sets it wins. {runs} "
            "Every run calls the same code, run_pipeline(cfg).")


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
    return set_alt_text(fig, parameterization_alt())


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
