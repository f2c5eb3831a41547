"""Database files as a user names them: refuse the wrong file, explain SQLite's failures in a line.

:func:`open_existing` opens a warehouse that must already exist (a typo in ``--db`` must not leave
an empty ``typo.db`` behind), checks that it is a SQLite database and, with ``check=True``, runs
SQLite's ``quick_check`` so a corrupt file is refused before anything reads or writes it.
``readonly=True`` opens it as it is, without switching the journal mode (which rewrites the
file's header) and without leaving ``-wal``/``-shm`` files behind, for commands that only read.
:func:`explain` turns a ``sqlite3`` or OS error into one sentence naming the file, the cause
(disk full, read-only, locked, corrupt) and what to do.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.request import pathname2url

from course_etl.db import connect
from course_etl.errors import CourseEtlError

__all__ = ["DatabaseFileError", "check_path_text", "open_existing", "explain"]

_HEADER = b"SQLite format 3\x00"


class DatabaseFileError(CourseEtlError):
    """A database file that cannot be used: ``.path`` and ``.cause`` (missing, corrupt, …)."""


def check_path_text(path: str | os.PathLike, *, what: str = "--db") -> str:
    """Return ``path`` as text if it holds no newline or other control character, else raise.

    A newline in a path would start a new line in a crontab or a log; no real file needs one.
    Raises DatabaseFileError.
    """
    text = os.fspath(path)
    bad = next((c for c in text if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None or not text.strip():
        raise DatabaseFileError(
            f"{what} {text!r} holds a control character (e.g. a newline) or is empty: "
            "give a plain file path", path=text, cause="control character")
    return text


def _refuse(path: Path, cause: str, fix: str) -> DatabaseFileError:
    return DatabaseFileError(f"{path}: {cause}: {fix}", path=str(path), cause=cause)


def open_existing(path: str | os.PathLike, *, readonly: bool = False, check: bool = True,
                  what: str = "--db") -> sqlite3.Connection:
    """Open the SQLite file ``path``, which must exist; nothing is created.

    ``readonly=True`` opens it as it is (no WAL switch, no ``-wal`` file left behind) for a
    command that only reads; otherwise it gets :func:`course_etl.db.connect`'s settings.
    ``check=True`` runs ``PRAGMA quick_check`` first. Raises DatabaseFileError naming the file.
    """
    file = Path(check_path_text(path, what=what))
    if not file.exists():
        raise _refuse(file, "no such file",
                      f"check {what} (a command that reads a warehouse never creates one)")
    if not file.is_file():
        raise _refuse(file, "not a file", f"point {what} at a SQLite file, not a folder")
    try:
        with file.open("rb") as handle:
            header = handle.read(len(_HEADER))
    except OSError as error:
        raise _refuse(file, f"cannot read ({error.strerror})", "check its permissions") from None
    if header and header != _HEADER:
        raise _refuse(file, "not a SQLite database", f"point {what} at the right SQLite file")
    if not readonly:
        # SQLite would open a read-only file read-only without a word, leave -wal/-shm files
        # beside it and fail at the first write; access() also sees a read-only mount.
        folder = file.parent if str(file.parent) else Path(".")
        for place in (file, folder):
            if not os.access(place, os.W_OK):
                raise _refuse(file, "read-only" + (" folder" if place is folder else ""),
                              "make the file and its folder writable (SQLite writes -wal/-shm "
                              "files beside it), or copy the warehouse somewhere writable")
    try:
        if readonly:
            # A file nobody may write (a read-only mount) is read as immutable: no -shm/-wal
            # files appear beside it, which SQLite would otherwise create and leave behind.
            query = "mode=rw" if os.access(file, os.W_OK) else "mode=ro&immutable=1"
            uri = f"file:{pathname2url(str(file.resolve()))}?{query}"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        else:
            conn = connect(file)
        if check:
            _quick_check(conn, file)
    except sqlite3.Error as error:
        raise DatabaseFileError(explain(error, file), path=str(file),
                                cause=getattr(error, "sqlite_errorname", "")) from None
    return conn


def _quick_check(conn: sqlite3.Connection, file: Path) -> None:
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(1)")]
    if problems != ["ok"]:
        conn.close()
        raise _refuse(file, "corrupt database (SQLite's quick_check found damaged pages)",
                      "restore it from a backup (or rebuild it); nothing was changed")


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
)


def cause_of(error: BaseException) -> str | None:
    """The short cause of a SQLite error (``"disk full"``, ``"read-only"``, ``"locked…"``,
    ``"corrupt…"``), or None for an error in the SQL itself."""
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
    """One line for a ``sqlite3`` or OS error: the file, the cause and the fix."""
    where = f"{os.fspath(path)}: " if path is not None else ""
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", "") or ""
        text = str(error)
        for markers, cause, fix in _CAUSES:
            if any(name.startswith(m) if m.startswith("SQLITE_") else m in text
                   for m in markers):
                return f"{where}{cause} ({text}): {fix}"
        return f"{where}SQLite refused the statement ({text}): check the table and column names"
    if isinstance(error, OSError):
        target = error.filename if error.filename is not None else path
        reason = error.strerror or str(error)
        return (f"{target}: {reason}: check that the path exists, is the kind expected "
                "(file or folder) and is writable")
    return f"{where}{type(error).__name__}: {error}"
