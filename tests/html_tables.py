"""Read the panels' HTML tables back as rows of cell texts, so tests assert on what a reader sees
rather than on the markup pandas' Styler happens to write."""

from __future__ import annotations

from html.parser import HTMLParser


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, ...]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.row_styles: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "style":
            self._skip += 1
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "style":
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(tuple(self._row))
            self._row = None

    def handle_data(self, data):
        if self._cell is not None and not self._skip:
            self._cell.append(data)


def table_rows(html: str) -> list[tuple[str, ...]]:
    """Every table row in ``html`` (header rows included), as a tuple of cell texts."""
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def rows_styled(html: str, declaration: str) -> int:
    """How many body rows the table's CSS gives ``declaration`` (``background-color: #…``)."""
    import re

    rows = set()
    for selectors, body in re.findall(r"([^{}<>]+)\{([^}]*)\}", html):
        if declaration in body:
            rows |= set(re.findall(r"tbody tr:nth-child\((\d+)\)", selectors))
    return len(rows)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(markup: str) -> str:
    """What a reader (or a screen reader) gets from ``markup``: its text, spaces collapsed,
    no icon glyphs (icons are aria-hidden ``<i>`` elements with no text)."""
    parser = _Text()
    parser.feed(markup)
    return " ".join("".join(parser.parts).split())
