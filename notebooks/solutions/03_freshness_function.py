from datetime import datetime

from course_etl.classroom.exercises.monitoring import check_freshness_function


def freshness_status(conn, table, column, now):
    """'pass', 'warn' after 1 day, 'fail' after 3 days (or when the table is empty)."""
    # table and column are fixed names here; in a library they go through quote_identifier.
    newest = conn.execute(f'SELECT MAX("{column}") FROM "{table}"').fetchone()[0]
    if newest is None:
        return "fail"
    age = now - datetime.fromisoformat(newest)
    if age.total_seconds() > 3 * 86_400:
        return "fail"
    if age.total_seconds() > 86_400:
        return "warn"
    return "pass"


check_freshness_function(freshness_status)
