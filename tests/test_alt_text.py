"""Every picture says what it shows, in words taken from the data it draws.

- Every function in course_etl that returns a Figure is listed in ``DRAWN_BY`` (a new one fails
  until someone says how to draw it here), and each figure it draws carries alt text.
- The alt text follows the data: generated runs (hypothesis picks the failing task, its failures
  and the retries), seeded histories with random faults, dirty medallion batches of random size
  and dirt; the counts and state words in the text are the data's, recounted here.
- The lecture diagrams' alt text moves with their data (a diagram's data changed, its alt text
  changes) and every Markdown reference to a diagram carries it.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import course_etl
from course_etl.classroom.diagrams import DIAGRAMS
from course_etl.classroom.diagrams import full_vs_incremental as fvi
from course_etl.classroom.diagrams import job_scheduling as js
from course_etl.classroom.diagrams.alt import ALT_TEXTS, diagram_alt
from course_etl.db import connect
from course_etl.style import MissingAltText, Picture, alt_text, counted, picture, set_alt_text
from tools.alt_text import stale_alt_texts

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(course_etl.__file__).parent

# Every function that returns a Figure, and the test below that draws it from generated data.
DRAWN_BY = {
    "classroom/diagrams/full_vs_incremental.py:full_vs_incremental_figure": "lecture diagrams",
    "classroom/diagrams/job_scheduling.py:job_scheduling_figure": "lecture diagrams",
    "classroom/diagrams/monitoring.py:monitoring_figure": "lecture diagrams",
    "classroom/diagrams/parameterization.py:parameterization_figure": "lecture diagrams",
    "classroom/diagrams/medallion_architecture.py:medallion_architecture_figure":
        "lecture diagrams",
    "scheduling/pictures.py:dag_figure": "generated runs",
    "scheduling/pictures.py:gantt_figure": "generated runs",
    "scheduling/pictures.py:week_timeline_figure": "generated schedules",
    "monitoring/dashboards.py:dashboard_figure": "seeded histories",
    "classroom/widgets/monitoring.py:panel_dashboard_figure": "seeded histories",
    "capstone/reports.py:dashboard_figure": "capstone runs",
    "medallion/charts.py:gold_figure": "dirty batches",
    "medallion/lineage.py:layer_flow_figure": "dirty batches",
    "medallion/lineage.py:_flow": "dirty batches",
    "classroom/widgets/loads.py:scale_chart_figure": "scale tables",
}
NOT_DRAWING = {"style.py:set_alt_text", "style.py:wrapper"}  # pass a figure on, draw none


def _figure_functions() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.returns is not None \
                    and ast.unparse(node.returns) == "Figure" \
                    and not node.name.startswith(("plot_",)):
                found.add(f"{path.relative_to(PACKAGE).as_posix()}:{node.name}")
    return found


def test_every_figure_function_is_drawn_by_a_test_here():
    missing = _figure_functions() - set(DRAWN_BY) - NOT_DRAWING
    assert not missing, (f"functions returning a Figure with no alt-text test: {sorted(missing)};"
                         " give the figure alt text (style.set_alt_text) and add it to DRAWN_BY")


def test_a_figure_without_alt_text_is_refused():
    from matplotlib.figure import Figure

    figure = Figure()
    with pytest.raises(MissingAltText, match="set_alt_text") as refused:
        alt_text(figure)
    assert refused.value.figure is figure
    with pytest.raises(MissingAltText):
        picture(figure)
    with pytest.raises(MissingAltText):
        set_alt_text(figure, "   ")


@settings(max_examples=30, deadline=None)
@given(title=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30),
       label=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30),
       blank=st.text(" \t\n", max_size=5))
def test_a_refused_figure_is_carried_and_named_by_its_title_or_label(title, label, blank):
    from matplotlib.figure import Figure

    figure = Figure()
    figure.set_label(label)
    if title:
        figure.suptitle(title)
    with pytest.raises(MissingAltText) as refused:
        alt_text(figure)
    assert refused.value.figure is figure
    assert f"figure {title or label or repr(figure)} has no alt text" in str(refused.value)
    with pytest.raises(MissingAltText) as refused:
        set_alt_text(figure, blank)
    assert refused.value.figure is figure


def test_a_picture_is_an_img_with_its_alt_text_and_the_png():
    from matplotlib.figure import Figure

    figure = set_alt_text(Figure(figsize=(2, 1), dpi=100), 'a "quoted" <b>line</b>')
    bundle = Picture(figure, retina=True)._repr_mimebundle_()
    assert 'alt="a &quot;quoted&quot; &lt;b&gt;line&lt;/b&gt;"' in bundle["text/html"]
    assert 'width="200" height="100"' in bundle["text/html"]  # its size, the PNG holds 2x
    assert bundle["text/plain"] == 'a "quoted" <b>line</b>'
    assert bundle["text/html"].count("data:image/png;base64,") == 1 and bundle["image/png"]


# -- the lecture diagrams -------------------------------------------------------------------

@pytest.mark.parametrize("name", list(DIAGRAMS))
def test_each_diagram_carries_its_alt_text(name):
    assert alt_text(DIAGRAMS[name]()) == diagram_alt(name)
    assert set(ALT_TEXTS) == set(DIAGRAMS)


def test_full_vs_incremental_counts_what_its_tables_hold(monkeypatch):
    tables = fvi._source_table_per_run()
    copied_full = sum(len(t) for t in tables)
    text = fvi.full_vs_incremental_alt()
    assert f"{copied_full} in all" in text
    # Another story (a fourth run with two new rows): the text follows, no literal survives.
    more = [*tables, {**tables[-1], 14: 16, 15: 17}]
    monkeypatch.setattr(fvi, "_source_table_per_run", lambda: more)
    text = fvi.full_vs_incremental_alt()
    assert f"over {len(more)} runs" in text and f"{copied_full + 15} in all" in text
    # 8 + 5 + 4 + (the row at the watermark, read again (>=), and the two new rows)
    assert "3 rows, 20 in all" in text


def test_job_scheduling_alt_follows_its_tasks(monkeypatch):
    states = Counter(state for _, state in js._TASKS.values())
    assert counted(s for _, s in js._TASKS.values()) in js.job_scheduling_alt()
    assert all(f"{n} {s}" in js.job_scheduling_alt() for s, n in states.items())
    changed = {**js._TASKS, "publish": ((78, 19.5), "success")}
    monkeypatch.setattr(js, "_TASKS", changed)
    monkeypatch.setattr(js, "SCHEDULE", dataclasses.replace(js.SCHEDULE, cron="30 6 * * 1-5"))
    text = js.job_scheduling_alt()
    assert "3 success" in text and "30 6 * * 1-5 (At 06:30, Monday through Friday)" in text
    assert "check_rates are upstream_failed" in text  # publish no longer is


def test_every_markdown_reference_to_a_diagram_carries_its_alt_text():
    stale = stale_alt_texts(REPO)
    assert not stale, "run  python -m tools.alt_text --write :\n" + "\n".join(
        f"{s.source.name} {s.cell}: {s.diagram}" for s in stale)


def test_the_alt_text_tool_rewrites_only_the_diagrams(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "README.md").write_text(
        "![old words](images/job_scheduling.png)\n![a screenshot](images/screenshots/x.png)\n",
        encoding="utf-8")
    assert [s.diagram for s in stale_alt_texts(tmp_path, write=True)] == ["job_scheduling.png"]
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert f"![{diagram_alt('job_scheduling.png')}](images/job_scheduling.png)" in text
    assert "![a screenshot](images/screenshots/x.png)" in text
    assert stale_alt_texts(tmp_path) == []


# -- scheduling pictures, on generated runs -------------------------------------------------

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task=st.sampled_from(["(none)", "full_load", "incremental_load", "row_count_check"]),
       failures=st.integers(0, 4), retries=st.integers(0, 3))
def test_dag_and_gantt_alt_text_recount_the_report(task, failures, retries):
    from course_etl.scheduling.lecture import simulate_run
    from course_etl.scheduling.pictures import dag_figure, gantt_figure

    pipeline, report = simulate_run(connect(":memory:"),
                                    failing_task=None if task == "(none)" else task,
                                    failures=failures, retries=retries, day=date(2024, 10, 2))
    dag, gantt = alt_text(dag_figure(pipeline, report)), alt_text(gantt_figure(report))
    states = Counter(report.tasks[n].state if n in report.tasks else "not run"
                     for n in pipeline.order)
    assert f": {report.state};" in dag
    for state, n in states.items():
        assert re.search(rf"\b{n} {state}\b", dag), (state, n, dag)
    for name, task_report in report.tasks.items():
        assert name in gantt
        tries = re.findall(r"try (\d+) ([a-z_]+)", gantt.split(f"{name}")[1].split(";")[0])
        assert [(int(n), s) for n, s in tries] == [(a.try_number, a.state)
                                                   for a in task_report.attempts]
    assert f"{report.state} in {report.seconds:g} s" in gantt


@settings(max_examples=25, deadline=None)
@given(minute=st.integers(0, 59), hour=st.one_of(st.just("*"), st.integers(0, 23).map(str)),
       weekdays=st.sampled_from(["*", "1-5", "0,6", "3"]),
       zone=st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata"]))
def test_week_alt_text_counts_the_runs_drawn(minute, hour, weekdays, zone):
    from course_etl.scheduling.cron import CronSchedule
    from course_etl.scheduling.pictures import week_timeline_figure

    schedule = CronSchedule(f"{minute} {hour} * * {weekdays}", zone)
    start = datetime(2024, 10, 1)
    text = alt_text(week_timeline_figure(schedule, start))
    from datetime import timedelta
    begin = datetime.combine(start.date(), datetime.min.time(), tzinfo=schedule.zone)
    runs = schedule.runs_between(begin, begin + timedelta(days=7, seconds=-1))
    assert f": {len(runs)} run(s)." in text
    if runs and len(runs) <= 7:
        assert all(f"{r:%a %d} {r:%H:%M}" in text for r in runs)


# -- dashboards, on seeded histories --------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_dashboard_alt_text_recounts_the_run_log(seed, tmp_path):
    import random

    from course_etl.monitoring.dashboards import dashboard_figure
    from course_etl.monitoring.history import check_results_frame, runs_frame
    from course_etl.monitoring.lecture import FAULTS, generate_history

    rng = random.Random(seed)
    faults = {day: rng.choice([k for k in FAULTS if k != "none"])
              for day in rng.sample(range(8, 20), 2)}
    conn = connect(":memory:")
    generate_history(conn, days=20, faults=faults, seed=seed)
    text = alt_text(dashboard_figure(conn))
    runs = runs_frame(conn)
    assert f"of {len(runs)} runs" in text
    assert counted(runs.status) in text
    checks = check_results_frame(conn)
    for (table, name, status), group in checks[checks.status != "pass"].groupby(
            ["table_name", "check_name", "status"]):
        assert f"{table}.{name} {status} on {str(group.logical_date.iloc[0])[:10]}" in text


# -- medallion charts, on dirty batches ------------------------------------------------------

@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.integers(1, 3), size=st.integers(5, 40), seed=st.integers(0, 10_000))
def test_medallion_alt_texts_recount_the_marts(batches, size, seed):
    from datetime import timedelta

    from course_etl.db import query
    from course_etl.medallion import (
        CITY_DAILY_REVENUE,
        CUSTOMER_STATS,
        DEFAULT_DIRT,
        DirtySource,
        fixed_clock,
        ingest_dirty_batch,
        layer_flow_figure,
        process_new_batches,
    )
    from course_etl.medallion.charts import gold_figure
    from course_etl.medallion.lineage import layer_counts

    conn = connect(":memory:")
    source = DirtySource(seed)
    clock = fixed_clock("2024-10-01T06:00:00Z", timedelta(hours=12))
    for _ in range(batches):
        ingest_dirty_batch(conn, source.next_batch(size, DEFAULT_DIRT), clock=clock)
    process_new_batches(conn)
    gold = alt_text(gold_figure(conn))
    stats = query(conn, f'SELECT city, n_customers FROM "{CUSTOMER_STATS}"')
    assert f"for {len(stats)} cities" in gold
    for row in stats.itertuples():
        assert f"{row.city} {row.n_customers}" in gold
    revenue = query(conn, f'SELECT day, revenue FROM "{CITY_DAILY_REVENUE}"')
    if not revenue.empty:
        assert f"{revenue.groupby('day').revenue.sum().sum():,.2f} in all" in gold
    flow = alt_text(layer_flow_figure(conn))
    counts = layer_counts(conn)
    assert f"bronze_customers {counts['bronze_customers']} rows" in flow
    assert f"{counts[CUSTOMER_STATS]} cities" in flow


def test_capstone_dashboard_alt_text_recounts_its_runs(tmp_path):
    from course_etl.capstone import dashboard_figure
    from course_etl.classroom.widgets.capstone import run_student_pipeline
    from course_etl.monitoring.history import runs_frame

    run = run_student_pipeline("2024-10-04", "short_feed", alerts_path=tmp_path / "a.jsonl")
    text = alt_text(dashboard_figure(run.conn))
    runs = runs_frame(run.conn)
    assert f"of {len(runs)} runs" in text and counted(runs.status) in text


@pytest.mark.parametrize("rows", [[1_000, 10_000], [1_000, 10_000, 100_000]])
def test_scale_chart_alt_text_lists_every_measurement(rows):
    from course_etl.classroom.widgets.loads import scale_chart_figure, speedup_label

    table = pd.DataFrame({"source_rows": rows,
                          "full_seconds": [0.01 * i for i in range(1, len(rows) + 1)],
                          "incremental_seconds": [0.002] * len(rows)})
    table["speedup"] = table.full_seconds / table.incremental_seconds
    text = alt_text(scale_chart_figure(table))
    assert f"{len(rows)} sizes" in text
    for point in table.itertuples():
        assert f"{point.source_rows:,} rows: full {point.full_seconds:.3g} s" in text
        assert speedup_label(point.speedup) in text


def test_figure_functions_listed_exist():
    import importlib

    for key in DRAWN_BY:
        module, name = key.split(":")
        imported = importlib.import_module("course_etl." + module[:-3].replace("/", "."))
        assert inspect.isfunction(getattr(imported, name)), key
