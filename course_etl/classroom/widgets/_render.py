"""What every panel shares: charts as images, status tables, the error box, the callback guard.

One module so that every panel looks and fails the same way, on a laptop and on a projector:

- :func:`chart` is an ``Image`` that stays hidden until it holds a picture (no broken-image icon);
  :func:`show_figure` fills it with :func:`course_etl.style.to_png` at :data:`CHART_DPI` (two
  device pixels per CSS pixel: sharp on a high-density screen) and shows it at its CSS size,
  :data:`CSS_PX_PER_INCH` per figure inch, shrinking only when the output area is narrower. The
  figure's alt text (written from its data) becomes the image's name; a figure without one is
  refused.
- :func:`status_table` renders a DataFrame through pandas' ``Styler``: padded cells, rows tinted
  by a status column, long text that wraps, and a box of its own that scrolls sideways.
- :func:`error_box` says what went wrong and what to do, in one colour.
- :func:`guarded` wraps every panel callback: an exception shows in the panel's status area as an
  error box, the panel stays usable, and the traceback goes to the log for the instructor.
- :class:`Panel` is the box every panel returns; its text form says "run the cell to start the
  panel", never a raw ``VBox(children=(…`` repr. It carries the invisible
  :class:`~._a11y.AccessibleNames` (slider names, chart alt text, scrollable boxes reachable by
  Tab) and the CSS that keeps tab titles and focus rings visible (WCAG 2.1 AA).
"""

from __future__ import annotations

import functools
import html
import itertools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, is_dataclass
from typing import Any, TypeVar

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler
from traitlets import Unicode

from course_etl.classroom.widgets._a11y import AccessibleNames
from course_etl.errors import CourseEtlError
from course_etl.style import alt_text, to_png

__all__ = [
    "CHART_DPI", "CSS_PX_PER_INCH", "ERROR_COLOUR", "PANEL_CSS", "LazyTabs", "Panel", "chart",
    "clear_chart", "code_html", "error_box", "figure_png", "guarded", "layout", "record_table",
    "show_figure", "status_table",
]

log = logging.getLogger(__name__)
_table_ids = itertools.count(1)  # Styler scopes its CSS by id: one id per table on the page

CSS_PX_PER_INCH = 100  # the figures are designed at 100 dpi: 9 pt text shows as 12.5 CSS px
CHART_DPI = 2 * CSS_PX_PER_INCH  # two device pixels per CSS pixel: sharp on a HiDPI screen
ERROR_COLOUR = "#B3261E"
NOT_STARTED = ("{title}: run this cell to start the panel (a panel answers clicks only while "
               "the kernel that drew it runs). If this line stays after the cell ran, widgets "
               "do not render here: open the notebook in JupyterLab started with `make lab`.")

# Classes every panel carries; presentation.py scales them with the Presenter toggle.
PANEL_CSS = """<style>
.course-etl-panel { font-size: 14px; max-width: 100%; }
.course-etl-panel .widget-label, .course-etl-panel .widget-html-content,
.course-etl-panel .widget-readout, .course-etl-panel button { font-size: 14px; }
.course-etl-table { overflow-x: auto; max-width: 100%; }
.course-etl-table table { border-collapse: collapse; font-size: 13px; }
.course-etl-table th, .course-etl-table td { padding: 4px 10px; text-align: left;
  vertical-align: top; border-bottom: 1px solid #e3e3e3; }
.course-etl-code pre { font-size: 13px; line-height: 1.4; overflow-x: auto; }
.course-etl-panel .jupyter-widgets.jupyter-widget-tab > .lm-TabBar .lm-TabBar-tab {
  flex: 0 0 auto !important; }
.course-etl-panel .widget-dropdown > select { width: auto; max-width: 100%; }
.course-etl-panel .widget-inline-hbox, .course-etl-panel .widget-inline-vbox { max-width: 100%; }
.course-etl-panel .lm-TabBar-tab, .course-etl-panel .lm-TabBar-tabLabel {
  color: var(--jp-ui-font-color1, #222) !important; }
/* A focus ring a projector shows; ipywidgets removes the inputs' outline with !important. */
.course-etl-panel :focus-visible,
.course-etl-panel.course-etl-panel .jupyter-widgets input:focus-visible,
.course-etl-panel.course-etl-panel .jupyter-widgets textarea:focus-visible,
.course-etl-panel.course-etl-panel .jupyter-widgets select:focus-visible {
  outline: 3px solid #1a5fb4 !important; outline-offset: 1px; }
.course-etl-status .fa { margin-right: 2px; }
</style>"""


def layout(**kwargs: Any) -> widgets.Layout:
    """A flex layout that wraps its children instead of clipping them."""
    return widgets.Layout(**{"display": "flex", "flex_flow": "row wrap", "align_items": "center",
                             "grid_gap": "4px 16px", "width": "100%", **kwargs})


def row(children: Iterable[widgets.Widget], **kwargs: Any) -> widgets.HBox:
    """Controls side by side, wrapping onto the next line when the panel is narrow."""
    return widgets.HBox(list(children), layout=layout(**kwargs))


