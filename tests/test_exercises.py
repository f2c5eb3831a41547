"""Every exercise: its solution passes, its stub and every gamed answer are refused, feedback is
deterministic, hints are held back on the first try and never give the answer away."""

import difflib
import json
from pathlib import Path

import pytest

from course_etl.classroom import exercises
from course_etl.classroom.exercises import Verdict, all_exercises, hint, reset_tries
from course_etl.classroom.exercises.incremental import check_watermark_read, load_problem
from course_etl.loads.engine import incremental_load
from tests.gamed_answers import GAMED

EXERCISES = all_exercises()
ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS_DIR = ROOT / "notebooks" / "solutions"


def run_solutions(*files: str) -> dict:
    """Execute solution files in order in one namespace, as %load puts them in cells."""
    namespace: dict = {}
    for name in files:
        source = (SOLUTIONS_DIR / name).read_text(encoding="utf-8")
        exec(compile(source, str(SOLUTIONS_DIR / name), "exec"), namespace)  # noqa: S102
    return namespace


def run_solution(exercise):
    return run_solutions(*exercise.requires, exercise.solution_file)[exercise.answer_name]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_solution_passes(exercise):
    verdict = exercise.check(run_solution(exercise))
    assert isinstance(verdict, Verdict) and verdict.passed, str(verdict)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_stub_fails_with_a_hint(exercise):
    first, again = exercise.check(exercise.stub), exercise.check(exercise.stub)
    assert not first.passed and first.hint, str(first)
    assert str(first) == str(again), "feedback must be deterministic for nbval"


GAMED_CASES = [(name, what, answer) for name, cases in GAMED.items()
               for what, answer in cases]


@pytest.mark.parametrize(("name", "what", "answer"), GAMED_CASES,
                         ids=[f"{n}-{w}" for n, w, _ in GAMED_CASES])
def test_gamed_answer_is_refused(name, what, answer):
    exercise = next(e for e in EXERCISES if e.name == name)
    verdict = exercise.check(answer)
    assert not verdict.passed, f"{what!r} passed: {verdict}"
    assert verdict.message and verdict.hint, str(verdict)


def test_every_exercise_has_three_gamed_answers():
    assert {e.name for e in EXERCISES} == set(GAMED)
    assert all(len(cases) >= 3 for cases in GAMED.values())


def test_the_hand_written_load_passes_the_checks_incremental_load_passes():
    """Notebook 01's five solution files, run in sequence, make a load held to the same
    boundary, upsert, watermark and failure scenarios as the library's incremental_load."""
    namespace = run_solutions("01_a_watermark_read.py", "01_b_changed_rows_query.py",
                              "01_c_upsert_statement.py", "01_d_watermark_save.py",
                              "01_e_hand_written_load.py")
    assert load_problem(namespace["my_incremental_load"]) is None
    assert load_problem(lambda conn: incremental_load(
        conn, "src_customers", "dw_customers", key="id", watermark="updated_at")) is None


def test_first_try_holds_the_hint_back_and_the_next_shows_it(capsys):
    reset_tries()
    wrong = "SELECT value FROM etl_watermarks"
    first = check_watermark_read(wrong)
    assert first.hint and "Hint:" not in str(first)
    assert "hint('watermark_read')" in str(first)
    assert "Hint:" in str(check_watermark_read(wrong))
    reset_tries()
    check_watermark_read(wrong)
    assert hint("watermark_read") == first.hint
    assert first.hint in capsys.readouterr().out
    assert exercises._TRIES["watermark_read"]  # in memory, nothing else


def test_running_the_untouched_stub_is_not_a_try():
    reset_tries()
    stub = check_watermark_read.exercise.stub
    for _ in range(3):
        assert "Hint:" not in str(check_watermark_read("  " + stub))
    assert "watermark_read" not in exercises._TRIES or not exercises._TRIES["watermark_read"]


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
    """No hint (stub's or gamed answers') shares a phrase of 25+ characters with the solution."""
    solution = (SOLUTIONS_DIR / exercise.solution_file).read_text(encoding="utf-8")
    solution = "\n".join(line for line in solution.splitlines()
                         if not line.startswith(("from ", "import ", "check_")))
    answers = [exercise.stub, *(a for _, a in GAMED[exercise.name])]
    for answer in answers:
        shared = _longest_shared(exercise.check(answer).hint, solution)
        assert len(shared) < 25, f"hint gives away {shared!r}"


def test_verdict_prints_one_readable_line():
    assert str(Verdict("x", True, "right")) == "✅ x: right"
    assert str(Verdict("x", False, "wrong", "try y")) == "❌ x: wrong\n   Hint: try y"
    held = Verdict("x", False, "wrong", "try y", show_hint=False, hint_key="x")
    assert str(held) == "❌ x: wrong\n   Try again: a hint comes with your next try, or now " \
                        "with hint('x')."


def _code_cells(notebook: Path):
    return [c for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == "code"]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_each_exercise_sits_in_its_notebook_without_outputs(exercise):
    """The check is called in a cell tagged `exercise` (nbval runs it, does not compare it)
    that is committed without outputs: no verdict or hint before the student runs it."""
    [notebook] = (ROOT / "notebooks").glob(f"{exercise.notebook_number}_*.ipynb")
    cells = [c for c in _code_cells(notebook) if f"{exercise.name}(" in "".join(c["source"])
             and "import" not in "".join(c["source"]).split(f"{exercise.name}(")[-1]]
    assert cells, f"{exercise.name} is not called in {notebook.name}"
    for cell in cells:
        tags = cell["metadata"].get("tags", [])
        assert {"exercise", "nbval-ignore-output"} <= set(tags), tags
        assert cell["outputs"] == [] and cell["execution_count"] is None


def test_the_index_lists_every_exercise_from_the_registry():
    table = exercises.exercise_index(ROOT / "notebooks").data
    for exercise in EXERCISES:
        assert f"`{exercise.key}`" in table and exercise.solution_file in table
    index = json.dumps(json.loads((ROOT / "notebooks" / "00_index.ipynb").read_text()))
    assert "exercise_index(" in index
