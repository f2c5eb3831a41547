"""Database files as a user names them: refuse the wrong file, explain SQLite's failures in a line.

:func:`open_database` is the one way a command opens a warehouse that must exist (a typo in
``--db`` must not leave an empty ``typo.db`` behind). Everything that can refuse the file runs
before anything writes to it: the path checks of :mod:`course_etl.paths`, the header, the
permissions, then SQLite's ``quick_check`` on a connection that cannot write; only then is the
file opened for writing (a refused file keeps every byte, its header included). Readers
(``mode="read"``) never write, yet see what other processes committed to the ``-wal`` file.

Files the course creates carry SQLite's ``application_id`` (``CET`` plus a byte naming the
command that made them): :func:`rebuilt_database` replaces an existing file only when the same
command made it, so ``monitor history --db notes.txt`` or ``--db warehouse.db`` is refused
instead of replacing someone's file. :func:`explain` turns a ``sqlite3`` or OS error into one
sentence naming the file, the cause (disk full, read-only, locked, corrupt, a SQLite limit) and
what to do.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.request import pathname2url

from course_etl import db
from course_etl.errors import checked
from course_etl.paths import (
    FileRefusedError,
    check_path,
    describe_os_error,
    existing_file,
    new_file,
    replacing,
)

__all__ = [
    "DatabaseFileError",
    "MAKERS",
    "is_sqlite_file",
    "made_by",
    "open_database",
    "open_existing",
    "create_database",
    "rebuilt_database",
    "cause_of",
    "is_transient",
    "explain",
]

_HEADER = b"SQLite format 3\x00"
# "CET" in the top three bytes of application_id; the low byte names the maker.
_APPLICATION_BASE = 0x43455400
MAKERS = {"course_etl": 0, "load": 1, "demo": 2, "monitor history": 3, "medallion": 4}


class DatabaseFileError(FileRefusedError):
    """A database file that cannot be used: ``.path``, ``.reason`` (missing, corrupt, …) and
    ``.fix`` (what to do)."""


def _refuse(path: object, cause: str, fix: str, *, what: str = "--db") -> DatabaseFileError:
    return DatabaseFileError(f"{path}: {cause}: {fix}", path=str(path), reason=cause, fix=fix,
                             what=what)


def _header(file: Path, what: str) -> bytes:
    """The first 100 bytes of ``file`` (SQLite's header), read without blocking."""
    try:
        return _head(file)
    except OSError as error:
        cause, fix = describe_os_error(error)
        raise _refuse(file, cause, fix, what=what) from None


def _head(file: Path) -> bytes:
    handle = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        return os.read(handle, 100)
    finally:
        os.close(handle)


@checked
def is_sqlite_file(path: str | os.PathLike) -> bool:
    """True when ``path`` starts with SQLite's header or is empty (SQLite's empty database)."""
    try:
        header = _head(Path(path))
    except OSError:
        return False
    return not header or header.startswith(_HEADER)


@checked
def made_by(path: str | os.PathLike) -> str | None:
    """The command that made the database at ``path`` (a key of :data:`MAKERS`), or None for a
    file the course did not make (another application's database, any other file)."""
    try:
        header = _head(Path(path))
    except OSError:
        return None
    if len(header) < 72 or not header.startswith(_HEADER):
        return None
    number = int.from_bytes(header[68:72], "big")
    names = {_APPLICATION_BASE + n: name for name, n in MAKERS.items()}
    return names.get(number)


def _stamp(conn: sqlite3.Connection, maker: str) -> None:
    # A pragma cannot take a parameter; the value is an int from MAKERS, never user text.
    number_sql = str(int(_APPLICATION_BASE + MAKERS[maker]))
    conn.execute(f"PRAGMA application_id = {number_sql}")


def _reader(file: Path) -> sqlite3.Connection:
    """A connection that cannot write to ``file`` yet sees committed ``-wal`` content.

    With write access it is opened read-write with ``query_only`` on: SQLite then removes the
    ``-wal``/``-shm`` files it needed when the connection closes (a ``mode=ro`` connection
    would leave them behind). Without write access, ``mode=ro`` reads the ``-wal`` when there is
    one; with no ``-wal`` file, everything committed is in the file itself and it is read
    ``immutable`` (no side files can be created on a read-only disk).
    """
    folder = file.parent if str(file.parent) else Path(".")
    url = pathname2url(os.path.abspath(file))
    writable = os.access(file, os.W_OK) and os.access(folder, os.W_OK | os.X_OK)
    if writable:
        mode = "mode=rw"
    elif Path(f"{file}-wal").exists():
        mode = "mode=ro"
    else:
        mode = "mode=ro&immutable=1"
    conn = sqlite3.connect(f"file:{url}?{mode}", uri=True, isolation_level=None,
                           timeout=db.BUSY_TIMEOUT_MS / 1000)
    conn.execute("PRAGMA query_only = ON")
    return conn


@checked
def open_database(path: str | os.PathLike, *, mode: str = "write", what: str = "--db"
                  ) -> sqlite3.Connection:
    """Open the SQLite file ``path``, which must exist; nothing is created.

    ``mode="read"`` gives a connection that never writes (for commands that only read);
    ``mode="write"`` checks first, on a connection that cannot write, and then opens the file
    with :func:`course_etl.db.connect`'s settings. Either way the file must be a regular file
    holding a SQLite database that passes ``PRAGMA quick_check``.
    Raises DatabaseFileError naming the file, the cause and the fix.
    """
    if mode not in ("read", "write"):
        raise ValueError(f"mode must be 'read' or 'write', not {mode!r}")
    try:
        file = existing_file(path, what=what)
    except FileRefusedError as error:
        fix = ("check " + what + " (a command that reads a warehouse never creates one)"
               if error.reason == "no such file" else error.fix)
        raise _refuse(check_path(path, what=what), error.reason, fix, what=what) from None
    header = _header(file, what)
    if header and not header.startswith(_HEADER):
        raise _refuse(file, "not a SQLite database", f"point {what} at the right SQLite file",
                      what=what)
    folder = file.parent if str(file.parent) else Path(".")
    if mode == "write":
        # SQLite would open a read-only file read-only without a word, leave -wal/-shm files
        # beside it and fail at the first write; access() also sees a read-only mount.
        for place in (file, folder):
            if not os.access(place, os.W_OK):
                raise _refuse(file, "read-only" + (" folder" if place is folder else ""),
                              "make the file and its folder writable (SQLite writes -wal/-shm "
                              "files beside it), or copy the warehouse somewhere writable",
                              what=what)
    try:
        conn = _reader(file)
        try:
            _quick_check(conn, file, what)
        except BaseException:
            conn.close()
            raise
        if mode == "write":
            conn.close()
            conn = db.connect(file)
    except sqlite3.Error as error:
        raise DatabaseFileError(explain(error, file), path=str(file), what=what,
                                reason=cause_of(error) or "cannot be opened") from None
    return conn


@checked
def open_existing(path: str | os.PathLike, *, readonly: bool = False, what: str = "--db"
                  ) -> sqlite3.Connection:
    """:func:`open_database` with ``mode="read"`` when ``readonly`` (the older spelling)."""
    return open_database(path, mode="read" if readonly else "write", what=what)


def _quick_check(conn: sqlite3.Connection, file: Path, what: str) -> None:
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(1)")]
    if problems != ["ok"]:
        raise _refuse(file, "corrupt database (SQLite's quick_check found damaged pages)",
                      "restore it from a backup (or rebuild it); nothing was changed",
                      what=what)


@checked
def create_database(path: str | os.PathLike, *, maker: str, what: str = "--db"
                    ) -> sqlite3.Connection:
    """A new database at ``path`` (nothing may be there yet), stamped as made by ``maker``.

    Raises DatabaseFileError when a file exists there or its folder does not.
    """
    file = _new_database_path(path, what)
    if os.path.lexists(file):
        raise _refuse(file, "already exists", f"give {what} a new file name", what=what)
    conn = db.connect(file)
    _stamp(conn, maker)
    return conn


def _new_database_path(path: object, what: str) -> Path:
    try:
        return new_file(path, what=what)
    except FileRefusedError as error:
        raise _refuse(error.path, error.reason, error.fix, what=what) from None


@contextlib.contextmanager
@checked
def rebuilt_database(path: str | os.PathLike, *, maker: str, what: str = "--db"
                     ) -> Iterator[sqlite3.Connection]:
    """A new database, filled by the block, that replaces ``path`` when the block succeeds.

    ``path`` may be missing or a database ``maker`` made before; anything else there (another
    warehouse, a text file) is refused, never replaced. The block fills a scratch file beside
    ``path``; a failure leaves ``path`` as it was and no scratch file behind.
    Raises DatabaseFileError.
    """
    file = _new_database_path(path, what)
    if os.path.lexists(file):
        owner = made_by(file)
        if owner != maker:
            kind = (f"a database made by course_etl's {owner!r}" if owner else
                    "a SQLite database the course did not make"
                    if _head(file).startswith(_HEADER) else "a file that is not a database")
            raise _refuse(file, f"already exists and is {kind}",
                          f"`{maker}` replaces only a file it made: give {what} a new file "
                          "name, or remove the file first", what=what)
    with replacing(file, what=what, databases=True) as scratch:
        scratch.unlink()
        conn = db.connect(scratch)
        try:
            _stamp(conn, maker)
            yield conn
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()


# SQLite's result-code names (Python ≥ 3.11) and the message fragments older builds give.
_CAUSES = (
    (("SQLITE_FULL", "database or disk is full"),
     "disk full", "free space on its disk and run again; nothing was committed"),
    (("SQLITE_READONLY", "readonly database"),
     "read-only", "make the file and its folder writable (SQLite writes -wal/-shm "
                  "files beside it)"),
    (("SQLITE_BUSY", "SQLITE_LOCKED", "database is locked", "database table is locked"),
     "locked by another process", "wait for the other writer to finish, or stop it, then retry"),
    (("SQLITE_CORRUPT", "SQLITE_NOTADB", "malformed", "file is not a database"),
     "corrupt or not a SQLite database", "restore it from a backup or point --db at the "
                                         "right file"),
    (("SQLITE_CANTOPEN", "unable to open database file"),
     "cannot be opened", "check that the path and its folder exist and are readable"),
    (("SQLITE_IOERR", "disk I/O error"),
     "disk I/O error", "check the disk (full, removed or failing) and run again"),
    (("SQLITE_TOOBIG", "Expression tree is too large", "too many columns",
      "too many SQL variables", "too many terms", "aggregate terms", "too many arguments",
      "too many attached",
      "string or blob too big"),
     "beyond a SQLite limit", "the table is too wide or a value too large for one SQL "
                              "statement (SQLite allows 2,000 columns, expressions 1,000 deep): "
                              "load fewer columns, e.g. from a view of the ones you need"),
)


def cause_of(error: BaseException) -> str | None:
    """The short cause of a SQLite error (``"disk full"``, ``"read-only"``, ``"locked…"``,
    ``"corrupt…"``, ``"beyond a SQLite limit"``), or None for an error in the SQL itself."""
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error)
    for markers, cause, _ in _CAUSES:
        if any(name.startswith(m) if m.startswith("SQLITE_") else m in text for m in markers):
            return cause
    return None


def is_transient(error: BaseException) -> bool:
    """True for SQLite errors a retry can fix: a lock held by another process, or I/O."""
    return isinstance(error, sqlite3.OperationalError) and cause_of(error) in (
        "locked by another process", "disk I/O error")


def explain(error: BaseException, path: str | os.PathLike | None = None) -> str:
    """One line for a ``sqlite3`` or OS error: the file, the cause and the fix.

    An OS error names the file the system names, else ``path``, else no file at all (never
    ``None``).
    """
    where = f"{os.fspath(path)}: " if path is not None else ""
    if isinstance(error, sqlite3.Error):
        text = " ".join(str(error).split())
        for _, cause, fix in _CAUSES:
            if cause == cause_of(error):
                return f"{where}{cause} ({text}): {fix}"
        return f"{where}SQLite refused the statement ({text}): check the table and column names"
    if isinstance(error, OSError):
        target = error.filename if error.filename is not None else path
        cause, fix = describe_os_error(error)
        return f"{os.fspath(target)}: {cause}: {fix}" if target is not None else \
            f"{cause}: {fix}"
    return f"{where}{type(error).__name__}: {error}"
