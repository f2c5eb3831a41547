"""The hashed locks in requirements/ cover what pyproject.toml asks for, and name no registry.

`make lock` writes them with uv (`uv pip compile --universal --generate-hashes`); `make setup`
installs requirements/dev.txt. These checks catch a dependency added to pyproject.toml without
`make lock`, and an index URL or registry host slipping into a committed file.
"""

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "requirements"
# name, optional [extras] (make lock keeps them: pip's hash mode needs uvicorn[standard] pinned as
# such), version.
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)
REGISTRY_HOSTS = re.compile(
    r"pypi\.org|pythonhosted\.org|pypi\.python\.org|registry\.npmjs\.org|npmjs\.com"
    r"|deb\.debian\.org|security\.debian\.org|anaconda\.org|repo\.anaconda\.com"
    r"|--index-url|--extra-index-url|--find-links", re.IGNORECASE)


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path) -> dict[str, set[str]]:
    """Package -> every version the lock pins for it (one per environment marker)."""
    found: dict[str, set[str]] = {}
    for name, version in PIN.findall(lock.read_text()):
        found.setdefault(_name(name), set()).add(version)
    return found


def declared(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = list(project["dependencies"])
    for extra in extras:
        listed += project["optional-dependencies"][extra]
    return [Requirement(r) for r in listed]


@pytest.mark.parametrize("lock, extras", [
    ("runtime.txt", ()), ("dev.txt", ("dev",)), ("browser.txt", ("dev", "browser")),
])
def test_every_declared_dependency_is_pinned_within_its_bounds(lock, extras):
    locked = pins(LOCKS / lock)
    for requirement in declared(*extras):
        name = _name(requirement.name)
        assert name in locked, f"{name} is in pyproject.toml but not in {lock}: run make lock"
        for version in locked[name]:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock} pins {name}=={version}, outside pyproject.toml's {requirement}: "
                "run make lock")


@pytest.mark.parametrize("lock, package", [
    ("airflow.txt", "apache-airflow"), ("dagster.txt", "dagster"), ("tools.txt", "uv"),
])
def test_the_other_locks_pin_their_tool(lock, package):
    assert package in pins(LOCKS / lock)


@pytest.mark.parametrize("lock", sorted(p.name for p in LOCKS.glob("*.txt")))
def test_every_pin_carries_hashes(lock):
    entries = re.split(r"\n(?=[A-Za-z0-9])", (LOCKS / lock).read_text())
    packages = [e for e in entries if PIN.match(e)]
    assert packages, f"{lock} pins nothing"
    unhashed = [e.split()[0] for e in packages if "--hash=sha256:" not in e]
    assert unhashed == [], f"{lock}: no hash for {unhashed}"


def test_no_committed_file_names_a_registry():
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split("\0")
    offenders = []
    for name in filter(None, tracked):
        path = ROOT / name
        if (not path.is_file() or path.suffix in {".png", ".jpg", ".db"}
                or path == Path(__file__).resolve()):  # this file names them to find them
            continue
        text = path.read_text(errors="ignore")
        offenders += [f"{name}: {m.group(0)}" for m in REGISTRY_HOSTS.finditer(text)]
    assert offenders == []


def _entries(text: str) -> list[str]:
    return re.split(r"\n(?=[A-Za-z0-9])", text)


@pytest.mark.parametrize("lock", sorted(p.name for p in LOCKS.glob("*.txt")))
def test_every_pin_with_extras_has_a_plain_twin_with_the_same_hashes(lock):
    """pip's hash mode needs uvicorn[standard] pinned as such (make lock keeps extras), and older
    pips also need plain uvicorn pinned (tools/unpack_extras.py adds it)."""
    entries = _entries((LOCKS / lock).read_text())
    first_lines = {e.split("\n", 1)[0].rstrip(" \\"): e for e in entries}
    missing = []
    for line, entry in first_lines.items():
        match = re.match(r"^([A-Za-z0-9_.\-]+)\[[^\]]*\](==.*)$", line)
        if not match:
            continue
        twin = first_lines.get(match[1] + match[2])
        hashes = sorted(re.findall(r"--hash=(\S+)", entry))
        if twin is None or sorted(re.findall(r"--hash=(\S+)", twin)) != hashes:
            missing.append(line)
    assert missing == [], f"{lock}: no plain twin for {missing}: run make lock"


def test_unpack_extras_adds_each_twin_once_with_its_marker_and_hashes():
    from tools.unpack_extras import unpack_extras

    lock = ("# header\n"
            "a[x]==1.0 ; sys_platform == 'win32' \\\n    --hash=sha256:aa \\\n"
            "    --hash=sha256:ab\n    # via b\n"
            "b==2.0 \\\n    --hash=sha256:bb\n"
            "c[y,z]==3.0 \\\n    --hash=sha256:cc\n    # via b\n"
            "c==3.0 \\\n    --hash=sha256:cc\n")
    once = unpack_extras(lock)
    assert unpack_extras(once) == once
    entries = _entries(once)
    firsts = [e.split("\n", 1)[0] for e in entries]
    assert firsts == ["# header", "a[x]==1.0 ; sys_platform == 'win32' \\",
                      "a==1.0 ; sys_platform == 'win32' \\", "b==2.0 \\", "c[y,z]==3.0 \\",
                      "c==3.0 \\"]  # c has its plain pin already
    twin = entries[2]
    assert re.findall(r"--hash=(\S+)", twin) == ["sha256:aa", "sha256:ab"]
    assert "\\\n    #" not in twin  # the last hash line ends the requirement
