"""The layers a configuration is built from, each value tagged with where it came from.

A :class:`Layer` is a flat mapping ``dotted.key -> Entry(value, origin)``. Layers come from the
schema's defaults, from YAML files (read with ``yaml.safe_load``'s rules by a loader that also
records the line of every key, and that rejects duplicate keys, which PyYAML silently accepts),
from environment variables ``COURSE_ETL_SECTION__KEY`` (values read as YAML scalars) and from
explicit overrides (``"section.key=value"`` strings or a dict). Reading a layer never raises for
bad content: problems are collected with their origin so that one run reports all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

__all__ = [
    "ENV_PREFIX",
    "ENV_SELECTOR",
    "Origin",
    "Entry",
    "Problem",
    "Layer",
    "env_var_name",
    "defaults_layer",
    "yaml_layer",
    "environ_layer",
    "overrides_layer",
    "parse_env_lines",
    "bounded_safe_load",
    "YamlTooLargeError",
]

ENV_PREFIX = "COURSE_ETL_"
# Chooses the environment (dev/prod) rather than setting a key, so it is not read as one.
ENV_SELECTOR = "COURSE_ETL_ENV"


@dataclass(frozen=True)
class Origin:
    """Where a value came from: the layer's name and the exact place (``file:line``, a variable)."""

    layer: str
    where: str

    def __str__(self) -> str:
        if self.layer == "envvar":
            return f"environment variable {self.where}"
        return "the defaults" if self.layer == "default" else self.where


@dataclass(frozen=True)
class Entry:
    """One value for one key, as one layer set it."""

    value: object
    origin: Origin


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration: the key, the bad value, where it came from, why."""

    key: str
    value: object
    origin: Origin | None
    message: str

    def __str__(self) -> str:
        where = f" (from {self.origin})" if self.origin else ""
        shown = "" if self.value is _NO_VALUE else f" = {self.value!r}"
        return f"{self.key}{shown}{where}: {self.message}"


class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


_NO_VALUE = _NoValue()


@dataclass
class Layer:
    """A named set of entries plus the problems found while reading it (unknown keys are checked
    later, against the schema)."""

    name: str
    entries: dict[str, Entry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def env_var_name(key: str) -> str:
    """The environment variable that sets a dotted key: ``load.batch_size`` →
    ``COURSE_ETL_LOAD__BATCH_SIZE``."""
    return ENV_PREFIX + "__".join(key.split(".")).upper()


def defaults_layer(defaults: Mapping[str, object]) -> Layer:
    """The schema's defaults as the lowest layer."""
    return Layer("default", {
        key: Entry(value, Origin("default", "default")) for key, value in defaults.items()
    })


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings remember the line of each key and refuse duplicates."""


class _LineDict(dict):
    lines: dict[str, int]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    mapping = _LineDict()
    mapping.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str | int | float | bool):
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain name, not a {type(key).__name__} "
                "(remove the '?' complex key)", key_node.start_mark)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None,
                f"duplicate key {key!r} (first set on line {mapping.lines[key]})",
                key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = line
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# A config file is a few dozen lines. The limits stop a hostile file early: a YAML "billion
# laughs" (aliases of aliases) is a few hundred bytes that expand to gigabytes.
MAX_CONFIG_BYTES = 1_000_000
MAX_CONFIG_NODES = 100_000
MAX_CONFIG_DEPTH = 50


class _TooLarge(Exception):
    pass


def _expanded_size(node: yaml.Node, depth: int = 0, sizes: dict | None = None) -> int:
    """Nodes the document holds once aliases are expanded (an alias counts its whole target)."""
    sizes = {} if sizes is None else sizes
    if depth > MAX_CONFIG_DEPTH:
        raise _TooLarge(f"nested more than {MAX_CONFIG_DEPTH} levels deep")
    if id(node) in sizes:
        return sizes[id(node)]
    children: list = []
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    size = 1 + sum(_expanded_size(child, depth + 1, sizes) for child in children)
    if size > MAX_CONFIG_NODES:
        raise _TooLarge(f"expands to more than {MAX_CONFIG_NODES:,} values (aliases of aliases?)")
    sizes[id(node)] = size
    return size


class YamlTooLargeError(ValueError):
    """A YAML document nested or expanding past the limits (a ``yaml.safe_load`` would hang)."""


def bounded_safe_load(text: str) -> object:
    """``yaml.safe_load(text)`` that refuses a document nested more than
    :data:`MAX_CONFIG_DEPTH` levels or expanding (aliases included) to more than
    :data:`MAX_CONFIG_NODES` values. Raises yaml.YAMLError or YamlTooLargeError."""
    try:
        return _load_yaml(text, yaml.SafeLoader)
    except _TooLarge as error:
        raise YamlTooLargeError(str(error)) from None
    except RecursionError:
        raise YamlTooLargeError("nested too deeply") from None


def _load_yaml(text: str, loader_class: type = None) -> object:
    """``yaml.load`` with the line-recording loader, refusing documents that expand too far."""
    loader = (loader_class or _LineLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _display_path(path: Path) -> str:
    # Folder and file name only: short, and the same on every machine (no absolute paths).
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _plain(value: object) -> object:
    """YAML reads 2024-10-01 as a date; config values are text, numbers, booleans or lists."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def yaml_layer(path: str | Path, *, name: str, sections: Iterable[str], text: str | None = None
               ) -> Layer:
    """Read one YAML file (or ``text`` labelled as ``path``) into a layer.

    Top-level keys are sections; a section holds ``key: value`` pairs (``section.key: value``
    written flat also works). Anything that is not a mapping is reported with its line.
    """
    path = Path(path)
    shown = _display_path(path)
    layer = Layer(name)
    try:
        if text is None:
            if path.stat().st_size > MAX_CONFIG_BYTES:
                raise _TooLarge(f"larger than {MAX_CONFIG_BYTES:,} bytes")
            text = path.read_bytes().decode("utf-8")
        document = _load_yaml(text)
    except OSError as error:
        layer.problems.append(Problem("(file)", shown, None,
                                      f"cannot read config file: {error.strerror}"))
        return layer
    except UnicodeDecodeError as error:
        layer.problems.append(Problem("(file)", shown, None,
                                      f"not UTF-8 text (byte {error.start}): save it as UTF-8"))
        return layer
    except (_TooLarge, RecursionError) as error:
        reason = str(error) if isinstance(error, _TooLarge) else "nested too deeply"
        layer.problems.append(Problem("(file)", shown, None,
                                      f"config file refused: {reason}; a config is a short "
                                      "mapping of sections"))
        return layer
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{shown}:{mark.line + 1}" if mark else shown
        problem = getattr(error, "problem", None) or str(error)
        layer.problems.append(Problem("(file)", _NO_VALUE, Origin(name, where),
                                      f"not valid YAML: {problem}"))
        return layer
    if document is None:
        return layer
    if not isinstance(document, dict):
        layer.problems.append(Problem("(file)", document, Origin(name, f"{shown}:1"),
                                      "a config file must be a mapping of sections"))
        return layer
    section_set = set(sections)
    for top, value in document.items():
        where = Origin(name, f"{shown}:{document.lines[top]}")
        if top in section_set and value is None:
            continue  # a section whose keys are all commented out
        if top in section_set and isinstance(value, dict):
            for key, item in value.items():
                origin = Origin(name, f"{shown}:{value.lines[key]}")
                layer.entries[f"{top}.{key}"] = Entry(_plain(item), origin)
        elif top in section_set:
            layer.problems.append(Problem(str(top), value, where,
                                          "is a section: give it keys, e.g. 'load:' then "
                                          "'  batch_size: 500' on the next line"))
        else:
            layer.entries[str(top)] = Entry(_plain(value), where)
    return layer


