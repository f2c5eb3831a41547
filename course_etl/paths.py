"""Files: the ones shipped in the package, and every path a user names.

The course's configuration files live in ``course_etl/configs/`` and are read through
:mod:`importlib.resources`, never through the repository layout, so a plain ``pip install`` of
the package works from any working directory.

Every other path (a ``--db``, a config, a suite, a CSV, an output) goes through the functions
here before anything opens it, so one set of rules holds for every command and library call:
a path is plain text (no control character, no ``file:`` URI, which SQLite would otherwise
read with its own options behind these checks), not too long, and names what the caller
expects: a regular file to read (never a FIFO, which blocks forever, a device such as
``/dev/zero``, which never ends, a folder or a symlink loop), read up to a size limit. Files are
written beside their destination and renamed into place, so a full disk or a crash leaves the
old file or none, never half of one. Every refusal is a :class:`FileRefusedError` naming the
option, the path, the cause and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from course_etl.errors import CourseEtlError, check_type, checked, short_repr

__all__ = [
    "CONFIG_DIR",
    "package_path",
    "FileRefusedError",
    "FileWriteError",
    "MAX_TEXT_BYTES",
    "check_path",
    "existing_file",
    "existing_folder",
    "read_bytes",
    "read_text",
    "new_file",
    "new_folder",
    "replacing",
    "write_atomic",
    "describe_os_error",
]


def package_path(*parts: str) -> Path:
    """The path of a file or folder shipped in the package (installed packages are unzipped)."""
    return Path(str(resources.files("course_etl").joinpath(*parts)))


# base.yaml, dev.yaml and prod.yaml: the course's environments.
CONFIG_DIR = package_path("configs")

# A config file or a check suite is a few dozen lines: a megabyte is a broken or hostile file.
MAX_TEXT_BYTES = 1_000_000
# Linux's PATH_MAX and NAME_MAX: longer paths fail in the kernel with a less helpful message.
_MAX_PATH_BYTES = 4096
_MAX_NAME_BYTES = 255


class FileRefusedError(CourseEtlError):
    """A path that cannot be used as asked (``.path``, ``.what``: what the file was for,
    ``.reason``: missing, a folder, a FIFO, a URI, too large, read-only, … in words, ``.fix``).
    ``.cause`` is kept for the exception an error quotes, everywhere in the package."""


class FileWriteError(FileRefusedError):
    """Writing a file failed after the command had started (disk full, file too large, I/O
    error), with the attributes of :class:`FileRefusedError`; ``.fault`` is True, so the
    command line exits with 1, not 2."""


def _refuse(what: str, path: object, cause: str, fix: str) -> FileRefusedError:
    return FileRefusedError(f"{_named(what, path)}: {cause}: {fix}", path=str(path),
                            reason=cause, what=what, fix=fix)


def _shown(path: object) -> str:
    """A path quoted for a message, shortened so a 5,000-character argument stays short."""
    return short_repr(str(path), 120)


def _named(what: str, path: object) -> str:
    """``what`` and the path for a message: ``config file '/tmp/x.yaml'``."""
    return f"{what} {_shown(path)}".strip()


def check_path(path: object, *, what: str = "path") -> Path:
    """``path`` as a :class:`~pathlib.Path` if its text is a plain file path, else raise.

    Refused: a type that is not ``str`` or ``os.PathLike``, an empty path, a control character
    (a newline would start a new crontab or log line; NUL ends a C string early), a ``file:``
    URI (SQLite would read ``?mode=rwc`` from it and open another file), and paths longer than
    the system allows. Raises FileRefusedError, or WrongTypeError for a wrong type.
    """
    check_type(path, (str, os.PathLike), argument=what,
               wanted="a file path (str or pathlib.Path)")
    text = os.fspath(path)
    if not isinstance(text, str):
        raise _refuse(what, text, "is bytes", "give the path as text")
    if not text.strip():
        raise _refuse(what, text, "is empty", "give a file path")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise _refuse(what, text, "holds a control character (e.g. a newline)",
                      "give a plain file path")
    if text[:5].lower() == "file:":
        raise _refuse(what, text, "is a URI, not a file path",
                      "give the file's plain path; course_etl chooses how to open it")
    try:
        encoded = os.fsencode(text)
    except UnicodeError:
        raise _refuse(what, text, "is not a valid file name (unpaired surrogate)",
                      "give a plain file path") from None
    if len(encoded) > _MAX_PATH_BYTES or any(
            len(part) > _MAX_NAME_BYTES for part in encoded.split(b"/")):
        raise _refuse(what, text, "is too long for a file path",
                      f"names have at most {_MAX_NAME_BYTES} bytes, paths {_MAX_PATH_BYTES}")
    return Path(text)


_KINDS = ((stat.S_ISDIR, "is a folder"), (stat.S_ISFIFO, "is a FIFO (named pipe)"),
          (stat.S_ISCHR, "is a character device"), (stat.S_ISBLK, "is a block device"),
          (stat.S_ISSOCK, "is a socket"), (stat.S_ISREG, "is a file"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "is a special file")


def _stat(path: Path, what: str) -> os.stat_result | None:
    """``os.stat(path)`` (symlinks followed), None when nothing is there; refuses loops and
    paths whose folders cannot be searched."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise _refuse(what, path, "is a symlink to nothing",
                          "point it at an existing file, or give another path") from None
        return None
    except OSError as error:
        cause, fix = describe_os_error(error)
        raise _refuse(what, path, cause, fix) from None


