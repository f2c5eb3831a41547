"""environment.yml (conda) must list exactly the dependencies pyproject.toml declares."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
    return re.sub(r"[-_.]+", "-", name).lower(), spec.replace(" ", "")


def pyproject_requirements(path: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    project = tomllib.loads(path.read_text())["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(_normalise(r) for r in listed)


def conda_requirements(path: Path = ROOT / "environment.yml") -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    plain = [d for d in env["dependencies"] if isinstance(d, str)]
    return dict(_normalise(d) for d in plain if _normalise(d)[0] not in {"python", "pip"})


def test_environment_yml_matches_pyproject():
    assert conda_requirements() == pyproject_requirements()


def test_environment_yml_installs_the_package_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "--editable ." in pip_section


def test_drift_is_detected(tmp_path):
    """A dependency dropped from, or re-pinned in, environment.yml makes the comparison fail."""
    text = (ROOT / "environment.yml").read_text()
    dropped, repinned = tmp_path / "dropped.yml", tmp_path / "repinned.yml"
    dropped.write_text(text.replace("  - pandas>=2.1\n", ""))
    repinned.write_text(text.replace("pandas>=2.1", "pandas>=1.5"))
    assert conda_requirements(dropped) != pyproject_requirements()
    assert conda_requirements(repinned) != pyproject_requirements()
