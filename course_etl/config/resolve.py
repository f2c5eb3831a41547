"""Resolve layers into one typed, validated configuration that remembers where each value came from.

``load_config`` stacks defaults < ``configs/base.yaml`` < ``configs/<env>.yaml`` < environment
variables ``COURSE_ETL_SECTION__KEY`` < explicit overrides, the order dlt uses (explicit beats
environment beats files beats defaults). Every value of every layer is type- and range-checked
against the schema, unknown keys get a "did you mean", secrets are refused anywhere but in
environment variables, and all problems are reported together in one :class:`ConfigError`, each
naming key, bad value and origin (``file:line`` or the variable). The result, :class:`Config`, has
the typed sections as attributes and a provenance record for every key (it lives in
:mod:`course_etl.config.resolved`; re-exported here).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from course_etl.config.layers import (
    ENV_SELECTOR,
    NO_VALUE,
    Entry,
    Layer,
    Origin,
    Problem,
    defaults_layer,
    env_var_name,
    environ_layer,
    overrides_layer,
    yaml_layer,
)
from course_etl.config.resolved import (
    Config,
    ConfigError,
    Provenance,
    did_you_mean,
    show_value,
)
from course_etl.config.schema import (
    KeySpec,
    Secret,
    Settings,
    key_specs,
    section_names,
)
from course_etl.errors import CourseEtlError, checked
from course_etl.paths import CONFIG_DIR, FileRefusedError, check_path, existing_file

__all__ = [
    "CONFIG_DIR",
    "DEFAULT_ENV",
    "ConfigError",
    "Provenance",
    "Config",
    "available_environments",
    "resolve",
    "load_config",
    "describe_keys",
    "validate_value",
    "show_value",
]

DEFAULT_ENV = "dev"



# Broad on purpose: masking a harmless value costs nothing, echoing a password costs a lot.
_SECRET_NAME = re.compile(r"pas|pwd|secret|token|hook|key|cred|auth|priv|url|sig",
                          re.IGNORECASE)


def _looks_secret(key: str, specs: dict[str, KeySpec]) -> bool:
    """True when an unknown key's name looks like a secret or is close to a secret key."""
    if _SECRET_NAME.search(key):
        return True
    secrets = {k.rsplit(".", 1)[-1]: k for k, spec in specs.items() if spec.secret}
    return bool(difflib.get_close_matches(key.rsplit(".", 1)[-1], list(secrets), n=1,
                                          cutoff=0.6))


def _type_error(spec: KeySpec, value: object) -> ValueError:
    got = "null" if value is None else type(value).__name__.replace("str", "text")
    if isinstance(value, float) and not math.isfinite(value):
        got = f"{value} (numbers must be finite)"
    return ValueError(f"expected {spec.type_name}, got {got}")


