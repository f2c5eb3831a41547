"""Presentation mode: the demo app served by Voila renders, and Reset all demos works."""

from __future__ import annotations

import os
import sys

import pytest
from conftest import Server, free_port, wait_for
from interactions import click, set_slider
from playwright.sync_api import expect

from course_etl.classroom.presentation import app_notebook, voila_command


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


def test_voila_app_renders_and_resets(voila, page, artifacts):
    assert sys.executable  # Voila runs the app with this interpreter's kernel
    page.goto(voila)
    reset = page.locator("button:has-text('Reset all demos')")
    expect(reset).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
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
