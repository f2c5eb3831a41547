"""Which columns of a grouped SELECT take their value from a row SQLite chooses (bare columns).

In ``SELECT id, name FROM … GROUP BY id`` the SQL standard refuses ``name`` (neither grouped nor
aggregated); SQLite accepts it and takes it from "an arbitrarily chosen row" of each group
(https://sqlite.org/lang_select.html#bare_columns_in_an_aggregate_query), except when the query
has exactly one ``min()`` or ``max()``: then it comes from that row. An answer that gets the right
rows through an arbitrary choice gets them by luck of the engine's version and query plan: the
version a course runs may always choose the row the answer needs (the first row of each group in
a sub-query's ORDER BY), another may not (SQLite omits a sub-query's ORDER BY when it judges it
superfluous; SQL gives it no meaning). No data can show that on one engine, so the statement is
read instead: tokenized and split into its SELECTs (sub-queries and CTEs included), each grouped
one's result columns compared with its GROUP BY terms.
"""

from __future__ import annotations

import re

from course_etl.errors import checked

__all__ = ["bare_columns"]

_TOKEN = re.compile(r"""
    (?P<skip>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>'(?:[^']|'')*'?|[xX]'[0-9a-fA-F]*')
  | (?P<quoted>"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_$\u0080-\U0010ffff]*)
  | (?P<param>[?:@$][A-Za-z0-9_]*)
  | (?P<op>\|\||<=|>=|<>|!=|==|<<|>>|->>|->|.)
""", re.VERBOSE | re.DOTALL)

_AGGREGATES = {"avg", "count", "group_concat", "max", "min", "sum", "total", "string_agg",
               "json_group_array", "json_group_object", "jsonb_group_array",
               "jsonb_group_object", "median", "percentile", "percentile_cont",
               "percentile_disc"}
_CLAUSES = {"from", "where", "group", "having", "window", "order", "limit"}
_COMPOUND = {"union", "intersect", "except"}
_LITERAL_WORDS = {"null", "true", "false", "current_date", "current_time",
                  "current_timestamp"}


class _Group(list):
    """The tokens between a pair of parentheses."""


def _tokens(sql: str) -> list[tuple[str, str]]:
    out = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind != "skip":
            out.append((kind, match.group()))
    return out


def _nest(tokens: list[tuple[str, str]]) -> list:
    """Tokens with every parenthesised part as a nested :class:`_Group`."""
    stack: list[list] = [[]]
    for token in tokens:
        if token == ("op", "("):
            stack.append(_Group())
        elif token == ("op", ")") and len(stack) > 1:
            group = stack.pop()
            stack[-1].append(group)
        else:
            stack[-1].append(token)
    while len(stack) > 1:  # unbalanced: close what is open
        group = stack.pop()
        stack[-1].append(group)
    return stack[0]


def _is_word(item: object, *words: str) -> bool:
    return (isinstance(item, tuple) and item[0] == "word"
            and (not words or item[1].lower() in words))


def _text(items: list) -> str:
    """A canonical text of tokens: lower case, quotes of identifiers removed, one space."""
    parts = []
    for item in items:
        if isinstance(item, _Group):
            parts.append(f"({_text(item)})")
        elif item[0] == "quoted":
            parts.append(item[1][1:-1].lower())
        elif item[0] == "string":
            parts.append(item[1])
        else:
            parts.append(item[1].lower())
    return " ".join(parts).replace(" . ", ".")


def _split(items: list, separator: tuple[str, str] = ("op", ",")) -> list[list]:
    parts: list[list] = [[]]
    for item in items:
        if item == separator:
            parts.append([])
        else:
            parts[-1].append(item)
    return [p for p in parts if p]


def _selects(items: list) -> list[list]:
    """The SELECT cores at this level (compound parts separately), each from its SELECT."""
    cores, current = [], None
    for item in items:
        if _is_word(item, "select"):
            current = [item]
            cores.append(current)
        elif _is_word(item, *_COMPOUND):
            current = None
        elif current is not None:
            current.append(item)
    return cores


