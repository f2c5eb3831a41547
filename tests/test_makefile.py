"""Every documented make target works as the first command on a fresh clone.

make expands a rule's prerequisites when it reads the rule, so a variable named in a
prerequisite list before it is defined expands to nothing there: `make test-orchestrators` once
named `$(BROWSER_STAMP)` that way, lost its only path to the course's venv and failed on a fresh
clone with ".venv/bin/python: No such file". A dry run (`make -n`) of each target on a clean copy
of the repository (the committed files, no virtualenv, no stamp) shows every command a first run
would execute. Two rules, for each target of the README's table, with uv off PATH (the Makefile
installs its own) and with `UV=` (pip only):

- make reports no reference to an undefined variable (`--warn-undefined-variables`);
- every program run from a virtualenv (`.venv/bin/python`, `.venv-tools/bin/uv`, ...) comes after
  the command that creates that virtualenv.

The last test moves each variable a rule line names to the end of a copy of the Makefile (the
mistake above, for every variable it could happen to) and checks that these rules catch it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"

pytestmark = pytest.mark.skipif(shutil.which("make") is None or os.name != "posix",
                                reason="the Makefile needs make and a POSIX shell")

VENV_PROGRAM = re.compile(r"(?<![\w.-])(?:\S*/)?(\.venv[\w-]*)/bin/[\w.-]+")
CREATES_VENV = re.compile(r"-m venv (\S+?)(?:;|\s|$)")
UNDEFINED = re.compile(r"warning: undefined variable [`'](\w+)'")


def documented_targets(readme: str = README.read_text(encoding="utf-8")) -> list[str]:
    """The targets named in the first column of the README's "Make targets" table."""
    section = readme.split("## Make targets", 1)[1].split("\n## ", 1)[0]
    targets = []
    for row in re.findall(r"^\| ([^|]*(?:\\\|[^|]*)*)\|", section, re.MULTILINE):
        targets += [t for t in re.findall(r"`make ([\w-]+)", row) if t not in targets]
    return targets


def phony_targets(makefile: str = MAKEFILE.read_text()) -> set[str]:
    joined = makefile.replace("\\\n", " ")
    return {t for line in re.findall(r"^\.PHONY:(.*)$", joined, re.MULTILINE)
            for t in line.split()}


def clean_copy(destination: Path) -> Path:
    """The repository's files as a fresh clone has them (committed or new, not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def without_uv_env() -> dict[str, str]:
    """This environment with no uv on PATH and no make variables inherited from a calling make."""
    path = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "uv").exists()]
    env = {k: v for k, v in os.environ.items()
           if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "VIRTUAL_ENV", "UV"}}
    env["PATH"] = os.pathsep.join(path)
    return env


def dry_run(folder: Path, target: str, *variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-n", "--warn-undefined-variables",
                           "-C", str(folder), target, *variables],
                          capture_output=True, text=True, env=without_uv_env(), timeout=120)


def first_run_problems(done: subprocess.CompletedProcess) -> list[str]:
    """What would break if the dry-run commands ran on a fresh clone (empty: nothing)."""
    problems = [f"undefined variable {name}: define it before the rules that name it"
                for name in UNDEFINED.findall(done.stderr)]
    if done.returncode != 0:
        problems.append(f"make -n failed: {done.stderr.strip()[-500:]}")
    created: set[str] = set()
    for line in done.stdout.splitlines():
        created.update(Path(v).name for v in CREATES_VENV.findall(line))
        for venv in VENV_PROGRAM.findall(line):
            if venv not in created:
                problems.append(f"runs a program of {venv} before creating it: {line.strip()}")
    return list(dict.fromkeys(problems))


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory):
    return clean_copy(tmp_path_factory.mktemp("fresh-clone"))


def test_every_documented_target_is_a_target_and_every_target_is_documented():
    documented, phony = set(documented_targets()), phony_targets()
    assert "test-orchestrators" in documented and "setup" in documented
    undocumented = sorted(phony - documented)
    assert not undocumented, (
        f"make {undocumented[0]} is missing from README.md's \"Make targets\" table: add a row "
        f"| `make {undocumented[0]}` | what it does |")
    assert sorted(documented - phony) == [], "README names targets the Makefile does not have"


@pytest.mark.parametrize("uv", ["uv off PATH", "UV="])
@pytest.mark.parametrize("target", documented_targets())
def test_the_target_works_as_the_first_command_on_a_fresh_clone(fresh_clone, target, uv):
    done = dry_run(fresh_clone, target, *(["UV="] if uv == "UV=" else []))
    assert first_run_problems(done) == [], done.stdout


def test_without_uv_the_makefile_installs_its_own_before_the_course(fresh_clone):
    lines = dry_run(fresh_clone, "setup").stdout.splitlines()
    tools = next(i for i, line in enumerate(lines) if "-r requirements/tools.txt" in line)
    course = next(i for i, line in enumerate(lines) if "-r requirements/dev.txt" in line)
    assert tools < course and "-m pip install" in lines[tools]
    assert "/.venv-tools/bin/uv pip install" in lines[course]
    pip_only = dry_run(fresh_clone, "setup", "UV=").stdout
    assert "requirements/tools.txt" not in pip_only
    assert ".venv/bin/python -m pip install --quiet --require-hashes -r requirements/dev.txt" \
        in pip_only


def _prerequisite_variables(makefile: str) -> set[str]:
    """Variables named in a rule line (targets or prerequisites), expanded as make reads it."""
    names = set()
    for line in makefile.replace("\\\n", " ").splitlines():
        if line.startswith(("\t", "#")) or not re.match(r"^[^=]*[^:=]:(?![=])", line):
            continue
        names.update(re.findall(r"\$\((\w+)\)", line.split(";")[0]))
    return names


def test_the_rules_catch_any_variable_defined_after_a_rule_names_it(fresh_clone, tmp_path):
    makefile = (fresh_clone / "Makefile").read_text()
    definitions = {m[1]: m[0] for m in re.finditer(r"^(\w+) :?= .*$", makefile, re.MULTILINE)}
    named = sorted(_prerequisite_variables(makefile) & set(definitions))
    assert {"STAMP", "BROWSER_STAMP", "AIRFLOW_STAMP", "UV_READY"} <= set(named)
    targets = documented_targets()
    mutant = clean_copy(tmp_path / "mutant")
    missed = []
    for name in named:
        line = definitions[name]
        (mutant / "Makefile").write_text(makefile.replace(line + "\n", "", 1) + "\n" + line + "\n")
        caught = any(first_run_problems(dry_run(mutant, target)) for target in targets)
        if not caught:
            missed.append(name)
    assert missed == [], f"defining {missed} after the rules goes unnoticed"


def test_notebooks_are_picked_by_number_or_by_file(fresh_clone):
    def executed(*variables):
        done = dry_run(fresh_clone, "notebooks", *variables)
        line = next(x for x in done.stdout.splitlines() if "tools.execute_notebooks" in x)
        return [Path(w).name for w in line.split() if w.endswith(".ipynb")]

    everything = executed()
    assert len(everything) >= 7 and everything == sorted(everything)
    assert executed("NB=03") == [n for n in everything if n.startswith("03_")]
    assert executed("NB=01 05") == [n for n in everything if n[:2] in {"01", "05"}]
    assert executed("NOTEBOOKS=notebooks/02_job_scheduling.ipynb") == ["02_job_scheduling.ipynb"]
    wrong = dry_run(fresh_clone, "notebooks", "NB=99")
    assert wrong.returncode == 2 and "make notebooks NB=03" in wrong.stderr
    assert "tools.execute_notebooks" not in wrong.stdout
