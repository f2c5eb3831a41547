#!/bin/sh
# Runs before anything is installed into a virtualenv. Usage: sh tools/check_python.sh PYTHON VENV GOAL
# 1. PYTHON must be 3.11 or newer; if not, print one instruction (naming a newer Python found on
#    PATH when there is one) and exit 2 before a virtualenv is made.
# 2. A VENV left by an older or missing Python is removed, so that `make PYTHON=python3.12 lab`
#    rebuilds it instead of reusing it (no `make clean` needed).
# Plain POSIX sh on purpose: it has to run when the only Python around is too old.
python=$1
venv=$2
goal=${3:-setup}
recent_enough='import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'

version_of() {
    "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || echo "not runnable"
}

if ! "$python" -c "$recent_enough" > /dev/null 2>&1; then
    suggestion=
    for candidate in python3.13 python3.12 python3.11; do
        if "$candidate" -c "$recent_enough" > /dev/null 2>&1; then
            suggestion=$candidate
            break
        fi
    done
    found="PYTHON=$python is Python $(version_of "$python"), course_etl needs 3.11 or newer"
    if [ -n "$suggestion" ]; then
        echo "error: $found: run  make PYTHON=$suggestion $goal" >&2
    else
        echo "error: $found: install Python 3.12 (python.org, or brew install python@3.12 on a Mac), then run  make PYTHON=python3.12 $goal" >&2
    fi
    exit 2
fi

if [ -e "$venv" ] && ! "$venv/bin/python" -c "$recent_enough" > /dev/null 2>&1; then
    echo "note: $venv was made by Python $(version_of "$venv/bin/python"); rebuilding it with $python" >&2
    rm -rf "$venv"
fi
exit 0
