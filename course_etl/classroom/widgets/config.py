"""Config explorer for notebook 04: pick an environment, change a few keys, type environment
variables, and see the resolved configuration with the layer behind every value.

A thin panel over :func:`course_etl.config.load_config`: the controls start at the values the
files and variables give; a control the reader changes becomes an explicit override. An invalid
value shows the error in place of the table and disables the load button. *Run incremental load*
runs :func:`course_etl.config.run_logged_load` with the shown configuration on the connection
passed in (a run of its run log, started by the notebook). Nothing here reads notebook globals
or the process environment.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

import ipywidgets as widgets

from course_etl.classroom.widgets._render import (
    Panel,
    error_box,
    guarded,
    label_style,
    record_table,
    row,
    status_table,
)
from course_etl.classroom.widgets._status import status_html
from course_etl.config import (
    Config,
    available_environments,
    load_config,
    parse_env_lines,
    run_logged_load,
)
from course_etl.errors import CourseEtlError

__all__ = ["ConfigExplorer", "config_explorer"]

_ENV_PLACEHOLDER = "COURSE_ETL_LOAD__BATCH_SIZE=200\nCOURSE_ETL_ALERTS__SMTP_PASSWORD=s3cret"


class ConfigExplorer(Panel):
    """The explorer panel; its controls and last results are attributes for tests to drive
    (``error``: the refusal shown, its text; ``refusal``: the error itself, with its facts)."""

    def __init__(self, conn: sqlite3.Connection, *, env: str = "dev",
                 path: str | Path | None = None, environ: Mapping[str, str] | None = None
                 ) -> None:
        self._conn = conn
        self._path = path
        self._base_environ = dict(environ or {})
        self._syncing = False
        self.touched: set[str] = set()
        self.config: Config | None = None
        self.error = ""
        self.refusal: CourseEtlError | None = None
        self.last_result = None
        self.env = widgets.Dropdown(options=available_environments(path), value=env,
                                    description="environment", style=label_style())
        settings: dict[str, widgets.ValueWidget] = {
            "load.batch_size": widgets.IntText(description="batch_size"),
            "load.lookback_hours": widgets.FloatSlider(min=0, max=48, step=0.5,
                                                       description="lookback h"),
            "load.reconcile_deletes": widgets.Checkbox(description="reconcile_deletes",
                                                       indent=False,
                                                       layout=widgets.Layout(width="auto")),
            "load.source_table": widgets.Text(description="source_table"),
        }
        self.environ_box = widgets.Textarea(placeholder=_ENV_PLACEHOLDER,
                                            description="env vars", style=label_style(),
                                            layout=widgets.Layout(width="100%",
                                                                  max_width="40em",
                                                                  height="70px"))
        self.hide_defaults = widgets.Checkbox(value=True, description="hide default values",
                                              indent=False, layout=widgets.Layout(width="auto"))
        self.config_view = widgets.HTML()
        self.run_button = widgets.Button(description="Run incremental load", icon="play",
                                         button_style="primary",
                                         layout=widgets.Layout(width="auto"))
        self.result_view = widgets.HTML()
        guard = guarded(self.config_view)
        for control in (self.env, self.environ_box, self.hide_defaults):
            control.observe(guard(self._on_setting), names="value")
        for key, control in settings.items():
            control.style.description_width = "initial"
            control.observe(guard(lambda change, key=key: self._on_control(key)),
                            names="value")
        self.run_button.on_click(guarded(self.result_view)(lambda _button: self.run()))
        super().__init__([
            row([self.env, self.hide_defaults]),
            row(list(settings.values())[:2]),
            row(list(settings.values())[2:]),
            self.environ_box, self.config_view, self.run_button, self.result_view,
        ], title="Config explorer (notebook 04)",
            controls={**settings, "env": self.env, "environ": self.environ_box,
                      "hide_defaults": self.hide_defaults, "config": self.config_view,
                      "run": self.run_button, "result": self.result_view})
        # The four settings, by config key: what `overrides` and the tests walk.
        self.settings = settings
        self.refresh()

    def _on_setting(self, _change: dict) -> None:
        if not self._syncing:
            self.refresh()

    def _on_control(self, key: str) -> None:
        if not self._syncing:
            self.touched.add(key)
            self.refresh()

    def environ(self) -> tuple[dict[str, str], list[str]]:
        """The variables in effect: those passed in, then those typed in the box."""
        typed, bad = parse_env_lines(self.environ_box.value)
        return {**self._base_environ, **typed}, bad

    def overrides(self) -> dict[str, object]:
        """The keys the reader changed with a control, as explicit overrides."""
        return {key: self.settings[key].value for key in sorted(self.touched)}

    def refresh(self) -> None:
        """Resolve the configuration again and show it (or the error) in place."""
        environ, bad = self.environ()
        try:
            if bad:
                raise CourseEtlError(
                    f"cannot read {', '.join(map(repr, bad))}: write NAME=value, one per line",
                    value=bad)
            baseline = load_config(self.env.value, self._path, environ=environ)
            self._sync_controls(baseline)
            self.config = load_config(self.env.value, self._path, self.overrides(),
                                      environ=environ)
        except CourseEtlError as error:
            self.config, self.error, self.refusal = None, str(error), error
            self.config_view.value = error_box(self.error)
            self.run_button.disabled = True
            return
        self.error, self.refusal = "", None
        table = self.config.provenance_table()
        if self.hide_defaults.value:
            table = table[table["layer"] != "default"]
        self.config_view.value = (f"<b>{self.config.env}</b>: every key, its value and the "
                                  "layer that set it (secrets masked)"
                                  + status_table(table, wrap=["value"]))
        self.run_button.disabled = False

    def _sync_controls(self, baseline: Config) -> None:
        # Untouched controls follow the files and variables, so they show what the layers give.
        self._syncing = True
        try:
            for key, control in self.settings.items():
                if key in self.touched:
                    continue
                value = baseline.get(key)
                if isinstance(control, widgets.FloatSlider) and value > control.max:
                    control.max = value
                control.value = value
        finally:
            self._syncing = False

    def run(self) -> None:
        """Run the incremental load with the shown configuration; show its result or error."""
        if self.config is None:
            self.result_view.value = error_box(self.error or "no valid configuration")
            return
        try:  # a run of the warehouse's run log, started by the notebook, like every load
            self.last_result = run_logged_load(self._conn, self.config, "incremental",
                                               started_by="notebook")
        except CourseEtlError as error:
            self.last_result = None
            self.result_view.value = error_box(error)
            return
        # Wall-clock seconds are left out: not for a deterministic display.
        self.result_view.value = ("<p>" + status_html(
            "success", f"loaded with the {self.config.env} configuration", kind="good") + "</p>"
                                  + record_table(self.last_result, drop=["seconds"]))


def config_explorer(conn: sqlite3.Connection, *, env: str = "dev",
                    path: str | Path | None = None,
                    environ: Mapping[str, str] | None = None) -> ConfigExplorer:
    """The config explorer on ``conn``, starting at ``env``; ``environ`` are variables in effect
    before any typed in the box (the process environment is not read)."""
    return ConfigExplorer(conn, env=env, path=path, environ=environ)
