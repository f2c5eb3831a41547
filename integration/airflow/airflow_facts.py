"""What Airflow 3 really does with the lecture's DAG and a cron schedule, written down as JSON.

Run by ``make airflow-facts`` with the interpreter of ``.venv-airflow``. Notebook 02 quotes the
file it writes (``course_etl/scheduling/airflow3_facts.json``) instead of claims typed by hand:

* each import line of the lecture's DAG, alone: does it import, and with which warning;
* the whole lecture DAG: the exception Airflow 3 raises, and the same file with ``schedule=``;
* a plain cron string: which timetable it becomes, and the first run's logical date, data interval
  and run-after, by default and with ``[scheduler] create_cron_data_intervals = True``;
* the daily ``5 2 * * *`` and ``0 2 * * *`` in Europe/Berlin on the nights daylight saving starts
  (2024-03-31) and ends (2024-10-27).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "course_etl" / "scheduling" / "airflow3_facts.json"
BERLIN = "Europe/Berlin"


def _message(caught) -> list[str]:
    return [f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught]


def _exec(source: str) -> dict:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(compile(source, "lecture_dag.py", "exec"), {"__name__": "lecture_dag"})
            error = None
        except Exception as problem:  # noqa: BLE001 - the exception is the fact we record
            error = f"{type(problem).__name__}: {problem}"
    return {"error": error, "warnings": _message(caught)}


def _stamp(moment, zone: str) -> str:
    return moment.in_timezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def _runs(timetable, start, count: int, zone: str = BERLIN) -> list[dict]:
    from airflow.timetables.base import TimeRestriction

    restriction = TimeRestriction(earliest=start, latest=None, catchup=True)
    last, runs = None, []
    for _ in range(count):
        info = timetable.next_dagrun_info(last_automated_data_interval=last,
                                          restriction=restriction)
        runs.append({"logical_date": _stamp(info.logical_date, zone),
                     "data_interval_start": _stamp(info.data_interval.start, zone),
                     "data_interval_end": _stamp(info.data_interval.end, zone),
                     "run_after": _stamp(info.run_after, zone)})
        last = info.data_interval
    return runs


def plain_cron() -> dict:
    """The timetable a plain ``schedule="5 2 * * *"`` becomes in this process, and its first run."""
    import pendulum
    from airflow.sdk import DAG
    from airflow.serialization.encoders import coerce_to_core_timetable

    start = pendulum.datetime(2024, 10, 1, tz="UTC")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dag = DAG("plain_cron", schedule="5 2 * * *", start_date=start)
    return {"timetable": type(dag.timetable).__name__,
            "runs": _runs(coerce_to_core_timetable(dag.timetable), start, 1, "UTC")}


def _in_process_with(create_cron_data_intervals: str) -> dict:
    environment = dict(os.environ,
                       AIRFLOW__SCHEDULER__CREATE_CRON_DATA_INTERVALS=create_cron_data_intervals)
    done = subprocess.run([sys.executable, "-W", "ignore", __file__, "--plain-cron"],
                          env=environment, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="course_etl_airflow_facts_"))
    import airflow
    import pendulum

    from course_etl.scheduling.lecture import LECTURE_AIRFLOW_DAG

    facts: dict = {"airflow_version": airflow.__version__, "imports": {}}
    for line in LECTURE_AIRFLOW_DAG.splitlines():
        if line.startswith(("from airflow", "import airflow")):
            facts["imports"][line] = _exec(line)
    facts["lecture_dag"] = _exec(LECTURE_AIRFLOW_DAG)
    fixed = LECTURE_AIRFLOW_DAG.replace("schedule_interval=", "schedule=")
    facts["lecture_dag_with_schedule"] = _exec(fixed)

    from airflow.timetables.interval import CronDataIntervalTimetable
    from airflow.timetables.trigger import CronTriggerTimetable

    # The setting is read when Airflow starts: ask a fresh process for each value of it.
    plain = {setting: _in_process_with(setting) for setting in ("False", "True")}
    facts["plain_cron"] = {
        "timetable": plain["False"]["timetable"],
        "default": plain["False"]["runs"],
        "create_cron_data_intervals": plain["True"]["runs"],
    }
    facts["timetable_with_create_cron_data_intervals"] = plain["True"]["timetable"]
    facts["dst"] = {}
    for expression in ("5 2 * * *", "0 2 * * *"):
        for night, after in (("spring", (2024, 3, 30, 12)), ("autumn", (2024, 10, 26, 12))):
            moment = pendulum.datetime(*after, tz=BERLIN)
            facts["dst"][f"{expression} {night}"] = {
                "CronTriggerTimetable": _runs(CronTriggerTimetable(expression, timezone=BERLIN),
                                              moment, 2),
                "CronDataIntervalTimetable": _runs(
                    CronDataIntervalTimetable(expression, BERLIN), moment, 2),
            }
    OUT.write_text(json.dumps(facts, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} (Airflow {airflow.__version__})")
    return 0


if __name__ == "__main__":
    if "--plain-cron" in sys.argv:
        os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="course_etl_airflow_"))
        print(json.dumps(plain_cron()))
        sys.exit(0)
    sys.exit(main())
