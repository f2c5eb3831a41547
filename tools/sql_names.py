"""Names in SQL f-strings that did not go through the one quoting rule (repo hygiene).

This is the static half of the rule, a reading of the source. The check that counts is the
runtime guard, ``tests/sql_guard.py``: during the test suite it parses (sqlglot) every statement
course_etl sends to SQLite and fails the test when a name in it is unquoted, whatever the
variable that carried it was called; it also sees lowercase SQL, ``+`` concatenation and names
written straight into the text. This checker stays for the code paths no test reaches and for
its quick per-line report; its trust in ``*_sql`` names below is a convention the guard verifies.

The rule (issue 13, STYLE.md): in every f-string that holds SQL, each interpolated expression is

- ``quote_identifier(...)``: a name, constants too;
- ``<something>.sql``: a resolved :class:`course_etl.db.TableRef`; or
- a fragment whose name ends in lowercase ``_sql`` (``where_sql``, ``self.columns_sql``,
  ``key_match_sql(...)``), itself built only from quoted names, ``?``/``:name`` placeholders and
  SQL keywords.

Values never appear: they travel as parameters. An f-string holds SQL when its literal text has
an SQL keyword as a word (``SELECT``, ``FROM``, ``WHERE``…, upper case), or when it builds a
fragment: it is assigned to a ``*_sql`` name or sits inside a ``def *_sql(...)``. A plain string
holding SQL with a ``{slot}`` or ``%s`` for ``.format``/``%`` is an offender too (a template
would put its names in unchecked), and so is a pre-quoted ``NAME_SQL = quote_identifier(NAME)``
constant (a second convention); ``+`` concatenation is not looked at. Code that is unsafe on
purpose (the lecture's injection demo) carries ``# sql-names: exempt, <reason>`` on a line of
its f-string; the checker reports it apart and the test pins the exempt list.

``python -m tools.sql_names [package_dir]`` prints the offenders, one ``file:line: {expression}``
a line, and exits 1 when there are any; ``tests/test_sql_names.py`` calls
:func:`find_offenders` on every module.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "SQL_KEYWORDS", "Offender", "check_source", "offenders_in_source", "module_paths",
    "check_package", "find_offenders", "main",
]

SQL_KEYWORDS = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|FROM|JOIN|INTO|ALTER|PRAGMA|WHERE|VALUES)\b"
)
_FRAGMENT_SUFFIX = "_sql"
_QUOTING_HELPER = "quote_identifier"
# A slot that str.format or % fills in: a plain string holding SQL with one is a template.
_TEMPLATE_SLOT = re.compile(r"\{[A-Za-z_]?\w*\}|%\(\w+\)s|%s")
# A comment that exempts an f-string, on any of its lines, with its reason after it: only for
# code that is unsafe on purpose (the lecture's injection demo).
_EXEMPT = re.compile(r"#.*\bsql-names: exempt\b\W*\w")
PACKAGE_DIR = Path(__file__).resolve().parents[1] / "course_etl"


class Offender(NamedTuple):
    path: str  # as given to the checker (relative to the package when found by find_offenders)
    line: int
    expression: str  # "{expr}" as interpolated, or "template slot {name}"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.expression}"


def _name_of(node: ast.expr) -> str | None:
    """The name a reader sees: ``x`` for a variable, ``attr`` for ``obj.attr``, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def is_allowed(value: ast.FormattedValue) -> bool:
    """True when the interpolated expression is one of the rule's three forms, as written."""
    if value.conversion != -1 or value.format_spec is not None:
        return False  # {x!r}, {n:d}: a value's text, not a name
    expr = value.value
    if isinstance(expr, ast.Call):
        name = _name_of(expr.func)
        return name is not None and (name == _QUOTING_HELPER or name.endswith(_FRAGMENT_SUFFIX))
    if isinstance(expr, ast.Attribute) and expr.attr == "sql":
        return True
    name = _name_of(expr)
    return name is not None and name.endswith(_FRAGMENT_SUFFIX)


def _literal_text(node: ast.JoinedStr) -> str:
    return "".join(
        part.value
        for part in node.values
        if isinstance(part, ast.Constant) and isinstance(part.value, str)
    )


