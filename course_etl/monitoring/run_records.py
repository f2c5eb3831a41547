"""Lines the run log keeps beside its runs and task runs: a run's notes, check results and alert
deliveries (one transaction each). :mod:`course_etl.monitoring.runlog` re-exports them."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from course_etl.clock import utc_text as stamp
from course_etl.db import atomic, quote_identifier
from course_etl.errors import checked
from course_etl.monitoring.tables import (
    ALERTS_TABLE,
    CHECKS_TABLE,
    RUNS_TABLE,
    columns_sql,
    ensure_runlog_tables,
)

__all__ = ["add_run_note", "record_check_results", "record_alert_delivery"]

# The columns each record fills, in the order of its values.
CHECK_COLUMNS = ("run_id", "table_name", "check_name", "status", "blocking", "observed",
                 "expected", "message")
ALERT_COLUMNS = ("run_id", "alert_key", "severity", "channel", "status", "sent_at", "subject",
                 "error")


@checked
def add_run_note(conn: sqlite3.Connection, run_id: int | None, text: str) -> None:
    """Append one line of text to a run's notes (no-op without a run id)."""
    if run_id is None:
        return
    notes_sql = quote_identifier("notes")
    with atomic(conn):
        conn.execute(
            f"UPDATE {quote_identifier(RUNS_TABLE)} SET {notes_sql} = "
            f"CASE WHEN {notes_sql} IS NULL THEN ? ELSE {notes_sql} || char(10) || ? END "
            f"WHERE {quote_identifier('run_id')} = ?",
            (text, text, run_id),
        )


@checked
def record_check_results(conn: sqlite3.Connection, run_id: int | None, results) -> int:
    """Store check results (:mod:`course_etl.monitoring.checks`) for a run; returns how many."""
    ensure_runlog_tables(conn)
    rows = [
        (run_id, r.table, r.name, r.status, int(r.blocking), _text(r.observed),
         _text(r.expected), r.message)
        for r in results
    ]
    with atomic(conn):
        conn.executemany(
            f"INSERT INTO {quote_identifier(CHECKS_TABLE)} "
            f"({columns_sql(*CHECK_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return len(rows)


@checked
def record_alert_delivery(
    conn: sqlite3.Connection, *, run_id: int | None, alert_key: str, severity: str,
    channel: str, status: str, sent_at: datetime, subject: str, error: str | None = None,
) -> None:
    """Store one alert delivery attempt (sent, throttled, failed or disabled)."""
    ensure_runlog_tables(conn)
    with atomic(conn):
        conn.execute(
            f"INSERT INTO {quote_identifier(ALERTS_TABLE)} "
            f"({columns_sql(*ALERT_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, alert_key, severity, channel, status, stamp(sent_at), subject, error),
        )


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
