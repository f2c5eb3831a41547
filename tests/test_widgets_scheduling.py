"""Notebook 02's panels, driven the way a student would: set values, click, read the outputs."""

from datetime import date

from builders import run_start
from html_tables import rows_styled, table_rows, visible_text

from course_etl import connect
from course_etl.classroom.widgets.scheduling import cron_explorer, export_view, run_simulator
from course_etl.facts import SCHEDULE
from course_etl.scheduling.cron import describe_cron


def test_cron_explorer_starts_on_the_lecture_schedule():
    c = cron_explorer().controls
    assert c["expression"].value == SCHEDULE.cron
    assert c["description"].value == f"<b>{SCHEDULE.cron}</b>: {describe_cron(SCHEDULE.cron)} (UTC)"
    runs = table_rows(c["runs"].value)
    assert len(runs) == 7  # header + 6 runs
    first = f"{run_start('2024-10-01'):%Y-%m-%d %H:%M} UTC"
    assert runs[1] == ("Tue", first, first)
    assert c["timeline"].value.tobytes().startswith(b"\x89PNG")


def test_presets_time_zones_and_typing_update_everything():
    c = cron_explorer().controls
    c["preset"].value = "weekdays at 06:30"
    assert c["expression"].value == "30 6 * * 1-5"
    assert "Monday through Friday" in c["description"].value
    c["timezone"].value = "Europe/Berlin"
    assert ("Tue", "2024-10-01 06:30 CEST", "2024-10-01 04:30 UTC") in table_rows(
        c["runs"].value)
    c["expression"].value = "*/15 * * * *"
    assert c["preset"].value == "every 15 minutes"
    c["expression"].value = "7 3 * * *"
    assert c["preset"].value == "custom" and "At 03:07" in c["description"].value


def test_invalid_expression_shows_the_error_in_place():
    c = cron_explorer().controls
    c["expression"].value = "61 * * * *"
    assert "Error: cron field 1 (minute) is '61'" in visible_text(c["description"].value)
    assert c["runs"].value == "" and c["timeline"].value.tobytes() == b""
    c["expression"].value = "30 6 * * *"
    assert "At 06:30" in c["description"].value and c["runs"].value


def test_run_simulator_retries_run_out_then_upstream_failed():
    c = run_simulator(connect(":memory:")).controls
    assert "success" in c["status"].value  # 1 failure, 1 retry: recovers
    c["failures"].value, c["retries"].value = 2, 1
    c["run"].click()
    assert "failed (full_load=success, incremental_load=failed, " \
           "row_count_check=upstream_failed)" in c["status"].value
    assert any("InjectedFailure: injected failure 2/2" in row
               for row in table_rows(c["states"].value))
    for picture in ("dag", "gantt"):
        assert c[picture].value.tobytes().startswith(b"\x89PNG")
    c["failing"].value = "(none)"
    c["run"].click()
    assert f"customers_etl @ 2024-10-02 {SCHEDULE.time_of_day} UTC: success" in c["status"].value


def test_backfill_button_lists_each_day_and_proves_idempotence():
    c = run_simulator(connect(":memory:")).controls
    c["start"].value, c["end"].value = date(2024, 10, 4), date(2024, 10, 6)
    c["backfill"].click()
    out = c["backfill_result"].value
    table = table_rows(out)
    # The first day full-loads; the next ones only read what changed up to their interval's end.
    for day, full in (("2024-10-04", "3"), ("2024-10-05", "-"), ("2024-10-06", "-")):
        assert (f"{day} {SCHEDULE.time_of_day}", "success", full) in [row[:3] for row in table]
    assert rows_styled(out, "background-color: #cde8d9") == 3, "success rows are tinted"
    assert "Re-ran 2024-10-06: idempotent: same warehouse state" in visible_text(out)
    c["start"].value, c["end"].value = date(2024, 9, 1), date(2024, 9, 2)
    c["backfill"].click()
    assert visible_text(c["backfill_result"].value).startswith("Error:")
    assert "widen the range" in c["backfill_result"].value


def test_export_view_shows_crontab_airflow_and_dagster():
    view = export_view()
    tab = view.children[-1]
    assert [tab.get_title(i) for i in range(3)] == ["crontab", "Airflow 3", "Dagster"]
    assert "flock -n" in view.controls["crontab"].value
    assert "from airflow.sdk import CronDataIntervalTimetable" in view.controls["Airflow 3"].value
    assert "ScheduleDefinition(" in view.controls["Dagster"].value
    assert "font-size: 13px" in view.children[0].value, "code at the panels' 13 px"
