"""Dashboards draw what the run log holds: bars, lines, heatmap cells and flagged runs."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from course_etl import connect
from course_etl.classroom.diagrams import CHECK_COLORS
from course_etl.monitoring.dashboards import (
    RUN_STATUS_COLORS,
    DashboardError,
    dashboard_figure,
    plot_anomaly,
    plot_check_heatmap,
    plot_duration_per_task,
    plot_rows_per_run,
)
from course_etl.monitoring.history import runs_frame, task_runs_frame
from course_etl.monitoring.lecture import generate_history
from course_etl.monitoring.runlog import RunLog


@pytest.fixture(scope="module")
def month():
    conn = connect()
    generate_history(conn, days=30)
    yield conn
    conn.close()


def axes():
    return Figure(figsize=(8, 4)).subplots()


def test_rows_per_run_bars_follow_the_load_rows_and_run_status(month):
    ax = axes()
    plot_rows_per_run(ax, month)
    runs = runs_frame(month)
    tasks = task_runs_frame(month)
    loads = tasks[tasks.task == "load"].set_index("run_id").rows_in
    expected = runs.run_id.map(loads).fillna(0).tolist()
    bars = ax.patches
    assert [b.get_height() for b in bars] == expected
    for state in ("success", "failed"):  # Airflow's two words for a finished run
        assert all(bars[i].get_facecolor()[:3] == pytest.approx(
            tuple(int(RUN_STATUS_COLORS[state][k:k + 2], 16) / 255 for k in (1, 3, 5)))
            for i in runs.index[runs.status == state])
    assert set(runs.status) == {"success", "failed"}
    crosses = ax.collections[0].get_offsets()
    assert sorted(int(x) for x, _ in crosses) == sorted(runs.index[runs.status == "failed"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["success", "failed"]


def test_duration_lines_show_the_slow_day(month):
    ax = axes()
    plot_duration_per_task(ax, month)
    lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
    assert list(lines) == ["extract", "validate", "load", "monitor"]
    assert int(np.nanargmax(lines["load"])) == 8, "2024-10-09, the slow_task day"
    assert ax.get_yscale() == "log"


def test_heatmap_cells_hold_each_check_status(month):
    ax = axes()
    plot_check_heatmap(ax, month)
    cells = ax.collections[0].get_array()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:3] == ["stg_customers.row_count_non_decreasing",
                          "stg_customers.unique_key(id)", "stg_customers.not_null(name)"]
    grid = np.ma.masked_invalid(np.asarray(cells, dtype=float)).reshape(len(labels), 30)
    assert int((grid == 2).sum()) == 3, "three blocking failures in the month"
    assert int(np.ma.getmaskarray(grid).sum()) == 4, "monitor did not run on 4 days"
    assert ax.get_facecolor()[:3] != CHECK_COLORS["pass"]


def test_anomaly_chart_marks_the_flagged_runs(month):
    ax = axes()
    plot_anomaly(ax, month)
    flagged = ax.collections[-1].get_offsets()
    runs = runs_frame(month)
    assert [runs.logical_date[int(x)] for x, _ in flagged] == [
        "2024-10-13", "2024-10-20", "2024-10-24", "2024-10-27"]
    notes = [t.get_text() for t in ax.texts]
    assert notes[0] == "10-13\nz = 28.1"


def test_dashboard_figure_has_four_views(month):
    figure = dashboard_figure(month)
    assert len(figure.axes) == 4
    assert figure._suptitle.get_text() == (
        "30 runs, 2024-10-01 to 2024-10-30: 26 success, 4 failed")


def test_empty_run_log_gives_a_clear_error(conn):
    with pytest.raises(DashboardError, match="no runs in the run log yet"):
        dashboard_figure(conn)
    recorder = RunLog(conn)
    recorder.finish_run(recorder.start_run("p"), "success")
    with pytest.raises(DashboardError, match="no check results in the run log yet"):
        plot_check_heatmap(axes(), conn)
    with pytest.raises(DashboardError, match="no runs of pipeline 'other'"):
        plot_rows_per_run(axes(), conn, pipeline="other")


def test_a_run_log_without_the_anomaly_check_still_draws_and_says_so(tmp_path):
    from course_etl.monitoring.check_results import CheckResult
    from course_etl.monitoring.runlog import record_check_results
    from course_etl.style import alt_text

    conn = connect(tmp_path / "w.db")
    recorder = RunLog(conn)
    for day in ("2024-10-01", "2024-10-02"):
        run = recorder.start_run("p", day)
        with recorder.task(run, "load") as task:
            task.set_rows(rows_in=10, rows_out=10)
        record_check_results(conn, run, [CheckResult("row_count", "pass", 10, 1, "ok", "t")])
        recorder.finish_run(run, "success")
    figure = dashboard_figure(conn, anomaly_check="volume_anomaly(rows_to_load)")
    assert "Anomaly check volume_anomaly(rows_to_load): no results in these runs." in \
        alt_text(figure)
    assert any("No results of volume_anomaly" in t.get_text() for t in figure.axes[3].texts)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pipeline=st.text(min_size=1, max_size=12).filter(lambda p: p != "customers_daily"),
       check=st.text(min_size=1, max_size=20))
def test_nothing_to_draw_carries_the_pipeline_and_the_check_asked_for(month, pipeline, check):
    with pytest.raises(DashboardError) as refused:
        plot_rows_per_run(axes(), month, pipeline=pipeline)
    assert refused.value.pipeline == pipeline
    drawn = set(month.execute("SELECT check_name FROM etl_check_results").fetchall())
    if (check,) not in drawn:
        with pytest.raises(DashboardError) as refused:
            plot_anomaly(axes(), month, check=check, pipeline="customers_daily")
        assert (refused.value.pipeline, refused.value.check) == ("customers_daily", check)
