"""``make mutants``: how strong each exercise's check is, measured by the wrong answers it refuses.

For every registered exercise, the reference answer (its ``notebooks/solutions/`` file) is
mutated (:mod:`tools.mutants_py`: SQL through sqlglot's syntax tree, Python through ``ast``, cron
lines field by field), each mutant is run as the notebook would (the files it requires first) and
handed to the exercise's check. A mutant the check passes *survives*: either the check has a gap,
or the mutant behaves exactly like the reference and is listed, with the reason, in
``tools/mutants_equivalent.yaml``. A mutant whose file no longer runs (a name it removed) is
*stillborn* and not counted; a mutant that makes the check itself fail is reported as a crash
(a bug in the check). The target, per exercise: every mutant refused but the listed equivalent
ones, and no crash; the share refused of all mutants is reported beside it (the issue's 95 %,
reached where the reference is long enough for its equivalent rewrites to be few).

``python -m tools.mutants [--only NAME…] [--write]`` prints the table and the survivors, exits 1
when an exercise misses the target; ``--write`` stores the report in ``docs/mutants.md`` and its
summary between the markers in ``README.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from course_etl.classroom.exercises._budget import time_budget
from tools.mutants_py import Mutant, file_mutants

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"
EQUIVALENTS = Path(__file__).with_name("mutants_equivalent.yaml")
REPORT = ROOT / "docs" / "mutants.md"
README = ROOT / "README.md"
MARKERS = ("<!-- mutants:start -->", "<!-- mutants:end -->")
SECONDS_PER_MUTANT = 20  # a mutant that makes a check run longer is refused (a student waits)


@dataclass
class Tally:
    """One exercise's mutants: how many, refused, equivalent (listed), stillborn, surviving."""

    exercise: str
    notebook: str
    mutants: int = 0
    refused: int = 0
    equivalent: int = 0
    stillborn: int = 0
    crashed: list[str] = field(default_factory=list)  # the check itself failed: a bug
    survivors: list[Mutant] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def share_refused(self) -> float:
        """Refused, of all mutants (equivalent ones included)."""
        return self.refused / self.mutants if self.mutants else 1.0

    @property
    def share_of_non_equivalent(self) -> float:
        """Refused, of the mutants not listed as equivalent."""
        counted = self.mutants - self.equivalent
        return self.refused / counted if counted else 1.0

    @property
    def meets_target(self) -> bool:
        """Every non-equivalent mutant refused, and the check never crashed."""
        return not self.survivors and not self.crashed


def load_equivalents(path: Path = EQUIVALENTS) -> dict[str, dict[str, str]]:
    """exercise -> {mutant key: why it behaves exactly like the reference}."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return {name: {" ".join(e["mutant"].split()): e["reason"] for e in entries or []}
            for name, entries in (data or {}).items()}


def _run_file(source: str, namespace: dict, name: str) -> dict:
    exec(compile(source, name, "exec"), namespace)  # noqa: S102 - the course's own solutions
    return namespace


def _solution_source(name: str) -> str:
    return (SOLUTIONS / name).read_text(encoding="utf-8")


def _without_check_call(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.startswith("check_"))


def measure(exercise, equivalents: dict[str, str]) -> Tally:
    """Run every mutant of ``exercise``'s reference answer through its check."""
    tally = Tally(exercise.name, exercise.solution_file[:2])
    started = time.perf_counter()
    base: dict = {}
    for required in exercise.requires:
        _run_file(_without_check_call(_solution_source(required)), base, required)
    reference = _run_file(_without_check_call(_solution_source(exercise.solution_file)),
                          dict(base), exercise.solution_file)[exercise.answer_name]
    if not exercise.check(reference).passed:
        raise SystemExit(f"{exercise.name}: the reference answer "
                         f"({exercise.solution_file}) fails its own check")
    for mutant in file_mutants(_solution_source(exercise.solution_file)):
        try:
            answer = _run_file(mutant.source, dict(base), exercise.solution_file)[
                exercise.answer_name]
        except Exception:  # noqa: BLE001 - the mutant's file does not run: not an answer
            tally.stillborn += 1
            continue
        tally.mutants += 1
        # The check's own time budget nests inside this one (a second SIGALRM handler would be
        # replaced by the check's while it runs): a mutant that runs out of time is refused
        # with the check's "did not finish"; a check that needed all of it is listed too.
        started = time.monotonic()
        with time_budget(SECONDS_PER_MUTANT):
            verdict = exercise.check(answer)
        if time.monotonic() - started >= SECONDS_PER_MUTANT:
            tally.crashed.append(f"{mutant.key} (the check ran longer than "
                                 f"{SECONDS_PER_MUTANT} s)")
        if not verdict.judged:
            tally.crashed.append(f"{mutant.key}: {verdict.message}")
        if not verdict.passed:
            tally.refused += 1
        elif mutant.key in equivalents:
            tally.equivalent += 1
        else:
            tally.survivors.append(mutant)
    tally.seconds = time.perf_counter() - started
    return tally


