"""The one opener (:mod:`course_etl.paths`, :mod:`course_etl.dbfile`) and the one YAML reader
(:mod:`course_etl.config.yamltext`), checked by behaviour: generated paths and documents, real
special files, a real read-only mount, and a model (PyYAML itself) for the documents within
bounds."""

from __future__ import annotations

import errno
import os
import sqlite3
import string
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_etl.config.yamltext import MAX_YAML_CHARS, MAX_YAML_NODES, YamlReadError, read_yaml
from course_etl.db import attach, connect
from course_etl.dbfile import DatabaseFileError, made_by, open_database, rebuilt_database
from course_etl.errors import CourseEtlError, WrongTypeError
from course_etl.paths import (
    FileRefusedError,
    FileWriteError,
    check_path,
    describe_os_error,
    existing_file,
    new_file,
    read_bytes,
    read_text,
    replacing,
    write_atomic,
)
from tests.alarms import no_hang

QUICK = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])




@pytest.fixture
def specials(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    return {"fifo": tmp_path / "fifo", "device": Path("/dev/zero"),
            "folder": tmp_path / "folder", "loop": tmp_path / "loop",
            "dangling": tmp_path / "dangling"}


# --- path text ---------------------------------------------------------------------------------

@QUICK
@given(st.text(alphabet=string.ascii_letters, min_size=1, max_size=20),
       st.sampled_from([chr(c) for c in (*range(32), 127)]),
       st.text(alphabet=string.ascii_letters, max_size=5))
def test_a_control_character_anywhere_is_refused(head, control, tail):
    with pytest.raises(FileRefusedError, match="control character"):
        check_path(head + control + tail, what="--db")


@QUICK
@given(st.sampled_from(["file:", "FILE:", "File:"]), st.text(max_size=30).filter(
    lambda t: not any(ord(c) < 32 or ord(c) == 127 for c in t)))
def test_a_sqlite_uri_is_refused_whatever_follows(prefix, rest):
    with pytest.raises(FileRefusedError, match="is a URI"):
        check_path(prefix + rest, what="--db")


@pytest.mark.parametrize("value", [None, 3, 2.5, b"dw.db", ["dw.db"], True])
def test_a_path_that_is_not_text_names_the_argument(value):
    with pytest.raises(WrongTypeError, match="argument '--db' must be a file path"):
        check_path(value, what="--db")
    with pytest.raises(WrongTypeError):
        connect(value)


def test_paths_longer_than_the_system_allows_are_refused():
    with pytest.raises(FileRefusedError, match="too long"):
        check_path("x" * 256)
    with pytest.raises(FileRefusedError, match="too long"):
        check_path("/".join(["abc"] * 1100))


# --- special files -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "loop", "dangling"])
def test_special_files_are_refused_at_once_by_every_reader(kind, specials, tmp_path):
    path = specials[kind]
    with no_hang():
        for call in (lambda: existing_file(path), lambda: read_bytes(path),
                     lambda: read_text(path), lambda: open_database(path, mode="read"),
                     lambda: open_database(path, mode="write"), lambda: connect(path)):
            with pytest.raises(FileRefusedError):
                call()
        conn = connect(tmp_path / "dw.db")
        with pytest.raises(FileRefusedError):
            attach(conn, path, "src")
        conn.close()


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "loop", "dangling"])
def test_special_files_are_never_written_over(kind, specials):
    with pytest.raises(FileRefusedError):
        write_atomic(specials[kind], "text")
    assert not specials[kind].is_file()


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" * 1000)
    assert read_bytes(big, limit=5000) == b"a: 1\n" * 1000
    with pytest.raises(FileRefusedError, match="larger than 4,999 bytes"):
        read_bytes(big, limit=4999)


