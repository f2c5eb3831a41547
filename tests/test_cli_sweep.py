"""The command line's promise, swept over every command and every option: generated, not listed.

The commands and their options are read from the argparse parser itself, so a command or an
option added later is swept without anyone writing a case. Each command has one invocation that
succeeds (:data:`BASE`; a test fails when a command has none); the sweep substitutes each of
:data:`BAD_VALUES` for each option and positional (flags are simply given), runs ``main`` in
process (a subprocess per case would take minutes; the few cases that could hang a real process
are run as one below) and asserts the README's promise:

- exit 0, 1 or 2; never a traceback, never a hang (an alarm stops a case after a minute);
- a failure prints exactly one line on stderr, ``course_etl: error: …``;
- exit 2 (bad input) changes nothing: every file of the project folder keeps its bytes, and
  nothing is created; the special files outside it (a FIFO, a locked or read-only warehouse)
  never change, whatever the exit;
- a path option given a FIFO, a device, a symlink loop or a ``file:`` URI is refused (exit 2).

Configuration is swept the same way from the schema: every key × bad YAML values, through
``--set`` and through its ``COURSE_ETL_*`` variable.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import hashlib
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_etl.cli import build_parser, main
from course_etl.config.layers import env_var_name
from course_etl.config.schema import key_specs
from course_etl.db import connect
from course_etl.dbfile import open_database
from course_etl.errors import CourseEtlError
from course_etl.loads import full_load
from course_etl.medallion.bronze import fixed_clock, ingest_dirty_batch
from course_etl.medallion.dirty import DirtySource
from course_etl.sample_data import create_customer_source, create_lecture_source

CASE_SECONDS = 60
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True))

# One invocation per command that succeeds in the project folder built below.
BASE: dict[tuple[str, ...], list[str]] = {
    ("demo",): ["demo", "--db", "demo.db"],
    ("load",): ["load", "incremental", "--db", "dw.db", "--source", "src_customers",
                "--target", "dw_customers"],
    ("images",): ["images", "--out", "pictures"],
    ("present",): ["present", "--port", "8866"],
    ("config", "show"): ["config", "show"],
    ("config", "keys"): ["config", "keys"],
    ("run-notebook",): ["run-notebook", "04", "--out", "runs"],
    ("schedule", "describe"): ["schedule", "describe", "30 6 * * *", "--after", "2024-10-01"],
    ("schedule", "next"): ["schedule", "next", "30 6 * * *", "--after", "2024-10-01"],
    ("schedule", "crontab"): ["schedule", "crontab", "customers_etl", "--db", "dw.db"],
    ("pipeline", "run"): ["pipeline", "run", "customers_etl", "--db", "dw.db",
                          "--date", "2024-10-02"],
    ("pipeline", "backfill"): ["pipeline", "backfill", "customers_etl", "--db", "dw.db",
                               "--start", "2024-10-02", "--end", "2024-10-02"],
    ("pipeline", "export"): ["pipeline", "export", "customers_etl", "--db", "dw.db",
                             "--to", "airflow", "--out", "dag.py"],
    ("monitor", "history"): ["monitor", "history", "--db", "history.db", "--days", "1"],
    ("monitor", "runs"): ["monitor", "runs", "--db", "dw.db"],
    ("monitor", "checks"): ["monitor", "checks", "--db", "dw.db", "--suite", "suite.yaml"],
    ("medallion", "ingest"): ["medallion", "ingest", "customers", "customers.csv",
                              "--db", "lake.db"],
    ("medallion", "dirty"): ["medallion", "dirty", "--db", "lake.db", "--days", "1",
                             "--size", "3"],
    ("medallion", "run"): ["medallion", "run", "--db", "lake.db"],
    ("medallion", "rebuild"): ["medallion", "rebuild", "--db", "lake.db"],
    ("medallion", "status"): ["medallion", "status", "--db", "lake.db"],
    ("airflow",): ["airflow", "--project-dir", "."],
    ("dagster",): ["dagster", "--project-dir", "."],
}

# Special files that cannot be copied per case live outside the project folder (absolute paths,
# built once per module); the others are copied with the project for every case.
SPECIAL = ("fifo", "zero", "loop", "ro_file", "ro_new", "locked")
IN_PROJECT = {"folder": "folder", "corrupt": "corrupt.db", "not_sqlite": "notes.txt"}
BAD_VALUES: dict[str, str] = {
    "empty": "",
    "blank": " ",
    "huge": "9" * 5000,
    "long name": "x" * 300,
    "unicode": "é🙂ü",
    "NUL": "a\x00b",
    "newline": "a\nb",
    "negative": "-1",
    "negative float": "-0.5",
    "float": "1.5",
    "nan": "nan",
    "overflow": "1e309",
    "bigint": "9" * 25,
    "uri": "file:dw.db?mode=rwc",
    "bare uri": "file:dw.db",
    **{name: f"<{name}>" for name in SPECIAL},  # replaced by real paths at run time
    **IN_PROJECT,
}
# Values no path option may accept: opening them hangs, never ends, loops, or bypasses checks.
NEVER_A_PATH = {"fifo", "zero", "loop", "uri", "bare uri", "NUL", "newline"}
PATH_TYPES = {"input_file", "output_file", "output_folder", "database_path", "plain_path",
              "file_path", "folder_path"}


def _leaves(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield prefix, parser
        return
    for name, child in subparsers[0].choices.items():
        yield from _leaves(child, (*prefix, name))


def _slots(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions
            if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)]


def _substitute(base: list[str], words: tuple[str, ...], parser: argparse.ArgumentParser,
                action: argparse.Action, value: str) -> list[str] | None:
    """``base`` with ``value`` for ``action``; None for a flag (it takes no value)."""
    if action.option_strings:
        if action.nargs == 0:
            return None
        option = action.option_strings[-1]
        if option in base:
            argv = list(base)
            argv[argv.index(option) + 1] = value
            return argv
        return [*base, option, value]
    given = vars(parser.parse_args(base[len(words):]))[action.dest]
    argv = list(base)
    argv[argv.index(str(given), len(words))] = value
    return argv


def _cases():
    cases = []
    for words, parser in _leaves(build_parser()):
        base = BASE.get(words)
        if base is None:
            continue
        for action in _slots(parser):
            if action.option_strings and action.nargs == 0:
                flag = action.option_strings[0]
                cases.append(pytest.param(words, [*base, flag], None, None,
                                          id=f"{' '.join(words)} {flag}"))
                continue
            name = action.option_strings[-1] if action.option_strings else action.dest
            for label in BAD_VALUES:
                cases.append(pytest.param(words, action, name, label,
                                          id=f"{' '.join(words)} {name}={label}"))
    return cases


CASES = _cases()
LEAVES = dict(_leaves(build_parser()))


def test_every_command_has_a_base_invocation():
    commands = {words for words, _ in _leaves(build_parser())}
    assert commands - set(BASE) == set(), "add a BASE invocation for the new command(s)"
    assert set(BASE) - commands == set(), "BASE names commands that are gone"


# --- the folders -----------------------------------------------------------------------------

def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data) - 4096, 4096):
        data[offset:offset + 64] = b"\xde\xad\xbe\xef" * 16
    path.write_bytes(bytes(data))


def _warehouse(path: Path) -> None:
    conn = connect(path)
    create_lecture_source(conn)
    full_load(conn, "src_customers", "dw_customers", key="id", watermark="updated_at")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sweep-project")
    _warehouse(root / "dw.db")
    lake = connect(root / "lake.db")
    ingest_dirty_batch(lake, DirtySource(0).next_batch(3),
                       clock=fixed_clock("2024-10-01T06:00:00Z"))
    lake.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    lake.close()
    (root / "suite.yaml").write_text("dw_customers: [{check: not_null, column: id}]\n")
    (root / "customers.csv").write_text("id,name,city,updated_at\n"
                                        "1,Ada,Austin,2024-10-01 08:00:00\n")
    _warehouse(root / "corrupt.db")
    big = connect(root / "corrupt.db")
    create_customer_source(big, "padding", 3000, progress=False)
    big.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    big.close()
    _corrupt(root / "corrupt.db")
    (root / "notes.txt").write_text("id,name\n1,Ada\n" * 50)
    (root / "folder").mkdir()
    (root / "notebooks").mkdir()
    (root / "notebooks" / "04_sweep.ipynb").write_text('{"cells": [], "metadata": {}, '
                                                       '"nbformat": 4, "nbformat_minor": 5}\n')
    return root


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def specials(tmp_path_factory):
    """The special files, each at an absolute path: a FIFO, /dev/zero, a symlink loop, a
    read-only warehouse and folder, a warehouse locked by a writer at work."""
    root = tmp_path_factory.mktemp("sweep-specials")
    os.mkfifo(root / "fifo")
    (root / "loop").symlink_to(root / "loop")
    ro = root / "ro"
    ro.mkdir()
    _warehouse(ro / "dw.db")
    mounted = os.geteuid() == 0 and _mount("--bind", str(ro), str(ro)) and _mount(
        "-o", "remount,ro,bind", str(ro))
    if not mounted:  # not root: the permission bits are enough
        (ro / "dw.db").chmod(0o444)
        ro.chmod(0o555)
    _warehouse(root / "locked.db")
    holder = sqlite3.connect(root / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer at work, as a running load would be
    holder.execute("UPDATE src_customers SET name = name")
    paths = {"fifo": root / "fifo", "zero": Path("/dev/zero"), "loop": root / "loop",
             "ro_file": ro / "dw.db", "ro_new": ro / "new.db", "locked": root / "locked.db"}
    yield root, {name: str(path) for name, path in paths.items()}
    holder.execute("ROLLBACK")
    holder.close()
    if mounted:
        subprocess.run(["umount", str(ro)], capture_output=True)
    else:
        ro.chmod(0o755)


def _snapshot(*roots: Path) -> dict[str, object]:
    found: dict[str, object] = {}
    for root in roots:
        for folder, dirs, files in os.walk(root, followlinks=False):
            for name in dirs + files:
                path = Path(folder, name)
                info = path.lstat()
                if stat.S_ISREG(info.st_mode):
                    found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
                elif stat.S_ISLNK(info.st_mode):
                    found[str(path)] = ("link", os.readlink(path))
                else:
                    found[str(path)] = stat.S_IFMT(info.st_mode)
    return found


class Hang(BaseException):
    """A case ran longer than CASE_SECONDS (a BaseException: no handler of main catches it)."""


@contextlib.contextmanager
def _alarm(seconds: int):
    """Stop a case that blocks: an alarm raises Hang in Python code; a block inside C code
    (SQLite reading a FIFO retries its read forever) ends the whole run with every thread's
    traceback shortly after, so a regression fails the suite instead of hanging CI."""
    def ring(signum, frame):
        raise Hang(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    faulthandler.dump_traceback_later(seconds + 30, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def stubs(monkeypatch):
    """Commands that would start servers or a kernel run their checks, then a stand-in."""
    import papermill

    def execute(source, target, **kwargs):
        Path(target).write_text(Path(source).read_text())

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    monkeypatch.setattr("course_etl.classroom.presentation.serve", lambda **kwargs: 0)
    monkeypatch.setattr("course_etl.classroom.orchestrators.serve_airflow",
                        lambda *args, **kwargs: 0)
    monkeypatch.setattr("course_etl.classroom.orchestrators.serve_dagster",
                        lambda *args, **kwargs: 0)
    monkeypatch.setattr("course_etl.db.BUSY_TIMEOUT_MS", 100)
    for name in [n for n in os.environ if n.startswith("COURSE_ETL_")]:
        monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def workspace(template, tmp_path_factory):
    """One project folder for the whole sweep, put back as the template after a case that
    changed it (a run that succeeded, or failed after it started)."""
    folder = tmp_path_factory.mktemp("sweep-workspace") / "project"
    shutil.copytree(template, folder, symlinks=True)
    return folder, _snapshot(folder)


@pytest.fixture
def project(workspace, template, monkeypatch):
    folder, pristine = workspace
    if _snapshot(folder) != pristine:
        shutil.rmtree(folder)
        shutil.copytree(template, folder, symlinks=True)
    monkeypatch.chdir(folder)
    return folder


def run_case(argv: list[str], capsys) -> tuple[int, str, str]:
    with _alarm(CASE_SECONDS):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse refuses while parsing
            code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def check_promise(argv, code, out, err, before, after, specials_before=None,
                  specials_after=None) -> None:
    shown = [a[:40] for a in argv]
    assert code in (0, 1, 2), (shown, code, err)
    assert "Traceback" not in out + err, (shown, err)
    if code != 0:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("course_etl: error: "), (shown, err)
    if code == 2:
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        assert not changed, (shown, err, sorted(changed))
    assert specials_before == specials_after, (shown, err)


@pytest.mark.parametrize(("words", "action", "option", "label"), CASES)
def test_every_option_keeps_the_promise(words, action, option, label, project, specials,
                                        stubs, capsys):
    special_root, special_paths = specials
    parser = LEAVES[words]
    if option is None:  # a flag: the base invocation with the flag given
        argv = action
    else:
        value = special_paths.get(label, BAD_VALUES[label])
        action = next(a for a in _slots(parser)
                      if (a.option_strings[-1] if a.option_strings else a.dest) == option)
        argv = _substitute(BASE[words], words, parser, action, value)
    before, specials_before = _snapshot(project), _snapshot(special_root)
    code, out, err = run_case(argv, capsys)
    check_promise(argv, code, out, err, before, _snapshot(project), specials_before,
                  _snapshot(special_root))
    kind = getattr(getattr(action, "type", None), "__name__", "")
    if option is not None and label in NEVER_A_PATH and kind in PATH_TYPES:
        assert code == 2, (argv[:6], err)


def test_every_base_invocation_succeeds(project, specials, stubs, capsys):
    for words, argv in BASE.items():
        code, out, err = run_case(argv, capsys)
        assert code == 0, (words, err)


# --- configuration: every key, through --set and its environment variable ------------------

BAD_YAML = {
    "bomb": BOMB.replace("\n", "\n"),
    "deep": "[" * 200 + "]" * 200,
    "recursive": "&a [*a]",
    "impossible date": "2024-02-30",
    "impossible time": "2024-10-01 24:00:00",
    "4400 digits": "9" * 4400,
    "5000-digit hex": "0x" + "f" * 5000,
    "nan": ".nan",
    "negative": "-1",
    "unicode": "é🙂",
    "NUL": "a\x00b",
    "empty": "",
    "huge text": "x" * 20_000,
    "mapping": "{a: 1}",
}
KEYS = sorted(key_specs())


@pytest.mark.parametrize("source", ["--set", "environment"])
@pytest.mark.parametrize("label", sorted(BAD_YAML))
def test_every_config_key_keeps_the_promise(source, label, project, stubs, capsys, monkeypatch):
    """Each key alone, so a key added to the schema is swept with every value."""
    value = BAD_YAML[label]
    if source == "environment" and "\x00" in value:
        pytest.skip("an environment variable cannot hold NUL")
    for keys in ([k] for k in KEYS):
        argv = ["config", "show"]
        with monkeypatch.context() as scope:
            for key in keys:
                if source == "--set":
                    argv += ["--set", f"{key}={value}"]
                else:
                    scope.setenv(env_var_name(key), value)
            before = _snapshot(project)
            code, out, err = run_case(argv, capsys)
        check_promise(argv, code, out, err, before, _snapshot(project))


# --- the few cases that could hang a real process: one subprocess each ------------------------

@pytest.mark.parametrize("argv", [
    ["monitor", "checks", "--db", "dw.db", "--suite", "{fifo}"],
    ["medallion", "ingest", "customers", "/dev/zero", "--db", "lake.db"],
    ["load", "incremental", "--db", "{fifo}"],
], ids=lambda argv: " ".join(argv[:2] + argv[-2:]))
def test_a_real_process_answers_special_files_at_once(argv, project, specials):
    _, paths = specials
    argv = [a.format(**paths) for a in argv]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_ETL_")}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "course_etl", *argv], capture_output=True,
                          text=True, timeout=CASE_SECONDS, stdin=subprocess.DEVNULL, env=env)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert time.monotonic() - started < CASE_SECONDS


def test_a_config_folder_whose_base_yaml_is_a_fifo(project, specials, stubs, capsys):
    folder = project / "cfg"
    folder.mkdir()
    os.mkfifo(folder / "base.yaml")
    (folder / "dev.yaml").write_text("load:\n  batch_size: 10\n")
    code, out, err = run_case(["config", "show", "--config", str(folder)], capsys)
    assert code == 2 and "base.yaml" in err and "FIFO" in err, err


# --- commands that create a database: found by running them, then given files they did not make

# Options under which a command creates its warehouse (its BASE opens an existing one).
CREATING = {("load",): ["load", "full", "--db", "dw.db", "--source-db", "src.db",
                        "--source", "src.customers", "--target", "customers"]}


def _with_db(argv: list[str], db: str) -> list[str]:
    argv = list(argv)
    argv[argv.index("--db") + 1] = db
    return argv


def _tables(path: Path) -> dict[str, list] | None:
    """Every table's rows, or None for a file that is not a readable database."""
    try:
        conn = open_database(path, mode="read")  # leaves no -wal/-shm behind
    except CourseEtlError:
        return None
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'")]
        return {n: sorted(map(repr, conn.execute(f'SELECT * FROM "{n}"'))) for n in names}
    finally:
        conn.close()


