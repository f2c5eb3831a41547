"""Exercises for notebook 04 (parameterization): environment variables, provenance, a new key.

Each check resolves real configurations with :mod:`course_etl.config`. The first and third are
differential (:mod:`~course_etl.classroom.exercises.differential`): the student's variables,
merged into seeded machine environments with other variables and ``--set`` overrides, must
resolve every key to the same value from the same layer as the reference's; the student's
settings class must accept, refuse and default the same YAML files (seeded values around its
limits, wrong types, missing sections) as the reference's, with an error that names the file.
"""

from __future__ import annotations

import dataclasses
import random
import typing
from dataclasses import dataclass, field

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises.differential import Scenario, first_difference
from course_etl.config import (
    ConfigError,
    describe_keys,
    load_config,
    resolve,
    spec,
    yaml_layer,
)
from course_etl.config.layers import ENV_SELECTOR
from course_etl.config.schema import LoadSettings
from course_etl.errors import checked

__all__ = [
    "QUIZ_ENVIRON",
    "QUIZ_OVERRIDES",
    "QUIZ_KEYS",
    "RetentionSettingsStub",
    "check_env_override",
    "check_layer_quiz",
    "check_retention_key",
    "environment_scenarios",
    "retention_scenarios",
]

SEED = 2024_10_04

# --- 1. make an environment variable override a file value -----------------------------------

TARGET_KEY, TARGET_VALUE = "checks.min_rows", 50
REFERENCE_ENVIRON = {"COURSE_ETL_CHECKS__MIN_ROWS": "50"}
# What else a machine may set: other variables, and --set overrides that beat them all.
_MACHINE = {"COURSE_ETL_LOAD__BATCH_SIZE": "250", "COURSE_ETL_CHECKS__MIN_ROWS": "10",
            "COURSE_ETL_LOAD__LOOKBACK_HOURS": "6", "COURSE_ETL_ALERTS__SMTP_PORT": "2525",
            "HOME": "/home/student"}
_OVERRIDES = ["checks.min_rows=7", "load.batch_size=100", "checks.max_null_fraction=0.5"]


@checked
def environment_scenarios(*, seed: int = SEED, generated: int = 10,
                          hand_picked: bool = True) -> list[Scenario]:
    """Machines the variables must work on, smallest first: prod and dev bare, then with other
    variables (one already setting the key) and overrides, then seeded combinations."""
    cases = [("prod", {}, []), ("dev", {}, []),
             ("prod", {"COURSE_ETL_LOAD__BATCH_SIZE": "250"}, []),
             ("dev", {"COURSE_ETL_CHECKS__MIN_ROWS": "10"}, []),
             ("prod", {}, ["checks.min_rows=7"])] if hand_picked else []
    rng = random.Random(seed)
    for _ in range(generated):
        machine = dict(rng.sample(sorted(_MACHINE.items()), rng.randint(0, 3)))
        cases.append((rng.choice(["dev", "prod"]), machine,
                      rng.sample(_OVERRIDES, rng.randint(0, 2))))
    scenarios = []
    for number, (env, machine, overrides) in enumerate(cases):
        extra = [f"{k}={v} already set" for k, v in machine.items()] + [
            f"--set {o}" for o in overrides]
        story = f"in {env}" + (f" with {', '.join(extra)}" if extra else "")
        scenarios.append(Scenario(story, (env, machine, tuple(overrides)),
                                  size=len(machine) + len(overrides) + number / 100))
    return scenarios


def _resolved(environ: dict, scenario: Scenario) -> dict[str, tuple]:
    """Every key's value and layer, and the environment loaded, on the scenario's machine.

    A deployed machine says which environment it is the way the CLI reads it, with
    ``COURSE_ETL_ENV``; the answer's variables are added to the machine's (so a variable of
    the answer that chooses the environment takes every machine to that environment)."""
    env, machine, overrides = scenario.data
    config = load_config(environ={**machine, ENV_SELECTOR: env, **environ},
                         overrides=list(overrides))
    resolved = {key: (config.get(key), record.origin.layer)
                for key, record in config.provenance.items()}
    return {**resolved, ENV_SELECTOR: (config.env, "environment")}


def _reads_key(name: str, text: str) -> bool:
    """Whether the loader reads variable ``name`` as the exercise's key."""
    try:
        config = load_config("prod", environ={name: text})
    except ConfigError:
        return False
    return config.source_of(TARGET_KEY).layer == "envvar"


