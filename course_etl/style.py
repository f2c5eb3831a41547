"""The course's one visual language: palette, fonts, canvas and drawing helpers, figures to PNG.

Every picture in course_etl (the lecture diagrams, the scheduling pictures, the dashboards, the
medallion charts, the widgets' charts) takes its colours from the colour-blind safe Okabe–Ito
palette (``OKABE_ITO``) and the category maps built on it (:mod:`course_etl.palette`, re-exported
here), its font sizes from ``FONT_*``, and is drawn inside :func:`pinned_style`, so a user's
matplotlibrc or a notebook theme cannot change it. The ``draw_*`` helpers place boxes, arrows, bands
and legends on a canvas addressed in units of 0.1 inch (:func:`new_canvas`). :func:`to_png` turns
any figure into PNG bytes for an ``ipywidgets.Image`` or ``IPython.display.Image``: sharp on a high-
density screen, no metadata.

Every picture also says what it shows: a drawing function attaches alt text built from the same
data it draws (:func:`set_alt_text`; "3 runs: 2 success, 1 failed"), :func:`alt_text` reads it
back (and refuses a figure that has none), and :func:`picture` displays a figure in a notebook as
an ``<img>`` with that alt text (JupyterLab draws a plain PNG output without one).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import NamedTuple

import matplotlib
import matplotlib.colors
import matplotlib.style
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

from course_etl.errors import CourseEtlError, checked
from course_etl.palette import (
    CHECK_COLORS,
    COLOR_GROUPS,
    CONFIG_LAYER_COLORS,
    INK,
    MEDALLION_COLORS,
    MUTED_INK,
    NEUTRAL_GREY,
    OKABE_ITO,
    PANEL,
    ROW_COLORS,
    TASK_STATE_COLORS,
)

__all__ = [
    "CHECK_COLORS",
    "COLOR_GROUPS",
    "CONFIG_LAYER_COLORS",
    "DPI",
    "FIGSIZE_INCHES",
    "FONT_BODY",
    "FONT_HEADING",
    "FONT_SMALL",
    "FONT_TITLE",
    "INK",
    "MEDALLION_COLORS",
    "MONO",
    "MUTED_INK",
    "NEUTRAL_GREY",
    "OKABE_ITO",
    "PANEL",
    "ROW_COLORS",
    "TASK_STATE_COLORS",
    "Box",
    "MissingAltText",
    "Picture",
    "alt_text",
    "counted",
    "draw_arrow",
    "draw_band",
    "draw_box",
    "draw_legend",
    "draw_legend_from_handles",
    "draw_panel",
    "draw_text",
    "new_canvas",
    "picture",
    "pinned_style",
    "set_alt_text",
    "text_on",
    "to_png",
    "with_pinned_style",
]

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


@checked
@contextlib.contextmanager
def pinned_style() -> Iterator[None]:
    with matplotlib.style.context(["default", _STYLE_OVERRIDES]):
        yield


@checked
def with_pinned_style(draw_function: Callable[[], Figure]) -> Callable[[], Figure]:
    @functools.wraps(draw_function)
    def wrapper() -> Figure:
        with pinned_style():
            return draw_function()

    return wrapper


class Box(NamedTuple):
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


@checked
def new_canvas(title: str, subtitle: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=FIGSIZE_INCHES, dpi=DPI, facecolor="white")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, CANVAS_WIDTH)
    ax.set_ylim(0, CANVAS_HEIGHT)
    ax.set_axis_off()
    ax.text(2, 57.2, title, size=FONT_TITLE, weight="bold", va="center")
    ax.text(2, 53.9, subtitle, size=FONT_SMALL, color=MUTED_INK, va="center")
    return fig, ax


def _luminance(colour: str) -> float:
    red, green, blue = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                        for c in matplotlib.colors.to_rgb(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


@checked
def text_on(fill: str) -> str:
    """The text colour for labels on ``fill``: INK, or pure black where INK falls under WCAG's
    4.5:1 (INK on vermillion is 4.1:1)."""
    light = _luminance(fill)
    return INK if (light + 0.05) / (_luminance(INK) + 0.05) >= 4.5 else "#000000"


@checked
def draw_box(
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
) -> Box:
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
            family=family, linespacing=1.35, color=text_on(color),
        )
    return Box(x, y, w, h)


@checked
def draw_panel(
    ax: Axes, xy: tuple[float, float], w: float, h: float, heading: str, color: str
) -> Box:
    """Box with a coloured heading strip: the colour names the category, the body stays white."""
    x, y = xy
    strip = 3.2
    draw_box(ax, (x, y), w, h, "", "white")
    ax.add_patch(
        FancyBboxPatch(
            (x, y + h - strip), w, strip, boxstyle="round,pad=0,rounding_size=0.8",
            facecolor=color, edgecolor=INK, linewidth=1.2,
        )
    )
    ax.text(x + w / 2, y + h - strip / 2, heading, ha="center", va="center",
            size=FONT_HEADING, weight="bold", color=text_on(color))
    return Box(x, y, w, h)


@checked
def draw_band(ax: Axes, xy: tuple[float, float], w: float, h: float) -> None:
    """Light background band that groups a lane or a region."""
    ax.add_patch(
        FancyBboxPatch(xy, w, h, boxstyle="round,pad=0,rounding_size=1.0",
                       facecolor=PANEL, edgecolor="none")
    )


@checked
def draw_arrow(
    ax: Axes, start: tuple[float, float], end: tuple[float, float], *, linestyle: str = "-"
) -> None:
    """Straight arrow that ends exactly at ``end`` (no shrinking), so it touches box edges."""
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=14, color=INK, linewidth=1.5,
            linestyle=linestyle, shrinkA=0, shrinkB=0,
        )
    )


@checked
def draw_text(ax: Axes, xy: tuple[float, float], text: str, **style: object) -> None:
    style = {"size": FONT_BODY, "va": "center", **style}
    ax.text(*xy, text, **style)


@checked
def draw_legend(ax: Axes, entries: Mapping[str, str]) -> None:
    """Colour legend along the bottom edge, one row."""
    draw_legend_from_handles(
        ax, [Patch(facecolor=color, edgecolor=INK, label=label) for label, color in entries.items()]
    )


@checked
def draw_legend_from_handles(ax: Axes, handles: list[Patch]) -> None:
    ax.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.005), ncol=len(handles),
        frameon=False, fontsize=FONT_SMALL, handlelength=1.6, handleheight=1.1, columnspacing=2.0,
    )



@checked
def to_png(fig: Figure, *, dpi: float | None = None) -> bytes:
    """``fig`` as PNG bytes (at ``dpi``, default the figure's own), white background, no
    metadata, so the same figure gives the same bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi or fig.dpi, facecolor="white",
                metadata={"Software": None})
    return buffer.getvalue()


