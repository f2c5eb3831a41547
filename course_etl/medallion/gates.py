"""Quality gates between silver and gold, built on the checks of ``course_etl.monitoring.checks``.

Keys must be present and unique in silver and the row accounting must balance (bronze = silver +
superseded + rejected): these gates **block**, and the pipeline then rolls the whole run back, so
gold never shows data that failed them. Orphan orders and a high reject rate only **warn**. The
key and orphan gates are a declared check suite (plain dicts, YAML-ready) run by
:func:`course_etl.monitoring.checks.run_suite`; reconciliation and reject rate are checks of their
own that
return the same :class:`~course_etl.monitoring.checks.CheckResult`.
"""

from __future__ import annotations

import sqlite3

from course_etl.db import quote_identifier
from course_etl.errors import checked
from course_etl.medallion.entities import CUSTOMERS, ENTITIES, ORDERS
from course_etl.medallion.silver import REJECTS_TABLE, Reconciliation, reconcile
from course_etl.monitoring.checks import CheckResult, SuiteReport, run_suite

__all__ = ["SILVER_SUITE", "REJECT_RATE_WARN", "rows_reconcile", "reject_rate", "silver_gates"]

REJECT_RATE_WARN = 0.25  # above this share of rejected rows, say so (but do not block)

SILVER_SUITE = {
    CUSTOMERS.silver_table: [
        {"check": "not_null", "column": CUSTOMERS.key, "blocking": True},
        {"check": "unique_key", "key": CUSTOMERS.key, "blocking": True},
    ],
    ORDERS.silver_table: [
        {"check": "not_null", "column": ORDERS.key, "blocking": True},
        {"check": "unique_key", "key": ORDERS.key, "blocking": True},
        # Orders may arrive before their customer: report them, keep them out of revenue.
        {"check": "referential_integrity", "column": "customer_id",
         "parent": CUSTOMERS.silver_table, "parent_column": CUSTOMERS.key, "severity": "warn"},
    ],
}


@checked
def rows_reconcile(reconciliation: Reconciliation) -> CheckResult:
    """Blocking check: bronze rows = silver + superseded + rejected for one entity."""
    r = reconciliation
    accounted = r.silver + r.superseded + r.rejected
    table = ENTITIES[r.entity].silver_table
    if r.balanced:
        return CheckResult("rows_reconcile", "pass", accounted, r.bronze, str(r), table, True)
    gap = abs(r.bronze - accounted)
    where = "missing from" if accounted < r.bronze else "unexplained in"
    return CheckResult(
        "rows_reconcile", "fail", accounted, r.bronze,
        f"{r}: {gap} row(s) {where} silver; rebuild from bronze to repair", table, True,
    )


@checked
def reject_rate(
    conn: sqlite3.Connection, reconciliation: Reconciliation, *,
    warn_above: float = REJECT_RATE_WARN,
) -> CheckResult:
    """Warning check: more than ``warn_above`` of an entity's bronze rows were rejected."""
    r = reconciliation
    rate = r.rejected / r.bronze if r.bronze else 0.0
    rule_sql = quote_identifier("rule")
    top = conn.execute(
        f"SELECT {rule_sql}, COUNT(*) FROM {quote_identifier(REJECTS_TABLE)} "
        f"WHERE {quote_identifier('entity')} = ? "
        f"GROUP BY {rule_sql} ORDER BY COUNT(*) DESC, {rule_sql} LIMIT 1", (r.entity,)
    ).fetchone()
    detail = f" (most often {top[0]}: {top[1]})" if top else ""
    return CheckResult(
        "reject_rate", "warn" if rate > warn_above else "pass", round(rate, 4),
        f"<= {warn_above:.0%}", f"{rate:.0%} of {r.bronze} bronze rows rejected{detail}",
        REJECTS_TABLE, False,
    )


@checked
def silver_gates(conn: sqlite3.Connection) -> SuiteReport:
    """Run every gate between silver and gold; ``report.blocked`` says whether gold may change."""
    results = list(run_suite(conn, SILVER_SUITE).results)
    for reconciliation in reconcile(conn):
        results.append(rows_reconcile(reconciliation))
        results.append(reject_rate(conn, reconciliation))
    return SuiteReport(tuple(results))
