"""The resolved configuration: :class:`Config`, where each value came from, and its error.

:class:`Config` holds the typed sections as attributes (``config.load.batch_size``), answers
``get``/``source_of`` for a dotted key, prints a provenance table and a masked dict, and gives the
lecture's flat ``CONFIG`` view. :class:`Provenance` records the layer that set a key and the lower
layers it replaced; :class:`ConfigError` reports every problem found at once. :func:`show_value`
writes a value as YAML would, secrets masked; :func:`did_you_mean` suggests the key meant.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from course_etl.config.layers import Origin, Problem, env_var_name
from course_etl.config.schema import LECTURE_KEYS, Secret, Settings
from course_etl.errors import CourseEtlError, checked

__all__ = ["ConfigError", "Provenance", "Config", "show_value", "did_you_mean"]


class ConfigError(CourseEtlError):
    """The configuration is invalid; ``.problems`` lists every :class:`Problem` found (each with
    its ``.key``, ``.value``, ``.origin`` and ``.message``); the message is made from them.

    A refusal whose problem's message names more than its key and value carries that too:
    ``.known`` (the environments, keys or notebooks there are), ``.matches`` (the notebooks a
    name fits), ``.path`` (a config path that is missing) or ``.cause`` (the error that refused
    a path or a value).
    """

    def __init__(self, *, problems: Sequence[Problem], **data: object) -> None:
        problems = list(problems)
        if len(problems) == 1:
            text = f"invalid configuration: {problems[0]}"
        else:
            text = f"invalid configuration ({len(problems)} problems):" + "".join(
                f"\n  - {p}" for p in problems)
        super().__init__(text, problems=problems, **data)

    def __reduce__(self):
        # Rebuilt from its facts: pickle's default passes the message, which this class does
        # not take.
        return functools.partial(type(self), **vars(self)), ()


@dataclass(frozen=True)
class Provenance:
    """Where a resolved value came from, and the lower layers it replaced (lowest first)."""

    key: str
    value: object
    origin: Origin
    replaced: tuple[Origin, ...] = ()

    @property
    def layer(self) -> str:
        return self.origin.layer


@dataclass(frozen=True)
class Config:
    """A resolved configuration: ``config.load.batch_size``, ``config.get("load.batch_size")``,
    ``config.source_of("load.batch_size")`` and ``config.provenance_table()``.

    Secrets are :class:`Secret` objects, masked in every repr, table and dict this class prints.
    """

    env: str
    settings: Settings
    provenance: dict[str, Provenance] = field(repr=False, compare=False)

    def __getattr__(self, name: str) -> object:
        # Sections read as attributes (config.load); guarded so copying a half-built object
        # cannot recurse.
        if name in ("settings", "provenance", "env") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.settings, name)

    def get(self, key: str) -> object:
        """The value of a dotted key. Raises ConfigError for an unknown key (with a suggestion)."""
        if key not in self.provenance:
            raise ConfigError(problems=[Problem(key, _NO_SHOW, None, "unknown key" + did_you_mean(
                key, list(self.provenance)))], known=list(self.provenance))
        section, name = key.split(".", 1)
        return getattr(getattr(self.settings, section), name)

    def source_of(self, key: str) -> Origin:
        """Which layer set ``key``, and where (``configs/prod.yaml:6``, a variable, …)."""
        self.get(key)
        return self.provenance[key].origin

    def provenance_table(self) -> pd.DataFrame:
        """One row per key: value (secrets masked), layer, exact place, layers it replaced."""
        rows = [
            {"key": p.key, "value": show_value(p.value), "layer": p.layer,
             "set by": str(p.origin),
             "replaced": ", ".join(o.layer for o in p.replaced)}
            for p in self.provenance.values()
        ]
        return pd.DataFrame(rows, columns=["key", "value", "layer", "set by", "replaced"])

    def as_dict(self) -> dict[str, dict[str, object]]:
        """Nested plain dict of the values, secrets masked (for printing or JSON)."""
        nested: dict[str, dict[str, object]] = {}
        for key, record in self.provenance.items():
            section, name = key.split(".", 1)
            value = record.value
            if isinstance(value, Secret):
                value = value.masked
            elif isinstance(value, tuple):
                value = list(value)
            nested.setdefault(section, {})[name] = value
        return nested

    def lecture_view(self) -> dict[str, object]:
        """The lecture's flat ``CONFIG`` dict, filled from this configuration."""
        return {name: self.get(path) for name, path in LECTURE_KEYS.items()}

    def secret_values(self) -> list[str]:
        """The revealed secrets, for a log filter that must recognise them (never print this)."""
        return [p.value.reveal() for p in self.provenance.values() if isinstance(p.value, Secret)]


class _NoShow:
    def __repr__(self) -> str:
        return "<unset>"


_NO_SHOW = _NoShow()


def show_value(value: object) -> str:
    """A value as YAML would write it, secrets masked: ``null``, ``true``, ``[id, region]``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, Secret):
        return value.masked
    return str(value)


@checked
def did_you_mean(key: str, known: list[str], *, as_env_var: bool = False) -> str:
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not match:
        # A flat name such as COURSE_ETL_BATCH_SIZE: match the last part against each key's.
        leaves = {k.rsplit(".", 1)[-1]: k for k in known}
        leaf = difflib.get_close_matches(key.rsplit(".", 1)[-1], list(leaves), n=1, cutoff=0.75)
        match = [leaves[leaf[0]]] if leaf else []
    if not match:
        sections = sorted({k.split(".", 1)[0] for k in known})
        return f" (keys are 'section.key'; sections: {', '.join(sections)})"
    return f"; did you mean {env_var_name(match[0]) if as_env_var else match[0]!r}?"
