"""Give each pin with extras in a lock a twin without them, so every pip installs it (make lock).

``make lock`` keeps extras as the packages ask for them (``uvicorn[standard]==0.54.0``): pip's
hash mode refuses a dependency written with extras unless the lock pins it with them. Older pips
(23.2 and before: Python 3.11's own until 3.11.9) then refuse the same package asked for
*without* extras (``uvicorn>=0.37``), because in hash mode they match a plain requirement to a
plain pin only (pypa/pip#9644). The fix the pip maintainers describe: pin both. This adds, after
each ``name[extras]==version`` entry, the same pin, marker and hashes without the extras, unless
the lock has it already; running it twice changes nothing. Standard library only.

    python tools/unpack_extras.py requirements/*.txt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

__all__ = ["unpack_extras", "main"]

_ENTRY_START = re.compile(r"\n(?=[A-Za-z0-9])")  # a pin starts a line; hashes and comments indent
_WITH_EXTRAS = re.compile(r"^([A-Za-z0-9_.\-]+)\[[^\]]*\](==.*?)\s*\\?$", re.MULTILINE)
TWIN_NOTE = ("    # the pin above without its extras: older pips match a plain requirement\n"
             "    # only to a plain pin in hash mode (pypa/pip#9644)")


def _first_line(entry: str) -> str:
    return entry.split("\n", 1)[0].rstrip(" \\")


def unpack_extras(text: str) -> str:
    """The lock ``text`` with a plain twin after each pin that has extras."""
    entries = _ENTRY_START.split(text)
    present = {_first_line(e) for e in entries}
    out = []
    for entry in entries:
        out.append(entry)
        match = _WITH_EXTRAS.match(_first_line(entry))
        if not match:
            continue
        plain = f"{match[1]}{match[2]}"
        if plain in present:
            continue
        hashes = [line for line in entry.splitlines()[1:] if line.strip().startswith("--hash=")]
        if hashes:
            hashes[-1] = hashes[-1].rstrip(" \\")
        out.append("\n".join([f"{plain} \\", *hashes, TWIN_NOTE]))
        present.add(plain)
    result = "\n".join(out)
    return result if result.endswith("\n") else result + "\n"


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python tools/unpack_extras.py requirements/*.txt", file=sys.stderr)
        return 2
    for name in argv:
        path = Path(name)
        before = path.read_text()
        after = unpack_extras(before)
        if after != before:
            path.write_text(after)
            print(f"{path}: pins with extras now have a plain twin")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
