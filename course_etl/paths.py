"""Files that ship inside the package, found the same way from a checkout, a wheel or a hub.

The course's configuration files live in ``course_etl/configs/`` and are read through
:mod:`importlib.resources`, never through the repository layout, so a plain ``pip install`` of
the package works from any working directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["CONFIG_DIR", "package_path"]


def package_path(*parts: str) -> Path:
    """The path of a file or folder shipped in the package (installed packages are unzipped)."""
    return Path(str(resources.files("course_etl").joinpath(*parts)))


# base.yaml, dev.yaml and prod.yaml: the course's environments.
CONFIG_DIR = package_path("configs")
