"""Command line for configuration: ``config show``, ``config keys`` and ``run-notebook``.

Every command can take ``--env``, ``--config`` and ``--set key=value`` through
:func:`add_config_arguments`, and turn them into a resolved configuration with
:func:`config_from_args`; options a command already has (``load --batch-size``) become the
``flag`` layer, above environment variables and below ``--set``, so an explicit flag wins over
every file. ``run-notebook`` executes a notebook with papermill, injecting ``env``, ``overrides``
and ``config_path`` into its cell tagged ``parameters``, and writes the executed copy outside the
notebooks folder (default ``artifacts/runs/``, which git ignores).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from course_etl.cli.args import env_name, output_folder
from course_etl.config import (
    Config,
    ConfigError,
    Problem,
    describe_keys,
    load_config,
)
from course_etl.errors import checked

__all__ = [
    "DEFAULT_RUNS_DIR",
    "add_config_arguments",
    "config_from_args",
    "add_commands",
    "find_notebook",
    "run_notebook",
]

DEFAULT_RUNS_DIR = Path("artifacts") / "runs"
# Notebooks are found in the working directory (the project folder), not inside the package.
NOTEBOOKS_DIR = Path("notebooks")


@checked
def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--env``, ``--config`` and ``--set KEY=VALUE`` (repeatable) to ``parser``."""
    group = parser.add_argument_group("configuration")
    group.add_argument("--env", type=env_name, help="environment: configs/<ENV>.yaml "
                                     "(default: $COURSE_ETL_ENV, else dev)")
    group.add_argument("--config", metavar="PATH",
                       help="config folder (base.yaml + <env>.yaml) or one YAML file "
                            "(default: the project's configs/)")
    group.add_argument("--set", dest="config_overrides", action="append", default=[],
                       metavar="KEY=VALUE",
                       help="override one key, e.g. --set load.batch_size=500 (repeatable)")


@checked
def config_from_args(
    args: argparse.Namespace,
    *,
    flags: Mapping[str, tuple[str, str]] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolve the configuration from parsed arguments.

    ``flags`` maps config keys to ``(option, attribute)`` of options the command has (see
    :data:`course_etl.cli.load.LOAD_FLAGS`); an option left at None does not count, so its
    default must be None.
    Raises ConfigError.
    """
    given = {key: (option, getattr(args, attribute, None))
             for key, (option, attribute) in (flags or {}).items()}
    return load_config(env=args.env, path=args.config, overrides=args.config_overrides,
                       environ=environ, flags=given)


def _show(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    print(f"environment: {config.env}")
    print(_left_aligned(config.provenance_table()))
    return 0


def _keys(args: argparse.Namespace) -> int:
    print(_left_aligned(describe_keys()))
    return 0


def _left_aligned(table: pd.DataFrame) -> str:
    """A table as text with every column left-aligned (reads better for names and paths)."""
    widths = {c: max([len(c), *map(len, table[c].astype(str))]) for c in table.columns}
    lines = ["  ".join(f"{c:<{widths[c]}}" for c in table.columns)]
    lines += ["  ".join(f"{str(v):<{widths[c]}}" for c, v in zip(table.columns, row, strict=True))
              for row in table.itertuples(index=False)]
    return "\n".join(line.rstrip() for line in lines)


@checked
def find_notebook(name: str | Path, folder: Path = NOTEBOOKS_DIR) -> Path:
    """A notebook path from a path, a file name in ``notebooks/`` or a number prefix (``04``).

    Raises ConfigError listing the notebooks when nothing (or more than one) matches.
    """
    if not str(name).strip():
        raise ConfigError(problems=[Problem("NB", str(name), None, "empty notebook name: give a "
                                            "path, a file name in notebooks/ or a number "
                                            "prefix (04)")])
    path = Path(name)
    if path.suffix == ".ipynb" and path.is_file():
        return path
    matches = sorted(folder.glob(f"{path.stem}*.ipynb")) if folder.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    known = [p.name for p in sorted(folder.glob("[0-9]*.ipynb"))]
    raise ConfigError(problems=[Problem("NB", str(name), None,
                                        f"{'ambiguous' if matches else 'no such'} notebook "
                                        f"(notebooks: {', '.join(known) or 'none'})")],
                      known=known, matches=[p.name for p in matches])


@checked
def run_notebook(
    notebook: str | Path,
    config: Config,
    *,
    overrides: list[str] | None = None,
    config_path: str | Path | None = None,
    out_dir: str | Path = DEFAULT_RUNS_DIR,
) -> Path:
    """Execute ``notebook`` with papermill for ``config.env`` and return the executed copy's path.

    The configuration is resolved before the kernel starts, so a bad value fails in a second.
    The notebook receives ``env``, ``overrides`` (the ``key=value`` strings) and ``config_path``
    as parameters and runs in its own folder. Raises ConfigError when ``out_dir`` is inside the
    notebooks folder (executed copies must not mix with the committed notebooks).
    """
    try:
        import papermill
    except ImportError:  # pragma: no cover - papermill is a declared dependency
        raise ConfigError(problems=[Problem("run-notebook", "papermill", None, "papermill is not "
                                            "installed: pip install papermill")]) from None
    source = find_notebook(notebook).resolve()
    out = Path(out_dir).resolve()
    if out.is_relative_to(source.parent):
        raise ConfigError(problems=[Problem("--out", str(out_dir), None,
                                            "is inside the notebooks folder: write runs "
                                            f"elsewhere (default: {DEFAULT_RUNS_DIR})")],
                          path=out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{source.stem}-{config.env}.ipynb"
    parameters = {"env": config.env, "overrides": list(overrides or []),
                  "config_path": str(Path(config_path).resolve()) if config_path else None}
    papermill.execute_notebook(str(source), str(target), parameters=parameters,
                               cwd=str(source.parent), progress_bar=False)
    return target


def _run_notebook(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    target = run_notebook(args.notebook, config, overrides=args.config_overrides,
                          config_path=args.config, out_dir=args.out)
    shown = target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target
    print(f"executed {Path(args.notebook).name} with env={config.env} -> {shown}")
    return 0


@checked
def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``config show``, ``config keys`` and ``run-notebook`` to the command line."""
    config = commands.add_parser("config", help="show the resolved configuration")
    actions = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="every key, its value and the layer that set it "
                                           "(secrets masked)")
    add_config_arguments(show)
    show.set_defaults(handler=_show)
    keys = actions.add_parser("keys", help="every key with type, default and env variable")
    keys.set_defaults(handler=_keys)

    run = commands.add_parser("run-notebook",
                              help="execute a notebook with parameters (papermill)")
    run.add_argument("notebook", metavar="NB",
                     help="notebook path, file name in notebooks/ or number prefix (04)")
    add_config_arguments(run)
    run.add_argument("--out", default=str(DEFAULT_RUNS_DIR), type=output_folder,
                     help=f"folder for the executed copy (default: ./{DEFAULT_RUNS_DIR})")
    run.set_defaults(handler=_run_notebook)
