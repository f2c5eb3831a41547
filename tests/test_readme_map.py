"""README's map ("Where things live") names every folder of the package, every folder of the
repository and every script in tools/, so a reader finds each one and a new one gets a line.

The map is the README's code block under that heading: a tree where `course_etl/`'s folders are
entries indented by two spaces, each entry's text running on over deeper-indented lines. A
folder `course_etl/a/` needs an entry `a/`; `course_etl/a/b/` needs `b/` in a's entry; a
repository folder needs `name/` in a top-level line; a script `tools/x.py` needs `x.py` in the
tools/ entry. A failure says which line to add or extend.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PACKAGE = "course_etl"


def the_map(readme: str) -> str:
    section = readme.split("## Where things live", 1)[1]
    return re.search(r"```\n(.*?)```", section, re.DOTALL)[1]


def entries(tree: str, indent: int) -> dict[str, str]:
    """name -> the entry's text (its line and the deeper-indented lines after it), for the entries
    that start exactly ``indent`` spaces in."""
    found: dict[str, str] = {}
    current = None
    for line in tree.splitlines():
        depth = len(line) - len(line.lstrip(" "))
        if depth == indent and line.strip():
            current = line.split()[0]
            found[current] = line
        elif depth > indent and current is not None:
            found[current] += "\n" + line
        elif depth < indent:
            current = None
    return found


def tracked_files() -> list[PurePosixPath]:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [PurePosixPath(p) for p in listed.split("\0") if p and (ROOT / p).exists()]


def missing_from_map(tree: str, files: list[PurePosixPath]) -> list[str]:
    """One instruction per folder or script the map does not name (empty: nothing missing)."""
    problems = []
    top_level = "\n".join(line for line in tree.splitlines() if line and line[0] != " ")
    folders = sorted({f.parts[0] for f in files if len(f.parts) > 1
                      and not f.parts[0].startswith(".")})
    for folder in folders:
        if not re.search(rf"(?<![\w/.-]){re.escape(folder)}/", top_level):
            problems.append(f"the repository folder {folder}/: add a top-level line "
                            f"`{folder}/  <what it holds>`")
    package = entries(tree, 2) if f"{PACKAGE}/" in top_level else {}
    subfolders = sorted({f.parent.relative_to(PACKAGE) for f in files
                         if f.parts[0] == PACKAGE and len(f.parts) > 2
                         and "__pycache__" not in f.parts})
    for sub in subfolders:
        first = f"{sub.parts[0]}/"
        if first not in package:
            problems.append(f"{PACKAGE}/{sub}/: add a line `  {first}  <what it holds>` under "
                            f"{PACKAGE}/")
        elif len(sub.parts) > 1 and not re.search(
                rf"(?<![\w.-]){re.escape(sub.name)}/", package[first]):
            problems.append(f"{PACKAGE}/{sub}/: add `{sub.name}/ (<what it holds>)` to the "
                            f"{first} entry")
    tools = entries(tree, 0).get("tools/", "")
    for script in sorted(f for f in files if f.parts[0] == "tools" and len(f.parts) == 2
                         and f.suffix in {".py", ".sh"} and f.name != "__init__.py"):
        if not re.search(rf"(?<![\w.-]){re.escape(script.name)}", tools):
            problems.append(f"tools/{script.name}: add `{script.name} (<what it does>)` to the "
                            "tools/ entry")
    return [f"README.md's map (## Where things live) does not name {p}" for p in problems]


def test_the_map_names_every_package_folder_repository_folder_and_tool():
    problems = missing_from_map(the_map(README.read_text(encoding="utf-8")), tracked_files())
    assert problems == [], "\n".join(problems)


def test_a_new_folder_or_tool_anywhere_is_reported_with_what_to_add():
    """Mutants of the repository: one new file in each kind of place the map must cover."""
    tree = the_map(README.read_text(encoding="utf-8"))
    files = tracked_files()
    package_entries = entries(tree, 2)
    new_places = {
        "course_etl/newtopic/__init__.py": "add a line `  newtopic/",
        "course_etl/classroom/newpart/__init__.py": "add `newpart/ (<what it holds>)` to the "
                                                    "classroom/ entry",
        "course_etl/scheduling/export/deeper/x.py": "add `deeper/ (<what it holds>)` to the "
                                                    "scheduling/ entry",
        "tools/new_tool.py": "add `new_tool.py (<what it does>)` to the tools/ entry",
        "tools/new_check.sh": "add `new_check.sh",
        "newfolder/readme.txt": "add a top-level line `newfolder/",
    }
    assert {"classroom/", "scheduling/"} <= set(package_entries)
    for new, instruction in new_places.items():
        problems = missing_from_map(tree, [*files, PurePosixPath(new)])
        assert len(problems) == 1 and instruction in problems[0], (new, problems)


def test_a_name_dropped_from_the_map_is_reported():
    tree = the_map(README.read_text(encoding="utf-8"))
    files = tracked_files()
    for name in ("widgets/", "export/", "check_install.py", "cli/", "binder/"):
        assert name in tree
        dropped = tree.replace(name, "(gone)")
        assert missing_from_map(dropped, files), f"dropping {name} went unnoticed"