def _clauses(core: list) -> dict[str, list]:
    clauses: dict[str, list] = {"select": []}
    name = "select"
    for index, item in enumerate(core[1:], 1):
        if _is_word(item, *_CLAUSES):
            word = item[1].lower()
            if word in ("group", "order") and not _is_word(
                    core[index + 1] if index + 1 < len(core) else None, "by"):
                clauses[name].append(item)
                continue
            name = word
            clauses[name] = []
        elif _is_word(item, "by") and name in ("group", "order") and not clauses[name]:
            continue
        else:
            clauses[name].append(item)
    return clauses


def _aggregate_calls(items: list) -> list[str]:
    """The aggregate functions called in ``items`` (not as window functions, not inside a
    sub-query), by name."""
    calls = []
    for index, item in enumerate(items):
        after = items[index + 1] if index + 1 < len(items) else None
        if isinstance(item, _Group):
            if not (item and _is_word(item[0], "select", "with", "values")):
                calls += _aggregate_calls(item)
        elif _is_word(item, *_AGGREGATES) and isinstance(after, _Group):
            following = items[index + 2] if index + 2 < len(items) else None
            if _is_word(following, "filter"):
                following = items[index + 4] if index + 4 < len(items) else None
            if not _is_word(following, "over"):
                calls.append(item[1].lower())
    return calls


def _without_alias(item: list) -> tuple[list, str | None]:
    for index, token in enumerate(item):
        if _is_word(token, "as"):
            alias = item[index + 1] if index + 1 < len(item) else None
            name = _text([alias]) if alias is not None else None
            return item[:index], name
    if (len(item) > 1 and isinstance(item[-1], tuple) and item[-1][0] in ("word", "quoted")
            and not _is_word(item[-1], "end", *_LITERAL_WORDS)
            and (isinstance(item[-2], _Group) or item[-2][0] in ("word", "quoted", "number",
                                                                  "string"))
            and not _is_word(item[-2], "case", "when", "then", "else", "and", "or", "not",
                             "is", "in", "like", "glob", "collate", "distinct")):
        return item[:-1], _text([item[-1]])
    return item, None


def _references_columns(items: list) -> bool:
    for index, item in enumerate(items):
        if isinstance(item, _Group):
            if item and _is_word(item[0], "select", "with", "values"):
                continue
            if _references_columns(item):
                return True
        elif item[0] == "quoted":
            return True
        elif item == ("op", "*"):
            return True
        elif item[0] == "word" and item[1].lower() not in _LITERAL_WORDS:
            after = items[index + 1] if index + 1 < len(items) else None
            if not isinstance(after, _Group) and item[1].lower() not in {
                    "case", "when", "then", "else", "end", "and", "or", "not", "is", "in",
                    "like", "glob", "between", "collate", "cast", "as", "distinct", "escape",
                    "integer", "text", "real", "numeric", "blob", "exists"}:
                return True
    return False


def _unqualified(text: str) -> str:
    return text.rsplit(".", 1)[-1] if re.fullmatch(r"[^ ()]+\.[^ ()]+", text) else text


def _bare_in_core(core: list) -> list[str]:
    clauses = _clauses(core)
    select = list(clauses["select"])
    while select and _is_word(select[0], "distinct", "all"):
        select = select[1:]
    items = _split(select)
    calls = _aggregate_calls(select) + _aggregate_calls(clauses.get("having", []))
    if "group" not in clauses and "having" not in clauses and not calls:
        return []
    if len(calls) == 1 and calls[0] in ("min", "max"):
        return []  # SQLite's documented rule: bare columns come from the min or max row
    terms = {_text(t) for t in _split(clauses.get("group", []))}
    terms |= {_unqualified(t) for t in terms}
    bare = []
    for position, item in enumerate(items, 1):
        expression, alias = _without_alias(item)
        text = _text(expression)
        if (_aggregate_calls(expression) or not _references_columns(expression)
                or text in terms or _unqualified(text) in terms
                or (alias is not None and alias in terms) or str(position) in terms):
            continue
        bare.append(text)
    return bare


def _walk(items: list) -> list[str]:
    bare = []
    for core in _selects(items):
        bare += _bare_in_core(core)
    for item in items:
        if isinstance(item, _Group):
            bare += _walk(item)
    return bare


@checked
def bare_columns(sql: str) -> list[str]:
    """The result columns of grouped SELECTs in ``sql`` (at any depth) that are neither grouped
    nor aggregated, so SQLite takes them from a row of its choosing; [] when there are none."""
    return _walk(_nest(_tokens(sql)))
