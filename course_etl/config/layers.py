"""The layers a configuration is built from, each value tagged with where it came from.

A :class:`Layer` is a flat mapping ``dotted.key -> Entry(value, origin)``. Layers come from the
schema's defaults, from YAML files (read by :mod:`course_etl.config.yamltext`'s bounded reader,
with a loader that also records the line of every key and rejects duplicate keys, which PyYAML
silently accepts), from environment variables ``COURSE_ETL_SECTION__KEY`` (values read as YAML
scalars by the same reader) and from explicit overrides (``"section.key=value"`` strings or a
dict). Files are opened through :mod:`course_etl.paths` (no FIFO, device or oversized file).
Reading a layer never raises for bad content: problems are collected with their origin so that
one run reports all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from course_etl.config.yamltext import MAX_YAML_CHARS, BoundedLoader, YamlReadError, read_yaml
from course_etl.errors import checked, short_repr
from course_etl.paths import FileRefusedError, read_text

__all__ = [
    "ENV_PREFIX",
    "ENV_SELECTOR",
    "Origin",
    "Entry",
    "Problem",
    "NO_VALUE",
    "Layer",
    "env_var_name",
    "defaults_layer",
    "yaml_layer",
    "environ_layer",
    "overrides_layer",
    "parse_env_lines",
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
        shown = "" if self.value is _NO_VALUE else f" = {short_repr(self.value, 100)}"
        return f"{self.key}{shown}{where}: {self.message}"


class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


_NO_VALUE = _NoValue()
# A Problem whose value must not be shown (a path that is itself the problem, a refused value).
NO_VALUE = _NO_VALUE


@dataclass
class Layer:
    """A named set of entries plus the problems found while reading it (unknown keys are checked
    later, against the schema)."""

    name: str
    entries: dict[str, Entry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@checked
def env_var_name(key: str) -> str:
    """The environment variable that sets a dotted key: ``load.batch_size`` →
    ``COURSE_ETL_LOAD__BATCH_SIZE``."""
    return ENV_PREFIX + "__".join(key.split(".")).upper()


@checked
def defaults_layer(defaults: Mapping[str, object]) -> Layer:
    """The schema's defaults as the lowest layer."""
    return Layer("default", {
        key: Entry(value, Origin("default", "default")) for key, value in defaults.items()
    })


class _TextDatesLoader(BoundedLoader):
    """The bounded loader, keeping a date or time as the text written once it is checked to be
    real: ``2024-10-01 10:00:00`` stays that text, where ``isoformat()`` would write a ``T``,
    which sorts after the space of every stored watermark of that day."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> str:
        super().construct_yaml_timestamp(node)
        return str(node.value)


_TextDatesLoader.add_constructor("tag:yaml.org,2002:timestamp",
                                 _TextDatesLoader.construct_yaml_timestamp)


class _LineLoader(_TextDatesLoader):
    """The config loader: its mappings also remember the line of each key and refuse duplicate
    keys (PyYAML silently keeps the last)."""


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


@checked
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
            text = read_text(path, what="config file", limit=MAX_YAML_CHARS)
        document = read_yaml(text, source=shown, loader=_LineLoader)
    except FileRefusedError as error:
        layer.problems.append(Problem("(file)", shown, None,
                                      f"cannot read config file: {error.reason}: {error.fix}"))
        return layer
    except YamlReadError as error:
        where = f"{shown}:{error.line}" if error.line is not None else shown
        layer.problems.append(Problem("(file)", _NO_VALUE, Origin(name, where),
                                      f"config file refused: {error.reason}"
                                      if not error.syntax else error.reason))
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


# One value on a command line or in a variable: far shorter than a file.
MAX_VALUE_CHARS = 10_000


def _scalar(raw: str, source: str) -> object:
    """Read one value as YAML would ('500' → 500, 'true' → True); text that is not YAML at all
    ('a: b: c') stays text. Raises YamlReadError for a value YAML reads but the course refuses
    (an impossible date, a huge integer, an alias bomb, a value over MAX_VALUE_CHARS)."""
    if len(raw) > MAX_VALUE_CHARS:
        raise YamlReadError(f"longer than {MAX_VALUE_CHARS:,} characters ({len(raw):,})",
                            source=source, size=len(raw))
    try:
        return _plain(read_yaml(raw, source=source, loader=_TextDatesLoader))
    except YamlReadError as error:
        if error.syntax:
            return raw
        raise


@checked
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
        origin = Origin("envvar", variable)
        try:
            value = raw if key in secrets else _scalar(raw, variable)
        except YamlReadError as error:
            layer.problems.append(Problem(key, _NO_VALUE, origin, error.reason))
            continue
        layer.entries[key] = Entry(value, origin)
    return layer


@checked
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
        origin = Origin(name, f"--set {key}")
        try:
            layer.entries[key] = Entry(_scalar(raw.strip(), origin.where), origin)
        except YamlReadError as error:
            layer.problems.append(Problem(key, _NO_VALUE, origin, error.reason))
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


@checked
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
