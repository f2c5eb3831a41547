"""One vocabulary: no component writes a run or task state outside ``course_etl.states``.

Three ways, so a new word cannot slip in unseen:

* the code: every string that the package compares with, assigns to or passes as a ``state`` or
  ``status`` (and every ``status = '…'`` in its SQL) is a word of the lists;
* the schema: the run log's CHECK constraints list exactly the words, and refuse others;
* the behaviour: each component runs (local runner on generated pipelines, run log, recorder,
  capstone with its faults, the monitoring month, the medallion gates, the command line's load)
  and every state it produced, in its reports and in the run log, is a word of the lists.
"""

import ast
import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import course_etl
from course_etl import connect
from course_etl.monitoring.alerts import Delivery
from course_etl.monitoring.check_results import CHECK_STATUSES
from course_etl.monitoring.history import loads_frame, runs_frame, task_runs_frame
from course_etl.monitoring.recorder import SchedulerRecorder
from course_etl.monitoring.tables import (
    RUNS_TABLE,
    STARTED_BY,
    TASKS_TABLE,
    ensure_runlog_tables,
)
from course_etl.scheduling import FaultInjection, LocalRunner, Pipeline, SimulatedClock, Task
from course_etl.scheduling.runner import TaskSkipped
from course_etl.states import RUN_STATES, TASK_STATES, run_state

PACKAGE = Path(course_etl.__file__).parent
STATES = set(TASK_STATES) | set(RUN_STATES)
# Other columns called "status" hold other vocabularies: a check's verdict and an alert
# delivery's fate. They are words of their own lists, never run or task states.
DELIVERY_STATUSES = {"sent", "throttled", "failed", "disabled"}
STATUS_WORDS = STATES | set(CHECK_STATUSES) | DELIVERY_STATUSES
RETIRED = {"blocked", "warning", "skip", "ok", "error", "done", "retry"}
# Words that are another thing's state, not a run's or a task's: module -> words, and why.
OTHER_THINGS = {
    "classroom/orchestrators/processes.py": {"Z"},  # a Linux process state (zombie)
    "classroom/widgets/loads.py": {"unchanged"},  # a warehouse row's change, after a load
}
_SQL_STATUS = re.compile(r"\b(?:status|state)\s*(?:=|!=|<>|IN\s*\()\s*((?:'[^']*'\s*,?\s*)+)",
                         re.IGNORECASE)


