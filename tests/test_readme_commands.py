"""Every shell command in README.md works as written, after `make lab`.

The fenced ```bash / ```sh / ```shell blocks are extracted and each block runs as one bash script
(`set -e`, so the first failing command fails the test and is named), with a timeout, in a fresh
clone of the repository in a temporary directory (the README's commands run in the repository
folder), with the course's environment activated the way the README says (its Python first on
PATH) and no warehouse but the ones the commands create there.

Placeholders: `[...]` marks optional arguments and is dropped; `<this repository>` becomes this
checkout (a local `git clone`). Not run, and said so in the skip reason:
- commands that start a long-running server (`make lab`, `jupyter lab`, `present`): skipped
  line by line, the rest of the block runs;
- blocks that need conda, when there is no conda;
- blocks that build a whole environment and run the whole suite (the without-make path): several
  minutes, so only with README_TEST_INSTALL=1 (`make test-readme` sets it).
The test knows nothing of the package's modules: only what the README says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(bash|sh|shell)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SERVERS = re.compile(r"^(make lab\b|make present\b|(python -m )?jupyter lab\b"
                     r"|python -m course_etl present\b|make\s*$)")
BLOCK_TIMEOUT = 900  # seconds
INSTALL_TIMEOUT = 3600  # a pip install from the lock, then the whole suite with the notebooks


def readme_blocks(text: str) -> list[tuple[str, list[str]]]:
    """(the section heading, [command, ...]) for every shell block, continuations joined."""
    blocks = []
    for match in FENCE.finditer(text):
        heading = re.findall(r"^##+ (.+)$", text[:match.start()], re.MULTILINE)[-1]
        joined = re.sub(r"\\\n\s*", "", match[2])
        commands = [strip_placeholders(line) for line in joined.splitlines()]
        blocks.append((heading, [c for c in commands if c]))
    return blocks


def strip_placeholders(line: str) -> str:
    """Drop a trailing comment and [optional] arguments; `<this repository>` is this checkout."""
    line = re.sub(r"\s+#\s.*$", "", line.strip()) if not line.strip().startswith("#") else ""
    line = re.sub(r"\s*\[[^\]]*\]", "", line)
    return line.replace("<this repository>", str(ROOT)).strip()


def needs_install(commands: list[str]) -> bool:
    return any(re.match(r"(python3? -m )?pip install|python3? -m venv", c) for c in commands)


def needs_conda(commands: list[str]) -> bool:
    return any(c.startswith("conda ") for c in commands)


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_the_blocks_this_test_runs():
    headings = [heading for heading, _ in BLOCKS]
    assert "Start in two commands" in headings and "Command line" in headings
    cli = dict(BLOCKS)["Command line"]
    assert all(c.startswith(("python -m course_etl", "printf ")) for c in cli)


def test_placeholders():
    assert strip_placeholders("python -m course_etl demo [--db PATH]   # the story") == \
        "python -m course_etl demo"
    assert strip_placeholders("# a comment") == ""
    assert strip_placeholders("git clone <this repository> x") == f"git clone {ROOT} x"
    assert strip_placeholders("python -m course_etl schedule describe \"5 2 * * *\"") == \
        "python -m course_etl schedule describe \"5 2 * * *\""


def _block_id(number: int, heading: str) -> str:
    return f"{number}-" + re.sub(r"\W+", "-", heading).strip("-")


@pytest.mark.parametrize("heading, commands", BLOCKS,
                         ids=[_block_id(i, h) for i, (h, _) in enumerate(BLOCKS)])
def test_readme_block_runs_as_written(heading, commands, tmp_path):
    if needs_conda(commands) and shutil.which("conda") is None:
        pytest.skip("needs conda, which is not installed here")
    if needs_install(commands) and os.environ.get("README_TEST_INSTALL") != "1":
        pytest.skip("builds a whole environment and runs the whole suite (minutes): "
                    "make test-readme runs it")
    skipped = [c for c in commands if SERVERS.match(c)]
    runnable = [c for c in commands if not SERVERS.match(c)]
    if any(c.startswith("git clone") for c in commands):
        cwd = tmp_path  # the block makes its own clone
    else:
        # The README's commands run in the repository folder: here a fresh clone of it, so the
        # warehouses, images and runs they write land in the temporary directory.
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(tmp_path / "course_etl")],
                       check=True)
        cwd = tmp_path / "course_etl"
    script = "\n".join([
        "set -eo pipefail",
        "trap 'echo \"README command failed: $BASH_COMMAND\" >&2' ERR",
        *runnable,
    ])
    # A student's shell: no COURSE_ETL_* configuration variables (they are a config layer).
    env = {k: v for k, v in os.environ.items()
           if k not in {"VIRTUAL_ENV", "PYTHONPATH"} and not k.startswith("COURSE_ETL_")}
    # "activate": the environment running these tests is the course's .venv after make lab.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.pop("MPLBACKEND", None)
    done = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True,
                          timeout=INSTALL_TIMEOUT if needs_install(commands) else BLOCK_TIMEOUT)
    assert done.returncode == 0, (
        f"README section {heading!r}:\n{done.stderr[-4000:]}\n{done.stdout[-2000:]}")
    if skipped:
        print(f"not run (long-running servers): {skipped}")
