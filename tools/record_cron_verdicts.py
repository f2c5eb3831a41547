"""Record what the real cron says about cron expressions: the table tests/test_cron_as_cron.py
holds the course's validator to.

For each expression (a hand-picked list of what people write, from Quartz, Jenkins, croniter and
crontab(5), plus seeded generated ones) this installs the line ``<expression> /bin/true`` as the
crontab of a throwaway user with Debian's own ``crontab`` (which parses it with cron's parser and
refuses a bad line), records accepted or refused and cron's error text, and removes the crontab
again. No daemon has to run and no job runs: ``crontab`` only parses and stores the file.
For accepted lines it also records which values cron sets in each field, and for each comma
item alone, from cron's own ``load_entry()`` compiled into ``tools/cron_parse_harness.c`` against
the package's source.

Run as root on Debian 12, once, when the course's cron or the expression list changes:

    apt-get install cron dpkg-dev && apt-get source cron   # (deb-src line needed for source)
    python -m tools.record_cron_verdicts --cron-source cron-3.0pl1 > tests/cron_verdicts.json

The throwaway user ``cronprobe`` is created and deleted by the script.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["HAND_PICKED", "generated_expressions", "record"]

USER = "cronprobe"
SEED = 20241001
GENERATED = 500

HAND_PICKED = [
    # the course's own and the exercise's answers, right and wrong
    "5 2 * * *", "0 2 * * *", "*/15 * * * *", "30 6 * * 1-5", "30 6 * * mon-fri",
    "30 6 * * MON-FRI", "30 6 ? * 1-5", "30 6 * * ?", "0 12 * * 1#2", "30 6 * * 1-5 *",
    "0 30 6 ? * MON-FRI", "0 30 6 * * 1-5", "30 6 * * 0-4", "6 30 * * 1-5", "30 6 1-5 * *",
    "30 6 * * */1", "30 6 * * 1,2,3,4,5", "30 6 * * 5-1", "30 6 * * 1-5/1", "30 6 * * 7",
    # Quartz, Jenkins, cronie and croniter extensions
    "0 23 L * *", "0 0 LW * *", "0 0 15W * *", "0 0 * * 5L", "0 0 L-3 * *", "H * * * *",
    "H/15 * * * *", "H(0-29) * * * *", "H H * * *", "~ * * * *", "0 1~5 * * *",
    "1/20 * * * *", "0 0 * * mon/2", "0 0 * jan/3 *", "0 0 1/5 * *",
    # nicknames
    "@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
    "@hourly", "@DAILY", "@Daily", "@dayly", "@every 5m",
    # steps, ranges, names, lists
    "*/0 * * * *", "*/100 * * * *", "0-59/100 * * * *", "5-64/30 * * * *", "1-5/2 * * * *",
    "*/5,7 * * * *", "0 0 1-31/40 * *", "0 0 * jan-mar *", "0 0 * JAN,jul *", "0 0 * * sun-sat",
    "0 0 * * sat-sun", "0 0 * * 0-7", "0 0 * * 0-7/2", "0 0 * * 7-7", "0 0 * * 5-7",
    "0 0 * * 6-0", "0 0 * * monday", "0 0 * * mon,wed,fri", "0 0 * * 1,3-5", "0 0 * dec-jan *",
    "007 * * * *", "00 00 * * *", "0 0 0 * *", "0 0 * 0 *", "0 0 * * 8", "60 * * * *",
    "0 24 * * *", "0 0 32 * *", "0 0 * 13 *", "-1 * * * *", "1, * * * *", "1,,2 * * * *",
    "*5 * * * *", "5.5 * * * *", "1-5-7 * * * *", "5foo * * * *", "0 0 * * jan",
    # the two day fields
    "0 0 */2 * 1", "0 0 1 * */2", "0 0 */2 * */3", "0 0 */1 * 1", "0 0 1-31 * 1",
    "0 0 1,15 * 5", "0 0 * * 1", "0 0 13 * 5", "0 0 31 2 *", "0 0 30 2 *", "0 0 29 2 *",
    "0 0 31 4,6,9,11 *", "0 0 31 * *",
    # shapes
    "5 2 * *", "5 2 * * * *", "* * * * * *", "", "   ", "5\t2\t*\t*\t*", "  5  2 * * *  ",
]

_FOREIGN_ITEMS = ["?", "L", "LW", "15W", "5L", "1#2", "mon#1", "H", "H/15", "H(0-29)", "~",
                  "1~5", "*5", "5.5", "1-5-7", "", "x"]
_BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
_NAMES = {3: ["jan", "FEB", "Mar", "jul", "dec", "january"],
          4: ["sun", "MON", "tue", "Wed", "fri", "sat", "monday"]}


def _value(rng: random.Random, position: int) -> str:
    low, high = _BOUNDS[position]
    if position in _NAMES and rng.random() < 0.3:
        return rng.choice(_NAMES[position])
    return str(rng.randint(low - 1, high + 1) if rng.random() < 0.1 else rng.randint(low, high))


def _item(rng: random.Random, position: int) -> str:
    kind = rng.choices(["star", "value", "range", "step", "star_step", "single_step", "foreign"],
                       [3, 4, 3, 2, 2, 1, 1])[0]
    if kind == "star":
        return "*"
    if kind == "value":
        return _value(rng, position)
    if kind == "foreign":
        return rng.choice(_FOREIGN_ITEMS)
    step = str(rng.choice([0, 1, 2, 3, 5, 7, 10, 15, 40, 100]))
    if kind == "star_step":
        return f"*/{step}"
    if kind == "single_step":
        return f"{_value(rng, position)}/{step}"
    bounds = f"{_value(rng, position)}-{_value(rng, position)}"
    return bounds if kind == "range" else f"{bounds}/{step}"


def generated_expressions(n: int = GENERATED, seed: int = SEED) -> list[str]:
    """``n`` expressions from a seeded generator: mostly five fields of stars, values, ranges,
    steps and names (some out of range or backwards), with foreign tokens and other shapes."""
    rng = random.Random(seed)
    expressions = []
    for _ in range(n):
        width = rng.choices([5, 6, 4], [90, 7, 3])[0]
        fields = []
        for position in range(width):
            items = [_item(rng, min(position, 4)) for _ in range(rng.choices([1, 2, 3],
                                                                           [8, 2, 1])[0])]
            fields.append(",".join(items))
        expressions.append(" ".join(fields))
    return expressions


def _crontab_verdict(expression: str) -> tuple[bool, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".cron", delete=False) as file:
        file.write(f"{expression} /bin/true\n")
    try:
        done = subprocess.run(["crontab", "-u", USER, file.name], capture_output=True,
                              text=True, check=False)
        subprocess.run(["crontab", "-u", USER, "-r"], capture_output=True, check=False)
    finally:
        Path(file.name).unlink()
    message = done.stderr.strip().splitlines()[0].rsplit(": ", 1)[-1] if done.returncode else ""
    return done.returncode == 0, message


def _harness(source: Path) -> Path:
    binary = Path(tempfile.mkdtemp()) / "cron_parse_harness"
    here = Path(__file__).with_name("cron_parse_harness.c")
    sources = [str(source / name) for name in ("entry.c", "misc.c", "env.c", "compat.c")]
    subprocess.run(["gcc", "-w", f"-I{source}", "-DDEBUGGING=0", "-DPOSIX", "-o", str(binary),
                    str(here), *sources], check=True)
    return binary


def _fields_as_cron_reads(binary: Path, expression: str) -> dict | None:
    out = subprocess.run([str(binary)], input=f"{expression} /bin/true\n", capture_output=True,
                         text=True, check=True).stdout.strip()
    if not out.startswith("ACCEPTED"):
        return None
    parts = dict(part.split("=", 1) for part in out.split()[1:])
    return {name: [int(v) for v in parts[name].split(",") if v] if name != "flags"
            else [f for f in parts[name].split(",") if f]
            for name in ("minute", "hour", "dom", "month", "dow", "flags")}


_FIELD_NAMES = ("minute", "hour", "dom", "month", "dow")


def _items_as_cron_reads(binary: Path, expression: str) -> dict | None:
    """For a five-field line: each comma item of each field, alone in its field (the other
    fields '*'), and the values cron sets for it (an empty list: none; None: refused)."""
    fields = expression.split()
    if len(fields) != 5:
        return None
    items: dict[str, dict] = {}
    for position, name in enumerate(_FIELD_NAMES):
        for item in dict.fromkeys(fields[position].split(",")):
            alone = ["*"] * 5
            alone[position] = item
            reads = _fields_as_cron_reads(binary, " ".join(alone))
            items.setdefault(name, {})[item] = None if reads is None else reads[name]
    return items


def record(expressions: list[str], cron_source: Path) -> dict:
    """The verdict table: cron's version, how it was recorded, one row per expression."""
    binary = _harness(cron_source)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
                   check=True)
    try:
        rows = []
        for expression in dict.fromkeys(expressions):  # unique, in order
            accepted, message = _crontab_verdict(expression)
            row = {"expression": expression, "cron": "accepted" if accepted else "refused"}
            if message:
                row["message"] = message
            fields = _fields_as_cron_reads(binary, expression)
            if accepted != (fields is not None):
                raise SystemExit(f"crontab and load_entry() disagree on {expression!r}")
            if fields is not None:
                row["reads"] = fields
                row["items"] = _items_as_cron_reads(binary, expression)
            rows.append(row)
    finally:
        subprocess.run(["userdel", USER], check=False)
    version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "cron"],
                             capture_output=True, text=True, check=True).stdout
    return {"cron": f"Debian cron {version}",
            "recorded_with": "tools/record_cron_verdicts.py: crontab -u cronprobe <file> with "
                             "the line '<expression> /bin/true'; fields from cron's "
                             "load_entry() (tools/cron_parse_harness.c)",
            "rows": rows}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cron-source", type=Path, required=True,
                        help="the unpacked source of Debian's cron package (apt-get source cron)")
    args = parser.parse_args(argv)
    if not (args.cron_source / "entry.c").is_file():
        print(f"no entry.c in {args.cron_source}: give the folder apt-get source cron made",
              file=sys.stderr)
        return 2
    table = record([*HAND_PICKED, *generated_expressions()], args.cron_source)
    rows = ",\n".join(json.dumps(row, separators=(",", ":")) for row in table.pop("rows"))
    head = json.dumps(table, indent=1)[:-2]  # one row per line: diffs stay readable
    print(f'{head},\n "rows": [\n{rows}\n]}}')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