def _scalar(raw: str) -> object:
    """Read an environment value as YAML would ('500' → 500, 'true' → True, 'a, b' stays text)."""
    try:
        return _plain(yaml.safe_load(raw))
    except yaml.YAMLError:
        return raw


def environ_layer(environ: Mapping[str, str], *, secret_keys: Iterable[str] = ()) -> Layer:
    """Variables ``COURSE_ETL_SECTION__KEY`` as a layer (``COURSE_ETL_ENV`` chooses the
    environment and is skipped). Secrets are taken verbatim, not parsed: a password ``0123`` must
    stay text."""
    layer = Layer("envvar")
    secrets = set(secret_keys)
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX) or variable == ENV_SELECTOR:
            continue
        key = ".".join(part.lower() for part in variable[len(ENV_PREFIX):].split("__"))
        raw = environ[variable]
        value = raw if key in secrets else _scalar(raw)
        layer.entries[key] = Entry(value, Origin("envvar", variable))
    return layer


def overrides_layer(overrides: Iterable[str] | Mapping[str, object] | None, *,
                    name: str = "override") -> Layer:
    """Explicit overrides: ``["load.batch_size=100", …]`` (values read as YAML scalars) or a dict
    (``{"load.batch_size": 100}`` or nested ``{"load": {"batch_size": 100}}``)."""
    layer = Layer(name)
    if overrides is None:
        return layer
    if isinstance(overrides, Mapping):
        for key, value in _flatten(overrides):
            layer.entries[key] = Entry(_plain(value), Origin(name, f"{name} {key}"))
        return layer
    if isinstance(overrides, str):
        overrides = [overrides]
    for item in overrides:
        key, equals, raw = str(item).partition("=")
        if not equals or not key.strip():
            layer.problems.append(Problem("(override)", item, Origin(name, "--set"),
                                          "expected key=value, e.g. load.batch_size=500"))
            continue
        key = key.strip()
        # The origin names the key, not the value: the value may be a secret that is refused.
        layer.entries[key] = Entry(_scalar(raw.strip()), Origin(name, f"--set {key}"))
    return layer


def _flatten(mapping: Mapping[str, object], prefix: str = "") -> list[tuple[str, object]]:
    items: list[tuple[str, object]] = []
    for key, value in mapping.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and "." not in path:
            items.extend(_flatten(value, path + "."))
        else:
            items.append((path, value))
    return items


def parse_env_lines(text: str) -> tuple[dict[str, str], list[str]]:
    """Read ``NAME=value`` lines (blank lines and ``#`` comments skipped) into a dict, plus the
    lines that could not be read, for a text box of environment variables."""
    variables: dict[str, str] = {}
    bad: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, equals, value = stripped.partition("=")
        name = name.strip().removeprefix("export ").strip()
        if not equals or not name:
            bad.append(stripped)
            continue
        variables[name] = value.strip()
    return variables, bad