def _env_problem(answer: dict, scenario: Scenario, yours: dict, wanted: dict) -> str:
    """What the answer's variables did, in a true sentence."""
    if yours[ENV_SELECTOR] != wanted[ENV_SELECTOR]:
        return (f"{scenario.story}, your {ENV_SELECTOR}={answer.get(ENV_SELECTOR)!r} loads the "
                f"{yours[ENV_SELECTOR][0]} configuration instead of {wanted[ENV_SELECTOR][0]}'s: "
                "the machine chooses its environment, your variables only set the key")
    value, layer = yours[TARGET_KEY]
    if (value, layer) != wanted[TARGET_KEY]:
        read = [name for name in answer if layer == "envvar" and _reads_key(name, answer[name])]
        if read:
            text = answer[read[0]]
            why = (" (YAML reads a number with a leading 0 as octal)"
                   if text.strip().startswith("0") and text.strip() != "0" else "")
            return (f"{scenario.story}, your variable {read[0]} is read as {TARGET_KEY}, but its "
                    f"text {text!r} becomes {value!r}{why}, not {TARGET_VALUE}")
        unread = ("no variable is set" if not answer else
                  "none of your variables is read as that key")
        return (f"{scenario.story}, {TARGET_KEY} is {value!r}, set by the {layer} layer: "
                f"{unread}, so the deployment runs with another value")
    changed = sorted(k for k in set(yours) | set(wanted)
                     if k != TARGET_KEY and yours.get(k) != wanted.get(k))
    return f"{scenario.story} it also changed: {', '.join(changed)}"


@register(answer_name="environment", stub={}, solution_file="04_env_override.py")
def check_env_override(answer: object) -> Verdict:
    """Make checks.min_rows 50 through an environment variable, in every environment."""
    name = "check_env_override"
    if not isinstance(answer, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                               for k, v in answer.items()):
        return Verdict(name, False, f"expected a dict of name → text, got {answer!r}",
                       "environment variables are text: {'NAME': '50'}")
    difference = first_difference(answer, REFERENCE_ENVIRON, environment_scenarios(), _resolved)
    if difference is None:
        return Verdict(name, True, f"{TARGET_KEY} = {TARGET_VALUE} from your variable in dev "
                                   "and prod, below --set and above the files, nothing else "
                                   "changed")
    if difference.yours.raised:
        return Verdict(name, False, f"{difference.scenario.story}: "
                                    f"{difference.yours.error.split(': ', 1)[-1]}",
                       "QUIZ_ENVIRON in the next exercise names one such variable: follow its "
                       "pattern.")
    return Verdict(name, False, _env_problem(answer, difference.scenario, difference.yours.value,
                                             difference.expected.value),
                   "The name must say the section and the key, with the separator the loader "
                   "expects between them; the value is read as YAML.")


# --- 2. find the layer a value came from -----------------------------------------------------

QUIZ_ENVIRON = {"COURSE_ETL_LOAD__LOOKBACK_HOURS": "6"}
QUIZ_OVERRIDES = ["load.batch_size=100"]
QUIZ_KEYS = ("load.batch_size", "load.lookback_hours", "load.reconcile_deletes",
             "load.watermark_column", "alerts.smtp_user")


@register(answer_name="layers", stub={key: "?" for key in QUIZ_KEYS},
          solution_file="04_layer_quiz.py")
