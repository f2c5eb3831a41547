"""Presentation mode: the demo app served by Voila renders, Reset all demos works, and every tab
looks right at a projector's 1920×1080 with *Presenter* off and on, before and after one click
on its panel (the layout audit of ``layout_audit.py``), and passes the WCAG 2.1 A/AA audit of
``accessibility.py`` (axe-core) after each of those steps. Tabs are read from the page, so a panel
added to ``PANELS`` is covered as it lands."""

from __future__ import annotations

import os
import re
import sys

import pytest
from accessibility import assert_accessible, assert_text_first
from conftest import Server, free_port, wait_for
from interactions import click, set_slider
from layout_audit import assert_looks_right, click_first_action, settle
from playwright.sync_api import expect

from course_etl.classroom.presentation import app_notebook, voila_command

PROJECTOR = {"width": 1920, "height": 1080}
APP = ".course-etl-app"


@pytest.fixture(scope="module")
def voila(tmp_path_factory, chromium_path):
    folder = tmp_path_factory.mktemp("voila")
    port = free_port()
    server = Server(voila_command(app_notebook(folder), port), cwd=folder,
                    env=os.environ | {"PYTHONHASHSEED": "0"}, log=folder / "voila.log")
    try:
        wait_for(f"http://127.0.0.1:{port}/", timeout=120)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.stop()


@pytest.fixture
def projector(browser):
    context = browser.new_context(viewport=PROJECTOR)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def open_app(page, url):
    page.goto(url, timeout=180_000)  # Voila builds every panel before the page loads
    reset = page.locator("button:has-text('Reset all demos')")
    expect(reset).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
    return reset


def test_voila_app_renders_and_resets(voila, projector, artifacts):
    page = projector
    assert sys.executable  # Voila runs the app with this interpreter's kernel
    reset = open_app(page, voila)
    assert page.locator("text=demo_app").count() == 0, "code must be hidden"
    set_slider(page, "inserts", 2)
    click(page, "Apply changes at source")
    click(page, "Incremental load")
    expect(page.get_by_text("Run 1")).to_be_visible(timeout=60_000)
    page.screenshot(path=str(artifacts / "voila_app.png"))
    reset.click()
    expect(page.get_by_text("back at the lecture's starting point")).to_be_visible(
        timeout=60_000)
    expect(page.get_by_text("Run 1")).to_have_count(0)
    page.locator("button:has-text('Presenter')").click()
    expect(page.locator(".course-etl-app.presenter")).to_have_count(1)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def test_every_tab_looks_right_on_a_projector(voila, projector, artifacts):
    page = projector
    open_app(page, voila)
    tabs = page.locator(f"{APP} > .jupyter-widget-tab > .lm-TabBar .lm-TabBar-tab")
    titles = tabs.all_inner_texts()
    assert len(titles) >= 7, titles
    toggle = page.locator("button:has-text('Presenter')")
    for presenter in (False, True):
        if presenter:
            toggle.click()
            expect(page.locator(f"{APP}.presenter")).to_have_count(1)
        mode = "presenter" if presenter else "plain"
        for index, title in enumerate(titles):
            tabs.nth(index).click()
            panel = page.locator(f"{APP} > .jupyter-widget-tab > .widget-tab-contents "
                                 "> :visible").first
            settle(page, APP, quiet_ms=1000)
            state = f"Voila tab {title!r}, {mode}"
            assert_looks_right(page, APP, f"{state}, as opened")
            assert_accessible(page, APP, f"voila {slug(title)} {mode} opened")
            page.screenshot(path=str(artifacts / f"voila_{slug(title)}_{mode}.png"))
            if click_first_action(panel):
                settle(page, APP, quiet_ms=2500)
                assert_looks_right(page, APP, f"{state}, after one click")
                assert_accessible(page, APP, f"voila {slug(title)} {mode} after one click")
                assert_text_first(page, APP, f"{state}, after one click")
                page.screenshot(path=str(artifacts / f"voila_{slug(title)}_{mode}_after.png"))