def test_a_byte_order_mark_is_dropped_and_other_encodings_named(tmp_path):
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbfid,name\n")
    assert read_text(tmp_path / "bom.csv") == "id,name\n"
    (tmp_path / "latin.csv").write_bytes(b"id,name\n1,Jos\xe9\n")
    with pytest.raises(FileRefusedError, match=r"not UTF-8 text \(byte 13\)"):
        read_text(tmp_path / "latin.csv")


def test_sqlite_never_receives_a_uri(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conn = connect("good.db")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    before = Path("good.db").read_bytes()
    for text in ("file:good.db?mode=rwc", "file:good.db", "file:new.db?mode=rwc"):
        with pytest.raises(FileRefusedError, match="is a URI"):
            connect(text)
        with pytest.raises(FileRefusedError, match="is a URI"):
            open_database(text)
        conn = connect(":memory:")
        with pytest.raises(FileRefusedError, match="is a URI"):
            attach(conn, text, "src")
    assert sorted(os.listdir()) == ["good.db"] and Path("good.db").read_bytes() == before


# --- writing -----------------------------------------------------------------------------------

def test_an_output_replaces_a_file_whole_and_never_a_database(tmp_path):
    out = tmp_path / "dag.py"
    write_atomic(out, "first\n")
    out.chmod(0o640)
    write_atomic(out, "second\n")
    assert out.read_text() == "second\n" and (out.stat().st_mode & 0o777) == 0o640
    conn = connect(tmp_path / "dw.db")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    before = (tmp_path / "dw.db").read_bytes()
    with pytest.raises(FileRefusedError, match="is a SQLite database"):
        write_atomic(tmp_path / "dw.db", "text")
    assert (tmp_path / "dw.db").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dag.py", "dw.db"]


def test_a_new_file_needs_its_folder(tmp_path):
    with pytest.raises(FileRefusedError, match="folder .* does not exist"):
        new_file(tmp_path / "missing" / "x.db")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(FileRefusedError):
        new_file(tmp_path / "afile" / "x.db")


# --- databases ---------------------------------------------------------------------------------

def _journal_mode_warehouse(path: Path) -> None:
    conn = sqlite3.connect(path)  # plain sqlite3: a rollback-journal file, as other tools make
    conn.execute("CREATE TABLE src_customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT, "
                 "updated_at TEXT)")
    conn.executemany("INSERT INTO src_customers VALUES (?, ?, ?, ?)",
                     [(i, f"n{i}", "c", f"2024-10-{i:02d}") for i in range(1, 29)])
    conn.commit()
    conn.close()


def test_opening_a_journal_mode_database_keeps_its_header(tmp_path):
    db = tmp_path / "dw.db"
    _journal_mode_warehouse(db)
    before = db.read_bytes()
    for mode in ("read", "write"):
        conn = open_database(db, mode=mode)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        conn.close()
    conn = connect(db)
    conn.close()
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dw.db"]


def test_a_new_file_is_wal_and_stamped_only_by_its_maker(tmp_path):
    conn = connect(tmp_path / "new.db")
    conn.execute("CREATE TABLE t (x)")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert made_by(tmp_path / "new.db") is None
    with rebuilt_database(tmp_path / "h.db", maker="monitor history") as built:
        built.execute("CREATE TABLE t (x)")
    assert made_by(tmp_path / "h.db") == "monitor history"
    with pytest.raises(DatabaseFileError, match="replaces only a file it made"):
        with rebuilt_database(tmp_path / "h.db", maker="demo"):
            pass
    with pytest.raises(DatabaseFileError, match="SQLite database the course did not make"):
        with rebuilt_database(tmp_path / "new.db", maker="monitor history"):
            pass


def test_a_failed_rebuild_leaves_the_old_file_and_no_scratch(tmp_path):
    with rebuilt_database(tmp_path / "h.db", maker="demo") as built:
        built.execute("CREATE TABLE kept (x)")
    before = (tmp_path / "h.db").read_bytes()
    with pytest.raises(RuntimeError), rebuilt_database(tmp_path / "h.db", maker="demo") as built:
        built.execute("CREATE TABLE half (x)")
        raise RuntimeError("stopped half-way")
    assert (tmp_path / "h.db").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.db"]


@pytest.fixture
def read_only_view(tmp_path):
    """``tmp_path/data`` seen through a read-only bind mount at ``tmp_path/view``."""
    if os.geteuid() != 0:
        pytest.skip("a read-only mount needs root")
    data, view = tmp_path / "data", tmp_path / "view"
    data.mkdir()
    view.mkdir()
    mounted = []
    try:
        for args in (["--bind", str(data), str(view)], ["-o", "remount,ro,bind", str(view)]):
            subprocess.run(["mount", *args], check=True, capture_output=True)
            mounted = [view]
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"cannot mount here ({error})")
    yield data, view
    for point in mounted:
        subprocess.run(["umount", str(point)], capture_output=True)


