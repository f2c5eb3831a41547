"""Mutants of one SQL statement, made on its syntax tree (sqlglot, SQLite dialect).

Each operator is a mistake a student makes: a comparison flipped (``>=`` for ``>``), ``IS``/``IS
NOT`` for ``=``/``<>`` and back, a predicate, a join condition, a GROUP BY column, a SET assignment
or an ORDER BY term dropped, ``DISTINCT`` put into an aggregate, a ``LIMIT`` or a ``HAVING COUNT(*)
> 1`` added, the query doubled with ``UNION ALL``, a SELECT turned into ``DELETE … RETURNING`` or
``UPDATE … RETURNING`` (the rows it lists deleted or changed), a join made LEFT or INNER, an
aggregate or window function swapped, a sort direction reversed, a number moved by one, a column
swapped for another the statement uses, ``ON CONFLICT … DO UPDATE`` made ``DO NOTHING`` or the
insert a ``REPLACE``. :func:`sql_mutants` yields ``(operator, mutated SQL)`` pairs, each SQL
different from the original's own rendering. Mutants equivalent by construction are not made:
``DISTINCT`` inside ``MAX``/``MIN``, another constant in ``EXISTS (SELECT 1 …)``, a ``LIMIT`` on an
aggregate without ``GROUP BY`` (one row), and nothing about a query's outer ``ORDER BY`` (no
exercise asks for an order: checks compare rows as multisets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import sqlglot
from sqlglot import exp

__all__ = ["parses_as_sql", "sql_mutants"]

DIALECT = "sqlite"
_COMPARISONS: dict[type, list[type]] = {
    exp.EQ: [exp.NEQ, exp.NullSafeEQ, exp.GTE, exp.LTE],
    exp.NEQ: [exp.EQ, exp.NullSafeNEQ],
    exp.GT: [exp.GTE, exp.LT, exp.EQ],
    exp.GTE: [exp.GT, exp.LTE, exp.EQ],
    exp.LT: [exp.LTE, exp.GT, exp.EQ],
    exp.LTE: [exp.LT, exp.GTE, exp.EQ],
    exp.NullSafeEQ: [exp.EQ, exp.NullSafeNEQ],
    exp.NullSafeNEQ: [exp.NEQ, exp.NullSafeEQ],
}
_AGGREGATES: dict[type, list[type]] = {
    exp.Max: [exp.Min], exp.Min: [exp.Max], exp.Sum: [exp.Avg, exp.Max],
    exp.Avg: [exp.Sum, exp.Max], exp.Count: [exp.Sum],
}
_WINDOWS = {"ROW_NUMBER": ["RANK", "DENSE_RANK"], "RANK": ["ROW_NUMBER"],
            "DENSE_RANK": ["ROW_NUMBER"]}
_ARITHMETIC: dict[type, list[type]] = {exp.Div: [exp.Mul, exp.IntDiv], exp.Mul: [exp.Div],
                                       exp.Add: [exp.Sub], exp.Sub: [exp.Add]}
_STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "REPLACE")


def parses_as_sql(text: str) -> bool:
    """Is ``text`` one SQL statement of the kinds exercises take (a query or a write)?"""
    if not text.strip().upper().startswith(_STATEMENTS):
        return False
    try:
        return len(sqlglot.parse(text, read=DIALECT)) == 1
    except sqlglot.errors.ParseError:
        return False


def _render(tree: exp.Expression) -> str:
    return tree.sql(dialect=DIALECT)


def _replace(original: exp.Expression, index: int,
             change: Callable[[exp.Expression], exp.Expression | None]) -> str | None:
    """Render a copy of ``original`` with its ``index``-th node (in walk order) changed;
    ``change`` returns the new node, or None to remove it."""
    tree = original.copy()
    node = list(tree.walk())[index]
    new = change(node)
    if new is node:
        return None
    if new is None:
        node.pop()
    elif node is tree:
        tree = new
    else:
        node.replace(new)
    try:
        return _render(tree)
    except Exception:  # noqa: BLE001 - a mutant sqlglot cannot render is not a mutant
        return None


def _binary(kind: type, node: exp.Expression) -> exp.Expression:
    return kind(this=node.this.copy(), expression=node.expression.copy())


def _node_mutations(node: exp.Expression, tree: exp.Expression
                    ) -> Iterator[tuple[str, Callable[[exp.Expression], object]]]:
    """(operator, change) for one node; a change gets the node of a fresh copy."""
    kind = type(node)
    for other in _COMPARISONS.get(kind, []):
        yield (f"comparison {kind.__name__} -> {other.__name__}",
               lambda n, other=other: _binary(other, n))
    for other in _ARITHMETIC.get(kind, []):
        yield f"arithmetic {kind.__name__} -> {other.__name__}", lambda n, o=other: _binary(o, n)
    if isinstance(node, exp.And | exp.Or):
        yield "predicate dropped (right)", lambda n: n.this.copy()
        yield "predicate dropped (left)", lambda n: n.expression.copy()
        swap = exp.Or if isinstance(node, exp.And) else exp.And
        yield f"{kind.__name__} -> {swap.__name__}", lambda n, s=swap: _binary(s, n)
    if isinstance(node, exp.Not):
        yield "NOT dropped", lambda n: n.this.copy()
    if isinstance(node, exp.Where | exp.Having):
        yield f"{kind.__name__.upper()} dropped", lambda n: None
    if isinstance(node, exp.Join):
        yield ("join made INNER" if node.args.get("side") else "join made LEFT",
               lambda n: _toggle_join(n))
        if node.args.get("on"):
            yield "join condition dropped", lambda n: _drop_arg(n, "on")
    if isinstance(node, exp.Group):
        yield "GROUP BY dropped", lambda n: None
    if isinstance(node.parent, exp.Group) and len(node.parent.expressions) > 1:
        yield "GROUP BY column dropped", lambda n: None
    # Row order is part of no exercise (checks compare rows as multisets): only the ORDER BY
    # of a window, which decides which row wins, is mutated.
    if isinstance(node, exp.Ordered) and isinstance(node.parent, exp.Order) \
            and isinstance(node.parent.parent, exp.Window):
        yield "sort direction reversed", lambda n: _flip_order(n)
        if len(node.parent.expressions) > 1:
            yield "ORDER BY term dropped", lambda n: None
    if isinstance(node, exp.AggFunc):
        for other in _AGGREGATES.get(kind, []):
            yield (f"aggregate {kind.__name__} -> {other.__name__}",
                   lambda n, o=other: o(this=n.this.copy()))
        # MAX(DISTINCT x) is MAX(x) by definition: not generated (equivalent by construction).
        if not isinstance(node.this, exp.Distinct | exp.Star) and \
                not isinstance(node, exp.Max | exp.Min):
            yield "DISTINCT in aggregate", lambda n: _with_distinct(n)
        if isinstance(node.this, exp.Distinct):
            yield "DISTINCT dropped from aggregate", lambda n: type(n)(
                this=n.this.expressions[0].copy())
    if isinstance(node, exp.Anonymous) and node.name.upper() in _WINDOWS:
        for other in _WINDOWS[node.name.upper()]:
            yield f"window {node.name} -> {other}", lambda n, o=other: exp.Anonymous(this=o)
    if isinstance(node, exp.RowNumber):
        for other in ("RANK", "DENSE_RANK"):
            yield f"window ROW_NUMBER -> {other}", lambda n, o=other: exp.Anonymous(this=o)
    if isinstance(node, exp.Window) and node.args.get("partition_by"):
        yield "PARTITION BY dropped", lambda n: _drop_arg(n, "partition_by")
    # EXISTS (SELECT 1 …) is EXISTS (SELECT 2 …) by definition: not generated.
    in_exists = isinstance(node.parent, exp.Select) and isinstance(node.parent.parent,
                                                                    exp.Exists)
    if isinstance(node, exp.Literal) and not node.is_string and not in_exists:
        value = float(node.this)
        for delta in (-1, 1):
            number = value + delta
            text = str(int(number)) if number.is_integer() and "." not in node.this else str(number)
            yield f"number {node.this} -> {text}", lambda n, t=text: exp.Literal.number(t)
    if isinstance(node, exp.Literal) and node.is_string and node.this:
        yield "text emptied", lambda n: exp.Literal.string("")
    if isinstance(node, exp.Boolean):
        yield "boolean flipped", lambda n: exp.Boolean(this=not n.this)
    if isinstance(node, exp.Select) and node.args.get("distinct"):
        yield "DISTINCT dropped", lambda n: _drop_arg(n, "distinct")
    if isinstance(node, exp.OnConflict):
        if node.args.get("expressions"):
            yield "DO UPDATE -> DO NOTHING", lambda n: exp.OnConflict(
                conflict_keys=n.args.get("conflict_keys"), action=exp.var("DO NOTHING"))
        if node.args.get("where"):
            yield "DO UPDATE's WHERE dropped", lambda n: _drop_arg(n, "where")
    if isinstance(node, exp.EQ) and isinstance(node.parent, exp.OnConflict | exp.Update) \
            and len(node.parent.expressions) > 1:
        yield "SET assignment dropped", lambda n: None
    # The target and the excluded row of an upsert: both exist, one is the wrong one.
    if isinstance(node, exp.Column) and node.table and tree.find(exp.OnConflict):
        for table in sorted({c.table for c in tree.find_all(exp.Column) if c.table} - {node.table}):
            yield (f"column {node.table}.{node.name} -> {table}.{node.name}",
                   lambda n, t=table: exp.column(n.name, table=t))
    if isinstance(node, exp.Column) and isinstance(node.parent, exp.EQ | exp.NullSafeNEQ |
                                                   exp.NEQ | exp.NullSafeEQ):
        names = sorted({c.name for c in tree.find_all(exp.Column)} - {node.name})
        for name in names[:6]:
            yield (f"column {node.name} -> {name}",
                   lambda n, m=name: exp.column(m, table=n.table or None))


def _drop_arg(node: exp.Expression, arg: str) -> exp.Expression:
    copy = node.copy()
    copy.set(arg, None)
    return copy


def _toggle_join(node: exp.Join) -> exp.Expression:
    copy = node.copy()
    copy.set("side", None if node.args.get("side") else "LEFT")
    return copy


def _flip_order(node: exp.Ordered) -> exp.Expression:
    copy = node.copy()
    copy.set("desc", not node.args.get("desc"))
    return copy


def _with_distinct(node: exp.AggFunc) -> exp.Expression:
    copy = node.copy()
    copy.set("this", exp.Distinct(expressions=[node.this.copy()]))
    return copy


def _statement_mutations(tree: exp.Expression) -> Iterator[tuple[str, str]]:
    """Mutants of the statement as a whole: LIMIT, HAVING, UNION ALL, DELETE/UPDATE RETURNING,
    REPLACE."""
    if isinstance(tree, exp.Select):
        # An aggregate without GROUP BY returns one row: a LIMIT changes nothing by construction.
        one_row = not tree.args.get("group") and all(
            isinstance(e.unalias(), exp.AggFunc) for e in tree.expressions)
        for limit in () if one_row else (1, 20):
            yield f"LIMIT {limit} added", _render(tree.copy().limit(limit))
        if tree.args.get("group"):
            yield "HAVING COUNT(*) > 1 added", _render(tree.copy().having("COUNT(*) > 1"))
        yield "UNION ALL with itself", _render(exp.union(tree.copy(), tree.copy(), distinct=False))
        table = tree.args.get("from") and tree.args["from"].this
        if isinstance(table, exp.Table) and not tree.args.get("joins") \
                and not tree.args.get("group"):
            where = tree.args.get("where")
            returning = exp.Returning(expressions=[e.copy() for e in tree.expressions])
            delete = exp.Delete(this=exp.to_table(table.name), returning=returning,
                                where=where.copy() if where else None)
            yield "SELECT -> DELETE … RETURNING", _render(delete)
            columns = [c.name for c in tree.find_all(exp.Column)]
            if columns:
                update = exp.Update(this=exp.to_table(table.name), returning=returning.copy(),
                                    expressions=[exp.EQ(this=exp.column(columns[-1]),
                                                        expression=exp.Literal.number(0))],
                                    where=where.copy() if where else None)
                yield "SELECT -> UPDATE … RETURNING", _render(update)
    if isinstance(tree, exp.Insert) and not tree.args.get("alternative"):
        replace = tree.copy()
        replace.set("conflict", None)
        replace.set("alternative", "REPLACE")
        yield "INSERT -> INSERT OR REPLACE", _render(replace)


def sql_mutants(sql: str) -> Iterator[tuple[str, str]]:
    """Every mutant of ``sql`` as (operator, SQL), in a stable order, without repeats."""
    tree = sqlglot.parse_one(sql, read=DIALECT)
    seen = {_render(tree)}
    candidates: list[tuple[str, str | None]] = list(_statement_mutations(tree))
    for index, node in enumerate(tree.walk()):
        for operator, change in _node_mutations(node, tree):
            candidates.append((operator, _replace(tree, index, change)))
    for operator, text in candidates:
        if text is not None and text not in seen:
            seen.add(text)
            yield operator, text