def check_layer_quiz(answer: object) -> Verdict:
    """Quiz: the layer each configuration value came from.

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


@dataclass(frozen=True)
class _ReferenceRetention:
    raw_days: int = field(default=30, metadata=spec("days to keep raw files", minimum=1,
                                                    maximum=365))


_FILE = "exercise/retention.yaml"


@checked
def retention_scenarios(*, seed: int = SEED, generated: int = 14,
                        hand_picked: bool = True) -> list[Scenario]:
    """YAML files the new key must handle, smallest first: no section, an empty one, the values
    at and beyond each limit, wrong types; then seeded values across and around the range."""
    texts = [("a file without a retention section", "# nothing set\n"),
             ("a file with an empty retention section", "retention:\n"),
             ("a file with retention: {}", "retention: {}\n")]
    values = ["90", "1", "365", "0", "366", "-7", "ninety", "30.5", "true", "null", "'30'",
              "1e2", "[30]"]
    if not hand_picked:
        texts, values = [], []
    rng = random.Random(seed)
    limits = dataclasses.fields(_ReferenceRetention)[0].metadata  # the reference's own range
    low, high = int(limits["minimum"]), int(limits["maximum"])
    for _ in range(generated):  # seeded: around a limit, or anywhere near the range
        limit = rng.choice([low, high])
        values.append(str(rng.choice([limit + rng.randint(-1, 1),
                                      rng.randint(low - 10, high + 10)])))
    texts += [(f"a file with raw_days: {v}", f"retention:\n  raw_days: {v}\n") for v in values]
    return [Scenario(story, text, size=number) for number, (story, text) in enumerate(texts)]


def _schema(section: type) -> type:
    return dataclasses.make_dataclass("ExerciseSettings", [
        ("load", LoadSettings, field(default_factory=LoadSettings)),
        ("retention", section, field(default_factory=section)),
    ], frozen=True)


def _loaded(section: type, text: str) -> object:
    """The ``retention`` section a configuration resolved from ``text`` holds."""
    layer = yaml_layer(_FILE, name="file", sections=["load", "retention"], text=text)
    return resolve([layer], schema=_schema(section)).retention


def _raw_days(section: type, scenario: Scenario) -> object:
    """Every key the resolved section holds, with its value; or ("refused", names the file)."""
    try:
        return dataclasses.asdict(_loaded(section, scenario.data))
    except ConfigError as error:  # refused, naming the file: the behaviour asked for
        return ("refused", _FILE in str(error))


def _description(section: type) -> str:
    """The description describe_keys() shows for retention.raw_days with this section."""
    keys = describe_keys(_schema(section)).set_index("key")
    return str(keys.loc["retention.raw_days", "description"] or "")


def _changeable_after_loading(section: type) -> str | None:
    """What assigning to raw_days on a resolved configuration did, when it was allowed (the
    limits are checked while loading only: a settings object that can be changed afterwards
    lets any code set a value no file could), else None."""
    loaded = _loaded(section, "# nothing set\n")
    try:
        setattr(loaded, "raw_days", 0)  # noqa: B010 - the assignment is what is being tried
    except dataclasses.FrozenInstanceError:
        return None
    except Exception:  # noqa: BLE001 - any refusal keeps the loaded value safe
        return None
    return f"raw_days = {getattr(loaded, 'raw_days', None)!r}"


def _shape_problem(answer: object) -> tuple[str, str] | None:
    """A class the loader cannot use at all: the sentence and the hint, or None."""
    if not dataclasses.is_dataclass(answer) or not isinstance(answer, type):
        return (f"expected a dataclass, got {answer!r}",
                "decorate a class with @dataclass(frozen=True)")
    fields = {f.name: f for f in dataclasses.fields(answer)}
    try:
        hints = typing.get_type_hints(answer)
    except Exception:  # noqa: BLE001 - a student's annotation may not resolve
        hints = {}
    if "raw_days" not in fields or hints.get("raw_days") is not int:
        return "no field raw_days: int", "add raw_days: int = …"
    raw_days = fields["raw_days"]
    if raw_days.default is dataclasses.MISSING and raw_days.default_factory is dataclasses.MISSING:
        return ("raw_days has no default: a config without a retention section could not be "
                "loaded", "give it default=30 in field(…)")
    if raw_days.metadata and "doc" not in raw_days.metadata:
        return (f"raw_days' metadata is {dict(raw_days.metadata)!r}: the loader reads limits "
                "only from metadata made by spec(…)", "metadata=spec(\"…\", minimum=…, "
                                                      "maximum=…)")
    return None


@register(answer_name="RetentionSettings", stub=RetentionSettingsStub,
          solution_file="04_retention_key.py")
def check_retention_key(answer: object) -> Verdict:
    """Add a configuration key with validation.

    ``answer``: a frozen dataclass for a ``retention`` section with ``raw_days`` (an integer,
    default 30, allowed 1 to 365), checked by resolving YAML files with it."""
    name = "check_retention_key"
    problem = _shape_problem(answer)
    if problem:
        return Verdict(name, False, *problem)
    difference = first_difference(answer, _ReferenceRetention, retention_scenarios(), _raw_days,
                                  same=lambda a, b: a == b)
    changed = _changeable_after_loading(answer) if difference is None else None
    if changed:
        return Verdict(name, False, f"after loading a configuration, code could set {changed} "
                                    "on it and nothing checked it: the limits hold only if the "
                                    "loaded settings cannot be changed",
                       "the other settings sections are frozen dataclasses")
    described = _description(answer) if difference is None else "…"
    if not described.strip():
        return Verdict(name, False, "describe_keys() lists retention.raw_days with an empty "
                                    "description: whoever reads the keys (or `course-etl config "
                                    "keys`) cannot tell what it means",
                       "spec's first argument is the description: say what the number is")
    if difference is None:
        return Verdict(name, True, "raw_days defaults to 30, accepts 1 to 365 and refuses 0, "
                                   "366, 'ninety' and the rest, naming the file and line")
    story, yours, wanted = (difference.scenario.story, difference.yours,
                            difference.expected.value)
    if yours.raised:
        return Verdict(name, False, f"{story} raised {yours.error} instead of a configuration "
                                    "error naming the file and line",
                       "declare the limits in the field's metadata with spec(…): the loader "
                       "checks them and names the place")
    if isinstance(wanted, tuple) and not isinstance(yours.value, tuple):
        return Verdict(name, False, f"{story} was accepted (raw_days = "
                                    f"{yours.value.get('raw_days')!r}): a "
                                    "mistyped file would delete raw data too early or keep it "
                                    "forever",
                       "a field carries its limits in its metadata: see how LoadSettings "
                       "declares batch_size")
    if isinstance(yours.value, tuple):
        return Verdict(name, False, f"{story}, a valid file, was refused",
                       "the allowed range includes both of its ends")
    extra = sorted(set(yours.value) - set(wanted))
    if extra:
        return Verdict(name, False, f"{story} gave a retention section with "
                                    f"{', '.join(f'{k} = {yours.value[k]!r}' for k in extra)} "
                                    "besides raw_days: keys nobody asked for, which every "
                                    "configuration now carries", "the section has one key")
    return Verdict(name, False, f"{story} gave raw_days = {yours.value.get('raw_days')!r}, "
                                f"expected {wanted.get('raw_days')!r}", "the default is 30")