def test_a_reader_without_write_access_sees_committed_wal_content(read_only_view):
    data, view = read_only_view
    writer = sqlite3.connect(data / "dw.db", isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")  # everything stays in the -wal file
    writer.execute("CREATE TABLE runs (id INTEGER)")
    writer.executemany("INSERT INTO runs VALUES (?)", [(1,), (2,), (3,)])
    assert (data / "dw.db-wal").stat().st_size > 0
    reader = open_database(view / "dw.db", mode="read")
    try:
        assert reader.execute("SELECT COUNT(*) FROM runs").fetchone() == (3,)
        with pytest.raises(sqlite3.OperationalError):
            reader.execute("INSERT INTO runs VALUES (4)")
    finally:
        reader.close()
        writer.close()


def test_a_reader_with_write_access_leaves_no_side_files(tmp_path):
    conn = connect(tmp_path / "dw.db")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    (tmp_path / "dw.db-wal").unlink(missing_ok=True)
    (tmp_path / "dw.db-shm").unlink(missing_ok=True)
    before = (tmp_path / "dw.db").read_bytes()
    reader = open_database(tmp_path / "dw.db", mode="read")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.execute("CREATE TABLE u (x)")
    reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dw.db"]
    assert (tmp_path / "dw.db").read_bytes() == before


# --- the YAML reader, against PyYAML as the model -----------------------------------------------

scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=8),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["true", "null", "1.5", "~", "'quoted'", "-0"]),
)


def _documents(depth: int):
    if depth == 0:
        return scalars
    inner = _documents(depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=5),
                        inner, max_size=4).map(
            lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"),
    )


@QUICK
@given(_documents(3))
def test_within_its_bounds_the_reader_reads_what_pyyaml_reads(text):
    assert read_yaml(text) == yaml.safe_load(text)


@QUICK
@given(st.integers(1, 9999), st.integers(1, 12), st.integers(1, 40), st.integers(0, 3))
def test_a_date_is_read_exactly_when_it_exists(year, month, day, line):
    text = "\n" * line + f"when: {year:04d}-{month:02d}-{day:02d}"
    try:
        expected = yaml.safe_load(text)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(YamlReadError, match="is not a real date") as refused:
            read_yaml(text, source="t")
        assert refused.value.line == line + 1
        assert refused.value.value == f"{year:04d}-{month:02d}-{day:02d}"
        assert isinstance(refused.value.cause, ValueError)
        assert f"({refused.value.cause})" in refused.value.reason
    else:
        assert read_yaml(text) == expected


@QUICK
@given(st.integers(1, 6000), st.sampled_from(["", "-", "0x", "0", "0b"]))
def test_an_integer_is_read_exactly_when_it_fits_in_64_bits(digits, prefix):
    # YAML 1.1 (PyYAML): 0x hex, 0b binary, a leading 0 octal.
    alphabet = {"0x": "f", "0": "7", "0b": "1"}.get(prefix, "9")
    text = f"n: {prefix}{alphabet * digits}"
    base = {"0x": 16, "0": 8, "0b": 2}.get(prefix, 10)
    value = int(alphabet * digits, base) if digits <= 100 else 2**64  # 100 digits: > 2**63
    value = -value if prefix == "-" else value
    if -(2**63) <= value < 2**63:
        assert read_yaml(text) == {"n": value}
    else:
        with pytest.raises(YamlReadError, match="too large") as refused:
            read_yaml(text)
        assert refused.value.size == len(text) - len("n: ")


