"""Exercises for notebook 04 (parameterization): environment variables, provenance, a new key.

Each check resolves a real configuration with :mod:`course_etl.config` (the project's shipped
``configs/`` or a fixed YAML text), so the feedback is what the library really does.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field

from course_etl.classroom.exercises import Verdict, register
from course_etl.config import ConfigError, load_config, resolve, yaml_layer
from course_etl.config.schema import LoadSettings

__all__ = [
    "QUIZ_ENVIRON",
    "QUIZ_OVERRIDES",
    "QUIZ_KEYS",
    "RetentionSettingsStub",
    "check_env_override",
    "check_layer_quiz",
    "check_retention_key",
]

# --- 1. make an environment variable override a file value -----------------------------------


@register(answer_name="environment", stub={}, solution_file="04_env_override.py")
def check_env_override(answer: object) -> Verdict:
    """Make checks.min_rows 50 through an environment variable, in every environment."""
    name = "check_env_override"
    if not isinstance(answer, dict) or not all(isinstance(v, str) for v in answer.values()):
        return Verdict(name, False, f"expected a dict of name → text, got {answer!r}",
                       "environment variables are text: {'NAME': '50'}")
    # prod first, then dev: the same variables must do the same in every environment.
    for env in ("prod", "dev"):
        try:
            config = load_config(env, environ=answer)
        except ConfigError as error:
            return Verdict(name, False, str(error.problems[0]),
                           "QUIZ_ENVIRON in the next exercise names one such variable: "
                           "follow its pattern.")
        plain = load_config(env, environ={})
        origin = config.source_of("checks.min_rows")
        if config.checks.min_rows != 50 or origin.layer != "envvar":
            unread = ("no variable is set" if not answer else
                      "the variable was not read as that key")
            return Verdict(name, False, f"in {env}, checks.min_rows is "
                           f"{config.checks.min_rows}, set by {origin}: {unread}, so the "
                           "deployment runs with the file's value",
                           "The name must say the section and the key, with the separator the "
                           "loader expects between them.")
        changed = [k for k in config.provenance if k != "checks.min_rows"
                   and config.get(k) != plain.get(k)]
        if changed:
            return Verdict(name, False, f"in {env} it also changed: {', '.join(changed)}",
                           "set only the minimum row count")
    return Verdict(name, True, f"checks.min_rows = 50 from {origin} in prod and dev, above "
                               f"{plain.source_of('checks.min_rows')}")


# --- 2. find the layer a value came from -----------------------------------------------------

QUIZ_ENVIRON = {"COURSE_ETL_LOAD__LOOKBACK_HOURS": "6"}
QUIZ_OVERRIDES = ["load.batch_size=100"]
QUIZ_KEYS = ("load.batch_size", "load.lookback_hours", "load.reconcile_deletes",
             "load.watermark_column", "alerts.smtp_user")


@register(answer_name="layers", stub={key: "?" for key in QUIZ_KEYS},
          solution_file="04_layer_quiz.py")
def check_layer_quiz(answer: object) -> Verdict:
    """Find the layer each configuration value came from.

    ``answer``: for each key of :data:`QUIZ_KEYS`, the layer that sets it in
    ``load_config("prod", environ=QUIZ_ENVIRON, overrides=QUIZ_OVERRIDES)``."""
    name = "check_layer_quiz"
    if not isinstance(answer, dict) or set(answer) != set(QUIZ_KEYS):
        return Verdict(name, False, f"expected a dict with the keys {', '.join(QUIZ_KEYS)}",
                       "start from the stub and replace each '?'")
    config = load_config("prod", environ=QUIZ_ENVIRON, overrides=QUIZ_OVERRIDES)
    wrong = [key for key in QUIZ_KEYS
             if str(answer[key]).strip().lower() != config.source_of(key).layer]
    if wrong:
        return Verdict(name, False,
                       f"{len(QUIZ_KEYS) - len(wrong)} of {len(QUIZ_KEYS)} right; check "
                       f"{', '.join(wrong)}",
                       "layers: default, base, prod, envvar, override; "
                       "config.source_of(key) tells")
    return Verdict(name, True, "all five layers found: "
                               + ", ".join(f"{k} ← {answer[k]}" for k in QUIZ_KEYS))


# --- 3. add a key with validation ------------------------------------------------------------


@dataclass(frozen=True)
class RetentionSettingsStub:
    """How long raw files are kept (no validation yet)."""

    raw_days: int = 30


_RETENTION_CASES = [
    ("retention:\n  raw_days: 90\n", 90),
    ("# nothing set\n", 30),
    ("retention:\n  raw_days: 0\n", None),
    ("retention:\n  raw_days: 400\n", None),
    ("retention:\n  raw_days: ninety\n", None),
    # the edges, and a second set of values
    ("retention:\n  raw_days: 1\n", 1),
    ("retention:\n  raw_days: 365\n", 365),
    ("retention:\n  raw_days: 366\n", None),
    ("retention:\n  raw_days: -7\n", None),
    ("retention:\n  raw_days: 12\n", 12),
]


def _retention_schema(section: type) -> type:
    return dataclasses.make_dataclass("ExerciseSettings", [
        ("load", LoadSettings, field(default_factory=LoadSettings)),
        ("retention", section, field(default_factory=section)),
    ], frozen=True)


@register(answer_name="RetentionSettings", stub=RetentionSettingsStub,
          solution_file="04_retention_key.py")
def check_retention_key(answer: object) -> Verdict:
    """Add a configuration key with validation.

    ``answer``: a frozen dataclass for a ``retention`` section with ``raw_days`` (an integer,
    default 30, allowed 1 to 365), checked by resolving fixed YAML files with it."""
    name = "check_retention_key"
    if not dataclasses.is_dataclass(answer) or not isinstance(answer, type):
        return Verdict(name, False, f"expected a dataclass, got {answer!r}",
                       "decorate a class with @dataclass(frozen=True)")
    fields = {f.name: f for f in dataclasses.fields(answer)}
    if "raw_days" not in fields or typing.get_type_hints(answer).get("raw_days") is not int:
        return Verdict(name, False, "no field raw_days: int", "add raw_days: int = …")
    schema = _retention_schema(answer)
    for text, expected in _RETENTION_CASES:
        layer = yaml_layer("exercise/retention.yaml", name="file", sections=["load", "retention"],
                           text=text)
        try:
            value = resolve([layer], schema=schema).retention.raw_days
        except ConfigError as error:
            if expected is not None:
                return Verdict(name, False, f"a valid file was refused: {error.problems[0]}",
                               "the allowed range includes both of its ends")
            continue
        if expected is None:
            return Verdict(name, False,
                           f"{text.strip()!r} was accepted (raw_days = {value}): a "
                           "mistyped file would delete raw data too early or keep it forever",
                           "a field carries its limits in its metadata: see how LoadSettings "
                           "declares batch_size")
        if value != expected:
            return Verdict(name, False, f"{text.strip()!r} gave raw_days = {value}, "
                                        f"expected {expected}", "the default is 30")
    return Verdict(name, True, "raw_days accepts 90, defaults to 30, and refuses 0, 400 and "
                               "'ninety' with the file and line")
