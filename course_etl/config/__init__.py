"""Layered, validated configuration with provenance, secrets and safe identifiers.

``load_config(env="prod")`` stacks defaults < ``configs/base.yaml`` < ``configs/prod.yaml`` <
``COURSE_ETL_SECTION__KEY`` environment variables < explicit overrides, checks every value against
the schema (:mod:`.schema`), and returns a :class:`Config` that knows which layer set each value.
Names from the configuration reach SQL only after :func:`check_against_database`; the lecture's
f-string ``get_watermark`` is kept as written in :mod:`course_etl.config.lecture`.
"""

from course_etl.config.identifiers import (
    ConfiguredTables,
    check_against_database,
    get_watermark,
    target_name,
)
from course_etl.config.layers import (
    ENV_PREFIX,
    Layer,
    Origin,
    Problem,
    env_var_name,
    parse_env_lines,
    yaml_layer,
)
from course_etl.config.resolve import (
    CONFIG_DIR,
    Config,
    ConfigError,
    Provenance,
    available_environments,
    describe_keys,
    load_config,
    resolve,
    show_value,
)
from course_etl.config.run import (
    SecretFilter,
    incremental_arguments,
    open_warehouse,
    run_full_load,
    run_incremental_load,
    run_logged_load,
)
from course_etl.config.schema import LECTURE_KEYS, Secret, Settings, spec

__all__ = [
    "CONFIG_DIR",
    "ENV_PREFIX",
    "LECTURE_KEYS",
    "Config",
    "ConfigError",
    "ConfiguredTables",
    "Layer",
    "Origin",
    "Problem",
    "Provenance",
    "Secret",
    "SecretFilter",
    "Settings",
    "available_environments",
    "check_against_database",
    "describe_keys",
    "env_var_name",
    "get_watermark",
    "incremental_arguments",
    "load_config",
    "open_warehouse",
    "parse_env_lines",
    "resolve",
    "run_full_load",
    "run_incremental_load",
    "run_logged_load",
    "show_value",
    "spec",
    "target_name",
    "yaml_layer",
]
