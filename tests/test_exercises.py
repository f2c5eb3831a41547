"""Every exercise: its solution passes, its stub and every wrong answer are refused with a message
and a hint, no answer of any kind gets a traceback, feedback is deterministic and word-first, hints
are held back on the first try and never give the answer away, the stub in the notebook is the
registered one, and the registry is the only list."""

import difflib
import importlib
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.classroom import exercises
from course_etl.classroom.exercises import (
    Verdict,
    all_exercises,
    check_watermark_read,
    hint,
    is_stub,
    reset_tries,
)
from course_etl.classroom.exercises.differential import Judge
from course_etl.classroom.exercises.hand_written_load import load_problem
from course_etl.loads.engine import incremental_load
from tests.gamed_answers import GAMED
from tests.wrong_answers_sql import OTHER_RIGHT_ANSWERS, solution_namespace

EXERCISES = all_exercises()
ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS_DIR = ROOT / "notebooks" / "solutions"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Pictographs and dingbats (✅ ❌ ⚠️ 🛑 …): a verdict is words first, a symbol never needed.
EMOJI = re.compile("[\u2600-\u27bf\U0001f300-\U0001faff]")


def run_solution(exercise):
    return solution_namespace(*exercise.requires, exercise.solution_file)[exercise.answer_name]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_solution_passes(exercise):
    verdict = exercise.check(run_solution(exercise))
    assert isinstance(verdict, Verdict) and verdict.passed, str(verdict)
    assert str(verdict).startswith("Correct: ")


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_stub_fails_with_a_hint(exercise):
    first, again = exercise.check(exercise.stub), exercise.check(exercise.stub)
    assert not first.passed and first.hint, str(first)
    assert str(first) == str(again), "feedback must be deterministic for nbval"
    assert str(first).startswith("Not yet: ") and not EMOJI.search(str(first))


GAMED_CASES = [(name, what, answer) for name, cases in GAMED.items()
               for what, answer in cases]


@pytest.mark.parametrize(("name", "what", "answer"), GAMED_CASES,
                         ids=[f"{n}-{w}" for n, w, _ in GAMED_CASES])
def test_wrong_answer_is_refused(name, what, answer):
    exercise = next(e for e in EXERCISES if e.name == name)
    verdict = exercise.check(answer)
    assert not verdict.passed, f"{what!r} passed: {verdict}"
    assert verdict.message and verdict.hint, str(verdict)
    assert verdict.judged, str(verdict)
    assert not EMOJI.search(str(verdict)), str(verdict)


def test_every_registered_exercise_has_wrong_answers():
    """Registering an exercise is the only list: its wrong answers are looked up by its name."""
    missing = sorted({e.name for e in EXERCISES} - set(GAMED))
    assert not missing, (f"add wrong answers for {missing} to tests/gamed_answers.py (or "
                         "tests/wrong_answers_sql.py), keyed by the check's name")
    assert not set(GAMED) - {e.name for e in EXERCISES}, "wrong answers of no exercise"
    assert all(len(cases) >= 3 for cases in GAMED.values())


ODD_ANSWERS = [None, 0, 1.5, "", "   ", "SELECT", "SELECT 1", "DROP TABLE staged",
               "SELECT 1; SELECT 2", [], {}, (), {"x": 1}, ["a"], lambda *a, **k: None,
               object(), b"SELECT 1", float("nan")]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_no_answer_of_any_kind_gets_a_traceback(exercise):
    """Answers of the wrong kind get a sentence, through the notebook's function too."""
    for answer in ODD_ANSWERS:
        verdict = exercise.notebook_check(answer)
        assert isinstance(verdict, Verdict) and not verdict.passed, (answer, str(verdict))
        assert verdict.message and "Traceback" not in str(verdict), (answer, str(verdict))
    reset_tries()


def test_the_library_is_held_to_the_model_the_hand_written_load_is():
    """incremental_load agrees with step 5's model on every scenario: 'what you wrote, plus
    the guards'."""
    assert load_problem(lambda conn: incremental_load(
        conn, "src_customers", "dw_customers", key="id", watermark="updated_at")) is None


def test_calling_the_library_is_refused_however_it_is_reached():
    verdict = exercises.check_hand_written_load.exercise.check(
        dict(GAMED["check_hand_written_load"])["calls the library, under another name"])
    assert "calls the library's incremental_load" in verdict.message


