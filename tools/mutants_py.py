"""Mutants of a solution file, made on its Python syntax tree (``ast``).

Every solution is a Python file that binds the answer to a name, so one mutator covers all the
exercises: a SQL string is mutated through :mod:`tools.mutants_sql`, a cron line field by field,
and the Python around them by the usual operators: a comparison flipped, ``and``/``or`` swapped, a
``not`` or a condition dropped, a number moved by one, a boolean flipped, a short text replaced by
another the file (or the course's vocabulary) uses, a dict entry or a list element dropped,
neighbours swapped, a keyword argument dropped, ``any``/``all`` and a few string methods swapped,
an index moved, arithmetic swapped, a statement removed, ``raise`` turned into ``pass``.
:func:`file_mutants` yields :class:`Mutant` objects whose ``source`` is the whole mutated file.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tools.mutants_sql import parses_as_sql, sql_mutants

__all__ = ["Mutant", "file_mutants", "cron_mutants", "is_cron"]

#: Words a quiz answer is made of elsewhere in the course (Airflow's states, the env names).
VOCABULARY = ("success", "failed", "skipped", "upstream_failed", "up_for_retry", "running",
              "queued", "dev", "prod", "base", "default", "envvar", "override")
_COMPARE_FAMILIES = [
    (ast.Eq, ast.NotEq), (ast.Lt, ast.LtE, ast.Gt, ast.GtE), (ast.In, ast.NotIn),
    (ast.Is, ast.IsNot)]
_BINARY = {ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.Div], ast.Div: [ast.Mult,
                                                                                ast.FloorDiv],
           ast.FloorDiv: [ast.Div], ast.Mod: [ast.FloorDiv]}
_CALL_SWAPS = {"any": ["all"], "all": ["any"], "max": ["min"], "min": ["max"]}
_METHOD_SWAPS = {"isdigit": ["isalpha", "isdecimal", "isalnum"], "isalpha": ["isdigit"],
                 "startswith": ["endswith"], "endswith": ["startswith"], "upper": ["lower"],
                 "lower": ["upper"], "strip": ["lstrip", "rstrip"]}
_TRANSACTION = {"COMMIT": ["ROLLBACK"], "ROLLBACK": ["COMMIT"],
                "BEGIN IMMEDIATE": ["BEGIN DEFERRED", "SELECT 1"], "BEGIN": ["SELECT 1"]}
_WORD = re.compile(r"[a-z][a-z0-9_]*")
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9]")
_CRON_FIELD = re.compile(r"^[\d*,/\-?LW#A-Za-z]+$")


@dataclass(frozen=True)
class Mutant:
    """One mutant of a solution file: the operator, what changed (``before -> after`` of the
    changed text, a SQL statement or a line) and the whole mutated source."""

    operator: str
    change: str
    source: str

    @property
    def key(self) -> str:
        """A stable name for the mutant (the equivalents file refers to it)."""
        return " ".join(f"{self.operator}: {self.change}".split())


def is_cron(text: str) -> bool:
    fields = text.split()
    return len(fields) in (5, 6) and all(_CRON_FIELD.match(f) for f in fields) \
        and any(f == "*" or f[0].isdigit() for f in fields)


def _moved(field: str) -> list[str]:
    out = []
    for match in re.finditer(r"\d+", field):
        for delta in (-1, 1):
            number = int(match.group()) + delta
            if number >= 0:
                out.append(field[:match.start()] + str(number) + field[match.end():])
    return out


def cron_mutants(text: str) -> Iterator[tuple[str, str]]:
    """A cron line's mutants, field by field: a field made ``*``, a number moved by one, a
    list item dropped, ``?`` put in (Quartz), neighbouring fields swapped, a seconds field."""
    fields = text.split()
    names = ["minute", "hour", "day of month", "month", "day of week", "year"]
    for index, field in enumerate(fields):
        variants = ([] if field == "*" else ["*"]) + _moved(field)
        if "," in field:
            parts = field.split(",")
            variants += [",".join(parts[:i] + parts[i + 1:]) for i in range(len(parts))]
        if index in (2, 4) and field == "*":
            variants.append("?")
        for variant in variants:
            yield (f"cron {names[index]} {field} -> {variant}",
                   " ".join(fields[:index] + [variant] + fields[index + 1:]))
    for a, b in ((0, 1), (2, 4)):
        if fields[a] != fields[b]:
            swapped = list(fields)
            swapped[a], swapped[b] = fields[b], fields[a]
            yield f"cron {names[a]} and {names[b]} swapped", " ".join(swapped)
    yield "cron with a seconds field", " ".join(["0", *fields])


def _text_mutants(text: str, others: list[str]) -> Iterator[tuple[str, str]]:
    if parses_as_sql(text):
        yield from ((f"SQL {op}", sql) for op, sql in sql_mutants(text))
    elif is_cron(text):
        yield from cron_mutants(text)
    elif text.strip().upper() in _TRANSACTION:
        for other in _TRANSACTION[text.strip().upper()]:
            yield f"transaction {text} -> {other}", other
    elif text.isdigit():  # a number written as text (an environment variable's value)
        for other in (str(int(text) - 1), str(int(text) + 1), ""):
            yield f"text {text!r} -> {other!r}", other
    elif text in VOCABULARY:  # a quiz's word: another word of the course's vocabulary
        for other in [*VOCABULARY, ""]:
            if other != text:
                yield f"text {text!r} -> {other!r}", other
    elif len(text) == 1:  # a quiz's letter
        for other in "abcde":
            if other != text:
                yield f"text {text!r} -> {other!r}", other
    elif _WORD.fullmatch(text):  # a name: another name the file uses
        for other in [*(o for o in others if _WORD.fullmatch(o)), ""]:
            if other != text:
                yield f"text {text!r} -> {other!r}", other
    elif _KEY.fullmatch(text):  # a key or a variable's name: its case, separators, a part
        parts = re.split(r"(__|_|\.)", text)
        variants = [text.lower(), text.upper(), text.replace("__", "_"),
                    text.replace("_", "__") if "__" not in text else text,
                    "".join(parts[:-2]) if len(parts) > 2 else text]
        for other in dict.fromkeys(variants):
            if other != text:
                yield f"text {text!r} -> {other!r}", other
    elif text:  # a label: only its absence can matter
        yield f"text {text!r} emptied", ""


def _skip(node: ast.AST, parents: dict) -> bool:
    """Docstrings, imports and the literal text of f-strings (a message's wording) are not
    answers (dict keys may be: an environment variable's name)."""
    parent = parents.get(node)
    if isinstance(parent, ast.JoinedStr | ast.FormattedValue):
        return True
    if isinstance(parent, ast.Expr) and isinstance(node, ast.Constant):
        return True  # a docstring, or a bare string
    return isinstance(parent, ast.ImportFrom | ast.Import)


def _is_key(node: ast.AST, parents: dict) -> bool:
    parent = parents.get(node)
    return isinstance(parent, ast.Dict) and any(k is node for k in parent.keys)


def _site_changes(node: ast.AST, parents: dict, texts: list[str]
                  ) -> Iterator[tuple[str, str, Callable[[ast.AST], ast.AST | None]]]:
    """(operator, change, how) for one node; ``how`` gets the node of a copy of the tree and
    returns its replacement (None: remove it)."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        family = next(f for f in _COMPARE_FAMILIES if isinstance(node.ops[0], f))
        for other in family:
            if not isinstance(node.ops[0], other):
                yield (f"comparison {type(node.ops[0]).__name__} -> {other.__name__}", "",
                       lambda n, o=other: ast.Compare(n.left, [o()], n.comparators))
    if isinstance(node, ast.BoolOp):
        swap = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield f"{type(node.op).__name__} -> {swap.__name__}", "", lambda n, s=swap: ast.BoolOp(
            s(), n.values)
        for index in range(len(node.values)):
            yield "condition dropped", "", lambda n, i=index: (
                ast.BoolOp(n.op, n.values[:i] + n.values[i + 1:]) if len(n.values) > 2
                else n.values[1 - i])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "not dropped", "", lambda n: n.operand
    if isinstance(node, ast.If):
        yield "condition negated", "", lambda n: ast.If(ast.UnaryOp(ast.Not(), n.test), n.body,
                                                        n.orelse)
    if isinstance(node, ast.BinOp):
        for other in _BINARY.get(type(node.op), []):
            yield (f"arithmetic {type(node.op).__name__} -> {other.__name__}", "",
                   lambda n, o=other: ast.BinOp(n.left, o(), n.right))
    if isinstance(node, ast.Constant) and not _skip(node, parents):
        value = node.value
        if isinstance(value, bool):
            yield "boolean flipped", "", lambda n: ast.Constant(not n.value)
        elif isinstance(value, int | float):
            for other in {value - 1, value + 1, 0} - {value}:
                yield f"number {value} -> {other}", "", lambda n, o=other: ast.Constant(o)
        elif isinstance(value, str) and _is_key(node, parents) and not value.isupper():
            pass  # a dict key in lower case names a field; a key such as an env var is an answer
        elif isinstance(value, str):
            for operator, text in _text_mutants(value, [t for t in texts if t != value]):
                shown = text if "\n" not in text and len(text) < 400 else text[:400]
                yield operator, shown, lambda n, t=text: ast.Constant(t)
    if isinstance(node, ast.Dict) and len(node.keys) > 1:
        for index in range(len(node.keys)):
            yield "dict entry dropped", "", lambda n, i=index: ast.Dict(
                n.keys[:i] + n.keys[i + 1:], n.values[:i] + n.values[i + 1:])
    if isinstance(node, ast.List | ast.Tuple) and len(node.elts) > 1 and \
            isinstance(node.ctx, ast.Load):
        for index in range(len(node.elts)):
            yield "element dropped", "", lambda n, i=index: type(n)(
                n.elts[:i] + n.elts[i + 1:], ast.Load())
        for index in range(len(node.elts) - 1):
            yield "neighbours swapped", "", lambda n, i=index: type(n)(
                n.elts[:i] + [n.elts[i + 1], n.elts[i]] + n.elts[i + 2:], ast.Load())
    if isinstance(node, ast.Call):
        for index in range(len(node.keywords)):
            yield "keyword argument dropped", "", lambda n, i=index: ast.Call(
                n.func, n.args, n.keywords[:i] + n.keywords[i + 1:])
        if isinstance(node.func, ast.Name) and node.func.id in _CALL_SWAPS:
            for other in _CALL_SWAPS[node.func.id]:
                yield f"call {node.func.id} -> {other}", "", lambda n, o=other: ast.Call(
                    ast.Name(o, ast.Load()), n.args, n.keywords)
    if isinstance(node, ast.Attribute) and node.attr in _METHOD_SWAPS:
        for other in _METHOD_SWAPS[node.attr]:
            yield f"method {node.attr} -> {other}", "", lambda n, o=other: ast.Attribute(
                n.value, o, n.ctx)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
            isinstance(node.slice.value, int) and not isinstance(node.slice.value, bool):
        for other in (node.slice.value - 1, node.slice.value + 1):
            yield f"index {node.slice.value} -> {other}", "", lambda n, o=other: ast.Subscript(
                n.value, ast.Constant(o), n.ctx)
    if isinstance(node, ast.Raise):
        yield "raise -> pass", "", lambda n: ast.Pass()
    docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    if isinstance(node, ast.Expr | ast.If | ast.AugAssign) and not docstring and \
            isinstance(parents.get(node), ast.FunctionDef | ast.If | ast.Try | ast.With |
                       ast.ExceptHandler | ast.For):
        yield "statement removed", "", lambda n: None


def _replace_in_parent(tree: ast.Module, index: int, how: Callable) -> ast.Module | None:
    nodes = list(ast.walk(tree))
    target = nodes[index]
    parents = {child: parent for parent in nodes for child in ast.iter_child_nodes(parent)}
    parent = parents[target]
    new = how(target)
    for field, value in ast.iter_fields(parent):
        if isinstance(value, list) and any(v is target for v in value):
            position = next(i for i, v in enumerate(value) if v is target)
            if new is None:
                value.pop(position)
                if not value and field in ("body", "orelse", "finalbody", "handlers"):
                    value.append(ast.Pass())
            else:
                value[position] = new
            return tree
        if value is target:
            if new is None:
                return None
            setattr(parent, field, new)
            return tree
    return None


def _is_check_call(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
        isinstance(node.value.func, ast.Name) and node.value.func.id.startswith("check_")


def file_mutants(source: str) -> Iterator[Mutant]:
    """Every mutant of a solution file (its import lines and check call untouched), each with
    a source different from the original's, in a stable order."""
    tree = ast.parse(source)
    tree.body = [s for s in tree.body if not _is_check_call(s)]
    original = ast.unparse(tree)
    texts = sorted({n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                    and isinstance(n.value, str) and len(n.value) <= 30})
    nodes = list(ast.walk(tree))
    parents = {child: parent for parent in nodes for child in ast.iter_child_nodes(parent)}
    seen = {original}
    for index, node in enumerate(nodes):
        if isinstance(parents.get(node), ast.Module) and isinstance(node, ast.ImportFrom |
                                                                      ast.Import):
            continue
        for operator, change, how in _site_changes(node, parents, texts):
            mutated = _replace_in_parent(copy.deepcopy(tree), index, how)
            if mutated is None:
                continue
            try:
                text = ast.unparse(ast.fix_missing_locations(mutated))
            except Exception:  # noqa: BLE001 - an unprintable tree is not a mutant
                continue
            if text in seen:
                continue
            seen.add(text)
            if not change:
                before = _line_of(original, text)
                change = before
            yield Mutant(operator, change, text)


def _line_of(original: str, mutated: str) -> str:
    """What changed, ``before -> after`` with a little context either side (how a Python
    mutant is named: long lines, such as a suite written on one, are cut to the change)."""
    old, new = original.splitlines(), mutated.splitlines()
    for a, b in zip(old, new, strict=False):
        if a != b:
            return _cut(a.strip(), b.strip())
    extra = old[len(new):] or new[len(old):]
    return f"{(extra or [''])[0].strip()} (removed)"


def _cut(before: str, after: str, context: int = 30) -> str:
    start = next((i for i, (x, y) in enumerate(zip(before, after, strict=False)) if x != y),
                 min(len(before), len(after)))
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    left = max(0, start - context)
    pieces = [text[left:len(text) - max(0, end - context)] for text in (before, after)]
    dots = ("…" if left else "", "…" if end > context else "")
    return f"{dots[0]}{pieces[0]}{dots[1]} -> {dots[0]}{pieces[1]}{dots[1]}"