# -- alt text ------------------------------------------------------------------------------

_ALT = "course_etl_alt_text"  # the attribute a figure carries its alt text in


class MissingAltText(CourseEtlError):
    """A figure was shown without alt text: its drawing function must call set_alt_text
    (``.figure``: the figure concerned)."""


@checked
def set_alt_text(fig: Figure, text: str) -> Figure:
    """Attach ``text`` (built from the data the figure draws) as the figure's alt text."""
    text = " ".join(str(text).split())
    if not text:
        raise MissingAltText("alt text must say what the picture shows; got an empty string",
                             figure=fig)
    setattr(fig, _ALT, text)
    return fig


@checked
def alt_text(fig: Figure) -> str:
    """The alt text :func:`set_alt_text` attached. Raises MissingAltText for a figure without."""
    text = getattr(fig, _ALT, "")
    if not text:
        raise MissingAltText(
            f"figure {_figure_name(fig)} has no alt text: call "
            "course_etl.style.set_alt_text(fig, ...) where it is drawn, from its data",
            figure=fig)
    return text


def _figure_name(fig: Figure) -> str:
    """The figure as a message names it: its title, else its label, else its repr."""
    title = fig._suptitle.get_text() if fig._suptitle else ""
    return title or fig.get_label() or repr(fig)


@checked
def counted(values: Iterable[str], order: Iterable[str] = ()) -> str:
    """"2 success, 1 failed": how often each value occurs, in ``order`` first, then as met."""
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    keys = [k for k in order if k in counts] + [k for k in counts if k not in set(order)]
    return ", ".join(f"{counts[k]} {k}" for k in keys)


class Picture:
    """A figure for a notebook: ``<img>`` with alt text (HTML, preferred by JupyterLab and
    Voila), the PNG itself for other front ends, and the alt text as the plain-text form.

    ``retina``: drawn at twice the figure's dpi and shown at its size (sharp on HiDPI).
    """

    def __init__(self, fig: Figure, *, retina: bool = False) -> None:
        self.alt = alt_text(fig)
        scale = 2 if retina else 1
        self.png = to_png(fig, dpi=fig.dpi * scale)
        self.width = round(fig.get_figwidth() * fig.dpi)
        self.height = round(fig.get_figheight() * fig.dpi)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict:
        data = base64.b64encode(self.png).decode("ascii")
        img = (f'<img class="course-etl-figure" src="data:image/png;base64,{data}" '
               f'alt="{html.escape(self.alt)}" width="{self.width}" height="{self.height}" '
               'style="max-width: 100%; height: auto">')
        return {"text/html": img, "image/png": data, "text/plain": self.alt}

    def __repr__(self) -> str:
        return self.alt


@checked
def picture(fig: Figure, *, retina: bool = False) -> Picture:
    """``fig`` ready for ``display()``: the image with its alt text (see :class:`Picture`)."""
    return Picture(fig, retina=retina)