def _coerce(hint: object, value: object) -> object:
    """``value`` converted to ``hint`` (int → float, 'a, b' → tuple) or ValueError."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value)
            except ValueError:
                continue
        raise ValueError
    if origin is tuple:
        if isinstance(value, str):
            items = [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, list | tuple):
            items = list(value)
        else:
            raise ValueError
        return tuple(_coerce(typing.get_args(hint)[0], item) for item in items)
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):  # YAML's .nan and .inf pass every range check
            raise ValueError
        return float(value)
    if hint is str and isinstance(value, str):
        return value
    if hint is Secret and isinstance(value, str | Secret):
        return value if isinstance(value, Secret) else Secret(value)
    raise ValueError


def _check_one(spec: KeySpec, item: object) -> None:
    if isinstance(item, int) and not -(2**63) <= item < 2**63:
        # SQLite stores 64-bit integers; a larger one cannot even be bound to a statement.
        raise ValueError("too large: integers here fit in 64 bits")
    if spec.minimum is not None and item < spec.minimum:
        raise ValueError(f"out of range: must be >= {spec.minimum:g}")
    if spec.maximum is not None and item > spec.maximum:
        raise ValueError(f"out of range: must be <= {spec.maximum:g}")
    if spec.choices is not None and item not in spec.choices:
        close = difflib.get_close_matches(str(item), spec.choices, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{item!r} is not one of {', '.join(spec.choices)}{hint}")
    if spec.check is not None:
        spec.check(item.reveal() if isinstance(item, Secret) else item)


def validate_value(spec: KeySpec, value: object) -> object:
    """The typed value for ``spec``, or ValueError saying what is wrong (type, range, format)."""
    try:
        typed = _coerce(spec.hint, value)
    except ValueError:
        raise _type_error(spec, value) from None
    items = typed if isinstance(typed, tuple) else () if typed is None else (typed,)
    if isinstance(typed, tuple) and len(typed) < spec.min_items:
        raise ValueError(f"give at least {spec.min_items} item(s), e.g. {list(spec.default)}")
    for item in items:
        _check_one(spec, item)
    return typed


def _entry_problems(key: str, entry: Entry, layer: Layer, specs: dict[str, KeySpec],
                    sections: list[str]) -> tuple[object, list[Problem]]:
    spec = specs.get(key)
    if spec is None:
        if key in sections:
            message = (f"is a section, not a key: set one of its keys, e.g. "
                       f"{env_var_name(key) + '__…' if layer.name == 'envvar' else key + '.…'}")
        else:
            message = "unknown key" + did_you_mean(key, list(specs),
                                                  as_env_var=layer.name == "envvar")
        # A misspelled secret is still a secret: never echo a value whose name looks like one.
        shown = Secret(str(entry.value)) if _looks_secret(key, specs) else entry.value
        return None, [Problem(key, shown, entry.origin, message)]
    shown = Secret(str(entry.value)) if spec.secret and entry.value is not None else entry.value
    if spec.secret and layer.name not in ("envvar", "default"):
        return None, [Problem(key, shown, entry.origin,
                              f"is a secret: set it only in environment variable "
                              f"{env_var_name(key)}, never in a file or on the command line")]
    try:
        return validate_value(spec, entry.value), []
    except (ValueError, TypeError, CourseEtlError) as error:
        return None, [Problem(key, shown, entry.origin, str(error))]


def _cross_checks(final: dict[str, Provenance]) -> list[Problem]:
    """Rules that tie keys together (only for the default schema's alert keys)."""
    if "alerts.channels" not in final:
        return []

    def value(key: str) -> object:
        return final[key].value

    problems: list[Problem] = []
    channels = value("alerts.channels")
    email_on = value("alerts.email_alerts") or "email" in channels
    source = final["alerts.email_alerts"] if value("alerts.email_alerts") else final[
        "alerts.channels"]
    missing = [k for k in ("alerts.email_to", "alerts.smtp_host") if not value(k)]
    if email_on and missing:
        problems.append(Problem(source.key, source.value, source.origin,
                                f"e-mail alerts need {' and '.join(missing)}"))
    if value("alerts.email_alerts") and "email" not in channels:
        entry = final["alerts.email_alerts"]
        problems.append(Problem(entry.key, True, entry.origin,
                                f"add 'email' to alerts.channels ({show_value(channels)}, "
                                f"set by {final['alerts.channels'].origin})"))
    if "webhook" in channels and value("alerts.webhook_url") is None:
        entry = final["alerts.channels"]
        problems.append(Problem(entry.key, channels, entry.origin,
                                "the 'webhook' channel needs the secret alerts.webhook_url: "
                                "set environment variable COURSE_ETL_ALERTS__WEBHOOK_URL"))
    if value("alerts.smtp_user") and value("alerts.smtp_password") is None:
        entry = final["alerts.smtp_user"]
        problems.append(Problem(entry.key, entry.value, entry.origin,
                                "an SMTP login needs the secret alerts.smtp_password: set "
                                "environment variable COURSE_ETL_ALERTS__SMTP_PASSWORD"))
    return problems


@checked
def resolve(layers: Iterable[Layer], *, env: str = DEFAULT_ENV, schema: type = Settings
            ) -> Config:
    """Merge ``layers`` (lowest first, after the schema's defaults) into a :class:`Config`.

    Raises ConfigError listing every problem: unreadable files, unknown keys, secrets outside
    environment variables, wrong types, values out of range, keys that contradict each other.
    """
    specs = key_specs(schema)
    sections = section_names(schema)
    stack = [defaults_layer({k: s.default for k, s in specs.items()}), *layers]
    problems: list[Problem] = []
    final: dict[str, Provenance] = {}
    for layer in stack:
        problems.extend(layer.problems)
        for key, entry in layer.entries.items():
            typed, found = _entry_problems(key, entry, layer, specs, sections)
            problems.extend(found)
            if found:
                continue
            before = final.get(key)
            replaced = (*before.replaced, before.origin) if before else ()
            final[key] = Provenance(key, typed, entry.origin, replaced)
    if not problems:
        problems.extend(_cross_checks(final))
    if problems:
        raise ConfigError(problems=problems)
    values: dict[str, dict[str, object]] = {}
    for key, record in final.items():
        section, name = key.split(".", 1)
        values.setdefault(section, {})[name] = record.value
    section_types = typing.get_type_hints(schema)
    settings = schema(**{name: section_types[name](**values[name]) for name in sections})
    ordered = {key: final[key] for key in specs}
    return Config(env=env, settings=settings, provenance=ordered)


@checked
def available_environments(path: str | Path | None = None) -> list[str]:
    """The environments with a file in the config folder (every ``*.yaml`` but ``base.yaml``)."""
    folder = Path(path) if path is not None else CONFIG_DIR
    return sorted(p.stem for p in folder.glob("*.yaml") if p.stem != "base")


@checked
def load_config(
    env: str | None = None,
    path: str | Path | None = None,
    overrides: Iterable[str] | Mapping[str, object] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, tuple[str, object]] | None = None,
) -> Config:
    """Resolve the configuration for ``env``: defaults < base.yaml < <env>.yaml < environment
    variables < ``flags`` (command-line options given explicitly) < ``overrides``.

    ``env`` defaults to ``$COURSE_ETL_ENV``, else ``dev``. ``path`` is the config folder
    (default: the project's ``configs/``) or one YAML file, which then replaces both files.
    ``overrides`` are ``"load.batch_size=100"`` strings or a dict. ``environ`` defaults to
    ``os.environ``; pass a dict to resolve for another environment without touching the process.
    ``flags`` maps keys to ``(option, value)`` of command-line options, e.g.
    ``{"load.batch_size": ("--batch-size", 100)}``; options left at None are ignored.
    Raises ConfigError naming every bad key, value and origin.
    """
    environ = os.environ if environ is None else environ
    env = env or environ.get(ENV_SELECTOR) or DEFAULT_ENV
    specs = key_specs()
    files = _file_layers(env, Path(path) if path is not None else CONFIG_DIR)
    secret_keys = [k for k, s in specs.items() if s.secret]
    flag_layer = Layer("flag", {
        key: Entry(value, Origin("flag", option))
        for key, (option, value) in (flags or {}).items() if value is not None
    })
    return resolve([*files, environ_layer(environ, secret_keys=secret_keys),
                    flag_layer, overrides_layer(overrides)], env=env)