def label_style() -> dict[str, str]:
    """Descriptions as wide as their text: never cut to "environm…"."""
    return {"description_width": "initial"}


# -- charts ---------------------------------------------------------------------------------

class ChartImage(widgets.Image):
    """An ``Image`` that can carry a tooltip (its name: the figure's alt text).

    ipywidgets' Image view reads ``description`` when it draws a tooltip, and an Image has
    none: a tooltip on a plain Image fails to render ("Click to show javascript error";
    jupyter-widgets/ipywidgets#3860, fixed by the open PR #3921). The empty ``description``
    synced here lets the view set the ``title``.
    """

    description = Unicode("").tag(sync=True)


def chart() -> widgets.Image:
    """An image for a chart, hidden until :func:`show_figure` gives it a picture."""
    image = ChartImage(format="png", layout=widgets.Layout(
        display="none", max_width="100%", height="auto"))
    image.add_class("course-etl-chart")
    return image


def figure_png(figure: Figure) -> bytes:
    """``figure`` as PNG bytes at :data:`CHART_DPI` (show it at half its pixel size, e.g.
    ``IPython.display.Image(data, retina=True)``)."""
    return to_png(figure, dpi=CHART_DPI)


def show_figure(image: widgets.Image, figure: Figure) -> None:
    """Draw ``figure`` into ``image`` at :data:`CHART_DPI`, shown at its CSS size."""
    image.tooltip = alt_text(figure)  # raises for a figure drawn without alt text
    image.value = figure_png(figure)
    image.layout.width = f"{round(figure.get_figwidth() * CSS_PX_PER_INCH)}px"
    image.layout.display = None


def clear_chart(image: widgets.Image) -> None:
    """Empty the image and hide it (an empty image would show a broken-image icon)."""
    image.layout.display = "none"
    image.value = b""
    image.tooltip = None


# -- tables ---------------------------------------------------------------------------------

def status_table(frame: pd.DataFrame, *, status_column: str | None = None,
                 colours: Mapping[str, str] | None = None, tint: str = "row",
                 na_rep: str = "", limit: int | None = None, wrap: Iterable[str] = (),
                 caption: str = "") -> str:
    """``frame`` as a padded HTML table in its own horizontally scrolling box.

    ``status_column``'s value picks a background from ``colours`` for the whole row
    (``tint="row"``) or the status cell alone (``tint="cell"``). Columns in ``wrap`` wrap their
    text (at most ~50 characters wide); the others stay on one line. Rows past ``limit`` are
    counted below the table. Empty frames say "none".
    """
    heading = f"<h4>{html.escape(caption)}</h4>" if caption else ""
    if frame.empty:
        return f"{heading}<p><i>none</i></p>"
    shown = frame if limit is None else frame.head(limit)
    floats = shown.select_dtypes("float").columns
    mixed = shown.select_dtypes("object").columns  # "4h 7m" beside 26.3: round the numbers
    # Tints and wrapping are CSS rules on row and column positions, not styles or classes per
    # cell, and cells carry no ids: a table costs ~3 ms instead of ~9 (a load button redraws
    # one per click).
    styler = Styler(shown, cell_ids=False, uuid=f"cetl{next(_table_ids)}", na_rep=na_rep,
                    escape="html",
                    formatter={column: _number for column in floats})  # 40, not 40.000000
    if len(mixed):
        styler.format(_any_number, subset=list(mixed), na_rep=na_rep, escape="html")
    styler.hide(axis="index")
    rules = [{"selector": "td, th", "props": "white-space: nowrap"}]
    columns = list(shown.columns)
    rules += [{"selector": f"td:nth-child({columns.index(c) + 1})",
               "props": "white-space: normal; min-width: 16ch; max-width: 50ch"}
              for c in dict.fromkeys(wrap) if c in columns]
    if status_column is not None and colours:
        cell = "td" if tint == "row" else f"td:nth-child({columns.index(status_column) + 1})"
        declaration = ("background-color: {}" if tint == "row"
                       else "color: {}; font-weight: bold")
        rows_by_colour: dict[str, list[int]] = {}
        for row, status in enumerate(shown[status_column].tolist(), start=1):
            if colours.get(status):
                rows_by_colour.setdefault(colours[status], []).append(row)
        rules += [{"selector": ", ".join(f"tbody tr:nth-child({r}) {cell}" for r in rows),
                   "props": declaration.format(colour)}
                  for colour, rows in rows_by_colour.items()]
    styler.set_table_styles(rules)
    more = len(frame) - len(shown)
    note = f"<p><i>… and {more} more rows</i></p>" if more > 0 else ""
    return f'{heading}<div class="course-etl-table">{styler.to_html()}</div>{note}'


@functools.cache
def warm_up() -> None:
    """Render one tiny table: the first Styler render loads its templates (~100 ms), a cost
    that belongs to building a panel, not to the first click in front of the class."""
    Styler(pd.DataFrame({"a": [1]}), cell_ids=False).to_html()


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"