def test_the_stuck_watermark_a_swallowing_load_leaves_is_named():
    swallowing = dict(GAMED["check_hand_written_load"])[
        "issue 27: swallows errors, leaves a NULL watermark for the library"]
    verdict = exercises.check_hand_written_load.exercise.check(swallowing)
    assert "NULL" in verdict.message and "never true" in verdict.message, verdict.message


def _judges() -> list[tuple[str, Judge]]:
    modules = {e.check.__module__ for e in EXERCISES}
    return [(f"{m}.{n}", j) for m in sorted(modules)
            for n, j in vars(__import__(m, fromlist=["_"])).items() if isinstance(j, Judge)]


@pytest.mark.parametrize(("name", "judge"), _judges(), ids=[n for n, _ in _judges()])
def test_scenarios_are_seeded_and_the_model_always_answers(name, judge):
    again = sorted(judge._make_scenarios(), key=lambda s: s.size)
    assert [(s.story, repr(s.data)) for s in again] == \
           [(s.story, repr(s.data)) for s in judge.scenarios], "scenarios must be the same"
    assert len(judge.scenarios) >= 8, "too few scenarios to tell answers apart"
    assert not [o.error for o in judge.expected if o.raised]


def test_first_try_holds_the_hint_back_and_the_same_answer_again_shows_it(capsys):
    reset_tries()
    wrong = "SELECT value FROM etl_watermarks"
    first = check_watermark_read(wrong)
    assert first.hint and "Hint:" not in str(first)
    assert "hint('watermark_read')" in str(first)
    assert "Hint:" in str(check_watermark_read(wrong)), "the same answer again is a try"
    reset_tries()
    check_watermark_read(wrong)
    assert hint("watermark_read") == first.hint
    assert first.hint in capsys.readouterr().out
    assert exercises._TRIES["watermark_read"]  # in memory, nothing else


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_running_the_untouched_stub_is_not_a_try(exercise):
    reset_tries()
    for _ in range(3):
        assert "Hint:" not in str(exercise.notebook_check(exercise.stub))
    assert not exercises._TRIES.get(exercise.key)


def test_hint_before_any_try_and_for_an_unknown_name():
    reset_tries()
    assert "first" in hint(check_watermark_read)
    with pytest.raises(KeyError, match="changed_rows_query"):
        hint("no_such_exercise")


def _longest_shared(a: str, b: str) -> str:
    a, b = " ".join(a.lower().split()), " ".join(b.lower().split())
    match = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match()
    return a[match.a:match.a + match.size]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_no_hint_is_the_answer(exercise):
    """No hint (stub's or wrong answers') shares a phrase of 25+ characters with the solution."""
    solution = (SOLUTIONS_DIR / exercise.solution_file).read_text(encoding="utf-8")
    solution = "\n".join(line for line in solution.splitlines()
                         if not line.startswith(("from ", "import ", "check_")))
    for answer in [exercise.stub, *(a for _, a in GAMED[exercise.name])]:
        shared = _longest_shared(exercise.check(answer).hint, solution)
        assert len(shared) < 25, f"hint gives away {shared!r}"


def test_verdict_prints_word_first():
    assert str(Verdict("x", True, "right")) == "Correct: x: right"
    assert str(Verdict("x", False, "wrong", "try y")) == "Not yet: x: wrong\n   Hint: try y"
    held = Verdict("x", False, "wrong", "try y", show_hint=False, hint_key="x")
    assert str(held) == "Not yet: x: wrong\n   Try again: a hint comes with your next try, or " \
                        "now with hint('x')."


def test_the_registry_is_the_only_list():
    """Every registered check is importable from the package under its name, and listed."""
    for exercise in EXERCISES:
        assert getattr(exercises, exercise.name) is exercise.notebook_check
        assert exercise.name in exercises.__all__
    assert len({e.key for e in EXERCISES}) == len(EXERCISES)


def _cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _exercise_cells(exercise) -> tuple[Path, list[int], list[dict]]:
    [notebook] = (ROOT / "notebooks").glob(f"{exercise.notebook_number}_*.ipynb")
    cells = _cells(notebook)
    found = [n for n, c in enumerate(cells) if c["cell_type"] == "code"
             and f"{exercise.name}(" in _source(c)]
    return notebook, found, cells


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_each_exercise_sits_in_its_notebook_without_outputs(exercise):
    """The check is called in a cell tagged `exercise` (nbval runs it, does not compare it)
    that is committed without outputs: no verdict or hint before the student runs it."""
    notebook, found, cells = _exercise_cells(exercise)
    assert found, f"{exercise.name} is not called in {notebook.name}"
    for number in found:
        tags = cells[number]["metadata"].get("tags", [])
        assert {"exercise", "nbval-ignore-output"} <= set(tags), tags
        assert cells[number]["outputs"] == [] and cells[number]["execution_count"] is None


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_hint_works_as_the_notebook_writes_it(notebook):
    """A notebook that has exercises imports `hint` before its first exercise, so the
    `hint("…")` its verdicts and its text mention is defined."""
    cells = _cells(notebook)
    code = [_source(c) for c in cells if c["cell_type"] == "code"]
    first = next((n for n, s in enumerate(code) if "exercises.check_" in s), None)
    if first is None:
        return
    before = "\n".join(code[:first])
    assert re.search(r"from course_etl\.classroom\.exercises import [^\n]*\bhint\b", before), \
        f"{notebook.name}: import hint in the setup cell"


