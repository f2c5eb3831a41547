"""The presentation app: a tab per panel, Reset all demos, presenter toggle, Voila notebook."""

import json

import pytest

from course_etl.classroom.presentation import PANELS, app_notebook, demo_app, voila_command
from course_etl.cli import build_parser


def test_app_has_a_tab_per_panel():
    app = demo_app()
    assert [app.tabs.get_title(i) for i in range(len(PANELS))] == list(PANELS)
    assert "presenter" not in app._dom_classes and "course-etl-app" in app._dom_classes


def test_reset_all_demos_rebuilds_every_panel_at_the_start():
    app = demo_app()
    loads = app.tabs.children[0]
    loads.controls["inserts"].value = 3
    loads.controls["apply"].click()
    loads.controls["incremental"].click()
    assert len(loads.lab.runs) == 1
    app.tabs.selected_index = 1
    app.controls["reset"].click()
    fresh = app.tabs.children[0]
    assert fresh is not loads and fresh.lab.runs == [] and fresh.controls["inserts"].value == 0
    assert fresh.lab.conn.execute("SELECT COUNT(*) FROM src_customers").fetchone() == (200,)
    assert app.tabs.selected_index == 1, "the instructor stays on the tab they were showing"
    assert "starting point" in app.controls["status"].value


def test_presenter_toggle_enlarges_fonts():
    app = demo_app()
    app.controls["presenter"].value = True
    assert "presenter" in app._dom_classes
    app.controls["presenter"].value = False
    assert "presenter" not in app._dom_classes
    assert "presenter" in demo_app(presenter=True)._dom_classes


def test_voila_notebook_and_command(tmp_path):
    path = app_notebook(tmp_path, presenter=True)
    source = json.loads(path.read_text())["cells"][0]["source"]
    assert "demo_app(presenter=True)" in source
    command = voila_command(path, 9999)
    assert "--Voila.ip=127.0.0.1" in command and "--port=9999" in command


def test_present_is_a_cli_command():
    args = build_parser().parse_args(["present", "--port", "9000", "--presenter"])
    assert (args.port, args.presenter) == (9000, True) and callable(args.handler)


SERVE_WITH_A_FAKE_VOILA = """
import os, sys
import course_etl.classroom.presentation as presentation

def fake_notebook(folder, presenter=False):
    path = folder / "app.ipynb"
    path.write_text("{}")
    return path

presentation.app_notebook = fake_notebook
presentation.voila_command = lambda notebook, port: [
    sys.executable, "-c", "import os, time; print('voila', os.getpid(), flush=True); "
    "time.sleep(60)"]
sys.exit(presentation.serve(port=8899))
"""


def test_serve_passes_sigterm_on_and_removes_its_folder(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    app = subprocess.Popen([sys.executable, "-c", SERVE_WITH_A_FAKE_VOILA],
                           stdout=subprocess.PIPE, text=True,
                           env=os.environ | {"TMPDIR": str(tmp_path)})
    try:
        lines = [app.stdout.readline(), app.stdout.readline()]
        voila_pid = int(lines[1].split()[1])
        assert list(tmp_path.glob("course_etl_present_*"))  # the app's folder exists
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=20)
    finally:
        if app.poll() is None:
            app.kill()
    assert "Serving the demos" in lines[0]
    assert list(tmp_path.glob("course_etl_present_*")) == []
    with pytest.raises(ProcessLookupError):
        os.kill(voila_pid, 0)


def test_serve_refuses_a_port_outside_1_to_65535():
    from course_etl.classroom.presentation import PresentationError, serve

    for port in (0, 99999, -1, True):
        with pytest.raises(PresentationError, match="is not a TCP port"):
            serve(port=port)