def _any_number(value: object) -> object:
    """A float of a mixed column, rounded for reading as :func:`_number` does; the rest as is."""
    return _number(value) if isinstance(value, float) else value


def record_table(record: Any, *, drop: Iterable[str] = ()) -> str:
    """A result object (dataclass or mapping) as a two-column table: readable, never a repr
    that wraps mid-word. Unknown values (None) show as ``?``."""
    fields = asdict(record) if is_dataclass(record) else dict(record)
    for name in drop:
        fields.pop(name, None)
    frame = pd.DataFrame({"field": list(fields), "value": ["?" if v is None else str(v)
                                                           for v in fields.values()]})
    return status_table(frame, wrap=["value"])


def code_html(text: str) -> str:
    """Source code at the panels' code size (13 px), scrolling sideways when long."""
    return f'<div class="course-etl-code"><pre>{html.escape(text)}</pre></div>'


# -- errors ---------------------------------------------------------------------------------

def error_box(error: BaseException | str, *, fix: str = "") -> str:
    """What went wrong and what to do, as one HTML box.

    A course error's message already names the culprit and the fix; any other exception is a bug
    or an unexpected state, so the advice is to change a setting or rebuild the panel.
    """
    if isinstance(error, str):
        what = error
    elif isinstance(error, CourseEtlError):
        what = str(error)
    else:
        what = f"{type(error).__name__}: {error}"
    unexpected = not isinstance(error, CourseEtlError | str)
    if not fix and unexpected:
        fix = ("The panel still works: change a setting and try again. If it keeps failing, "
               "run the cell again to rebuild the panel, and tell the instructor.")
    todo = (f'<div style="margin-top:4px"><b>What to do:</b> {html.escape(fix)}</div>'
            if fix else "")
    # "course-etl-bug" marks an exception no course error explains: the browser test fails on it.
    kind = "course-etl-error course-etl-bug" if unexpected else "course-etl-error"
    return (f'<div class="{kind}" role="alert" style="border-left:4px solid '
            f'{ERROR_COLOUR};background:#FCEEEE;color:{ERROR_COLOUR};padding:6px 10px;'
            f'white-space:pre-wrap;overflow-wrap:anywhere">'
            f'<b><i class="fa fa-times-circle" aria-hidden="true"></i> Error: '
            f"{html.escape(what)}</b>{todo}</div>")


Callback = TypeVar("Callback", bound=Callable[..., Any])


def guarded(show: widgets.HTML, *, before: Callable[[], None] | None = None
            ) -> Callable[[Callback], Callback]:
    """Run a callback so that an exception ends up in ``show`` as an error box.

    The exception is logged (with its traceback) and swallowed: an exception escaping a widget
    callback freezes the panel in front of the class with no message. ``before`` runs first on
    failure, to put the panel back into a usable state (say, re-enable a button).
    """
    def decorate(callback: Callback) -> Callback:
        @functools.wraps(callback)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return callback(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - shown in the panel and logged
                log.exception("panel callback %s failed", getattr(callback, "__name__", "?"))
                if before is not None:
                    before()
                show.value = error_box(error)
                return None
        run.course_etl_guarded = True  # what the tests look for on every button
        return run  # type: ignore[return-value]
    return decorate


class LazyTabs:
    """Fill a Tab's HTML pages only when shown: a click redraws the page in view and leaves the
    others to be drawn when their tab is picked (each status table costs a few milliseconds).

    ``show(page, render)`` draws ``render()`` into ``page`` now if its tab is selected, else on
    selection; the last ``render`` given for a page wins.
    """

    def __init__(self, tab: widgets.Tab, pages: list[widgets.HTML]) -> None:
        self.tab, self.pages = tab, pages
        self.pending: dict[int, Callable[[], str]] = {}
        tab.observe(self._on_select, names="selected_index")

    def show(self, page: widgets.HTML, render: Callable[[], str]) -> None:
        index = self.pages.index(page)
        if self.tab.selected_index == index:
            self.pending.pop(index, None)
            page.value = render()
        else:
            self.pending[index] = render

    def _on_select(self, change: dict) -> None:
        render = self.pending.pop(change["new"], None)
        if render is not None:
            self.pages[change["new"]].value = render()


# -- the panel box --------------------------------------------------------------------------

class Panel(widgets.VBox):
    """A panel: a VBox whose text form asks to run the cell (never a raw widget repr).

    Carries ``.controls`` (name → widget) for tests, instructors and the browser checks.
    """

    def __init__(self, children: Iterable[widgets.Widget], *, title: str,
                 controls: Mapping[str, widgets.Widget] | None = None, **kwargs: Any) -> None:
        super().__init__([widgets.HTML(PANEL_CSS), AccessibleNames(), *children],
                         layout=widgets.Layout(width="100%", max_width="100%"), **kwargs)
        self.add_class("course-etl-panel")
        warm_up()
        self.title = title
        self.controls = dict(controls or {})

    not_started = NOT_STARTED  # the text form; {title} is filled in

    def __repr__(self) -> str:
        return self.not_started.format(title=self.title)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            bundle["text/plain"] = repr(self)
        return bundle