def report(tallies: list[Tally]) -> str:
    """The Markdown report: a table per exercise, then every survivor and crash, by exercise."""
    total = sum(t.mutants for t in tallies)
    refused = sum(t.refused for t in tallies)
    lines = [
        "# Checker strength, measured by mutants (`make mutants`)", "",
        "Every exercise's reference answer (`notebooks/solutions/`) is mutated (SQL through "
        "sqlglot's syntax tree, Python through `ast`, cron lines field by field) and each mutant "
        "is handed to the exercise's check. Every mutant a check accepts must be listed in "
        "`tools/mutants_equivalent.yaml` with the reason it behaves exactly like the reference "
        "(mutants equivalent by construction, such as `MAX(DISTINCT x)` or `EXISTS (SELECT 2 "
        "…)`, are not generated); a mutant that makes the check itself fail is a crash. "
        "Stillborn mutants (the file no longer runs) are not counted. The issue's 95 % is the "
        "*refused of all* column: below it only where a short reference has a few equivalent "
        "rewrites, each listed. Generated by `python -m tools.mutants --write`.", "",
        f"**{refused} of {total} mutants refused ({refused / max(total, 1):.1%}); "
        f"{sum(t.meets_target for t in tallies)} of {len(tallies)} exercises refuse every "
        "non-equivalent mutant.**", "",
        "| notebook | exercise | mutants | refused | equivalent | surviving | crashes | "
        "refused of all | refused of non-equivalent | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for t in tallies:
        lines.append(f"| {t.notebook} | `{t.exercise}` | {t.mutants} | {t.refused} | "
                     f"{t.equivalent} | {len(t.survivors)} | {len(t.crashed)} | "
                     f"{t.share_refused:.1%} | {t.share_of_non_equivalent:.1%} | "
                     f"{'met' if t.meets_target else '**missed**'} |")
    troubled = [t for t in tallies if t.survivors or t.crashed]
    if troubled:
        lines += ["", "## Survivors and crashes, by exercise", "",
                  "A survivor is a mutant the check accepts that is not listed as equivalent: "
                  "a gap in the check, or an equivalent answer to write down."]
    for t in troubled:
        lines += ["", f"### `{t.exercise}` (notebook {t.notebook})", ""]
        lines += [f"- survives: `{m.key[:300]}`" for m in t.survivors]
        lines += [f"- check crashed: {c[:300]}" for c in t.crashed]
    return "\n".join(lines) + "\n"


def summary(tallies: list[Tally]) -> str:
    total = sum(t.mutants for t in tallies)
    refused = sum(t.refused for t in tallies)
    missed = [t.exercise for t in tallies if not t.meets_target]
    equivalent = sum(t.equivalent for t in tallies)
    return (f"`make mutants` mutates the reference answer of each of the {len(tallies)} "
            f"exercises and hands every mutant to the exercise's check: {refused} of {total} "
            f"refused ({refused / max(total, 1):.1%}), {equivalent} accepted as equivalent "
            f"(each listed with its reason); {len(tallies) - len(missed)} of {len(tallies)} "
            "exercises refuse every other mutant"
            + (f"; below it: {', '.join(f'`{m}`' for m in missed)}" if missed else "")
            + ". Per exercise: [docs/mutants.md](docs/mutants.md).")


def _write(tallies: list[Tally]) -> None:
    REPORT.write_text(report(tallies), encoding="utf-8")
    text = README.read_text(encoding="utf-8")
    start, end = MARKERS
    if start in text and end in text:
        head, rest = text.split(start, 1)
        README.write_text(f"{head}{start}\n{summary(tallies)}\n{end}{rest.split(end, 1)[1]}",
                          encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="exercise names (check_…) or "
                        "keys to measure, all when left out")
    parser.add_argument("--write", action="store_true", help="write docs/mutants.md and the "
                        "README summary")
    args = parser.parse_args(argv)
    from course_etl.classroom.exercises import all_exercises

    equivalents = load_equivalents()
    chosen = [e for e in all_exercises() if not args.only or e.name in args.only
              or e.key in args.only]
    tallies = []
    for exercise in chosen:
        tally = measure(exercise, equivalents.get(exercise.name, {}))
        tallies.append(tally)
        print(f"{exercise.name:30} {tally.refused:4}/{tally.mutants:<4} refused "
              f"({tally.share_refused:6.1%}), {tally.equivalent} equivalent, "
              f"{len(tally.survivors)} surviving, {tally.stillborn} stillborn "
              f"[{tally.seconds:.0f} s]", flush=True)
    text = report(tallies)
    print()
    print(text[text.index("**"):])
    if args.write and not args.only:
        _write(tallies)
    return 0 if all(t.meets_target for t in tallies) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