class _SqlStrings(ast.NodeVisitor):
    """Collect the f-strings that hold SQL (by their keywords, or by where they build a
    fragment) and the plain strings that are SQL templates for ``.format`` or ``%``."""

    def __init__(self) -> None:
        self.fstrings: list[ast.JoinedStr] = []
        self.templates: list[ast.Constant] = []
        self.prequoted: list[ast.expr] = []
        self._fragment_depth = 0  # > 0 inside a *_sql def or the value of a *_sql assignment

    def _in_fragment(self, node: ast.AST) -> None:
        self._fragment_depth += 1
        self.generic_visit(node)
        self._fragment_depth -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if node.name.endswith(_FRAGMENT_SUFFIX):
            self._in_fragment(node)
        else:
            self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def _visit_assignment(self, targets: list[ast.expr], node: ast.AST) -> None:
        names = [_name_of(t) for t in targets]
        if any(n is not None and n.endswith(_FRAGMENT_SUFFIX) for n in names):
            self._in_fragment(node)
        else:
            self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if isinstance(node.value, ast.Call) and _name_of(node.value.func) == _QUOTING_HELPER:
            # TABLE_SQL = quote_identifier(TABLE): a second convention; quote where it is used.
            self.prequoted.extend(
                t for t in node.targets if (_name_of(t) or "").endswith(_FRAGMENT_SUFFIX.upper())
            )
        self._visit_assignment(node.targets, node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._visit_assignment([node.target], node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._visit_assignment([node.target], node)

    def visit_Call(self, node: ast.Call) -> None:
        if _name_of(node.func) == _QUOTING_HELPER:
            # quote_identifier(f"_stage_{entity.name}") builds a name, which is then quoted.
            depth, self._fragment_depth = self._fragment_depth, 0
            for arg in node.args:
                if isinstance(arg, ast.JoinedStr):
                    for part in arg.values:
                        self.visit(part)
                else:
                    self.visit(arg)
            self._fragment_depth = depth
        else:
            self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.generic_visit(node)  # a bare string statement is a docstring: prose, not SQL

    def visit_Constant(self, node: ast.Constant) -> None:
        if (isinstance(node.value, str) and SQL_KEYWORDS.search(node.value)
                and _TEMPLATE_SLOT.search(node.value)):
            self.templates.append(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        if self._fragment_depth or SQL_KEYWORDS.search(_literal_text(node)):
            self.fstrings.append(node)
        # Expressions may hold f-strings of their own; the literal parts are this f-string's.
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                self.visit(part)


def _exempt_lines(source: str) -> set[int]:
    return {
        number
        for number, line in enumerate(source.splitlines(), start=1)
        if _EXEMPT.search(line)
    }


def _described(part: ast.FormattedValue, source: str) -> str:
    text = ast.get_source_segment(source, part.value) or ast.unparse(part.value)
    if part.conversion != -1:
        text += "!" + chr(part.conversion)
    if part.format_spec is not None:
        text += ":" + _literal_text(part.format_spec)
    return "{" + text + "}"


def check_source(source: str, path: str = "<string>") -> tuple[list[Offender], list[Offender]]:
    """``(offenders, exempt)`` of ``source``: exempt ones carry the ``sql-names: exempt`` mark."""
    tree = ast.parse(source, filename=path)
    visitor = _SqlStrings()
    visitor.visit(tree)
    exempt_lines = _exempt_lines(source)
    offenders, exempt = set(), set()
    for fstring in visitor.fstrings:
        marked = exempt_lines.intersection(range(fstring.lineno, fstring.end_lineno + 1))
        for part in fstring.values:
            if isinstance(part, ast.FormattedValue) and not is_allowed(part):
                offender = Offender(path, part.value.lineno, _described(part, source))
                (exempt if marked else offenders).add(offender)
    for template in visitor.templates:
        for slot in _TEMPLATE_SLOT.findall(template.value):
            offenders.add(Offender(path, template.lineno, f"template slot {slot}"))
    for target in visitor.prequoted:
        offenders.add(Offender(path, target.lineno, f"pre-quoted constant {_name_of(target)}"))
    key = lambda o: (o.path, o.line, o.expression)  # noqa: E731
    return sorted(offenders, key=key), sorted(exempt, key=key)


def offenders_in_source(source: str, path: str = "<string>") -> list[Offender]:
    """Every interpolated expression in an SQL string of ``source`` that breaks the rule."""
    return check_source(source, path)[0]


def module_paths(package_dir: str | Path = PACKAGE_DIR) -> list[str]:
    """Every module of the package, as a path relative to ``package_dir`` (``loads/engine.py``)."""
    root = Path(package_dir)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))


def check_package(
    package_dir: str | Path = PACKAGE_DIR, *, modules: list[str] | None = None
) -> tuple[list[Offender], list[Offender]]:
    """``(offenders, exempt)`` in ``modules`` (default: every module of ``package_dir``)."""
    root = Path(package_dir)
    offenders, exempt = [], []
    for relative in modules if modules is not None else module_paths(root):
        found, marked = check_source((root / relative).read_text(encoding="utf-8"), relative)
        offenders.extend(found)
        exempt.extend(marked)
    return offenders, exempt


def find_offenders(
    package_dir: str | Path = PACKAGE_DIR, *, modules: list[str] | None = None
) -> list[Offender]:
    """The rule's offenders in ``modules`` (default: every module of ``package_dir``)."""
    return check_package(package_dir, modules=modules)[0]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    offenders, exempt = check_package(Path(args[0]) if args else PACKAGE_DIR)
    for offender in offenders:
        print(offender)
    modules = len({o.path for o in offenders})
    print(f"{len(offenders)} offender(s) in {modules} module(s); "
          f"{len(exempt)} exempt on purpose", file=sys.stderr)
    return 1 if offenders else 0


if __name__ == "__main__":
    raise SystemExit(main())