def _setup_namespace(cells: list[dict]) -> dict:
    """The names a notebook's import cells define (its first code cells that import)."""
    namespace: dict = {}
    for cell in cells:
        source = _source(cell)
        if cell["cell_type"] == "code" and re.search(r"^(from|import) ", source, re.M):
            lines = [s for s in source.splitlines() if not s.startswith("%")]
            try:
                exec("\n".join(lines), namespace)  # noqa: S102 - the notebook's own setup
            except Exception:  # noqa: BLE001 - a later cell needs earlier state: not setup
                continue
        if cell["metadata"].get("tags") and "exercise" in cell["metadata"]["tags"]:
            break
    return namespace


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_the_notebook_stub_is_the_registered_stub(exercise):
    """Running the exercise cell untouched ("Run all") hands the check its registered stub,
    so it is not counted as a try."""
    notebook, found, cells = _exercise_cells(exercise)
    namespace = _setup_namespace(cells[:found[0]])
    source = _source(cells[found[0]])
    body = "\n".join(line for line in source.splitlines() if f"{exercise.name}(" not in line)
    exec(body, namespace)  # noqa: S102 - the notebook's own exercise cell
    assert is_stub(namespace[exercise.answer_name], exercise.stub), \
        f"the stub in {notebook.name} differs from the one registered for {exercise.name}"



RIGHT_CASES = [(name, what, answer) for name, cases in OTHER_RIGHT_ANSWERS.items()
               for what, answer in cases]


@pytest.mark.parametrize(("name", "what", "answer"), RIGHT_CASES,
                         ids=[f"{n}-{w}" for n, w, _ in RIGHT_CASES])
def test_a_right_answer_written_otherwise_passes(name, what, answer):
    """The checks judge behaviour, not text: a right answer unlike the solution passes."""
    exercise = next(e for e in EXERCISES if e.name == name)
    verdict = exercise.check(answer)
    assert verdict.passed, f"{what!r} refused: {verdict}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_name_a_notebook_takes_from_exercises_exists(notebook):
    used = {m for c in _cells(notebook) if c["cell_type"] == "code"
            for m in re.findall(r"\bexercises\.(\w+)", _source(c))}
    missing = sorted(n for n in used if not hasattr(exercises, n))
    assert not missing, f"{notebook.name} uses exercises.{missing[0]}, which is not exported"


def _library_call(function, conn):
    options = {"key": "id", "watermark": "updated_at"} if function.__name__ == "incremental_load" \
        else {}
    return function(conn, "src_customers", "dw_customers", **options)


def _swallowing(function):
    def load(conn):
        conn.execute("SELECT 1")
        try:
            _library_call(function, conn)
        except Exception:  # noqa: BLE001, S110 - the answer hides what the library says
            pass
    return load


_LIBRARY_ROUTES = {
    "direct": lambda function: lambda conn: _library_call(function, conn),
    "through getattr": lambda function: lambda conn: _library_call(getattr(
        importlib.import_module(function.__module__), function.__name__), conn),
    "after own work, errors swallowed": _swallowing,
}


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["incremental_load", "full_load"]), st.sampled_from(sorted(_LIBRARY_ROUTES)),
       st.integers(0, 31))
def test_a_call_of_the_library_s_load_is_carried_with_its_name(name, route, scenario):
    from course_etl.classroom.exercises.hand_written_load import (
        LibraryCallError,
        _load_scenarios,
        _run_load,
    )
    from course_etl.loads import engine

    scenarios = _load_scenarios()
    load = _LIBRARY_ROUTES[route](getattr(engine, name))
    with pytest.raises(LibraryCallError) as caught:
        _run_load(load, scenarios[scenario % len(scenarios)])
    assert caught.value.function == name == str(caught.value)