@pytest.fixture
def creators(project, stubs, capsys):
    """The commands that create a database at --db when nothing is there (found by running)."""
    source = connect(project / "src.db")
    create_customer_source(source, "customers", 20, progress=False)
    source.close()
    found = {}
    for words, base in {**BASE, **CREATING}.items():
        if "--db" not in base:
            continue
        argv = _with_db(base, "fresh.db")
        code, _, err = run_case(argv, capsys)
        if code == 0 and Path("fresh.db").is_file():
            found[words] = argv
        for leftover in Path().glob("fresh.db*"):
            leftover.unlink()
    return found


def test_every_command_that_creates_a_database_refuses_files_it_did_not_make(
        creators, project, stubs, capsys):
    assert {("demo",), ("load",), ("monitor", "history"), ("medallion", "ingest"),
            ("medallion", "dirty")} <= set(creators), sorted(creators)
    other = sqlite3.connect(project / "other.db")  # another application's database
    other.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount REAL)")
    other.executemany("INSERT INTO ledger VALUES (?, ?)", [(1, 9.5), (2, -3.0)])
    other.commit()
    other.close()
    (project / "notes.txt").write_text("my notes\n")
    originals = {name: (project / name).read_bytes()
                 for name in ("notes.txt", "other.db", "dw.db", "lake.db")}
    for words, argv in creators.items():
        for existing, content in originals.items():
            for side in project.glob(f"{existing}-*"):
                side.unlink()
            (project / existing).write_bytes(content)
            tables = _tables(project / existing)
            before = _snapshot(project)
            code, out, err = run_case(_with_db(argv, existing), capsys)
            check_promise(argv, code, out, err, before, _snapshot(project))
            if code == 0:  # it wrote into the database: every row that was there is still there
                after = _tables(project / existing)
                assert tables is not None and after is not None, (words, existing)
                for table, rows in tables.items():
                    assert set(rows) <= set(after.get(table, ())), (words, existing, table)
            else:
                assert code == 2, (words, existing, err)
