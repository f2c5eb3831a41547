"""The course's one retry rule, and Airflow's beside it: which failures a retry can fix.

:data:`RULE` says it in a sentence and :func:`fails_fast` implements it; the local runner follows
it, the exported Airflow DAG raises ``AirflowFailException`` and the exported Dagster file raises
``dagster.Failure(allow_retries=False)`` exactly where :func:`fails_fast` is true, so a failure
ends the same way on every runner.

Why bad code fails at once: a ``TypeError`` or a misspelled name in a task raises the same way on
every try, because the code and its input are the same; waiting five minutes only delays the red
and makes the log say ``up_for_retry`` as if the warehouse had hiccupped. Airflow cannot tell
(it retries every exception: :data:`AIRFLOW_RULE`, checked against the installed Airflow by
``integration/airflow/check_airflow.py``); the course can, for the errors it raises itself and
for the few Python errors only wrong code raises. Errors that data or the outside world can
cause (``ValueError``, ``KeyError``, ``OSError``, an error of a library the course does not know)
are retried, as Airflow does: a retry costs a wait, failing a run that would have passed costs a
day.
"""

from __future__ import annotations

import sqlite3

from course_etl.dbfile import is_transient
from course_etl.errors import CourseEtlError

__all__ = ["RULE", "AIRFLOW_RULE", "CODE_ERRORS", "fails_fast", "reason"]

RULE = (
    "course_etl retries a failed task while tries remain, except errors that waiting cannot fix, "
    "which fail at once (the course's AirflowFailException): bad configuration or input, bad "
    "SQL, a failed blocking check, and bugs in the task's code (TypeError, NameError, "
    "AttributeError, ImportError, SyntaxError, NotImplementedError, AssertionError). A lock, "
    "an I/O error, a dropped connection or an error the course does not know is retried."
)
AIRFLOW_RULE = (
    "Airflow 3 retries every exception while tries remain (the task's retries), except "
    "AirflowFailException (and a sensor's timeout), which fail at once; AirflowSkipException "
    "ends the task skipped."
)
#: Errors only wrong code raises: the same code on the same input raises them on every try.
CODE_ERRORS: tuple[type[BaseException], ...] = (
    TypeError, NameError, AttributeError, ImportError, SyntaxError, NotImplementedError,
    AssertionError,
)


def fails_fast(error: BaseException) -> bool:
    """True when retrying cannot fix ``error``, so the task fails at once (see :data:`RULE`).

    In order: an error marked ``transient = True``, a dropped connection or a timeout can pass
    (False); a SQLite error fails fast unless it is a lock or I/O; every other course error
    (bad configuration, a missing table, a failed blocking check) fails fast, and so do the
    :data:`CODE_ERRORS`; anything else is retried while tries remain.
    """
    if getattr(error, "transient", False) is True:
        return False
    if isinstance(error, ConnectionError | TimeoutError):
        return False
    if isinstance(error, sqlite3.Error):
        return not is_transient(error)
    return isinstance(error, (CourseEtlError, *CODE_ERRORS))


def reason(error: BaseException) -> str:
    """One line on the error: its type and message (what a report or a log shows)."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
