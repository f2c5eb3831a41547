"""Every exception class course_etl defines derives from CourseEtlError, found by walking the
package: ``except CourseEtlError`` catches every diagnosis the library makes, and a class added
later is covered without being listed here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import course_etl
from course_etl.errors import CourseEtlError

# Outside CourseEtlError on purpose, with the reason.
DELIBERATELY_OUTSIDE = {
    "AnswerTimeout": "a BaseException, so a student's `except Exception` cannot swallow the "
                     "time budget that stops an answer which never ends",
}


def _exception_classes() -> list[tuple[str, str]]:
    found = []
    for info in pkgutil.walk_packages(course_etl.__path__, "course_etl."):
        if info.name == "course_etl.__main__":
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, BaseException)
                    and value.__module__ == info.name):
                found.append((info.name, name))
    return found


CLASSES = _exception_classes()


def test_the_walk_finds_the_package_s_exceptions():
    names = {name for _, name in CLASSES}
    assert {"CourseEtlError", "LoadError", "YamlReadError", "TaskSkipped", "InjectedFailure",
            "MissingAltText", "_RollBack", "_ValueRefused"} <= names


@pytest.mark.parametrize(("module", "name"), CLASSES, ids=[f"{m}.{n}" for m, n in CLASSES])
def test_every_exception_class_derives_from_course_etl_error(module, name):
    error_class = getattr(importlib.import_module(module), name)
    if issubclass(error_class, CourseEtlError):
        return
    if name in DELIBERATELY_OUTSIDE:
        assert not issubclass(error_class, Exception), DELIBERATELY_OUTSIDE[name]
        return
    raise AssertionError(f"{module}.{name} derives from "
                         f"{', '.join(c.__name__ for c in error_class.__bases__)}, not "
                         "CourseEtlError: add it to the bases (a builtin base callers catch "
                         "may stay, as WrongTypeError keeps TypeError; never ValueError)")
