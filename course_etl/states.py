"""The words for how runs and tasks end: Airflow 3's, defined once for the whole course.

A task instance is ``queued``, ``running``, then ``success`` or ``failed``; a try that failed while
tries remain is ``up_for_retry``; a task whose upstream failed never runs and is
``upstream_failed``; a task that decided there was nothing to do (or whose upstream did) is
``skipped``. A run is ``queued``, ``running``, then ``success`` or ``failed``. These are the values
of Airflow 3's ``TaskInstanceState`` and ``DagRunState`` that the course uses (the rest — deferred,
up_for_reschedule, removed… — belong to features it does not teach);
``integration/airflow/check_airflow.py`` checks each one against the installed Airflow.

There is no "blocked" and no "warning": a blocking check that fails is a ``failed`` task, its
downstream tasks are ``upstream_failed`` and the run is ``failed``, with the check's message as
the reason. A check that only warned leaves its task ``success``; the warning is a check result
(``pass``/``warn``/``fail``, :mod:`course_etl.monitoring.check_results`), not a state.
The local runner, the run log (its CHECK constraints list these values), the dashboards, the
medallion, the capstone and both exports use these and no other words.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from course_etl.errors import checked

__all__ = [
    "TaskState",
    "RunState",
    "TASK_STATES",
    "RUN_STATES",
    "FINISHED_TASK_STATES",
    "run_state",
]


class TaskState(StrEnum):
    """How a task (one try, or the task in a run) stands: Airflow 3's ``TaskInstanceState``."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    UP_FOR_RETRY = "up_for_retry"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"


class RunState(StrEnum):
    """How a pipeline run stands: Airflow 3's ``DagRunState``."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


TASK_STATES: tuple[str, ...] = tuple(s.value for s in TaskState)
RUN_STATES: tuple[str, ...] = tuple(s.value for s in RunState)
#: The states a task ends a run in (``up_for_retry`` is between two tries, never the end).
FINISHED_TASK_STATES = (TaskState.SUCCESS, TaskState.FAILED, TaskState.UPSTREAM_FAILED,
                        TaskState.SKIPPED)


@checked
def run_state(task_states: Iterable[str]) -> RunState:
    """A finished run's state from its tasks' final states, as Airflow decides it.

    ``success`` when every task ended ``success`` or ``skipped`` (a run of skipped tasks had
    nothing to do, which is not a failure), ``failed`` as soon as one ended ``failed`` or
    ``upstream_failed``. Raises ValueError for a word that is not a finished task state.
    """
    states = [TaskState(s) for s in task_states]
    unfinished = [s for s in states if s not in FINISHED_TASK_STATES]
    if unfinished:
        raise ValueError(f"task state(s) {', '.join(unfinished)} are not final: a run ends when "
                         f"every task is {', '.join(FINISHED_TASK_STATES)}")
    bad = {TaskState.FAILED, TaskState.UPSTREAM_FAILED}
    return RunState.FAILED if any(s in bad for s in states) else RunState.SUCCESS
