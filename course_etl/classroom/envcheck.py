"""The index notebook's environment check: is this machine ready for the session?

Each check returns a :class:`Check` with what was found and, when it is not OK, what to do in
plain words. :func:`environment_report` runs them all and returns a DataFrame for display.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from course_etl.errors import checked

__all__ = ["Check", "check_python", "check_packages", "check_kernel", "check_writable",
           "widgets_check",
           "environment_report", "REQUIRED_PACKAGES"]

MINIMUM_PYTHON = (3, 11)
# jupyterlab_widgets is JupyterLab's half of ipywidgets: without it every panel shows as a line of
# text, even after its cell ran.
REQUIRED_PACKAGES = ("course_etl", "pandas", "matplotlib", "ipywidgets", "jupyterlab",
                     "jupyterlab_widgets", "croniter", "cron-descriptor", "PyYAML")
FIX_INSTALL = "run `make setup` in the project folder, then restart the kernel"


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    check: str
    ok: bool
    found: str
    fix: str = ""


@checked
def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Check:
    found = ".".join(map(str, version))
    if tuple(version[:2]) >= MINIMUM_PYTHON:
        return Check("Python", True, found)
    return Check("Python", False, found,
                 "install Python 3.11 or newer and run `make PYTHON=python3.11 lab`")


@checked
def check_packages(names: tuple[str, ...] = REQUIRED_PACKAGES) -> list[Check]:
    checks = []
    for name in names:
        try:
            checks.append(Check(f"package {name}", True, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(f"package {name}", False, "not installed", FIX_INSTALL))
    return checks


@checked
def check_kernel(executable: str = sys.executable) -> Check:
    """Is the notebook's kernel the project's environment (where course_etl is installed)?"""
    try:
        importlib.metadata.version("course_etl")
    except importlib.metadata.PackageNotFoundError:
        return Check("kernel", False, executable,
                     "this kernel is not the project's environment: start JupyterLab with "
                     "`make lab`, or pick the kernel of `.venv` (Kernel → Change Kernel)")
    # Not the environment's folder name: the stored output of 00_index must be the same on every
    # machine that regenerates it.
    return Check("kernel", True, "course_etl installed")


@checked
def check_writable(folder: str | Path | None = None) -> Check:
    """Can the session write scratch files (SQLite databases) where it runs?"""
    folder = Path(folder or tempfile.gettempdir())
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix="course_etl_check_"):
            pass
    except OSError as error:
        return Check("writable folder", False, f"{folder}: {error.strerror}",
                     "run JupyterLab from a folder you own, or set TMPDIR to one")
    return Check("writable folder", True, "yes")


@checked
def environment_report() -> pd.DataFrame:
    """Every check as one table: check, ok, found, fix (empty when ok)."""
    checks = [check_python(), check_kernel(), *check_packages(),
              check_writable(os.environ.get("TMPDIR"))]
    return pd.DataFrame([vars(c) for c in checks])


WIDGETS_NOT_RUN = ("Widget check: run this cell. If this sentence is still here afterwards "
                   "instead of a green button, widgets do not render in this JupyterLab: start "
                   "it with `make lab` and reload the page.")


@checked
def widgets_check():
    """A button that answers when clicked: if it renders and answers, widgets work end to end.

    Three cases a student can meet, each told apart on screen: the committed notebook shows the
    saved button (JupyterLab renders saved widget state), but clicking it does nothing until the
    cell runs; after the cell runs, a click answers; where widgets cannot render at all, the cell
    shows :data:`WIDGETS_NOT_RUN` (the panels' text form), never a raw ``HBox(…)`` repr.
    """
    import ipywidgets as widgets

    from course_etl.classroom.widgets._render import Panel, guarded, row
    from course_etl.classroom.widgets._status import status_html

    button = widgets.Button(description="Click me", icon="check", button_style="primary",
                            layout=widgets.Layout(width="auto"))
    answer = widgets.HTML("<i>If you can read this next to a button, widgets render. "
                          "Run the cell, then click the button to check that the kernel "
                          "answers.</i>")

    @guarded(answer)
    def on_click(_button) -> None:
        answer.value = status_html("widgets work", "the kernel answered the click.", kind="good")

    button.on_click(on_click)
    box = Panel([row([button, answer])], title="Widget check",
                controls={"button": button, "answer": answer})
    box.not_started = WIDGETS_NOT_RUN
    return box
