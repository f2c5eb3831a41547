"""The one YAML reader: every YAML source (a config file, ``--set``, a ``COURSE_ETL_*`` variable,
a check suite) is read here, with ``yaml.safe_load``'s rules and bounds PyYAML does not have.

PyYAML expands aliases of aliases without limit (a "billion laughs" of a few hundred bytes
becomes gigabytes), recurses once per nesting level (thousands of ``[`` exhaust the stack), and
lets its constructors' ``ValueError`` escape: ``2024-02-30`` raises "day is out of range for
month" and a 4,301-digit number raises Python's integer-string limit, while a 5,000-digit hex
number passes and breaks every later ``str()`` of it. :func:`read_yaml` refuses each of these
before anything uses the value: the text's size, the nesting depth (counted on the token stream,
which needs no recursion), the size once aliases are expanded, impossible dates and times,
integers outside SQLite's 64-bit range. Every refusal is one :class:`YamlReadError` naming the
source and line.
"""

from __future__ import annotations

import yaml

from course_etl.errors import CourseEtlError, check_type, checked

__all__ = [
    "MAX_YAML_CHARS",
    "MAX_YAML_NODES",
    "MAX_YAML_DEPTH",
    "YamlReadError",
    "read_yaml",
    "BoundedLoader",
]

# A config file or a suite is a few dozen lines; these limits sit far above that.
MAX_YAML_CHARS = 1_000_000
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 50
# SQLite stores integers in 64 bits; a larger one cannot be bound to any statement.
_INT_RANGE = range(-(2**63), 2**63)


class YamlReadError(CourseEtlError):
    """YAML text that cannot be read: ``.source``, ``.line`` (1-based, or None), ``.reason``,
    and ``.syntax`` (True when the text is not YAML at all, False when it is refused).

    Per situation: ``.size`` (the characters of a text, or of an integer, that is too long),
    ``.value`` (a scalar that is no real date or time), ``.cause`` (the parser's error, or the
    date's, that the reason quotes).
    """

    def __init__(self, reason: str, *, source: str, line: int | None = None,
                 syntax: bool = False, **data: object) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}", source=source, line=line, reason=reason,
                         syntax=syntax, **data)


class _ValueRefused(yaml.constructor.ConstructorError, CourseEtlError):
    """A scalar that is valid YAML but not a usable value (an impossible date, a huge number).

    A ConstructorError first, so PyYAML and read_yaml see it as one (``.problem``,
    ``.problem_mark``: what and where); read_yaml turns it into a YamlReadError carrying
    ``.facts`` (the keywords given here)."""

    def __init__(self, problem: str, mark: yaml.Mark, **facts: object) -> None:
        super().__init__(None, None, problem, mark)
        self.facts = facts


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose integers, dates and times are checked as they are built.

    A value PyYAML's own constructor refuses with a bare ValueError becomes a
    ``ConstructorError`` with the node's line; integers beyond 64 bits are refused too.
    """

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            value = super().construct_yaml_int(node)
        except ValueError:
            value = None
        if value is None or value not in _INT_RANGE:
            raise _ValueRefused(
                f"the integer of {len(str(node.value)):,} characters is too large (integers "
                "here fit in 64 bits, up to 9223372036854775807): check the value, or quote it "
                "to keep it as text", node.start_mark, size=len(str(node.value)))
        return value

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> object:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as error:
            raise _ValueRefused(
                f"{node.value!r} is not a real date or time ({error}): fix it, or quote it to "
                "keep it as text", node.start_mark, value=node.value, cause=error) from None


BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp",
                              BoundedLoader.construct_yaml_timestamp)

_OPENING = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
            yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _check_depth(text: str, source: str) -> None:
    """Refuse nesting deeper than :data:`MAX_YAML_DEPTH`, counted on the tokens (the scanner is
    a loop; the composer that follows recurses once per level)."""
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, _OPENING):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise YamlReadError(f"nested more than {MAX_YAML_DEPTH} levels deep",
                                    source=source, line=token.start_mark.line + 1)
        elif isinstance(token, _CLOSING):
            depth -= 1


def _expanded_size(root: yaml.Node, source: str) -> None:
    """Refuse a document holding more than :data:`MAX_YAML_NODES` values once aliases are
    expanded (an alias counts its whole target, each time it is used)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = (node.value if isinstance(node, yaml.SequenceNode) else
                    [n for pair in node.value for n in pair]
                    if isinstance(node, yaml.MappingNode) else [])
        if not children_done:
            if id(node) in open_nodes:  # an alias inside its own anchor: `&a [*a]`
                raise YamlReadError("an alias refers to the collection that holds it "
                                    "(a recursive structure)", source=source,
                                    line=node.start_mark.line + 1)
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        open_nodes.discard(id(node))
        size = 1 + sum(sizes[id(child)] for child in children)
        if size > MAX_YAML_NODES:
            raise YamlReadError(f"expands to more than {MAX_YAML_NODES:,} values (aliases of "
                                "aliases?)", source=source, line=node.start_mark.line + 1)
        sizes[id(node)] = size


@checked
def read_yaml(text: str, *, source: str = "YAML text", loader: type = BoundedLoader) -> object:
    """The value of the YAML document ``text``, as ``yaml.safe_load`` reads it, within bounds.

    ``source`` names the text in messages (``configs/dev.yaml``, ``--set load.key``).
    ``loader`` may be a subclass of :class:`BoundedLoader` (the config loader records lines).
    Raises YamlReadError for text that is too large, nested too deep, expands too far, is not
    valid YAML, or holds an impossible date or an integer beyond 64 bits.
    """
    check_type(text, str, argument="text", wanted="YAML text (str)", function="read_yaml")
    if len(text) > MAX_YAML_CHARS:
        raise YamlReadError(f"larger than {MAX_YAML_CHARS:,} characters ({len(text):,}): a "
                            "config or suite is a short mapping", source=source, size=len(text))
    try:
        _check_depth(text, source)
        reader = loader(text)
        try:
            node = reader.get_single_node()
            if node is None:
                return None
            _expanded_size(node, source)
            return reader.construct_document(node)
        finally:
            reader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = " ".join(str(getattr(error, "problem", None) or error).split())
        refused = isinstance(error, _ValueRefused)
        raise YamlReadError(reason=problem if refused else f"not valid YAML: {problem}",
                            source=source, line=mark.line + 1 if mark else None,
                            syntax=not refused,
                            **(error.facts if refused else {"cause": error})) from None
    except RecursionError:  # a last guard: the depth check above should make it unreachable
        raise YamlReadError("nested too deeply", source=source) from None