def existing_file(path: object, *, what: str = "path") -> Path:
    """``path`` if it is an existing regular file (symlinks followed), else raise
    FileRefusedError saying what is there instead."""
    file = check_path(path, what=what)
    info = _stat(file, what)
    if info is None:
        raise _refuse(what, file, "no such file", "check the path")
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(what, file, f"{_kind(info.st_mode)}, not a file",
                      "give the path of a regular file")
    return file


def existing_folder(path: object, *, what: str = "path") -> Path:
    """``path`` if it is an existing folder, else raise FileRefusedError."""
    folder = check_path(path, what=what)
    info = _stat(folder, what)
    if info is None:
        raise _refuse(what, folder, "no such folder", "check the path")
    if not stat.S_ISDIR(info.st_mode):
        raise _refuse(what, folder, f"{_kind(info.st_mode)}, not a folder", "give a folder")
    return folder


def read_bytes(path: object, *, what: str = "path", limit: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of the regular file ``path``, refused beyond ``limit`` bytes.

    The file is opened without blocking and checked again once open, so a FIFO swapped in after
    the first check cannot hang the caller. Raises FileRefusedError.
    """
    file = existing_file(path, what=what)
    try:
        handle = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        cause, fix = describe_os_error(error)
        raise _refuse(what, file, cause, fix) from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(what, file, f"{_kind(info.st_mode)}, not a file",
                          "give the path of a regular file")
        if info.st_size > limit:
            raise _refuse(what, file, f"larger than {limit:,} bytes ({info.st_size:,})",
                          "give the right file (this one is far too large)")
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(handle, min(1 << 20, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while being read
            raise _refuse(what, file, f"larger than {limit:,} bytes", "give the right file")
        return b"".join(chunks)
    except OSError as error:
        cause, fix = describe_os_error(error)
        raise _refuse(what, file, cause, fix) from None
    finally:
        os.close(handle)


def read_text(path: object, *, what: str = "path", limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of ``path`` (a leading byte-order mark dropped), read as
    :func:`read_bytes` reads. Raises FileRefusedError, naming the first byte that is not
    UTF-8."""
    data = read_bytes(path, what=what, limit=limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _refuse(what, path, f"not UTF-8 text (byte {error.start})",
                      "save it as UTF-8") from None


def _folder_of(file: Path) -> Path:
    return file.parent if str(file.parent) else Path(".")


def new_file(path: object, *, what: str = "path") -> Path:
    """``path`` if a command may create it, or replace the regular file there.

    Refused: a folder, a special file or a dangling symlink at ``path``, a missing or
    unwritable folder around it, an existing file that cannot be written. Raises
    FileRefusedError.
    """
    file = check_path(path, what=what)
    info = _stat(file, what)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise _refuse(what, file, "is a folder", "give a file name inside it")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise _refuse(what, file, f"{_kind(info.st_mode)}, not a file",
                      "give the path of a regular file to write")
    folder = _folder_of(file)
    folder_info = _stat(folder, what)
    if folder_info is None:
        raise _refuse(what, file, f"folder {str(folder)!r} does not exist",
                      "create it first or choose another path")
    if not stat.S_ISDIR(folder_info.st_mode):
        raise _refuse(what, file, f"{str(folder)!r} is not a folder", "check the path")
    # access() also sees a read-only mount, which the permission bits do not show.
    if not os.access(folder, os.W_OK | os.X_OK) or (info is not None
                                                     and not os.access(file, os.W_OK)):
        raise _refuse(what, file, "read-only (cannot be written)",
                      "check its permissions and those of its folder")
    return file


def new_folder(path: object, *, what: str = "path") -> Path:
    """``path`` if it is a folder, or can be created, and can be written into."""
    folder = check_path(path, what=what)
    info = _stat(folder, what)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise _refuse(what, folder, f"{_kind(info.st_mode)}, not a folder", "give a folder")
    existing = folder
    while (found := _stat(existing, what)) is None and existing != _folder_of(existing):
        existing = _folder_of(existing)
    if found is None or not stat.S_ISDIR(found.st_mode):
        raise _refuse(what, folder, f"{str(existing)!r} is not a folder", "check the path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _refuse(what, folder, "cannot be created or written (read-only)",
                      "check the path and its permissions")
    return folder


def _side_files(file: Path) -> list[Path]:
    return [Path(f"{file}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]


_SQLITE_HEADER = b"SQLite format 3\x00"


def _holds_database(file: Path) -> bool:
    try:
        handle = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return os.read(handle, len(_SQLITE_HEADER)) == _SQLITE_HEADER
    finally:
        os.close(handle)


@contextlib.contextmanager
def replacing(path: object, *, what: str = "path", databases: bool = False) -> Iterator[Path]:
    """A scratch path beside ``path``; when the block succeeds it replaces ``path``.

    The block writes the new content into the scratch file (SQLite side files included); on
    success it is flushed to disk and renamed over ``path`` in one step, on failure removed,
    so ``path`` holds either its old content or the complete new one. An error while saving is
    raised as FileWriteError naming ``path`` and the cause (disk full, file too large, …).
    An existing SQLite database at ``path`` is refused unless ``databases=True`` (the caller
    then decides which it may replace): an output written over a warehouse destroys it.
    """
    target = new_file(path, what=what)
    if not databases and target.exists() and _holds_database(target):
        raise _refuse(what, target, "is a SQLite database",
                      "writing over it would destroy it: give another file name")
    handle, name = tempfile.mkstemp(prefix=f".{target.name[:80]}.", suffix=".tmp",
                                    dir=_folder_of(target))
    os.close(handle)
    scratch = Path(name)
    try:
        yield scratch
        _publish(scratch, target, what)
    except OSError as error:
        cause, fix = describe_os_error(error)
        raise FileWriteError(f"{_named(what, target)}: {cause}: {fix}; it was left as it was",
                             path=str(target), reason=cause, what=what, fix=fix,
                             fault=True) from None
    finally:
        for side in _side_files(scratch):
            side.unlink(missing_ok=True)


def _publish(scratch: Path, target: Path, what: str) -> None:
    mode = (os.stat(target).st_mode & 0o7777) if target.exists() else _default_mode()
    os.chmod(scratch, mode)
    with open(scratch, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(scratch, target)
    for side in _side_files(target)[1:]:  # they belonged to the file just replaced
        side.unlink(missing_ok=True)


def _default_mode() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: object, data: bytes | str, *, what: str = "path") -> Path:
    """Write ``data`` (text is written as UTF-8) to ``path`` through :func:`replacing`."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with replacing(path, what=what) as scratch:
        with open(scratch, "wb") as handle:
            handle.write(payload)
    return Path(os.fspath(path))


_OS_CAUSES = {
    errno.ENOSPC: ("disk full", "free space on its disk and run again"),
    errno.EDQUOT: ("disk quota exceeded", "free space (or ask for a larger quota) and run "
                                           "again"),
    errno.EFBIG: ("file too large for its file system or for the size limit of this shell "
                  "(ulimit -f)", "write it to another disk, or raise the limit"),
    errno.EROFS: ("read-only file system", "write to a writable disk"),
    errno.EACCES: ("permission denied", "check its permissions and those of its folders"),
    errno.EPERM: ("operation not permitted", "check its permissions"),
    errno.ELOOP: ("is a symlink loop (symlinks pointing at each other)",
                  "fix the symlink or give the real path"),
    errno.ENAMETOOLONG: ("is too long for a file path", "give a shorter path"),
    errno.ENOTDIR: ("has a file where a folder should be", "check the path"),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.EISDIR: ("is a folder", "give a file name inside it"),
    errno.EIO: ("disk I/O error", "check the disk (full, removed or failing) and run again"),
    errno.ENXIO: ("a special file with nothing behind it", "give a regular file"),
}


@checked
def describe_os_error(error: OSError) -> tuple[str, str]:
    """``(cause, fix)`` for an OS error, in words (not ``None: [Errno 27]``)."""
    cause, fix = _OS_CAUSES.get(error.errno, (None, None))
    if cause is None:
        cause = (error.strerror or type(error).__name__).lower()
        fix = "check the path and the disk"
    return cause, fix
