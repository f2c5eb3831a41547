"""Every answer of the corpus gets the verdict its label says: ``wrong`` answers are refused,
``right`` ones accepted, and nothing (``odd`` answers included) gets "No verdict" or escapes as
an exception. The corpus holds answers first typed by testers who had only the notebooks."""

from __future__ import annotations

import os

import pytest

from course_etl.classroom.exercises import _REGISTRY, all_exercises
from tests.answer_corpus import KINDS, corpus, stale_label

ANSWERS = corpus()


@pytest.fixture(autouse=True)
def _answers_leave_no_trace(monkeypatch):
    """A student's cell may set os.environ or change folder; what it set must not reach the next
    test, nor the notebooks nbval runs later in this process (their kernels inherit it)."""
    saved = dict(os.environ)
    monkeypatch.chdir(os.getcwd())
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_the_corpus_names_registered_checks_and_known_labels():
    names = {e.name for e in all_exercises()}
    assert {a.exercise for a in ANSWERS} <= names
    assert {a.kind for a in ANSWERS} <= set(KINDS)


def test_every_notebook_with_exercises_has_a_corpus():
    exercised = {e.notebook_number for e in all_exercises()}
    assert exercised <= {a.notebook[:2] for a in ANSWERS}


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.id)
def test_the_check_gives_the_labelled_verdict(answer):
    stale = stale_label(answer)
    if stale:
        pytest.skip(stale)
    verdict = _REGISTRY[answer.exercise].check(answer.build())
    assert verdict.judged, f"{answer.note}: {verdict}"
    if answer.kind == "wrong":
        assert not verdict.passed, f"accepted a wrong answer ({answer.note}): {verdict}"
    elif answer.kind == "right":
        assert verdict.passed, f"refused a right answer ({answer.note}): {verdict}"
