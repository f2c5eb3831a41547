"""List the installed packages whose version differs from a lock (make test-latest).

Usage: python tools/compare_lock.py requirements/dev.txt
Prints one line per package that is newer (or older) than the lock, so an instructor sees which
new releases the tests that follow are trying.
"""

import re
import sys
from importlib import metadata
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)")  # name[extras]==version


def locked_versions(lock: Path) -> dict[str, set[str]]:
    """Package name (normalised) -> the versions the lock pins for it (one per marker)."""
    pins: dict[str, set[str]] = {}
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = re.sub(r"[-_.]+", "-", match[1]).lower()
            pins.setdefault(name, set()).add(match[2])
    return pins


def main(lock: str) -> int:
    pins = locked_versions(Path(lock))
    changed = []
    for dist in metadata.distributions():
        name = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
        if name in pins and dist.version not in pins[name]:
            changed.append(f"  {name}: {' or '.join(sorted(pins[name]))} in the lock, "
                           f"{dist.version} here")
    if changed:
        print(f"Versions newer than {lock} ({len(changed)}):", *sorted(changed), sep="\n")
    else:
        print(f"The newest allowed versions are the ones in {lock}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