def _word(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _words(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [w for element in node.elts if (w := _word(element)) is not None]
    word = _word(node)
    return [] if word is None else [word]


def _named(node: ast.AST) -> str | None:
    """``state``/``status`` for a name, attribute or subscript of one, else None."""
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute):
        name = node.attr
    elif isinstance(node, ast.Subscript):
        name = _word(node.slice)
    else:
        return None
    return name if name in ("state", "status") else None


def state_words(source: str) -> list[tuple[int, str, str]]:
    """(line, field, word) for every literal the code writes or compares as a state/status."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            for field in filter(None, map(_named, sides)):
                found += [(node.lineno, field, w) for side in sides for w in _words(side)]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                elements = target.elts if isinstance(target, ast.Tuple) else [target]
                values = (node.value.elts if isinstance(node.value, ast.Tuple)
                          and len(elements) > 1 else [node.value])
                for element, value in zip(elements, values, strict=False):
                    if (field := _named(element)) and value is not None:
                        found += [(node.lineno, field, w) for w in _words(value)]
        elif isinstance(node, ast.keyword) and node.arg in ("state", "status"):
            found += [(node.value.lineno, node.arg, w) for w in _words(node.value)]
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is not None and _word(key) in ("state", "status"):
                    found += [(key.lineno, _word(key), w) for w in _words(value)]
        elif (word := _word(node)) is not None:
            for match in _SQL_STATUS.finditer(word):
                found += [(node.lineno, "sql", w) for w in re.findall(r"'([^']*)'",
                                                                     match.group(1))]
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_code_writes_only_the_words(path):
    other = OTHER_THINGS.get(str(path.relative_to(PACKAGE)), set())
    wrong = [f"line {line}: {field} = {word!r}"
             for line, field, word in state_words(path.read_text(encoding="utf-8"))
             if word not in other
             and (word not in STATUS_WORDS or (field == "state" and word not in STATES))]
    assert not wrong, f"{path.relative_to(PACKAGE)} uses words outside course_etl.states: {wrong}"


def test_the_code_scan_catches_each_way_of_writing_a_state():
    """Mutants of correct code, one per way a retired word could come back."""
    planted = [
        'report.state = "blocked"', 'if run.status == "warning": pass',
        'TaskReport("t", state="skip")', 'row = {"status": "blocked"}',
        'state, error = "ok", ""', 'x in ("success", "retry") and r.state in ("done",)',
        'conn.execute("UPDATE runs SET status = \'blocked\' WHERE run_id = ?")',
        'conn.execute("SELECT 1 FROM t WHERE status IN (\'success\', \'warning\')")',
    ]
    for source in planted:
        words = {w for _, _, w in state_words(source)}
        assert words & RETIRED, f"the scan missed {source!r}"
    assert {w for _, _, w in state_words('report.state = "upstream_failed"')} == {
        "upstream_failed"}


# --- the schema -------------------------------------------------------------------------------

@pytest.mark.parametrize(("table", "column", "words"), [
    (RUNS_TABLE, "status", RUN_STATES), (TASKS_TABLE, "status", TASK_STATES),
    (RUNS_TABLE, "started_by", STARTED_BY),
])
def test_the_run_log_refuses_any_other_word(table, column, words):
    conn = connect()
    ensure_runlog_tables(conn)
    ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    listed = re.search(rf'"{column}" TEXT NOT NULL.*?CHECK \("{column}" IN \(([^)]*)\)\)', ddl,
                       re.DOTALL).group(1)
    assert tuple(re.findall(r"'([^']*)'", listed)) == tuple(words)
    columns = {"status": "'running'", "started_by": "'pipeline'"}
    other = "status" if column == "started_by" else "started_by"
    for word in [*words, *sorted(RETIRED)]:
        values = {column: "?", other: columns.get(other, "'pipeline'")} if table == RUNS_TABLE \
            else {column: "?"}
        names = ", ".join(values)
        statement = (f"INSERT INTO {table} (pipeline, started_at, {names}) VALUES ('p', 'now', "
                     f"{', '.join(values.values())})" if table == RUNS_TABLE else
                     f"INSERT INTO {table} (task, started_at, status) VALUES ('t', 'now', ?)")
        if word in words:
            conn.execute(statement, (word,))
        else:
            with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
                conn.execute(statement, (word,))


# --- the behaviour ----------------------------------------------------------------------------

def logged_words(conn) -> set[str]:
    words = set(runs_frame(conn).status) | set(task_runs_frame(conn).status)
    return words | set(loads_frame(conn).status)


def report_words(reports) -> set[str]:
    return {str(r.state) for r in reports} | {
        str(s) for r in reports for t in r.tasks.values()
        for s in (t.state, *(a.state for a in t.attempts))}


BEHAVIOURS = st.sampled_from(["ok", "fail", "flaky", "skip", "check"])


@st.composite
def pipelines(draw):
    """A random DAG of up to 6 tasks, each with a behaviour and retries."""
    count = draw(st.integers(1, 6))
    behaviours = [draw(BEHAVIOURS) for _ in range(count)]
    tasks = []
    for number, behaviour in enumerate(behaviours):
        tasks.append(Task(_step, name=f"t{number}", params={"behaviour": behaviour},
                          retries=draw(st.integers(0, 2))))
        for upstream in draw(st.sets(st.integers(0, number - 1), max_size=2)) if number else ():
            tasks[upstream] >> tasks[number]
    return Pipeline("generated", tasks), behaviours


def _step(conn, *, behaviour: str, context=None):
    if behaviour == "fail":
        raise RuntimeError("always")
    if behaviour == "flaky" and context.try_number == 1:
        raise ConnectionError("once")
    if behaviour == "skip":
        raise TaskSkipped("nothing to do")
    if behaviour == "check":
        from course_etl.monitoring.checks import CheckFailedError

        raise CheckFailedError("blocking check(s) failed")
    return 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipelines(), st.booleans())
def test_generated_runs_use_only_the_words_and_airflows_rules(case, inject):
    pipeline, _ = case
    conn = connect()
    faults = FaultInjection({pipeline.order[0]: 1} if inject else {})
    report = LocalRunner(conn, clock=SimulatedClock(), faults=faults,
                         recorder=SchedulerRecorder(conn)).run(pipeline, date(2024, 10, 2))
    assert report_words([report]) <= STATES
    assert logged_words(conn) <= STATES
    for name, task in report.tasks.items():  # Airflow's all_success trigger rule
        upstream = {report.tasks[u].state for u in pipeline.graph[name]}
        if upstream & {"failed", "upstream_failed"}:
            assert (task.state, task.tries) == ("upstream_failed", 0)
            # the reason names the tasks that really failed, however far upstream
            named = task.error.removeprefix("upstream ").removesuffix(" failed").split(", ")
            assert named and all(report.tasks[n].state == "failed" for n in named)
        elif "skipped" in upstream:
            assert task.state == "skipped"
    assert report.state == run_state(t.state for t in report.tasks.values())
    logged = task_runs_frame(conn).groupby("task").last().status.to_dict()
    assert logged == {n: str(t.state) for n, t in report.tasks.items()}
    assert runs_frame(conn).status.tolist() == [str(report.state)]


def test_the_capstone_monitoring_and_medallion_write_only_the_words(tmp_path):
    from course_etl.capstone import Capstone, Fault, capstone_config
    from course_etl.medallion import (
        DirtySource,
        fixed_clock,
        ingest_dirty_batch,
        process_new_batches,
    )
    from course_etl.monitoring.lecture import generate_history

    capstone = Capstone(connect(), capstone_config("dev"), alerts_path=tmp_path / "a.jsonl")
    reports = capstone.run_days("2024-10-01", 4, fault=Fault(date(2024, 10, 4)))
    reports += [capstone.run_day("2024-10-05", fault=Fault(date(2024, 10, 5), "task_error"))]
    assert report_words(reports) <= STATES and logged_words(capstone.conn) <= STATES
    assert {"failed", "upstream_failed", "success"} <= report_words(reports)

    month = connect()
    generate_history(month, days=30)
    assert logged_words(month) <= STATES
    assert set(runs_frame(month).status) == {"success", "failed"}

    lake = connect()
    source = DirtySource(6)
    ingest_dirty_batch(lake, source.next_batch(20), clock=fixed_clock())
    assert process_new_batches(lake).state == "success"
    lake.execute("DELETE FROM silver_customers WHERE rowid = 1")
    ingest_dirty_batch(lake, source.next_batch(20), clock=fixed_clock("2024-10-02T06:00:00Z"))
    assert process_new_batches(lake).state == "failed"


def test_a_crashed_run_is_closed_with_the_words():
    from course_etl.clock import TickingClock
    from course_etl.monitoring.runlog import RunLog

    conn = connect()
    run_log = RunLog(conn, clock=TickingClock())
    killed = run_log.start_run("p")
    run_log.start_task(killed, "load")  # then the process died
    with run_log.run("p"):  # the next run of p closes the dead one
        pass
    assert logged_words(conn) <= STATES
    assert runs_frame(conn).status.tolist() == ["failed", "success"]
    assert task_runs_frame(conn).status.tolist() == ["failed"]


def test_the_command_line_load_writes_only_the_words(tmp_path, capsys):
    from course_etl.cli import main
    from course_etl.sample_data import create_lecture_source

    db = tmp_path / "dw.db"
    conn = connect(db)
    create_lecture_source(conn, "src_customers")
    conn.close()
    assert main(["load", "full", "--db", str(db)]) == 0
    conn = connect(db)
    conn.execute("DELETE FROM src_customers WHERE id > 1")
    conn.close()
    # the delete guard stops the run: a failed run, exit 1
    assert main(["load", "incremental", "--db", str(db), "--reconcile-deletes"]) == 1
    capsys.readouterr()
    conn = connect(db)
    assert logged_words(conn) <= STATES
    assert set(runs_frame(conn).status) == {"success", "failed"}
    assert set(loads_frame(conn).status) == {"success", "failed"}


def test_pictures_and_dashboards_colour_only_the_words():
    from course_etl.monitoring.dashboards import RUN_STATUS_COLORS
    from course_etl.scheduling.pictures import STATE_COLORS
    from course_etl.style import TASK_STATE_COLORS

    assert set(RUN_STATUS_COLORS) <= set(RUN_STATES)
    assert set(TASK_STATE_COLORS) <= set(TASK_STATES)
    assert set(STATE_COLORS) - {"not run"} <= set(TASK_STATES)
    assert Delivery("c", "sent", "s").status in DELIVERY_STATUSES