@QUICK
@given(_documents(2), st.sampled_from(["[", "{", ": :", "\t", "&", "*", "? [", "]", "}"]),
       st.data())
def test_text_that_is_not_yaml_carries_the_parser_s_error(text, broken, data):
    at = data.draw(st.integers(0, len(text)))
    text = text[:at] + broken + text[at:]
    try:
        yaml.safe_load(text)
    except yaml.YAMLError:  # the reader may meet a scanner error before the parser's
        with pytest.raises(YamlReadError) as refused:
            read_yaml(text)
        cause = refused.value.cause
        assert refused.value.syntax and isinstance(cause, yaml.MarkedYAMLError)
        assert refused.value.reason == f"not valid YAML: {' '.join(cause.problem.split())}"
        assert refused.value.line == cause.problem_mark.line + 1
    else:
        read_yaml(text)  # still YAML: read as PyYAML reads it


@pytest.mark.parametrize("extra", [1, 2, 1000])
def test_a_text_over_the_size_limit_carries_its_size(extra):
    text = "#" * (MAX_YAML_CHARS + extra)
    with pytest.raises(YamlReadError) as refused:
        read_yaml(text)
    assert refused.value.size == len(text)


@pytest.mark.parametrize("levels", [3, 6, 9])
def test_aliases_of_aliases_are_refused_by_their_expanded_size(levels):
    text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, levels))
    if 10**levels <= MAX_YAML_NODES:
        assert len(read_yaml(text)) == levels
    else:
        with pytest.raises(YamlReadError, match="expands to more than"):
            read_yaml(text)


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "a:\n" + "".join(
    " " * i + f"k{i}:\n" for i in range(1, 200)), "- " * 300 + "x", "&a [*a]", "{a: &b [*b]}"])
def test_deep_or_recursive_documents_are_refused_without_recursing(text):
    with pytest.raises(YamlReadError):
        read_yaml(text)


@pytest.mark.parametrize("value", [None, 5, b"a: 1", ["a: 1"]])
def test_the_reader_names_a_wrong_argument(value):
    with pytest.raises(WrongTypeError, match="read_yaml"):
        read_yaml(value)
    assert issubclass(YamlReadError, CourseEtlError)


@QUICK
@given(number=st.sampled_from(sorted(errno.errorcode)),
       what=st.text(string.ascii_lowercase + " ", max_size=20),
       name=st.text(string.ascii_lowercase, min_size=1, max_size=20))
def test_a_failed_write_carries_the_file_what_it_was_the_cause_and_the_fix(tmp_path, number,
                                                                            what, name):
    out = tmp_path / f"{name}.txt"
    out.write_text("old\n")
    with pytest.raises(FileWriteError) as failed, replacing(out, what=what) as scratch:
        scratch.write_text("new\n")
        raise OSError(number, os.strerror(number))
    cause, fix = describe_os_error(OSError(number, os.strerror(number)))
    error = failed.value
    assert (error.path, error.what, error.reason, error.fix, error.fault) == (
        str(out), what, cause, fix, True)
    assert cause in str(error) and out.read_text() == "old\n"


def test_os_error_causes_are_words():
    from course_etl.paths import describe_os_error

    for number in (errno.ENOSPC, errno.EFBIG, errno.EROFS, errno.ELOOP, errno.EIO):
        cause, fix = describe_os_error(OSError(number, os.strerror(number)))
        assert "None" not in cause + fix and "Errno" not in cause
