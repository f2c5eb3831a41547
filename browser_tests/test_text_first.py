"""Status is text first, proven where it matters: on a machine with no emoji font.

This machine and CI (the same kind) have no emoji font (``fc-list``), so an emoji in a panel
would render as an empty box. The Voila and JupyterLab tests fail on any emoji in a panel and on
a status badge without a word (``accessibility.assert_text_first``); here, a page shows every
kind of status badge with the icon font missing too, and each still reads as its word (the
icon is decoration, hidden from screen readers).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from course_etl.classroom.widgets._status import KINDS, status_html

EMOJI_FONT_WORDS = ("emoji", "symbola", "twemoji", "noto color")


def emoji_fonts() -> list[str]:
    """Font families fontconfig knows whose name says they draw emoji."""
    if shutil.which("fc-list") is None:
        return []
    families = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True,
                              check=True).stdout.lower().splitlines()
    return [f for f in families if any(word in f for word in EMOJI_FONT_WORDS)]


@pytest.fixture
def blank(browser):
    context = browser.new_context(viewport={"width": 800, "height": 600})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def test_statuses_read_as_words_without_emoji_or_icon_fonts(blank):
    fonts = emoji_fonts()
    if fonts:
        pytest.skip(f"this machine has emoji fonts ({fonts[:3]}): the check needs one without")
    badges = "".join(f"<p>{status_html(f'word-{kind}', 'detail', kind=kind)}</p>"
                     for kind in KINDS)
    # No stylesheet: the icon font is not loaded either, so only the words are left.
    blank.set_content(f'<div id="badges">{badges}</div>')
    texts = blank.locator("#badges p").all_inner_texts()
    assert [t.strip() for t in texts] == [f"word-{kind}: detail" for kind in KINDS]
    icons = blank.locator("#badges i[aria-hidden='true']")
    assert icons.count() == len(KINDS)  # decoration, hidden from screen readers
