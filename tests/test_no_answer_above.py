"""Nothing answers an exercise before the student tries it.

For every registered exercise, its answer is taken from its solution file (run without the
check call) and turned into the texts that would give it away: a text answer itself (SQL, a cron
line), the full text of the right choice of a letter quiz (any eight consecutive words of it), the
items of an ordered answer in their order, the key-value pairs of a mapping (on one line each, or
as one table row), the innermost mappings of a nested answer, and for code the solution's
distinctive lines (SQL also as its shape: names unquoted, values and parameters alike). The test
walks all seven notebooks and fails when one of these appears in any cell, or stored output,
above the exercise's cell, or right under it (up to and including the next code cell, which a
student sees on the same screen); for an exercise that builds something, in any stored output
of the notebook too (a student can scroll down and copy it). A cell that shows an answer right
after its exercise is tagged ``reveals-answer``: ``make notebooks`` stores no output for it.
"""

from __future__ import annotations

import html
import inspect
import json
import re
import sys
from pathlib import Path

import pytest

from course_etl.classroom.exercises import all_exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = ROOT / "notebooks" / "solutions"
_CALL = re.compile(r"^\s*(?:exercises\.)?(check_\w+)\(", re.MULTILINE)



def _normal(text: str) -> str:
    return " ".join(text.split()).lower()


_SQL_VALUE = re.compile(r"'(?:[^']|'')*'|:\w+|\?|\b\d+\b")


def _sql_shape(text: str) -> str:
    """SQL as a comparable shape: quotes around names, the main schema, values and parameters
    (literals, :name, ?) made alike, punctuation spaced, so the statement a library traces with
    its values matches the one a student writes with parameters."""
    text = _SQL_VALUE.sub(" ? ", text.lower().replace('"main".', "").replace('"', ""))
    return " ".join(re.sub(r"([(),=<>;])", r" \1 ", text).split())


def _solution_answer(exercise) -> object:
    namespace: dict = {}
    for name in (*exercise.requires, exercise.solution_file):
        source = (SOLUTIONS / name).read_text(encoding="utf-8")
        body = "\n".join(line for line in source.splitlines()
                         if not line.startswith(("check_", "print(")))
        exec(compile(body, str(SOLUTIONS / name), "exec"), namespace)  # noqa: S102
    return namespace[exercise.answer_name]


def _choice_set(exercise, letter: str) -> dict[str, str]:
    """The quiz's choices: the dict of letter -> sentence in its module that has ``letter``."""
    module = sys.modules[exercise.check.__module__]
    for value in vars(module).values():
        if (isinstance(value, dict) and letter in value
                and all(isinstance(k, str) and len(k) == 1 for k in value)
                and all(isinstance(v, str) and len(v) > 20 for v in value.values())):
            return value
    return {}


def _choices(exercise, letter: str) -> str | None:
    """The text of choice ``letter``."""
    return _choice_set(exercise, letter).get(letter)


def _code_lines(exercise, answer: object) -> list[str]:
    try:
        source = inspect.getsource(answer)
    except (TypeError, OSError):
        source = (SOLUTIONS / exercise.solution_file).read_text(encoding="utf-8")
    lines = [_normal(line) for line in source.splitlines()]
    return [line for line in lines if len(line) >= 20 and not line.startswith(
        ("#", '"""', "from ", "import ", "check_", "@dataclass"))]


def _value_texts(value: object) -> list[str]:
    texts = {str(value), repr(value), json.dumps(value) if isinstance(value, bool | int | float
                                                                      | str | None) else ""}
    return sorted(re.escape(t.lower()) for t in texts if t)


def _first_column(text: str) -> list[str]:
    """The first column of the markdown tables in ``text``, row by row."""
    cells = re.findall(r"^\s*\|\s*`?([^|`]+?)`?\s*\|", text, re.MULTILINE)
    return [c.strip() for c in cells]


def _clock_time(answer: str) -> str | None:
    """'HH:MM' for a cron line with one fixed minute and hour ('0 2 * * *' -> '02:00')."""
    fields = answer.split()
    if len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit():
        return f"{int(fields[1]):02d}:{int(fields[0]):02d}"
    return None


def _pair(key: object, value: object) -> re.Pattern:
    """``key`` then ``value`` on one line, with only punctuation between (a dict, YAML, a table
    row of key and value)."""
    values = "|".join(_value_texts(value))
    return re.compile(rf"{re.escape(str(key).lower())}['\"]?[ \t:=|,]+(?:{values})(?![\w.])")


def _innermost(value: object) -> list[dict]:
    if isinstance(value, dict):
        if all(not isinstance(v, dict | list | tuple) for v in value.values()):
            return [value]
        return [d for v in value.values() for d in _innermost(v)]
    if isinstance(value, list | tuple):
        return [d for v in value for d in _innermost(v)]
    return []


