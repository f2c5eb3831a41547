"""The fault-injection panel, driven like a student would: pick a fault, click, read."""

import json

import pytest
from html_tables import table_rows, visible_text

from course_etl import connect
from course_etl.classroom.widgets.monitoring import fault_injection_panel, fault_run_html
from course_etl.monitoring.lecture import FAULTS, TARGET, generate_history, inject_fault


@pytest.fixture(scope="module")
def base():
    conn = connect()
    generate_history(conn, days=14, faults={})
    yield conn
    conn.close()


def parts(panel):
    c = panel.controls
    return c["fault"], c["run"], c["summary"], c["checks"], c["alerts"], c["dashboard"]


def test_panel_offers_every_fault(base, tmp_path):
    fault, *_ = parts(fault_injection_panel(base, alerts_path=tmp_path / "a.jsonl"))
    assert [value for _, value in fault.options] == list(FAULTS)
    assert fault.value == "none"


def test_duplicate_keys_are_held_back_and_alerted(base, tmp_path):
    path = tmp_path / "alerts.jsonl"
    panel = fault_injection_panel(base, alerts_path=path)
    fault, button, summary, checks, alerts, dashboard = parts(panel)
    before = base.execute(f"SELECT COUNT(*) FROM {TARGET}").fetchone()
    fault.value = "duplicate_keys"
    button.click()
    assert "blocking gate held the bad data back" in summary.value
    assert "run failed, validate failed on blocking check(s) unique_key(id)" in summary.value
    assert "5 id value(s) appear more than once" in checks.value
    assert ("jsonl", "sent") in [row[:2] for row in table_rows(alerts.value)]
    assert "ALERT [ERROR] customers_daily: stg_customers.unique_key(id) fail" in alerts.value
    assert any(row[:2] == ("email", "disabled") for row in table_rows(alerts.value)), \
        "e-mail is configured but off"
    [line] = path.read_text().splitlines()
    assert json.loads(line)["severity"] == "error"
    assert dashboard.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert base.execute(f"SELECT COUNT(*) FROM {TARGET}").fetchone() == before, "base untouched"


def test_clean_day_publishes_and_sends_nothing(base, tmp_path):
    panel = fault_injection_panel(base, alerts_path=tmp_path / "a.jsonl")
    fault, button, summary, checks, alerts, _ = parts(panel)
    button.click()
    assert visible_text(summary.value).startswith("published:") and "no alert sent" in summary.value
    assert "fail" not in checks.value
    assert "<i>none</i>" in alerts.value


def test_failing_task_summary_names_the_error(base, tmp_path):
    run = inject_fault(base, "failing_task", alerts_path=tmp_path / "a.jsonl")
    html = fault_run_html(run)
    assert visible_text(html["summary"]).startswith("not published")
    assert "run failed (SourceFailure: connection to the warehouse reset" in html["summary"]
    assert run.published_before == run.published_after
    assert "customers_daily: task load failed" in html["alerts"]
    run.warehouse.close()


def test_each_click_starts_from_the_same_warehouse(base, tmp_path):
    panel = fault_injection_panel(base, alerts_path=tmp_path / "a.jsonl")
    fault, button, summary, *_ = parts(panel)
    fault.value = "volume_spike"
    button.click()
    first = summary.value
    button.click()
    assert summary.value == first
