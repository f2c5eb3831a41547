"""Status is text first: a verdict word, then colour and an icon as extras.

Every verdict a panel shows goes through :func:`status_html`: the word ("success", "failed",
"published", "held back") is always written out, so it reads the same to a screen reader, on a
grey-scale projector and to someone who cannot tell red from green. The icon comes from Font
Awesome 5 Free, the icon font JupyterLab's widget manager already loads for ``Button(icon=…)``
(and Voila with it), marked ``aria-hidden``: never an emoji, which a machine without an emoji
font draws as an empty box. The colour of each kind meets WCAG 2.1 AA (4.5:1) against both the
white panel and the light tints the tables use (:func:`contrast_ratio`; tested).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["KINDS", "STATUS_INK", "contrast_ratio", "status_html", "status_text"]

# kind -> (icon in Font Awesome 5 Free, text colour)
KINDS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "good": ("fa-check-circle", "#00674A"),
    "bad": ("fa-times-circle", "#B3261E"),
    "held": ("fa-ban", "#8B3A00"),  # a gate or a check stopped bad data: good news, not green
    "warn": ("fa-exclamation-triangle", "#7A5600"),
    "info": ("fa-info-circle", "#1F4E79"),
})
STATUS_INK = MappingProxyType({kind: colour for kind, (_, colour) in KINDS.items()})


def status_html(word: str, detail: str = "", *, kind: str) -> str:
    """``<icon> <b>word</b>: detail`` as inline HTML; ``detail`` is escaped, as is ``word``.

    Raises KeyError for an unknown ``kind`` (one of :data:`KINDS`).
    """
    icon, colour = KINDS[kind]
    tail = f": {html.escape(detail)}" if detail else ""
    return (f'<span class="course-etl-status course-etl-status-{kind}" style="color:{colour}">'
            f'<i class="fa {icon}" aria-hidden="true"></i> <b>{html.escape(word)}</b>'
            f"{tail}</span>")


def status_text(word: str, detail: str = "") -> str:
    """The same verdict as plain text (for a log, a repr or a test): ``word: detail``."""
    return f"{word}: {detail}" if detail else word


def _luminance(colour: str) -> float:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