def giveaways(exercise) -> list:
    """Predicates over a text unit (normalised text) that say "this gives the answer away"."""
    answer = _solution_answer(exercise)
    found = []
    if isinstance(answer, str) and len(answer.strip()) <= 2:
        choice = _choices(exercise, answer.strip())
        if choice:
            words = _normal(choice).split()
            windows = {" ".join(words[i:i + 8]) for i in range(max(1, len(words) - 7))}
            options = [_normal(o) for o in _choice_set(exercise, answer.strip()).values()]
            # The quiz's own list of every option is the question, not the answer.
            found.append(lambda text, w=windows, o=options: any(x in _normal(text) for x in w)
                         and not all(option in _normal(text) for option in o))
    elif isinstance(answer, str):
        needle = _normal(answer).rstrip(";")
        found.append(lambda text, n=needle: n in _normal(text))
        clock = _clock_time(answer)
        if clock:  # a cron line's time of day, told in words
            found.append(lambda text, t=clock: bool(re.search(rf"(?<![\d:]){t}(?![\d:])", text)))
        if re.match(r"\s*(select|insert|update|delete|with)\b", answer, re.IGNORECASE):
            shape = _sql_shape(answer).rstrip("; ")
            found.append(lambda text, n=shape: n in _sql_shape(text))
    elif isinstance(answer, list | tuple) and answer and all(isinstance(a, str) for a in answer):
        order = re.compile(r"[\s>,'\"\-\[\]]+".join(re.escape(a.lower()) for a in answer))
        found.append(lambda text, o=order: bool(o.search(text)))
        items = [a.lower() for a in answer]  # or as the first column of a table, in order
        found.append(lambda text, i=items: " ".join(i) in " ".join(_first_column(text)))
    elif isinstance(answer, dict) and all(not isinstance(v, dict | list | tuple)
                                          for v in answer.values()) and len(answer) > 1:
        pairs = [_pair(k, v) for k, v in answer.items()]
        found.append(lambda text, p=pairs: all(x.search(text) for x in p))
        if len(answer) >= 3:  # the values in key order, as one row of a table
            row = re.compile(r"[ \t]+".join("|".join(_value_texts(v)).join("()")
                                            for v in answer.values()))
            found.append(lambda text, r=row: bool(r.search(text)))
    elif isinstance(answer, dict | list | tuple):
        inner = _innermost(answer)
        for mapping in inner:  # a telling part: one inner mapping of three or more pairs
            pairs = [_pair(k, v) for k, v in mapping.items()]
            if len(pairs) >= 3:
                found.append(lambda text, p=pairs: all(x.search(text) for x in p))
        if inner and not found:  # small parts: all of them, with the outer keys
            pairs = [_pair(k, v) for mapping in inner for k, v in mapping.items()]
            keys = [str(k).lower() for k in answer] if isinstance(answer, dict) else []
            found.append(lambda text, p=pairs, k=keys: all(x.search(text) for x in p)
                         and all(key in text for key in k))
    if not found:  # code: a function, a class, an object built by code
        lines = _code_lines(exercise, answer)
        if lines:
            found.append(lambda text, ls=lines: sum(line in _normal(text) for line in ls)
                         >= max(2, len(ls) // 2))
    return found


def _units(cell: dict) -> list[str]:
    """The texts a student sees of one cell: its source and each stored output."""
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    texts = [source]
    for output in cell.get("outputs", []):
        if "text" in output:
            texts.append("".join(output["text"]))
        data = output.get("data", {})
        for kind in ("text/plain", "text/markdown"):
            if kind in data:
                texts.append("".join(data[kind]))
        if "text/html" in data:
            texts.append(html.unescape(re.sub(r"<[^>]+>", " ", "".join(data["text/html"]))))
    return [t.lower() for t in texts]


def _seen_before_trying(cells: list[dict], position: int, kind: str) -> list[tuple[int, str]]:
    """(cell index, text) of what a student sees before trying the exercise in ``position``:
    everything above it but its question (the markdown right above it) and right under it (up to
    the next code cell); for an exercise that
    builds something, also every stored output further down, which a student can scroll to and
    copy (a quiz's answer may be shown, and explained, once the student has answered)."""
    after = next((i for i in range(position + 1, len(cells))
                  if cells[i]["cell_type"] == "code"), len(cells) - 1)
    question = position  # the markdown right above the exercise asks it: given, not answered
    while question > 0 and cells[question - 1]["cell_type"] == "markdown":
        question -= 1
    seen = [(i, text) for i in [*range(question), *range(position + 1, after + 1)]
            for text in _units(cells[i])]
    if kind == "build":
        seen += [(i, text) for i in range(after + 1, len(cells))
                 for text in _units(cells[i])[1:]]
    return seen


def _kind(exercise) -> str:
    return "quiz" if (exercise.check.__doc__ or "").strip().startswith("Quiz:") else "build"


def _cases():
    exercises = {e.name: e for e in all_exercises()}
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for position, cell in enumerate(cells):
            source = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            for name in _CALL.findall(source):
                yield pytest.param(path, position, exercises[name],
                                   id=f"{path.stem[:2]}-{name}")


CASES = list(_cases())


def test_every_registered_exercise_is_in_a_notebook_and_has_a_giveaway_text():
    assert {c.values[2].name for c in CASES} == {e.name for e in all_exercises()}
    assert all(giveaways(e) for e in all_exercises())


@pytest.mark.parametrize(("path", "position", "exercise"), CASES)
def test_no_answer_above_its_exercise(path, position, exercise):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    checks = giveaways(exercise)
    leaks = [(index, text) for index, text in _seen_before_trying(cells, position,
                                                                   _kind(exercise))
             if any(check(text) for check in checks)]
    assert not leaks, (f"{path.name}: the answer to {exercise.key} shows in cell {leaks[0][0]} "
                       f"(id {cells[leaks[0][0]].get('id')}), before the student tries it in "
                       f"cell {position}: {leaks[0][1][:200]!r}")


def _planted(exercise) -> str:
    """How a careless cell would show the exercise's answer."""
    answer = _solution_answer(exercise)
    if isinstance(answer, str):
        return _choices(exercise, answer) if len(answer) <= 2 else answer
    if isinstance(answer, dict | list | tuple):
        return json.dumps(answer, indent=1, default=str)
    return (SOLUTIONS / exercise.solution_file).read_text(encoding="utf-8")  # code


@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda e: e.name)
def test_the_detector_finds_a_planted_answer(exercise):
    """Each exercise's answer, shown in a cell the way a careless one would, is found."""
    assert any(check(_planted(exercise).lower()) for check in giveaways(exercise))
