"""The index notebook's environment check names the problem and the fix."""

import sys
from pathlib import Path

from course_etl.classroom.envcheck import (
    check_kernel,
    check_packages,
    check_python,
    check_writable,
    environment_report,
)


def test_python_version():
    assert check_python((3, 11, 7)).ok
    old = check_python((3, 9, 18))
    assert not old.ok and old.found == "3.9.18" and "3.11 or newer" in old.fix


def test_missing_package_says_what_to_run():
    found, missing = check_packages(("pandas", "surely-not-installed-pkg"))
    assert found.ok and not missing.ok
    assert missing.found == "not installed" and "make setup" in missing.fix


def test_kernel_in_this_environment():
    assert check_kernel().ok


def test_unwritable_folder(tmp_path):
    assert check_writable(tmp_path).ok
    locked = tmp_path / "missing" / "folder"
    result = check_writable(locked)
    assert not result.ok and "folder you own" in result.fix


def test_report_is_all_green_here():
    report = environment_report()
    assert list(report.columns) == ["check", "ok", "found", "fix"]
    assert report["ok"].all(), report[~report["ok"]]


def test_widgets_check_answers_a_click():
    from course_etl.classroom.envcheck import widgets_check

    box = widgets_check()
    box.controls["button"].click()
    assert "widgets work" in box.controls["answer"].value


def test_widgets_check_reads_as_advice_where_widgets_cannot_render():
    from course_etl.classroom.envcheck import widgets_check

    text = widgets_check()._repr_mimebundle_()["text/plain"]
    assert text.startswith("Widget check: run this cell") and "make lab" in text
    assert "HBox" not in text


def test_jupyterlab_half_of_widgets_is_checked():
    [check] = check_packages(("jupyterlab_widgets",))
    assert check.ok


def test_the_report_names_no_folder_of_this_machine():
    """00_index stores this table: a venv's or a home's name in it would change with the machine
    that regenerated the notebook."""
    venv = Path(sys.prefix).name
    assert venv not in environment_report().to_string(), f"{venv!r} is in the report"