def _file_layers(env: str, path: Path) -> list[Layer]:
    sections = section_names()
    try:  # the course's opener's checks: a plain path, no FIFO, device or symlink loop
        path = check_path(path, what="config path")
        if os.path.lexists(path) and not path.is_dir():
            return [yaml_layer(existing_file(path, what="config path"), name="file",
                               sections=sections)]
    except FileRefusedError as error:
        raise ConfigError(problems=[Problem("(config path)", NO_VALUE, None, str(error))],
                          cause=error) from None
    if not path.is_dir():
        raise ConfigError(problems=[Problem("(config path)", str(path), None,
                                            "no such file or folder: give a folder holding "
                                            "base.yaml and <env>.yaml, or one YAML file")],
                          path=path)
    known = available_environments(path)
    if env not in known:
        close = difflib.get_close_matches(env, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(problems=[Problem("env", env, None,
                                            f"no config file {env}.yaml in {path.name}/ "
                                            f"(environments: {', '.join(known) or 'none'})"
                                            f"{hint}")], known=known, path=path)
    layers = []
    if (path / "base.yaml").exists():
        layers.append(yaml_layer(path / "base.yaml", name="base", sections=sections))
    layers.append(yaml_layer(path / f"{env}.yaml", name=env, sections=sections))
    return layers


@checked
def describe_keys(schema: type = Settings) -> pd.DataFrame:
    """Every key with its type, default, environment variable and description."""
    rows = [
        {"key": s.path, "type": s.type_name, "default": show_value(s.default),
         "env var": env_var_name(s.path), "description": s.doc}
        for s in key_specs(schema).values()
    ]
    return pd.DataFrame(rows, columns=["key", "type", "default", "env var", "description"])

