"""The live-server helpers without a server: homes, environments, process bookkeeping."""

import ast
import json
import socket
import sys
import time
from datetime import timedelta

from course_etl.classroom.orchestrators.airflow_server import (
    CLASSROOM_RETRY_DELAY,
    airflow_environment,
    course_pipelines,
    dags_parsed,
    prepare_airflow_home,
)
from course_etl.classroom.orchestrators.dagster_server import prepare_dagster_home
from course_etl.classroom.orchestrators.processes import (
    ProcessGroup,
    descendants,
    listening,
    rss_bytes,
)


def test_served_pipelines_retry_after_seconds_not_minutes():
    pipelines = course_pipelines()
    assert [p.name for p in pipelines] == ["customers_etl", "course_capstone"]
    assert {t.retry_delay for p in pipelines for t in p} == {CLASSROOM_RETRY_DELAY}
    assert CLASSROOM_RETRY_DELAY == timedelta(seconds=10)


def test_airflow_home_holds_dags_warehouses_and_the_password(tmp_path):
    home = prepare_airflow_home(tmp_path)
    assert home.root == tmp_path.resolve() / ".airflow"
    assert sorted(p.name for p in home.dags.iterdir()) == ["course_capstone.py",
                                                          "customers_etl.py"]
    for dag_file in home.dags.iterdir():
        text = dag_file.read_text()
        ast.parse(text)
        assert str(home.warehouses[dag_file.stem]) in text
    assert json.loads(home.passwords_file.read_text()) == {"admin": home.password}
    assert home.passwords_file.stat().st_mode & 0o077 == 0
    assert not dags_parsed(home.database, ["customers_etl"])  # no metadata DB yet


def test_airflow_environment_keeps_everything_on_loopback_and_in_the_home(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "True")  # a stray setting is dropped
    home = prepare_airflow_home(tmp_path)
    env = airflow_environment(home, venv=tmp_path / ".venv-airflow", port=8280)
    assert env["PATH"].startswith(str(tmp_path / ".venv-airflow" / "bin"))
    assert env["AIRFLOW_HOME"] == str(home.root)
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8280/execution/"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(home.passwords_file)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(f"sqlite:///{home.root}")
    assert env["TMPDIR"].startswith(str(home.root))


def test_dagster_home_turns_telemetry_off(tmp_path):
    home = prepare_dagster_home(tmp_path)
    assert "enabled: false" in (home.root / "dagster.yaml").read_text()
    assert [p.name for p in home.definitions] == ["customers_etl.py", "course_capstone.py"]


def test_a_process_group_is_measured_listed_and_stopped_whole(tmp_path):
    group = ProcessGroup(env={}, cwd=tmp_path, log_dir=tmp_path / "logs")
    # A server that listens, starts a worker in the group and a runner in a session of its own
    # (which a signal to the group does not reach), which starts a grandchild of its own.
    runner = ("import subprocess, sys, time; "
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
              "time.sleep(60)")
    server = ("import socket, subprocess, sys, time\n"
              "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              f"subprocess.Popen([sys.executable, '-c', {runner!r}], start_new_session=True)\n"
              "time.sleep(60)\n")
    group.start("server", [sys.executable, "-c", server])
    for _ in range(100):
        if len(group.pids()) == 4 and listening(group.pids()):
            break
        time.sleep(0.1)
    assert len(group.pids()) == 4  # the children it started count too, in any session
    assert rss_bytes(group.pids()) > 1_000_000
    [(address, port, _)] = listening(group.pids())
    assert address == "127.0.0.1" and port > 0
    everyone = group.pids()
    assert group.stop(timeout=5) == set()
    assert group.pids() == set() and descendants(everyone) == set()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
