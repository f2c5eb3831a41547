"""Notebook 06's panel: the student's pieces decide whether the fault reaches the report."""

import runpy
from datetime import date
from pathlib import Path

import pytest
from html_tables import visible_text

from course_etl.classroom.exercises import SUITE_STUB
from course_etl.classroom.widgets.capstone import (
    capstone_panel,
    run_student_pipeline,
    student_run_html,
)

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"
SUITE = runpy.run_path(str(SOLUTIONS / "06_b_gold_suite.py"))["gold_suite"]
GOLD_SQL = runpy.run_path(str(SOLUTIONS / "06_a_gold_sql.py"))["gold_sql"]


def test_a_wrong_suite_lets_the_short_feed_through(tmp_path):
    run = run_student_pipeline("2024-10-04", "short_feed", suite=SUITE_STUB, gold_sql=GOLD_SQL,
                               alerts_path=tmp_path / "a.jsonl")
    assert run.fault_day_published and not run.blocked_by_checks
    assert "reached the published report" in student_run_html(run)


def test_the_right_suite_blocks_it_and_publishes_normal_days(tmp_path):
    run = run_student_pipeline(date(2024, 10, 4), "short_feed", suite=SUITE, gold_sql=GOLD_SQL,
                               alerts_path=tmp_path / "a.jsonl")
    assert run.blocked_by_checks and not run.fault_day_published
    assert len(run.published) == 3
    assert "held the fault back" in student_run_html(run)
    normal = run_student_pipeline("2024-10-04", "none", suite=SUITE, gold_sql=GOLD_SQL,
                                  alerts_path=tmp_path / "a.jsonl")
    assert normal.fault_day_published
    assert "published: a normal day" in visible_text(student_run_html(normal))


def test_an_unknown_fault_is_refused(tmp_path):
    with pytest.raises(KeyError, match="short_feed"):
        run_student_pipeline("2024-10-04", "meteor", alerts_path=tmp_path / "a.jsonl")


def test_the_panel_runs_on_click_and_shows_errors_inside(tmp_path):
    panel = capstone_panel(suite=SUITE, gold_sql=GOLD_SQL, alerts_dir=tmp_path)
    c = panel.controls
    day, fault, button, result, dashboard = (c["day"], c["fault"], c["run"], c["result"],
                                             c["dashboard"])
    day.value, fault.value = date(2024, 10, 5), "short_feed"
    button.click()
    assert "held the fault back" in result.value and dashboard.value[:4] == b"\x89PNG"
    broken = capstone_panel(suite={"gold": [{"check": "nope"}]}, gold_sql=None,
                            alerts_dir=tmp_path)
    broken.controls["run"].click()
    assert "your suite could not run" in broken.controls["result"].value
    assert "unknown check" in broken.controls["result"].value
